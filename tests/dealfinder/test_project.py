import datetime
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from dealfinder.common.logging import JsonFormatter, RunContextFilter, TextFormatter, log_context, logged_run
from tests.factories import PipelineRunFactory

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "x7#m2!q9-not-a-real-key-but-long-and-random-enough-for-the-check-0123456789",
    "ALLOWED_HOSTS": "dealfinder.example.com",
    "DATABASE_URL": "postgis://dealfinder:secret@db.example.com:5432/dealfinder",
    "CACHE_URL": "redis://redis.example.com:6379/1",
}


def test_django_system_checks_are_clean():
    call_command("check", fail_level="WARNING")


@pytest.mark.django_db
def test_migrations_are_complete():
    call_command("makemigrations", check=True, dry_run=True)


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    # Not what a deployment has: the test run's own settings (Playwright tests allow async-unsafe ORM calls).
    dropped = (*PRODUCTION_ENV, "DEBUG", "CELERY_BROKER_URL", "CACHE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    command = [sys.executable, "manage.py", *args]
    return subprocess.run(command, cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120)  # noqa: S603


def test_the_deploy_check_is_clean_in_production():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (1 silenced)."


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"])
def test_production_refuses_to_start_without_its_secrets(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = _manage("check", env=env)
    assert result.returncode == 1
    assert f"django.core.exceptions.ImproperlyConfigured: {missing} must be set when DJANGO_ENV=production." in (
        result.stderr
    )


def test_production_refuses_to_start_with_debug_on():
    result = _manage("check", env={**PRODUCTION_ENV, "DEBUG": "true"})
    assert result.returncode == 1
    assert (
        "django.core.exceptions.ImproperlyConfigured: DEBUG must be off when DJANGO_ENV=production: its error pages "
        "show settings and code to anyone."
    ) in result.stderr


@pytest.mark.parametrize(
    "cache",
    [
        {},  # neither CACHE_URL nor a Redis broker: it used to fall back to per-process memory
        {"CELERY_BROKER_URL": "amqp://rabbit:5672//"},  # a broker, but not Redis
        {"CACHE_URL": "locmemcache://"},
        {"CACHE_URL": "dbcache://cache_table"},
    ],
)
def test_production_refuses_to_start_without_a_shared_redis_cache(cache):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "CACHE_URL"} | cache
    result = _manage("check", env=env)
    assert result.returncode == 1
    assert "ImproperlyConfigured: DJANGO_ENV=production needs a shared Redis cache for the API throttles" in (
        result.stderr
    )


def test_production_settings_are_hardened():
    code = (
        "from django.conf import settings as s; import json; print(json.dumps({k: getattr(s, k) for k in ["
        "'DEBUG', 'SECURE_SSL_REDIRECT', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS',"
        "'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_PROXY_SSL_HEADER', 'INGEST_ALLOW_PRIVATE_URLS', 'LOG_FORMAT']}"
        " | {'validators': len(s.AUTH_PASSWORD_VALIDATORS), 'cache': s.CACHES['default']['BACKEND'],"
        " 'cache_at': s.CACHES['default']['LOCATION']}))"
    )
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "CACHE_URL"} | {"CELERY_BROKER_URL": "redis://redis:6379/0"}
    result = _manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "INGEST_ALLOW_PRIVATE_URLS": False,
        "LOG_FORMAT": "json",
        "validators": 4,
        "cache": "dealfinder.common.cache.FailOpenRedisCache",
        "cache_at": "redis://redis:6379/1",
    }


# --- /healthz ---------------------------------------------------------------------------------


@pytest.fixture
def no_broker(settings):
    settings.CELERY_BROKER_URL = ""


@pytest.mark.django_db
def test_healthz_is_ok_with_a_recent_pipeline_run(client, no_broker):
    finished = timezone.now() - datetime.timedelta(hours=3)
    PipelineRunFactory(started_at=finished - datetime.timedelta(minutes=3), finished_at=finished)
    PipelineRunFactory(job="ghl_push", finished_at=timezone.now())  # other jobs do not count
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": {"status": "ok"},
            "redis": {"status": "skipped"},
            "pipeline": {"status": "ok", "last_success": finished.isoformat(), "age_hours": 3.0},
        },
    }
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


@pytest.mark.django_db
def test_healthz_counts_a_partial_night_as_run_through(client, no_broker):
    """A night where some sources failed still scored and pushed the rest: its data is fresh."""
    finished = timezone.now() - datetime.timedelta(hours=2)
    PipelineRunFactory(status="success", finished_at=finished - datetime.timedelta(days=1))
    PipelineRunFactory(status="partial", started_at=finished - datetime.timedelta(minutes=3), finished_at=finished)
    pipeline = client.get("/healthz").json()["checks"]["pipeline"]
    assert pipeline == {"status": "ok", "last_success": finished.isoformat(), "age_hours": 2.0}


@pytest.mark.django_db
def test_healthz_warns_when_the_pipeline_is_stale_or_never_ran(client, no_broker, settings):
    settings.HEALTHZ_PIPELINE_MAX_AGE_HOURS = 26
    assert client.get("/healthz").json() == {
        "status": "warning",
        "checks": {
            "database": {"status": "ok"},
            "redis": {"status": "skipped"},
            "pipeline": {"status": "never", "last_success": None, "age_hours": None},
        },
    }
    finished = timezone.now() - datetime.timedelta(hours=30)
    PipelineRunFactory(started_at=finished, finished_at=finished)
    PipelineRunFactory(status="failed", finished_at=timezone.now())  # a failure is no success
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "warning"
    assert response.json()["checks"]["pipeline"] == {
        "status": "stale",
        "last_success": finished.isoformat(),
        "age_hours": 30.0,
    }


