"""Every subject's comps and ARV in one set-based pass on PostgreSQL + PostGIS: leads/comps.py's rules in SQL.

The same rules, in the same order, with the same arithmetic (doubles, PostgreSQL's percentile_cont, the
haversine of dealfinder.common.geo, whole dollars half up from 15 significant digits), so that for every subject
`comps_arv_all` gives what `comps.comps_and_arv` gives with the same sales and `comps.county_trend` over them
(tests/leads/test_comps_sql.py holds them equal on generated counties). The steps are the module docstring's
"Set-based" list in leads/comps.py.

Inputs are two SELECTs (our own SQL, with their parameters), read once into temporary tables:
- subjects: `id` (bigint), `lon`, `lat` (float8, WGS84), `property_type` (text), `living_sqft`, `beds` (int),
  `parcel_id` (text);
- sales: `id` (bigint), `parcel_id`, `lon`, `lat`, `sale_date` (date), `price` (numeric), `living_sqft`, `beds`,
  `property_type`, `is_arms_length`, `is_distressed` (bool), `recorded_on` (date, NULL: the sale date): the
  county's recorded sales (all of them: the market sales among them make the trend).
The sales are found by one GiST index over a plain 2D point per sale: (longitude + 360 x its type's rank,
latitude), so that each property type has its own band of the index and a subject's search box (its point
+- 1.01 mile, widened in longitude for the latitude) reads only sales of its type near it; the rules then
decide, the haversine last. (A 2D index: a 4D one over area and date too read more pages, not fewer.)
The result is the temporary table RESULT_TABLE (dropped at commit: run inside a transaction), one row per
subject: `subject_id`, `arv`, `low`, `high` (numeric, whole dollars; NULL without comps), `confidence`,
`comps` (count), `tier` (index into params.tiers; NULL without comps), `dispersion`, `sale_ids` (ranked).
With a memo key (the nightly step's county) only the subjects whose comps can have changed since the memo's run
are searched, and RESULT_TABLE holds them and those whose kept comps a moved trend adjusts again
(leads/comps_memo.py); tests/leads/test_comps_memo.py holds that equal to a full run.

The work tables before it are UNLOGGED, not temporary: PostgreSQL reads a temporary table in the session's own
process only, so no query over one runs in parallel, and the pair search over unlogged ones does (its subjects
split among parallel workers: 68.5 -> 41.8 s for the first ring at 1,000,000 leads). They are created inside the
caller's transaction and dropped before `comps_arv_all` returns, so no other session sees them and a failed run
leaves none behind (a second run at the same time waits for the first one's transaction on their names).

How to integrate: in the nightly chain, inside `transaction.atomic()`: `comps_arv_all(cursor=...,
subjects_sql="SELECT l.id, ST_X(p.location), ... FROM leads_lead l JOIN properties_property p ...",
sales_sql="SELECT s.id, ... FROM properties_sale s JOIN properties_property p ...", as_of=today)`, then one
`UPDATE leads_lead l SET arv = r.arv, ... FROM comps_arv r WHERE r.subject_id = l.id AND (l.arv, ...) IS
DISTINCT FROM (r.arv, ...)` and a bulk insert of the kept comps if they are stored.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from dealfinder.common.geo import EARTH_RADIUS_MILES, haversine_miles_sql

from . import comps_memo
from .comps import UNKNOWN_TYPES, CompParams, month_number, months_before

RESULT_TABLE = "comps_arv"
# Work tables, dropped before comps_arv_all returns (see the module docstring).
_WORK = ("comps_subject", "comps_sale", "comps_type", "comps_trend", "comps_pair", "comps_ring", "comps_open",
         "comps_kept", *comps_memo.WORK)  # fmt: skip
_MONTH = "(EXTRACT(YEAR FROM {0}) * 12 + EXTRACT(MONTH FROM {0}) - 1)::int"
# A comp's size adjustment, subject `s` against sale `c` (one parameter: the rate).
SIZE_FACTOR = """CASE WHEN s.living_sqft > 0 AND c.living_sqft > 0
                    THEN 1 + %s::float8 * (s.living_sqft::float8 / c.living_sqft - 1) ELSE 1.0::float8 END"""


@dataclass(frozen=True)
class ArvRow:
    subject_id: int
    arv: Decimal | None
    low: Decimal | None
    high: Decimal | None
    confidence: str
    comps: int
    tier: int | None
    dispersion: float | None
    sale_ids: tuple[int, ...]


def _staging(
    *, subjects_sql: str, subjects_params: Sequence, sales_sql: str, sales_params: Sequence, as_of, params
) -> list[tuple[str, list]]:
    last = month_number(as_of)
    first = last - params.widest[1]
    reach = first - params.trend_max_half_window
    reach_start = datetime.date(reach // 12, reach % 12 + 1, 1)
    return [
        *((f"DROP TABLE IF EXISTS {table}", []) for table in (*_WORK, RESULT_TABLE)),
        (
            f"""CREATE UNLOGGED TABLE comps_subject AS
            SELECT s.id::bigint AS id, s.lon::float8 AS lon, s.lat::float8 AS lat, s.property_type::text
                AS property_type, s.living_sqft::int AS living_sqft, s.beds::int AS beds, s.parcel_id::text
                AS parcel_id, md5(ROW(s.lon::float8, s.lat::float8, s.property_type::text, s.living_sqft::int,
                s.beds::int, s.parcel_id::text)::text) AS inputs
            FROM ({subjects_sql}) s""",  # noqa: S608 (the caller's own SQL)
            list(subjects_params),
        ),
        (
            f"""CREATE UNLOGGED TABLE comps_sale AS
            SELECT s.id::bigint AS id, s.parcel_id::text AS parcel_id, s.lon::float8 AS lon, s.lat::float8 AS lat,
                s.sale_date, s.price::float8 AS price, s.living_sqft::int AS living_sqft, s.beds::int AS beds,
                s.property_type::text AS property_type, {_MONTH.format("s.sale_date")} AS month,
                COALESCE(s.recorded_on, s.sale_date) AS recorded_on, NULL::geometry AS key,
                md5(ROW(s.parcel_id::text, s.lon::float8, s.lat::float8, s.sale_date,
                s.price::float8, s.living_sqft::int, s.beds::int, s.property_type::text)::text) AS inputs
            FROM ({sales_sql}) s
            WHERE s.is_arms_length AND (%s OR NOT s.is_distressed) AND s.price > 0
                AND s.sale_date <= %s AND s.sale_date >= %s""",  # noqa: S608 (the caller's own SQL)
            [*sales_params, params.include_distressed, as_of, reach_start],
        ),
        (
            """CREATE UNLOGGED TABLE comps_type AS
            SELECT property_type, 360 * row_number() OVER (ORDER BY property_type) AS band
            FROM (SELECT property_type FROM comps_sale UNION SELECT property_type FROM comps_subject) t
            WHERE property_type IS NOT NULL""",
            [],
        ),
        (
            """UPDATE comps_sale c SET key = ST_MakePoint(c.lon + t.band, c.lat)
            FROM comps_type t WHERE t.property_type = c.property_type""",
            [],
        ),
        ("CREATE INDEX ON comps_sale USING gist (key)", []),
        ("ANALYZE comps_sale", []),
        ("ANALYZE comps_subject", []),
        (
            """CREATE UNLOGGED TABLE comps_trend AS
            WITH windows AS (
                SELECT m.month, h.half, COUNT(*) AS n,
                    percentile_cont(0.5) WITHIN GROUP (ORDER BY s.price / s.living_sqft) AS value
                FROM generate_series(%s, %s) AS m(month)
                CROSS JOIN generate_series(%s, %s) AS h(half)
                JOIN comps_sale s ON s.living_sqft > 0 AND s.month BETWEEN m.month - h.half AND m.month + h.half
                    AND s.recorded_on < %s
                GROUP BY m.month, h.half
            ), own AS MATERIALIZED (
                SELECT DISTINCT ON (month) month, value FROM windows WHERE n >= %s ORDER BY month, half
            )
            SELECT m.month, nearest.value
            FROM generate_series(%s, %s) AS m(month)
            LEFT JOIN LATERAL (
                SELECT o.value FROM own o ORDER BY ABS(o.month - m.month), o.month LIMIT 1
            ) nearest ON TRUE""",
            [
                first,
                last,
                params.trend_half_window,
                params.trend_max_half_window,
                as_of.replace(day=1),  # the trend reads the deeds recorded before the as-of month (comps_trend.py)
                params.trend_min_sales,
                first,
                last,
            ],
        ),
    ]


def _result_statements(*, as_of, params, search: str, aggregate: str, clean: tuple[str, list] | None):
    """The pairs of the subjects in `search`, their kept comps (with `clean`'s, the kept comps of the others
    re-adjusted by today's trend) and RESULT_TABLE for the subjects in `aggregate`."""
    last = month_number(as_of)
    cuts = [months_before(as_of, months) for _, months in params.tiers]
    top = len(params.tiers) - 1
    tier_case = " ".join(f"WHEN d.miles <= %s AND c.sale_date >= %s THEN {i}" for i in range(top))
    tier_params = [v for (radius, _), cut in zip(params.tiers[:-1], cuts[:-1], strict=True) for v in (radius, cut)]
    chosen_case = " ".join(
        f"WHEN COUNT(*) FILTER (WHERE tier <= {i}) OVER (PARTITION BY subject_id) >= %s THEN {i}" for i in range(top)
    )
    low, high = params.band
    (high_n, high_spread), (medium_n, medium_spread) = params.high_confidence, params.medium_confidence
    clean_sql, clean_params = clean or ("", [])
    return [
        *_pair_statements(
            params=params, cuts=cuts, tier_case=tier_case, tier_params=tier_params, top=top, search=search
        ),
        (
            f"""CREATE UNLOGGED TABLE comps_kept AS
            WITH counted AS (
                SELECT p.*, CASE {chosen_case} ELSE {top} END AS chosen FROM comps_pair p
            ), ranked AS (
                SELECT c.*, row_number() OVER (PARTITION BY subject_id ORDER BY miles, sale_date DESC, sale_id)
                    AS rank
                FROM counted c WHERE tier <= chosen
            )
            SELECT r.subject_id, r.sale_id, r.rank, r.chosen,
                r.price * COALESCE(now.value / sold.value, 1.0::float8) * r.size_factor AS adjusted
            FROM ranked r
            LEFT JOIN comps_trend sold ON sold.month = r.month
            CROSS JOIN (SELECT value FROM comps_trend WHERE month = %s) now
            WHERE r.rank <= %s{clean_sql}""",  # noqa: S608 (numbers and our own SQL)
            [*([params.min_comps] * top), last, params.max_comps, *clean_params],
        ),
        (
            f"""CREATE TEMPORARY TABLE {RESULT_TABLE} ON COMMIT DROP AS
            WITH stats AS (
                SELECT subject_id, COUNT(*) AS n, MAX(chosen) AS tier,
                    percentile_cont(ARRAY[%s, 0.5, %s]::float8[]) WITHIN GROUP (ORDER BY adjusted) AS q,
                    array_agg(sale_id ORDER BY rank) AS sale_ids
                FROM comps_kept GROUP BY subject_id
            ), spread AS (
                SELECT k.subject_id, AVG(ABS(k.adjusted - s.q[2]) ORDER BY k.adjusted, k.sale_id) / s.q[2]
                    AS dispersion
                FROM comps_kept k JOIN stats s USING (subject_id) GROUP BY k.subject_id, s.q[2]
            )
            SELECT subj.id AS subject_id, ROUND(st.q[2]::numeric) AS arv, ROUND(st.q[1]::numeric) AS low,
                ROUND(st.q[3]::numeric) AS high,
                CASE WHEN st.n IS NULL THEN 'none'
                    WHEN COALESCE(subj.living_sqft, 0) = 0 THEN 'low'
                    WHEN st.n >= %s AND sp.dispersion <= %s THEN 'high'
                    WHEN st.n >= %s AND sp.dispersion <= %s THEN 'medium'
                    ELSE 'low' END AS confidence,
                COALESCE(st.n, 0) AS comps, st.tier, sp.dispersion, COALESCE(st.sale_ids, '{{}}') AS sale_ids
            FROM {aggregate} subj
            LEFT JOIN stats st ON st.subject_id = subj.id
            LEFT JOIN spread sp ON sp.subject_id = subj.id""",  # noqa: S608 (our own SQL)
            [low, high, high_n, high_spread, medium_n, medium_spread],
        ),
    ]


def _pair_statements(
    *, params, cuts, tier_case: str, tier_params: list, top: int, search: str
) -> list[tuple[str, list]]:
    """The pairs (comps.py "Set-based" step 3), searched ring by ring: every subject within the narrowest tier's
    radius, then within each wider tier's radius only the subjects the narrower rings left short of `min_comps` in
    the tiers they cover; their pairs found so far are dropped and searched again.

    A subject's tier is the first whose pairs reach `min_comps`, and only pairs of that tier or a narrower one are
    ranked. Each of those lies within that tier's radius, so a subject decided within a ring has every pair that
    decides its result, and comps_kept gives what one search within the widest radius gives. Where sales are dense
    most subjects are decided in the first ring, a quarter of the widest one's area with the default tiers (0.5
    against 1 mile). (A first ring of half that radius, deciding the subjects with `max_comps` pairs of the
    narrowest tier in it, decided too few on the synthetic 1,000,000-parcel county: 191 s against 146 s.)
    """
    radii = sorted({miles for miles, _ in params.tiers})
    haversine = haversine_miles_sql("s.lon", "s.lat", "c.lon", "c.lat")
    statements = []
    for n, radius in enumerate(radii):
        # A wider ring's pairs are built apart and appended: INSERT ... SELECT never runs in parallel.
        target, subjects = (
            ("CREATE UNLOGGED TABLE comps_pair AS", "")
            if n == 0
            else ("CREATE UNLOGGED TABLE comps_ring AS", " AND s.id IN (SELECT id FROM comps_open)")
        )
        statements.append(
            (
                f"""{target}
            SELECT s.id AS subject_id, c.id AS sale_id, c.sale_date, c.month, c.price, d.miles,
                CASE {tier_case} ELSE {top} END AS tier,
                {SIZE_FACTOR} AS size_factor
            FROM {search} s
            JOIN comps_type t ON t.property_type = s.property_type
            CROSS JOIN LATERAL (SELECT DEGREES(%s / {EARTH_RADIUS_MILES}) * 1.01 AS lat) dlat
            CROSS JOIN LATERAL (SELECT dlat.lat / GREATEST(COS(RADIANS(ABS(s.lat) + dlat.lat)), 0.01) AS lon) dlon
            JOIN comps_sale c ON c.key && ST_MakeEnvelope(s.lon + t.band - dlon.lon, s.lat - dlat.lat,
                    s.lon + t.band + dlon.lon, s.lat + dlat.lat)
                AND c.property_type = s.property_type
                AND c.sale_date >= %s
                AND NOT (COALESCE(s.parcel_id, '') <> '' AND c.parcel_id = s.parcel_id)
                AND (COALESCE(s.living_sqft, 0) = 0 OR c.living_sqft
                    BETWEEN s.living_sqft * (1 - %s::float8) AND s.living_sqft * (1 + %s::float8))
                AND (s.beds IS NULL OR c.beds IS NULL OR ABS(c.beds - s.beds) <= %s)
            CROSS JOIN LATERAL (SELECT {haversine} AS miles) d
            WHERE s.property_type <> ALL(%s) AND d.miles <= %s{subjects}""",  # noqa: S608 (numbers and our SQL)
                [
                    *tier_params,
                    params.size_adjustment_rate,
                    radius,
                    # The index's box (a little wider than the rules: the conditions decide): type band, distance,
                    # living area (a comp without one is -1: in reach only of a subject without one), sale date.
                    cuts[-1],
                    params.size_tolerance,
                    params.size_tolerance,
                    params.beds_tolerance,
                    list(UNKNOWN_TYPES),
                    radius,
                ],
            )
        )
        if n > 0:
            statements += [("INSERT INTO comps_pair SELECT * FROM comps_ring", []), ("DROP TABLE comps_ring", [])]
        if n + 1 < len(radii):  # who is still short: the tiers within this radius below the top one decide
            covered = [i for i, (miles, _) in enumerate(params.tiers[:top]) if miles <= radius]
            settled = " OR ".join(f"COUNT(*) FILTER (WHERE p.tier <= {i}) >= %s" for i in covered)
            statements += [
                ("DROP TABLE IF EXISTS comps_open", []),
                (
                    f"""CREATE UNLOGGED TABLE comps_open AS
            SELECT s.id FROM {search} s LEFT JOIN (
                SELECT p.subject_id FROM comps_pair p GROUP BY p.subject_id HAVING {settled}
            ) done ON done.subject_id = s.id
            WHERE done.subject_id IS NULL""",  # noqa: S608 (our own SQL)
                    [params.min_comps] * len(covered),
                ),
                ("DELETE FROM comps_pair WHERE subject_id IN (SELECT id FROM comps_open)", []),
            ]
    return statements


@dataclass(frozen=True)
class CompsPass:
    subjects: int  # the subjects given
    searched: int  # those whose comps were searched: every one in a full run
    results: int  # RESULT_TABLE's rows: the searched subjects and those adjusted to a moved trend (every one if full)
    full: bool


TREND_SQL = "SELECT jsonb_object_agg(month::text, COALESCE(value::text, '')) FROM comps_trend"


def _clean_kept(*, key: str, as_of: datetime.date, params: CompParams) -> tuple[str, list]:
    """The kept comps of the subjects to adjust again (comps_adjust), from the memo, adjusted by today's trend
    (the same arithmetic as the searched ones': the same doubles)."""
    return (
        f"""
            UNION ALL
            SELECT m.lead_id, k.sale_id::bigint, k.rank, m.tier,
                c.price * COALESCE(now.value / sold.value, 1.0::float8) * {SIZE_FACTOR}
            FROM {comps_memo.SUBJECTS} m
            CROSS JOIN LATERAL jsonb_array_elements_text(m.kept) WITH ORDINALITY AS k(sale_id, rank)
            JOIN comps_subject s ON s.id = m.lead_id
            JOIN comps_sale c ON c.id = k.sale_id::bigint
            LEFT JOIN comps_trend sold ON sold.month = c.month
            CROSS JOIN (SELECT value FROM comps_trend WHERE month = %s) now
            WHERE m.key = %s AND m.lead_id IN (SELECT id FROM comps_adjust)""",  # noqa: S608 (our own SQL)
        [params.size_adjustment_rate, month_number(as_of), key],
    )


def comps_arv_all(
    *,
    cursor,
    subjects_sql: str,
    sales_sql: str,
    as_of: datetime.date,
    params: CompParams | None = None,
    subjects_params: Sequence = (),
    sales_params: Sequence = (),
    memo: str | None = None,
    full: bool = False,
) -> CompsPass:
    """Build RESULT_TABLE (PostgreSQL + PostGIS, inside a transaction). With a `memo` key (the county), only the
    subjects whose comps can have changed since the memo's run are searched again (leads.comps_memo) and the
    memo is brought up to this run; `full` searches every subject."""
    params = params or CompParams()
    staging = _staging(
        subjects_sql=subjects_sql,
        subjects_params=subjects_params,
        sales_sql=sales_sql,
        sales_params=sales_params,
        as_of=as_of,
        params=params,
    )
    for sql, values in staging:
        cursor.execute(sql, values)
    previous = None if memo is None or full else comps_memo.previous_run(key=memo, as_of=as_of, params=params)
    cursor.execute(TREND_SQL)
    (trend,) = cursor.fetchone()
    trend = json.loads(trend) if isinstance(trend, str) else trend
    search = aggregate = "comps_subject"
    run, clean = [], None
    if previous is not None:
        for sql, values in comps_memo.new_sales_statements(key=memo, as_of=as_of, params=params):
            cursor.execute(sql, values)
        cursor.execute("SELECT COUNT(*) FROM comps_new")
        run = comps_memo.dirty_statements(
            key=memo,
            previous=previous,
            as_of=as_of,
            params=params,
            new_sales=cursor.fetchone()[0],
            haversine=haversine_miles_sql("s.lon", "s.lat", "c.lon", "c.lat"),
        )
        search = aggregate = "comps_search"
        moved = sorted(int(month) for month, value in trend.items() if previous.trend.get(month) != value)
        if moved:  # the trend moved: the others' comps of those months are adjusted again
            run += comps_memo.adjust_statements(key=memo, moved=moved, as_of=as_of)
            aggregate, clean = "comps_aggregate", _clean_kept(key=memo, as_of=as_of, params=params)
    run += _result_statements(as_of=as_of, params=params, search=search, aggregate=aggregate, clean=clean)
    if memo is not None:
        run += comps_memo.write_statements(
            key=memo, full=previous is None, as_of=as_of, params=params, result=RESULT_TABLE
        )
    for sql, values in run:
        cursor.execute(sql, values)
    cursor.execute(
        f"SELECT (SELECT COUNT(*) FROM comps_subject), (SELECT COUNT(*) FROM {search}),"  # noqa: S608 (constants)
        f" (SELECT COUNT(*) FROM {RESULT_TABLE})"
    )
    subjects, searched, results = cursor.fetchone()
    cursor.execute(f"DROP TABLE IF EXISTS {', '.join(_WORK)}")
    if memo is not None:
        comps_memo.save_run(key=memo, as_of=as_of, params=params, trend=trend, previous=previous)
    return CompsPass(subjects, searched, results, full=previous is None)


def arv_rows(*, cursor) -> Iterator[ArvRow]:
    """RESULT_TABLE's rows, by subject id."""
    cursor.execute(
        f"SELECT subject_id, arv, low, high, confidence, comps, tier, dispersion, sale_ids FROM {RESULT_TABLE}"  # noqa: S608 (a constant)
        " ORDER BY subject_id"
    )
    for subject_id, arv, low, high, confidence, comps, tier, dispersion, sale_ids in cursor.fetchall():
        yield ArvRow(subject_id, arv, low, high, confidence, comps, tier, dispersion, tuple(sale_ids))
