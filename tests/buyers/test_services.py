import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from buyers.models import Buyer, PropertyMatch
from buyers.services import MatchSummary, buyers_create_samples, matches_refresh_all
from tests.factories import ORLANDO, MatchingProfileFactory, square
from tests.scenes import area_buyer, radius_buyer, zip_buyer

pytestmark = pytest.mark.django_db


def matched(buyer) -> dict[str, int]:
    return dict(PropertyMatch.objects.filter(buyer=buyer).values_list("property__street", "score"))


def test_refresh_keeps_exact_matches_with_reasons(places):
    area, radius, zips = area_buyer(), radius_buyer(ORLANDO, 5), zip_buyer(["32805", "32803"])
    summary = matches_refresh_all()
    assert summary == MatchSummary(buyers=3, candidates=8, kept=8, created=8, updated=0, removed=0, unchanged=0)
    assert matched(area) == {"1 CENTER ST": 100, "2 EAST ST": 100, "9 LISTED LN": 100}
    assert matched(radius) == {"1 CENTER ST": 100, "2 EAST ST": 100, "9 LISTED LN": 100}
    assert matched(zips) == {"2 EAST ST": 100, "5 ZIP WAY": 100}
    assert PropertyMatch.objects.get(buyer=area, property=places.listed.property).reasons == [
        "Inside the buyer's target area (+40)",
        "List price $189,000 within $50,000-$300,000 (+25)",
        "Property type sfr wanted (+15)",
        "Cash buyer (+10)",
        "Proof of funds on file (+10)",
    ]
    assert PropertyMatch.objects.get(buyer=radius, property=places.east.property).reasons[0] == (
        "1.9 mi from the buyer's center, within 5 mi (+40)"
    )


def test_second_run_changes_nothing(places):
    area_buyer(), radius_buyer(ORLANDO, 5)
    first = matches_refresh_all()
    stamps = list(PropertyMatch.objects.order_by("pk").values_list("pk", "updated_at"))
    second = matches_refresh_all()
    assert first == MatchSummary(buyers=2, candidates=6, kept=6, created=6, updated=0, removed=0, unchanged=0)
    assert second == MatchSummary(buyers=2, candidates=6, kept=6, created=0, updated=0, removed=0, unchanged=6)
    assert list(PropertyMatch.objects.order_by("pk").values_list("pk", "updated_at")) == stamps


def test_changed_numbers_update_only_that_match(places):
    area_buyer()
    matches_refresh_all()
    places.center.mao = 320000  # 7% over the 300,000 max: half the price points
    places.center.save()
    assert matches_refresh_all() == MatchSummary(
        buyers=1, candidates=3, kept=3, created=0, updated=1, removed=0, unchanged=2
    )
    match = PropertyMatch.objects.get(property=places.center.property)
    assert (match.score, match.reasons[1]) == (87, "MAO $320,000 is 7% over $50,000-$300,000 (+12)")


def test_threshold_from_active_profile(places):
    area_buyer(proof_of_funds=False, cash_buyer=False)  # 80 points each
    profile = MatchingProfileFactory(threshold=81, is_active=True)
    assert matches_refresh_all().kept == 0
    profile.threshold = 80
    profile.save()
    assert matches_refresh_all().created == 3


def test_shrunk_box_removes_stale_matches(places):
    buyer = area_buyer()
    matches_refresh_all()
    buyer.target_area = square(half=0.005)
    buyer.save()
    assert matches_refresh_all() == MatchSummary(
        buyers=1, candidates=1, kept=1, created=0, updated=0, removed=2, unchanged=1
    )
    assert matched(buyer) == {"1 CENTER ST": 100}


def test_deactivated_buyer_loses_matches(places):
    keep, gone = area_buyer(), zip_buyer(["32805"])
    matches_refresh_all()
    gone.is_active = False
    gone.save()
    assert matches_refresh_all() == MatchSummary(
        buyers=1, candidates=3, kept=3, created=0, updated=0, removed=1, unchanged=3
    )
    assert matched(gone) == {}
    assert len(matched(keep)) == 3


def test_matches_of_a_buyer_or_property_gone_another_way_are_deleted(places):
    """A match's keys have no database constraint (a match is derived): one whose buyer or property went without
    Django's delete (which deletes the matches too) is deleted by the next run."""
    buyer = area_buyer()
    matches_refresh_all()
    nobody = 10**9  # no buyer or property has this id
    PropertyMatch.objects.bulk_create(
        [
            PropertyMatch(buyer_id=nobody, property=places.center.property, score=90, reasons=["old"]),
            PropertyMatch(buyer=buyer, property_id=nobody, score=90, reasons=["old"]),
        ]
    )
    assert matches_refresh_all() == MatchSummary(
        buyers=1, candidates=3, kept=3, created=0, updated=0, removed=2, unchanged=3
    )
    assert matched(buyer) == {"1 CENTER ST": 100, "2 EAST ST": 100, "9 LISTED LN": 100}
    assert PropertyMatch.objects.count() == 3


def test_deleting_a_property_or_buyer_deletes_its_matches(places):
    buyer, other = area_buyer(), zip_buyer(["32805", "32803"])
    matches_refresh_all()
    places.east.property.delete()
    other.delete()
    assert matched(buyer) == {"1 CENTER ST": 100, "9 LISTED LN": 100}
    assert PropertyMatch.objects.count() == 2


def test_dead_lead_drops_out(places):
    buyer = area_buyer()
    matches_refresh_all()
    places.east.status = "dead"
    places.east.save()
    assert matches_refresh_all().removed == 1
    assert set(matched(buyer)) == {"1 CENTER ST", "9 LISTED LN"}


