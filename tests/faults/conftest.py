"""Other processes on the test's database: `manage.py` subprocesses that can be killed, and concurrent writers."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


class OutsideDatabase:
    """The test database as other processes see it.

    PostGIS: the test database itself (the test must be transactional, so what it wrote is committed).
    SpatiaLite: the test database lives in this process's memory, so `share()` copies it (with what the test
    committed) to a file, which the other processes and `query()` then use.
    """

    def __init__(self, tmp_path: Path):
        self.path = tmp_path / "outside.sqlite3"
        self.postgis = connection.vendor == "postgresql"

    def share(self) -> str:
        """The DATABASE_URL other processes open."""
        if self.postgis:
            db = connection.settings_dict
            return f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        connection.ensure_connection()
        with sqlite3.connect(self.path) as copy:
            connection.connection.backup(copy)
        copy.close()
        return f"spatialite:///{self.path}"

    def query(self, sql: str, params=()) -> list[tuple]:
        if self.postgis:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        with sqlite3.connect(self.path, timeout=30) as db:
            return db.execute(sql.replace("%s", "?"), params).fetchall()


@pytest.fixture
def outside_db(tmp_path) -> OutsideDatabase:
    return OutsideDatabase(tmp_path)


def manage_env(database_url: str, **extra: str) -> dict[str, str]:
    """This run's environment for a manage.py subprocess: the given database, tasks eager (no broker)."""
    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    return {**env, "DATABASE_URL": database_url, "LOG_FORMAT": "text", **extra}


def manage(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 (this interpreter and manage.py, fixed arguments)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
