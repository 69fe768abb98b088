"""Matching on several connections (PostgreSQL): the same matches as on one, work tables always cleaned up.

The other connections read committed rows only, so these tests commit (transactional_db); matches_refresh_all
inside a transaction (every other test) runs on one connection.
"""

import random
import threading

import pytest
from django.db import connection, transaction

from buyers import services
from buyers.models import MatchingProfile, PropertyMatch
from buyers.services import MatchSummary, matches_refresh_all
from tests.factories import ORLANDO, ListingFactory, MatchingProfileFactory, square
from tests.scenes import area_buyer, lead_at, radius_buyer, zip_buyer

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="several connections on PostgreSQL only"),
]

ZIPS = ["32801", "32803", "32805", "32806", "32807"]


@pytest.fixture
def county(db):
    """120 leads and 40 buyers of every kind around Orlando, with many equal scores (ties) and a cap of 3."""
    rng = random.Random(18)
    x, y = ORLANDO
    for n in range(120):
        lead = lead_at(
            round(x + rng.uniform(-0.06, 0.06), 5),
            round(y + rng.uniform(-0.06, 0.06), 5),
            rng.choice(ZIPS),
            total=rng.choice((50, 70, 70, 90)),
            mao=rng.choice((None, 90000, 135000, 135000, 200000, 320000)),
            arv=rng.choice((None, 250000)),
            property={
                "street": f"{n} GRID ST",
                "property_type": rng.choice(("sfr", "sfr", "condo", "townhouse", "multi")),
                "beds": rng.choice((None, 2, 3, 4)),
            },
        )
        if rng.random() < 0.2:
            ListingFactory(property=lead.property, list_price=rng.choice((99000, 189000, 260000)))
    for n in range(40):
        box = {
            "min_price": rng.choice((None, 50000, 100000)),
            "max_price": rng.choice((None, 200000, 300000)),
            "property_types": rng.sample(["sfr", "condo", "townhouse", "multi"], rng.randint(0, 2)),
            "min_beds": rng.choice((None, 2, 3)),
            "cash_buyer": rng.random() < 0.7,
            "proof_of_funds": rng.random() < 0.5,
        }
        center = (round(x + rng.uniform(-0.03, 0.03), 4), round(y + rng.uniform(-0.03, 0.03), 4))
        kind = n % 4
        if kind == 0:
            area_buyer(target_area=square(center, rng.choice((0.01, 0.03, 0.05))), **box)
        elif kind == 1:
            zip_buyer(rng.sample(ZIPS, rng.randint(1, 3)), **box)
        elif kind == 2:
            radius_buyer(center, rng.choice((1, 2, 4)), **box)
        else:  # every criterion at once: each pair counted once
            radius_buyer(center, 3, target_area=square(center, 0.02), target_zips=rng.sample(ZIPS, 2), **box)
    MatchingProfileFactory(max_matches_per_buyer=3, is_active=True)


def stored() -> list[tuple]:
    return list(
        PropertyMatch.objects.order_by("buyer_id", "property_id").values_list(
            "buyer_id", "property_id", "score", "reasons", "fingerprint"
        )
    )


def work_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE starts_with(relname, %s)", [services.WORK_TABLE_PREFIX])
        return [name for (name,) in cursor.fetchall()]


@pytest.fixture
def shares(monkeypatch):
    """How many shares were computed on the other connections."""
    calls = []
    share_staged = services._share_staged

    def counted(cursor, **kwargs):
        calls.append(len(kwargs["buyer_ids"]))
        return share_staged(cursor, **kwargs)

    monkeypatch.setattr(services, "_share_staged", counted)
    return calls


def test_several_connections_give_the_same_matches_as_one(county, settings, shares):
    settings.MATCH_CONNECTIONS = 1
    serial = matches_refresh_all()
    expected = stored()
    assert shares == []
    PropertyMatch.objects.all().delete()

    settings.MATCH_CONNECTIONS = 3
    parallel = matches_refresh_all()
    assert sorted(shares) == [3] * 8 + [4] * 4  # 40 buyers dealt into 3 x 4 shares
    assert parallel == serial
    assert parallel.created == parallel.kept == len(expected)
    # The cap cuts through ties (equal match and lead scores): the lower property ids are kept on every connection.
    assert 60 < len(expected) <= 40 * 3
    assert stored() == expected
    assert work_tables() == []

    again = matches_refresh_all()
    assert again == MatchSummary(
        buyers=40, candidates=serial.candidates, kept=len(expected), created=0, updated=0, removed=0,
        unchanged=len(expected),
    )  # fmt: skip
    assert stored() == expected


def test_changes_are_applied_per_share_as_on_one_connection(county, settings):
    settings.MATCH_CONNECTIONS = 2
    matches_refresh_all()
    PropertyMatch.objects.filter(pk__in=PropertyMatch.objects.order_by("pk").values("pk")[:5]).delete()
    PropertyMatch.objects.filter(pk__in=PropertyMatch.objects.order_by("-pk").values("pk")[:4]).update(
        score=1, reasons=["stale"], fingerprint="stale"
    )
    summary = matches_refresh_all()
    assert (summary.created, summary.updated, summary.removed) == (5, 4, 0)
    parallel = stored()
    settings.MATCH_CONNECTIONS = 1
    assert matches_refresh_all().unchanged == len(parallel)
    assert stored() == parallel


