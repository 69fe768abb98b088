"""The compliance gate as a service: may this contact get this message now? Every outbound message asks here first.

Entry point (issue 25's mail and skip-trace sends call it too):

    decision = outbound_check(recipient=recipient_for_buyer(buyer), action=Action.SMS, lead=lead)
    if decision.allowed:
        ...send...
        outbound_sent(lead=lead, decision=decision, what="SMS to buyer Ann Lee")
    # a refusal is already on the lead's timeline, with its reason

- `Recipient` says who (the Buyer or Owner row that keys its Consent records) and what the gate needs to place them
  (phone, email, mailing state and ZIP, GoHighLevel's time zone) plus the flags its record holds (`opted_in`, `dnd`).
- `action` is a `sync.compliance.Action`: SMS, WORKFLOW (enrolment), EMAIL_BLAST, DIALER_EXPORT, MAIL_PIECE.
- `lead` (optional) is the property the message is about: a dead or closed lead, or a passed auction or tax-deed
  sale, refuses it; the refusal (and, through `outbound_sent`, the send with the consent it relied on) is recorded
  on that lead's timeline. Without a lead nothing is recorded: the caller keeps the returned Decision.

Consent records (sync.models.Consent, one per contact and channel) are written by `consent_events_record` from
GoHighLevel DND flags (pull, reconcile, webhooks), replies (STOP/START) and local opt-outs; the do-not-contact list
(sync.models.DoNotContact) refuses every channel. The rules themselves are the pure sync.compliance.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Max, Q
from django.utils import timezone

from buyers.models import Buyer, PropertyMatch
from leads.models import Activity, Lead
from sync import compliance
from sync.compliance import Action, Channel, ConsentEvent, Decision, PropertyFacts, Source
from sync.models import Consent, DoNotContact, ExternalLink
from sync.time_zones import locate

# A local written opt-in (a buyer's sms_opt_in) dates from "long ago": any refusal recorded since beats it.
LONG_AGO = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
REFUSAL_REPEAT_AFTER = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Recipient:
    contact: object  # the model instance (Buyer, Owner) its Consent records belong to
    name: str = ""
    phone: str = ""
    email: str = ""
    state: str = ""
    zip_code: str = ""
    time_zone: str = ""  # GoHighLevel's, used only when nothing else places the contact
    opted_in: frozenset[Channel] = field(default_factory=frozenset)  # local written opt-ins
    dnd: bool = False  # GoHighLevel's all-channel DND as the local record holds it


def recipient_for_buyer(buyer) -> Recipient:
    return Recipient(
        contact=buyer,
        name=str(buyer),
        phone=buyer.phone,
        email=buyer.email,
        opted_in=frozenset({Channel.SMS}) if buyer.sms_opt_in else frozenset(),
        dnd=buyer.dnd,
    )


def phone_digits(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "")
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


def _key(contact) -> tuple[int, int]:
    return ContentType.objects.get_for_model(contact).pk, contact.pk


def _stored_events(contact) -> list[ConsentEvent]:
    content_type, object_id = _key(contact)
    return [
        ConsentEvent(
            Channel(row.channel),
            row.status == compliance.Status.GRANTED,
            row.at or LONG_AGO,
            Source(row.source or Source.LOCAL),
            row.detail,
            permanent=row.permanent,
        )
        for row in Consent.objects.filter(content_type_id=content_type, object_id=object_id).exclude(
            status=compliance.Status.UNKNOWN
        )
    ]


def consent_events_record(*, contact, events: Iterable[ConsentEvent], evidence: dict | None = None) -> int:
    """Merge new consent events into the contact's records (one upsert); how many channels changed."""
    events = list(events)
    if not events:
        return 0
    before = compliance.merge_consents(_stored_events(contact))
    after = compliance.merge_consents([*_stored_events(contact), *events])
    content_type, object_id = _key(contact)
    changed = [
        Consent(
            content_type_id=content_type,
            object_id=object_id,
            channel=channel.value,
            status=record.status.value,
            source=record.source.value if record.source else "",
            detail=record.detail[:300],
            permanent=record.permanent,
            at=record.at,
            evidence=evidence or {},
        )
        for channel, record in after.items()
        if record != before[channel]
    ]
    Consent.objects.bulk_create(
        changed,
        update_conflicts=True,
        unique_fields=["content_type", "object_id", "channel"],
        update_fields=["status", "source", "detail", "permanent", "at", "evidence", "updated_at"],
    )
    return len(changed)


