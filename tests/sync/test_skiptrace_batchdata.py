import json
from decimal import Decimal

import httpx
import pytest
import respx

from sync.skiptrace.base import (
    CallCost,
    Email,
    PhoneType,
    SkipTraceError,
    SkipTraceProvider,
    TraceAddress,
    TraceRequest,
    TraceStatus,
    call_cost,
)
from sync.skiptrace.batchdata import BatchDataProvider
from tests.sync.recorded import batchdata

BASE = "https://batchdata.test"
URL = f"{BASE}/api/v3/property/skip-trace"
SUNNYBROOK = TraceRequest(
    "owner-17", TraceAddress("4807 Sunnybrook Dr", "Orlando", "FL", "32808"), owner_first="John", owner_last="Smith"
)


@pytest.fixture
def provider(sleeps) -> SkipTraceProvider:
    return BatchDataProvider(
        BASE, "bd-token", cost_per_hit=Decimal("0.12"), timeout=5, first_wait=0, sleep=sleeps.append
    )


@respx.mock
def test_a_hit_returns_the_persons_with_typed_phones_and_flags(provider):
    route = respx.post(URL).respond(200, json=batchdata("skiptrace_hit.json"))
    [result] = provider.trace([SUNNYBROOK])

    request = route.calls[0].request
    assert request.headers["Authorization"] == "Bearer bd-token"
    assert json.loads(request.content) == {
        "requests": [
            {
                "requestId": "owner-17",
                "propertyAddress": {"street": "4807 Sunnybrook Dr", "city": "Orlando", "state": "FL", "zip": "32808"},
                "name": {"first": "John", "last": "Smith"},
            }
        ]
    }
    assert (result.key, result.status, result.billable, result.message) == ("owner-17", TraceStatus.HIT, True, "")
    john, mary = result.persons
    assert (john.full_name, john.first_name, john.last_name) == ("John A Smith", "John", "Smith")
    assert (john.is_owner, john.deceased, john.litigator) == (True, False, False)
    assert [(p.number, p.type, p.dnc, p.tcpa, p.reachable, p.rank, p.score, p.carrier) for p in john.phones] == [
        ("4075550142", PhoneType.MOBILE, False, False, True, 1, 95, "T-Mobile USA"),
        ("4075550187", PhoneType.LANDLINE, True, False, True, 2, 80, "AT&T Florida"),
        ("3215550111", PhoneType.VOIP, False, True, False, 3, 41, "Bandwidth.com"),
    ]
    assert john.emails == (
        Email("jsmith.orlando@example.com", rank=1, tested=True),
        Email("JOHN.A.SMITH@example.net", rank=2, tested=False),
    )
    assert (mary.full_name, [p.number for p in mary.phones], mary.emails) == (
        "Mary Smith",
        ["4075550142", "6895550163"],
        (),
    )


@respx.mock
def test_no_hit_is_not_billable(provider):
    respx.post(URL).respond(200, json=batchdata("skiptrace_no_hit.json"))
    request = TraceRequest("owner-18", TraceAddress("9999 Nowhere Rd", "Orlando", "FL", "32808"))
    [result] = provider.trace([request])
    assert (result.status, result.persons, result.billable) == (TraceStatus.NO_HIT, (), False)
    assert call_cost([result], provider.cost_per_hit) == CallCost(1, 0, 1, 0, Decimal("0"))


@respx.mock
def test_a_partial_batch_maps_each_answer_to_its_request_by_id(provider):
    route = respx.post(URL).respond(200, json=batchdata("skiptrace_partial.json"))
    requests = [
        TraceRequest("owner-19", TraceAddress("145 Adelaide St W", "Toronto", "ON", "M5H 4")),
        TraceRequest("owner-20", apn="29-22-28-8850-02-050", county="Orange", state="FL"),
        TraceRequest("owner-21", TraceAddress("1 Main St", zip_code="32801")),
    ]
    results = provider.trace(requests)

    assert json.loads(route.calls[0].request.content)["requests"][1] == {
        "requestId": "owner-20",
        "apn": "29-22-28-8850-02-050",
        "county": "Orange",
        "state": "FL",
    }
    assert [(r.key, r.status, r.message) for r in results] == [
        ("owner-19", TraceStatus.NO_HIT, ""),
        ("owner-20", TraceStatus.HIT, ""),
        ("owner-21", TraceStatus.ERROR, "Insufficient address information"),
    ]
    assert results[1].persons[0].phones[0].number == "4075550199"  # "(407) 555-0199" as digits
    assert call_cost(results, provider.cost_per_hit) == CallCost(3, 1, 1, 1, Decimal("0.12"))


