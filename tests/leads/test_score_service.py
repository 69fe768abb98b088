from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dealfinder.ops.scoring import leads_score
from leads.models import Lead, LeadScoreHistory, ScoringProfile
from leads.services import leads_score_all, scoringprofile_get_active
from properties.models import Property
from sync.models import ExternalLink
from tests import factories as pf
from tests.factories import ActivityFactory, ExternalLinkFactory, LeadFactory, ScoringProfileFactory
from tests.leads.conftest import TODAY, at, days, hot_property

pytestmark = pytest.mark.django_db

EXPECTED = {
    "HOT": (
        "A",
        75,
        4,
        [
            "Active tax-deed sale (+16)",
            "Foreclosure auction scheduled (+16)",
            "2 open code violations (+10)",
            "Absentee owner (+6)",
            "Distress capped at 40 (-8)",
            "Equity 52% (+15)",
            "Market value $250,000 in the target band (+5)",
            "Tax-deed sale in 12 days (+10)",
            "Foreclosure auction in 30 days (+10)",
            "Urgency capped at 15 (-5)",
        ],
    ),
    "WARM": (
        "B",
        68,
        4,
        [
            "Active tax-deed sale (+16)",
            "1 open code violation (+8)",
            "Property taxes delinquent (+8)",
            "Absentee owner (+6)",
            "Equity 52% (+15)",
            "Market value $250,000 in the target band (+5)",
            "Tax-deed sale in 25 days (+10)",
        ],
    ),
    "FILED": (
        "C",
        47,
        3,
        [
            "Foreclosure filed (+10)",
            "Absentee owner (+6)",
            "Vacant (+8)",
            "Equity 52% (+15)",
            "Market value $250,000 in the target band (+5)",
            "Foreclosure filed 20 days ago (+3)",
        ],
    ),
    "LISTED": (
        "C",
        49,
        1,
        [
            "1 price reduction (+6)",
            "Equity 52% (+15)",
            "Market value $250,000 in the target band (+5)",
            "Listed 20% below market value (+10)",
            "ZIP 32805 is a target area (+10)",
            "Price cut 10 days ago (+3)",
        ],
    ),
    "CLEAN": ("D", 20, 0, ["Equity 52% (+15)", "Market value $250,000 in the target band (+5)"]),
    "STALE": ("D", 0, 0, []),
}


@pytest.fixture
def profile(db):
    return ScoringProfileFactory(name="Orlando", is_active=True, parameters={"target_zips": ["32805"]})


def leads_by_parcel():
    return {lead.property.parcel_id: lead for lead in Lead.objects.select_related("property")}


def test_scores_the_fixture_county_with_exact_tiers_reasons_and_deal_numbers(county, profile, broker):
    kept = LeadFactory(property=county["hot"], status="contacted", assigned_to=broker, notes="Call back", total=10)
    old_inactive = LeadFactory(property=county["inactive"], total=33, tier="D", reasons=["old"])
    untouched = (old_inactive.scored_at, old_inactive.updated_at)

    summary = leads_score_all(today=TODAY)

    assert (summary.scored, summary.created, summary.changed, summary.unchanged) == (6, 5, 1, 0)
    assert summary.tiers == {"A": 1, "B": 1, "C": 2, "D": 2}
    assert summary.new_tier_a == [kept.pk]
    assert summary.history_written == 6
    leads = leads_by_parcel()
    actual = {parcel: (lead.tier, lead.total, lead.stack_count, lead.reasons) for parcel, lead in leads.items()}
    assert actual == {**EXPECTED, "GONE": ("D", 33, 2, ["old"])}
    hot = leads["HOT"]
    assert (hot.distress, hot.value, hot.location_score, hot.urgency) == (40, 20, 0, 15)
    assert (hot.status, hot.assigned_to, hot.notes) == ("contacted", broker, "Call back")
    assert (hot.arv, hot.repair_estimate, hot.mao) == (Decimal("250000"), Decimal("40500"), Decimal("124500"))
    assert (leads["LISTED"].arv, leads["LISTED"].repair_estimate, leads["LISTED"].mao) == (
        Decimal("250000"),
        None,
        None,
    )
    # STALE: no value, unknown year built -> base repairs only, no MAO.
    assert (leads["STALE"].arv, leads["STALE"].repair_estimate, leads["STALE"].mao) == (None, Decimal("22500"), None)
    assert leads["LISTED"].location_score == 10
    old_inactive.refresh_from_db()
    assert (old_inactive.scored_at, old_inactive.updated_at) == untouched
    history = {h.lead.property.parcel_id: (h.snapshot_date, h.tier, h.total) for h in LeadScoreHistory.objects.all()}
    assert history == {parcel: (TODAY, tier, total) for parcel, (tier, total, _, _) in EXPECTED.items()}


