"""Ingestion and enrichment services: what commands, tasks and admin actions call."""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from dealfinder.common.heartbeat import describe_stale, heartbeat, stale_before
from dealfinder.common.locks import advisory_lock
from dealfinder.common.logging import log_context
from properties.dedupe import DedupeSummary, property_dedupe
from properties.geocode import GeocodeSummary, property_geocode_missing
from properties.ingest.base import Reader, SourceError
from properties.ingest.joined import ChildTable, join_config, joined_reader
from properties.ingest.loader import ingest_source, mapping_fingerprint
from properties.ingest.mapping import FieldMapping, MappingError
from properties.ingest.urls import canonical_url, guess_kind
from properties.models import DataSource, IngestionRun, ParcelFormat
from properties.owner_services import OwnersSummary, owners_resolve
from properties.rekey import ParcelFormatChange, parcel_format_change_error
from properties.sales import sales_assess

logger = logging.getLogger(__name__)

Progress = Callable[[int], None] | None

# Disabled Orange County FL sources a broker can enable in admin (README: "Add a county in minutes").
DEFAULT_SOURCES = (
    {
        "slug": "orange-fl-tax-deed-sales",
        "name": "Orange County FL Comptroller: tax-deed sales",
        "kind": DataSource.Kind.ARCGIS,
        "dataset": DataSource.Dataset.TAX_SALES,
        "url": "https://ocgis4.ocfl.net/arcgis/rest/services/Public_Dynamic/MapServer/113",
        "field_mapping": {"preset": "orange_fl_tax_sales"},
    },
    {
        "slug": "orange-fl-appraiser-parcels",
        "name": "Orange County FL Property Appraiser: parcels",
        "kind": DataSource.Kind.ARCGIS,
        "dataset": DataSource.Dataset.PARCELS,
        "url": "https://ocgis4.ocfl.net/arcgis/rest/services/Public_Dynamic/MapServer/216",
        "field_mapping": {"preset": "orange_fl_parcels"},
    },
    {
        "slug": "orlando-code-enforcement",
        "name": "City of Orlando: code enforcement cases",
        "kind": DataSource.Kind.SOCRATA,
        "dataset": DataSource.Dataset.CODE_VIOLATIONS,
        "url": "https://data.cityoforlando.net/resource/k6e8-nw6w.json",
        "field_mapping": {"preset": "orlando_code_violations"},
        "where": "",
    },
)


INCREMENTAL_MARGIN = datetime.timedelta(minutes=15)  # rows changed while the last run read, or under clock skew


def make_reader(source: DataSource) -> Reader:
    """The reader for a source's kind (ArcGIS layer, Socrata dataset, CKAN resource, CSV/JSON/GeoJSON file); for a
    sales source whose mapping names "tables" (ACRIS: parties and legals), the master joined with them
    (properties.ingest.joined). SourceError for a join configuration that cannot be read."""
    try:
        join = join_config(source.field_mapping)
    except ValueError as exc:
        raise SourceError(f"tables: {exc}") from None
    where = source.where if source.where and source.where.strip() != "1=1" else None
    if join is None:
        arcgis, socrata = source.kind == DataSource.Kind.ARCGIS, source.kind == DataSource.Kind.SOCRATA
        since = incremental_since(source) if arcgis or (socrata and source.incremental_field) else None
        return table_reader(source.kind, source.url, where=where, page_size=source.page_size, since=since,
                             updated_field=source.incremental_field)  # fmt: skip
    master = table_reader(source.kind, source.url, where=where, page_size=source.page_size)

    def child(table: ChildTable) -> Reader:
        return table_reader(table.kind or source.kind, table.url, where=table.where, page_size=source.page_size)

    return joined_reader(master, join, child)


