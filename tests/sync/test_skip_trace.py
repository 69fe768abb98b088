"""Skip tracing leads' owners against BatchData's recorded-format answers (respx at the HTTP layer)."""

import copy
import datetime
import json
from decimal import Decimal

import httpx
import pytest
import respx
from django.core.management import call_command
from django.core.management.base import CommandError

from sync.skiptrace_models import LeadContactPoint, LeadSkipTrace, PermissibleUseAcknowledgement, SkipTraceCall
from tests.factories import LeadFactory, UserFactory
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
