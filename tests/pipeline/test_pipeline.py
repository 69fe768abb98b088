"""The pipeline run in-process (eager Celery): steps, failures, retries, overlap guard."""

import datetime
import logging

import httpx
import pytest
from django.db import OperationalError
from django.utils import timezone

from dealfinder.ops.models import PipelineRun, PipelineStep
from dealfinder.ops.pipeline import runs, steps
from leads.services import ScoreSummary
from properties.ingest.base import SourceError
from sync.ghl import GHLError
from sync.models import SyncLog
from tests.factories import PipelineRunFactory, SyncLogFactory
from tests.pipeline.nightly import NIGHTLY

pytestmark = pytest.mark.django_db


def statuses(run: PipelineRun) -> list[tuple[str, str]]:
    return list(run.steps.values_list("name", "status"))


def test_nightly_runs_every_step_in_order_and_a_rerun_converges(county, launch):
    run = launch()

    assert (run.job, run.trigger, run.status, run.message) == ("nightly", "manual", "success", "")
    assert statuses(run) == [(name, "success") for name in NIGHTLY]
    assert list(run.steps.values_list("order", "attempts")) == [(n, 1) for n in range(1, len(NIGHTLY) + 1)]
    ingest = run.steps.get(name="ingest").counts
    assert {k: ingest[k] for k in ("sources", "failed_sources", "processed", "inserted", "unchanged")} == {
        "sources": 1,
        "failed_sources": 0,
        "processed": 12,
        "inserted": 12,
        "unchanged": 0,
    }
    assert ingest["by_source"] == {"orange-tax-sales": "success"}
    assert run.steps.get(name="score").counts["scored"] == 15  # 12 ingested parcels + 3 fixture leads
    assert run.steps.get(name="match").counts["buyers"] == 2
    assert run.finished_at >= run.steps.get(name="quality").finished_at

    again = launch()

    assert again.status == "success"
    assert (again.steps.get(name="ingest").counts["inserted"], again.steps.get(name="ingest").counts["unchanged"]) == (
        0,
        12,
    )
    assert again.steps.get(name="score").counts["changed"] == 0


def test_failing_step_skips_its_dependents_records_why_and_alerts(county, launch, step_service, caplog):
    step_service("enrich", "boom")

    with caplog.at_level(logging.ERROR, logger="dealfinder.pipeline"):
        run = launch()

    assert (run.status, run.message) == ("failed", "enrich failed: ValueError: boom")
    assert list(run.steps.values_list("name", "status", "error", "attempts")) == [
        ("ingest", "success", "", 1),
        ("enrich", "failed", "ValueError: boom", 1),  # not a transient error: no retry
        ("score", "skipped", "skipped: enrich failed", 0),
        ("comps", "skipped", "skipped: enrich failed", 0),
        ("map", "skipped", "skipped: enrich failed", 0),
        ("match", "skipped", "skipped: enrich failed", 0),
        ("discover_buyers", "skipped", "skipped: enrich failed", 0),
        ("ghl_reconcile", "skipped", "skipped: enrich failed", 0),
        ("ghl_push", "skipped", "skipped: enrich failed", 0),
        ("mail", "skipped", "skipped: enrich failed", 0),
        ("alerts", "skipped", "skipped: enrich failed", 0),
        ("quality", "skipped", "skipped: enrich failed", 0),
        ("dashboard", "skipped", "skipped: enrich failed", 0),
    ]
    assert run.finished_at is not None
    assert f"DealFinder: nightly run #{run.pk} failed: enrich failed: ValueError: boom" in caplog.messages


def test_unreachable_source_fails_the_ingest_step(county, launch):
    county.source.url = "http://127.0.0.1:9/arcgis/rest/services/Gone/FeatureServer/0"
    county.source.save()

    run = launch()

    ingest = run.steps.get(name="ingest")
    assert ingest.status == "failed"
    assert ingest.error.startswith("orange-tax-sales: ")
    assert "ConnectError" in ingest.error
    assert (ingest.counts["sources"], ingest.counts["failed_sources"], ingest.counts["by_source"]) == (
        1,
        1,
        {"orange-tax-sales": "failed"},
    )
    assert run.status == "failed"
    assert statuses(run)[1:] == [(name, "skipped") for name in NIGHTLY[1:]]


def test_transient_errors_are_retried(county, launch, step_service):
    step_service("score", "flaky_network")

    run = launch()

    score = run.steps.get(name="score")
    assert (score.status, score.attempts, score.counts, score.error) == ("success", 3, {"done": 1}, "")
    assert run.status == "success"


def test_transient_errors_give_up_after_three_retries(county, launch, step_service):
    step_service("match", "network_down")

    run = launch()

    match = run.steps.get(name="match")
    assert (match.status, match.attempts, match.error) == ("failed", 4, "ConnectError: connection refused")
    assert run.message == "match failed: ConnectError: connection refused"


def test_a_service_result_with_status_failed_fails_its_step(launch, step_service):
    step_service("ghl_push", "failed_push")

    run = launch("ghl_push")

    step = run.steps.get()
    assert (step.status, step.error) == ("failed", "GoHighLevel 401: invalid token")
    assert step.counts["synclog_id"] == SyncLog.objects.get().pk
    assert (step.counts["status"], step.counts["sync_type"]) == ("failed", "lead_push")


