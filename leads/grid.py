"""The map index: a narrow, location-ordered copy of every lead's point and a nested grid of counts.

The map endpoint reads it instead of joining a million leads to their properties on every pan:

- MapGridCell: leads per cell and tier for levels 0..FINE_LEVEL (cell = 90 / 2**level degrees,
  a quarter of a tile at zoom == level). A viewport needs at most GRID_MAX x GRID_MAX cells of one
  level, so a low-zoom request reads a few thousand rows whatever the number of leads.
- MapPoint: (lead, point, tier, score) stored in location order with a GiST index, so the best
  leads in a city viewport are found without touching the wide lead and property tables. It also
  carries the point as floats and copies of every lead value a map filter reads (INDEX_FILTERS:
  status, stack count, ARV, MAO, assignee, has matches, the property id), so a filtered county view
  counts cells over this narrow table (grid_points_cells) instead of joining the wide lead (1.3 KB a
  row) and property tables; distress and price filters ask the live signal and listing tables by the
  point's property id (no copy: the properties app never calls leads).

Tier, score and point move cells: `map_grid_refresh` rebuilds the index set-based in one transaction
(the pipeline's "map" step after scoring, and `manage.py score`); a partial rescore (admin action, API,
`score --parcel`) and merges move their leads with `map_grid_update`. The other copies are kept exact by
their writers: status and assignment changes (leads.services, the lead admin form) and comps call
`map_points_sync`; the matching refresh and deleting matches or buyers in admin call
`map_points_sync_matches`. A lead added since (a higher id than the index saw) makes the index stale
and the map reads the live tables until the next refresh.
Built on PostGIS only; SpatiaLite (the embedded, small default) always reads the live tables.

Measured on PostGIS with 1,000,000 leads over Florida (60% around ten city centres), 2 shared cores
under load, /map/leads.geojson through Django, 20 pans per zoom, 990x760 px viewports on Orlando:
before, every zoom read the live tables: p95 3.4 s (zoom 7), 2.1 s (9), 1.1 s (10), 1.0 s (12),
1.4 s (13, 821 KB), 0.66 s (15, 821 KB). With the index: p95 40 ms (7), 46 ms (9), 33 ms (10),
35 ms (12), 26 ms (13, dense: cells), 96 ms (14, 155 KB), 61 ms (15, 155 KB); a full refresh takes
17-30 s, map_grid_update of 100 leads 0.3 s. Other filters then read the live tables
(status=new, 100,000 leads in view: p95 1.2 s at zoom 10, 0.9 s at zoom 13); they now read the points
(100,000-parcel benchmark copy: status at county zoom 763 ms -> 55 ms in EXPLAIN ANALYZE). Such a view
costs in proportion to the leads in it: about 0.3-0.8 us per point on 2 cores, so a county of a statewide
million answers within the target, while a single view over a million points (synthetic, all in one
county, box under load) took 0.6-0.95 s: per-filter cell counts would be the next step there.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import Polygon
from django.db import connection, transaction
from django.db.models import Avg, Count, Exists, F, FloatField, Func, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Floor
from django.utils import timezone

from dealfinder.common.locks import advisory_lock_key
from leads.choices import TIERS

from .filtersets import distress_condition, price_condition
from .models import Lead, MapGridCell, MapGridState, MapPending, MapPoint

FINE_LEVEL = 12
GRID_MAX = 48  # cells per axis in one viewport, at most
LOCK_ID = 0x4D415047  # pg advisory lock: one refresh at a time


def cell_size(level: int) -> float:
    """Degrees per cell at a level: exact binary fractions of 90 (a quarter tile at zoom == level)."""
    return 90.0 / 2**level


def grid_level(*, zoom: int, bbox: tuple[float, float, float, float]) -> int:
    """The grid level for a viewport: the zoom's own level, coarser while the view would hold more than
    GRID_MAX cells per axis, never finer than FINE_LEVEL."""
    min_lon, min_lat, max_lon, max_lat = bbox
    need = max(max_lon - min_lon, max_lat - min_lat) / GRID_MAX
    level = min(zoom, FINE_LEVEL)
    if need > 0:
        level = min(level, math.floor(math.log2(90.0 / need)))
    return max(level, 0)


def fine_index(coord: float) -> int:
    return math.floor(coord / cell_size(FINE_LEVEL))


def cell_index(coord: float, level: int) -> int:
    """floor(floor(coord / fine cell) / 2**(FINE_LEVEL - level)): the same arithmetic as in SQL."""
    return math.floor(fine_index(coord) / 2 ** (FINE_LEVEL - level))


@dataclass(frozen=True)
class CellRange:
    level: int
    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def size(self) -> float:
        return cell_size(self.level)

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """The cells' outer edges (every point of these cells lies inside or on it)."""
        return (self.x0 * self.size, self.y0 * self.size, (self.x1 + 1) * self.size, (self.y1 + 1) * self.size)


