"""The compliance gate as a service: may this contact get this message now? Every outbound message asks here first.

Entry point (issue 25's mail and skip-trace sends call it too):

    decision = outbound_check(recipient=recipient_for_buyer(buyer), action=Action.SMS, lead=lead)
    if decision.allowed:
        ...send...
        outbound_sent_activity(lead=lead, decision=decision, what="SMS to buyer Ann Lee").save()
    # a refusal is already on the lead's timeline, with its reason

- `Recipient` says who (the Buyer or Owner row that keys its Consent records) and what the gate needs to place them
  (phone, email, mailing state and ZIP, GoHighLevel's time zone) plus the flags its record holds (`opted_in`, `dnd`).
- `action` is a `sync.compliance.Action`: SMS, WORKFLOW (enrolment), EMAIL_BLAST, DIALER_EXPORT, MAIL_PIECE.
- `lead` (optional) is the property the message is about: a dead or closed lead, or a passed auction or tax-deed
  sale, refuses it; the refusal (and, through `outbound_sent_activity`, the send with the consent it relied on) is
  recorded on that lead's timeline. Without a lead nothing is recorded: the caller keeps the returned Decision.

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
from buyers.selectors import match_blast_row
from leads.models import Activity, Lead
from properties.models import Foreclosure, Property, TaxSale
from sync import compliance
from sync.compliance import Action, Channel, ConsentEvent, Decision, PropertyFacts, Source
from sync.mail_models import MailOptOut
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
    owner_of_lead: int | None = None  # a lead's owner: that lead's MailOptOut (issue 25) is this contact's opt-out


def recipient_for_buyer(buyer) -> Recipient:
    return Recipient(
        contact=buyer,
        name=str(buyer),
        phone=buyer.phone,
        email=buyer.email,
        opted_in=frozenset({Channel.SMS}) if buyer.sms_opt_in else frozenset(),
        dnd=buyer.dnd,
    )


def recipient_for_lead_owner(lead) -> Recipient:
    """The owner of a lead's property (a mail piece's addressee): its Owner's consent records when resolved, the
    lead's MailOptOut, and the property's mailing state and ZIP to place them."""
    prop = lead.property
    owner = prop.owner if prop.owner_id else None
    return Recipient(
        contact=owner,
        name=prop.owner_name or (owner.display_name if owner else ""),
        state=(owner.mailing_state if owner else "") or prop.state,
        zip_code=(owner.mailing_zip if owner else "") or prop.zip,
        owner_of_lead=lead.pk,
    )


def phone_digits(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "")
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits


def _key(contact) -> tuple[int, int]:
    return ContentType.objects.get_for_model(contact).pk, contact.pk


def _event(row: Consent) -> ConsentEvent:
    """A stored consent row as the rules read it."""
    return ConsentEvent(
        Channel(row.channel),
        row.status == compliance.Status.GRANTED,
        row.at or LONG_AGO,
        Source(row.source or Source.LOCAL),
        row.detail,
        permanent=row.permanent,
    )


def _stored_events(contact) -> list[ConsentEvent]:
    content_type, object_id = _key(contact)
    return [
        _event(row)
        for row in Consent.objects.filter(content_type_id=content_type, object_id=object_id).exclude(
            status=compliance.Status.UNKNOWN
        )
    ]


def consent_events_record(*, contact, events: Iterable[ConsentEvent], evidence: dict | None = None) -> int:
    """Merge new consent events into the contact's records (one upsert); how many channels changed."""
    events = list(events)
    if not events:
        return 0
    stored = _stored_events(contact)
    before = compliance.merge_consents(stored)
    after = compliance.merge_consents([*stored, *events])
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


def consent_contacts_for(*, ghl_id: str) -> list:
    """The local records a GoHighLevel contact's consent belongs to: its buyer, else the record its link points to
    (a lead's owner contact) and the owners GoHighLevel merged into that contact (`shared_contact` links: the same
    person to GoHighLevel, so the same refusal); empty when DealFinder does not know it. One or two queries."""
    buyer = Buyer.objects.filter(ghl_contact_id=ghl_id).only("pk").first()
    if buyer is not None:
        return [buyer]
    links = ExternalLink.objects.filter(
        kind__in=(ExternalLink.Kind.CONTACT, ExternalLink.Kind.SHARED_CONTACT), ghl_id=ghl_id
    ).select_related("content_type")
    links = sorted(links, key=lambda link: (link.kind != ExternalLink.Kind.CONTACT, link.pk))
    return [link.content_type.model_class()(pk=link.object_id) for link in links]