def test_second_trigger_while_a_run_is_in_progress_is_skipped_and_logged(launch, caplog):
    running = PipelineRunFactory(job="nightly", status="running", finished_at=None)

    with caplog.at_level(logging.WARNING, logger="dealfinder.pipeline"):
        skipped = launch("nightly", "beat")

    assert (skipped.status, skipped.trigger, skipped.message) == (
        "skipped",
        "beat",
        f"nightly run #{running.pk} is still running",
    )
    assert skipped.finished_at is not None
    assert skipped.steps.count() == 0
    assert caplog.messages == [f"Skipped nightly (beat trigger): nightly run #{running.pk} is still running"]
    assert launch("ghl_pull").status == "success"  # another job is not blocked


def test_push_and_quality_jobs_wait_for_the_nightly_run_but_never_block_it(launch):
    nightly = PipelineRunFactory(job="nightly", status="running", finished_at=None)

    assert [(r.status, r.message) for r in (launch("ghl_push"), launch("quality"))] == [
        ("skipped", f"nightly run #{nightly.pk} is still running"),
        ("skipped", f"nightly run #{nightly.pk} is still running"),
    ]

    nightly.status = "success"
    nightly.save()
    PipelineRunFactory(job="ghl_push", status="running", finished_at=None)
    assert runs.pipeline_run_start(job="nightly", trigger="beat").status == "running"


def test_stale_running_run_is_failed_and_no_longer_blocks(launch, settings):
    long_ago = timezone.now() - datetime.timedelta(seconds=settings.RUN_STALE_AFTER_SECONDS + 60)
    stale = PipelineRunFactory(job="quality", status="running", started_at=long_ago, finished_at=None)
    PipelineStep.objects.create(run=stale, name="quality", order=1, status="running", started_at=long_ago)
    alive = PipelineRunFactory(job="ghl_pull", status="running", finished_at=None, heartbeat_at=timezone.now())

    run = launch("quality")

    stale.refresh_from_db()
    assert run.status == "success"
    why = (
        f"no heartbeat since {timezone.localtime(long_ago):%Y-%m-%d %H:%M:%S %Z} (more than 180 s): "
        "the process running it was killed or lost; marked failed"
    )
    assert (stale.status, stale.message) == ("failed", why)
    assert list(stale.steps.values_list("status", "error")) == [("failed", why)]
    alive.refresh_from_db()
    assert alive.status == "running"


def test_unknown_job_is_refused():
    with pytest.raises(
        ValueError,
        match="unknown job 'weekly'; known: nightly, ghl_push, ghl_deferred, mail, ghl_pull, ghl_reconcile, quality",
    ):
        runs.pipeline_run_start(job="weekly", trigger="manual")


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (httpx.ConnectError("refused"), True),
        (httpx.ReadTimeout("slow"), True),
        (httpx.HTTPStatusError("", request=httpx.Request("GET", "http://x"), response=httpx.Response(503)), True),
        (httpx.HTTPStatusError("", request=httpx.Request("GET", "http://x"), response=httpx.Response(429)), True),
        (httpx.HTTPStatusError("", request=httpx.Request("GET", "http://x"), response=httpx.Response(404)), False),
        (OperationalError("canceling statement due to lock timeout"), True),
        (GHLError(502, "Bad Gateway"), True),
        (GHLError(0, "network"), True),
        (GHLError(422, "invalid"), False),
        (ValueError("bad mapping"), False),
    ],
    ids=repr,
)
def test_is_transient(exc, transient):
    assert steps.is_transient(exc) is transient


def test_is_transient_follows_wrapped_causes():
    try:
        try:
            raise httpx.ConnectError("refused")
        except httpx.ConnectError as exc:
            raise SourceError("layer unreachable") from exc
    except SourceError as wrapped:
        assert steps.is_transient(wrapped) is True
    assert steps.is_transient(SourceError("layer has no objectIdField")) is False


def test_summarize():
    summary = ScoreSummary(scored=3, created=1, changed=1, unchanged=1, history_written=3, new_tier_a=[7, 9])
    assert steps.summarize(summary) == {
        "scored": 3,
        "created": 1,
        "changed": 1,
        "unchanged": 1,
        "history_written": 3,
        "tiers": {"A": 0, "B": 0, "C": 0, "D": 0},
        "new_tier_a": 2,
        "merged": 0,
    }
    log = SyncLogFactory(sync_type="buyer_pull", status="partial", processed=5, succeeded=4, failed=1, skipped=0)
    counts = steps.summarize(log)
    assert {k: counts[k] for k in ("synclog_id", "sync_type", "status", "processed", "succeeded", "failed")} == {
        "synclog_id": log.pk,
        "sync_type": "buyer_pull",
        "status": "partial",
        "processed": 5,
        "succeeded": 4,
        "failed": 1,
    }
    assert "message" not in counts
    assert steps.summarize(None) == {}
    assert steps.summarize(42) == {"count": 42}


def test_a_mapped_attribute_that_disappears_fails_its_source_and_is_alerted(county, launch, settings, mailoutbox):
    settings.ALERT_EMAIL_TO = "ops@example.com"
    launch()  # the first run records the layer's schema
    county.layer.fields = [f for f in county.layer.fields if f["name"] != "USER_Deed_Status"]

    run = launch()

    ingest = run.steps.get(name="ingest")
    assert ingest.status == "failed"
    source_run = county.source.runs.order_by("-started_at", "-pk").first()
    assert source_run.schema_drift["missing_mapped"] == ["USER_Deed_Status"]
    drift = [m for m in mailoutbox if "no longer has mapped attributes" in m.subject]
    assert [m.subject for m in drift] == [f"DealFinder: {county.source.name} no longer has mapped attributes"]
    assert "USER_Deed_Status disappeared (the mapping reads them)" in drift[0].body
    assert "removed: USER_Deed_Status" in drift[0].body
