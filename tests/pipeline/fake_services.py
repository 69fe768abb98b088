"""Stand-in services the tests point a step at (monkeypatch.setitem on dealfinder.ops.pipeline.steps.STEP_SERVICES)."""

import httpx

calls: dict[str, int] = {}


def _count(name: str) -> int:
    calls[name] = calls.get(name, 0) + 1
    return calls[name]


def boom(**kwargs):
    _count("boom")
    raise ValueError("boom")


def network_down():
    _count("network_down")
    raise httpx.ConnectError("connection refused")


def flaky_network():
    """Fails with a network error twice, then answers."""
    if _count("flaky_network") <= 2:
        raise httpx.ConnectError("connection reset")
    return {"done": 1}


def failed_push():
    """Returns normally, with a log saying the push failed (as ghl_push_leads does on a 401)."""
    from sync.models import SyncLog

    return SyncLog.objects.create(sync_type="lead_push", status="failed", message="GoHighLevel 401: invalid token")
