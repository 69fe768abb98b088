"""The outbound URL guard (SSRF): only http(s) URLs whose host resolves to public addresses are fetched."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from dealfinder.common.source_location import LocationError, location_parse


class UnsafeURLError(ValueError):
    """A URL DealFinder will not fetch: wrong scheme, or a host that is (or resolves to) a private address."""


def _forbidden(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for label, flag in (
        ("a loopback", ip.is_loopback),
        ("a link-local", ip.is_link_local),
        ("a multicast", ip.is_multicast),
        ("an unspecified", ip.is_unspecified),
        ("a reserved", ip.is_reserved),
        ("a private", ip.is_private),
        ("a non-public", not ip.is_global),
    ):
        if flag:
            return label
    return ""


def resolve_host(host: str, port: int | None) -> list[str]:
    """Every address the host resolves to (an IP literal resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURLError(f"cannot resolve host {host!r}: {exc}") from None
    return sorted({info[4][0] for info in infos})


def url_check_scheme(url: str) -> None:
    """An http(s) URL with a host, read by the one location parser (`HTTP://x` is a URL, `http:x` is not)."""
    try:
        location = location_parse(url)
    except LocationError as exc:
        raise UnsafeURLError(str(exc)) from None
    if not location.is_url:
        raise UnsafeURLError(f"only http and https URLs are allowed, not {location.scheme or 'a bare path'!r}")


def url_check_public(url: str, *, allow_private: bool | None = None) -> None:
    """Raise UnsafeURLError unless the URL is http(s) and its host resolves only to public addresses.

    With settings.INGEST_ALLOW_PRIVATE_URLS (the development default) only the scheme is checked.
    Called when a source is saved and again just before every request (redirects included), so a
    name that later resolves to a private address (DNS rebinding) is refused at fetch time too.
    """
    url_check_scheme(url)
    if settings.INGEST_ALLOW_PRIVATE_URLS if allow_private is None else allow_private:
        return
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeURLError("the URL has no host")
    try:
        port = parts.port
    except ValueError:
        raise UnsafeURLError("the URL has an invalid port") from None
    for address in resolve_host(host, port):
        reason = _forbidden(ipaddress.ip_address(address.split("%", 1)[0]))
        if reason:
            raise UnsafeURLError(f"{host} resolves to {reason} address ({address}); not allowed in production")
