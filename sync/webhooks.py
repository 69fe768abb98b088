"""GoHighLevel webhooks: signature checks (Ed25519, legacy RSA-SHA256), replay guards, applying events."""

from __future__ import annotations

import base64
import binascii
import datetime
import logging
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from buyers.models import Buyer
from dealfinder.common import json_limits
from dealfinder.common.logging import logged_run
from leads.models import Activity, Lead
from properties.models import Owner
from sync.compliance import Channel
from sync.conflicts import merge_fields
from sync.consent import consent_record_from_ghl, consent_record_reply
from sync.ghl import Contact, parse_datetime
from sync.links import CONTACT_KINDS
from sync.models import ExternalLink, SyncLog, WebhookEvent
from sync.payloads import lead_status_from_opportunity, opportunity_status
from sync.pull import buyers_upsert_from_contacts
from sync.resolve import lead_set_status_from_ghl, sync_conflicts_record
from sync.runs import SyncRun, conflict_strategy

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024
MAX_AGE = datetime.timedelta(minutes=5)

# The legacy x-wh-signature key GoHighLevel publishes (Webhook Authentication Guide).
GHL_LEGACY_RSA_PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAokvo/r9tVgcfZ5DysOSC
Frm602qYV0MaAiNnX9O8KxMbiyRKWeL9JpCpVpt4XHIcBOK4u3cLSqJGOLaPuXw6
dO0t6Q/ZVdAV5Phz+ZtzPL16iCGeK9po6D6JHBpbi989mmzMryUnQJezlYJ3DVfB
csedpinheNnyYeFXolrJvcsjDtfAeRx5ByHQmTnSdFUzuAnC9/GepgLT9SM4nCpv
uxmZMxrJt5Rw+VUaQ9B8JSvbMPpez4peKaJPZHBbU3OdeCVx5klVXXZQGNHOs8gF
3kvoV5rTnXV0IknLBXlcKKAQLZcY/Q9rG6Ifi9c+5vqlvHPCUJFT5XUGG5RKgOKU
J062fRtN+rLYZUV+BjafxQauvC8wSWeYja63VSUruvmNj8xkx2zE/Juc+yjLjTXp
IocmaiFeAO6fUtNjDeFVkhf5LNb59vECyrHD2SQIrhgXpO4Q3dVNA5rw576PwTzN
h/AMfHKIjE4xQA1SZuYJmNnmVZLIZBlQAF9Ntd03rfadZ+yDiOXCCs9FkHibELhC
HULgCsnuDJHcrGNd5/Ddm5hxGQ0ASitgHeMZ0kcIOwKDOzOU53lDza6/Y09T7sYJ
PQe7z0cvj7aE4B+Ax1ZoZGPzpJlZtGXCsu9aTEGEnKzmsFqwcSsnw3JB31IGKAyk
T1hhTiaCeIY/OwwwNUY2yvcCAwEAAQ==
-----END PUBLIC KEY-----"""


def load_public_key(text: str):
    """A PEM public key, or base64 of a raw 32-byte Ed25519 key or of a DER public key."""
    text = text.strip().replace("\\n", "\n")
    if "BEGIN" in text:
        return serialization.load_pem_public_key(text.encode())
    raw = base64.b64decode(text)
    if len(raw) == 32:
        return Ed25519PublicKey.from_public_bytes(raw)
    return serialization.load_der_public_key(raw)


def verify_signature(body: bytes, *, ghl_signature: str, wh_signature: str, ed25519_key: str, rsa_key: str) -> str:
    """The scheme that verified the raw body ("ed25519" or "rsa"), or "" when none did."""
    checks = (("ed25519", ghl_signature, ed25519_key), ("rsa", wh_signature, rsa_key))
    for scheme, signature, key_text in checks:
        if not (signature and key_text):
            continue
        try:
            key, sig = load_public_key(key_text), base64.b64decode(signature)
            if scheme == "ed25519" and isinstance(key, Ed25519PublicKey):
                key.verify(sig, body)
                return scheme
            if scheme == "rsa" and isinstance(key, RSAPublicKey):
                key.verify(sig, body, padding.PKCS1v15(), hashes.SHA256())
                return scheme
        except (InvalidSignature, ValueError, binascii.Error):
            continue
    return ""


@dataclass(frozen=True)
class WebhookOutcome:
    http_status: int
    data: dict
    headers: dict = field(default_factory=dict)


BODY_EXCERPT_BYTES = 4096  # what is kept of a rejected body
APPLY_FAILED = "could not be applied; it is applied again when GoHighLevel redelivers it"


def _rejections_key(client_ip: str) -> str:
    return f"ghl-webhook-rejected:{client_ip}"


def _throttled(client_ip: str) -> bool:
    return (cache.get(_rejections_key(client_ip)) or 0) >= settings.WEBHOOK_REJECTIONS_PER_IP


def _count_rejection(client_ip: str) -> None:
    key, window = _rejections_key(client_ip), settings.WEBHOOK_REJECTION_WINDOW_SECONDS
    if not cache.add(key, 1, timeout=window):
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=window)


def ghl_webhook_receive(
    *, body: bytes, ghl_signature: str = "", wh_signature: str = "", client_ip: str = ""
) -> WebhookOutcome:
    """Verify, de-duplicate, store and apply one delivery.

    Rejected deliveries (bad or missing signature, not JSON, stale, no webhookId) are kept as a truncated body and
    counted per client address: past WEBHOOK_REJECTIONS_PER_IP in the window, the address gets 429 before any work.
    A signed event for another location than GHL_LOCATION_ID is stored as ignored. An event that fails to apply
    answers 500, so GoHighLevel delivers it again, and that redelivery is applied again (not a duplicate).
    """
    if _throttled(client_ip):
        window = settings.WEBHOOK_REJECTION_WINDOW_SECONDS
        return WebhookOutcome(429, {"error": "too many rejected deliveries"}, {"Retry-After": str(window)})
    if len(body) > MAX_BODY_BYTES:
        return WebhookOutcome(413, {"error": "payload too large"})
    scheme = verify_signature(
        body,
        ghl_signature=ghl_signature,
        wh_signature=wh_signature,
        ed25519_key=settings.GHL_WEBHOOK_PUBLIC_KEY,
        rsa_key=settings.GHL_WEBHOOK_RSA_PUBLIC_KEY or GHL_LEGACY_RSA_PUBLIC_KEY,
    )
    if not scheme:
        return _reject(body, client_ip, 401, "invalid or missing signature", scheme="none")
    try:
        payload = json_limits.loads(body)
    except ValueError:  # UnicodeDecodeError and JSONTooDeep are ValueErrors
        payload = None
    if not isinstance(payload, dict):
        return _reject(body, client_ip, 400, "body is not a JSON object", scheme=scheme)
    event_type = str(payload.get("type", ""))[:64]
    webhook_id = str(payload.get("webhookId") or "")[:100] or None
    if webhook_id is None:
        return _reject(body, client_ip, 400, "missing webhookId", scheme=scheme, event_type=event_type)
    known = WebhookEvent.objects.filter(webhook_id=webhook_id).first()
    if known is not None:  # before the timestamp check: a redelivery carries the first delivery's timestamp
        return _redelivered(known)
    sent_at = parse_datetime(payload.get("timestamp"))
    if sent_at is None or abs(timezone.now() - sent_at) > MAX_AGE:
        return _reject(body, client_ip, 400, "stale or missing timestamp", scheme=scheme, event_type=event_type)
    location = str(payload.get("locationId") or "")
    foreign = location != settings.GHL_LOCATION_ID or not location
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                webhook_id=webhook_id,
                event_type=event_type,
                payload=payload,
                signature_scheme=scheme,
                signature_valid=True,
                client_ip=client_ip[:64],
                **(_foreign(location) if foreign else {}),
            )
    except IntegrityError:  # delivered twice at once: the other delivery stored it
        return _redelivered(WebhookEvent.objects.get(webhook_id=webhook_id))
    if not foreign:
        webhook_event_apply(event=event)
    return _answer(event, duplicate=False)


def _foreign(location: str) -> dict:
    why = f"for location {location!r}, not GHL_LOCATION_ID" if location else "no locationId"
    if not settings.GHL_LOCATION_ID:
        why = "GHL_LOCATION_ID is not set: events are not applied"
    return {"status": WebhookEvent.Status.IGNORED, "error": why, "processed_at": timezone.now()}


def _answer(event: WebhookEvent, *, duplicate: bool) -> WebhookOutcome:
    data = {"duplicate": duplicate, "webhookId": event.webhook_id, "status": event.status}
    if event.status == WebhookEvent.Status.FAILED:
        return WebhookOutcome(500, {**data, "error": APPLY_FAILED})
    return WebhookOutcome(200, data)


def _redelivered(event: WebhookEvent) -> WebhookOutcome:
    """A webhookId seen before: a duplicate, unless its event failed to apply: then it is applied again (by one
    delivery at a time: the first to move it out of "failed")."""
    retry = WebhookEvent.objects.filter(pk=event.pk, status=WebhookEvent.Status.FAILED).update(
        status=WebhookEvent.Status.RECEIVED
    )
    if not retry:
        return WebhookOutcome(200, {"duplicate": True, "webhookId": event.webhook_id})
    event.refresh_from_db()
    webhook_event_apply(event=event)
    return _answer(event, duplicate=False)


def _reject(
    body: bytes, client_ip: str, http_status: int, reason: str, *, scheme: str, event_type: str = ""
) -> WebhookOutcome:
    """Keep the first BODY_EXCERPT_BYTES of a rejected delivery (never its parsed payload), count it against the
    client address, and prune rejections older than WEBHOOK_RETENTION_DAYS."""
    _count_rejection(client_ip)
    now = timezone.now()
    WebhookEvent.objects.filter(
        status=WebhookEvent.Status.REJECTED,
        received_at__lt=now - datetime.timedelta(days=settings.WEBHOOK_RETENTION_DAYS),
    ).delete()
    WebhookEvent.objects.create(
        webhook_id=None,
        event_type=event_type,
        body_excerpt=body[:BODY_EXCERPT_BYTES].decode("utf-8", errors="replace"),
        signature_scheme=scheme,
        signature_valid=scheme != "none",
        status=WebhookEvent.Status.REJECTED,
        error=reason,
        client_ip=client_ip[:64],
        received_at=now,
    )
    return WebhookOutcome(http_status, {"error": "invalid signature" if scheme == "none" else reason})


@logged_run("sync_run_id", sync_type="webhook")
def webhook_event_apply(*, event: WebhookEvent) -> None:
    """Apply a stored event to local records; the outcome lands on the event and in the sync log."""
    run = SyncRun(SyncLog.SyncType.WEBHOOK)
    run.processed = 1
    handler = HANDLERS.get(event.event_type)
    try:
        with transaction.atomic():
            note = handler(event.payload) if handler else f"{event.event_type or 'untyped'} events are not used"
    except Exception as exc:  # any failure is recorded on the event and in the log, and answered with a 500
        logger.exception("GoHighLevel webhook %s (%s) failed to apply", event.webhook_id, event.event_type)
        event.status, event.error = WebhookEvent.Status.FAILED, f"{type(exc).__name__}: {exc}"
        run.fail(event.error, webhook=event.webhook_id)
    else:
        applied = handler is not None and note is not None
        event.status = WebhookEvent.Status.PROCESSED if applied else WebhookEvent.Status.IGNORED
        event.error = "" if applied else (note or "no matching local record")
        run.succeeded, run.skipped = int(applied), int(not applied)
        run.notes.append(f"{event.event_type} {event.webhook_id}: {note or event.error}")
    event.processed_at = timezone.now()
    event.save(update_fields=["status", "error", "processed_at"])
    run.finish()


def _linked_lead(*, kind: str, ghl_id: str) -> tuple[Lead | None, ExternalLink | None]:
    link = ExternalLink.objects.filter(
        content_type=ContentType.objects.get_for_model(Lead), kind=kind, ghl_id=ghl_id
    ).first()
    if link is None:
        return None, None
    return Lead.objects.filter(pk=link.object_id).first(), link


def _on_contact(payload: dict) -> str | None:
    # Contact events carry no dateUpdated: the delivery timestamp dates the remote change.
    contact = Contact.from_api({**payload, "dateUpdated": payload.get("dateUpdated") or payload.get("timestamp")})
    is_buyer = Buyer.objects.filter(ghl_contact_id=contact.id).exists()
    notes = []
    if consent_record_from_ghl(contact=payload, seen_at=contact.date_updated or timezone.now()):
        notes.append("consent updated from DND")
    if is_buyer or settings.GHL_BUYER_TAG in contact.tags:
        result = buyers_upsert_from_contacts(contacts=[contact], field_keys={})
        notes.append(f"buyer: {result.created} created, {result.updated} updated, {result.conflicts} conflicts")
    lead, link = _linked_lead(kind=ExternalLink.Kind.CONTACT, ghl_id=contact.id)
    if lead is not None:
        link.remote_snapshot = {**link.remote_snapshot, "tags": contact.tags}
        link.remote_updated_at = parse_datetime(payload.get("timestamp"))
        link.save(update_fields=["remote_snapshot", "remote_updated_at"])
        what = "tags" if payload.get("type") == "ContactTagUpdate" else "contact"
        Activity.objects.create(
            lead=lead, kind=Activity.Kind.SYNC, body=f"GoHighLevel {what} updated (tags: {', '.join(contact.tags)})"
        )
        notes.append(f"lead {lead.pk}")
    owners = _owner_contact_links(contact.id)
    if owners:
        at = parse_datetime(payload.get("timestamp"))
        for owner_link in owners:
            owner_link.remote_snapshot = {**owner_link.remote_snapshot, "tags": contact.tags}
            owner_link.remote_updated_at = at
        ExternalLink.objects.bulk_update(owners, ["remote_snapshot", "remote_updated_at"])
        what = {"ContactTagUpdate": "tags updated", "ContactCreate": "contact created"}.get(
            payload.get("type"), "contact updated"
        )
        notes.append(
            _owner_leads_note(owners, f"GoHighLevel {what} (owner's contact; tags: {', '.join(contact.tags)})")
        )
    return "; ".join(notes) or None


def _owner_contact_links(ghl_id: str) -> list[ExternalLink]:
    """The owners' links to this contact: its owner's, and those of owners GoHighLevel merged into it (shared)."""
    if not ghl_id:
        return []
    return list(
        ExternalLink.objects.filter(
            content_type=ContentType.objects.get_for_model(Owner), kind__in=CONTACT_KINDS, ghl_id=ghl_id
        ).order_by("pk")
    )


def _owner_leads_note(links: list[ExternalLink], body: str) -> str:
    """One timeline entry per lead of these links' owners (one query each way); what the log says."""
    owner_ids = [link.object_id for link in links]
    lead_ids = list(Lead.objects.filter(property__owner_id__in=owner_ids).order_by("pk").values_list("pk", flat=True))
    Activity.objects.bulk_create([Activity(lead_id=pk, kind=Activity.Kind.SYNC, body=body) for pk in lead_ids])
    return f"owner {', '.join(map(str, owner_ids))}: {len(lead_ids)} leads"


