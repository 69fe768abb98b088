"""Writes for buyers and matches."""

import json
import logging
import re
import uuid
from bisect import bisect_right
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, fields
from decimal import Decimal

from django.conf import settings
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.db import connection, transaction
from django.utils import timezone

from dealfinder.common.lookups import any_of_sql
from leads.grid import map_points_sync_matches

from .matching import MatchCandidate, MatchWeights, best_matches, score_match
from .matching_sql import (
    CANDIDATE_COUNTS_SQL,
    UNCHANGED_STAGED_SQL,
    buyer_top_statements,
    open_lead_statements,
    ranked_candidate_statements,
)
from .models import Buyer, PropertyMatch
from .selectors import buyer_buy_box, buyer_has_location, buyer_match_candidates, matching_weights

logger = logging.getLogger(__name__)


@dataclass
class MatchSummary:
    buyers: int = 0
    candidates: int = 0
    kept: int = 0
    created: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    without_location: int = 0  # active buyers with no target area, zips or centre + radius: they match nothing
    without_location_names: list[str] = field(default_factory=list, compare=False, repr=False)

    def __str__(self):
        counts = [f for f in fields(self) if f.name not in ("without_location", "without_location_names")]
        text = ", ".join(f"{f.name} {getattr(self, f.name)}" for f in counts)
        return text + (f", without location {self.without_location}" if self.without_location else "")


FETCH_SIZE = 10_000


def _stage_rows(cursor, rows: list[tuple]) -> None:
    """Append (buyer_id, property_id, score, reasons JSON, fingerprint, stored) rows to the stage table; COPY on
    PostgreSQL.

    A row without score and reasons stands for a stored match whose fingerprint is unchanged: kept as it is.
    `stored` says whether the pair has a stored match (the candidate query read it), None when not known.
    """
    if not rows:
        return
    if connection.vendor == "postgresql":
        copy_sql = "COPY buyers_match_stage (buyer_id, property_id, score, reasons, fingerprint, stored) FROM STDIN"
        with cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(row)
    else:
        cursor.executemany(
            "INSERT INTO buyers_match_stage (buyer_id, property_id, score, reasons, fingerprint, stored)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            rows,
        )


def _stage_create(cursor) -> None:
    """The stage table: a temporary table of this connection (_stage_rows, _stage_apply)."""
    cursor.execute("DROP TABLE IF EXISTS buyers_match_stage")
    cursor.execute(
        "CREATE TEMPORARY TABLE buyers_match_stage (buyer_id bigint NOT NULL, property_id bigint NOT NULL,"
        f" score smallint, reasons {'jsonb' if connection.vendor == 'postgresql' else 'text'},"
        " fingerprint varchar(32) NOT NULL, stored boolean, PRIMARY KEY (buyer_id, property_id))"
    )


def _staged(buyer_id: int, candidate, result, fingerprint: str = "", stored: bool | None = None) -> tuple:
    # json.dumps as JSONField writes it, so the text comparison on SQLite sees equal lists as equal.
    return (buyer_id, candidate.property_id, result.score, json.dumps(result.reasons), fingerprint, stored)


class _RowScorer:
    """Scores the rows of the set-based candidate query that need it (CANDIDATE_ROW_FIELDS; those whose stored match
    is unchanged never leave the database): add() returns the rows to stage. A buyer's rows come together;
    `progress(done, total)` is called as each buyer's rows begin (done: the buyers up to it, by id)."""

    def __init__(self, *, boxes: dict, weights: MatchWeights, progress=None):
        self.boxes, self.weights, self.progress = boxes, weights, progress
        self.ids, self.candidates, self.last, self.box = sorted(boxes), 0, None, None

    def count(self, cursor) -> None:
        """Add the buyers' counts of candidates (before the cap) from the top table."""
        cursor.execute(CANDIDATE_COUNTS_SQL)
        self.candidates += sum(count for _, count in cursor.fetchall())

    def add(self, rows) -> list[tuple]:
        batch = []
        for buyer_id, *values, fingerprint, unchanged in rows:
            if buyer_id != self.last:
                self.last, self.box = buyer_id, self.boxes[buyer_id]
                if self.progress:
                    self.progress(bisect_right(self.ids, buyer_id), len(self.ids))
            candidate = MatchCandidate.from_row(values, center=self.box.center)
            result = score_match(candidate, self.box, self.weights)
            if result.keep:  # stored when the row says so (False: a stored match whose fingerprint changed)
                batch.append(_staged(buyer_id, candidate, result, fingerprint, unchanged is not None))
        return batch


