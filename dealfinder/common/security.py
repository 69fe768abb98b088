"""Project-wide security helpers: the CSP middleware, the fail-open cache, the client address and the outbound
URL guard."""

from __future__ import annotations

import functools
import ipaddress
import logging
import socket
from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.middleware import PolicyParts
from django.conf import settings
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ValidationError

from dealfinder.source_location import LocationError, location_parse

logger = logging.getLogger(__name__)

# --- Content-Security-Policy -----------------------------------------------------------------

API_DOCS_PATHS = ("/api/docs/", "/api/redoc/")


class CSPMiddleware(BaseCSPMiddleware):
    """django-csp's middleware; the API docs pages (Swagger UI, Redoc) get API_DOCS_CSP_UPDATE on top."""

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and request.path_info.startswith(API_DOCS_PATHS):
            parts.update = {**settings.API_DOCS_CSP_UPDATE, **(parts.update or {})}
        return parts


# --- A cache that fails open -----------------------------------------------------------------


def _fail_open(default):
    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            import redis

            try:
                return method(self, *args, **kwargs)
            except redis.RedisError as exc:
                logger.warning("cache unavailable, %s skipped: %s", method.__name__, exc)
                return default(*args, **kwargs) if callable(default) else default

        return wrapper

    return decorate


class FailOpenRedisCache(RedisCache):
    """Django's Redis cache, but a Redis outage reads as "nothing cached" instead of failing the request.

    The cache holds only the API throttle histories (login failures are in the database): while Redis is down
    the web app keeps serving and the API rate limits are not enforced (a warning is logged for each skipped
    operation).
    """

    get = _fail_open(lambda key, default=None, **kw: default)(RedisCache.get)
    get_many = _fail_open(lambda keys, **kw: {})(RedisCache.get_many)
    has_key = _fail_open(False)(RedisCache.has_key)
    add = _fail_open(False)(RedisCache.add)
    set = _fail_open(None)(RedisCache.set)
    set_many = _fail_open(lambda data, *a, **kw: list(data))(RedisCache.set_many)
    touch = _fail_open(False)(RedisCache.touch)
    incr = _fail_open(lambda key, delta=1, **kw: delta)(RedisCache.incr)
    delete = _fail_open(False)(RedisCache.delete)
    delete_many = _fail_open(None)(RedisCache.delete_many)
    clear = _fail_open(None)(RedisCache.clear)


# --- The client address (login lockouts) ------------------------------------------------------


def client_ip(request) -> str | None:
    """The caller's address: REMOTE_ADDR, or the entry TRUSTED_PROXY_COUNT hops back in X-Forwarded-For.

    django-axes counts failed logins per this address (AXES_CLIENT_IP_CALLABLE). Anything that is not an IP
    address falls back to the socket's address; None when there is none.
    """
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    remote = request.META.get("REMOTE_ADDR", "")
    for candidate in (forwarded[-hops] if hops and len(forwarded) >= hops else remote, remote):
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


# --- Outbound URL guard (SSRF) ---------------------------------------------------------------


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


def validate_source_url(value: str) -> None:
    """Model field validator for DataSource.url (admin and API show the message)."""
    try:
        url_check_public(value)
    except UnsafeURLError as exc:
        raise ValidationError(str(exc), code="unsafe_url") from None


# --- JSON field shapes -----------------------------------------------------------------------


def validate_string_list(value, *, choices=None, max_items: int = 100, max_length: int = 100) -> list[str]:
    """A JSON list of short strings (optionally from `choices`); the cleaned list, or a ValidationError.

    For model clean() methods and admin forms of list-valued JSON fields (Buyer.tags, property_types,
    target_zips, strategies), which the API already checks with ListField serializers.
    """
    if not isinstance(value, list):
        raise ValidationError(
            'Must be a list of strings, e.g. ["a", "b"], not %(kind)s.',
            code="not_a_list",
            params={"kind": type(value).__name__},
        )
    if len(value) > max_items:
        raise ValidationError("At most %(max)d items.", code="too_many", params={"max": max_items})
    allowed = {str(c[0]) if isinstance(c, tuple | list) else str(c) for c in choices} if choices else None
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ValidationError(
                "Item %(item)r is not a non-empty string.", code="not_a_string", params={"item": item}
            )
        if len(item) > max_length:
            raise ValidationError(
                "Item %(item)r is longer than %(max)d characters.",
                code="too_long",
                params={"item": item[:20] + "…", "max": max_length},
            )
        if allowed is not None and item not in allowed:
            raise ValidationError(
                "Unknown value %(item)r; allowed: %(allowed)s.",
                code="invalid_choice",
                params={"item": item, "allowed": ", ".join(sorted(allowed))},
            )
    return value
