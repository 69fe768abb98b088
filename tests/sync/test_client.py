import datetime
import json

import httpx
import pytest
import respx
from tenacity import wait_none

from sync.ghl import API_VERSION, CONVERSATIONS_API_VERSION, GHLAuthError, GHLClient, GHLError
from tests.sync.fake_ghl import BASE_URL, LOCATION_ID, contact_json


def _request_headers(router):
    return [call.request.headers for call in router.calls]


@respx.mock
def test_bearer_token_version_and_json_headers():
    route = respx.post(f"{BASE_URL}/conversations/messages").respond(
        200, json={"conversationId": "c1", "messageId": "m1", "status": "pending"}
    )
    respx.post(f"{BASE_URL}/contacts/ct1/tags").respond(201, json={"tags": ["a"]})
    client = GHLClient(BASE_URL, "tok", LOCATION_ID, timeout=5)
    sent = client.sms_send("ct1", "hello")
    client.contact_add_tags("ct1", ["a"])
    sms_headers, tag_headers = _request_headers(respx.mock)
    assert sent.message_id == "m1"
    assert sms_headers["Authorization"] == "Bearer tok"
    assert sms_headers["Version"] == CONVERSATIONS_API_VERSION == "2021-04-15"
    assert tag_headers["Version"] == API_VERSION == "2021-07-28"
    assert tag_headers["Accept"] == tag_headers["Content-Type"] == "application/json"
    assert route.call_count == 1


@respx.mock
def test_429_then_success_is_retried():
    route = respx.post(f"{BASE_URL}/contacts/ct1/tags").mock(
        side_effect=[
            httpx.Response(429, json={"statusCode": 429, "message": "Too many requests"}),
            httpx.Response(201, json={"tags": ["dealfinder"]}),
        ]
    )
    sleeps = []
    client = GHLClient(BASE_URL, "tok", LOCATION_ID, timeout=5, retry_wait=wait_none(), sleep=sleeps.append)
    assert client.contact_add_tags("ct1", ["dealfinder"]) == ["dealfinder"]
    assert route.call_count == 2


@respx.mock
def test_5xx_is_retried_then_raised_with_status_message_and_trace_id():
    route = respx.post(f"{BASE_URL}/contacts/ct1/tags").respond(
        502, json={"statusCode": 502, "message": "Bad Gateway", "traceId": "trace-1"}
    )
    client = GHLClient(BASE_URL, "tok", LOCATION_ID, timeout=5, retry_wait=wait_none(), sleep=lambda s: None)
    with pytest.raises(GHLError) as caught:
        client.contact_add_tags("ct1", ["x"])
    assert route.call_count == 5
    assert (caught.value.status_code, caught.value.message, caught.value.trace_id) == (502, "Bad Gateway", "trace-1")


@respx.mock
def test_5xx_then_success():
    route = respx.get(f"{BASE_URL}/opportunities/pipelines").mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(200, json={"pipelines": [{"id": "p1", "name": "Deals", "stages": []}]}),
        ]
    )
    client = GHLClient(BASE_URL, "tok", LOCATION_ID, timeout=5, retry_wait=wait_none(), sleep=lambda s: None)
    assert [p.id for p in client.pipelines()] == ["p1"]
    assert route.call_count == 2
    assert route.calls[0].request.url.params["locationId"] == LOCATION_ID


@respx.mock
def test_401_stops_at_once_with_a_clear_error():
    route = respx.post(f"{BASE_URL}/contacts/upsert").respond(
        401, json={"statusCode": 401, "message": "Invalid token: access token is invalid", "error": "Unauthorized"}
    )
    client = GHLClient(BASE_URL, "bad", LOCATION_ID, timeout=5, retry_wait=wait_none(), sleep=lambda s: None)
    with pytest.raises(GHLAuthError) as caught:
        client.contact_upsert({"name": "x"})
    assert route.call_count == 1
    assert caught.value.status_code == 401
    assert str(caught.value) == (
        "GoHighLevel 401: Invalid token: access token is invalid - check GHL_API_TOKEN "
        "(a Private Integration token of the location)"
    )


@respx.mock
def test_other_4xx_is_not_retried_and_422_messages_are_joined():
    route = respx.post(f"{BASE_URL}/opportunities/").respond(
        422, json={"statusCode": 422, "message": ["contactId must be a string", "name should not be empty"]}
    )
    client = GHLClient(BASE_URL, "tok", LOCATION_ID, timeout=5, retry_wait=wait_none(), sleep=lambda s: None)
    with pytest.raises(GHLError) as caught:
        client.opportunity_create({"name": ""})
    assert route.call_count == 1
    assert caught.value.message == "contactId must be a string; name should not be empty"


@respx.mock
def test_network_errors_are_retried_and_every_call_has_a_timeout():
    route = respx.post(f"{BASE_URL}/contacts/ct1/tags").mock(
        side_effect=[httpx.ConnectTimeout("slow"), httpx.Response(201, json={"tags": []})]
    )
    client = GHLClient(BASE_URL, "tok", LOCATION_ID, timeout=7.5, retry_wait=wait_none(), sleep=lambda s: None)
    client.contact_add_tags("ct1", [])
    assert route.call_count == 2
    assert route.calls[1].request.extensions["timeout"] == {"connect": 7.5, "read": 7.5, "write": 7.5, "pool": 7.5}


