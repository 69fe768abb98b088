"""The comps' memory between nightly runs (PostgreSQL + PostGIS): which subjects the next run must search again.

A subject's comps depend on its own inputs, the market sales near it, the as-of date (each tier's window of
months ends on it) and the parameters; its ARV on those comps and the county trend. The memo
(leads.models.CompsMemo*, one set of rows per memo key: the county) keeps what the last run saw: each subject's
inputs (md5) and the tier its comps came from, its kept comps by rank, the fingerprint of every sale it could
use, and the run's as-of date, parameters and trend. The next run searches again only the subjects whose comps
can have changed:

1. a subject new to the memo, or whose inputs changed;
2. a subject that kept a sale since gone or changed (no longer a market sale, its price, date, place or size
   changed, its property another parcel). A pair it did not keep cannot change its result by leaving: it was
   ranked beyond `max_comps`, or lay in a wider tier than the one chosen, which still has as many pairs;
3. a subject that kept a sale whose age crossed a tier's months since the last run (a sale only ages into wider
   tiers; one not kept, aging, leaves the chosen tier with `max_comps` pairs or more and the ranking as it was);
4. a subject of the sale's type within its chosen tier's radius (the widest one without comps) of a sale new or
   changed: a sale farther lies in a wider tier than the chosen one, which neither its count nor its ranking see.

The others keep their kept comps, and their results too unless the county trend moved under them: the trend
reads the deeds recorded before the as-of month, so it moves when a new month begins (every lead with comps is
adjusted again) or when a deed of an earlier month is recorded late, corrected or deleted (the leads with a kept
comp sold in a month whose value moved are adjusted again), from the memo's kept comps (leads.comps_sql).

A full run instead when there is no memo, the parameters differ, the as-of date is before the memo's, or the last
full run is a week old (`FULL_EVERY_DAYS`); `full=True` forces one.
tests/leads/test_comps_memo.py holds an incremental run equal to a full one after every kind of change.
"""

from __future__ import annotations

import dataclasses
import datetime
import json

from dealfinder.common.geo import EARTH_RADIUS_MILES
from leads.comps import CompParams, month_number, months_before
from leads.models import CompsMemo, CompsMemoSale, CompsMemoSubject

FULL_EVERY_DAYS = 7
SUBJECTS, SALES = CompsMemoSubject._meta.db_table, CompsMemoSale._meta.db_table
# Work tables of an incremental run (comps_sql drops them with its own).
WORK = ("comps_new", "comps_dirty", "comps_search", "comps_adjust", "comps_aggregate")


def params_json(params: CompParams) -> dict:
    return json.loads(json.dumps(dataclasses.asdict(params)))


def previous_run(*, key: str, as_of: datetime.date, params: CompParams) -> CompsMemo | None:
    """The memo an incremental run can start from, or None (a full run)."""
    memo = CompsMemo.objects.filter(key=key).first()
    if memo is None or memo.params != params_json(params) or as_of < memo.as_of:
        return None
    return memo if (as_of - memo.full_on).days < FULL_EVERY_DAYS else None


def new_sales_statements(*, key: str, as_of: datetime.date, params: CompParams) -> list[tuple[str, list]]:
    """comps_new: the staged sales a comp can be today that the memo does not hold as they are (new or changed)."""
    return [
        (
            f"""CREATE UNLOGGED TABLE comps_new AS
            SELECT c.* FROM comps_sale c
            WHERE c.sale_date >= %s AND NOT EXISTS (
                SELECT 1 FROM {SALES} m WHERE m.key = %s AND m.sale_id = c.id AND m.inputs = c.inputs)""",  # noqa: S608 (our own SQL)
            [months_before(as_of, params.widest[1]), key],
        ),
        ("ANALYZE comps_new", []),
    ]


def dirty_statements(
    *, key: str, previous: CompsMemo, as_of: datetime.date, params: CompParams, new_sales: int, haversine: str
) -> list[tuple[str, list]]:
    """comps_search: the subjects of comps_subject whose comps can have changed since `previous` (rules 1-4 of
    the module docstring). Rule 4 looks around each of the `new_sales` sales of comps_new (a sale `c`, a subject
    `s`: `haversine` is their distance in miles) through a spatial index of the subjects' points."""
    crossed = sorted(
        {(months_before(previous.as_of, months), months_before(as_of, months)) for _, months in params.tiers}
    )
    crossing = " OR ".join("(c.sale_date >= %s AND c.sale_date < %s)" for _ in crossed)
    statements = [
        (
            f"""CREATE UNLOGGED TABLE comps_dirty AS
            SELECT s.id FROM comps_subject s
            WHERE NOT EXISTS (
                SELECT 1 FROM {SUBJECTS} m WHERE m.key = %s AND m.lead_id = s.id AND m.inputs = s.inputs)
            UNION
            SELECT m.lead_id FROM {SUBJECTS} m CROSS JOIN LATERAL jsonb_array_elements_text(m.kept) AS k(sale_id)
            WHERE m.key = %s AND k.sale_id::bigint IN (
                SELECT m.sale_id FROM {SALES} m WHERE m.key = %s AND NOT EXISTS (
                    SELECT 1 FROM comps_sale c WHERE c.id = m.sale_id AND c.inputs = m.inputs)
                UNION ALL
                SELECT c.id FROM comps_sale c WHERE {crossing})""",  # noqa: S608 (our own SQL)
            [key, key, key, *(day for pair in crossed for day in pair)],
        )
    ]
    if new_sales:
        widest = params.widest[0]
        radius_case = " ".join(f"WHEN {i} THEN %s::float8" for i in range(len(params.tiers)))
        statements += [
            ("CREATE INDEX ON comps_subject USING gist (ST_MakePoint(lon, lat))", []),
            (
                f"""INSERT INTO comps_dirty
                SELECT s.id FROM comps_new c
                CROSS JOIN LATERAL (SELECT DEGREES(%s / {EARTH_RADIUS_MILES}) * 1.01 AS lat) dlat
                CROSS JOIN LATERAL (SELECT dlat.lat / GREATEST(COS(RADIANS(ABS(c.lat) + dlat.lat)), 0.01) AS lon) dlon
                JOIN comps_subject s ON ST_MakePoint(s.lon, s.lat) && ST_MakeEnvelope(c.lon - dlon.lon,
                        c.lat - dlat.lat, c.lon + dlon.lon, c.lat + dlat.lat)
                    AND s.property_type = c.property_type
                LEFT JOIN {SUBJECTS} m ON m.key = %s AND m.lead_id = s.id
                WHERE {haversine} <= CASE m.tier {radius_case} ELSE %s::float8 END""",  # noqa: S608 (our own SQL)
                [widest, key, *(miles for miles, _ in params.tiers), widest],
            ),
        ]
    return [
        *statements,
        (
            "CREATE UNLOGGED TABLE comps_search AS"
            " SELECT * FROM comps_subject WHERE id IN (SELECT id FROM comps_dirty)",
            [],
        ),
        ("ANALYZE comps_search", []),
    ]