def consent_record_from_ghl(*, contact: dict, seen_at: datetime.datetime) -> int:
    """GoHighLevel's DND flags of one contact object (pull, reconcile, ContactDndUpdate webhooks) as consent."""
    events = compliance.events_from_ghl(contact, seen_at=seen_at)
    records = consent_contacts_for(ghl_id=contact.get("id", "")) if events else []
    evidence = {
        "ghl_contact_id": contact.get("id"),
        "dnd": contact.get("dnd"),
        "dndSettings": contact.get("dndSettings"),
    }
    return sum(consent_events_record(contact=record, events=events, evidence=evidence) for record in records)


def consent_record_reply(
    *, ghl_contact_id: str, text: str, channel: Channel, at: datetime.datetime, message_id: str = ""
):
    """An inbound reply (STOP, START, "wrong number"...) as consent; the meaning (needs_review: a broker should
    read a long message mentioning an opt-out word), or None when DealFinder does not know the contact."""
    meaning = compliance.reply_events(text, channel=channel, at=at)
    records = consent_contacts_for(ghl_id=ghl_contact_id)
    if not records:
        return None
    for record in records:
        consent_events_record(
            contact=record, events=meaning.events, evidence={"message_id": message_id, "text": text[:200]}
        )
    return meaning


def _listed_q(recipient: Recipient) -> Q:
    listed = Q(pk__in=[])
    if phone_digits(recipient.phone):
        listed |= Q(phone_digits=phone_digits(recipient.phone))
    if recipient.email.strip():
        listed |= Q(email=recipient.email.strip().lower())
    return listed


def _merged(
    *, recipient: Recipient, stored: list[ConsentEvent], entry, opt_out, now: datetime.datetime
) -> dict[Channel, compliance.Consent]:
    events = list(stored)
    events += [
        ConsentEvent(c, True, LONG_AGO, Source.LOCAL, "opted in on the DealFinder record") for c in recipient.opted_in
    ]
    if recipient.dnd:
        events += compliance.events_from_ghl({"dnd": True}, seen_at=now)
    if entry is not None:
        events += compliance.do_not_contact_events(at=entry.created_at, detail=entry.reason)
    if opt_out is not None:  # issue 25's local opt-out of a lead's owner (sync.mail_models.MailOptOut)
        events += _mail_opt_out_events(opt_out)
    return compliance.merge_consents(events)


def _mail_opt_out_events(row) -> list[ConsentEvent]:
    if row.do_not_contact:
        return compliance.do_not_contact_events(at=row.created_at, detail=row.reason)
    detail = "opted out of mail" + (f": {row.reason}" if row.reason else "")
    return [ConsentEvent(Channel.MAIL, False, row.created_at, Source.LOCAL, detail)]


def consents_for(*, recipient: Recipient, now: datetime.datetime) -> dict[Channel, compliance.Consent]:
    """The merged consent per channel: stored records, the record's own flags, the do-not-contact list, and for a
    lead's owner the lead's MailOptOut."""
    stored = _stored_events(recipient.contact) if recipient.contact is not None else []
    entry = DoNotContact.objects.filter(_listed_q(recipient)).order_by("created_at").first()
    opt_out = None
    if recipient.owner_of_lead is not None:
        opt_out = MailOptOut.objects.filter(lead_id=recipient.owner_of_lead).first()
    return _merged(recipient=recipient, stored=stored, entry=entry, opt_out=opt_out, now=now)


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
    return outbound_check_batch(items=[(recipient, lead)], action=action, now=now)[0]


