import socket
import time

import httpx
import pytest
import respx

from dealfinder.common.outbound import UnsafeURLError
from properties.ingest.http import USER_AGENT, describe_error, http_client, send


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


# --- the SSRF guard: every request, redirects included, just before it is sent -------------------


def test_a_private_address_is_refused_before_any_request_when_not_allowed(httpserver, settings):
    settings.INGEST_ALLOW_PRIVATE_URLS = False
    httpserver.expect_request("/api").respond_with_json({"ok": True})

    with http_client() as client, pytest.raises(UnsafeURLError) as caught:
        send(client, "GET", httpserver.url_for("/api"), retry_wait=0)

    assert str(caught.value) == "localhost resolves to a loopback address (127.0.0.1); not allowed in production"
    assert httpserver.log == []
    assert describe_error(caught.value) == f"refused URL: {caught.value}"


def test_local_servers_are_fine_by_default_in_development(httpserver, settings):
    assert settings.INGEST_ALLOW_PRIVATE_URLS is True
    httpserver.expect_request("/api").respond_with_json({"ok": True})
    with http_client() as client:
        assert send(client, "GET", httpserver.url_for("/api")).json() == {"ok": True}


@respx.mock
def test_a_redirect_to_a_private_address_is_refused(settings):
    settings.INGEST_ALLOW_PRIVATE_URLS = False
    public = respx.get("https://93.184.216.34/layer").mock(
        return_value=httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    )
    metadata = respx.get("http://169.254.169.254/latest/meta-data/").mock(return_value=httpx.Response(200))

    with http_client() as client, pytest.raises(UnsafeURLError) as caught:
        send(client, "GET", "https://93.184.216.34/layer", retry_wait=0)

    assert str(caught.value) == (
        "169.254.169.254 resolves to a link-local address (169.254.169.254); not allowed in production"
    )
    assert (public.call_count, metadata.call_count) == (1, 0)


@respx.mock
def test_the_host_is_resolved_again_at_fetch_time(settings, monkeypatch):
    """A name that was public when the source was saved and points inside now (DNS rebinding) is refused."""
    settings.INGEST_ALLOW_PRIVATE_URLS = False
    route = respx.get("https://gis.example.gov/layer").mock(return_value=httpx.Response(200, json={}))
    answer = {"address": "93.184.216.34"}
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, port, *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer["address"], port))],
    )
    with http_client() as client:
        send(client, "GET", "https://gis.example.gov/layer")
        answer["address"] = "10.0.0.7"
        with pytest.raises(UnsafeURLError, match=r"^gis.example.gov resolves to a private address \(10.0.0.7\)"):
            send(client, "GET", "https://gis.example.gov/layer")
    assert route.call_count == 1


def test_non_http_schemes_are_refused_by_the_client():
    with http_client() as client, pytest.raises(UnsafeURLError, match=r"^only http and https URLs are allowed"):
        client.get("file:///etc/passwd")
