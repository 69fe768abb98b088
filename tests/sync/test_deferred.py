"""Buyer messages refused by the compliance gate only for quiet hours: deferred, then sent once when the contact's
hours open (the gate asked again), refused for good after DND, an opt-out or a dead lead; admin, health, command."""

import datetime

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from buyers.models import Buyer, PropertyMatch
from leads.models import Activity, Lead
from sync.deferred import deferred_messages_send_due
from sync.models import DeferredMessage, DoNotContact, SyncLog
from sync.push import ghl_push_leads
from tests.factories import DeferredMessageFactory, LeadFactory
from tests.sync.test_buyer_messages import ORLANDO, buyer_match

pytestmark = pytest.mark.django_db

EVENING = datetime.datetime(2026, 3, 5, 1, 30, tzinfo=datetime.UTC)  # Wednesday 20:30 EST in Orlando
LATER_EVENING = datetime.datetime(2026, 3, 5, 2, 0, tzinfo=datetime.UTC)  # 21:00 EST
OPENS = datetime.datetime(2026, 3, 5, 13, 0, tzinfo=datetime.UTC)  # Thursday 08:00 EST: Florida's window opens
BEFORE_OPENING = OPENS - datetime.timedelta(minutes=1)
AFTER_OPENING = OPENS + datetime.timedelta(minutes=5)


def at(moment):
    return time_machine.travel(moment, tick=False)


def test_a_message_refused_for_quiet_hours_is_sent_once_when_the_hours_open(fake_ghl, ghl):
    lead = LeadFactory(tier="A")
    match = buyer_match(lead, 1)

    with at(EVENING):
        ghl_push_leads(client=ghl)
    assert [p for p in fake_ghl.paths() if "buyer1" in p or "conversations" in p] == ["POST /contacts/buyer1/tasks"]
    deferred = DeferredMessage.objects.order_by("action")
    assert [(d.action, d.status, d.due_at, d.reason, d.lead_id, d.match_id) for d in deferred] == [
        ("sms", "pending", OPENS, "quiet_hours", lead.pk, match.pk),
        ("workflow", "pending", OPENS, "quiet_hours", lead.pk, match.pk),
    ]
    assert "Florida allows 08:00-20:00" in deferred[0].message
    refusals = list(lead.activities.filter(to_value="refused: quiet_hours").values_list("body", flat=True))
    assert len(refusals) == 2  # recorded as before, each with its reason

    with at(LATER_EVENING):
        ghl_push_leads(client=ghl)  # asked again, refused again: still one deferred message each, not recorded twice
    assert DeferredMessage.objects.filter(status="pending").count() == 2
    assert lead.activities.filter(to_value="refused: quiet_hours").count() == 2

    fake_ghl.calls.clear()
    with at(BEFORE_OPENING):
        early = deferred_messages_send_due(client=ghl)
    assert (early.status, early.processed, fake_ghl.calls) == ("success", 0, [])

    with at(AFTER_OPENING):
        log = deferred_messages_send_due(client=ghl)
    assert fake_ghl.paths() == ["POST /contacts/buyer1/workflow/wf000000000000000001", "POST /conversations/messages"]
    assert (log.sync_type, log.status, log.processed, log.succeeded, log.skipped) == ("deferred", "success", 2, 2, 0)
    assert [(d.status, d.outcome, d.finished_at) for d in deferred.all()] == [("sent", "sent", AFTER_OPENING)] * 2
    match.refresh_from_db()
    assert match.sms_sent_at == AFTER_OPENING and match.workflow_triggered_at == AFTER_OPENING
    granted = "sms granted (local: opted in on the DealFinder record)"
    assert sorted(lead.activities.filter(to_value="sent").values_list("body", flat=True)) == [
        f"SMS to buyer {match.buyer} (deferred until the hours opened) (consent: {granted})",
        f"Workflow enrolment of buyer {match.buyer} (deferred until the hours opened) "
        f"(consent: workflow unknown; {granted}; email unknown)",
    ]

    fake_ghl.calls.clear()
    with at(AFTER_OPENING + datetime.timedelta(minutes=15)):
        again = deferred_messages_send_due(client=ghl)
        ghl_push_leads(client=ghl)
    assert (again.processed, fake_ghl.calls) == (0, [])  # sent once: neither run sends it again
    assert lead.activities.filter(to_value="sent").count() == 2


