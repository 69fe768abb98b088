"""Lob webhook deliveries: check the signature, store the event once, apply it to its mail piece."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from sync.lob_webhooks import LobEventError, LobSignatureError, parse_event, verify_signature
from sync.mail import lob_event_apply
from sync.models import WebhookEvent


@dataclass(frozen=True)
class Outcome:
    http_status: int
    data: dict


def lob_webhook_receive(*, body: bytes, signature: str, timestamp: str, client_ip: str) -> Outcome:
    if not settings.LOB_WEBHOOK_SECRET.strip():
        return Outcome(503, {"error": "Lob webhooks are not configured (LOB_WEBHOOK_SECRET)"})
    try:
        verify_signature(
            body=body, signature=signature, timestamp=timestamp, secrets=settings.LOB_WEBHOOK_SECRET.split(",")
        )
    except LobSignatureError as exc:
        return Outcome(401, {"error": str(exc)})
    try:
        event = parse_event(body)
    except LobEventError as exc:
        return Outcome(400, {"error": str(exc)})
    try:
        with transaction.atomic():  # an event that fails to apply is not stored, so Lob's redelivery applies it
            row = WebhookEvent.objects.create(
                webhook_id=f"lob:{event.id}",
                event_type=f"lob.{event.type}"[:64],
                payload=json.loads(body),
                client_ip=client_ip,
                signature_scheme="hmac",
                signature_valid=True,
            )
            applied = lob_event_apply(event=event)
            row.status = WebhookEvent.Status.PROCESSED if applied else WebhookEvent.Status.IGNORED
            row.processed_at = timezone.now()
            row.save(update_fields=["status", "processed_at"])
    except IntegrityError:
        return Outcome(200, {"status": "duplicate"})
    return Outcome(200, {"status": row.status})
