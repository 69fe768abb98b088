"""Lob webhooks: the signature check and the parser of event deliveries (piece status and tracking scans).

Lob signs every delivery with the secret of the webhook that sent it: `Lob-Signature-Timestamp` is the time of
sending (epoch milliseconds; seconds are accepted too) and `Lob-Signature` the hex HMAC-SHA256 of
`<timestamp>.<raw body>` keyed with that secret. A delivery whose time is further than the tolerance (5 minutes)
from ours is refused as a replay. The body is an event:

    {"id": "evt_...", "event_type": {"id": "postcard.delivered", "resource": "postcards", ...},
     "reference_id": "psc_...", "date_created": "...", "object": "event",
     "body": <the postcard or letter as it was at that moment>}

Tracking events (`<resource>.mailed`, `.in_transit`, `.in_local_area`, `.processed_for_delivery`, `.delivered`,
`.re-routed`, `.returned_to_sender`, certified letters' `letter.certified.*`) carry the piece with its
`tracking_events`; `parse_event` picks the scan the event is about. Lob retries a delivery until it gets a 2xx.

How to integrate
----------------
- Settings: `LOB_WEBHOOK_SECRET` (no default; several comma-separated when test and live webhooks both post here).
- A view at `POST /api/v1/webhooks/lob/` (sync/urls.py; CSRF-exempt, no session: the signature is the
  authentication, as for GoHighLevel): read the raw body (capped like sync.webhooks.MAX_BODY_BYTES), answer 503 when
  no secret is configured (fail closed), 401 on LobSignatureError, 400 on LobEventError; store the raw payload as a
  WebhookEvent keyed on `event.id` (unique, so a redelivery changes nothing), answer 200, and apply it in a service:
  find the MailPiece by `event.piece_id`, set its status from `event.stage`, add an Activity with `event.summary` to
  the lead's timeline, and count `delivered`/`returned` for the campaign's returns.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace

from sync.lob_records import MailPiece, TrackingEvent, parse_datetime

SIGNATURE_HEADER = "Lob-Signature"
TIMESTAMP_HEADER = "Lob-Signature-Timestamp"
DEFAULT_TOLERANCE = datetime.timedelta(minutes=5)

# Event action (after "<resource>.", and "certified." for certified letters) -> the tracking event name it reports.
_SCAN_NAMES = {
    "mailed": "Mailed",
    "in_transit": "In Transit",
    "in_local_area": "In Local Area",
    "processed_for_delivery": "Processed for Delivery",
    "pickup_available": "Pickup Available",
    "delivered": "Delivered",
    "re_routed": "Re-Routed",
    "returned_to_sender": "Returned to Sender",
    "international_exit": "International Exit",
    "issue": "Issue",
}


class LobSignatureError(Exception):
    """The delivery is not signed by a configured secret, or is too old or too far in the future."""


class LobEventError(ValueError):
    """The body is not a Lob event this parser understands."""


def verify_signature(
    *,
    body: bytes,
    signature: str,
    timestamp: str,
    secrets: str | Iterable[str],
    now: float | None = None,
    tolerance: datetime.timedelta = DEFAULT_TOLERANCE,
) -> None:
    """Raise LobSignatureError unless `signature` is Lob's HMAC of `timestamp.body` under one of `secrets`."""
    keys = [s.strip() for s in ([secrets] if isinstance(secrets, str) else secrets) if s and s.strip()]
    if not keys:
        raise LobSignatureError("no Lob webhook secret is configured (LOB_WEBHOOK_SECRET)")
    if not signature or not timestamp:
        raise LobSignatureError(f"the {SIGNATURE_HEADER} or {TIMESTAMP_HEADER} header is missing")
    try:
        sent = int(timestamp.strip())
    except ValueError:
        raise LobSignatureError(f"{TIMESTAMP_HEADER} is not a number: {timestamp[:40]!r}") from None
    sent_seconds = sent / 1000 if sent > 10**11 else sent  # Lob sends milliseconds; seconds are accepted
    drift = abs((time.time() if now is None else now) - sent_seconds)
    if drift > tolerance.total_seconds():
        raise LobSignatureError(f"the delivery was signed {drift:.0f} s away from now (more than {tolerance})")
    signed = timestamp.strip().encode() + b"." + body
    given = signature.strip().lower()
    for key in keys:
        if hmac.compare_digest(hmac.new(key.encode(), signed, hashlib.sha256).hexdigest(), given):
            return
    raise LobSignatureError(f"{SIGNATURE_HEADER} does not match the body under the configured secret")