def cell_range(*, level: int, bbox: tuple[float, float, float, float]) -> CellRange:
    """The cells of a level that a viewport touches; the map shows whole cells."""
    min_lon, min_lat, max_lon, max_lat = bbox
    x0, y0 = cell_index(min_lon, level), cell_index(min_lat, level)
    return CellRange(level, x0, y0, cell_index(max_lon, level), cell_index(max_lat, level))


class PointX(Func):
    function = "ST_X"
    output_field = FloatField()


class PointY(Func):
    function = "ST_Y"
    output_field = FloatField()


def cell_expressions(field: str, level: int) -> tuple[Floor, Floor]:
    """SQL expressions for a point's level-L cell, nested through the fine level like the grid table."""
    fine, factor = cell_size(FINE_LEVEL), float(2 ** (FINE_LEVEL - level))
    return (
        Floor(Floor(PointX(field) / fine) / factor),
        Floor(Floor(PointY(field) / fine) / factor),
    )


# --- What a point holds ----------------------------------------------------------------------

# The map filters the index answers: LeadFilterSet name -> the condition on a MapPoint row for its cleaned
# value. Lead values are read from the point's copies; property signals and listings from the live tables
# through the point's property id (exact without a copy: the properties app never calls leads).
INDEX_FILTERS: dict[str, Callable[[Any], Q]] = {
    "tier": lambda tiers: Q(tier__in=tiers),
    "status": lambda statuses: Q(status__in=statuses),
    "distress": lambda kinds: Q(*(distress_condition(kind, through_relation=False) for kind in kinds)),
    "min_stack": lambda n: Q(stack_count__gte=n),
    "min_score": lambda n: Q(total__gte=n),
    "max_score": lambda n: Q(total__lte=n),
    "min_price": lambda price: price_condition("gte", price),
    "max_price": lambda price: price_condition("lte", price),
    "min_arv": lambda amount: Q(arv__gte=amount),
    "max_arv": lambda amount: Q(arv__lte=amount),
    "min_mao": lambda amount: Q(mao__gte=amount),
    "max_mao": lambda amount: Q(mao__lte=amount),
    "assigned_to": lambda user: Q(assigned_to_id=user.pk),
    "has_matches": lambda flag: Q(has_matches=flag),
}
POINT_COLUMNS = (
    "lead_id, location, lon, lat, tier, total, property_id, status, stack_count, arv, mao, assigned_to_id, has_matches"
)
# The lead's copied values (not tier and score: those move cells, see map_grid_update).
COPIED = ("status", "stack_count", "arv", "mao", "assigned_to_id")


def _match_table() -> str:
    """The buyer matches' table, through the reverse relation's name: leads never import the buyers app."""
    return Lead.property.field.related_model._meta.get_field("matches").related_model._meta.db_table


def _has_matches_sql(property_id: str) -> str:
    return f"EXISTS (SELECT 1 FROM {_match_table()} m WHERE m.property_id = {property_id})"  # noqa: S608