def test_same_day_rerun_writes_nothing(county, profile):
    leads_score_all(today=TODAY)
    before = {lead.pk: (lead.updated_at, lead.scored_at) for lead in Lead.objects.all()}
    history_before = list(LeadScoreHistory.objects.values_list("id", "updated_at"))

    summary = leads_score_all(today=TODAY)

    assert (summary.scored, summary.created, summary.changed, summary.unchanged) == (6, 0, 0, 6)
    assert summary.history_written == 0
    assert {lead.pk: (lead.updated_at, lead.scored_at) for lead in Lead.objects.all()} == before
    assert list(LeadScoreHistory.objects.values_list("id", "updated_at")) == history_before


def test_same_day_rescore_after_a_change_updates_the_snapshot_in_place(county, profile):
    leads_score_all(today=TODAY)
    pf.CodeViolationFactory(property=county["clean"], opened_at=days(-1))

    summary = leads_score_all(today=TODAY)

    assert (summary.created, summary.changed, summary.unchanged, summary.history_written) == (0, 1, 5, 1)
    assert LeadScoreHistory.objects.count() == 6
    snapshot = LeadScoreHistory.objects.get(lead__property=county["clean"])
    assert (snapshot.snapshot_date, snapshot.total, snapshot.tier, snapshot.stack_count) == (TODAY, 28, "D", 1)


def test_a_deal_only_change_rewrites_the_leads_but_not_their_snapshot(county, profile):
    leads_score_all(today=TODAY)
    history_before = sorted(LeadScoreHistory.objects.values_list("id", "updated_at"))
    profile.assignment_fee += 1000
    profile.save()

    summary = leads_score_all(today=TODAY)

    # Every lead with an MAO above $0 changes by $1,000; the scores and the snapshot do not.
    with_mao = Lead.objects.filter(mao__gt=0)
    assert (summary.changed, summary.unchanged, summary.history_written) == (with_mao.count(), 6 - with_mao.count(), 0)
    assert Lead.objects.get(property=county["hot"]).mao == Decimal("123500")
    assert sorted(LeadScoreHistory.objects.values_list("id", "updated_at")) == history_before


def test_a_snapshot_out_of_step_with_its_unchanged_lead_is_rewritten(county, profile):
    leads_score_all(today=TODAY)
    LeadScoreHistory.objects.filter(lead__property=county["warm"]).update(total=1, tier="D")
    LeadScoreHistory.objects.filter(lead__property=county["clean"]).delete()

    summary = leads_score_all(today=TODAY)

    assert (summary.changed, summary.unchanged, summary.history_written) == (0, 6, 2)
    history = {h.lead.property.parcel_id: (h.tier, h.total) for h in LeadScoreHistory.objects.all()}
    assert history == {parcel: (tier, total) for parcel, (tier, total, _, _) in EXPECTED.items()}


def test_new_tier_a_across_days(county, profile):
    first = leads_score_all(today=TODAY)
    warm = Lead.objects.get(property=county["warm"])
    hot = Lead.objects.get(property=county["hot"])
    assert first.new_tier_a == [hot.pk]

    # Day two: the warm parcel's foreclosure lands; hot stays A and is not new again.
    pf.ForeclosureFactory(property=county["warm"], auction_date=days(20), filing_date=days(-5))
    second = leads_score_all(today=days(1))
    assert second.new_tier_a == [warm.pk]
    assert second.tiers == {"A": 2, "B": 0, "C": 2, "D": 2}

    third = leads_score_all(today=days(2))
    assert third.new_tier_a == []
    tiers = LeadScoreHistory.objects.filter(lead=warm).order_by("snapshot_date").values_list("tier", flat=True)
    assert list(tiers) == ["B", "A", "A"]


def test_dropping_out_of_a_and_back_in_is_a_new_entry(profile):
    prop = hot_property(parcel_id="BOUNCE")
    assert leads_score_all(today=TODAY).new_tier_a == [Lead.objects.get().pk]
    prop.code_violations.update(status="Closed")
    assert leads_score_all(today=days(1)).tiers["A"] == 0
    prop.code_violations.update(status="Open")
    assert leads_score_all(today=days(2)).new_tier_a == [Lead.objects.get().pk]


def test_one_parcel_only(county, profile):
    summary = leads_score_all(parcel_id="WARM", today=TODAY)
    assert (summary.scored, summary.created) == (1, 1)
    assert list(Lead.objects.values_list("property__parcel_id", flat=True)) == ["WARM"]


def _county_of(n: int):
    for i in range(n):
        prop = hot_property(parcel_id=f"Q{n}-{i}")
        pf.PriceChangeFactory(listing=pf.ListingFactory(property=prop), changed_at=at(-10))


def _queries_to_score() -> int:
    with CaptureQueriesContext(connection) as ctx:
        leads_score_all(today=TODAY)
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_properties(profile):
    # 30 leads fit one insert even under SQLite's 999-parameter limit (the lead has 27 columns to insert); beyond
    # that the writes go in bounded batches.
    _county_of(10)
    small, small_rerun = _queries_to_score(), _queries_to_score()
    Property.objects.all().delete()
    _county_of(30)
    large, large_rerun = _queries_to_score(), _queries_to_score()
    assert Lead.objects.count() == 30
    assert LeadScoreHistory.objects.count() == 30
    assert (small, small_rerun) == (large, large_rerun)
    # with the merged-leads check, the buyer demand per zip, tax delinquencies, the day's tier counts (4)
    assert small_rerun < small <= 23