def _buy_boxes(buyers: dict) -> dict:
    return {pk: buyer_buy_box(buyer=buyer) for pk, buyer in buyers.items()}


def _unchanged_staged(cursor, statements: list[tuple[str, list]], scorer: _RowScorer) -> tuple[str, list]:
    """Run the candidate statements but the last, stage the unchanged kept matches, count the candidates; return the
    last statement (the rows to score)."""
    *prepare, last = statements
    for sql, params in prepare:
        cursor.execute(sql, params)
    cursor.execute(UNCHANGED_STAGED_SQL)
    scorer.count(cursor)
    return last


def _score_sql_rows(cursor, *, buyers: dict, weights: MatchWeights, buyer_ids, progress) -> int:
    """PostgreSQL: stage the buyers' unchanged best candidates in the database, stream the others from one
    set-based query, score them, stage the kept ones."""
    scorer = _RowScorer(boxes=_buy_boxes(buyers), weights=weights, progress=progress)
    statements = ranked_candidate_statements(weights=weights, buyer_ids=buyer_ids)
    sql, params = _unchanged_staged(cursor, statements, scorer)
    with connection.chunked_cursor() as rows:
        rows.execute(sql, params)
        while chunk := rows.fetchmany(FETCH_SIZE):
            _stage_rows(cursor, scorer.add(chunk))
    return scorer.candidates


# --- The same on several connections (PostgreSQL) ---------------------------------------------------------------
# The open leads are staged once in an unlogged work table, committed so that every connection reads it; the buyers
# are dealt into shares, and each of `MATCH_CONNECTIONS` threads runs the per-buyer top-N query (buyer_top_statements)
# for one share at a time on its own connection, scores its rows (Python waits on the database in the other threads
# meanwhile), stages and applies them and commits (_share_apply): the apply is the same as on one connection, per
# share. A buyer's rows do not depend on which connection computed them (ties are broken by property id), so the
# result is the same as _score_sql_rows'.
WORK_TABLE_PREFIX = "buyers_match_work_"
_WORK_TABLE_RE = re.compile(rf"^{WORK_TABLE_PREFIX}(\d+)_[0-9a-f]+$")
SHARES_PER_CONNECTION = 4  # a connection that finishes early takes another share; the last share's scoring is short


def match_connections() -> int:
    """How many connections the set-based matching splits the buyers across (settings.MATCH_CONNECTIONS)."""
    return max(1, int(getattr(settings, "MATCH_CONNECTIONS", 1)))


def _on_own_connection(function, *args, **kwargs):
    """Run in a worker thread: `function` on the thread's own connection (autocommit), closed afterwards."""
    try:
        return function(*args, **kwargs)
    finally:
        connection.close()


def _execute(statements: list[tuple[str, list]]) -> None:
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)


