"""Ingestion and enrichment services: what commands, tasks and admin actions call."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from dealfinder.locks import advisory_lock
from dealfinder.logging import log_context
from properties.dedupe import DedupeSummary, property_dedupe
from properties.geocode import GeocodeSummary, property_geocode_missing
from properties.ingest.base import Reader, SourceError
from properties.ingest.loader import ingest_source, mapping_fingerprint
from properties.ingest.mapping import FieldMapping, MappingError
from properties.ingest.urls import canonical_url, guess_kind
from properties.models import DataSource, IngestionRun, ParcelFormat
from properties.rekey import ParcelFormatChange, parcel_format_change_error

Progress = Callable[[int], None] | None

# Disabled Orange County FL sources a broker can enable in admin (see DESIGN.md "Outside systems").
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


INCREMENTAL_MARGIN = dt.timedelta(minutes=15)  # rows changed while the last run read, or under clock skew


def make_reader(source: DataSource) -> Reader:
    """The reader for a source's kind (ArcGIS layer, Socrata dataset, CKAN resource, CSV/JSON/GeoJSON file)."""
    where = source.where if source.where and source.where.strip() != "1=1" else None
    if source.kind == DataSource.Kind.ARCGIS:
        from properties.ingest.arcgis import ArcGISClient, ArcGISReader

        return ArcGISReader(ArcGISClient(source.url, where=where or "1=1", page_size=source.page_size))
    if source.kind == DataSource.Kind.SOCRATA:
        from properties.ingest.socrata import SocrataReader

        since = incremental_since(source) if source.incremental_field else None
        return SocrataReader(
            source.url,
            where=where,
            page_size=source.page_size or 1000,
            since=since,
            updated_field=source.incremental_field,
        )
    if source.kind == DataSource.Kind.CKAN:
        from properties.ingest.ckan import CKANReader

        return CKANReader(source.url, where=where, page_size=source.page_size or 1000)
    from properties.ingest.files import FileReader

    return FileReader(source.url, page_size=source.page_size or 1000)


def incremental_since(source: DataSource) -> dt.datetime | None:
    """Where an incremental pull starts: the start of the last successful run read through the same mapping
    (less a margin); None (read everything) when there is none or the mapping has changed since."""
    mapping = FieldMapping.from_config(source.dataset, source.field_mapping)
    last = (
        IngestionRun.objects.filter(source=source, status=IngestionRun.Status.SUCCESS)
        .order_by("-started_at")
        .values("started_at", "mapping_fingerprint")
        .first()
    )
    if last is None or last["mapping_fingerprint"] != mapping_fingerprint(source, mapping):
        return None
    return last["started_at"] - INCREMENTAL_MARGIN


def _failed_run(source: DataSource, message: str) -> IngestionRun:
    return IngestionRun.objects.create(
        source=source,
        source_label=source.name[:200],
        dataset=source.dataset,
        status=IngestionRun.Status.FAILED,
        message=message,
        finished_at=timezone.now(),
    )


class SourceDisabled(Exception):
    """A disabled source is never resolved or fetched."""


def _ingest(source: DataSource, *, progress: Progress = None) -> IngestionRun:
    with log_context(datasource=source.slug):
        return _ingest_logged(source, progress=progress)


def datasource_check_enabled(source: DataSource) -> None:
    """SourceDisabled unless the source is enabled (what the pipeline, the API, admin and the command ask first)."""
    if not source.enabled:
        raise SourceDisabled(f"data source {source.slug!r} is disabled: enable it in admin before ingesting it")


INTERRUPTED = "interrupted: the database connection was lost or the worker stopped before the run ended"


def _close_interrupted_runs(source: DataSource) -> None:
    """With this source's lock held (PostgreSQL), a run still 'running' belongs to a session that died:
    a lost connection or a killed worker. Elsewhere there is no lock to prove it, so runs are left as they are."""
    if connection.vendor != "postgresql":
        return
    IngestionRun.objects.filter(source=source, status=IngestionRun.Status.RUNNING).update(
        status=IngestionRun.Status.FAILED, message=INTERRUPTED, finished_at=timezone.now()
    )


def _ingest_logged(source: DataSource, *, progress: Progress = None) -> IngestionRun:
    try:
        mapping = FieldMapping.from_config(source.dataset, source.field_mapping)
    except MappingError as exc:
        return _failed_run(source, f"bad field mapping: {exc}")
    with advisory_lock(f"datasource-ingest-{source.pk}") as acquired:
        if not acquired:
            return _failed_run(source, "another ingest of this source is still running")
        _close_interrupted_runs(source)
        try:
            reader = make_reader(source)
        except SourceError as exc:
            return _failed_run(source, f"SourceError: {exc}")
        return ingest_source(source=source, reader=reader, mapping=mapping, progress=progress)


def datasource_ingest(*, source_id: int, progress: Progress = None) -> IngestionRun:
    """Ingest one configured, enabled source (SourceDisabled otherwise: nothing is resolved or fetched);
    a bad field mapping gives a failed run without fetching anything."""
    source = DataSource.objects.get(pk=source_id)
    datasource_check_enabled(source)
    return _ingest(source, progress=progress)


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

    def __str__(self) -> str:
        return f"geocode: {self.geocode}; dedupe: {self.dedupe}"


def properties_enrich() -> EnrichSummary:
    """Geocode properties without a point (when the geocoder is enabled), then merge duplicates."""
    return EnrichSummary(geocode=property_geocode_missing(), dedupe=property_dedupe())