def outbound_check_batch(
    *,
    items: Iterable[tuple[Recipient, Lead | None]],
    action: Action,
    now: datetime.datetime | None = None,
    record: bool = True,
) -> list[Decision]:
    """`outbound_check` for a list of (recipient, lead) at once, a fixed number of queries whatever its length: the
    decisions in the same order; refusals about a lead are recorded (one bulk insert) unless `record` is False
    (a dry run, or a caller that records its own)."""
    now = now or timezone.now()
    items = list(items)
    stored = _stored_events_many([r.contact for r, _ in items if r.contact is not None])
    entries = _do_not_contact_many([r for r, _ in items])
    owner_leads = {r.owner_of_lead for r, _ in items if r.owner_of_lead is not None}
    opt_outs = {row.lead_id: row for row in MailOptOut.objects.filter(lead_id__in=owner_leads)} if owner_leads else {}
    facts = _property_facts_many([lead for _, lead in items if lead is not None])
    policy = compliance_policy()
    decisions, refusals = [], []
    for recipient, lead in items:
        key = _key(recipient.contact) if recipient.contact is not None else None
        entry = _entry_for(recipient, entries)
        consents = _merged(
            recipient=recipient,
            stored=stored.get(key, []),
            entry=entry,
            opt_out=opt_outs.get(recipient.owner_of_lead),
            now=now,
        )
        where = locate(
            state=recipient.state, zip_code=recipient.zip_code, phone=recipient.phone, time_zone=recipient.time_zone
        )
        decision = compliance.decide(
            action=action,
            consents=consents,
            where=where,
            now=now,
            about=facts[lead.pk] if lead is not None else None,
            policy=policy,
        )
        decisions.append(decision)
        if record and not decision.allowed and lead is not None:
            refusals.append((lead, decision, f"{action.value} to {recipient.name or 'contact'}"))
    if refusals:
        _refusals_record(refusals=refusals, now=now)
    return decisions


def _stored_events_many(contacts) -> dict[tuple[int, int], list[ConsentEvent]]:
    by_type: dict[int, set[int]] = {}
    for contact in contacts:
        content_type, object_id = _key(contact)
        by_type.setdefault(content_type, set()).add(object_id)
    if not by_type:
        return {}
    where = Q(pk__in=[])
    for content_type, ids in by_type.items():
        where |= Q(content_type_id=content_type, object_id__in=ids)
    out: dict[tuple[int, int], list[ConsentEvent]] = {}
    for row in Consent.objects.filter(where).exclude(status=compliance.Status.UNKNOWN):
        out.setdefault((row.content_type_id, row.object_id), []).append(_event(row))
    return out


def _do_not_contact_many(recipients) -> dict[str, DoNotContact]:
    """The oldest entry per phone ("p:digits") and email ("e:address") among the recipients'."""
    phones = {phone_digits(r.phone) for r in recipients} - {""}
    emails = {r.email.strip().lower() for r in recipients} - {""}
    if not phones and not emails:
        return {}
    out: dict[str, DoNotContact] = {}
    for entry in DoNotContact.objects.filter(Q(phone_digits__in=phones) | Q(email__in=emails)).order_by("created_at"):
        if entry.phone_digits in phones:
            out.setdefault(f"p:{entry.phone_digits}", entry)
        if entry.email in emails:
            out.setdefault(f"e:{entry.email}", entry)
    return out


def _entry_for(recipient: Recipient, entries: dict[str, DoNotContact]):
    found = [
        e
        for e in (
            entries.get(f"p:{phone_digits(recipient.phone)}") if phone_digits(recipient.phone) else None,
            entries.get(f"e:{recipient.email.strip().lower()}") if recipient.email.strip() else None,
        )
        if e is not None
    ]
    return min(found, key=lambda e: e.created_at) if found else None


def _property_facts_many(leads) -> dict[int, PropertyFacts]:
    """`property_facts` for many leads in three queries."""
    leads = {lead.pk: lead for lead in leads}
    if not leads:
        return {}
    property_ids = {lead.property_id for lead in leads.values()}
    places = {
        pk: (state, zip_code)
        for pk, state, zip_code in Property.objects.filter(pk__in=property_ids).values_list("pk", "state", "zip")
    }
    auctions = dict(
        Foreclosure.objects.filter(property_id__in=property_ids, auction_date__isnull=False)
        .values("property_id")
        .annotate(last=Max("auction_date"))
        .values_list("property_id", "last")
        .order_by()
    )
    sales = dict(
        TaxSale.objects.filter(property_id__in=property_ids, sale_date__isnull=False)
        .values("property_id")
        .annotate(last=Max("sale_date"))
        .values_list("property_id", "last")
        .order_by()
    )
    out = {}
    for pk, lead in leads.items():
        dates = [d for d in (auctions.get(lead.property_id), sales.get(lead.property_id)) if d is not None]
        state, zip_code = places.get(lead.property_id, ("", ""))
        zones = locate(state=state, zip_code=zip_code).zones
        out[pk] = PropertyFacts(lead_status=lead.status, auction_date=max(dates) if dates else None, zones=zones)
    return out