def test_default_profile_is_created_once(db):
    assert ScoringProfile.objects.count() == 0
    profile = scoringprofile_get_active()
    assert (profile.name, profile.is_active, profile.distress_cap, profile.tier_a_min) == ("Default", True, 40, 75)
    assert scoringprofile_get_active() == profile
    assert ScoringProfile.objects.count() == 1


def test_score_command_prints_summary(county, profile, capsys):
    call_command("score", parcel="CLEAN")
    assert capsys.readouterr().out == (
        "scored 1: created 1, changed 0, unchanged 0; tiers A=0 B=0 C=0 D=1; new tier A 0; history rows written 1\n"
    )
    with pytest.raises(CommandError, match="No active property with parcel id 'GONE'"):
        call_command("score", parcel="GONE")


def test_buyer_demand_passed_in_feeds_the_location_score(profile):
    prop = pf.PropertyFactory(parcel_id="DEMAND", zip="32805")
    summary = leads_score_all(today=TODAY, buyer_demand_by_zip={"32805": 3, "32801": 9})
    lead = Lead.objects.get(property=prop)
    assert (summary.scored, lead.location_score, lead.reasons) == (
        1,
        15,
        ["ZIP 32805 is a target area (+10)", "3 cash buyers nearby (+5)"],
    )


def test_leads_of_merged_properties_follow_their_survivor():
    survivor, lone = pf.PropertyFactory(parcel_id="KEEP"), pf.PropertyFactory(parcel_id="LONE")
    with_lead = pf.PropertyFactory(parcel_id="DUP1", is_active=False, merged_into=survivor)
    also = pf.PropertyFactory(parcel_id="DUP2", is_active=False, merged_into=survivor)
    moved_to_lone = pf.PropertyFactory(parcel_id="DUP3", is_active=False, merged_into=lone)
    kept = LeadFactory(property=survivor)
    folded, second = LeadFactory(property=with_lead), LeadFactory(property=also)
    moved = LeadFactory(property=moved_to_lone)
    note = ActivityFactory(lead=folded, kind="note", body="Owner called back")
    OPPORTUNITY = ExternalLink.Kind.OPPORTUNITY
    ExternalLinkFactory(local=kept, ghl_id="c-kept")
    ExternalLinkFactory(local=folded, ghl_id="c-folded")
    ExternalLinkFactory(local=folded, kind=OPPORTUNITY, ghl_id="o-folded")
    ExternalLinkFactory(local=second, kind=OPPORTUNITY, ghl_id="o-second")
    ExternalLinkFactory(local=moved, ghl_id="c-moved")

    summary = leads_score()  # the roof's: it hands the folded leads' links over

    assert summary.merged == 3
    assert "leads of merged parcels folded 3" in str(summary)
    assert dict(Lead.objects.values_list("property__parcel_id", "id")) == {"KEEP": kept.pk, "LONE": moved.pk}
    assert not Lead.objects.filter(pk__in=[folded.pk, second.pk]).exists()
    note.refresh_from_db()
    assert note.lead_id == kept.pk
    # The kept lead keeps its contact and takes the first folded opportunity; the other links are dropped.
    assert set(ExternalLink.objects.values_list("ghl_id", "kind", "object_id")) == {
        ("c-kept", "contact", kept.pk),
        ("o-folded", "opportunity", kept.pk),
        ("c-moved", "contact", moved.pk),
    }
    assert leads_score().merged == 0  # converged


def test_buyers_target_zips_feed_the_location_score(profile):
    from tests.factories import BuyerFactory

    prop = pf.PropertyFactory(parcel_id="WANTED", zip="32805")
    BuyerFactory.create_batch(3, target_zips=["32805", "32808"])
    BuyerFactory(target_zips=["32805"], is_active=False)

    leads_score(today=TODAY)  # the roof's: it passes the buyers' demand

    lead = Lead.objects.get(property=prop)
    assert "3 cash buyers nearby (+5)" in lead.reasons
    assert lead.location_score == 15  # with the profile's target zip (+10)


def test_a_tired_landlords_leads_carry_the_portfolio_reason(profile):
    from properties.owner_services import owners_resolve

    box = "PO BOX 500, TAMPA, FL 33601"
    props = [pf.PropertyFactory(owner_name=n, owner_mailing_address=box) for n in ("SMITH JOHN A", "John A. Smith")]
    for prop in props:
        pf.CodeViolationFactory(property=prop, closed_at=None)
    loner = pf.PropertyFactory(owner_name="DOE JANE", owner_mailing_address="9 OAK AVE, ATLANTA, GA 30301")
    owners_resolve()

    leads_score_all(today=TODAY)

    for prop in props:
        assert "Owner holds 2 distressed parcels of 2 (tired landlord) (+6)" in Lead.objects.get(property=prop).reasons
    assert not any("Owner holds" in r for r in Lead.objects.get(property=loner).reasons)