@dataclass(frozen=True)
class LobEvent:
    id: str
    type: str  # "postcard.delivered", "letter.certified.returned_to_sender", ...
    resource: str  # "postcards", "letters", ...
    piece_id: str
    date_created: datetime.datetime | None
    piece: MailPiece | None  # the postcard or letter as it was at the event
    tracking_event: TrackingEvent | None  # the scan this event reports, when it reports one

    @property
    def stage(self) -> str:
        """The event without its resource: "delivered", "re_routed", "certified_delivered", "rendered_pdf", ..."""
        return self.type.partition(".")[2].replace("-", "_").replace(".", "_")

    @property
    def delivered(self) -> bool:
        return self.stage in ("delivered", "certified_delivered")

    @property
    def returned(self) -> bool:
        return self.stage in ("returned_to_sender", "certified_returned_to_sender")

    @property
    def summary(self) -> str:
        """One line for the lead's timeline."""
        kind = self.piece.kind if self.piece else self.resource.rstrip("s").replace("_", " ")
        what = self.tracking_event.name if self.tracking_event else self.stage.replace("_", " ")
        where = f" (ZIP {self.tracking_event.location})" if self.tracking_event and self.tracking_event.location else ""
        moment = (self.tracking_event and self.tracking_event.time) or self.date_created
        when = f" on {moment.date().isoformat()}" if moment else ""
        return f"Lob {kind} {self.piece_id}: {what}{where}{when}"


def parse_event(payload: bytes | str | dict) -> LobEvent:
    """A Lob event delivery (raw body or decoded JSON) as a LobEvent; LobEventError when it is not one."""
    if isinstance(payload, bytes | str):
        try:
            payload = json.loads(payload)
        except ValueError as exc:
            raise LobEventError(f"the body is not JSON: {exc}") from exc
    if not isinstance(payload, dict) or payload.get("object") != "event" or not payload.get("id"):
        raise LobEventError('not a Lob event (an object with "object": "event" and an id is expected)')
    event_type = payload.get("event_type")
    type_id = event_type.get("id") if isinstance(event_type, dict) else event_type
    if not isinstance(type_id, str) or "." not in type_id:
        raise LobEventError(f"event {payload['id']}: no event type")
    body = payload.get("body") if isinstance(payload.get("body"), dict) else {}
    piece = MailPiece.from_api(body) if body.get("object") in ("postcard", "letter") and body.get("id") else None
    resource = (event_type.get("resource") if isinstance(event_type, dict) else "") or f"{type_id.split('.')[0]}s"
    event = LobEvent(
        id=payload["id"],
        type=type_id,
        resource=resource,
        piece_id=str(payload.get("reference_id") or body.get("id") or ""),
        date_created=parse_datetime(payload.get("date_created")),
        piece=piece,
        tracking_event=None,
    )
    scan = _SCAN_NAMES.get(event.stage.removeprefix("certified_"))
    if piece is None or scan is None:
        return event
    matching = [e for e in piece.tracking_events if e.name.casefold() == scan.casefold()]
    latest = max(matching, key=lambda e: e.time or datetime.datetime.min.replace(tzinfo=datetime.UTC), default=None)
    return replace(event, tracking_event=latest)
