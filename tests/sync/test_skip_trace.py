"""Skip tracing leads' owners against BatchData's recorded-format answers (respx at the HTTP layer)."""

import copy
import datetime
import importlib
import json
from decimal import Decimal

import httpx
import pytest
import respx
from django.core.management import call_command
from django.core.management.base import CommandError

from leads.models import Lead
from properties import models as pm
from sync.skiptrace_models import LeadContactPoint, LeadSkipTrace, PermissibleUseAcknowledgement, SkipTraceCall
from tests.factories import LeadFactory, LeadSkipTraceFactory, OwnerFactory, UserFactory
from tests.sync.recorded import batchdata

pytestmark = pytest.mark.django_db
BASE = "https://batchdata.test"
URL = f"{BASE}/api/v3/property/skip-trace"


@pytest.fixture
def bd(settings):
    settings.BATCHDATA_API_BASE_URL = BASE
    settings.BATCHDATA_API_TOKEN = "bd-token"
    settings.SKIPTRACE_COST_PER_HIT = "0.12"
    settings.SKIPTRACE_WINDOW_DAYS = 90


@pytest.fixture
def acknowledged():
    return PermissibleUseAcknowledgement.objects.create(user=UserFactory())


def answer_hit_for_each(request):
    """The recorded hit, answered once per request with its requestId echoed."""
    asked = json.loads(request.content)["requests"]
    recorded = batchdata("skiptrace_hit.json")
    item = recorded["result"]["data"][0]
    recorded["result"]["data"] = []
    for entry in asked:
        copy_ = copy.deepcopy(item)
        copy_["input"]["requestId"] = entry["requestId"]
        recorded["result"]["data"].append(copy_)
    return httpx.Response(200, json=recorded)


@respx.mock
def test_refuses_before_anyone_acknowledged_permissible_use(bd):
    LeadFactory(tier="A")
    with pytest.raises(CommandError, match="permissible use"):
        call_command("skip_trace", "--tiers", "A")
    assert not respx.calls and SkipTraceCall.objects.count() == 0


@respx.mock
def test_traces_stores_contacts_keeps_broker_entries_and_never_repeats_within_the_window(bd, acknowledged):
    a, b = LeadFactory(tier="A"), LeadFactory(tier="B")
    hit = batchdata("skiptrace_hit.json")["result"]["data"][0]
    broker_phone = hit["persons"][0]["phones"][0]["number"]
    LeadContactPoint.objects.create(lead=a, kind="phone", value=broker_phone, source="broker", phone_type="landline")
    route = respx.post(URL).mock(side_effect=answer_hit_for_each)

    call_command("skip_trace", "--tiers", "A,B")

    assert route.call_count == 1
    sent = json.loads(route.calls[0].request.content)["requests"]
    assert [r["requestId"] for r in sent] == [f"lead-{a.id}", f"lead-{b.id}"]
    call = SkipTraceCall.objects.get()
    assert (call.requests, call.hits, call.cost) == (2, 2, Decimal("0.24"))
    assert LeadSkipTrace.objects.filter(status="hit").count() == 2
    kept = LeadContactPoint.objects.get(lead=a, source="broker")
    assert (kept.value, kept.phone_type) == (broker_phone, "landline")  # never overwritten
    b_phones = LeadContactPoint.objects.filter(lead=b, kind="phone", source="batchdata")
    a_phones = LeadContactPoint.objects.filter(lead=a, kind="phone", source="batchdata")
    assert a_phones.count() == b_phones.count() - 1
    assert {p.phone_type for p in b_phones} >= {"mobile", "landline"}
    assert b_phones.filter(dnc=True).exists() and b_phones.filter(tcpa=True).exists()
    assert LeadContactPoint.objects.filter(lead=b, kind="email").exists()

    call_command("skip_trace", "--tiers", "A,B")  # inside the window: no second billable call
    assert route.call_count == 1 and SkipTraceCall.objects.count() == 1


