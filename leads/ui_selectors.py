"""Read paths for the broker map and dashboard: viewport points, grid clusters, exports."""

import datetime
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.gis.geos import GEOSGeometry, Polygon
from django.db.models import Avg, Count, F, OuterRef, Q, QuerySet, Subquery

from leads.choices import CLOSED_STATUSES, TIERS

from .grid import INDEX_FILTERS, CellRange, PointX, PointY, cell_expressions, grid_points
from .models import Lead, LeadScoreHistory, LeadTierDay

# Points from this zoom on, grid cells below. A point feature is ~0.3 KB; 500 keep a city view near 150 KB
# and its request near 100 ms with a million leads (measured: see leads/grid.py).
MAX_POINTS = 500
CLUSTER_BELOW_ZOOM = 13
# Below this zoom, a view the map index counts more than DENSE_POINTS leads in is answered with cells.
DENSE_CELLS_BELOW_ZOOM = 14
DENSE_POINTS = 5000
# Filters the map index's per-tier cell counts answer (leads.grid.grid_cells); the index's points answer every
# filter in leads.grid.INDEX_FILTERS; any other filter reads the live tables.
INDEX_CELL_FILTERS = frozenset({"tier"})
INDEX_POINT_FILTERS = frozenset(INDEX_FILTERS)
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
)
# The point as two floats: no GEOS object per row (a third of the request time at 1,000 points).
POINT_XY = {"lon": PointX("property__location"), "lat": PointY("property__location")}


def lead_map_points(*, leads: QuerySet, limit: int = MAX_POINTS) -> tuple[list[dict], bool]:
    """The best `limit` leads with a point (one query); True when more matched."""
    located = leads.filter(property__location__isnull=False).order_by("-total", "id")
    rows = list(located.values(*POINT_FIELDS, **POINT_XY)[: limit + 1])
    return rows[:limit], len(rows) > limit


def lead_map_points_indexed(
    *, bbox: GEOSGeometry, filters: dict, limit: int = MAX_POINTS
) -> tuple[list[dict], bool, int]:
    """As lead_map_points, the candidates taken from the map index: (rows, truncated, count in view).

    `filters`: cleaned LeadFilterSet values, names in INDEX_POINT_FILTERS. One query (the best ids from the
    narrow index as a subquery, their leads by primary key), two when truncated (the count).
    """
    index_rows = grid_points(bbox=bbox, filters=filters)
    best = Lead.objects.filter(id__in=Subquery(index_rows.values("lead_id")[: limit + 1]))
    rows = list(best.order_by("-total", "id").values(*POINT_FIELDS, **POINT_XY))
    truncated = len(rows) > limit
    return rows[:limit], truncated, index_rows.count() if truncated else len(rows)


def _cells_polygon(cells: CellRange) -> Polygon:
    polygon = Polygon.from_bbox(cells.bbox)
    polygon.srid = 4326
    return polygon


def lead_map_cells(*, leads: QuerySet, cells: CellRange) -> list[dict]:
    """Leads grouped by grid cell in SQL: count, centroid and count per tier (one query).

    Whole cells: the leads of every cell the viewport touches, with the map index's cell arithmetic.
    """
    cx, cy = cell_expressions("property__location", cells.level)
    x, y = PointX("property__location"), PointY("property__location")
    rows = (
        leads.filter(property__location__intersects=_cells_polygon(cells))
        .order_by()
        .annotate(cx=cx, cy=cy)
        .values("cx", "cy")
        .annotate(
            n=Count("id"),
            lon=Avg(x),
            lat=Avg(y),
            **{f"tier_{t}": Count("id", filter=Q(tier=t)) for t in TIERS},
        )
    )
    # The box's closed far edges hold the first points of the next cells: those whole cells are dropped here,
    # not by a WHERE on the cell expressions (the planner cannot estimate those and picks a per-row loop).
    return [row for row in rows if cells.x0 <= row["cx"] <= cells.x1 and cells.y0 <= row["cy"] <= cells.y1]


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
    """Leads per tier per snapshot date since `since`, oldest first: one query on the per-day counts that
    scoring keeps (leads.tier_days), never a scan of the score history."""
    trend: dict[datetime.date, dict[str, int]] = {}
    rows = LeadTierDay.objects.filter(snapshot_date__gte=since).values_list("snapshot_date", "tier", "leads")
    for day, tier, n in rows.order_by("snapshot_date", "tier"):
        trend.setdefault(day, dict.fromkeys(TIERS, 0))[tier] = n
    return trend


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
        .exclude(status__in=CLOSED_STATUSES)
        .select_related("property", "assigned_to")
        .order_by(F("total").desc(), "id")[:limit]
    )