def _on_contact_delete(payload: dict) -> str | None:
    """A contact deleted in GoHighLevel: its links (a lead's, its owners', a buyer's) are marked deleted as a
    reconcile would mark them, a buyer becomes inactive, and the leads get a timeline entry; nothing is deleted."""
    ghl_id = payload.get("id") or ""
    links = list(ExternalLink.objects.filter(kind__in=CONTACT_KINDS, ghl_id=ghl_id, remote_deleted_at__isnull=True))
    if not ghl_id or not links:
        return None
    now = timezone.now()
    ExternalLink.objects.filter(pk__in=[link.pk for link in links]).update(remote_deleted_at=now)
    type_ids = {model: ContentType.objects.get_for_model(model).pk for model in (Lead, Owner, Buyer)}
    of_type = {model: [link for link in links if link.content_type_id == pk] for model, pk in type_ids.items()}
    Buyer.objects.filter(pk__in=[link.object_id for link in of_type[Buyer]]).update(is_active=False, updated_at=now)
    body = f"GoHighLevel contact {ghl_id} was deleted in GoHighLevel; the lead is kept"
    Activity.objects.bulk_create(
        [Activity(lead_id=link.object_id, kind=Activity.Kind.SYNC, body=body) for link in of_type[Lead]]
    )
    notes = [f"lead {link.object_id}" for link in of_type[Lead]]
    notes += [f"buyer {link.object_id} inactive" for link in of_type[Buyer]]
    if of_type[Owner]:
        notes.append(_owner_leads_note(of_type[Owner], body))
    return "contact deleted: " + "; ".join(notes)


