"""Read paths for the broker map and dashboard: viewport points, grid clusters, exports."""

import datetime
from collections.abc import Iterator

from django.contrib.gis.geos import GEOSGeometry
from django.db.models import Avg, Count, F, FloatField, Func, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Floor

from dealfinder.models import TIERS

from .models import Lead, LeadScoreHistory

MAX_POINTS = 2000
CLUSTER_BELOW_ZOOM = 13
# Grid cells are about a quarter of a 256 px tile wide, and never more than GRID_MAX per axis.
CELLS_PER_TILE = 4
GRID_MAX = 48
POINT_FIELDS = (
    "id",
    "property_id",
    "tier",
    "total",
    "status",
    "stack_count",
    "reasons",
    "arv",
    "mao",
    "property__address_normalized",
    "property__parcel_id",
    "property__location",
)


class _X(Func):
    function = "ST_X"
    output_field = FloatField()


class _Y(Func):
    function = "ST_Y"
    output_field = FloatField()


def grid_cell_size(*, zoom: int, bbox: tuple[float, float, float, float]) -> float:
    """Degrees per grid cell for a zoom level, widened so a viewport holds at most GRID_MAX x GRID_MAX cells."""
    by_zoom = 360.0 / (2**zoom) / CELLS_PER_TILE
    min_lon, min_lat, max_lon, max_lat = bbox
    return max(by_zoom, (max_lon - min_lon) / GRID_MAX, (max_lat - min_lat) / GRID_MAX)


def lead_map_points(*, leads: QuerySet, limit: int = MAX_POINTS) -> tuple[list[dict], bool]:
    """The best `limit` leads with a point (one query); True when more matched."""
    rows = list(
        leads.filter(property__location__isnull=False).order_by("-total", "id").values(*POINT_FIELDS)[: limit + 1]
    )
    return rows[:limit], len(rows) > limit


def lead_map_cells(*, leads: QuerySet, cell: float) -> list[dict]:
    """Leads grouped by a snapped grid cell in SQL: count, centroid and count per tier (one query)."""
    x, y = _X("property__location"), _Y("property__location")
    return list(
        leads.filter(property__location__isnull=False)
        .order_by()
        .annotate(cx=Floor(x / cell), cy=Floor(y / cell))
        .values("cx", "cy")
        .annotate(
            n=Count("id"),
            lon=Avg(x),
            lat=Avg(y),
            **{f"tier_{t}": Count("id", filter=Q(tier=t)) for t in TIERS},
        )
    )


def lead_list_in_shape(*, leads: QuerySet, shape: GEOSGeometry) -> QuerySet:
    """Leads whose property point lies inside a drawn polygon."""
    return leads.filter(property__location__within=shape)


EXPORT_COLUMNS = (
    ("lead_id", "id"),
    ("parcel_id", "property__parcel_id"),
    ("address", "property__address_normalized"),
    ("city", "property__city"),
    ("zip", "property__zip"),
    ("owner", "property__owner_name"),
    ("tier", "tier"),
    ("score", "total"),
    ("status", "status"),
    ("stack_count", "stack_count"),
    ("arv", "arv"),
    ("repair_estimate", "repair_estimate"),
    ("mao", "mao"),
    ("assigned_to", "assigned_to__username"),
    ("reasons", "reasons"),
    ("location", "property__location"),
)


def lead_export_rows(*, leads: QuerySet) -> Iterator[list]:
    """CSV rows (header first) for `leads`, streamed in chunks."""
    yield [name for name, _ in EXPORT_COLUMNS]
    for row in leads.order_by("-total", "id").values_list(*(f for _, f in EXPORT_COLUMNS)).iterator(chunk_size=2000):
        *values, reasons, point = row
        yield [*("" if v is None else v for v in values), "; ".join(reasons or []), point.wkt if point else ""]


def lead_new_tier_a(*, on: datetime.date, limit: int = 20) -> list[LeadScoreHistory]:
    """Leads Tier A in the snapshot of `on` whose previous snapshot was not Tier A (one query)."""
    previous = LeadScoreHistory.objects.filter(
        lead=OuterRef("lead_id"), snapshot_date__lt=OuterRef("snapshot_date")
    ).order_by("-snapshot_date")
    return list(
        LeadScoreHistory.objects.filter(snapshot_date=on, tier="A")
        .annotate(previous_tier=Subquery(previous.values("tier")[:1]))
        .filter(Q(previous_tier__isnull=True) | ~Q(previous_tier="A"))
        .select_related("lead__property")
        .order_by("-total", "lead_id")[:limit]
    )


def lead_tier_trend(*, since: datetime.date) -> dict[datetime.date, dict[str, int]]:
    """Leads per tier per snapshot date since `since` (one aggregate query)."""
    trend: dict[datetime.date, dict[str, int]] = {}
    rows = (
        LeadScoreHistory.objects.filter(snapshot_date__gte=since)
        .order_by()
        .values("snapshot_date", "tier")
        .annotate(n=Count("id"))
    )
    for row in rows:
        trend.setdefault(row["snapshot_date"], dict.fromkeys(TIERS, 0))[row["tier"]] = row["n"]
    return dict(sorted(trend.items()))


def lead_summary(*, hot_score: int) -> dict[str, int]:
    """Lead counts: all, per tier, hot and unassigned hot (one aggregate query)."""
    return Lead.objects.aggregate(
        leads=Count("id"),
        hot=Count("id", filter=Q(total__gte=hot_score)),
        hot_unassigned=Count("id", filter=Q(total__gte=hot_score, assigned_to__isnull=True)),
        **{f"tier_{t}": Count("id", filter=Q(tier=t)) for t in TIERS},
    )


def lead_hot_deals(*, hot_score: int, limit: int = 10) -> list[Lead]:
    return list(
        Lead.objects.filter(total__gte=hot_score)
        .select_related("property", "assigned_to")
        .order_by(F("total").desc(), "id")[:limit]
    )
