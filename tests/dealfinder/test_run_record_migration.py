"""The run record migrations (PipelineRun's error -> message, SyncLog.sync_run_id, help texts) keep every row."""

import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [
    ("dealfinder", "0002_api_tokens"),
    ("sync", "0002_webhook_rejections_push_claims"),
    ("properties", "0007_property_owner_mailing_permission"),
]
AFTER = [("dealfinder", "0003_run_record"), ("sync", "0003_run_record"), ("properties", "0008_run_record")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_latest():
    """Leave the database at the newest migrations, whatever the test migrated it to (later tests need them)."""
    yield
    call_command("migrate", verbosity=0)  # the command, not the executor: its signals recreate the reporting views


@pytest.mark.django_db(transaction=True)
def test_run_record_migrations_keep_every_row(back_to_latest):
    started = timezone.now() - datetime.timedelta(hours=1)
    old = _migrate(BEFORE)
    try:
        old_run = old.get_model("dealfinder", "PipelineRun").objects.create(
            job="nightly", status="failed", trigger="beat", started_at=started, error="score failed: ValueError: boom"
        )
        old_log = old.get_model("sync", "SyncLog").objects.create(
            sync_type="lead_push", status="partial", processed=3, succeeded=2, failed=1, message="1 lead failed",
            errors=[{"lead": 7, "error": "GoHighLevel 422"}], started_at=started,
        )  # fmt: skip
        old_ingest = old.get_model("properties", "IngestionRun").objects.create(
            source_label="Orange", status="failed", message="SourceError: gone", errors=[{"record": "1", "reason": "x"}]
        )
    finally:
        new = _migrate(AFTER)

    run = new.get_model("dealfinder", "PipelineRun").objects.get(pk=old_run.pk)
    assert (run.status, run.message, run.errors, run.started_at) == (
        "failed",
        "score failed: ValueError: boom",
        [],
        started,
    )
    log = new.get_model("sync", "SyncLog").objects.get(pk=old_log.pk)
    assert (log.status, log.processed, log.failed, log.message, log.errors, log.sync_run_id) == (
        "partial",
        3,
        1,
        "1 lead failed",
        [{"lead": 7, "error": "GoHighLevel 422"}],
        "",
    )
    ingest = new.get_model("properties", "IngestionRun").objects.get(pk=old_ingest.pk)
    assert (ingest.status, ingest.message, ingest.errors) == (
        "failed",
        "SourceError: gone",
        [{"record": "1", "reason": "x"}],
    )