def test_buyer_ids_limit_the_run(places):
    one, other = area_buyer(), zip_buyer(["32805"])
    assert matches_refresh_all(buyer_ids=[one.pk]).buyers == 1
    assert matched(other) == {}


def test_queries_are_bounded(places):
    buyers = [area_buyer(), radius_buyer(ORLANDO, 5), zip_buyer(["32805"])]
    matches_refresh_all()
    with CaptureQueriesContext(connection) as one:
        matches_refresh_all(buyer_ids=[buyers[0].pk])
    with CaptureQueriesContext(connection) as three:
        matches_refresh_all()
    if connection.vendor == "postgresql":
        # One set-based candidate query for all buyers (after its staging statements: the kept rows in a table), the
        # unchanged kept matches staged by one INSERT ... SELECT, the buyers' candidate counts, no changed row to
        # score (no COPY), compared, nothing to upsert, stale ones deleted, the map index's match flags set (their
        # writers' turn taken, one UPDATE): the same 26 statements for one buyer or three.
        assert len(one.captured_queries) == len(three.captured_queries) == 26
        assert sum('FROM "properties_property"' in q["sql"] for q in three.captured_queries) == 0
    else:
        # Elsewhere a candidate query and a staging insert per buyer.
        assert len(three.captured_queries) - len(one.captured_queries) == 2 * 2


def test_each_buyer_keeps_its_best_matches(places):
    buyer = area_buyer()
    places.center.mao = 320000  # 7% over the range: 87 points, below the others' 100
    places.center.total, places.east.total, places.listed.total = 99, 60, 90
    for lead in (places.center, places.east, places.listed):
        lead.save()
    profile = MatchingProfileFactory(max_matches_per_buyer=2, is_active=True)
    assert matches_refresh_all() == MatchSummary(
        buyers=1, candidates=3, kept=2, created=2, updated=0, removed=0, unchanged=0
    )
    # Score first, then the lead's own score: the 87-point match goes although its lead scores 99.
    assert matched(buyer) == {"9 LISTED LN": 100, "2 EAST ST": 100}
    profile.max_matches_per_buyer = 1
    profile.save()
    assert matches_refresh_all() == MatchSummary(
        buyers=1, candidates=3, kept=1, created=0, updated=0, removed=1, unchanged=1
    )
    assert matched(buyer) == {"9 LISTED LN": 100}
    profile.max_matches_per_buyer = None  # no cap
    profile.save()
    assert matches_refresh_all().created == 2
    assert matched(buyer) == {"1 CENTER ST": 87, "2 EAST ST": 100, "9 LISTED LN": 100}


def test_match_command(places, capsys):
    area_buyer()
    call_command("match")
    call_command("match")
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "Matched: buyers 1, candidates 3, kept 3, created 3, updated 0, removed 0, unchanged 0",
        "Matched: buyers 1, candidates 3, kept 3, created 0, updated 0, removed 0, unchanged 3",
    ]


def test_samples_are_idempotent(db):
    assert buyers_create_samples() == 12
    assert buyers_create_samples() == 0
    buyers = Buyer.objects.all()
    assert buyers.count() == 12
    assert buyers.filter(target_area__isnull=False).count() == 4
    assert buyers.exclude(target_zips=[]).count() == 4
    assert buyers.filter(center__isnull=False, radius_miles__isnull=False).count() == 4


def test_unchanged_inputs_are_not_rescored_on_postgresql(places):
    if connection.vendor != "postgresql":
        pytest.skip("fingerprints come from the set-based candidate query")
    area_buyer()
    matches_refresh_all()
    center = PropertyMatch.objects.filter(property=places.center.property)
    center.update(reasons=["stale"])
    assert matches_refresh_all().updated == 0  # same fingerprint (rules, weights, box, candidate): not re-scored
    assert center.get().reasons == ["stale"]
    stamps = dict(PropertyMatch.objects.values_list("pk", "updated_at"))
    MatchingProfileFactory(threshold=71, is_active=True)  # the weights are in the fingerprint: all re-scored
    assert matches_refresh_all() == MatchSummary(
        buyers=1, candidates=3, kept=3, created=0, updated=1, removed=0, unchanged=2
    )
    assert center.get().reasons[0] == "Inside the buyer's target area (+40)"
    # The other two got their new fingerprint without a new updated_at: their score and reasons did not change.
    assert {pk: at for pk, at in PropertyMatch.objects.values_list("pk", "updated_at") if at == stamps[pk]} == {
        pk: at for pk, at in stamps.items() if pk != center.get().pk
    }
    assert matches_refresh_all().updated == 0


@pytest.mark.postgis
def test_the_map_index_match_flag_follows_the_refresh_closed_leads_and_deactivated_buyers(places):
    from leads.grid import map_grid_refresh
    from leads.models import MapPoint
    from leads.services import lead_change_status

    def flagged():
        return set(MapPoint.objects.filter(has_matches=True).values_list("lead_id", flat=True))

    area, zips = area_buyer(), zip_buyer(["32805"])
    map_grid_refresh()
    assert flagged() == set()
    matches_refresh_all()
    assert flagged() == {places.center.pk, places.east.pk, places.listed.pk, places.zip_only.pk}
    lead_change_status(lead=places.east, status="dead", actor=None)  # a lead closes: the next refresh drops it
    assert MapPoint.objects.get(pk=places.east.pk).status == "dead"
    assert matches_refresh_all().removed == 1
    assert flagged() == {places.center.pk, places.listed.pk, places.zip_only.pk}
    zips.is_active = False
    zips.save()
    Buyer.objects.filter(pk=area.pk).update(is_active=False)
    assert matches_refresh_all().removed == 3  # no active buyer left: their matches go, and the flags with them
    assert flagged() == set()
