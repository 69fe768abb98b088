"""Reads about data sources: lookups, the schema a source had at its last run, and its health over recent runs."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from properties.ingest.schema import SourceField, SourceSchema, checked_specs, missing_attributes, missing_message
from properties.models import DataSource, IngestionRun

HEALTH_RUNS = 10


def datasource_get_by_slug(*, slug: str) -> DataSource | None:
    return DataSource.objects.filter(slug=slug).first()


def datasource_latest_schema(*, source: DataSource) -> dict[str, str] | None:
    """The attributes (and types) the source had at its latest run that recorded them; None when none did."""
    return (
        IngestionRun.objects.filter(source=source)
        .exclude(schema={})
        .order_by("-started_at", "-pk")
        .values_list("schema", flat=True)
        .first()
    )


@dataclass
class FieldHealth:
    filled: int
    blank: int
    sentinel: int
    bad: int
    fill_rate: float | None  # filled / records processed
    examples: list[str] = field(default_factory=list)


@dataclass
class RunHealth:
    run_id: int
    started_at: str
    finished_at: str | None
    status: str
    message: str
    records_in: int  # processed
    stored: int  # inserted + updated + unchanged
    failed: int
    unplaced: int
    unplaced_share: float | None  # unplaced / processed
    incremental_since: str | None
    fields: dict[str, FieldHealth]
    schema_drift: dict


@dataclass
class SourceHealth:
    source_id: int
    slug: str
    enabled: bool
    runs: list[RunHealth]

    def as_dict(self) -> dict:
        return asdict(self)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def datasource_health(*, source: DataSource, runs: int = HEALTH_RUNS) -> SourceHealth:
    """Per recent run (newest first): records in and stored, fill rate per target field, the unplaced share,
    sentinels and bad values per field, and the schema drift since the run before. One query."""
    rows = IngestionRun.objects.filter(source=source).order_by("-started_at", "-pk")[:runs]
    out = []
    for run in rows:
        fields = {
            target: FieldHealth(
                filled=int(stats.get("filled", 0)),
                blank=int(stats.get("blank", 0)),
                sentinel=int(stats.get("sentinel", 0)),
                bad=int(stats.get("bad", 0)),
                fill_rate=_rate(int(stats.get("filled", 0)), run.processed),
                examples=[str(e) for e in stats.get("examples", [])][:5],
            )
            for target, stats in sorted((run.field_stats or {}).items())
            if isinstance(stats, dict)
        }
        out.append(
            RunHealth(
                run_id=run.pk,
                started_at=run.started_at.isoformat(),
                finished_at=run.finished_at.isoformat() if run.finished_at else None,
                status=run.status,
                message=run.message,
                records_in=run.processed,
                stored=run.inserted + run.updated + run.unchanged,
                failed=run.failed,
                unplaced=run.unplaced,
                unplaced_share=_rate(run.unplaced, run.processed),
                incremental_since=run.incremental_since.isoformat() if run.incremental_since else None,
                fields=fields,
                schema_drift=run.schema_drift or {},
            )
        )
    return SourceHealth(source_id=source.pk, slug=source.slug, enabled=source.enabled, runs=out)


def mapping_vs_recorded_schema(source: DataSource, url: str | None, config, mapping) -> str | None:
    """Why a mapping names attributes the source did not have at its latest run ("" / None when it is fine, or
    when there is nothing recorded to compare with: a new source, or a changed URL)."""
    if source is None or source.pk is None or (url is not None and url != source.url):
        return None
    recorded = datasource_latest_schema(source=source)
    if not recorded:
        return None
    schema = SourceSchema(tuple(SourceField(n, t) for n, t in recorded.items()), system=_SYSTEM_NAMES)
    missing = missing_attributes(checked_specs(mapping.specs, config), schema)
    return missing_message(missing, schema) + " (as recorded by its latest run)" if missing else None


_SYSTEM_NAMES = frozenset({":id", ":created_at", ":updated_at", ":version", "_id"})