def consent_contact_for(*, ghl_id: str):
    """The local record a GoHighLevel contact's consent belongs to: its buyer, else the record its link points
    to (a lead's owner contact); None when DealFinder does not know it."""
    buyer = Buyer.objects.filter(ghl_contact_id=ghl_id).only("pk").first()
    if buyer is not None:
        return buyer
    link = ExternalLink.objects.filter(kind=ExternalLink.Kind.CONTACT, ghl_id=ghl_id).select_related("content_type")
    link = link.first()
    return link.content_type.model_class()(pk=link.object_id) if link is not None else None


def consent_record_from_ghl(*, contact: dict, seen_at: datetime.datetime) -> int:
    """GoHighLevel's DND flags of one contact object (pull, reconcile, ContactDndUpdate webhooks) as consent."""
    events = compliance.events_from_ghl(contact, seen_at=seen_at)
    record = consent_contact_for(ghl_id=contact.get("id", "")) if events else None
    if record is None:
        return 0
    evidence = {
        "ghl_contact_id": contact.get("id"),
        "dnd": contact.get("dnd"),
        "dndSettings": contact.get("dndSettings"),
    }
    return consent_events_record(contact=record, events=events, evidence=evidence)


def consent_record_reply(
    *, ghl_contact_id: str, text: str, channel: Channel, at: datetime.datetime, message_id: str = ""
):
    """An inbound reply (STOP, START, "wrong number"...) as consent; the meaning (needs_review: a broker should
    read a long message mentioning an opt-out word), or None when DealFinder does not know the contact."""
    meaning = compliance.reply_events(text, channel=channel, at=at)
    record = consent_contact_for(ghl_id=ghl_contact_id)
    if record is None:
        return None
    consent_events_record(
        contact=record, events=meaning.events, evidence={"message_id": message_id, "text": text[:200]}
    )
    return meaning


def consents_for(*, recipient: Recipient, now: datetime.datetime) -> dict[Channel, compliance.Consent]:
    """The merged consent per channel: stored records, the record's own flags, the do-not-contact list."""
    events = _stored_events(recipient.contact)
    events += [
        ConsentEvent(c, True, LONG_AGO, Source.LOCAL, "opted in on the DealFinder record") for c in recipient.opted_in
    ]
    if recipient.dnd:
        events += compliance.events_from_ghl({"dnd": True}, seen_at=now)
    listed = Q(pk__in=[])
    if phone_digits(recipient.phone):
        listed |= Q(phone_digits=phone_digits(recipient.phone))
    if recipient.email.strip():
        listed |= Q(email=recipient.email.strip().lower())
    entry = DoNotContact.objects.filter(listed).order_by("created_at").first()
    if entry is not None:
        events += compliance.do_not_contact_events(at=entry.created_at, detail=entry.reason)
    return compliance.merge_consents(events)


def property_facts(lead: Lead) -> PropertyFacts:
    """The lead's status and its latest auction or tax-deed sale date, in the property's own time zones."""
    prop = lead.property
    dates = [
        d
        for d in (
            prop.foreclosures.aggregate(last=Max("auction_date"))["last"],
            prop.tax_sales.aggregate(last=Max("sale_date"))["last"],
        )
        if d is not None
    ]
    zones = locate(state=prop.state, zip_code=prop.zip).zones
    return PropertyFacts(lead_status=lead.status, auction_date=max(dates) if dates else None, zones=zones)


