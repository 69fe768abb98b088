"""The pipeline's steps: each step calls one service, imported here, and its outcome is recorded on the run.

"ingest" is called once per enabled DataSource, in parallel stages (parcels first), as datasource_ingest(source_id=...);
every other step's service is called without arguments. A service that raises fails its step (a network error,
HTTP 5xx/429 or database lock is retried first, by the task); one that returns a run or log with status "failed"
fails it too. What a service returns is recorded as the step's counts.
"""

import dataclasses
import logging
from collections.abc import Callable

import httpx
from django.db import OperationalError, models

from buyers.discovered import discovered_buyers_refresh
from buyers.services import matches_refresh_all
from dealfinder.common.heartbeat import heartbeat
from dealfinder.common.logging import log_context
from dealfinder.ops.dashboard_figures import dashboard_figures_refresh
from dealfinder.ops.models import PipelineStep
from dealfinder.ops.pipeline.runs import (
    pipeline_run_running,
    pipeline_step_begin,
    pipeline_step_fail,
    pipeline_step_succeed,
)
from dealfinder.ops.scoring import leads_score
from leads.alerts import alerts_send_new_tier_a, alerts_send_text
from leads.comps_refresh import leads_comps_refresh
from leads.grid import map_grid_refresh
from leads.quality import quality_check_run
from properties.ingest.schema import drift_summary
from properties.models import DataSource
from properties.services import SourceDisabled, datasource_ingest, properties_enrich
from sync.deferred import deferred_messages_send_due
from sync.mail import mail_campaigns_send_due
from sync.pull import ghl_pull_buyers
from sync.push import ghl_push_leads
from sync.reconcile import ghl_reconcile

logger = logging.getLogger("dealfinder.pipeline")


def buyers_discover_refresh():
    """The nightly step: the discovered buyers' list refreshed (its summary is the step's counts)."""
    return discovered_buyers_refresh()[1]


# Step name -> the service it calls.
STEP_SERVICES: dict[str, Callable] = {
    "ingest": datasource_ingest,
    "enrich": properties_enrich,
    "score": leads_score,
    "comps": leads_comps_refresh,
    "map": map_grid_refresh,
    "match": matches_refresh_all,
    "discover_buyers": buyers_discover_refresh,
    "ghl_push": ghl_push_leads,
    "ghl_deferred": deferred_messages_send_due,
    "ghl_pull": ghl_pull_buyers,
    "ghl_reconcile": ghl_reconcile,
    "mail": mail_campaigns_send_due,
    "alerts": alerts_send_new_tier_a,
    "quality": quality_check_run,
    "dashboard": dashboard_figures_refresh,
}


class TransientError(Exception):
    """A step failed for a reason worth retrying (network, HTTP 5xx/429, database lock); the task retries it."""


def is_transient(exc: BaseException | None) -> bool:
    """Network errors, HTTP 5xx/429 and database lock/connection errors, also when wrapped (raise ... from)."""
    while exc is not None:
        if isinstance(exc, httpx.TransportError | OperationalError):
            return True
        if isinstance(exc, httpx.HTTPStatusError):
            return exc.response.status_code == 429 or exc.response.status_code >= 500
        if getattr(exc, "retryable", False) is True:
            return True
        status = getattr(exc, "status_code", None)
        if isinstance(status, int) and (status == 429 or status >= 500):
            return True
        exc = exc.__cause__
    return False


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _plain(value):
    """JSON-friendly counts: numbers, strings and flags stay; lists become their length."""
    if isinstance(value, list | tuple | set):
        return len(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, bool | int | float) or value is None:
        return value
    return str(value)  # also turns TextChoices members into their plain value


def summarize(result) -> dict:
    """A service's summary (dataclass, model instance such as IngestionRun/SyncLog, dict or count) as counts."""
    if result is None:
        return {}
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return _plain(dataclasses.asdict(result))
    if isinstance(result, models.Model):
        counts = {f"{result._meta.model_name}_id": result.pk}
        for field in result._meta.concrete_fields:
            value = getattr(result, field.attname)
            if field.primary_key or field.is_relation:
                continue
            if isinstance(value, bool | int | float | list) or (field.choices and value):
                counts[field.attname] = _plain(value)
        return counts
    if isinstance(result, dict):
        return _plain(result)
    if isinstance(result, int | float):
        return {"count": result}
    return {"result": str(result)}


def result_failure(result) -> str | None:
    """Why a service that returned normally still failed (a run/log with status "failed"), else None."""
    if getattr(result, "status", None) == "failed":
        return getattr(result, "message", "") or f"{type(result).__name__} finished with status failed"
    return None


def _call_recorded(*, step: PipelineStep, call: Callable, can_retry: bool) -> None:
    try:
        result = call()
    except Exception as exc:
        if can_retry and is_transient(exc):
            logger.warning("Pipeline run #%s: %s will be retried: %s", step.run_id, step.name, describe(exc))
            raise TransientError(describe(exc)) from exc
        logger.error("Pipeline run #%s: %s failed", step.run_id, step.name, exc_info=exc)
        pipeline_step_fail(step=step, error=describe(exc))
        return
    failure = result_failure(result)
    if failure:
        pipeline_step_fail(step=step, error=failure, counts=summarize(result))
    else:
        pipeline_step_succeed(step=step, counts=summarize(result))


