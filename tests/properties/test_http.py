import time

import httpx
import pytest
import respx

from properties.ingest.http import USER_AGENT, http_client, send


def test_send_retries_a_429_after_the_retry_after_it_asks_for(httpserver):
    httpserver.expect_ordered_request("/api").respond_with_data("slow down", status=429, headers={"Retry-After": "0.3"})
    httpserver.expect_ordered_request("/api").respond_with_json({"ok": True})

    started = time.monotonic()
    with http_client() as client:
        response = send(client, "GET", httpserver.url_for("/api"), retry_wait=0)

    assert response.json() == {"ok": True}
    assert time.monotonic() - started >= 0.3
    assert len(httpserver.log) == 2
    assert httpserver.log[0][0].headers["User-Agent"] == USER_AGENT


def test_send_gives_up_after_the_attempts_on_5xx(httpserver):
    httpserver.expect_request("/api").respond_with_data("down", status=502)

    with http_client() as client, pytest.raises(httpx.HTTPStatusError):
        send(client, "GET", httpserver.url_for("/api"), retry_wait=0, attempts=3)

    assert len(httpserver.log) == 3


@respx.mock
def test_send_retries_network_errors_and_timeouts():
    route = respx.get("https://gis.example.test/api").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.Response(200, json={"ok": True})]
    )

    with http_client() as client:
        assert send(client, "GET", "https://gis.example.test/api", retry_wait=0).json() == {"ok": True}

    assert route.call_count == 3


@respx.mock
def test_send_uses_the_configured_timeout(settings):
    settings.HTTP_TIMEOUT_SECONDS = 7.5
    route = respx.get("https://gis.example.test/api").mock(return_value=httpx.Response(200))

    with http_client() as client:
        send(client, "GET", "https://gis.example.test/api")

    assert route.calls.last.request.extensions["timeout"] == {"connect": 7.5, "read": 7.5, "write": 7.5, "pool": 7.5}