def _points_select() -> str:
    """SELECT of POINT_COLUMNS from the live tables (`l` leads, `p` properties); the caller adds the WHERE."""
    lead, prop = Lead._meta.db_table, Lead.property.field.related_model._meta.db_table
    return (
        "SELECT l.id, p.location, ST_X(p.location), ST_Y(p.location), l.tier, l.total, l.property_id, "  # noqa: S608
        f"l.status, l.stack_count, l.arv, l.mao, l.assigned_to_id, {_has_matches_sql('l.property_id')} "
        f"FROM {lead} l JOIN {prop} p ON p.id = l.property_id "
    )


# --- Freshness -------------------------------------------------------------------------------


def map_grid_state() -> MapGridState | None:
    """The index's state with the current highest lead id (one query); None when never built."""
    return (
        MapGridState.objects.annotate(
            current_max_lead_id=Subquery(Lead.objects.order_by("-id").values("id")[:1]),
            pending=Exists(MapPending.objects.all()),
        )
        .filter(pk=1)
        .first()
    )


def map_grid_is_fresh() -> bool:
    """True when the index may serve the map: PostGIS, built, no lead added since, and no copy pending."""
    if not settings.IS_POSTGIS:
        return False
    state = map_grid_state()
    return state is not None and state.max_lead_id == state.current_max_lead_id and not state.pending


# --- Refresh ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GridRefresh:
    points: int
    cells: int
    seconds: float
    skipped: str = ""


BUILDING = -1  # MapGridState.max_lead_id while a refresh runs: never equal to a lead id, so the map reads live


def _location_index(cursor, table: str) -> str:
    """The name of the GiST index on the point table's location (Django names it)."""
    for name, info in connection.introspection.get_constraints(cursor, table).items():
        if info["index"] and info["columns"] == ["location"]:
            return name
    raise LookupError(f"no index on {table}.location")


def map_grid_refresh() -> GridRefresh:
    """Rebuild the map index from the lead and property tables (set-based SQL).

    Call after scoring (tiers and scores change there) and after geocoding or merges if the map
    should show them before the next scoring run. While it runs the map reads the live tables (the
    state says "building" first, in its own commit), so no map request waits on the rebuild's locks.
    A concurrent refresh is skipped, not queued.
    """
    if not settings.IS_POSTGIS:
        return GridRefresh(0, 0, 0.0, skipped="not PostGIS")
    started = time.monotonic()
    models = (MapPoint, MapGridCell, Lead)
    point, cell, lead = (m._meta.db_table for m in models)
    fine = cell_size(FINE_LEVEL)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_ID])
        if not cursor.fetchone()[0]:
            return GridRefresh(0, 0, 0.0, skipped="another refresh is running")
    try:
        MapGridState.objects.update_or_create(pk=1, defaults={"built_at": timezone.now(), "max_lead_id": BUILDING})
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT max(id) FROM " + lead)  # noqa: S608 (table names from models)
            max_lead_id = cursor.fetchone()[0]
            index = connection.ops.quote_name(_location_index(cursor, point))
            cursor.execute(f"TRUNCATE {point}, {cell}")
            cursor.execute(f"DROP INDEX {index}")  # built once after the load: ~5x faster than row by row
            # Points in location order (geohash), so a viewport's rows sit on few pages.
            cursor.execute(
                f"INSERT INTO {point} ({POINT_COLUMNS}) {_points_select()} "
                "WHERE p.location IS NOT NULL ORDER BY ST_GeoHash(p.location, 10)"
            )
            points = cursor.rowcount
            cursor.execute(f"CREATE INDEX {index} ON {point} USING gist (location)")
            cursor.execute(
                f"INSERT INTO {cell} (level, cx, cy, tier, n, sum_lon, sum_lat) "  # noqa: S608
                "SELECT %s, floor(ST_X(location) / %s), floor(ST_Y(location) / %s), tier, count(*), "
                f"sum(ST_X(location)), sum(ST_Y(location)) FROM {point} GROUP BY 2, 3, 4",
                [FINE_LEVEL, fine, fine],
            )
            cells = cursor.rowcount
            for level in range(FINE_LEVEL - 1, -1, -1):  # each level from the one below: halve the indexes
                cursor.execute(
                    f"INSERT INTO {cell} (level, cx, cy, tier, n, sum_lon, sum_lat) "  # noqa: S608
                    "SELECT %s, floor(cx / 2.0), floor(cy / 2.0), tier, sum(n), sum(sum_lon), sum(sum_lat) "
                    f"FROM {cell} WHERE level = %s GROUP BY 2, 3, 4",
                    [level, level + 1],
                )
                cells += cursor.rowcount
            cursor.execute(f"ANALYZE {point}, {cell}")
            _sync_copies(cursor, lead_ids=[])  # changes made while this ran (map_points_sync put them on hold)
            seconds = round(time.monotonic() - started, 3)
            MapGridState.objects.filter(pk=1).update(
                built_at=timezone.now(), max_lead_id=max_lead_id, points=points, cells=cells, seconds=seconds
            )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_ID])
    return GridRefresh(points, cells, seconds)


