"""The set-based matching SQL (PostgreSQL): every active buyer's best candidates in a few statements.

The hard filters are buyer_candidates' (selectors.py), the score is matching.score_match's arithmetic in SQL;
services.matches_refresh_all runs the statements and scores the kept rows again in Python.
"""

from properties.models import Listing, PropertyType

from .matching import EARTH_RADIUS_MILES, RULES_VERSION, MatchWeights
from .selectors import CANDIDATE_FIELDS, CLOSED_LEAD_STATUSES

# --- Set-based candidates on PostgreSQL -------------------------------------------------------------------------
# One statement finds every active buyer's candidates (the same hard filters as buyer_candidates), scores them with
# match_score_sql (the SQL twin of matching.score_match's arithmetic, built from the same weights; a test checks
# that both agree on a matrix of cases) and keeps each buyer's best `max_matches_per_buyer` by matching.rank_key.
# Python then scores the kept rows again with score_match, which alone decides the stored score and reasons.


def match_score_sql(weights: MatchWeights, *, box: str = "", candidate: str = "") -> tuple[str, list]:
    """SQL for score_match's score of a row that passed the box's hard filters.

    The box's min_price, max_price, cash_buyer and proof_of_funds are read from the `box` table alias (e.g. "b."),
    the candidate's price from the `candidate` one; no alias by default.
    """
    low, high, price = f"{box}min_price", f"{box}max_price", f"{candidate}price"
    sql = (
        "LEAST(100, %s + %s"
        f" + CASE WHEN {box}cash_buyer THEN %s ELSE 0 END"
        f" + CASE WHEN {box}proof_of_funds THEN %s ELSE 0 END"
        f" + CASE WHEN {low} IS NULL AND {high} IS NULL THEN %s"
        f" WHEN {price} IS NULL THEN 0"
        f" WHEN ({low} IS NULL OR {price} >= {low}) AND ({high} IS NULL OR {price} <= {high})"
        " THEN %s ELSE %s END)"
    )
    params = [
        weights.location,
        weights.type,
        weights.cash,
        weights.proof_of_funds,
        weights.price,
        weights.price,
        weights.price // 2,
    ]
    return sql, params


def _haversine_sql(lon: str, lat: str, center_lon: str, center_lat: str) -> str:
    """matching.haversine_miles in SQL, from (center_lon, center_lat) to (lon, lat), all float8."""
    return (
        f"(2 * {EARTH_RADIUS_MILES} * ASIN(SQRT("
        f"POWER(SIN(RADIANS({lat} - {center_lat}) / 2), 2)"
        f" + COS(RADIANS({center_lat})) * COS(RADIANS({lat})) * POWER(SIN(RADIANS({lon} - {center_lon}) / 2), 2))))"
    )


CANDIDATE_ROW_FIELDS = ("buyer_id", *CANDIDATE_FIELDS, "fingerprint", "unchanged")


def _text(*columns: str) -> str:
    """The columns as one text, NULLs marked, for a fingerprint."""
    return " || '|' || ".join(f"COALESCE(({c})::text, '~')" for c in columns)


OPEN_LEAD_TABLE = "buyers_match_open_lead"
TOP_TABLE = "buyers_match_top"
KEPT_TABLE = "buyers_match_kept"
TYPE_CODES = [t.value for t in PropertyType]  # a lead's type code is its position + 1; 0 for a type not listed here
CELL_DEGREES = 0.005  # the grid the open leads are filed under for matching: about 500 m
# A lead's cell key: (column * CELL_ROW + row) * CELL_TYPES + type code; rows run -18,000..18,000.
CELL_ROW, CELL_TYPES = 100_000, 16


def _cell_sql(lon: str, lat: str, code: str) -> str:
    return (
        f"((FLOOR({lon} / {CELL_DEGREES})::bigint * {CELL_ROW} + FLOOR({lat} / {CELL_DEGREES})::bigint)"
        f" * {CELL_TYPES} + {code})"
    )


def _cells_sql(box: str) -> str:
    """The cell keys (_cell_sql) under a box2d/geometry's bounding box, at the buyer's type codes, as an array."""
    return (
        f"ARRAY(SELECT (x * {CELL_ROW} + y) * {CELL_TYPES} + code"  # noqa: S608 (numbers and our own SQL)
        f" FROM generate_series(FLOOR(ST_XMin({box}) / {CELL_DEGREES})::bigint,"
        f" FLOOR(ST_XMax({box}) / {CELL_DEGREES})::bigint) x,"
        f" generate_series(FLOOR(ST_YMin({box}) / {CELL_DEGREES})::bigint,"
        f" FLOOR(ST_YMax({box}) / {CELL_DEGREES})::bigint) y, unnest(b.codes) code)"
    )