def table_reader(
    kind: str,
    url: str,
    *,
    where: str | None,
    page_size: int | None,
    since: datetime.datetime | None = None,
    updated_field: str = "",
) -> Reader:
    """The reader of one table (a layer, dataset, resource or file) of the given kind."""
    if kind == DataSource.Kind.ARCGIS:
        from properties.ingest.arcgis import ArcGISClient, ArcGISReader

        client = ArcGISClient(url, where=where or "1=1", page_size=page_size)
        return ArcGISReader(client, since=since)
    if kind == DataSource.Kind.SOCRATA:
        from properties.ingest.socrata import SocrataReader

        return SocrataReader(url, where=where, page_size=page_size or 1000, since=since, updated_field=updated_field)
    if kind == DataSource.Kind.CKAN:
        from properties.ingest.ckan import CKANReader

        return CKANReader(url, where=where, page_size=page_size or 1000)
    from properties.ingest.files import FileReader

    return FileReader(url, page_size=page_size or 1000)


def incremental_since(source: DataSource, *, now: datetime.datetime | None = None) -> datetime.datetime | None:
    """Where an incremental pull starts: the start of the last successful run read through the same mapping
    (less a margin); None (read everything) when there is none, the mapping has changed since, or no successful
    full read started within INGEST_FULL_READ_DAYS (a changes-only query never reports deleted records), and for a
    source not saved yet (a probe)."""
    if source.pk is None:
        return None
    mapping = FieldMapping.from_config(source.dataset, source.field_mapping)
    fingerprint = mapping_fingerprint(source, mapping)
    succeeded = IngestionRun.objects.filter(source=source, status=IngestionRun.Status.SUCCESS).order_by("-started_at")
    last = succeeded.values("started_at", "mapping_fingerprint").first()
    if last is None or last["mapping_fingerprint"] != fingerprint:
        return None
    full_after = (now or timezone.now()) - datetime.timedelta(days=settings.INGEST_FULL_READ_DAYS)
    if not succeeded.filter(incremental_since__isnull=True, started_at__gte=full_after).exists():
        return None
    return last["started_at"] - INCREMENTAL_MARGIN


def _failed_run(source: DataSource, message: str, run: IngestionRun | None = None) -> IngestionRun:
    """A failed run with the reason: the queued `run` when there is one, else a new row."""
    now = timezone.now()
    if run is not None:
        IngestionRun.objects.filter(pk=run.pk).finish_running(IngestionRun.Status.FAILED, message=message, now=now)
        run.refresh_from_db()
        return run
    run = IngestionRun(source=source, source_label=source.name[:200], dataset=source.dataset)
    run.finish(IngestionRun.Status.FAILED, message=message, now=now)
    return run


class SourceDisabled(Exception):
    """A disabled source is never resolved or fetched."""


def _ingest(source: DataSource, *, progress: Progress = None, run: IngestionRun | None = None) -> IngestionRun:
    with log_context(datasource=source.slug):
        return _ingest_logged(source, progress=progress, run=run)


def datasource_check_enabled(source: DataSource) -> None:
    """SourceDisabled unless the source is enabled (what the pipeline, the API, admin and the command ask first)."""
    if not source.enabled:
        raise SourceDisabled(f"data source {source.slug!r} is disabled: enable it in admin before ingesting it")


INTERRUPTED = "interrupted: the database connection was lost or the worker stopped before the run ended"
NEVER_STARTED = "no worker took this run within an hour of queuing it (is a Celery worker running?); marked failed"
QUEUED_TIMEOUT = datetime.timedelta(hours=1)


def _close_interrupted_runs(source: DataSource, *, keep: IngestionRun | None) -> None:
    """With this source's lock held (PostgreSQL), a started run still 'running' belongs to a session that died:
    a lost connection or a killed worker. Elsewhere the heartbeat tells (ingestion_runs_fail_stale)."""
    if connection.vendor != "postgresql":
        return
    IngestionRun.objects.filter(source=source, status=IngestionRun.Status.RUNNING, heartbeat_at__isnull=False).exclude(
        pk=keep.pk if keep else None
    ).finish_running(IngestionRun.Status.FAILED, message=INTERRUPTED)