def compliance_policy() -> compliance.Policy:
    return compliance.Policy(
        require_opt_in=frozenset({Channel.SMS}) if settings.COMPLIANCE_SMS_REQUIRES_OPT_IN else frozenset(),
        workflow_channels=tuple(Channel(c.strip()) for c in settings.GHL_WORKFLOW_CHANNELS if c.strip()),
    )


def outbound_check(
    *, recipient: Recipient, action: Action, lead: Lead | None = None, now: datetime.datetime | None = None
) -> Decision:
    """Allow or refuse one message to one contact (see the module docstring); a refusal about a lead is recorded
    on its timeline with the reason."""
    now = now or timezone.now()
    where = locate(
        state=recipient.state, zip_code=recipient.zip_code, phone=recipient.phone, time_zone=recipient.time_zone
    )
    decision = compliance.decide(
        action=action,
        consents=consents_for(recipient=recipient, now=now),
        where=where,
        now=now,
        about=property_facts(lead) if lead is not None else None,
        policy=compliance_policy(),
    )
    if not decision.allowed and lead is not None:
        _refusal_record(lead=lead, decision=decision, what=f"{action.value} to {recipient.name or 'contact'}", now=now)
    return decision


def _refusal_record(*, lead: Lead, decision: Decision, what: str, now: datetime.datetime) -> None:
    """One timeline entry per lead, message and reason a day: a push every 15 minutes asks again, quietly."""
    reason, prefix = f"refused: {decision.reason.value}"[:200], f"Not sent ({what})"
    if Activity.objects.filter(
        lead=lead, to_value=reason, body__startswith=prefix, created_at__gte=now - REFUSAL_REPEAT_AFTER
    ).exists():
        return
    Activity.objects.create(lead=lead, kind=Activity.Kind.SYSTEM, to_value=reason, body=f"{prefix}: {decision.message}")


def relied_on_text(decision: Decision) -> str:
    """ "sms granted (local: opted in on the DealFinder record)"; a dated event carries its date."""

    def one(c: compliance.Consent) -> str:
        if c.source is None:
            return f"{c.channel.value} {c.status.value}"
        dated = f", {c.at:%Y-%m-%d}" if c.at and c.at > LONG_AGO else ""
        return f"{c.channel.value} {c.status.value} ({c.source.value}: {c.detail}{dated})"

    return "; ".join(one(c) for c in decision.relied_on)


def outbound_sent(*, lead: Lead, decision: Decision, what: str, kind: str = Activity.Kind.SMS) -> Activity:
    """Record a message that went out, with the consent it relied on."""
    return Activity.objects.create(
        lead=lead, kind=kind, to_value="sent"[:200], body=f"{what} (consent: {relied_on_text(decision)})"
    )


DIALER_HEADER = ["buyer", "phone", "property_address", "score", "calling_window", "time_zones", "consent"]


def matches_dialer_rows(*, match_ids, now: datetime.datetime | None = None) -> tuple[list[list], int]:
    """A call list for a dialer from matches: only buyers the gate allows (Action.DIALER_EXPORT: no revoked call
    consent, not on the do-not-contact list, a known time zone, a live lead), each with the calling window that
    applies where they are; the refusals are on the leads' timelines. (rows, refused count)."""
    now = now or timezone.now()
    rows, refused = [], 0
    matches = (
        PropertyMatch.objects.filter(pk__in=list(match_ids))
        .select_related("buyer", "property__lead")
        .order_by("property__address_normalized", "-score", "buyer_id")
    )
    for match in matches:
        lead = getattr(match.property, "lead", None)
        decision = outbound_check(
            recipient=recipient_for_buyer(match.buyer), action=Action.DIALER_EXPORT, lead=lead, now=now
        )
        if not decision.allowed:
            refused += 1
            continue
        rows.append(
            [
                str(match.buyer),
                match.buyer.phone,
                match.property.address_normalized or match.property.address,
                match.score,
                decision.window,
                " ".join(decision.zones),
                relied_on_text(decision),
            ]
        )
    return rows, refused
