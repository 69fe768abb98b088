"""Reads for buyers and matches."""

import math
from collections import Counter

from django.contrib.gis.geos import Polygon
from django.contrib.gis.measure import D
from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from leads.models import Lead
from properties.models import Listing, Property

from .matching import EARTH_RADIUS_MILES, RULES_VERSION, BuyBox, MatchCandidate, MatchWeights, haversine_miles
from .models import Buyer, MatchingProfile, PropertyMatch

# Leads that are finished are not offered to buyers.
CLOSED_LEAD_STATUSES = (Lead.Status.CLOSED_WON, Lead.Status.DEAD)

CANDIDATE_FIELDS = (
    "id",
    "zip",
    "property_type",
    "beds",
    "baths",
    "year_built",
    "lead__mao",
    "list_price",
    "lead__arv",
    "in_area",
    "lon",
    "lat",
    "lead__total",
)


def matching_weights() -> MatchWeights:
    """The active MatchingProfile's weights, or the defaults when none is active."""
    profile = MatchingProfile.objects.filter(is_active=True).first()
    if profile is None:
        return MatchWeights()
    return MatchWeights(
        location=profile.location_weight,
        price=profile.price_weight,
        type=profile.type_weight,
        cash=profile.cash_weight,
        proof_of_funds=profile.proof_of_funds_weight,
        threshold=profile.threshold,
        price_tolerance=profile.price_tolerance_percent / 100,
        max_matches_per_buyer=profile.max_matches_per_buyer,
    )


def buyer_buy_box(*, buyer: Buyer) -> BuyBox:
    return BuyBox(
        min_price=buyer.min_price,
        max_price=buyer.max_price,
        property_types=tuple(buyer.property_types),
        min_beds=buyer.min_beds,
        min_baths=buyer.min_baths,
        min_year_built=buyer.min_year_built,
        max_year_built=buyer.max_year_built,
        zips=tuple(str(z) for z in buyer.target_zips),
        has_area=buyer.target_area is not None,
        center=buyer.center.coords if buyer.center else None,
        radius_miles=float(buyer.radius_miles) if buyer.radius_miles else None,
        cash_buyer=buyer.cash_buyer,
        proof_of_funds=buyer.proof_of_funds,
    )


def _circle_bbox(center, miles: float) -> Polygon:
    """A lon/lat box a little larger than the circle, so the spatial index narrows the rows first."""
    dlat = math.degrees(miles / EARTH_RADIUS_MILES) * 1.01
    dlon = dlat / max(math.cos(math.radians(abs(center.y) + dlat)), 0.01)
    return Polygon.from_bbox((center.x - dlon, center.y - dlat, center.x + dlon, center.y + dlat))


def _location_q(buyer: Buyer) -> Q | None:
    parts = []
    if buyer.target_area is not None:
        parts.append(Q(location__intersects=buyer.target_area))
    if buyer.target_zips:
        parts.append(Q(zip__in=[str(z) for z in buyer.target_zips]))
    if buyer.center is not None and buyer.radius_miles:
        box = _circle_bbox(buyer.center, float(buyer.radius_miles))
        box.srid = 4326
        parts.append(
            Q(location__intersects=box, location__distance_lte=(buyer.center, D(mi=float(buyer.radius_miles))))
        )
    if not parts:
        return None
    q = parts[0]
    for part in parts[1:]:
        q |= part
    return q


def _or_null(field: str, lookup: str, value) -> Q:
    return Q(**{f"{field}__{lookup}": value}) | Q(**{f"{field}__isnull": True})