def _cells_sql(source: str) -> str:
    """Per level, cell and tier: count and coordinate sums of the points in `source` (a CTE name)."""
    # `source` is a CTE name from this module; values are parameters.
    return (
        "SELECT lv.level, floor(floor(ST_X(s.location) / %(fine)s) / 2 ^ (%(fine_level)s - lv.level)) AS cx, "  # noqa: S608
        "floor(floor(ST_Y(s.location) / %(fine)s) / 2 ^ (%(fine_level)s - lv.level)) AS cy, s.tier, "
        "count(*) AS n, sum(ST_X(s.location)) AS sx, sum(ST_Y(s.location)) AS sy "
        f"FROM {source} s CROSS JOIN generate_series(0, %(fine_level)s) AS lv(level) GROUP BY 1, 2, 3, 4"
    )


def map_grid_update(*, lead_ids: list[int]) -> int:
    """Move these leads' points and counts in the map index to their current tier, score and location
    (set-based: their old contributions out, the new ones in, at every level). Returns points written.

    For a rescore of a few leads, where a full refresh would be wasted. A lead it adds that the index
    had not seen keeps the index fresh only when no other newer lead is missing from it.
    """
    if not settings.IS_POSTGIS or not lead_ids:
        return 0
    models = (MapPoint, MapGridCell, Lead)
    point, cell, lead = (m._meta.db_table for m in models)
    params = {"ids": list(lead_ids), "fine": cell_size(FINE_LEVEL), "fine_level": FINE_LEVEL}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_ID])  # after a running refresh, not during
        state = MapGridState.objects.filter(pk=1).first()
        if state is None or state.max_lead_id == BUILDING:
            return 0
        cursor.execute(
            f"WITH old AS (DELETE FROM {point} WHERE lead_id = ANY(%(ids)s) RETURNING location, tier), "  # noqa: S608
            f"d AS ({_cells_sql('old')}) "
            f"UPDATE {cell} c SET n = c.n - d.n, sum_lon = c.sum_lon - d.sx, sum_lat = c.sum_lat - d.sy FROM d "
            "WHERE c.level = d.level AND c.cx = d.cx AND c.cy = d.cy AND c.tier = d.tier",
            params,
        )
        cursor.execute(f"DELETE FROM {cell} WHERE n <= 0")  # noqa: S608
        cursor.execute(
            f"WITH new AS (INSERT INTO {point} ({POINT_COLUMNS}) {_points_select()} "
            "WHERE l.id = ANY(%(ids)s) AND p.location IS NOT NULL RETURNING location, tier) "
            f"INSERT INTO {cell} (level, cx, cy, tier, n, sum_lon, sum_lat) {_cells_sql('new')} "
            "ON CONFLICT (level, cx, cy, tier) DO UPDATE SET n = "
            f"{cell}.n + excluded.n, sum_lon = {cell}.sum_lon + excluded.sum_lon, "
            f"sum_lat = {cell}.sum_lat + excluded.sum_lat",
            params,
        )
        cursor.execute(f"SELECT count(*) FROM {point} WHERE lead_id = ANY(%(ids)s)", params)  # noqa: S608
        written = cursor.fetchone()[0]
        cursor.execute(
            f"SELECT max(id), bool_and(id = ANY(%(ids)s)) FROM {lead} WHERE id > %(seen)s",  # noqa: S608
            {**params, "seen": state.max_lead_id or 0},
        )
        newest, all_given = cursor.fetchone()
        if newest is not None and all_given:
            MapGridState.objects.filter(pk=1).update(max_lead_id=newest)
    return written


