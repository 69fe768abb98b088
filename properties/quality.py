"""Data-quality checks over the parcel data, stored as a QualityReport.

Row counts, completeness (active properties with no address / point / valuation),
consistency (records of inactive properties, duplicate parcels by address + zip),
spatial validity (invalid geometries, points outside settings.COUNTY_EXTENT) and stale
sources (an enabled source with no successful run in `stale_days`). Higher apps add their
own checks through `extra_checks` (callables returning findings) without this module
importing them.
"""

import datetime
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.contrib.gis.geos import Polygon
from django.db.models import Count, Exists, OuterRef, QuerySet, Sum
from django.utils import timezone

from properties.models import (
    CodeViolation,
    DataSource,
    Foreclosure,
    IngestionRun,
    Listing,
    PriceChange,
    Property,
    QualityReport,
    TaxDelinquency,
    TaxSale,
    Valuation,
)

SAMPLE_SIZE = 5
WARNING, ERROR = "warning", "error"
CHILD_MODELS = {
    "tax_sales": TaxSale,
    "foreclosures": Foreclosure,
    "valuations": Valuation,
    "tax_delinquencies": TaxDelinquency,
    "code_violations": CodeViolation,
    "listings": Listing,
}


@dataclass(frozen=True)
class Finding:
    check: str
    severity: str
    count: int
    message: str
    sample: list[str] = field(default_factory=list)


Check = Callable[[], list[Finding]]


def finding_for(check: str, severity: str, queryset: QuerySet, message: str, sample_field: str) -> list[Finding]:
    """A finding when `queryset` is not empty ("{count}" in message is filled in), else none."""
    count = queryset.count()
    if not count:
        return []
    sample = queryset.order_by(sample_field).values_list(sample_field, flat=True)[:SAMPLE_SIZE]
    return [Finding(check, severity, count, message.format(count=count), [str(s) for s in sample])]


def _completeness(active: QuerySet) -> list[Finding]:
    has_valuation = Exists(Valuation.objects.filter(property=OuterRef("pk")))
    return [
        *finding_for(
            "no_address", WARNING, active.filter(street=""), "{count} active properties have no address", "parcel_id"
        ),
        *finding_for(
            "no_point",
            WARNING,
            active.filter(location__isnull=True),
            "{count} active properties have no point",
            "parcel_id",
        ),
        *finding_for(
            "no_valuation",
            WARNING,
            active.filter(~has_valuation),
            "{count} active properties have no valuation",
            "parcel_id",
        ),
    ]


def _consistency(active: QuerySet) -> list[Finding]:
    findings = []
    orphans = {name: model.objects.filter(property__is_active=False).count() for name, model in CHILD_MODELS.items()}
    if total := sum(orphans.values()):
        findings.append(
            Finding(
                "records_of_inactive_properties",
                WARNING,
                total,
                f"{total} records belong to inactive (soft-deleted) properties",
                [f"{name}: {n}" for name, n in orphans.items() if n],
            )
        )
    duplicates = (
        active.exclude(address_normalized="")
        .order_by()
        .values("address_normalized", "zip")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    total = duplicates.aggregate(total=Sum("n"))["total"]
    if total:
        sample = [
            f"{d['address_normalized']} ({d['n']})" for d in duplicates.order_by("address_normalized")[:SAMPLE_SIZE]
        ]
        findings.append(
            Finding(
                "duplicate_addresses",
                WARNING,
                total,
                f"{total} active properties share an address and zip with another parcel",
                sample,
            )
        )
    return findings


def _spatial(active: QuerySet) -> list[Finding]:
    located = active.filter(location__isnull=False)
    findings = finding_for(
        "invalid_geometry", ERROR, located.filter(location__isvalid=False), "{count} points are invalid", "parcel_id"
    )
    extent = getattr(settings, "COUNTY_EXTENT", None)
    if extent:
        box = Polygon.from_bbox(extent)
        box.srid = 4326
        findings += finding_for(
            "outside_county",
            WARNING,
            located.exclude(location__within=box),
            "{count} points lie outside the county extent " + ",".join(str(v) for v in extent),
            "parcel_id",
        )
    return findings


def _stale_sources(*, stale_days: int, now: datetime.datetime) -> list[Finding]:
    recent_success = IngestionRun.objects.filter(
        source=OuterRef("pk"),
        status=IngestionRun.Status.SUCCESS,
        started_at__gte=now - datetime.timedelta(days=stale_days),
    )
    stale = DataSource.objects.filter(enabled=True).filter(~Exists(recent_success))
    return finding_for(
        "stale_sources",
        ERROR,
        stale,
        f"{{count}} enabled sources have had no successful run in {stale_days} days",
        "slug",
    )


def quality_counts() -> dict[str, int]:
    return {
        "properties": Property.objects.count(),
        "active_properties": Property.objects.filter(is_active=True).count(),
        **{name: model.objects.count() for name, model in CHILD_MODELS.items()},
        "price_changes": PriceChange.objects.count(),
        "data_sources": DataSource.objects.count(),
        "ingestion_runs": IngestionRun.objects.count(),
    }


def quality_report_create(
    *,
    stale_days: int = 3,
    extra_counts: Mapping[str, int] | None = None,
    extra_checks: Sequence[Check] = (),
    now: datetime.datetime | None = None,
) -> QualityReport:
    """Run every property check plus `extra_checks` and store the report."""
    now = now or timezone.now()
    active = Property.objects.filter(is_active=True)
    findings = [
        *_completeness(active),
        *_consistency(active),
        *_spatial(active),
        *_stale_sources(stale_days=stale_days, now=now),
    ]
    for check in extra_checks:
        findings += check()
    warnings = sum(f.severity == WARNING for f in findings)
    errors = sum(f.severity == ERROR for f in findings)
    status = (
        QualityReport.Status.ERROR if errors else QualityReport.Status.WARNING if warnings else QualityReport.Status.OK
    )
    return QualityReport.objects.create(
        status=status,
        counts={**quality_counts(), **(extra_counts or {})},
        findings=[asdict(f) for f in findings],
        warnings=warnings,
        errors=errors,
        created_at=now,
    )
