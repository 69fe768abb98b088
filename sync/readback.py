"""Read-back: after a push, read a sample of the pushed contacts back and compare them field by field with what was
sent. GoHighLevel answers 200 and still drops or rewrites fields (a phone ignored when it belongs to another contact,
an email replaced, fields it does not know discarded); what it kept differently is stored on the link
(`ExternalLink.drift`: field -> {"sent", "ghl"}) and shown in admin and on the sync health page.

`GHL_READBACK_SAMPLE` is the share read back (0..1; 1 reads every one, as the tests do). Which contacts are sampled
follows a hash of the id and the day, so the sample moves from day to day without a random generator.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from sync.ghl import GHLClient, GHLError
from sync.models import ExternalLink

logger = logging.getLogger(__name__)
NOT_COMPARED = frozenset({"locationId", "createNewIfDuplicateAllowed", "customFields", "tags"})


def _same(name: str, sent: Any, kept: Any) -> bool:
    if name == "phone":
        return _digits(sent) == _digits(kept)
    if name == "email":
        return str(sent or "").strip().lower() == str(kept or "").strip().lower()
    if isinstance(sent, str) or isinstance(kept, str):
        return str(sent or "").strip() == str(kept or "").strip()
    return sent == kept


def _digits(value: Any) -> str:
    digits = re.sub(r"\D", "", str(value or ""))
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


def readback_diff(*, sent: dict, remote: dict) -> dict[str, dict]:
    """The fields GoHighLevel kept differently from what was sent: field -> {"sent": ..., "ghl": ...}. Pure.

    Custom fields are compared by id (`customField.<id>`); tags only need to be there (others may add tags)."""
    drift: dict[str, dict] = {}
    for name, value in sent.items():
        if name in NOT_COMPARED or value in (None, ""):
            continue
        if not _same(name, value, remote.get(name)):
            drift[name] = {"sent": value, "ghl": remote.get(name)}
    kept_custom = {
        item.get("id"): item.get("value", item.get("field_value"))
        for item in remote.get("customFields") or []
        if isinstance(item, dict)
    }
    for item in sent.get("customFields") or []:
        value = item.get("field_value", item.get("value"))
        if str(kept_custom.get(item["id"], "")) != str(value):
            drift[f"customField.{item.get('key') or item['id']}"] = {"sent": value, "ghl": kept_custom.get(item["id"])}
    missing = sorted(set(sent.get("tags") or []) - set(remote.get("tags") or []))
    if missing:
        drift["tags"] = {"sent": sorted(sent["tags"]), "ghl": sorted(remote.get("tags") or [])}
    return drift


def readback_sampled(ghl_id: str, *, rate: float | None = None) -> bool:
    rate = settings.GHL_READBACK_SAMPLE if rate is None else rate
    if rate >= 1:
        return True
    if rate <= 0:
        return False
    digest = hashlib.sha256(f"{ghl_id}:{timezone.now():%Y-%m-%d}".encode()).digest()
    return int.from_bytes(digest[:4], "big") < rate * 2**32


def contact_readback(*, client: GHLClient, obj, ghl_id: str, sent: dict) -> dict[str, dict] | None:
    """When sampled: read the contact back, store the drift on its link and return it (None: not sampled or the
    read failed, which never fails the push)."""
    if not readback_sampled(ghl_id):
        return None
    try:
        remote = client.contact_get(ghl_id).raw
    except GHLError as exc:
        logger.warning("GoHighLevel read-back of contact %s failed: %s", ghl_id, exc)
        return None
    drift = readback_diff(sent=sent, remote=remote)
    ExternalLink.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk, kind=ExternalLink.Kind.CONTACT
    ).update(drift=drift, drift_checked_at=timezone.now())
    if drift:
        logger.warning("GoHighLevel kept contact %s differently: %s", ghl_id, ", ".join(sorted(drift)))
    return drift