def _sync_copies(cursor, *, lead_ids: list[int]) -> int:
    """One UPDATE: the copied lead values of these leads' points and of the pending ones (taken off the pending
    list in the same statement), where they differ."""
    point, lead, pending = MapPoint._meta.db_table, Lead._meta.db_table, MapPending._meta.db_table
    has = _has_matches_sql("l.property_id")
    copied = ", ".join(f"{name} = l.{name}" for name in COPIED)
    before = ", ".join(f"mp.{name}" for name in (*COPIED, "property_id", "has_matches"))
    after = ", ".join(f"l.{name}" for name in (*COPIED, "property_id")) + f", {has}"
    cursor.execute(
        # The ids as one set joined on the keys (an OR of the two lists would read every lead and point).
        f"WITH done AS (DELETE FROM {pending} RETURNING lead_id), "  # noqa: S608
        "ids AS (SELECT unnest(%s::bigint[]) AS id UNION SELECT lead_id FROM done) "
        f"UPDATE {point} mp SET {copied}, property_id = l.property_id, has_matches = {has} FROM ids, {lead} l "
        "WHERE l.id = ids.id AND mp.lead_id = ids.id "
        f"AND ({before}) IS DISTINCT FROM ({after})",
        [list(lead_ids)],
    )
    return cursor.rowcount


def map_points_sync(*, lead_ids: list[int]) -> int:
    """Copy these leads' status, assignment, stack count, deal numbers and match flag into their map points
    (one UPDATE; points already equal are not rewritten). Returns points changed.

    For the writers of those values (status and assignment changes, comps); tier, score and location move
    cells and go through map_grid_update. Run it in the writer's transaction, after the write. While a
    refresh runs it never waits for the refresh's locks: the leads go on the pending list (MapPending), the
    map reads live meanwhile, and the refresh copies them when it ends.
    """
    if not settings.IS_POSTGIS or not lead_ids:
        return 0
    if MapGridState.objects.filter(pk=1, max_lead_id=BUILDING).exists():
        MapPending.objects.bulk_create([MapPending(lead_id=pk) for pk in lead_ids], ignore_conflicts=True)
        return 0
    with connection.cursor() as cursor:
        return _sync_copies(cursor, lead_ids=lead_ids)


# Up to this many properties, map_points_sync_matches finds their points by index lookups; more, by one pass over
# the points (a matching share's 12,000 properties at 30,000 points: lookups 0.15 s, the pass a few ms).
SYNC_LOOKUPS = 1000
# The advisory lock key writers of the "has matches" copies take turns on (map_points_sync_matches).
MATCH_FLAG_LOCK = advisory_lock_key("dealfinder.map.has_matches")


