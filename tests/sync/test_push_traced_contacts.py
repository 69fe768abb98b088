"""Traced phones and emails flow to GoHighLevel with the owner's contact (issue 25 item 3): BatchData and
GoHighLevel both faked at the HTTP layer."""

import copy
import json
from decimal import Decimal

import httpx
import pytest

from properties.models import Owner
from properties.owner_services import owners_resolve
from sync.push import ghl_push_leads
from sync.skip_trace import lead_skip_trace
from sync.skiptrace.batchdata import BatchDataProvider
from sync.skiptrace_models import LeadContactPoint, PermissibleUseAcknowledgement
from tests.factories import LeadFactory, UserFactory
from tests.sync.recorded import batchdata

pytestmark = pytest.mark.django_db
BOX = "PO BOX 500, TAMPA, FL 33601"


def _provider(recorded: dict) -> BatchDataProvider:
    """BatchData answering `recorded`'s first item for each request asked, its requestId echoed."""

    def answer(request: httpx.Request) -> httpx.Response:
        answer = copy.deepcopy(recorded)
        item = answer["result"]["data"][0]
        answer["result"]["data"] = [
            {**copy.deepcopy(item), "input": {**item["input"], "requestId": asked["requestId"]}}
            for asked in json.loads(request.content)["requests"]
        ]
        return httpx.Response(200, json=answer)

    http = httpx.Client(transport=httpx.MockTransport(answer))
    return BatchDataProvider("https://batchdata.test", "bd-token", cost_per_hit=Decimal("0.12"), timeout=5, http=http)


def _trace(leads, recorded=None):
    PermissibleUseAcknowledgement.objects.get_or_create(user=UserFactory())
    leads = [type(lead).objects.select_related("property__owner").get(pk=lead.pk) for lead in leads]
    return lead_skip_trace(leads=leads, provider=_provider(recorded or batchdata("skiptrace_hit.json")))


def _bodies(fake, method, path_start):
    return [body for m, path, body in fake.calls if m == method and path.startswith(path_start)]


def test_after_a_trace_the_next_push_sends_the_owners_phone_and_email_then_nothing(fake_ghl, ghl):
    leads = [
        LeadFactory(tier="A", property__owner_name="SMITH JOHN A", property__owner_mailing_address=BOX),
        LeadFactory(tier="B", property__owner_name="John A. Smith", property__owner_mailing_address=BOX),
    ]
    owners_resolve()
    ghl_push_leads(client=ghl)
    (upsert,) = _bodies(fake_ghl, "POST", "/contacts/upsert")
    assert "phone" not in upsert and "email" not in upsert  # nothing known yet
    contact_id = next(iter(fake_ghl.contacts))

    report = _trace(leads)
    assert (report.calls, report.hits) == (1, 1)
    fake_ghl.calls.clear()
    log = ghl_push_leads(client=ghl)

    assert (log.status, log.succeeded, log.failed, log.skipped) == ("success", 1, 0, 1)
    (update,) = _bodies(fake_ghl, "PUT", f"/contacts/{contact_id}")
    assert (update["phone"], update["email"]) == ("+14075550142", "jsmith.orlando@example.com")
    assert fake_ghl.paths("POST").count("POST /contacts/upsert") == 0
    assert fake_ghl.paths("PUT") == [f"PUT /contacts/{contact_id}"]  # the opportunities did not change

    fake_ghl.calls.clear()
    again = ghl_push_leads(client=ghl)
    assert fake_ghl.calls == [] and again.skipped == 2


def test_a_dnc_phone_is_never_the_contacts_phone_and_a_brokers_email_comes_first(fake_ghl, ghl):
    lead = LeadFactory(tier="A", property__owner_name="SMITH JOHN A", property__owner_mailing_address=BOX)
    owners_resolve()
    owner = Owner.objects.get()
    LeadContactPoint.objects.create(owner=owner, kind="email", value="john@broker-found.example", source="broker")
    recorded = batchdata("skiptrace_hit.json")
    best = recorded["result"]["data"][0]["persons"][0]["phones"][0]
    assert (best["number"], best["type"], best["rank"]) == ("4075550142", "Mobile", 1)
    for person in recorded["result"]["data"][0]["persons"]:
        for phone in person["phones"]:
            if phone["number"] == "4075550142":
                phone["dnc"] = True  # the best-ranked mobile is on the Do Not Call registry
    _trace([lead], recorded)
    assert LeadContactPoint.objects.get(owner=owner, value="4075550142").dnc is True

    log = ghl_push_leads(client=ghl)

    assert (log.status, log.failed) == ("success", 0)
    (upsert,) = _bodies(fake_ghl, "POST", "/contacts/upsert")
    # 4075550142 (mobile, DNC), 4075550187 (landline, DNC) and 3215550111 (TCPA) are passed over: the next mobile
    assert (upsert["phone"], upsert["email"]) == ("+16895550163", "john@broker-found.example")


def test_a_lead_without_an_owner_sends_its_own_traced_phone(fake_ghl, ghl):
    lead = LeadFactory(tier="A", property__owner_name="")
    _trace([lead])
    assert LeadContactPoint.objects.filter(lead=lead, owner__isnull=True).count() == 6

    ghl_push_leads(client=ghl)

    (upsert,) = _bodies(fake_ghl, "POST", "/contacts/upsert")
    assert (upsert["phone"], upsert["email"]) == ("+14075550142", "jsmith.orlando@example.com")
