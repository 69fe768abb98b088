"""gunicorn serving this checkout with the production settings on a loopback port, for the load test.

`with GunicornServer(workers=3) as web: web.base_url, web.master_pid` starts `gunicorn dealfinder.wsgi` the
way the Dockerfile does (sync workers, `--timeout 120`) with `DJANGO_ENV=production`: a fresh random
SECRET_KEY, `ALLOWED_HOSTS=127.0.0.1`, the database this process uses (the benchmark's scratch database or a
test database) as DATABASE_URL, and the Redis broker (production refuses to start without a Redis cache; the
cache takes the broker's next database number). Static files are collected into a temporary STATIC_ROOT first
(WhiteNoise's manifest storage needs the manifest, as in the Docker build). It binds port 0 (the kernel picks a
free port; gunicorn's log names it), without gunicorn 27's control socket (one fixed path per user, which
two servers on one machine would fight over), and is ready when `/healthz` answers 200; leaving the block stops it
(SIGTERM, then SIGKILL after the grace period) and removes the temporary directory.

Nothing is relaxed for the loopback: HTTPS redirect, HSTS and Secure cookies stay on. Clients speak to it as a
TLS-terminating proxy would (`X-Forwarded-Proto: https`, the header settings.SECURE_PROXY_SSL_HEADER trusts;
see load_process). Settings a shell may have exported to weaken production (DEBUG, SECURE_*) are not passed on.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx
from django.conf import settings
from django.db import connections

LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")
# Exported overrides that would make the served site weaker or different from production.
NOT_PASSED_ON = ("DEBUG", "SECURE_", "SESSION_COOKIE", "CSRF_COOKIE", "DJANGO_SETTINGS_MODULE")


class WebServerError(Exception):
    """gunicorn did not start or answer; the message quotes its log."""


def database_url(alias: str = "default") -> str:
    """The PostGIS database this process is connected to (after a scratch or test database switch), as a URL."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        raise WebServerError(
            "the load test serves the production settings, which run on PostgreSQL/PostGIS: "
            'set DATABASE_URL=postgis://... (eval "$(make -s services)")'
        )
    s = connection.settings_dict
    auth = quote(s["USER"] or "", safe="")
    if s["PASSWORD"]:
        auth += ":" + quote(s["PASSWORD"], safe="")
    return f"postgis://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{quote(s['NAME'], safe='')}"


def broker_url() -> str:
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        raise WebServerError(
            "the load test serves the production settings, which need Redis: set CELERY_BROKER_URL=redis://... "
            '(eval "$(make -s services)")'
        )
    return url


class GunicornServer:
    def __init__(
        self,
        *,
        workers: int = 3,
        timeout: int = 120,
        ready_timeout: float = 90.0,
        static_root: str = "",
        env: dict[str, str | None] | None = None,
    ):
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers, self.timeout, self.ready_timeout = workers, timeout, ready_timeout
        self.static_root = static_root  # reuse a collected directory (collectstatic()); empty: a temporary one
        self.extra_env = env or {}  # e.g. {"DATABASE_POOL_MAX": "4"}; None removes an exported variable
        self.process: subprocess.Popen | None = None
        self.base_url = ""
        self.directory: Path | None = None

    @property
    def master_pid(self) -> int:
        return self.process.pid

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(NOT_PASSED_ON)}
        env.update(
            DJANGO_ENV="production",
            SECRET_KEY=secrets.token_urlsafe(50),
            ALLOWED_HOSTS="127.0.0.1",
            DATABASE_URL=database_url(),
            CELERY_BROKER_URL=broker_url(),
            STATIC_ROOT=self.static_root or str(self.directory / "static"),
            PYTHONUNBUFFERED="1",
        )
        for name, value in self.extra_env.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def collectstatic(self) -> None:
        """Collect the static files into `static_root` (so several servers in turn can share one collection)."""
        if not self.static_root:
            raise ValueError("collectstatic() needs a static_root")
        self._collectstatic(self.environment())

    def __enter__(self) -> GunicornServer:
        self.directory = Path(tempfile.mkdtemp(prefix="dealfinder-web-"))
        try:
            env = self.environment()
            if not self.static_root:
                self._collectstatic(env)
            self.log = self.directory / "gunicorn.log"
            with self.log.open("w") as log:
                self.process = subprocess.Popen(  # noqa: S603 - this interpreter, this project's WSGI app
                    [
                        sys.executable,
                        "-m",
                        "gunicorn",
                        "dealfinder.wsgi:application",
                        "--bind",
                        "127.0.0.1:0",
                        "--workers",
                        str(self.workers),
                        "--timeout",
                        str(self.timeout),
                        "--no-control-socket",
                    ],
                    cwd=settings.BASE_DIR,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            self.base_url = f"http://127.0.0.1:{self._port()}"
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _collectstatic(self, env: dict[str, str]) -> None:
        done = subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode:
            raise WebServerError(f"collectstatic failed: {(done.stderr or done.stdout)[-2000:]}")

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except (AttributeError, OSError):
            return ""

    def _port(self) -> int:
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            found = LISTENING.search(self.log_tail(20000))
            if found:
                return int(found.group(1))
            if self.process.poll() is not None:
                raise WebServerError(f"gunicorn exited ({self.process.returncode}):\n{self.log_tail()}")
            time.sleep(0.1)
        raise WebServerError(f"gunicorn did not listen within {self.ready_timeout:.0f} s:\n{self.log_tail()}")

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise WebServerError(f"gunicorn exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                answer = httpx.get(f"{self.base_url}/healthz", headers={"X-Forwarded-Proto": "https"}, timeout=5)
            except httpx.HTTPError:
                time.sleep(0.2)
                continue
            if answer.status_code == 200:
                return
            raise WebServerError(f"/healthz answered {answer.status_code}: {answer.text[:500]}\n{self.log_tail()}")
        raise WebServerError(f"/healthz did not answer within {self.ready_timeout:.0f} s:\n{self.log_tail()}")

    def stop(self, grace: float = 30.0) -> None:
        """SIGTERM (gunicorn lets workers finish their requests), SIGKILL after `grace` seconds."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
