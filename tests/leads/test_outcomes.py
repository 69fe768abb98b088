"""Outcomes are recorded from every door (admin action, API status change or POST, GoHighLevel won/lost) once per
lead, kind and day; the backtest's selectors read the score each lead had strictly before its outcome."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from leads.backtest_runs import _deciding_dates, _lead_outcomes, _snapshots_before, backtest_run_create
from leads.models import Activity, BacktestRun, Lead, Outcome
from leads.outcomes import outcome_record
from leads.services import lead_bulk_change_status, lead_change_status
from tests.factories import LeadFactory, LeadScoreHistoryFactory, OutcomeFactory

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 2, 1)


def outcomes():
    return list(Outcome.objects.order_by("lead_id", "kind").values_list("lead_id", "kind", "source", "occurred_on"))


def test_status_changes_record_outcomes_once(broker):
    leads = LeadFactory.create_batch(3)
    today = datetime.date.today()
    lead_bulk_change_status(leads=Lead.objects.all(), status="contacted", actor=broker)
    assert outcomes() == []  # not an outcome
    lead_bulk_change_status(leads=Lead.objects.filter(pk=leads[0].pk), status="under_contract", actor=broker)
    lead_change_status(lead=leads[1], status="dead", actor=broker, source="api")
    lead_change_status(lead=leads[1], status="dead", actor=broker, source="api")  # no change: nothing new
    lead_bulk_change_status(leads=Lead.objects.filter(pk=leads[0].pk), status="closed_won", actor=broker)
    assert outcomes() == [
        (leads[0].pk, "closed_won", "admin", today),
        (leads[0].pk, "under_contract", "admin", today),
        (leads[1].pk, "dead", "api", today),
    ]
    # back and forth on the same day still leaves one outcome of each kind
    lead_change_status(lead=leads[1], status="follow_up", actor=broker)
    lead_change_status(lead=leads[1], status="dead", actor=broker)
    assert Outcome.objects.filter(lead=leads[1]).count() == 1


def test_outcome_record_fills_in_details_and_moves_the_status(broker):
    lead = LeadFactory(status="negotiating")
    lead_change_status(lead=lead, status="closed_won", actor=broker)  # the bare outcome, today
    today = datetime.date.today()
    outcome = outcome_record(lead=lead, kind="closed_won", source="admin", fee=Decimal("12500"), actor=broker)
    assert (outcome.kind, outcome.occurred_on, outcome.fee, outcome.source) == ("closed_won", today, 12500, "admin")
    assert Outcome.objects.count() == 1

    other = LeadFactory(status="contacted")
    dead = outcome_record(lead=other, kind="dead", source="api", occurred_on=DAY, reason="listed", actor=broker)
    other.refresh_from_db()
    assert (other.status, dead.reason, dead.occurred_on) == ("dead", "listed", DAY)
    assert list(Activity.objects.filter(lead=other).values_list("from_value", "to_value")) == [("contacted", "dead")]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "contacted"}, "'contacted' is not an outcome"),
        ({"kind": "dead", "fee": Decimal(1)}, "Only a closed (won) deal has a fee."),
        ({"kind": "closed_won", "reason": "price"}, "Only a dead lead has a reason."),
        ({"kind": "dead", "reason": "bored"}, "Unknown reason 'bored'"),
        ({"kind": "closed_won", "occurred_on": DAY, "contract_date": DAY + datetime.timedelta(1)}, "contract date"),
    ],
)
def test_outcome_record_refuses_what_cannot_be(kwargs, message):
    lead = LeadFactory()
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        outcome_record(lead=lead, source="admin", **kwargs)
    assert Outcome.objects.count() == 0
    assert Lead.objects.get(pk=lead.pk).status == "new"


def test_selectors_use_the_last_snapshot_strictly_before_the_deciding_outcome():
    lead, dead_only, no_snapshot = LeadFactory(), LeadFactory(), LeadFactory()
    for n, signals in ((0, "absentee_points"), (10, "absentee_points equity_points"), (20, "")):
        LeadScoreHistoryFactory(lead=lead, snapshot_date=DAY + datetime.timedelta(n), signals=signals, total=40 + n)
    LeadScoreHistoryFactory(lead=dead_only, snapshot_date=DAY, signals="tax_sale_points", total=30, tier="C")
    # dead first, then a contract signed on day 20 (closed on 25): the contract decides; the day-20 snapshot is
    # taken on the contract day and may already reflect it, so the day-10 one is used
    OutcomeFactory(lead=lead, kind="dead", occurred_on=DAY + datetime.timedelta(5))
    OutcomeFactory(
        lead=lead,
        kind="closed_won",
        occurred_on=DAY + datetime.timedelta(25),
        contract_date=DAY + datetime.timedelta(20),
    )
    OutcomeFactory(lead=dead_only, kind="dead", occurred_on=DAY + datetime.timedelta(3))
    OutcomeFactory(lead=no_snapshot, kind="dead", occurred_on=DAY)
    rows = list(_lead_outcomes())
    deciding = _deciding_dates(rows)
    assert deciding == {
        lead.pk: DAY + datetime.timedelta(20),
        dead_only.pk: DAY + datetime.timedelta(3),
        no_snapshot.pk: DAY,
    }
    converted = next(r for r in rows if r.lead_id == lead.pk and r.converted)
    assert converted.days_to_contract == 20
    snaps = {s.lead_id: (s.snapshot_date, s.total, s.signals) for s in _snapshots_before(deciding)}
    assert snaps == {
        lead.pk: (DAY + datetime.timedelta(10), 50, frozenset({"absentee_points", "equity_points"})),
        dead_only.pk: (DAY, 30, frozenset({"tax_sale_points"})),
    }


def test_too_few_outcomes_say_how_many_more_are_needed():
    lead = LeadFactory()
    LeadScoreHistoryFactory(lead=lead, snapshot_date=DAY)
    OutcomeFactory(lead=lead, kind="closed_won", occurred_on=DAY + datetime.timedelta(3))
    run = backtest_run_create()
    assert (run.outcomes, run.active_auc, run.proposed_auc) == (1, None, None)
    assert run.document["proposal"]["status"] == "insufficient"
    assert run.document["proposal"]["needs"] == {
        "won": 29,
        "not_won": 30,
        "signals": run.document["proposal"]["needs"]["signals"],
    }
    assert "29 more converted and 30 more not converted" in run.document["proposal"]["message"]
    assert not run.fitted


def test_admin_records_an_outcome_and_shows_a_backtest(admin_client):
    lead = LeadFactory(status="negotiating")
    response = admin_client.post(
        reverse("admin:leads_outcome_add"),
        {"lead": lead.pk, "kind": "closed_won", "occurred_on": "2026-02-01", "fee": "9000", "reason": "", "note": ""},
    )
    assert response.status_code == 302, response.context["adminform"].errors if response.context else response
    lead.refresh_from_db()
    assert lead.status == "closed_won"
    assert list(Outcome.objects.values_list("kind", "occurred_on", "fee", "source")) == [
        ("closed_won", DAY, Decimal("9000.00"), "admin")
    ]
    response = admin_client.post(reverse("admin:leads_backtestrun_run"))
    run = BacktestRun.objects.get()
    assert response.status_code == 302 and response.url == reverse("admin:leads_backtestrun_change", args=[run.pk])
    page = admin_client.get(response.url)
    assert page.status_code == 200
    assert b'id="bt-shortfall"' in page.content and b"Too few outcomes" in page.content
    assert b'id="chart-tier-rates"' in page.content


def test_brokers_run_backtests_but_only_admin_activates(client):
    from dealfinder.ops.roles import ACQUISITIONS
    from tests.factories import BrokerFactory

    broker = BrokerFactory(role=ACQUISITIONS)
    assert broker.has_perms(["leads.add_outcome", "leads.change_outcome", "leads.view_backtestrun"])
    assert broker.has_perm("leads.add_backtestrun") and not broker.has_perm("leads.change_scoringprofile")
    client.force_login(broker)
    run = BacktestRun.objects.create(document={"proposal": {"status": "fitted"}})
    assert client.post(reverse("admin:leads_backtestrun_activate", args=[run.pk])).status_code == 403
    assert client.get(reverse("admin:leads_backtestrun_run")).status_code == 405  # a run is a POST
    assert BacktestRun.objects.get(pk=run.pk).activated_profile is None