def adjust_statements(*, key: str, moved: list[int], as_of: datetime.date) -> list[tuple[str, list]]:
    """comps_adjust: the subjects not searched again whose kept comps the trend's `moved` months re-price (every
    one with comps when the as-of month's value moved), and comps_aggregate: those and the searched ones."""
    if month_number(as_of) in moved:
        which, values = "", []
    else:
        which = """ AND EXISTS (SELECT 1 FROM jsonb_array_elements_text(m.kept) AS k(sale_id)
                JOIN comps_sale c ON c.id = k.sale_id::bigint WHERE c.month = ANY(%s))"""
        values = [moved]
    return [
        (
            f"""CREATE UNLOGGED TABLE comps_adjust AS
            SELECT m.lead_id AS id FROM {SUBJECTS} m
            WHERE m.key = %s AND jsonb_array_length(m.kept) > 0
                AND NOT EXISTS (SELECT 1 FROM comps_dirty d WHERE d.id = m.lead_id){which}""",  # noqa: S608
            [key, *values],
        ),
        (
            """CREATE UNLOGGED TABLE comps_aggregate AS SELECT * FROM comps_subject
            WHERE id IN (SELECT id FROM comps_dirty UNION ALL SELECT id FROM comps_adjust)""",
            [],
        ),
    ]


def write_statements(*, key: str, full: bool, as_of: datetime.date, params: CompParams, result: str):
    """Bring the memo's rows up to this run: the searched subjects (comps_search, or comps_subject in a full
    run) with their tier and kept comps from `result`, the sales a next run can use (comps_new, or every staged
    sale in a full run), and nothing of the subjects and sales that are gone."""
    cut = months_before(as_of, params.widest[1])
    search, sales = ("comps_subject", "comps_sale") if full else ("comps_search", "comps_new")
    if full:
        deletes = [(f"DELETE FROM {table} WHERE key = %s", [key]) for table in (SUBJECTS, SALES)]  # noqa: S608
    else:
        # Each condition its own statement: under an OR, NOT EXISTS is a subquery per row, not an anti-join.
        deletes = [
            (f"DELETE FROM {SUBJECTS} m WHERE m.key = %s AND m.lead_id IN (SELECT id FROM comps_dirty)", [key]),  # noqa: S608
            (
                f"""DELETE FROM {SUBJECTS} m WHERE m.key = %s
                AND NOT EXISTS (SELECT 1 FROM comps_subject s WHERE s.id = m.lead_id)""",  # noqa: S608
                [key],
            ),
            (f"DELETE FROM {SALES} m WHERE m.key = %s AND m.sale_date < %s", [key, cut]),  # noqa: S608
            (
                f"""DELETE FROM {SALES} m WHERE m.key = %s
                AND NOT EXISTS (SELECT 1 FROM comps_sale c WHERE c.id = m.sale_id AND c.inputs = m.inputs)""",  # noqa: S608
                [key],
            ),
        ]
    return [
        *deletes,
        (
            f"""INSERT INTO {SUBJECTS} (key, lead_id, inputs, tier, kept)
            SELECT %s, s.id, s.inputs, r.tier, to_jsonb(r.sale_ids)
            FROM {search} s JOIN {result} r ON r.subject_id = s.id""",  # noqa: S608
            [key],
        ),
        (
            f"""INSERT INTO {SALES} (key, sale_id, inputs, sale_date)
            SELECT %s, c.id, c.inputs, c.sale_date FROM {sales} c WHERE c.sale_date >= %s""",  # noqa: S608
            [key, cut],
        ),
    ]


def save_run(*, key: str, as_of: datetime.date, params: CompParams, trend: dict, previous: CompsMemo | None) -> None:
    """Record this run; `previous`: the memo an incremental run started from (None: this run was a full one)."""
    full_on = as_of if previous is None else previous.full_on
    CompsMemo.objects.update_or_create(
        key=key, defaults={"as_of": as_of, "params": params_json(params), "trend": trend, "full_on": full_on}
    )


def forget_other_keys(*, keep: list[str]) -> None:
    """Delete the memo of every key but these (counties that no longer have leads). A run writes its key's rows
    and its CompsMemo row in one transaction, so the keys of CompsMemo are all there are."""
    stale = list(CompsMemo.objects.exclude(key__in=keep).values_list("key", flat=True))
    if stale:
        for model in (CompsMemoSubject, CompsMemoSale, CompsMemo):
            model.objects.filter(key__in=stale).delete()