def opportunity_status_apply(payload: dict) -> str | None:
    lead, link = _linked_lead(kind=ExternalLink.Kind.OPPORTUNITY, ghl_id=payload.get("id", ""))
    remote_status = payload.get("status") or ""
    if lead is None or not remote_status:
        return None
    merge = merge_fields(
        base=link.remote_snapshot,
        local={"status": opportunity_status(lead.status)},
        remote={"status": remote_status},
        strategy=conflict_strategy(),
        local_updated_at=lead.updated_at,
        remote_updated_at=parse_datetime(payload.get("timestamp")),
    )
    link.remote_snapshot = merge.base
    link.remote_updated_at = parse_datetime(payload.get("timestamp"))
    link.save(update_fields=["remote_snapshot", "remote_updated_at"])
    if merge.conflicts:
        sync_conflicts_record(links=[link], conflicts={link.ghl_id: merge.conflicts})
        return f"lead {lead.pk}: conflict on status recorded"
    if "status" in merge.take_remote:
        status = lead_status_from_opportunity(remote_status, lead.status)
        lead_set_status_from_ghl(lead=lead, status=status, note=f"GoHighLevel opportunity marked {remote_status}")
        return f"lead {lead.pk}: status {lead.status}"
    return f"lead {lead.pk}: status kept"