def _work_tables_orphaned() -> None:
    """Drop the work tables of runs whose connection is gone (a process killed before its own cleanup)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'"
            " AND starts_with(relname, %s)",
            [WORK_TABLE_PREFIX],
        )
        names = [name for (name,) in cursor.fetchall() if _WORK_TABLE_RE.match(name)]
        if not names:
            return
        cursor.execute("SELECT pid FROM pg_stat_activity")
        alive = {pid for (pid,) in cursor.fetchall()}
        for name in names:
            if int(_WORK_TABLE_RE.match(name)[1]) not in alive:
                logger.warning("Dropping the orphaned match work table %s", name)
                cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(name)}")


def _share_staged(cursor, *, weights: MatchWeights, boxes: dict, buyer_ids: list[int], work_table: str) -> _RowScorer:
    """One share of the buyers' best candidates, on this thread's connection, scored in this thread and staged;
    returns its scorer, with its count of candidates."""
    cursor.execute("SET LOCAL work_mem = '256MB'")
    # The shares are the parallelism: one core per connection, no parallel workers of its own.
    cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
    scorer = _RowScorer(boxes=boxes, weights=weights)
    statements = buyer_top_statements(weights=weights, buyer_ids=buyer_ids, open_lead=work_table)
    cursor.execute(*_unchanged_staged(cursor, statements, scorer))
    _stage_rows(cursor, scorer.add(cursor.fetchall()))
    return scorer


def _share_apply(
    *, weights: MatchWeights, boxes: dict, buyer_ids: list[int], work_table: str
) -> tuple[_RowScorer, tuple[int, int, int, int]]:
    """One share, start to end, on this thread's connection in one transaction of its own: its buyers' best
    candidates staged (_share_staged) and applied (_stage_apply), the map flags of the properties whose matches came
    or went, committed. Returns (its scorer, (kept, created, updated, removed)).

    A buyer is in one share, so each buyer's matches are replaced in one commit: a reader sees all of a buyer's old
    matches or all of its new ones, and a run that fails leaves each buyer old or new, never a mix.
    """
    inserted: set[int] = set()
    deleted: set[int] = set()
    with transaction.atomic():
        with connection.cursor() as cursor:
            _stage_create(cursor)
            scorer = _share_staged(cursor, weights=weights, boxes=boxes, buyer_ids=buyer_ids, work_table=work_table)
            counts = _stage_apply(cursor, buyer_ids=buyer_ids, inserted=inserted, deleted=deleted)
            cursor.execute("DROP TABLE buyers_match_stage")
        map_points_sync_matches(property_ids=list(deleted - inserted))
        map_points_sync_matches(property_ids=list(inserted), matched=True)
    return scorer, counts


def _score_sql_rows_parallel(
    *, buyers: dict, weights: MatchWeights, progress, workers: int
) -> tuple[int, int, int, int, int]:
    """PostgreSQL, `workers` connections: the buyers in shares, each share computed, scored, written and committed
    on one of them (_share_apply), `workers` shares at a time.

    Returns (candidates, kept, created, updated, removed).
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")  # the name says whose table it is: _work_tables_orphaned
        work_table = f"{WORK_TABLE_PREFIX}{cursor.fetchone()[0]}_{uuid.uuid4().hex[:12]}"
    ids = list(buyers)
    count = min(len(ids), workers * SHARES_PER_CONNECTION)
    shares = [ids[n::count] for n in range(count)]  # dealt, so that each share has big and small boxes
    boxes = _buy_boxes(buyers)
    candidates, done, totals = 0, 0, [0, 0, 0, 0]
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="match")
    try:
        create, *indexes, analyze = open_lead_statements(table=work_table, temporary=False)
        pool.submit(_on_own_connection, _work_tables_orphaned).result()
        pool.submit(_on_own_connection, _execute, [create]).result()
        for built in [pool.submit(_on_own_connection, _execute, [index]) for index in indexes]:
            built.result()
        pool.submit(_on_own_connection, _execute, [analyze]).result()
        futures = {
            pool.submit(
                _on_own_connection, _share_apply, weights=weights, boxes=boxes, buyer_ids=share, work_table=work_table
            ): len(share)
            for share in shares
        }
        for future in as_completed(futures):
            scorer, counts = future.result()
            candidates, done = candidates + scorer.candidates, done + futures[future]
            for n, value in enumerate(counts):
                totals[n] += value
            if progress:
                progress(done, len(buyers))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # shares under way finish (and commit); the others never start
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="match") as cleanup:
            try:
                drop = [(f"DROP TABLE IF EXISTS {connection.ops.quote_name(work_table)}", [])]
                cleanup.submit(_on_own_connection, _execute, drop).result()
            except Exception:  # the next run's _work_tables_orphaned drops it
                logger.exception("Could not drop the match work table %s", work_table)
    return candidates, *totals


def _score_per_buyer(cursor, *, buyers: dict, weights: MatchWeights, progress) -> int:
    """Other databases: one candidate query per buyer, scored, capped and staged in Python."""
    candidates = 0
    for done, buyer in enumerate(buyers.values(), start=1):
        box = buyer_buy_box(buyer=buyer)
        found = buyer_match_candidates(buyer=buyer, weights=weights)
        candidates += len(found)
        best = best_matches([(c, score_match(c, box, weights)) for c in found], weights)
        _stage_rows(cursor, [_staged(buyer.pk, c, r) for c, r in best])
        if progress:
            progress(done, len(buyers))
    return candidates


