"""Buyer messages about matches and the compliance gate: a push asks the gate once per batch of matches, so the
only queries that grow with the number of buyers it messages are the stamps and send records saved right after
each match's requests (a run killed mid-batch never messages a buyer twice nor loses a record of a message sent)."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from buyers.models import Buyer, PropertyMatch
from leads.models import Activity
from sync.push import ghl_push_leads
from tests.factories import BuyerFactory, LeadFactory, PropertyMatchFactory
from tests.sync.clock import office_hours

pytestmark = pytest.mark.django_db

ORLANDO = "+1407555{:04d}"  # area code 407: the gate places these buyers in America/New_York


def buyer_match(lead, n, **buyer):
    """A match of `lead` with buyer number `n` (0-9999: its phone keeps ten digits, whatever the database ids)."""
    assert 0 <= n <= 9999
    fields = {"ghl_contact_id": f"buyer{n}", "sms_opt_in": True, "phone": ORLANDO.format(n), **buyer}
    return PropertyMatchFactory(property=lead.property, buyer=BuyerFactory(**fields))


def push_queries(ghl, lead) -> int:
    with CaptureQueriesContext(connection) as queries:
        ghl_push_leads(client=ghl, lead_ids=[lead.pk])
    return len(queries)


@office_hours()
def test_a_push_asks_the_gate_once_per_batch_whatever_the_number_of_buyers(fake_ghl, ghl):
    small, large = LeadFactory(tier="A"), LeadFactory(tier="A")
    ghl_push_leads(client=ghl)  # the leads' own contacts and opportunities: not what is measured
    for first, (lead, n) in ((100, (small, 2)), (200, (large, 7))):
        for i in range(n):
            buyer_match(lead, first + i)
        buyer_match(lead, first + 99, dnd=True)  # one refusal each: recorded in the same bulk insert
    fake_ghl.calls.clear()
    ContentType.objects.get_for_model(Buyer)  # Django caches it per process: not a query of the push's own

    counts = [push_queries(ghl, small), push_queries(ghl, large)]

    # Per match: its stamps (each gets a task at least), plus the records of the messages sent when it was messaged
    # (the DND buyer's was not); nothing else grows.
    assert counts[1] - counts[0] == (8 - 3) + (7 - 2)
    assert len([p for p in fake_ghl.paths() if p == "POST /conversations/messages"]) == 9
    assert Activity.objects.filter(to_value="sent").count() == 18  # an SMS and a workflow enrolment each
    assert Activity.objects.filter(to_value="refused: opted_out").count() == 2  # the DND buyers' workflows
    assert PropertyMatch.objects.filter(sms_sent_at__isnull=False, workflow_triggered_at__isnull=False).count() == 9
    assert PropertyMatch.objects.filter(task_created_at__isnull=True).count() == 0
