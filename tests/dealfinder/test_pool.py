"""DATABASE_POOL_MIN / DATABASE_POOL_MAX: Django's psycopg pool on PostgreSQL, off by default and in Celery."""

import os

import pytest

from tests.dealfinder.test_project import _manage

pytestmark = pytest.mark.postgis


def _env(**values) -> dict:
    return {"DATABASE_URL": os.environ["DATABASE_URL"], **values}


SHOW = (
    "from django.db import connection as c; c.ensure_connection(); "
    "print(c.settings_dict['OPTIONS'].get('pool'), bool(c.pool))"
)


def test_pool_is_off_by_default():
    result = _manage("shell", "-v", "0", "-c", SHOW, env=_env())
    assert result.stdout.strip() == "None False", result.stderr


def test_pool_serves_the_connections_when_sized():
    result = _manage("shell", "-v", "0", "-c", SHOW, env=_env(DATABASE_POOL_MIN="1", DATABASE_POOL_MAX="4"))
    assert result.stdout.strip() == "{'min_size': 1, 'max_size': 4, 'timeout': 10.0} True", result.stderr


def test_pool_refuses_persistent_connections():
    result = _manage("check", env=_env(DATABASE_POOL_MAX="4", CONN_MAX_AGE="60"))
    assert result.returncode == 1
    assert "Set CONN_MAX_AGE=0 with DATABASE_POOL_MAX" in result.stderr