# What a match's fingerprint reads of its lead, before the pair's in_area and the lead's point (lon, lat): each open
# lead's text of them is made once, with the open-lead table, not once per (buyer, lead) pair.
FINGERPRINT_LEAD = ("c.zip", "c.property_type", "c.beds", "c.baths", "c.year_built", "c.mao", "c.list_price", "c.arv")
_OPEN_LEAD_SQL = f"""
{{create}}
    SELECT c.*, {_cell_sql("c.lon", "c.lat", "c.type_code")} AS cell,
        {_text(*FINGERPRINT_LEAD)} AS fingerprint_lead, {_text("c.lon", "c.lat")} AS fingerprint_point
    FROM (
        SELECT p.id, p.location, ST_X(p.location) AS lon, ST_Y(p.location) AS lat, p.zip, p.property_type,
            COALESCE(array_position(%s::text[], p.property_type::text), 0) AS type_code, p.beds, p.baths,
            p.year_built, l.mao, ap.list_price, l.arv, l.total,
            COALESCE(l.mao, ap.list_price, l.arv) AS price
        FROM leads_lead l
        JOIN properties_property p ON p.id = l.property_id
        LEFT JOIN (
            SELECT DISTINCT ON (property_id) property_id, list_price FROM properties_listing
            WHERE status = %s AND list_price IS NOT NULL ORDER BY property_id, listed_at DESC, id DESC
        ) ap ON ap.property_id = l.property_id
        WHERE p.is_active AND l.status <> ALL(%s)
    ) c
    ORDER BY cell, price
"""  # noqa: S608 (our own SQL; values are parameters)


# The open-lead table's columns that the buyer searches filter or join on (their statistics plan the searches).
OPEN_LEAD_ANALYZED = ("id", "cell", "zip", "type_code", "price", "beds", "baths", "year_built")


def open_lead_statements(*, table: str = OPEN_LEAD_TABLE, temporary: bool = True) -> list[tuple[str, list]]:
    """PostgreSQL: build the open-lead table `table` (step 1 of ranked_candidate_statements): its CREATE, then its
    two CREATE INDEX (independent of each other: two connections may build them at once), then its ANALYZE.

    Temporary (dropped at commit) for one connection; else an unlogged work table that other connections can read
    once it is committed (the caller drops it).
    """
    create = f"CREATE TEMPORARY TABLE {table} ON COMMIT DROP AS" if temporary else f"CREATE UNLOGGED TABLE {table} AS"
    return [
        (_OPEN_LEAD_SQL.format(create=create), [TYPE_CODES, Listing.Status.ACTIVE, list(CLOSED_LEAD_STATUSES)]),
        (f"CREATE INDEX ON {table} (cell, price)", []),
        (f"CREATE INDEX ON {table} (zip, type_code, price)", []),
        # Statistics of the columns the searches filter and join on alone: those of the point and the fingerprint
        # texts (a geometry's statistics most of all) took most of the ANALYZE (0.24 s -> 0.04 s at 30,000 leads).
        (f"ANALYZE {table} ({', '.join(OPEN_LEAD_ANALYZED)})", []),
    ]


# The kept rows whose stored match has the same fingerprint, staged as they are (services._stage_rows' rows without
# a score) without leaving the database: on a night when little changed they are nearly all of them.
UNCHANGED_STAGED_SQL = f"""
    INSERT INTO buyers_match_stage (buyer_id, property_id, fingerprint, stored)
    SELECT buyer_id, id, fingerprint, TRUE FROM {KEPT_TABLE} WHERE unchanged
"""  # noqa: S608 (our own SQL)
# How many candidates each buyer with any had, before the cap (every top row of a buyer carries it).
CANDIDATE_COUNTS_SQL = f"SELECT buyer_id, MAX(candidates) FROM {TOP_TABLE} GROUP BY buyer_id"  # noqa: S608
CHANGED_ROWS_SQL = f"""
    SELECT buyer_id, id, zip, property_type, beds, baths, year_built, mao, list_price, arv, in_area, lon, lat, total,
        fingerprint, unchanged
    FROM {KEPT_TABLE} WHERE unchanged IS NOT TRUE
    ORDER BY buyer_id, score DESC, total DESC, id
"""  # noqa: S608 (our own SQL)


def ranked_candidate_statements(*, weights: MatchWeights, buyer_ids: list[int] | None) -> list[tuple[str, list]]:
    """PostgreSQL, one connection: every statement in order, in one transaction (open_lead_statements on a temporary
    table, then buyer_top_statements); the last one returns each active buyer's best candidates but those whose
    stored match is unchanged (all of them when none is stored; UNCHANGED_STAGED_SQL stages the others)."""
    return [
        (f"DROP TABLE IF EXISTS {OPEN_LEAD_TABLE}, {TOP_TABLE}, {KEPT_TABLE}", []),
        *open_lead_statements(),
        *buyer_top_statements(weights=weights, buyer_ids=buyer_ids),
    ]