def test_matches_of_a_buyer_or_property_gone_are_deleted_on_several_connections(county, settings):
    settings.MATCH_CONNECTIONS = 2
    matches_refresh_all()
    expected = stored()
    some = PropertyMatch.objects.order_by("pk").first()
    nobody = 10**9  # no buyer or property has this id
    PropertyMatch.objects.bulk_create(
        [
            PropertyMatch(buyer_id=nobody, property_id=some.property_id),
            PropertyMatch(buyer=some.buyer, property_id=nobody),
        ]
    )
    summary = matches_refresh_all()
    assert (summary.created, summary.updated, summary.removed, summary.unchanged) == (0, 0, 2, len(expected))
    assert stored() == expected


def test_work_table_dropped_when_the_run_fails(county, settings, monkeypatch):
    settings.MATCH_CONNECTIONS = 2
    matches_refresh_all()
    before = stored()

    def broken(*args, **kwargs):
        raise RuntimeError("scoring failed")

    monkeypatch.setattr(services, "score_match", broken)
    PropertyMatch.objects.update(fingerprint="changed")  # every match is scored again
    with pytest.raises(RuntimeError, match="scoring failed"):
        matches_refresh_all()
    assert work_tables() == []
    assert [row[:4] for row in stored()] == [row[:4] for row in before]  # the run's writes rolled back


def test_orphaned_work_tables_are_dropped(county, settings):
    """A work table whose connection is gone (its process was killed) is dropped by the next run; a live one stays."""
    settings.MATCH_CONNECTIONS = 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        alive = f"{services.WORK_TABLE_PREFIX}{cursor.fetchone()[0]}_0123abcd"
        dead = f"{services.WORK_TABLE_PREFIX}0_0123abcd"  # no backend has pid 0
        cursor.execute(f"CREATE UNLOGGED TABLE {alive} (id int)")
        cursor.execute(f"CREATE UNLOGGED TABLE {dead} (id int)")
    try:
        matches_refresh_all()
        assert work_tables() == [alive]
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {alive}, {dead}")


def by_buyer() -> dict[int, list[tuple]]:
    rows: dict[int, list[tuple]] = {}
    for row in stored():
        rows.setdefault(row[0], []).append(row)
    return rows


@pytest.mark.parametrize("lookups", [1000, 0], ids=["flags-by-index", "flags-by-one-pass"])
def test_a_failed_run_leaves_each_buyer_old_or_new_and_the_next_run_converges(county, settings, monkeypatch, lookups):
    """Each share commits on its own: a run that fails mid-way leaves every buyer with all its old matches or all
    its new ones (never a mix), the map's match flags exact, and the next run ends where a clean run ends."""
    from leads import grid
    from leads.grid import map_grid_refresh, map_points_sync_matches

    monkeypatch.setattr(grid, "SYNC_LOOKUPS", lookups)  # both ways of finding a share's points

    assert map_grid_refresh().points == 120
    settings.MATCH_CONNECTIONS = 2
    matches_refresh_all()
    old = by_buyer()
    # The new night: every match's score and reasons change (location weight) and the weaker ones go (threshold).
    MatchingProfile.objects.filter(is_active=True).update(location_weight=45, threshold=95)
    settings.MATCH_CONNECTIONS = 1
    with transaction.atomic():  # the reference: a clean run, rolled back
        matches_refresh_all()
        new = by_buyer()
        transaction.set_rollback(True)
    assert by_buyer() == old

    applied, failed, lock = [], [], threading.Lock()
    stage_apply = services._stage_apply

    def third_fails(cursor, *, buyer_ids, **kwargs):
        with lock:
            if len(applied) + len(failed) == 2:
                failed.append(sorted(buyer_ids))
                raise RuntimeError("the database went away")
            applied.append(sorted(buyer_ids))
        return stage_apply(cursor, buyer_ids=buyer_ids, **kwargs)

    monkeypatch.setattr(services, "_stage_apply", third_fails)
    settings.MATCH_CONNECTIONS = 2
    with pytest.raises(RuntimeError, match="the database went away"):
        matches_refresh_all()
    after = by_buyer()
    assert work_tables() == []
    assert map_points_sync_matches() == 0  # every flag already right: nothing to set
    done = {pk for share in applied for pk in share}
    # 40 buyers in 8 shares: the two first applied, the third failed; the other connection may apply more meanwhile.
    assert len(failed) == 1 and 2 <= len(applied) <= 7
    assert {pk for pk in failed[0] if old.get(pk) != new.get(pk)}  # the failing share had changes to make
    everyone = set(old) | set(new)
    assert {pk: after.get(pk) for pk in done} == {pk: new.get(pk) for pk in done}
    assert {pk: after.get(pk) for pk in everyone - done} == {pk: old.get(pk) for pk in everyone - done}
    assert sum(len(old.get(pk, [])) - len(new.get(pk, [])) for pk in done) > 0  # committed shares removed matches

    monkeypatch.setattr(services, "_stage_apply", stage_apply)
    matches_refresh_all()
    assert by_buyer() == new
    assert map_points_sync_matches() == 0


@pytest.mark.parametrize("connections", [1, 3])
def test_progress_counts_each_buyer_once(county, settings, connections):
    settings.MATCH_CONNECTIONS = connections
    calls = []
    for _ in range(2):  # every match new, then every match unchanged (those rows never reach Python)
        calls.clear()
        matches_refresh_all(progress=lambda done, total: calls.append((done, total)))
        assert calls[-1] == (40, 40)
        assert {total for _, total in calls} == {40}
        assert [done for done, _ in calls] == sorted(done for done, _ in calls)