def buyer_candidates(*, buyer: Buyer, weights: MatchWeights | None = None) -> QuerySet:
    """Active properties with an open lead that fit the buyer's box, in one indexed query.

    Location is an OR of the box's target area, zips and radius (a buyer with none gets
    nothing); price (MAO, else active list price, else ARV, widened by the price tolerance),
    types, beds, baths and years are filtered here too. Unknown values pass, as in matching.py.
    Annotated with `list_price`, `price`, `in_area`, `lon`, `lat`; `.values(*CANDIDATE_FIELDS)` feeds MatchCandidate.
    """
    location = _location_q(buyer)
    if location is None:
        return Property.objects.none()
    tolerance = (weights or MatchWeights()).price_tolerance
    active_price = (
        Listing.objects.filter(property=OuterRef("pk"), status=Listing.Status.ACTIVE, list_price__isnull=False)
        .order_by("-listed_at", "-id")
        .values("list_price")[:1]
    )
    in_area = (
        Case(When(location__intersects=buyer.target_area, then=Value(True)), default=Value(False))
        if buyer.target_area is not None
        else Value(False)
    )
    qs = (
        Property.objects.filter(location, is_active=True, lead__isnull=False)
        .exclude(lead__status__in=CLOSED_LEAD_STATUSES)
        .annotate(
            list_price=Subquery(active_price),
            price=Coalesce("lead__mao", "list_price", "lead__arv"),
            in_area=ExpressionWrapper(in_area, output_field=BooleanField()),
            lon=Func("location", function="ST_X", output_field=FloatField()),
            lat=Func("location", function="ST_Y", output_field=FloatField()),
        )
    )
    if buyer.min_price is not None:
        qs = qs.filter(_or_null("price", "gte", buyer.min_price * (1 - tolerance)))
    if buyer.max_price is not None:
        qs = qs.filter(_or_null("price", "lte", buyer.max_price * (1 + tolerance)))
    if buyer.property_types:
        qs = qs.filter(property_type__in=buyer.property_types)
    if buyer.min_beds is not None:
        qs = qs.filter(_or_null("beds", "gte", buyer.min_beds))
    if buyer.min_baths is not None:
        qs = qs.filter(_or_null("baths", "gte", buyer.min_baths))
    if buyer.min_year_built is not None:
        qs = qs.filter(_or_null("year_built", "gte", buyer.min_year_built))
    if buyer.max_year_built is not None:
        qs = qs.filter(_or_null("year_built", "lte", buyer.max_year_built))
    return qs.order_by()


def buyer_match_candidates(*, buyer: Buyer, weights: MatchWeights | None = None) -> list[MatchCandidate]:
    """The buyer's candidates as plain MatchCandidates (distance to the buyer's center filled in)."""
    center = buyer.center.coords if buyer.center else None
    out = []
    for row in buyer_candidates(buyer=buyer, weights=weights).values_list(*CANDIDATE_FIELDS):
        pid, zip_, ptype, beds, baths, year, mao, list_price, arv, in_area, lon, lat, lead_score = row
        distance = haversine_miles(center[0], center[1], lon, lat) if center and lon is not None else None
        out.append(
            MatchCandidate(
                property_id=pid,
                zip=zip_,
                property_type=ptype,
                beds=beds,
                baths=baths,
                year_built=year,
                mao=mao,
                list_price=list_price,
                arv=arv,
                in_area=bool(in_area),
                distance_miles=distance,
                lead_score=lead_score,
            )
        )
    return out


def match_blast_rows(*, match_ids) -> list[list]:
    """Blast list rows for the selected matches, skipping do-not-disturb buyers."""
    matches = (
        PropertyMatch.objects.filter(pk__in=list(match_ids), buyer__dnd=False)
        .select_related("buyer", "property")
        .order_by("property__address_normalized", "-score", "buyer_id")
    )
    return [
        [
            str(m.buyer),
            m.buyer.phone,
            m.buyer.email,
            "yes" if m.buyer.sms_opt_in else "no",
            m.property.address_normalized or m.property.address,
            m.score,
            "; ".join(m.reasons),
        ]
        for m in matches
    ]


BLAST_HEADER = ["buyer", "phone", "email", "sms_opt_in", "property_address", "score", "reasons"]


# --- Set-based candidates on PostgreSQL -------------------------------------------------------------------------
# One statement finds every active buyer's candidates (the same hard filters as buyer_candidates), scores them with
# match_score_sql (the SQL twin of matching.score_match's arithmetic, built from the same weights; a test checks
# that both agree on a matrix of cases) and keeps each buyer's best `max_matches_per_buyer` by matching.rank_key.
# Python then scores the kept rows again with score_match, which alone decides the stored score and reasons.