def map_points_sync_matches(*, property_ids: list[int] | None = None, matched: bool = False) -> int:
    """Set each map point's match flag to whether its property has a buyer match now (all points, or those of
    `property_ids`); only points whose flag changes are written. For the writers of buyer matches (the
    matching refresh, deleting buyers or matches). Returns points changed. `matched`: each of `property_ids` has a
    match the caller wrote in its transaction (the flag is true at its commit, not looked up).

    Writers on several connections at once (the matching's shares, each committed on its own) take turns here,
    until their commit (a transaction-level advisory lock): each one's UPDATE then reads the matches every earlier
    writer committed, so the last writer of a property sets its flag from all of them. Without the turn, two
    writers of one property's matches could each see only their own change and the later one set a stale flag.
    """
    if not settings.IS_POSTGIS or property_ids == []:
        return 0
    point, lead = MapPoint._meta.db_table, Lead._meta.db_table
    only, params = "", []
    if property_ids is not None:
        params = [sorted(set(property_ids))]
        if len(params[0]) <= SYNC_LOOKUPS:  # a few: their points through their leads' unique property index
            only = f" FROM {lead} l WHERE l.property_id = ANY(%s) AND mp.lead_id = l.id AND"
        else:  # many (a matching share's thousands): one pass over the points' property copies, the list hashed
            only = " FROM unnest(%s::bigint[]) given (property_id) WHERE mp.property_id = given.property_id AND"
    now = "TRUE" if matched else _has_matches_sql("mp.property_id")
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [MATCH_FLAG_LOCK])  # then a snapshot that sees them
        cursor.execute(
            f"UPDATE {point} mp SET has_matches = NOT mp.has_matches{only or ' WHERE'}"  # noqa: S608
            f" mp.has_matches <> {now}",
            params,
        )
        return cursor.rowcount


# --- Reads -----------------------------------------------------------------------------------


def grid_cells(*, cells: CellRange, tiers: list[str] | None) -> list[dict]:
    """Viewport cells from the index: count, centroid and count per tier (one query)."""
    rows = MapGridCell.objects.filter(
        level=cells.level, cx__gte=cells.x0, cx__lte=cells.x1, cy__gte=cells.y0, cy__lte=cells.y1
    )
    if tiers:
        rows = rows.filter(tier__in=tiers)
    rows = (
        rows.order_by()
        .values("cx", "cy")
        .annotate(
            total=Sum("n"),
            sx=Sum("sum_lon"),
            sy=Sum("sum_lat"),
            **{f"tier_{t}": Sum("n", filter=Q(tier=t), default=0) for t in TIERS},
        )
    )
    return [
        {"n": row["total"], "lon": row["sx"] / row["total"], "lat": row["sy"] / row["total"]}
        | {f"tier_{t}": row[f"tier_{t}"] for t in TIERS}
        for row in rows
    ]


def grid_filter(rows: QuerySet, filters: dict) -> QuerySet:
    """MapPoint rows that pass the map filters in `filters` (cleaned LeadFilterSet values; names in INDEX_FILTERS,
    empty values ignored)."""
    for name, value in filters.items():
        if value in (None, "", [], ()):
            continue
        rows = rows.filter(INDEX_FILTERS[name](value))
    return rows


def grid_points(*, bbox, filters: dict) -> QuerySet:
    """The map index rows in a viewport that pass the filters, best first."""
    rows = MapPoint.objects.filter(location__bboverlaps=bbox)  # for points, && with a box is "inside"
    return grid_filter(rows, filters).order_by("-total", "lead_id")


def grid_points_cells(*, cells: CellRange, filters: dict) -> list[dict]:
    """Viewport cells counted from the index's points that pass the filters (one query over the narrow table,
    with its float coordinates): what grid_cells answers for filters its counts do not split by."""
    box = Polygon.from_bbox(cells.bbox)
    box.srid = 4326
    # PostgreSQL keeps statistics on these cell expressions (migration 0012): it hashes the few cells, not sorts
    # every point. Change both together.
    fine, factor = cell_size(FINE_LEVEL), float(2 ** (FINE_LEVEL - cells.level))
    rows = (
        grid_filter(MapPoint.objects.filter(location__bboverlaps=box), filters)
        .order_by()
        .annotate(cx=Floor(Floor(F("lon") / fine) / factor), cy=Floor(Floor(F("lat") / fine) / factor))
        .values("cx", "cy")
        .annotate(
            n=Count("lead_id"),
            lon=Avg("lon"),
            lat=Avg("lat"),
            **{f"tier_{t}": Count("lead_id", filter=Q(tier=t)) for t in TIERS},
        )
    )
    # The box's closed far edges hold the first points of the next cells: those whole cells are dropped here.
    return [row for row in rows if cells.x0 <= row["cx"] <= cells.x1 and cells.y0 <= row["cy"] <= cells.y1]
