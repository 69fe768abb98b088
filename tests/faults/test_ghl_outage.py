"""A GoHighLevel outage during a whole push, at the HTTP layer (503s, timeouts): nothing is marked synced that
was not, the SyncLog records the failures, the client stops calling after a few failed requests, and the next
run, once GoHighLevel is back, catches up exactly once per lead."""

import httpx
import pytest
import respx
from django.contrib.contenttypes.models import ContentType
from tenacity import wait_none

from leads.models import Activity, Lead
from sync.ghl import BREAK_AFTER_FAILURES, MAX_ATTEMPTS, GHLClient
from sync.models import ExternalLink, SyncLog
from sync.push import ghl_push_leads
from tests.factories import LeadFactory
from tests.sync.conftest import ghl_settings  # noqa: F401  (GoHighLevel settings pointing at the fake)
from tests.sync.fake_ghl import BASE_URL, LOCATION_ID, FakeGHL

pytestmark = pytest.mark.django_db

LEADS = 5


class Outage:
    """In front of FakeGHL: while `mode` is set every request fails that way and never reaches GoHighLevel."""

    def __init__(self, router):
        self.mode: str | None = None
        self.up_for = 0  # with a mode set: answer this many more requests normally before failing
        self.failed_requests = 0
        self.fake = FakeGHL(router)
        router.route(host="ghl.test").mock(side_effect=self.handle)  # the same route: now answered here first

    def handle(self, request: httpx.Request):
        if self.mode is None or self.up_for > 0:
            self.up_for = max(self.up_for - 1, 0)
            return self.fake.handle(request)
        self.failed_requests += 1
        if self.mode == "503":
            return httpx.Response(503, json={"statusCode": 503, "message": "Service Unavailable"})
        raise httpx.ReadTimeout("timed out", request=request)


@pytest.fixture
def outage(ghl_settings):  # noqa: F811
    with respx.mock(assert_all_called=False) as router:
        outage = Outage(router)
        yield outage
    assert outage.fake.violations == []


@pytest.fixture
def sleeps():
    return []


def client(sleeps) -> GHLClient:
    """A fresh client per run, as ghl_client() gives each push (retries recorded in `sleeps`, never slept)."""
    return GHLClient(BASE_URL, "pit-test-token", LOCATION_ID, timeout=5, retry_wait=wait_none(), sleep=sleeps.append)


def synced() -> dict[int, set[str]]:
    """Lead id -> the kinds of GoHighLevel record it is synced with: a link with the hash of what was sent (a link
    saved right after GoHighLevel created the record, before the rest of the push, has none)."""
    links = ExternalLink.objects.filter(content_type=ContentType.objects.get_for_model(Lead)).exclude(last_hash="")
    result: dict[int, set[str]] = {}
    for object_id, kind in links.values_list("object_id", "kind"):
        result.setdefault(object_id, set()).add(kind)
    return result


@pytest.fixture
def leads(db):
    return [LeadFactory(tier="A", total=80 + n) for n in range(LEADS)]


@pytest.mark.parametrize("mode", ["503", "timeout"])
def test_outage_for_the_whole_push_marks_nothing_and_the_next_run_catches_up(outage, leads, sleeps, mode):
    outage.mode = mode

    log = ghl_push_leads(client=client(sleeps))

    assert (log.status, log.processed, log.succeeded, log.failed, log.skipped) == ("failed", LEADS, 0, LEADS, 0)
    assert [e["lead"] for e in log.errors] == [lead.pk for lead in leads]
    first, last = log.errors[0]["error"], log.errors[-1]["error"]
    assert first.startswith("GoHighLevel 503: Service Unavailable" if mode == "503" else "GoHighLevel 0: ReadTimeout")
    assert last.startswith("GoHighLevel 0: unavailable: 3 requests in a row failed")
    # Each of the first BREAK_AFTER_FAILURES leads cost MAX_ATTEMPTS requests; then the client stopped calling.
    assert outage.failed_requests == BREAK_AFTER_FAILURES * MAX_ATTEMPTS
    assert synced() == {}
    assert not Activity.objects.filter(kind=Activity.Kind.SYNC).exists()
    assert outage.fake.contacts == {} and outage.fake.opportunities == {}

    outage.mode = None
    caught_up = ghl_push_leads(client=client(sleeps))

    assert (caught_up.status, caught_up.succeeded, caught_up.failed, caught_up.skipped) == ("success", LEADS, 0, 0)
    assert synced() == {lead.pk: {"contact", "opportunity"} for lead in leads}
    assert len(outage.fake.contacts) == LEADS and len(outage.fake.opportunities) == LEADS
    again = ghl_push_leads(client=client(sleeps))
    assert (again.status, again.succeeded, again.skipped) == ("success", 0, LEADS)
    assert list(SyncLog.objects.order_by("id").values_list("status", flat=True)) == ["failed", "success", "success"]


def test_outage_in_the_middle_of_a_push_keeps_what_was_pushed_and_retries_the_rest(outage, leads, sleeps):
    # customFields + (upsert, tags, opportunity) for the first two leads, then GoHighLevel goes away.
    outage.mode, outage.up_for = "503", 1 + 3 * 2

    log = ghl_push_leads(client=client(sleeps))

    assert (log.status, log.processed, log.succeeded, log.failed) == ("partial", LEADS, 2, 3)
    assert synced() == {leads[0].pk: {"contact", "opportunity"}, leads[1].pk: {"contact", "opportunity"}}
    assert Activity.objects.filter(kind=Activity.Kind.SYNC).count() == 2
    pushed_contacts = dict(outage.fake.contacts)

    outage.mode = None
    caught_up = ghl_push_leads(client=client(sleeps))

    assert (caught_up.status, caught_up.succeeded, caught_up.failed, caught_up.skipped) == ("success", 3, 0, 2)
    assert synced() == {lead.pk: {"contact", "opportunity"} for lead in leads}
    assert len(outage.fake.contacts) == LEADS  # the two pushed before the outage were not pushed again
    assert all(outage.fake.contacts[cid] == contact for cid, contact in pushed_contacts.items())


def test_a_half_pushed_lead_is_not_marked_synced(outage, leads, sleeps):
    """The contact upsert succeeds, then GoHighLevel fails on the tags: the lead is not synced, so the next run
    pushes it again, as an update of the contact it recorded (never a second contact)."""
    outage.mode, outage.up_for = "503", 2  # customFields and the first upsert only

    log = ghl_push_leads(client=client(sleeps))

    assert (log.succeeded, log.failed) == (0, LEADS)
    assert synced() == {}
    assert len(outage.fake.contacts) == 1  # created remotely, but not recorded as synced
    assert list(ExternalLink.objects.values_list("kind", "last_hash")) == [("contact", "")]