def match_score_sql(weights: MatchWeights) -> tuple[str, list]:
    """SQL for score_match's score of a row that passed the box's hard filters.

    The row has the buyer's min_price, max_price, cash_buyer, proof_of_funds and the candidate's price.
    """
    sql = (
        "LEAST(100, %s + %s"
        " + CASE WHEN cash_buyer THEN %s ELSE 0 END"
        " + CASE WHEN proof_of_funds THEN %s ELSE 0 END"
        " + CASE WHEN min_price IS NULL AND max_price IS NULL THEN %s"
        " WHEN price IS NULL THEN 0"
        " WHEN (min_price IS NULL OR price >= min_price) AND (max_price IS NULL OR price <= max_price)"
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


def _haversine_sql(lon: str, lat: str, center: str) -> str:
    """matching.haversine_miles in SQL, from `center` (a point) to (lon, lat)."""
    return (
        f"(2 * {EARTH_RADIUS_MILES} * ASIN(SQRT("
        f"POWER(SIN(RADIANS({lat} - ST_Y({center})) / 2), 2)"
        f" + COS(RADIANS(ST_Y({center}))) * COS(RADIANS({lat})) * POWER(SIN(RADIANS({lon} - ST_X({center})) / 2), 2))))"
    )


CANDIDATE_ROW_FIELDS = ("buyer_id", "candidates", *CANDIDATE_FIELDS, "fingerprint", "unchanged")


def _text(*columns: str) -> str:
    """The columns as one text, NULLs marked, for a fingerprint."""
    return " || '|' || ".join(f"COALESCE(({c})::text, '~')" for c in columns)


OPEN_LEAD_TABLE = "buyers_match_open_lead"
HITS_TABLE = "buyers_match_hits"


def ranked_candidate_statements(*, weights: MatchWeights, buyer_ids: list[int] | None) -> list[tuple[str, list]]:
    """PostgreSQL: statements to run in order, in one transaction; the last one returns each active buyer's best
    candidates, ordered by buyer, as CANDIDATE_ROW_FIELDS.

    The work is staged in temporary tables (dropped at commit), each analyzed, so that every join is planned on
    real row counts: the planner estimates the location hits at a few thousand pairs where there are millions,
    and joined them to the open leads by a nested loop (100k x 1.8M comparisons: a 100k-lead match never ended).
    1. the open leads with their price (MAO, active list price, ARV), indexed by property;
    2. every (buyer, property) pair whose location and property fit the buy box: three indexed joins (target
       area and circle box on the GiST index, zips on the zip index) with the filters buyer_candidates has
       (unknown values pass). The circle's bounding box is _circle_bbox's and the distance
       matching.haversine_miles, so SQL and Python agree on the edge;
    3. the pairs joined to their open lead (price widened by the tolerance), scored, ranked per buyer and
       capped: `candidates` is how many candidates the buyer had before the cap; `fingerprint` is an md5 of
       everything score_match reads (the rules version, the weights, the buy box, the candidate); `unchanged`
       says the stored match has the same fingerprint, so its score and reasons need no new computation.
    """
    score_sql, score_params = match_score_sql(weights)
    tolerance = weights.price_tolerance
    dlat = f"(DEGREES(b.radius_miles::float8 / {EARTH_RADIUS_MILES}) * 1.01)"
    dlon = f"({dlat} / GREATEST(COS(RADIANS(ABS(ST_Y(b.center)) + {dlat})), 0.01))"
    buyers_where = "b.is_active" + (" AND b.id = ANY(%s)" if buyer_ids is not None else "")
    buyers_params = [list(buyer_ids)] if buyer_ids is not None else []
    cap = weights.max_matches_per_buyer
    haversine = _haversine_sql("ST_X(p.location)", "ST_Y(p.location)", "b.center")
    # The box filters that need only the property; each location branch applies them, so fewer pairs reach the join.
    fits = """
        p.is_active
        AND (b.types IS NULL OR p.property_type = ANY(b.types))
        AND (b.min_beds IS NULL OR p.beds IS NULL OR p.beds >= b.min_beds)
        AND (b.min_baths IS NULL OR p.baths IS NULL OR p.baths >= b.min_baths)
        AND (b.min_year_built IS NULL OR p.year_built IS NULL OR p.year_built >= b.min_year_built)
        AND (b.max_year_built IS NULL OR p.year_built IS NULL OR p.year_built <= b.max_year_built)
    """
    in_area = "(b.target_area IS NOT NULL AND ST_Intersects(b.target_area, p.location))"
    in_zips = "(b.zips IS NOT NULL AND p.zip = ANY(b.zips))"
    columns = "b.id AS buyer_id, b.box_hash, b.min_price, b.max_price, b.cash_buyer, b.proof_of_funds, p.id"
    open_lead = f"""
    CREATE TEMPORARY TABLE {OPEN_LEAD_TABLE} ON COMMIT DROP AS
    SELECT l.property_id, l.mao, ap.list_price, l.arv, l.total, COALESCE(l.mao, ap.list_price, l.arv) AS price
    FROM leads_lead l
    LEFT JOIN (
        SELECT DISTINCT ON (property_id) property_id, list_price FROM properties_listing
        WHERE status = %s AND list_price IS NOT NULL ORDER BY property_id, listed_at DESC, id DESC
    ) ap ON ap.property_id = l.property_id
    WHERE l.status <> ALL(%s)
    """  # noqa: S608 (our own SQL; values are parameters)
    hits = f"""
    CREATE TEMPORARY TABLE {HITS_TABLE} ON COMMIT DROP AS
    WITH b AS MATERIALIZED (
        SELECT b.id, b.target_area, b.center, b.radius_miles::float8 AS radius_miles, b.min_price, b.max_price,
            b.min_beds, b.min_baths, b.min_year_built, b.max_year_built, b.cash_buyer, b.proof_of_funds,
            NULLIF(ARRAY(SELECT jsonb_array_elements_text(b.target_zips)), '{{}}') AS zips,
            NULLIF(ARRAY(SELECT jsonb_array_elements_text(b.property_types)), '{{}}') AS types,
            MD5({
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
                ST_X(b.center) - {dlon}, ST_Y(b.center) - {dlat}, ST_X(b.center) + {dlon}, ST_Y(b.center) + {dlat}, 4326
            ) END AS circle_box
        FROM buyers_buyer b WHERE {buyers_where}
    ),
    hits AS (
        -- Each pair once: a zip hit outside the area, a radius hit outside the area and the zips.
        SELECT {columns}, TRUE AS in_area
        FROM b JOIN properties_property p ON ST_Intersects(b.target_area, p.location)
        WHERE b.target_area IS NOT NULL AND {fits}
        UNION ALL
        SELECT {columns}, FALSE
        FROM b JOIN properties_property p ON p.zip = ANY(b.zips)
        WHERE b.zips IS NOT NULL AND {fits} AND NOT COALESCE({in_area}, FALSE)
        UNION ALL
        SELECT {columns}, FALSE
        FROM b JOIN properties_property p ON p.location && b.circle_box
        WHERE b.circle_box IS NOT NULL AND {haversine} <= b.radius_miles AND {fits} AND NOT COALESCE({in_area}, FALSE)
            AND NOT COALESCE({in_zips}, FALSE)
    )
    SELECT * FROM hits
    """  # noqa: S608 (only numbers and our own SQL are formatted in; values are parameters)
    ranked = f"""
    WITH scored AS (
        SELECT hits.buyer_id, hits.id, hits.in_area, hits.box_hash, c.total, {score_sql} AS score
        FROM {HITS_TABLE} hits JOIN {OPEN_LEAD_TABLE} c ON c.property_id = hits.id
        WHERE (min_price IS NULL OR c.price IS NULL OR c.price >= min_price * %s)
            AND (max_price IS NULL OR c.price IS NULL OR c.price <= max_price * %s)
    ),
    ranked AS (
        -- Narrow rows through the sort; the kept ones get their columns back below.
        SELECT s.*, COUNT(*) OVER buyer AS candidates,
            ROW_NUMBER() OVER (buyer ORDER BY score DESC, total DESC, id) AS rank
        FROM scored s
        WINDOW buyer AS (PARTITION BY buyer_id)
    ),
    kept AS (
        SELECT r.buyer_id, r.candidates, r.rank, p.id, p.zip, p.property_type, p.beds, p.baths, p.year_built, c.mao,
            c.list_price, c.arv, r.in_area, ST_X(p.location) AS lon, ST_Y(p.location) AS lat, r.total, r.box_hash
        FROM ranked r
        JOIN properties_property p ON p.id = r.id
        JOIN {OPEN_LEAD_TABLE} c ON c.property_id = r.id
        {"WHERE r.rank <= %s" if cap is not None else ""}
    )
    SELECT k.buyer_id, k.candidates, k.id, k.zip, k.property_type, k.beds, k.baths, k.year_built, k.mao,
        k.list_price, k.arv, k.in_area, k.lon, k.lat, k.total, k.fingerprint, m.fingerprint = k.fingerprint
    FROM (
        SELECT kept.*, MD5(%s || box_hash || {
        _text(
            "zip", "property_type", "beds", "baths", "year_built", "mao", "list_price", "arv", "in_area", "lon", "lat"
        )
    }) AS fingerprint
        FROM kept
    ) k
    LEFT JOIN buyers_propertymatch m ON m.property_id = k.id AND m.buyer_id = k.buyer_id
    ORDER BY k.buyer_id, k.rank
    """  # noqa: S608 (only numbers and our own SQL are formatted in; values are parameters)
    return [
        (f"DROP TABLE IF EXISTS {OPEN_LEAD_TABLE}, {HITS_TABLE}", []),
        (open_lead, [Listing.Status.ACTIVE, list(CLOSED_LEAD_STATUSES)]),
        (f"CREATE UNIQUE INDEX ON {OPEN_LEAD_TABLE} (property_id)", []),
        (f"ANALYZE {OPEN_LEAD_TABLE}", []),
        (hits, buyers_params),
        (f"ANALYZE {HITS_TABLE}", []),
        (
            ranked,
            [
                *score_params,
                1 - tolerance,
                1 + tolerance,
                *([cap] if cap is not None else []),
                f"{RULES_VERSION}|{weights!r}|",
            ],
        ),
    ]


def buyer_demand_by_zip() -> dict[str, int]:
    """Zip -> how many active buyers list it in their target zips (one query; feeds the lead location score)."""
    demand: Counter[str] = Counter()
    for zips in Buyer.objects.filter(is_active=True).values_list("target_zips", flat=True).iterator():
        demand.update({str(z) for z in zips or [] if z})
    return dict(demand)