@respx.mock
def test_throttles_when_the_burst_window_is_used_up():
    now = [1000.0]
    sleeps = []
    respx.post(f"{BASE_URL}/contacts/ct1/tags").mock(
        side_effect=[
            httpx.Response(
                201,
                json={"tags": []},
                headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Interval-Milliseconds": "10000"},
            ),
            httpx.Response(201, json={"tags": []}, headers={"X-RateLimit-Remaining": "99"}),
            httpx.Response(201, json={"tags": []}, headers={"X-RateLimit-Remaining": "98"}),
        ]
    )

    def sleep(seconds):
        sleeps.append(seconds)
        now[0] += seconds

    client = GHLClient(BASE_URL, "tok", LOCATION_ID, timeout=5, clock=lambda: now[0], sleep=sleep)
    client.contact_add_tags("ct1", [])
    now[0] += 4
    client.contact_add_tags("ct1", [])  # waits for the next interval (sync.pacing)...
    client.contact_add_tags("ct1", [])  # ...whose budget (100, less 2 kept back) is spread over its 10 s
    assert sleeps == [6.0, pytest.approx(10 / 98)]


def test_contact_search_pages_with_the_tag_filter(fake_ghl, ghl):
    for n in range(5):
        fake_ghl.contacts[f"b{n}"] = contact_json(f"b{n}", tags=["cash-buyer"])
    fake_ghl.contacts["other"] = contact_json("other", tags=["seller"])
    found = list(ghl.contact_search_all(tag="cash-buyer", page_limit=2))
    assert [c.id for c in found] == ["b0", "b1", "b2", "b3", "b4"]
    bodies = [body for _, _, body in fake_ghl.calls]
    assert bodies == [
        {
            "locationId": LOCATION_ID,
            "pageLimit": 2,
            "page": page,
            "filters": [{"field": "tags", "operator": "contains", "value": "cash-buyer"}],
        }
        for page in (1, 2, 3)
    ]


def test_typed_results(fake_ghl, ghl):
    upserted = ghl.contact_upsert({"name": "Jane Owner"})
    opportunity = ghl.opportunity_create(
        {"name": "123 Main", "status": "open", "pipelineId": "p1", "contactId": upserted.contact.id}
    )
    task = ghl.task_create(
        upserted.contact.id, title="Call", body="b", due=datetime.datetime(2026, 1, 2, 9, tzinfo=datetime.UTC)
    )
    assert upserted.new is True
    assert upserted.contact.date_updated == datetime.datetime(2026, 1, 5, 10, tzinfo=datetime.UTC)
    assert (opportunity.status, opportunity.contact_id) == ("open", upserted.contact.id)
    assert task.contact_id == upserted.contact.id
    assert fake_ghl.calls[-1][2] == {
        "title": "Call",
        "body": "b",
        "dueDate": "2026-01-02T09:00:00Z",
        "completed": False,
    }


@respx.mock
def test_contact_search_follows_search_after_cursors():
    def page(n):
        return [
            contact_json(f"c{i}", tags=["cash-buyer"], searchAfter=[1700000000000 + i, f"c{i}"])
            for i in range(n * 2, n * 2 + 2)
        ]

    route = respx.post(f"{BASE_URL}/contacts/search").mock(
        side_effect=[
            httpx.Response(200, json={"contacts": page(0), "total": 5}),
            httpx.Response(200, json={"contacts": page(1), "total": 5}),
            httpx.Response(200, json={"contacts": page(2)[:1], "total": 5}),
        ]
    )
    client = GHLClient(BASE_URL, "tok", LOCATION_ID, timeout=5)
    assert [c.id for c in client.contact_search_all(tag="cash-buyer", page_limit=2)] == ["c0", "c1", "c2", "c3", "c4"]
    bodies = [json.loads(call.request.content) for call in route.calls]
    assert [(b.get("page"), b.get("searchAfter")) for b in bodies] == [
        (1, None),
        (None, [1700000000001, "c1"]),
        (None, [1700000000003, "c3"]),
    ]


@respx.mock
def test_an_id_search_answered_with_other_contacts_tells_nothing_about_deletions():
    answer = {"contacts": [{"id": "a"}, {"id": "someone-else"}], "total": 2}
    respx.post(f"{BASE_URL}/contacts/search").mock(return_value=httpx.Response(200, json=answer))
    client = GHLClient(BASE_URL, "tok", LOCATION_ID, timeout=5, sleep=lambda s: None)
    assert client.contact_ids_present(["a", "b"]) is None  # the filter was ignored: "b" is not known to be deleted
    respx.post(f"{BASE_URL}/contacts/search").mock(return_value=httpx.Response(200, json={"contacts": [{"id": "a"}]}))
    assert client.contact_ids_present(["a", "b"]) == {"a"}