def buyer_top_statements(
    *, weights: MatchWeights, buyer_ids: list[int] | None, open_lead: str = OPEN_LEAD_TABLE
) -> list[tuple[str, list]]:
    """PostgreSQL: statements to run in order, in one transaction, over the open-lead table `open_lead`
    (open_lead_statements); the last one returns the best candidates of each active buyer (of `buyer_ids`) that
    need scoring, ordered by buyer, as CANDIDATE_ROW_FIELDS. A buyer's rows depend on nothing but its box and the
    open leads (ties broken by property id), so buyers may be split across connections and give the same rows.

    A county's buyers cover their areas many times over (1.8 million (buyer, lead) candidates at 100,000 parcels,
    5 million pairs in the zips alone before price and type), and most pairs fail the price or the type: the
    box's location, type and price are index conditions, so that only candidates are read, in index order.
    1. The open leads, each with what matching reads of its property, its price (MAO, active list price, ARV),
       its type code, its cell key (grid cell of CELL_DEGREES and type), its point as floats and the text its
       match fingerprints read (made once per lead, not per pair), staged in a temporary or work table in
       (cell key, price) order, with btree indexes on (cell key, price) and (zip, type code, price); analyzed.
    2. Per active buyer (a LATERAL join), the open leads that fit the box: under the cells of the target area's
       or the circle's bounding box, or in the zips, at a wanted type, with a price within the widened band or
       unknown (each an index range); then the exact area, circle and buyer_candidates filters (unknown values
       pass), each pair once. The circle's bounding box is _circle_bbox's and the distance
       matching.haversine_miles, so SQL and Python agree on the edge. They are scored and only the buyer's best
       `max_matches_per_buyer` are kept (a bounded top-N sort of narrow rows: the pairs are neither stored nor
       sorted), with `candidates`, how many the buyer had before the cap; staged and analyzed, so that the last
       join is planned on real counts.
    3. The kept rows with their columns, `fingerprint` (an md5 of everything score_match reads: the rules
       version, the weights, the buy box, the candidate) and `unchanged` (the stored match has the same
       fingerprint, so its score and reasons need no new computation), in a temporary table (KEPT_TABLE).
    4. The kept rows that are not unchanged, as CANDIDATE_ROW_FIELDS, ordered by buyer: the rows Python scores.
       The unchanged ones never leave the database (UNCHANGED_STAGED_SQL stages them), and each buyer's count of
       candidates is CANDIDATE_COUNTS_SQL's.
    The top and kept tables are temporary, dropped at commit.
    """
    score_sql, score_params = match_score_sql(weights, box="b.", candidate="c.")
    tolerance = weights.price_tolerance
    dlat = f"(DEGREES(b.radius_miles::float8 / {EARTH_RADIUS_MILES}) * 1.01)"
    dlon = f"({dlat} / GREATEST(COS(RADIANS(ABS(ST_Y(b.center)) + {dlat})), 0.01))"
    buyers_where = "b.is_active" + (" AND b.id = ANY(%s)" if buyer_ids is not None else "")
    buyers_params = [list(buyer_ids)] if buyer_ids is not None else []
    cap = weights.max_matches_per_buyer
    haversine = _haversine_sql("c.lon", "c.lat", "b.center_lon", "b.center_lat")
    in_area = "(b.target_area IS NOT NULL AND ST_Intersects(b.target_area, c.location))"
    in_zips = "(b.zips IS NOT NULL AND c.zip = ANY(b.zips))"
    # (in_area, the index condition, the exact condition): each pair once, so a zip hit outside the area, a
    # radius hit outside the area and the zips.
    locations = (
        (
            "TRUE",
            "b.target_area IS NOT NULL AND c.cell = ANY(b.area_cells)",
            "ST_Intersects(b.target_area, c.location)",
        ),
        (
            "FALSE",
            "b.zips IS NOT NULL AND c.zip = ANY(b.zips) AND c.type_code = ANY(b.codes)",
            f"NOT COALESCE({in_area}, FALSE)",
        ),
        (
            "FALSE",
            "b.circle_box IS NOT NULL AND c.cell = ANY(b.circle_cells)",
            f"{haversine} <= b.radius_miles AND NOT COALESCE({in_area}, FALSE) AND NOT COALESCE({in_zips}, FALSE)",
        ),
    )
    # A price within the band, or unknown (looked for only if some lead has no price: one check per run).
    prices = (
        "c.price >= b.low AND c.price <= b.high",
        f"c.price IS NULL AND EXISTS (SELECT FROM {open_lead} WHERE price IS NULL)",
    )
    # The type is in the index conditions; the rest of buyer_candidates' filters.
    fits = """(b.min_beds IS NULL OR c.beds IS NULL OR c.beds >= b.min_beds)
                    AND (b.min_baths IS NULL OR c.baths IS NULL OR c.baths >= b.min_baths)
                    AND (b.min_year_built IS NULL OR c.year_built IS NULL OR c.year_built >= b.min_year_built)
                    AND (b.max_year_built IS NULL OR c.year_built IS NULL OR c.year_built <= b.max_year_built)"""
    hits = "\n                UNION ALL\n".join(
        f"""                SELECT c.id, c.total, c.price, {in_area_value} AS in_area FROM {open_lead} c
                WHERE {where} AND {price}
                    AND {exact}
                    AND {fits}"""  # noqa: S608 (our own SQL)
        for in_area_value, where, exact in locations
        for price in prices
    )
    top = f"""
    CREATE TEMPORARY TABLE {TOP_TABLE} ON COMMIT DROP AS
    WITH b AS MATERIALIZED (
        SELECT b.*, {_cells_sql("b.target_area")} AS area_cells, {_cells_sql("b.circle_box")} AS circle_cells
        FROM (
            SELECT b.id, b.target_area, b.center, ST_X(b.center) AS center_lon, ST_Y(b.center) AS center_lat,
                b.radius_miles::float8 AS radius_miles, b.min_price, b.max_price,
                COALESCE(b.min_price * %s, '-Infinity') AS low, COALESCE(b.max_price * %s, 'Infinity') AS high,
                b.min_beds, b.min_baths, b.min_year_built, b.max_year_built, b.cash_buyer, b.proof_of_funds,
                NULLIF(ARRAY(SELECT jsonb_array_elements_text(b.target_zips)), '{{}}') AS zips,
                CASE WHEN jsonb_array_length(b.property_types) = 0 THEN ARRAY(SELECT generate_series(0, %s))
                ELSE ARRAY(SELECT array_position(%s::text[], t) FROM jsonb_array_elements_text(b.property_types) t)
                END AS codes,
                MD5(%s || {
        _text(
            "b.min_price",
            "b.max_price",
            "b.property_types",
            "b.min_beds",
            "b.min_baths",
            "b.min_year_built",
            "b.max_year_built",
            "b.target_zips",
            "b.target_area IS NOT NULL",
            "ST_AsText(b.center)",
            "b.radius_miles",
            "b.cash_buyer",
            "b.proof_of_funds",
        )
    }) AS box_hash,
                CASE WHEN b.center IS NOT NULL AND b.radius_miles > 0 THEN ST_MakeEnvelope(
                    ST_X(b.center) - {dlon}, ST_Y(b.center) - {dlat}, ST_X(b.center) + {dlon},
                    ST_Y(b.center) + {dlat}, 4326
                ) END AS circle_box
            FROM buyers_buyer b WHERE {buyers_where}
        ) b
    )
    SELECT b.id AS buyer_id, b.box_hash, top.*
    FROM b CROSS JOIN LATERAL (
        SELECT c.*, {score_sql} AS score, COUNT(*) OVER () AS candidates
        FROM (
{hits}
        ) c
        ORDER BY score DESC, c.total DESC, c.id
        {"LIMIT %s" if cap is not None else ""}
    ) top
    """  # noqa: S608 (only numbers and our own SQL are formatted in; values are parameters)
    kept = f"""
    CREATE TEMPORARY TABLE {KEPT_TABLE} ON COMMIT DROP AS
    SELECT k.buyer_id, k.id, k.zip, k.property_type, k.beds, k.baths, k.year_built, k.mao,
        k.list_price, k.arv, k.in_area, k.lon, k.lat, k.total, k.fingerprint, m.fingerprint = k.fingerprint
        AS unchanged, k.score
    FROM (
        SELECT top.buyer_id, top.score, top.in_area, c.*,
            MD5(top.box_hash || c.fingerprint_lead || '|' || {_text("top.in_area")} || '|' || c.fingerprint_point)
            AS fingerprint
        FROM {TOP_TABLE} top JOIN {open_lead} c ON c.id = top.id
    ) k
    LEFT JOIN buyers_propertymatch m ON m.property_id = k.id AND m.buyer_id = k.buyer_id{
        " AND m.buyer_id = ANY(%s)" if buyer_ids is not None else ""
    }
    """  # noqa: S608 (our own SQL)
    return [
        (
            top,
            [
                1 - tolerance,
                1 + tolerance,
                len(TYPE_CODES),
                TYPE_CODES,
                f"{RULES_VERSION}|{weights!r}|",
                *buyers_params,
                *score_params,
                *([cap] if cap is not None else []),
            ],
        ),
        (f"ANALYZE {TOP_TABLE} (buyer_id, id)", []),  # the join keys of the kept rows' statement
        (kept, buyers_params),  # a share reads its own buyers' stored matches, not all of them
        (CHANGED_ROWS_SQL, []),
    ]
