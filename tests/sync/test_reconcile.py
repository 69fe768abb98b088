"""Reconcile, read-back and pacing against the stateful GoHighLevel fake (tests/sync/fake_ghl_state.py): what
GoHighLevel changed, dropped or deleted without telling DealFinder is noticed, and the budget is never overrun."""

import datetime

import pytest
import respx
import time_machine
from django.contrib.contenttypes.models import ContentType
from tenacity import wait_none

from buyers.models import Buyer
from leads.models import Lead
from sync.ghl import GHLClient
from sync.models import Consent, ExternalLink, SyncLog
from sync.pacing import GHLPacer, MemoryStore
from sync.pull import ghl_pull_buyers
from sync.push import ghl_push_leads
from sync.reconcile import ghl_reconcile
from tests.factories import BuyerFactory, LeadFactory, PropertyMatchFactory
from tests.sync.fake_ghl import BASE_URL, LOCATION_ID
from tests.sync.fake_ghl_state import FakeGHLState, ManualClock

pytestmark = pytest.mark.django_db
IN_HOURS = datetime.datetime(2026, 3, 4, 15, 0, tzinfo=datetime.UTC)  # a Wednesday, 10:00 in Orlando


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def fake(ghl_settings, clock):
    with respx.mock(assert_all_called=False) as router:
        state = FakeGHLState(router, clock=clock)
        yield state
    assert state.violations == []


def client_for(clock, *, daily_reserve=0) -> GHLClient:
    pacer = GHLPacer(
        MemoryStore(), location_id=LOCATION_ID, daily_reserve=daily_reserve, clock=clock, sleep=clock.sleep
    )
    return GHLClient(BASE_URL, "pit-test", LOCATION_ID, timeout=5, retry_wait=wait_none(), pacer=pacer)


def lead_link(lead, kind) -> ExternalLink:
    return ExternalLink.objects.get(content_type=ContentType.objects.get_for_model(Lead), object_id=lead.pk, kind=kind)


# --- reconcile ---------------------------------------------------------------------------------------------


def test_a_contact_changed_without_a_webhook_is_picked_up_by_the_next_reconcile(fake, clock):
    client = client_for(clock)
    ann = fake.add_contact(firstName="Ann", lastName="Lee", email="ann@example.test", phone="+14075550100")
    fake.edit_contact(ann["id"], tags=["cash-buyer"])
    lead = LeadFactory(tier="A")
    ghl_pull_buyers(client=client)
    ghl_push_leads(client=client)
    first = ghl_reconcile(client=client)
    assert (first.status, first.drift_found, first.drift_applied) == ("success", 0, 0)

    clock.advance(3600)  # changed in GoHighLevel; no webhook arrives
    fake.edit_contact(ann["id"], phone="+14075550199", dndSettings={"SMS": {"status": "active", "message": "asked"}})
    contact_id = lead_link(lead, "contact").ghl_id
    fake.edit_contact(contact_id, tags=[*fake.contacts[contact_id]["tags"], "seller-called"])
    fake.calls.clear()
    second = ghl_reconcile(client=client)

    buyer = Buyer.objects.get(ghl_contact_id=ann["id"])
    assert buyer.phone == "+14075550199"
    assert (second.status, second.drift_found, second.drift_applied) == ("success", 2, 2)
    assert lead_link(lead, "contact").remote_snapshot["tags"] == ["dealfinder", "seller-called", "tier-a"]
    assert lead.activities.filter(body__startswith="GoHighLevel contact changed without a webhook (tags)").count() == 1
    sms = Consent.objects.get(object_id=buyer.pk, channel="sms")
    assert (sms.status, sms.source, sms.detail) == ("revoked", "ghl_dnd", "GoHighLevel DND (SMS) active: asked")
    search = next(body for method, path, _, body in fake.calls if path == "/contacts/search")
    assert search["filters"][0]["field"] == "dateUpdated" and search["sort"] == [
        {"field": "dateUpdated", "direction": "asc"}
    ]
    # read again from the last high-water mark less the overlap: nothing new is drift
    third = ghl_reconcile(client=client)
    assert (third.drift_found, third.drift_applied) == (0, 0)
    assert SyncLog.objects.filter(sync_type="reconcile").count() == 3


def test_reconcile_applies_an_opportunity_status_and_marks_what_was_deleted(fake, clock):
    client = client_for(clock)
    won, gone = LeadFactory(tier="A"), LeadFactory(tier="A")
    buyer_contact = fake.add_contact(email="bo@example.test", tags=["cash-buyer"])
    ghl_pull_buyers(client=client)
    ghl_push_leads(client=client)
    clock.advance(60)
    fake.edit_opportunity(lead_link(won, "opportunity").ghl_id, status="won")
    fake.delete_contact(lead_link(gone, "contact").ghl_id)  # its opportunity goes with it
    fake.delete_contact(buyer_contact["id"])

    log = ghl_reconcile(client=client)

    won.refresh_from_db()
    assert won.status == Lead.Status.CLOSED_WON
    assert Lead.objects.filter(pk=gone.pk).exists()  # marked, not deleted
    assert lead_link(gone, "contact").remote_deleted_at is not None
    assert lead_link(gone, "opportunity").remote_deleted_at is not None
    assert lead_link(won, "contact").remote_deleted_at is None
    assert Buyer.objects.get(ghl_contact_id=buyer_contact["id"]).is_active is False
    assert gone.activities.filter(body__contains="was deleted in GoHighLevel").count() == 2
    assert (log.drift_found, log.drift_applied) == (4, 4)
    assert log.message == (
        "4 drift found, 4 applied, 3 deleted in GoHighLevel (marked); contacts changed since 2000-01-01 00:00:00 UTC"
    )