def _refusals_record(*, refusals, now: datetime.datetime) -> None:
    """One timeline entry per lead, message and reason a day: a push every 15 minutes asks again, quietly."""
    recent: dict[tuple[int, str], list[str]] = {}
    for lead_id, to_value, body in Activity.objects.filter(
        lead_id__in={lead.pk for lead, _, _ in refusals},
        to_value__startswith="refused: ",
        created_at__gte=now - REFUSAL_REPEAT_AFTER,
    ).values_list("lead_id", "to_value", "body"):
        recent.setdefault((lead_id, to_value), []).append(body)
    new = []
    for lead, decision, what in refusals:
        reason, prefix = f"refused: {decision.reason.value}"[:200], f"Not sent ({what})"
        if any(body.startswith(prefix) for body in recent.get((lead.pk, reason), ())):
            continue
        body = f"{prefix}: {decision.message}"
        recent.setdefault((lead.pk, reason), []).append(body)
        new.append(Activity(lead=lead, kind=Activity.Kind.SYSTEM, to_value=reason, body=body))
    Activity.objects.bulk_create(new)


def relied_on_text(decision: Decision) -> str:
    """ "sms granted (local: opted in on the DealFinder record)"; a dated event carries its date."""

    def one(c: compliance.Consent) -> str:
        if c.source is None:
            return f"{c.channel.value} {c.status.value}"
        dated = f", {c.at:%Y-%m-%d}" if c.at and c.at > LONG_AGO else ""
        return f"{c.channel.value} {c.status.value} ({c.source.value}: {c.detail}{dated})"

    return "; ".join(one(c) for c in decision.relied_on)


def outbound_sent_activity(*, lead: Lead, decision: Decision, what: str, kind: str = Activity.Kind.SMS) -> Activity:
    """The timeline entry of a message that went out, with the consent it relied on; unsaved, so a sender saves it
    with the stamps of what it sent (sync.buyer_messages.MatchStamps)."""
    return Activity(lead=lead, kind=kind, to_value="sent", body=f"{what} (consent: {relied_on_text(decision)})")


DIALER_HEADER = ["buyer", "phone", "property_address", "score", "calling_window", "time_zones", "consent"]


def _gated_matches(*, match_ids, action: Action, now: datetime.datetime):
    """The selected matches the gate allows for `action`, each with its decision (one batch); refused count."""
    matches = list(
        PropertyMatch.objects.filter(pk__in=list(match_ids))
        .select_related("buyer", "property__lead")
        .order_by("property__address_normalized", "-score", "buyer_id")
    )
    decisions = outbound_check_batch(
        items=[(recipient_for_buyer(m.buyer), getattr(m.property, "lead", None)) for m in matches],
        action=action,
        now=now,
    )
    allowed = [(m, d) for m, d in zip(matches, decisions, strict=True) if d.allowed]
    return allowed, len(matches) - len(allowed)


def matches_dialer_rows(*, match_ids, now: datetime.datetime | None = None) -> tuple[list[list], int]:
    """A call list for a dialer from matches: only buyers the gate allows (Action.DIALER_EXPORT: no revoked call
    consent, not on the do-not-contact list, a known time zone, a live lead), each with the calling window that
    applies where they are; the refusals are on the leads' timelines. (rows, refused count)."""
    allowed, refused = _gated_matches(match_ids=match_ids, action=Action.DIALER_EXPORT, now=now or timezone.now())
    rows = [
        [
            str(match.buyer),
            match.buyer.phone,
            match.property.address_normalized or match.property.address,
            match.score,
            decision.window,
            " ".join(decision.zones),
            relied_on_text(decision),
        ]
        for match, decision in allowed
    ]
    return rows, refused


def matches_blast_rows(*, match_ids, now: datetime.datetime | None = None) -> tuple[list[list], int]:
    """An email blast list from matches: only buyers the gate allows (Action.EMAIL_BLAST: no email DND or opt-out,
    not on the do-not-contact list, a live lead whose auction has not passed), in buyers' BLAST_HEADER columns; the
    refusals are on the leads' timelines. (rows, refused count)."""
    allowed, refused = _gated_matches(match_ids=match_ids, action=Action.EMAIL_BLAST, now=now or timezone.now())
    rows = [match_blast_row(match) for match, _decision in allowed]
    return rows, refused