def ingestion_runs_fail_stale(*, now: datetime.datetime | None = None, source: DataSource | None = None) -> int:
    """Fail the running runs (of `source`, or all) whose process stopped beating RUN_STALE_AFTER_SECONDS ago, or
    that no worker took within QUEUED_TIMEOUT of being queued; each with why. How many were failed."""
    now = now or timezone.now()
    running = IngestionRun.objects.filter(status=IngestionRun.Status.RUNNING)
    if source is not None:
        running = running.filter(source=source)
    failed = 0
    for run in running.filter(heartbeat_at__lt=stale_before(now)).only("pk", "heartbeat_at"):
        reason = describe_stale(run.heartbeat_at)
        logger.error("Failing ingestion run #%s: %s", run.pk, reason)
        failed += running.filter(pk=run.pk).finish_running(IngestionRun.Status.FAILED, message=reason, now=now)
    failed += running.filter(heartbeat_at__isnull=True, started_at__lt=now - QUEUED_TIMEOUT).finish_running(
        IngestionRun.Status.FAILED, message=NEVER_STARTED, now=now
    )
    return failed


def _claim(source: DataSource, run: IngestionRun | None) -> IngestionRun:
    """Start the run (the queued one, or a new one) unless another run of the source is alive: the guard on
    databases without advisory locks (SQLite serializes this transaction: it begins IMMEDIATE)."""
    with transaction.atomic():
        now = timezone.now()
        ingestion_runs_fail_stale(now=now, source=source)
        alive = (
            IngestionRun.objects.filter(source=source, status=IngestionRun.Status.RUNNING, heartbeat_at__isnull=False)
            .exclude(pk=run.pk if run else None)
            .first()
        )
        if alive is not None:
            return _failed_run(source, f"another ingest of this source is still running (run #{alive.pk})", run)
        if run is None:
            return IngestionRun.objects.create(
                source=source, source_label=source.name[:200], dataset=source.dataset, heartbeat_at=now
            )
        IngestionRun.objects.filter(pk=run.pk, status=IngestionRun.Status.RUNNING).update(heartbeat_at=now)
        run.refresh_from_db()
        return run


def _ingest_logged(source: DataSource, *, progress: Progress = None, run: IngestionRun | None = None) -> IngestionRun:
    if run is not None and run.status != IngestionRun.Status.RUNNING:
        logger.warning("Ingestion run #%s is %s already: not ingesting (%s)", run.pk, run.status, run.message)
        return run
    try:
        mapping = FieldMapping.from_config(source.dataset, source.field_mapping)
    except MappingError as exc:
        return _failed_run(source, f"bad field mapping: {exc}", run)
    with advisory_lock(f"datasource-ingest-{source.pk}") as acquired:
        if not acquired:
            return _failed_run(source, "another ingest of this source is still running", run)
        _close_interrupted_runs(source, keep=run)
        run = _claim(source, run)
        if run.status != IngestionRun.Status.RUNNING:
            return run
        try:
            reader = make_reader(source)
        except SourceError as exc:
            return _failed_run(source, f"SourceError: {exc}", run)
        with heartbeat(IngestionRun.objects.filter(pk=run.pk, status=IngestionRun.Status.RUNNING)):
            run = ingest_source(source=source, reader=reader, mapping=mapping, progress=progress, run=run)
        if source.dataset == DataSource.Dataset.SALES and run.stored:
            logger.info("Arms-length rules on %s's sales: %s", source.slug, sales_assess(source=source))
        return run