def _on_opportunity_stage(payload: dict) -> str | None:
    lead, link = _linked_lead(kind=ExternalLink.Kind.OPPORTUNITY, ghl_id=payload.get("id", ""))
    stage = payload.get("pipelineStageId") or ""
    if lead is None:
        return None
    link.remote_snapshot = {**link.remote_snapshot, "pipelineStageId": stage}
    link.save(update_fields=["remote_snapshot"])
    Activity.objects.create(
        lead=lead, kind=Activity.Kind.SYNC, to_value=stage[:200], body="GoHighLevel opportunity moved to a new stage"
    )
    return f"lead {lead.pk}: stage {stage}"


def _on_task_complete(payload: dict) -> str | None:
    lead, _ = _linked_lead(kind=ExternalLink.Kind.CONTACT, ghl_id=payload.get("contactId", ""))
    if lead is None:
        return None
    Activity.objects.create(
        lead=lead, kind=Activity.Kind.TASK, body=f"Task completed in GoHighLevel: {payload.get('title', '')}"
    )
    return f"lead {lead.pk}: task completed"


MESSAGE_KINDS = {"SMS": Activity.Kind.SMS, "Email": Activity.Kind.EMAIL, "CALL": Activity.Kind.CALL}


REPLY_CHANNELS = {"SMS": Channel.SMS, "Email": Channel.EMAIL, "CALL": Channel.CALL}


