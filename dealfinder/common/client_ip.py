"""The client address behind TRUSTED_PROXY_COUNT proxies (login lockouts, webhook rejection limits)."""

import ipaddress

from django.conf import settings


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
