"""Outcomes through the API: a status PATCH alone records one; POST adds the fee or reason; backtests are read."""

import datetime

import pytest

from leads.backtest_runs import backtest_run_create
from leads.models import Lead, Outcome
from tests.factories import LeadFactory, LeadScoreHistoryFactory

pytestmark = pytest.mark.django_db


def test_a_status_patch_alone_records_an_outcome(acq):
    lead = LeadFactory(status="negotiating")
    response = acq.patch(f"/api/v1/leads/{lead.pk}/", {"status": "closed_won"}, format="json")
    assert response.status_code == 200, response.content
    assert list(Outcome.objects.values_list("lead_id", "kind", "source", "fee", "reason")) == [
        (lead.pk, "closed_won", "api", None, "")
    ]
    acq.patch(f"/api/v1/leads/{lead.pk}/", {"status": "closed_won"}, format="json")  # again: nothing new
    assert Outcome.objects.count() == 1


def test_post_an_outcome_with_its_fee_or_reason(acq, dispo):
    won, lost = LeadFactory(status="negotiating"), LeadFactory(status="contacted")
    response = acq.post(
        "/api/v1/outcomes/",
        {"lead": won.pk, "kind": "closed_won", "occurred_on": "2026-02-01", "fee": "15000.00"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("lead", "kind", "occurred_on", "fee", "reason", "source")} == {
        "lead": won.pk,
        "kind": "closed_won",
        "occurred_on": "2026-02-01",
        "fee": "15000.00",
        "reason": "",
        "source": "api",
    }
    assert Lead.objects.get(pk=won.pk).status == "closed_won"
    response = acq.post("/api/v1/outcomes/", {"lead": lost.pk, "kind": "dead", "reason": "price"}, format="json")
    assert response.status_code == 201
    assert Outcome.objects.get(lead=lost).reason == "price"
    # refused with the reason, nothing written
    response = acq.post("/api/v1/outcomes/", {"lead": lost.pk, "kind": "dead", "fee": "10"}, format="json")
    assert (response.status_code, response.json()) == (400, {"detail": "Only a closed (won) deal has a fee."})
    assert dispo.post("/api/v1/outcomes/", {"lead": lost.pk, "kind": "dead"}, format="json").status_code == 403
    rows = acq.get("/api/v1/outcomes/", {"kind": "dead"}).json()["results"]
    assert [row["lead"] for row in rows] == [lost.pk]


def test_backtests_latest(acq, dispo):
    assert acq.get("/api/v1/backtests/latest/").status_code == 404
    lead = LeadFactory()
    LeadScoreHistoryFactory(lead=lead, snapshot_date=datetime.date(2026, 1, 1))
    Outcome.objects.create(lead=lead, kind="dead", occurred_on=datetime.date(2026, 1, 5))
    run = backtest_run_create()
    body = acq.get("/api/v1/backtests/latest/").json()
    assert (body["id"], body["outcomes"], body["document"]["outcomes"]) == (run.pk, 1, 1)
    assert set(body["document"]) >= {"by_tier", "signals", "active_auc", "proposed_auc", "active_weights"}
    assert dispo.get("/api/v1/backtests/latest/").status_code == 403