@respx.mock
def test_no_hit_is_free_and_counts_as_traced(bd, acknowledged):
    lead = LeadFactory(tier="A")
    no_hit = batchdata("skiptrace_no_hit.json")
    no_hit["result"]["data"][0]["input"]["requestId"] = f"lead-{lead.id}"
    route = respx.post(URL).respond(200, json=no_hit)
    call_command("skip_trace", "--tiers", "A")
    call_command("skip_trace", "--tiers", "A")
    assert route.call_count == 1
    assert SkipTraceCall.objects.get().cost == Decimal(0)
    assert LeadSkipTrace.objects.get().status == "no_hit"


@respx.mock
def test_a_failed_call_bills_nothing_and_a_rerun_may_try_again(bd, acknowledged, settings):
    LeadFactory(tier="A")
    route = respx.post(URL).respond(401, json=batchdata("error_401.json"))
    with pytest.raises(CommandError, match="failed call"):
        call_command("skip_trace", "--tiers", "A")
    call = SkipTraceCall.objects.get()
    assert call.error and call.cost == 0 and LeadSkipTrace.objects.count() == 0
    route.side_effect = answer_hit_for_each
    call_command("skip_trace", "--tiers", "A")
    assert LeadSkipTrace.objects.get().status == "hit"


@respx.mock
def test_the_window_expires(bd, acknowledged, settings):
    from sync.skip_trace import lead_skip_trace, skiptrace_provider

    lead = LeadFactory(tier="A")
    route = respx.post(URL).mock(side_effect=answer_hit_for_each)
    first = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    lead_skip_trace(leads=[lead], provider=skiptrace_provider(), now=first)
    report = lead_skip_trace(leads=[lead], provider=skiptrace_provider(), now=first + datetime.timedelta(days=89))
    assert report.calls == 0 and report.not_due == [(lead.id, first + datetime.timedelta(days=90))]
    lead_skip_trace(leads=[lead], provider=skiptrace_provider(), now=first + datetime.timedelta(days=90))
    assert route.call_count == 2


@respx.mock
def test_an_owner_is_traced_once_for_all_its_leads_and_its_contacts_are_stored_on_the_owner(bd, acknowledged):
    first, second = LeadFactory(tier="A"), LeadFactory(tier="B")
    owner = OwnerFactory(properties=[first.property, second.property])
    broker_phone = batchdata("skiptrace_hit.json")["result"]["data"][0]["persons"][0]["phones"][0]["number"]
    LeadContactPoint.objects.create(owner=owner, kind="phone", value=broker_phone, source="broker", phone_type="")
    route = respx.post(URL).mock(side_effect=answer_hit_for_each)

    call_command("skip_trace", "--tiers", "A,B")

    (sent,) = json.loads(route.calls[0].request.content)["requests"]
    assert sent["requestId"] == f"owner-{owner.id}"
    assert sent["propertyAddress"]["street"] == first.property.street  # asked by its first lead's property
    assert sent["name"] == {"first": owner.people[0]["first"], "last": "OWNER"}
    assert (SkipTraceCall.objects.get().requests, SkipTraceCall.objects.get().hits) == (1, 1)
    trace = LeadSkipTrace.objects.get()
    assert (trace.owner_id, trace.lead_id, trace.status) == (owner.id, first.id, "hit")
    assert LeadContactPoint.objects.filter(lead__isnull=False).count() == 0
    phones = LeadContactPoint.objects.filter(owner=owner, kind="phone").order_by("pk")
    assert [(p.value, p.source, p.phone_type) for p in phones] == [
        (broker_phone, "broker", ""),  # the broker's entry, untouched
        ("4075550187", "batchdata", "landline"),
        ("6895550163", "batchdata", "mobile"),
        ("3215550111", "batchdata", "voip"),
    ]
    assert [p.value for p in phones if p.dnc] == ["4075550187"]
    assert [p.value for p in phones if p.tcpa] == ["3215550111"]
    emails = LeadContactPoint.objects.filter(owner=owner, kind="email").order_by("pk")
    assert [e.value for e in emails] == ["jsmith.orlando@example.com", "JOHN.A.SMITH@example.net"]

    third = LeadFactory(tier="A")  # a third parcel of the same owner, inside the window: not traced again
    pm.Property.objects.filter(pk=third.property_id).update(owner=owner)
    call_command("skip_trace", "--tiers", "A,B")
    assert route.call_count == 1 and SkipTraceCall.objects.count() == 1