def _stage_apply(
    cursor, *, buyer_ids: list[int], inserted: set[int] | None = None, deleted: set[int] | None = None
) -> tuple[int, int, int, int]:
    """Make the buyers' matches equal the stage: insert new, update changed, delete the rest.

    Returns (kept, created, updated, removed); `inserted` and `deleted` (PostgreSQL), when given, get the
    properties of the matches inserted and deleted (those whose map flag may change). Staged rows without a score are
    unchanged matches (same fingerprint); matches whose score and reasons did not change are not written
    (updated_at stays), unless to store their new fingerprint.

    The stored matches are read for `buyer_ids` alone and the stage by its key, so that the plans stay cheap when the
    matches' statistics are stale (a first run after the table was empty, or shares applied one after the other).
    Staged rows that say whether their pair is stored (`stored`, known from the candidate query) are not looked up
    again: only the scored rows of stored pairs, and the rows that do not say, are compared with the stored matches.
    """
    ids_sql, ids_params = any_of_sql(buyer_ids)
    cursor.execute(
        "SELECT (SELECT COUNT(*) FROM buyers_match_stage),"  # noqa: S608 (placeholders only)
        " (SELECT COUNT(*) FROM buyers_match_stage WHERE score IS NOT NULL AND stored = %s),"
        " SUM(CASE WHEN m.id IS NULL THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN m.score <> s.score OR m.reasons <> s.reasons THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN m.fingerprint <> s.fingerprint THEN 1 ELSE 0 END)"
        " FROM buyers_match_stage s LEFT JOIN buyers_propertymatch m"
        f" ON m.buyer_id = s.buyer_id AND m.property_id = s.property_id AND m.buyer_id {ids_sql}"
        " WHERE s.score IS NOT NULL AND (s.stored IS NULL OR s.stored = %s)",
        [False, *ids_params, True],
    )
    kept, new, created, updated, refingerprinted = (value or 0 for value in cursor.fetchone())
    created += new
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    returning = " RETURNING property_id" if inserted is not None else ""
    stored = (
        "SELECT 1 FROM buyers_propertymatch m"  # noqa: S608 (placeholders only)
        f" WHERE m.buyer_id = s.buyer_id AND m.property_id = s.property_id AND m.buyer_id {ids_sql}"
    )
    # A pair known not to be stored is not looked up (the OR's first term decides); the others are, in case a
    # stored match went meanwhile.
    not_stored = f"(s.stored = %s OR NOT EXISTS ({stored}))"
    yes_stored = f"(s.stored IS NULL OR s.stored = %s) AND EXISTS ({stored})"
    columns = "(created_at, updated_at, buyer_id, property_id, score, reasons, fingerprint)"
    if created:
        # New matches alone, in the order of the (property, buyer) keys (the indexes are written in order);
        # a pair another run inserted meanwhile is left to it.
        cursor.execute(
            f"INSERT INTO buyers_propertymatch {columns}"  # noqa: S608 (our own SQL)
            " SELECT %s, %s, s.buyer_id, s.property_id, s.score, s.reasons, s.fingerprint FROM buyers_match_stage s"
            f" WHERE s.score IS NOT NULL AND {not_stored} ORDER BY s.property_id, s.buyer_id"
            " ON CONFLICT (property_id, buyer_id) DO NOTHING" + returning,
            [now, now, False, *ids_params],
        )
        if returning:
            inserted.update(pk for (pk,) in cursor.fetchall())
    if updated or refingerprinted:
        # Stored matches whose score, reasons or fingerprint changed; updated_at moves only with score or reasons.
        cursor.execute(
            f"INSERT INTO buyers_propertymatch {columns}"  # noqa: S608 (our own SQL)
            " SELECT %s, %s, s.buyer_id, s.property_id, s.score, s.reasons, s.fingerprint FROM buyers_match_stage s"
            f" WHERE s.score IS NOT NULL AND {yes_stored}"
            " ON CONFLICT (property_id, buyer_id) DO UPDATE"
            " SET score = excluded.score, reasons = excluded.reasons, fingerprint = excluded.fingerprint,"
            " updated_at = CASE WHEN buyers_propertymatch.score <> excluded.score"
            " OR buyers_propertymatch.reasons <> excluded.reasons"
            " THEN excluded.updated_at ELSE buyers_propertymatch.updated_at END"
            " WHERE buyers_propertymatch.score <> excluded.score OR buyers_propertymatch.reasons <> excluded.reasons"
            " OR buyers_propertymatch.fingerprint <> excluded.fingerprint",
            [now, now, True, *ids_params],
        )
    cursor.execute(
        f"DELETE FROM buyers_propertymatch WHERE buyer_id {ids_sql} AND NOT EXISTS (SELECT 1 FROM buyers_match_stage s"  # noqa: S608 (placeholders only)
        " WHERE s.buyer_id = buyers_propertymatch.buyer_id AND s.property_id = buyers_propertymatch.property_id)"
        + returning,
        ids_params,
    )
    removed = cursor.rowcount
    if returning:
        deleted.update(pk for (pk,) in cursor.fetchall())
    return kept, created, updated, removed