def _on_inbound_message(payload: dict) -> str | None:
    message_type = payload.get("messageType", "")
    meaning = None
    if message_type in REPLY_CHANNELS and payload.get("body"):  # STOP, START, "wrong number": consent first
        meaning = consent_record_reply(
            ghl_contact_id=payload.get("contactId", ""),
            text=payload["body"],
            channel=REPLY_CHANNELS[message_type],
            at=parse_datetime(payload.get("dateAdded") or payload.get("timestamp")) or timezone.now(),
            message_id=payload.get("messageId", ""),
        )
    lead, _ = _linked_lead(kind=ExternalLink.Kind.CONTACT, ghl_id=payload.get("contactId", ""))
    if lead is None:
        return "consent recorded from a reply" if meaning and meaning.events else None
    if meaning is not None and meaning.needs_review:
        Activity.objects.create(
            lead=lead, kind=Activity.Kind.TASK, body="Read this reply: it may ask not to be contacted again"
        )
    body = payload.get("body") or f"{message_type} ({payload.get('status', '')})"
    Activity.objects.create(
        lead=lead, kind=MESSAGE_KINDS.get(message_type, Activity.Kind.NOTE), body=f"Inbound {message_type}: {body}"
    )
    return f"lead {lead.pk}: inbound {message_type}"


HANDLERS = {
    "ContactCreate": _on_contact,
    "ContactDelete": _on_contact_delete,
    "ContactTagUpdate": _on_contact,
    "ContactUpdate": _on_contact,
    "ContactDndUpdate": _on_contact,
    "OpportunityStatusUpdate": opportunity_status_apply,
    "OpportunityStageUpdate": _on_opportunity_stage,
    "TaskComplete": _on_task_complete,
    "InboundMessage": _on_inbound_message,
}