@respx.mock
def test_answers_without_request_ids_are_matched_by_position_and_missing_ones_are_errors(provider):
    answer = batchdata("skiptrace_partial.json")
    items = answer["result"]["data"]
    for item in items:
        item["input"].pop("requestId")
    respx.post(URL).respond(200, json=answer)
    keys = ["a", "b", "c"]
    results = provider.trace([TraceRequest(k, TraceAddress("1 Main St", zip_code="32801")) for k in keys])
    assert [r.status for r in results] == [TraceStatus.HIT, TraceStatus.NO_HIT, TraceStatus.ERROR]

    answer["result"]["data"] = items[:1]
    respx.post(URL).respond(200, json=answer)
    short = provider.trace([TraceRequest(k, TraceAddress("1 Main St", zip_code="32801")) for k in keys])
    assert [(r.status, r.message) for r in short] == [
        (TraceStatus.ERROR, "BatchData returned no result for this property")
    ] * 3


@respx.mock
def test_429_is_retried_after_the_wait_it_asks_for(provider, sleeps):
    route = respx.post(URL).mock(
        side_effect=[
            httpx.Response(429, json=batchdata("error_429.json"), headers={"Retry-After": "1"}),
            httpx.Response(200, json=batchdata("skiptrace_hit.json")),
        ]
    )
    [result] = provider.trace([SUNNYBROOK])
    assert (route.call_count, sleeps, result.status) == (2, [1.0], TraceStatus.HIT)


@respx.mock
def test_network_errors_and_5xx_are_retried_then_fail_the_call(provider):
    route = respx.post(URL).mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(502), httpx.Response(503), httpx.Response(500)]
    )
    with pytest.raises(SkipTraceError, match="BatchData HTTP 500: Internal Server Error"):
        provider.trace([SUNNYBROOK])
    assert route.call_count == 4


@pytest.mark.parametrize(
    ("status", "fixture", "message"),
    [
        (400, "error_400.json", r"^BatchData HTTP 400: the request was refused \(requests must contain between 1 and"),
        (401, "error_401.json", r"^BatchData HTTP 401: the token was refused - check BATCHDATA_API_TOKEN \(Invalid"),
        (403, "error_403.json", r"^BatchData HTTP 403: the call was refused: the account's balance, or the token"),
    ],
)
@respx.mock
def test_4xx_fails_the_call_at_once_with_a_clear_message(provider, status, fixture, message):
    route = respx.post(URL).respond(status, json=batchdata(fixture))
    with pytest.raises(SkipTraceError, match=message):
        provider.trace([SUNNYBROOK])
    assert route.call_count == 1


@respx.mock
def test_a_404_points_at_the_base_url_setting(provider):
    respx.post(URL).respond(404, text="Not Found")
    with pytest.raises(
        SkipTraceError, match=r"^BatchData HTTP 404: no such endpoint - check BATCHDATA_API_BASE_URL \(Not"
    ):
        provider.trace([SUNNYBROOK])


@respx.mock
def test_an_answer_of_another_shape_is_an_error_not_a_silent_no_hit(provider):
    respx.post(URL).respond(200, json={"status": {"code": 200}, "results": {"persons": []}})
    with pytest.raises(SkipTraceError, match=r"BatchData answered without result\.data"):
        provider.trace([SUNNYBROOK])


@respx.mock
def test_calls_are_capped_at_the_batch_size_and_need_distinct_keys(provider):
    route = respx.post(URL)
    assert provider.trace([]) == []
    too_many = [TraceRequest(f"o{i}", TraceAddress("1 Main St", zip_code="32801")) for i in range(101)]
    with pytest.raises(ValueError, match="BatchData takes at most 100 properties a call, not 101"):
        provider.trace(too_many)
    with pytest.raises(ValueError, match="each request in a call needs its own key"):
        provider.trace([SUNNYBROOK, SUNNYBROOK])
    assert route.call_count == 0


def test_a_provider_without_a_token_refuses_to_start():
    with pytest.raises(SkipTraceError, match="BATCHDATA_API_TOKEN is not set"):
        BatchDataProvider(BASE, "", cost_per_hit=Decimal("0.12"), timeout=5)