# --- The lead admin page: score-history sparkline, top matches -------------------------------

SPARKLINE_SNAPSHOTS = 90
SPARKLINE_WIDTH, SPARKLINE_HEIGHT, SPARKLINE_PAD = 300, 60, 4
TIER_COLORS = {"A": "#d7301f", "B": "#f28e2b", "C": "#e6c229", "D": "#9a9a9a"}


@dataclass(frozen=True)
class ScorePoint:
    date: datetime.date
    total: int
    tier: str


@dataclass(frozen=True)
class SparkDot:
    x: float
    y: float
    date: datetime.date
    total: int
    tier: str
    color: str


@dataclass(frozen=True)
class Sparkline:
    width: int
    height: int
    polyline: str  # "x,y x,y ..." of the totals, oldest first
    dots: list[SparkDot]
    first: ScorePoint | None
    last: ScorePoint | None
    low: int | None
    high: int | None

    @property
    def count(self) -> int:
        return len(self.dots)


def lead_score_history(*, lead_id: int, limit: int = SPARKLINE_SNAPSHOTS) -> list[ScorePoint]:
    """The lead's last `limit` daily snapshots, oldest first (one query on the (lead, date) unique index)."""
    rows = (
        LeadScoreHistory.objects.filter(lead_id=lead_id)
        .order_by("-snapshot_date")
        .values_list("snapshot_date", "total", "tier")[:limit]
    )
    return [ScorePoint(date=d, total=t, tier=tier) for d, t, tier in reversed(rows)]


def sparkline_layout(
    *, history: list[ScorePoint], width: int = SPARKLINE_WIDTH, height: int = SPARKLINE_HEIGHT, pad: int = SPARKLINE_PAD
) -> Sparkline:
    """SVG coordinates for a score history: x by date (gaps show), y on the fixed 0-100 score scale."""
    if not history:
        return Sparkline(width, height, "", [], None, None, None, None)
    inner_w, inner_h = width - 2 * pad, height - 2 * pad
    span = (history[-1].date - history[0].date).days

    def x(point: ScorePoint) -> float:
        return round(pad + (inner_w / 2 if span == 0 else (point.date - history[0].date).days * inner_w / span), 1)

    def y(point: ScorePoint) -> float:
        return round(pad + (100 - point.total) * inner_h / 100, 1)

    dots = [SparkDot(x(p), y(p), p.date, p.total, p.tier, TIER_COLORS.get(p.tier, TIER_COLORS["D"])) for p in history]
    totals = [p.total for p in history]
    return Sparkline(
        width=width,
        height=height,
        polyline=" ".join(f"{d.x:g},{d.y:g}" for d in dots),
        dots=dots,
        first=history[0],
        last=history[-1],
        low=min(totals),
        high=max(totals),
    )


def lead_top_matches(*, lead: Lead, limit: int = 10) -> tuple[list, bool]:
    """The lead's best `limit` buyer matches with their buyers (one query); True when there are more.

    Read through the property's reverse relation: leads does not import the buyers app.
    """
    rows = list(lead.property.matches.select_related("buyer").order_by("-score", "id")[: limit + 1])
    return rows[:limit], len(rows) > limit