def test_a_deferred_message_is_refused_at_send_time_after_dnd_an_opt_out_or_a_dead_lead(fake_ghl, ghl):
    dnd_lead, listed_lead, dead_lead = LeadFactory(tier="A"), LeadFactory(tier="A"), LeadFactory(tier="A")
    dnd, listed, dead = buyer_match(dnd_lead, 1), buyer_match(listed_lead, 2), buyer_match(dead_lead, 3)
    with at(EVENING):
        ghl_push_leads(client=ghl)
    assert DeferredMessage.objects.filter(status="pending").count() == 6

    Buyer.objects.filter(pk=dnd.buyer_id).update(dnd=True)
    DoNotContact.objects.create(phone_digits=listed.buyer.phone[2:], reason="asked on the phone")
    Lead.objects.filter(pk=dead_lead.pk).update(status="dead")
    fake_ghl.calls.clear()
    with at(AFTER_OPENING):
        log = deferred_messages_send_due(client=ghl)

    assert fake_ghl.calls == []
    assert (log.status, log.processed, log.succeeded, log.skipped) == ("success", 6, 0, 6)
    outcomes = {(d.match_id, d.action): (d.status, d.outcome.split(":")[0]) for d in DeferredMessage.objects.all()}
    assert outcomes == {
        (dnd.pk, "sms"): ("refused", "opted_out"),
        (dnd.pk, "workflow"): ("refused", "opted_out"),
        (listed.pk, "sms"): ("refused", "do_not_contact"),
        (listed.pk, "workflow"): ("refused", "do_not_contact"),
        (dead.pk, "sms"): ("refused", "lead_dead"),
        (dead.pk, "workflow"): ("refused", "lead_dead"),
    }
    assert sorted(
        Activity.objects.filter(to_value__startswith="refused: ")
        .exclude(to_value="refused: quiet_hours")
        .values_list("lead_id", "to_value")
    ) == sorted(
        [
            (dnd_lead.pk, "refused: opted_out"),
            (dnd_lead.pk, "refused: opted_out"),
            (listed_lead.pk, "refused: do_not_contact"),
            (listed_lead.pk, "refused: do_not_contact"),
            (dead_lead.pk, "refused: lead_dead"),
            (dead_lead.pk, "refused: lead_dead"),
        ]
    )
    assert PropertyMatch.objects.filter(sms_sent_at__isnull=False).count() == 0


def test_a_message_a_push_sent_first_is_superseded_and_one_still_in_quiet_hours_waits(fake_ghl, ghl):
    lead = LeadFactory(tier="A")
    buyer_match(lead, 1)
    with at(EVENING):
        ghl_push_leads(client=ghl)
    with at(AFTER_OPENING):
        ghl_push_leads(client=ghl)  # the push runs first once the hours open: it sends
        fake_ghl.calls.clear()
        log = deferred_messages_send_due(client=ghl)
    assert fake_ghl.calls == []
    assert (log.processed, log.succeeded, log.skipped) == (2, 0, 2)
    assert set(DeferredMessage.objects.values_list("status", "outcome")) == {("superseded", "already sent by a push")}
    assert lead.activities.filter(to_value="sent").count() == 2

    waiting = DeferredMessageFactory(due_at=EVENING - datetime.timedelta(hours=1))  # due, but the hours are closed
    Buyer.objects.filter(pk=waiting.match.buyer_id).update(
        ghl_contact_id="buyer9", sms_opt_in=True, phone=ORLANDO.format(9)
    )
    with at(EVENING):
        log = deferred_messages_send_due(client=ghl)
    waiting.refresh_from_db()
    assert (waiting.status, waiting.due_at, log.skipped, fake_ghl.calls) == ("pending", OPENS, 1, [])
    assert waiting.message.startswith("Not now: quiet hours")


def test_ghl_sync_deferred_runs_only_the_deferred_messages(settings, capsys):
    settings.GHL_API_TOKEN = ""
    DeferredMessageFactory(due_at=EVENING)
    call_command("ghl_sync", "--deferred")
    assert capsys.readouterr().out == (
        "deferred: success - processed 0, succeeded 0, failed 0, skipped 1 "
        "(GoHighLevel not configured (set GHL_API_TOKEN and GHL_LOCATION_ID))\n"
    )
    assert list(SyncLog.objects.values_list("sync_type", flat=True)) == ["deferred"]


def test_deferred_messages_are_counted_on_the_health_page_and_listed_in_admin(admin_client):
    now = datetime.datetime(2026, 3, 5, 13, 0, tzinfo=datetime.UTC)
    with at(now):
        DeferredMessageFactory(due_at=now - datetime.timedelta(minutes=5))
        DeferredMessageFactory(due_at=now + datetime.timedelta(hours=2))
        DeferredMessageFactory(status="sent", finished_at=now - datetime.timedelta(hours=1))
        DeferredMessageFactory(status="refused", finished_at=now - datetime.timedelta(days=8))  # before the week
        page = admin_client.get("/sync/health/")
        changelist = admin_client.get("/admin/sync/deferredmessage/?status__exact=pending")

    assert page.context["deferred"] == {"pending": 2, "due": 1, "sent": 1, "refused": 0}
    assert '<b id="deferred-pending">2</b>' in page.content.decode()
    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count == 2
    assert changelist.context["has_add_permission"] is False


def test_sending_deferred_messages_costs_a_stamp_and_a_record_per_message_and_nothing_more(fake_ghl, ghl):
    """The gate is asked once per batch; each sent message is stamped on its match and recorded right after the
    request (a run killed mid-batch never sends it again nor loses its record), so 12 messages cost 2 x 8 queries
    more than 4, and no more."""
    small, large = LeadFactory(tier="A"), LeadFactory(tier="A")
    for first, (lead, n) in ((100, (small, 2)), (200, (large, 6))):
        for i in range(n):
            buyer_match(lead, first + i)
    with at(EVENING):
        ghl_push_leads(client=ghl)
    ContentType.objects.get_for_model(Buyer)  # Django caches it per process: not a query of the sender's own
    later = OPENS + datetime.timedelta(hours=1)
    DeferredMessage.objects.filter(lead=large).update(due_at=later)  # each run sends one lead's messages
    counts = []
    for moment in (AFTER_OPENING, later + datetime.timedelta(minutes=5)):
        with at(moment), CaptureQueriesContext(connection) as queries:
            log = deferred_messages_send_due(client=ghl)
        counts.append((len(queries), log.succeeded))
    assert counts[1][0] - counts[0][0] == 2 * (12 - 4)
    assert [sent for _, sent in counts] == [4, 12]