def datasource_ingest(*, source_id: int, run_id: int | None = None, progress: Progress = None) -> IngestionRun:
    """Ingest one configured, enabled source into the queued run `run_id` (or a new run). SourceDisabled for a
    disabled source: nothing is resolved or fetched (a queued run is failed with the reason). A bad field mapping
    gives a failed run without fetching anything. An unexpected error fails the run with it, then propagates."""
    source = DataSource.objects.get(pk=source_id)
    run = IngestionRun.objects.get(pk=run_id) if run_id is not None else None
    try:
        datasource_check_enabled(source)
        return _ingest(source, progress=progress, run=run)
    except Exception as exc:
        if run is not None:
            _failed_run(source, f"{type(exc).__name__}: {exc}"[:2000], run)
        raise


def datasource_ingest_queued(*, source: DataSource) -> IngestionRun:
    """A run row for an ingest about to be queued: running, without a heartbeat until a worker takes it."""
    return IngestionRun.objects.create(source=source, source_label=source.name[:200], dataset=source.dataset)


def datasource_ingest_all(*, progress: Progress = None) -> list[IngestionRun]:
    """Ingest every enabled source, parcels first so other datasets find their parcels complete."""
    sources = sorted(DataSource.objects.filter(enabled=True), key=lambda s: (s.dataset != "parcels", s.name))
    return [_ingest(source, progress=progress) for source in sources]


def ingest_adhoc(
    *,
    url: str,
    dataset: str,
    mapping: dict,
    kind: str | None = None,
    parcel_format: str = ParcelFormat.CANONICAL,
    progress: Progress = None,
) -> IngestionRun:
    """Ingest a URL or file once. MappingError before anything is fetched; runs are kept on a disabled
    'adhoc-…' DataSource so re-running the same URL converges instead of duplicating (ParcelFormatChange when
    it ran before in another parcel format)."""
    FieldMapping.from_config(dataset, mapping)
    if parcel_format not in ParcelFormat.values:
        raise MappingError(f"unknown parcel format {parcel_format!r}; allowed: {', '.join(ParcelFormat.values)}")
    kind = kind or guess_kind(url)
    url = canonical_url(url, kind)
    digest = hashlib.sha1(f"{dataset} {url}".encode(), usedforsecurity=False).hexdigest()[:12]
    earlier = DataSource.objects.filter(slug=f"adhoc-{digest}").first()
    problem = earlier and parcel_format_change_error(source=earlier, parcel_format=parcel_format)
    if problem:  # the same URL ingested before in another format: its parcels would be stored again
        raise ParcelFormatChange(f"{problem}; or keep --parcel-format {earlier.parcel_format}")
    source, _ = DataSource.objects.update_or_create(
        slug=f"adhoc-{digest}",
        defaults={
            "name": f"Ad hoc {dataset}: {url}"[:200],
            "kind": kind,
            "dataset": dataset,
            "url": url,
            "field_mapping": mapping,
            "parcel_format": parcel_format,
            "enabled": False,
        },
    )
    return _ingest(source, progress=progress)


def datasources_create_defaults() -> list[DataSource]:
    """Create the disabled Orange County FL sources if missing (idempotent; never touches existing rows)."""
    created = []
    for spec in DEFAULT_SOURCES:
        values = {"parcel_format": ParcelFormat.ORANGE_FL, "county": "Orange", "enabled": False, **spec}
        source, _ = DataSource.objects.get_or_create(slug=spec["slug"], defaults=values)
        created.append(source)
    return created


@dataclass(frozen=True)
class EnrichSummary:
    geocode: GeocodeSummary
    dedupe: DedupeSummary
    owners: OwnersSummary = field(default_factory=OwnersSummary)

    def __str__(self) -> str:
        return f"geocode: {self.geocode}; dedupe: {self.dedupe}; owners: {self.owners}"


def properties_enrich() -> EnrichSummary:
    """Geocode properties without a point (when the geocoder is enabled), merge duplicates, then resolve owners."""
    geocode, dedupe = property_geocode_missing(), property_dedupe()
    return EnrichSummary(geocode=geocode, dedupe=dedupe, owners=owners_resolve())