@respx.mock
def test_the_window_counts_per_owner_and_a_lead_trace_from_before_its_owner_counts(bd, acknowledged):
    from sync.skip_trace import lead_skip_trace, skiptrace_provider

    lead = LeadFactory(tier="A")
    route = respx.post(URL).mock(side_effect=answer_hit_for_each)
    first = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    lead_skip_trace(leads=[lead], provider=skiptrace_provider(), now=first)  # before its owner was resolved
    assert LeadContactPoint.objects.filter(lead=lead).count() == 6
    owner = OwnerFactory(properties=[lead.property])
    lead = Lead.objects.select_related("property__owner").get(pk=lead.pk)

    report = lead_skip_trace(leads=[lead], provider=skiptrace_provider(), now=first + datetime.timedelta(days=30))
    assert report.calls == 0 and report.not_due == [(lead.id, first + datetime.timedelta(days=90))]

    report = lead_skip_trace(leads=[lead], provider=skiptrace_provider(), now=first + datetime.timedelta(days=90))
    assert (report.calls, report.hits, report.contacts_added) == (1, 1, 0)  # the lead's own contacts count
    assert LeadSkipTrace.objects.filter(owner=owner).count() == 1
    assert json.loads(route.calls[1].request.content)["requests"][0]["requestId"] == f"owner-{owner.id}"


def test_migration_moves_lead_contacts_and_traces_onto_owners_keeping_broker_entries():
    from django.apps import apps

    migration = importlib.import_module("sync.migrations.0008_contact_points_on_owners")
    a, b, alone = LeadFactory(), LeadFactory(), LeadFactory()
    owner = OwnerFactory(properties=[a.property, b.property])
    LeadSkipTraceFactory(lead=a)
    LeadContactPoint.objects.create(lead=a, kind="phone", value="4075550142", source="batchdata", dnc=True)
    LeadContactPoint.objects.create(lead=b, kind="phone", value="4075550142", source="broker")
    LeadContactPoint.objects.create(lead=b, kind="email", value="o@example.com", source="batchdata")
    LeadContactPoint.objects.create(lead=alone, kind="phone", value="4075550199", source="broker")

    migration.contact_points_to_owners(apps, None)

    assert LeadSkipTrace.objects.get().owner_id == owner.id
    moved = LeadContactPoint.objects.filter(owner=owner).order_by("kind", "value")
    assert [(p.kind, p.value, p.source, p.dnc, p.lead_id) for p in moved] == [
        ("email", "o@example.com", "batchdata", None, None),
        ("phone", "4075550142", "broker", True, None),  # the broker's row kept, the trace's DNC flag carried
    ]
    assert list(LeadContactPoint.objects.filter(lead=alone).values_list("value", flat=True)) == ["4075550199"]


def test_a_broker_enters_a_phone_on_the_owner_not_on_one_of_its_leads():
    from django.core.exceptions import ValidationError

    lead, alone = LeadFactory(), LeadFactory()
    owner = OwnerFactory(properties=[lead.property])
    lead.property.refresh_from_db()
    with pytest.raises(ValidationError) as on_lead:
        LeadContactPoint(lead=lead, kind="phone", value="4075550100").full_clean()
    assert on_lead.value.message_dict == {
        "lead": [f"This lead's parcel belongs to owner {owner}: enter it on the owner."]
    }
    with pytest.raises(ValidationError, match="not both"):
        LeadContactPoint(owner=owner, lead=alone, kind="phone", value="4075550100").full_clean()
    LeadContactPoint(owner=owner, kind="phone", value="4075550100").full_clean()
    LeadContactPoint(lead=alone, kind="phone", value="4075550100").full_clean()  # a parcel without an owner
