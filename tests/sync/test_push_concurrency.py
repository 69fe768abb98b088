"""Two pushes of the same lead at once (the 15-minute schedule and a broker's "Push to GoHighLevel now", or two
workers) create one GoHighLevel contact, not two, and send each match's SMS once (issue 16, item 13).

Two threads, each with its own database connection, push against the fake GoHighLevel. The fake holds the first
contact upsert until the second push has finished, so the two runs overlap exactly where the old code raced:
between reading "no contact link yet" and saving the link GoHighLevel's answer gave.
"""

import threading

import pytest
from django.db import connection

from sync.models import ExternalLink, PushClaim, SyncLog
from sync.push import ghl_push_leads
from tests.factories import BuyerFactory, LeadFactory, PropertyMatchFactory
from tests.sync.clock import office_hours

pytestmark = pytest.mark.django_db(transaction=True)


class HoldFirstUpsert:
    """The fake's on_request hook: the first POST /contacts/upsert waits until `release` is set."""

    def __init__(self):
        self.inside, self.release = threading.Event(), threading.Event()
        self.held = False

    def __call__(self, request):
        if request.url.path == "/contacts/upsert" and not self.held:
            self.held = True
            self.inside.set()
            self.release.wait(30)


def in_thread(target, results, name):
    def run():
        try:
            results[name] = target()
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread


@office_hours()
def test_two_pushes_at_once_create_one_contact_and_one_sms(fake_ghl, ghl_settings):
    lead = LeadFactory(tier="A", total=85)
    buyer = BuyerFactory(ghl_contact_id="buyerContact0000001", sms_opt_in=True, dnd=False)
    PropertyMatchFactory(property=lead.property, buyer=buyer, score=90)
    hold = fake_ghl.on_request = HoldFirstUpsert()
    results = {}

    first = in_thread(ghl_push_leads, results, "first")
    assert hold.inside.wait(30), "the first push never reached GoHighLevel"
    second = in_thread(ghl_push_leads, results, "second")
    second.join(60)
    hold.release.set()
    first.join(60)

    upserts = [path for method, path, _ in fake_ghl.calls if (method, path) == ("POST", "/contacts/upsert")]
    sms = [path for method, path, _ in fake_ghl.calls if path == "/conversations/messages"]
    assert (len(upserts), len(sms), len(fake_ghl.contacts)) == (1, 1, 1)
    assert ExternalLink.objects.filter(kind="contact", object_id=lead.pk).count() == 1
    log_first, log_second = results["first"], results["second"]
    assert (log_first.status, log_first.succeeded) == ("success", 2)  # the lead and its match
    assert (log_second.status, log_second.succeeded, log_second.skipped) == ("success", 0, 1)
    assert "1 leads skipped: another push run was pushing them" in log_second.message
    assert not PushClaim.objects.exists()  # released
    assert SyncLog.objects.count() == 2

    # The next scheduled push sees the link and the stamped SMS: nothing to send.
    fake_ghl.calls.clear()
    again = ghl_push_leads()
    assert [call for call in fake_ghl.calls if call[0] != "GET"] == []
    assert (again.succeeded, again.skipped) == (0, 1)