def pipeline_step_run(*, run_id: int, name: str, can_retry: bool) -> None:
    """Run one step's service and record the outcome; raises TransientError when the task should retry."""
    with log_context(pipeline_run_id=run_id, pipeline_step=name):
        step = pipeline_step_begin(run_id=run_id, name=name)
        if step is None:
            return
        with heartbeat(pipeline_run_running(run_id)):
            _call_recorded(step=step, call=lambda: STEP_SERVICES[name](), can_retry=can_retry)


def pipeline_ingest_stages(*, run_id: int) -> list[list[int]] | None:
    """Begin the ingest step; the enabled sources in stages run one after the other, each in parallel:
    parcels first, so the other datasets find their parcels (None when the run is over)."""
    if pipeline_step_begin(run_id=run_id, name="ingest") is None:
        return None
    sources = DataSource.objects.filter(enabled=True).order_by("pk")
    parcels = list(sources.filter(dataset=DataSource.Dataset.PARCELS).values_list("pk", flat=True))
    others = list(sources.exclude(dataset=DataSource.Dataset.PARCELS).values_list("pk", flat=True))
    return [stage for stage in (parcels, others) if stage]


def pipeline_ingest_source(*, run_id: int, source_id: int, can_retry: bool) -> dict:
    """Ingest one source; its counts, or the error that failed it. Raises TransientError to retry."""
    with log_context(pipeline_run_id=run_id, pipeline_step="ingest"), heartbeat(pipeline_run_running(run_id)):
        try:
            result = STEP_SERVICES["ingest"](source_id=source_id)
        except SourceDisabled as exc:  # disabled after the run listed it: skipped, never fetched
            logger.info("Pipeline run #%s: %s", run_id, exc)
            return {"source_id": source_id, "counts": {"status": "skipped"}, "error": None}
        except Exception as exc:
            if can_retry and is_transient(exc):
                logger.warning("Pipeline run #%s: source %s will be retried: %s", run_id, source_id, describe(exc))
                raise TransientError(describe(exc)) from exc
            logger.error("Pipeline run #%s: source %s failed", run_id, source_id, exc_info=exc)
            return {"source_id": source_id, "counts": {}, "error": describe(exc)}
        pipeline_notify_drift(run=result)
        return {"source_id": source_id, "counts": summarize(result), "error": result_failure(result)}


def pipeline_notify_drift(*, run) -> None:
    """Alert when an ingest run found that attributes its mapping reads have disappeared from the source
    (properties records the drift on the run; sending it is this layer's job)."""
    drift = getattr(run, "schema_drift", None) or {}
    if not drift.get("missing_mapped"):
        return
    label = getattr(run, "source_label", "") or f"source {getattr(run, 'source_id', '?')}"
    subject = f"DealFinder: {label} no longer has mapped attributes"
    body = (
        f"The source's schema changed since its previous run: {', '.join(drift['missing_mapped'])} "
        f"disappeared (the mapping reads them).\n\nAll changes: {drift_summary(drift)}.\n"
        f"Run #{run.pk}: {run.status}. Fix the field mapping in admin, Data sources."
    )
    logger.error("%s: %s", subject, drift_summary(drift))
    try:
        alerts_send_text(subject=subject, body=body)
    except Exception:
        logger.exception("Sending the drift alert for ingestion run #%s failed", run.pk)


def pipeline_ingest_finish(*, run_id: int, results: list[dict]) -> None:
    """Record the ingest step from its sources' results: failed when every source failed; when only some did,
    done with their errors as a warning, so the night goes on with what landed (one county's server down does not
    keep the others from being scored, matched and pushed) and the run ends partial."""
    step = PipelineStep.objects.get(run_id=run_id, name="ingest")
    slugs = dict(DataSource.objects.filter(pk__in=[r["source_id"] for r in results]).values_list("pk", "slug"))
    counts: dict = {"sources": len(results), "failed_sources": sum(1 for r in results if r["error"])}
    for result in results:
        for key, value in result["counts"].items():
            if not key.endswith("_id") and isinstance(value, int) and not isinstance(value, bool):
                counts[key] = counts.get(key, 0) + value
    counts["by_source"] = {
        slugs.get(r["source_id"], str(r["source_id"])): "failed" if r["error"] else r["counts"].get("status", "success")
        for r in results
    }
    errors = [f"{slugs.get(r['source_id'], r['source_id'])}: {r['error']}" for r in results if r["error"]]
    if errors and len(errors) == len(results):
        pipeline_step_fail(step=step, error="; ".join(errors), counts=counts)
    else:
        pipeline_step_succeed(step=step, counts=counts, warning="; ".join(errors))