def matches_refresh_all(
    *, buyer_ids: Iterable[int] | None = None, progress: Callable[[int, int], None] | None = None
) -> MatchSummary:
    """Refresh the matches of every active buyer (or of `buyer_ids`); inactive buyers lose theirs.

    Each buyer keeps its best `max_matches_per_buyer` matches at or above the threshold (matching.best_matches).
    A fixed number of queries on PostgreSQL (one set-based candidate query, the scored matches staged by COPY,
    one upsert of the changed ones, one delete of the stale ones); elsewhere one candidate query per buyer.
    On PostgreSQL a match whose fingerprint (rules version, weights, buy box, candidate) is unchanged is not scored
    again, and the buyers are dealt into shares that MATCH_CONNECTIONS connections compute, write and commit each on
    its own (_score_sql_rows_parallel): a buyer's matches change in one commit, and a failed run leaves each buyer
    old or new (the next run finishes the rest). Inside a caller's transaction (the other connections would not
    see its rows), and on other databases, it is one connection and one transaction.
    `progress(done, total)` is called as buyers are done. Re-running without data changes writes nothing.
    """
    committed = not connection.in_atomic_block and connection.get_autocommit()  # what other connections see is ours
    workers = match_connections() if connection.vendor == "postgresql" and committed else 1
    if workers > 1:
        return _matches_refresh(buyer_ids=buyer_ids, progress=progress, workers=workers)
    with transaction.atomic():
        return _matches_refresh(buyer_ids=buyer_ids, progress=progress, workers=1)


def _matches_refresh(*, buyer_ids, progress, workers: int) -> MatchSummary:
    weights = matching_weights()
    buyers = Buyer.objects.all()
    if buyer_ids is not None:
        buyer_ids = list(buyer_ids)
        buyers = buyers.filter(pk__in=buyer_ids)
    summary = MatchSummary()
    # The matches of inactive buyers, and of buyers gone (a match's keys have no database constraint: models.py).
    # An active buyer's matches of a property gone are not staged, so _stage_apply deletes them.
    stale = PropertyMatch.objects.exclude(buyer__in=Buyer.objects.filter(is_active=True))
    if buyer_ids is not None:
        stale = stale.filter(buyer_id__in=buyer_ids)
    if workers > 1:  # committed at once, with their properties' map flags
        with transaction.atomic():
            properties = list(stale.order_by().values_list("property_id", flat=True).distinct())
            summary.removed, _ = stale.delete()
            map_points_sync_matches(property_ids=properties)
    else:  # in the run's transaction; the map flags of every property are set at its end
        summary.removed, _ = stale.delete()
    active = {buyer.pk: buyer for buyer in buyers.filter(is_active=True).order_by("pk")}
    summary.buyers = len(active)
    summary.without_location_names = [str(b) for b in active.values() if not buyer_has_location(b)]
    summary.without_location = len(summary.without_location_names)
    if summary.without_location:
        logger.warning(
            "%d active buyer(s) have no target area, zips or centre + radius and match nothing: %s",
            summary.without_location,
            ", ".join(summary.without_location_names[:20]),
        )
    if not active:
        map_points_sync_matches()
        return summary
    if workers > 1:
        # Each share syncs the map flags of the properties whose matches it inserted or deleted, in its commit.
        summary.candidates, summary.kept, summary.created, summary.updated, removed = _score_sql_rows_parallel(
            buyers=active, weights=weights, progress=progress, workers=workers
        )
    else:
        with connection.cursor() as cursor:
            _stage_create(cursor)
            if connection.vendor == "postgresql":
                # Memory for the query's hash joins and window sorts (millions of pairs), so they do not spill.
                cursor.execute("SET LOCAL work_mem = '256MB'")
                # The candidates are read through a server-side cursor, which PostgreSQL plans for the first 10% of
                # rows (fast-start nested loops) unless told that every row will be fetched.
                cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")
                summary.candidates = _score_sql_rows(
                    cursor, buyers=active, weights=weights, buyer_ids=buyer_ids, progress=progress
                )
                cursor.execute("ANALYZE buyers_match_stage")
            else:
                summary.candidates = _score_per_buyer(cursor, buyers=active, weights=weights, progress=progress)
            summary.kept, summary.created, summary.updated, removed = _stage_apply(cursor, buyer_ids=list(active))
            cursor.execute("DROP TABLE buyers_match_stage")
        map_points_sync_matches()  # the map's "has buyer matches" filter reads the index's copy
    summary.removed += removed
    summary.unchanged = summary.kept - summary.created - summary.updated
    if progress:
        progress(len(active), len(active))
    return summary