@pytest.mark.django_db
def test_healthz_is_503_naming_redis_when_the_broker_does_not_answer(client, settings):
    PipelineRunFactory()
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["checks"]["database"] == {"status": "ok"}
    assert response.json()["checks"]["redis"] == {"status": "error"}
    assert response.json()["checks"]["pipeline"]["status"] == "ok"


@pytest.mark.django_db
@pytest.mark.skipif(not settings.CELERY_BROKER_URL, reason="needs the Redis from `make services`")
def test_healthz_pings_the_real_redis(client):
    PipelineRunFactory()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["redis"] == {"status": "ok"}


@pytest.mark.django_db
def test_healthz_is_503_naming_the_database_without_leaking_the_error(client, no_broker, monkeypatch):
    def refuse():
        raise connection.Database.OperationalError("password authentication failed for user dealfinder")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "checks": {"database": {"status": "error"}, "redis": {"status": "skipped"}, "pipeline": {"status": "unknown"}},
    }


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/admin/", "/api/v1/", "/api/schema/", "/map/", "/api/docs/"])
def test_nothing_else_answers_anonymous_callers(client, url):
    response = client.get(url)
    assert response.status_code in (302, 401, 403)
    if response.status_code == 302:
        assert "/login/" in response["Location"]


# --- structured logs --------------------------------------------------------------------------


def _record(message="hello %s", args=("world",), **extra) -> logging.LogRecord:
    record = logging.LogRecord("dealfinder.test", logging.WARNING, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    RunContextFilter().filter(record)
    return record


def test_log_records_carry_the_run_ids_in_force():
    with log_context(pipeline_run_id=7, pipeline_step="ingest"):
        with log_context(datasource="orange-parcels", ignored=None):
            inner = _record()
        outer = _record()
    after = _record()
    assert (inner.pipeline_run_id, inner.pipeline_step, inner.datasource) == (7, "ingest", "orange-parcels")
    assert not hasattr(inner, "ignored")
    assert (outer.pipeline_run_id, hasattr(outer, "datasource")) == (7, False)
    assert not hasattr(after, "pipeline_run_id")


def test_json_log_lines_hold_message_level_logger_and_ids():
    with log_context(ingestion_run_id=42):
        record = _record(status="failed")
    record.created = datetime.datetime(2026, 3, 8, 7, 0, 0, 123000, tzinfo=datetime.UTC).timestamp()
    assert json.loads(JsonFormatter().format(record)) == {
        "time": "2026-03-08T07:00:00.123+00:00",
        "level": "WARNING",
        "logger": "dealfinder.test",
        "message": "hello world",
        "ingestion_run_id": 42,
        "status": "failed",
    }


def test_json_log_lines_include_the_traceback():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "failed"
    assert line["exception"].startswith("Traceback (most recent call last):")
    assert line["exception"].endswith("ValueError: boom")


def test_text_log_lines_append_the_ids():
    with log_context(sync_run_id="abc123", sync_type="lead_push"):
        record = _record()
    line = TextFormatter().format(record)
    assert line.endswith(" WARNING dealfinder.test hello world sync_run_id=abc123 sync_type=lead_push")


def test_logged_run_gives_each_call_its_own_id():
    seen = []

    @logged_run("sync_run_id", sync_type="buyer_pull")
    def work():
        seen.append(_record())

    work()
    work()
    assert [r.sync_type for r in seen] == ["buyer_pull", "buyer_pull"]
    assert len(seen[0].sync_run_id) == 12
    assert seen[0].sync_run_id != seen[1].sync_run_id


def test_the_console_handler_adds_the_context_and_uses_the_configured_format():
    assert settings.LOGGING["handlers"]["console"]["filters"] == ["run_context", "redact_secrets"]
    assert settings.LOGGING["handlers"]["console"]["formatter"] == settings.LOG_FORMAT == "text"


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.addFilter(RunContextFilter())

    def emit(self, record):
        self.records.append(record)


@pytest.mark.django_db
def test_an_ingest_logs_with_its_source(settings):
    from properties.services import datasource_ingest
    from tests.factories import DataSourceFactory

    settings.INGEST_UPLOAD_MAX_ROWS = 0
    source = DataSourceFactory(
        name="Generic parcels",
        slug="generic",
        kind="file",
        url=str(ROOT / "tests/fixtures/files/generic_parcels.csv"),
        field_mapping={"preset": "generic_csv"},
        enabled=True,
    )
    handler = _Collect()
    logger = logging.getLogger("properties.ingest.loader")
    logger.addHandler(handler)
    try:
        assert datasource_ingest(source_id=source.pk).status == "failed"
    finally:
        logger.removeHandler(handler)
    (record,) = handler.records
    assert (record.getMessage(), record.datasource) == ("ingest of Generic parcels failed", "generic")


@pytest.mark.django_db
def test_a_pipeline_step_logs_with_its_run_and_step(monkeypatch):
    from dealfinder.ops.pipeline import runs, steps
    from tests.pipeline import fake_services

    monkeypatch.setitem(steps.STEP_SERVICES, "enrich", fake_services.boom)
    run = runs.pipeline_run_start(job="nightly", trigger="manual")
    handler = _Collect()
    logger = logging.getLogger("dealfinder.pipeline")
    logger.addHandler(handler)
    try:
        steps.pipeline_step_run(run_id=run.pk, name="enrich", can_retry=False)
    finally:
        logger.removeHandler(handler)
    failed = [r for r in handler.records if r.getMessage() == f"Pipeline run #{run.pk}: enrich failed"]
    assert [(r.pipeline_run_id, r.pipeline_step) for r in failed] == [(run.pk, "enrich")]