# --- read-back ---------------------------------------------------------------------------------------------


def test_a_field_dropped_by_gohighlevel_shows_as_drift_on_the_link(fake, clock, settings):
    settings.GHL_READBACK_SAMPLE = 1
    fake.drop_field("postalCode")
    lead = LeadFactory(tier="A")
    ghl_push_leads(client=client_for(clock))
    link = lead_link(lead, "contact")
    assert link.drift == {"postalCode": {"sent": lead.property.zip, "ghl": None}}
    assert link.drift_checked_at is not None
    assert "GET /contacts/" + link.ghl_id in fake.paths("GET")


def test_read_back_off_reads_nothing_back(fake, clock, settings):
    settings.GHL_READBACK_SAMPLE = 0
    LeadFactory(tier="A")
    ghl_push_leads(client=client_for(clock))
    assert [p for p in fake.paths("GET") if p.startswith("GET /contacts/")] == []


# --- pacing ------------------------------------------------------------------------------------------------


def test_a_low_remaining_budget_slows_the_push_before_any_429(ghl_settings, clock):
    with respx.mock(assert_all_called=False) as router:
        fake = FakeGHLState(router, clock=clock, interval_max=10)
        LeadFactory.create_batch(8, tier="A")
        log = ghl_push_leads(client=client_for(clock))
    assert (log.status, log.succeeded) == ("success", 8)
    assert fake.rate_limited == 0
    assert len(fake.calls) == 1 + 8 * 3 and sum(clock.sleeps) >= 20  # 25 requests at 8 an interval
    assert fake.violations == []


def test_the_daily_reserve_stops_a_push_cleanly_and_the_next_run_resumes(ghl_settings, clock):
    with respx.mock(assert_all_called=False) as router:
        fake = FakeGHLState(router, clock=clock, daily_limit=1000 + 10)
        leads = LeadFactory.create_batch(5, tier="A")
        first = ghl_push_leads(client=client_for(clock, daily_reserve=1000))
        assert first.status == "partial"
        assert "below the reserve of 1000 (GHL_DAILY_RESERVE)" in first.message
        assert fake.rate_limited == 0
        pushed = ExternalLink.objects.filter(kind="opportunity").count()
        assert 0 < pushed < 5

        clock.advance(86400)  # GoHighLevel's new day
        fake.daily_used = 0
        second = ghl_push_leads(client=client_for(clock, daily_reserve=1000))
    assert (second.status, second.succeeded, second.skipped) == ("success", 5 - pushed, pushed)
    assert ExternalLink.objects.filter(kind="opportunity").count() == len(leads)


# --- the compliance gate on the push path ------------------------------------------------------------------


def test_a_buyer_with_sms_dnd_in_gohighlevel_gets_no_text_and_the_refusal_is_recorded(fake, clock):
    client = client_for(clock)
    contact = fake.add_contact(email="cy@example.test", phone="+14075550123", tags=["cash-buyer"])
    ghl_pull_buyers(client=client)
    buyer = Buyer.objects.get(ghl_contact_id=contact["id"])
    Buyer.objects.filter(pk=buyer.pk).update(sms_opt_in=True)
    clock.advance(60)
    fake.edit_contact(contact["id"], dndSettings={"SMS": {"status": "permanent"}})
    ghl_reconcile(client=client)
    lead = LeadFactory(tier="A")
    match = PropertyMatchFactory(property=lead.property, buyer=buyer)

    with time_machine.travel(IN_HOURS, tick=False):
        ghl_push_leads(client=client)

    assert fake.messages == []
    match.refresh_from_db()
    assert match.sms_sent_at is None and match.task_created_at is not None
    refusal = lead.activities.get(to_value="refused: opted_out", body__startswith="Not sent (sms")
    assert "No texts: GoHighLevel DND (SMS) permanent" in refusal.body


def test_a_buyer_outside_quiet_hours_gets_no_text_until_the_window_opens(fake, clock):
    client = client_for(clock)
    lead = LeadFactory(tier="A")
    buyer = BuyerFactory(ghl_contact_id="placeholder", sms_opt_in=True, phone="+14075550177")
    contact = fake.add_contact(phone=buyer.phone)
    Buyer.objects.filter(pk=buyer.pk).update(ghl_contact_id=contact["id"])
    match = PropertyMatchFactory(property=lead.property, buyer=buyer)

    with time_machine.travel(datetime.datetime(2026, 3, 5, 1, 30, tzinfo=datetime.UTC), tick=False):  # 20:30 local
        ghl_push_leads(client=client)
    assert fake.messages == []
    refusal = lead.activities.get(to_value="refused: quiet_hours", body__startswith="Not sent (sms")
    assert "Florida allows 08:00-20:00" in refusal.body

    with time_machine.travel(IN_HOURS + datetime.timedelta(days=1), tick=False):
        ghl_push_leads(client=client)
    assert [m["contactId"] for m in fake.messages] == [contact["id"]]
    match.refresh_from_db()
    assert match.sms_sent_at is not None