def matches_mark_contacted(*, match_ids: Iterable[int]) -> int:
    """Stamp contacted_at on the matches not yet contacted; returns how many were stamped."""
    return PropertyMatch.objects.filter(pk__in=list(match_ids), contacted_at__isnull=True).update(
        contacted_at=timezone.now()
    )


def _area(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox((min_lon, min_lat, max_lon, max_lat)), srid=4326)


def _sample_buyers() -> list[dict]:
    area, zips, radius = "area", "zips", "radius"
    rows = [
        # (first, last, company, kind, where, min, max, types, min_beds, cash, pof, strategies)
        ("Maria", "Lopez", "Lake Eola Homes LLC", area, (-81.40, 28.52, -81.35, 28.56), 60_000, 250_000,
         ["sfr", "townhouse"], 2, True, True, ["flip"]),
        ("James", "Carter", "Parramore Rentals", zips, ["32805", "32808", "32811"], 40_000, 180_000,
         ["sfr", "multi"], 2, True, True, ["rental", "brrrr"]),
        ("Aisha", "Brown", "Conway Capital", radius, (-81.33, 28.50, 5), 80_000, 320_000,
         ["sfr"], 3, True, False, ["flip"]),
        ("Daniel", "Nguyen", "Pine Hills Holdings", area, (-81.48, 28.54, -81.42, 28.60), 30_000, 160_000,
         [], None, True, True, ["rental"]),
        ("Sofia", "Martinez", "", zips, ["32803", "32804", "32806", "32814"], 120_000, 450_000,
         ["sfr", "condo", "townhouse"], 2, True, True, ["flip"]),
        ("Robert", "Johnson", "RJ Property Group", radius, (-81.38, 28.54, 8), 50_000, 300_000,
         [], None, True, True, ["flip", "rental"]),
        ("Linda", "Williams", "Azalea Park Investors", area, (-81.32, 28.53, -81.26, 28.58), 70_000, 260_000,
         ["sfr", "multi"], 3, True, False, ["brrrr"]),
        ("Kevin", "Patel", "Southside Buyers", zips, ["32809", "32812", "32822", "32839"], 60_000, 240_000,
         ["sfr", "townhouse", "condo"], None, False, True, ["rental"]),
        ("Grace", "Kim", "Kim Family Trust", radius, (-81.45, 28.48, 6), 40_000, 220_000,
         ["sfr", "mobile"], 2, True, True, ["rental"]),
        ("Marcus", "Davis", "Colonialtown Flips", area, (-81.38, 28.55, -81.33, 28.59), 100_000, 380_000,
         ["sfr"], 3, True, True, ["flip"]),
        ("Elena", "Rossi", "Rossi Land Co", zips, ["32801", "32810", "32818", "32835"], 10_000, 150_000,
         ["land", "sfr", "mobile"], None, True, False, ["flip"]),
        ("Tyrone", "Hill", "Hill Capital Partners", radius, (-81.30, 28.60, 7), 90_000, 500_000,
         ["sfr", "multi", "townhouse"], 3, True, True, ["flip", "brrrr"]),
    ]  # fmt: skip
    out = []
    for n, (first, last, company, kind, where, low, high, types, beds, cash, pof, strategies) in enumerate(rows, 1):
        box = {
            "target_area": _area(*where) if kind == area else None,
            "target_zips": where if kind == zips else [],
            "center": Point(where[0], where[1], srid=4326) if kind == radius else None,
            "radius_miles": Decimal(where[2]) if kind == radius else None,
        }
        out.append(
            {
                "email": f"{first}.{last}@buyers.example".lower(),
                "first_name": first,
                "last_name": last,
                "company": company,
                "phone": f"+1407555{n:04d}",
                "sms_opt_in": n % 3 != 0,
                "tags": ["cash-buyer", "sample"],
                "min_price": Decimal(low),
                "max_price": Decimal(high),
                "property_types": types,
                "min_beds": beds,
                "strategies": strategies,
                "cash_buyer": cash,
                "proof_of_funds": pof,
                **box,
            }
        )
    return out


def buyers_create_samples() -> int:
    """Create the sample cash buyers around Orlando FL that are missing (by email); returns how many were created."""
    created = 0
    for data in _sample_buyers():
        email = data.pop("email")
        _, was_created = Buyer.objects.get_or_create(email=email, defaults=data)
        created += was_created
    return created
