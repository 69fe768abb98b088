"""Direct-mail campaigns through Lob: create a campaign, send its due touches, apply Lob's tracking webhooks.

The pure parts live in drip.py (which touch is due), mail_pieces.py (templates), mail_costs.py (estimates), lob.py
(the client) and lob_webhooks.py (signatures and events); this module is the service that puts them together.
"""

from __future__ import annotations

import datetime
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from leads.filtersets import LeadFilterSet
from leads.models import Activity, Lead
from sync.compliance import Action, Decision
from sync.compliance import Reason as GateReason
from sync.consent import outbound_check_batch, recipient_for_lead_owner
from sync.drip import Reason, SentTouch, idempotency_key, next_touch
from sync.lob import LobClient
from sync.lob_records import Address, LobAuthError, LobError, Verification, recipient_name
from sync.lob_webhooks import LobEvent
from sync.mail_costs import estimate_send_cost, parse_unit_costs
from sync.mail_models import MailCampaign, MailPiece, MailVerification
from sync.mail_pieces import MergeValues, MissingMergeValue, PieceKind, offer_range, render_piece

BATCH = 500
KINDS = {"postcard": PieceKind.POSTCARD_4X6, "letter": PieceKind.LETTER}
DEFAULT_TEMPLATES = {
    "front": (
        '<html><body style="font-family:Arial"><h1>We want to buy {{ property_address }}</h1>'
        "<p>Cash, as is, close on your schedule.</p></body></html>"
    ),
    "back": (
        '<html><body style="font-family:Arial"><p>Dear {{ owner_name }},</p>'
        "<p>We would like to make you a cash offer for {{ property_address }}, {{ property_city }}.</p>"
        "<p>No repairs, no fees, no agents.</p></body></html>"
    ),
    "file": (
        '<html><body style="font-family:Arial"><p>Dear {{ owner_name }},</p>'
        "<p>We would like to buy {{ property_address }}, {{ property_city }} for cash, as is, "
        "and can close on your schedule.</p><p>Please call us back.</p></body></html>"
    ),
}
_MAILING = re.compile(r"^(?P<line1>.+?),\s*(?P<city>[^,]+?),?\s+(?P<state>[A-Za-z]{2})\s+(?P<zip>\d{5}(?:-?\d{4})?)$")
_MAILABLE_AGAIN = (MailPiece.Status.FAILED, MailPiece.Status.CANCELLED)


class MailCampaignError(ValueError):
    """A campaign cannot be created or sent as asked; the message says why."""


def mail_campaign_create(*, name: str, tiers: Iterable[str], kind: str = "postcard", slug: str = "") -> MailCampaign:
    """A campaign mailing the owners of new leads in `tiers`, with default templates and the default drip."""
    tiers = sorted({t.strip().upper() for t in tiers if t.strip()})
    bad = [t for t in tiers if t not in ("A", "B", "C", "D")]
    if not tiers or bad:
        raise MailCampaignError(f"tiers are letters A to D separated by commas (got {','.join(bad) or 'none'})")
    if kind not in KINDS:
        raise MailCampaignError(f"the kind is postcard or letter, not {kind!r}")
    slug = slug or slugify(name)
    if not slug:
        raise MailCampaignError(f"{name!r} gives no slug: pass --slug")
    if MailCampaign.objects.filter(slug=slug).exists():
        raise MailCampaignError(f"a campaign with the slug {slug!r} exists already")
    campaign = MailCampaign(
        name=name,
        slug=slug,
        audience={"tier": tiers, "status": [Lead.Status.NEW]},
        piece_kind=KINDS[kind].value,
        front_html=DEFAULT_TEMPLATES["front"],
        back_html=DEFAULT_TEMPLATES["back"],
        file_html=DEFAULT_TEMPLATES["file"],
    )
    campaign.full_clean(validate_unique=False) if kind != "letter" else campaign.clean_fields()
    campaign.save()
    return campaign


def may_contact(*, leads: Iterable[Lead], now: datetime.datetime | None = None) -> dict[int, Decision]:
    """The compliance gate's decision (Action.MAIL_PIECE) per lead, for its owner: the owner's consent records, the
    do-not-contact list, the lead's MailOptOut, a dead or closed lead, a passed auction. One batch, nothing recorded
    here: the send records its own skips."""
    leads = list(leads)
    decisions = outbound_check_batch(
        items=[(recipient_for_lead_owner(lead), lead) for lead in leads],
        action=Action.MAIL_PIECE,
        now=now,
        record=False,
    )
    return {lead.id: decision for lead, decision in zip(leads, decisions, strict=True)}


def mailing_address(text: str) -> dict[str, str] | None:
    """ "123 MAIN ST, ORLANDO, FL 32801" -> the parts Lob verifies; None when the recorded address cannot be read."""
    match = _MAILING.match(" ".join((text or "").split()))
    if not match:
        return None
    line1, city = match["line1"].strip(), match["city"].strip()
    return {"line1": line1, "city": city, "state": match["state"].upper(), "zip_code": match["zip"]}


def address_key(text: str) -> str:
    return " ".join((text or "").upper().split())[:255]


@dataclass
class SendReport:
    campaign: str
    dry_run: bool
    audience: int = 0
    due: Counter = field(default_factory=Counter)  # pieces due (or sent) per touch
    sent: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (lead id, reason), waiting leads excluded
    waiting: int = 0
    verifications: int = 0
    estimate: str = ""

    def describe(self) -> str:
        verb = "would mail" if self.dry_run else "mailed"
        pieces = sum(self.due.values()) if self.dry_run else self.sent
        lines = [f"{self.campaign}: audience {self.audience} leads; {verb} {pieces} pieces"]
        lines += [f"  touch {touch}: {count}" for touch, count in sorted(self.due.items())]
        lines.append(f"  waiting for a later touch: {self.waiting}")
        if self.estimate:
            lines += ["cost estimate:", *(f"  {line}" for line in self.estimate.splitlines())]
        for label, rows in (("skipped", self.skipped), ("failed", self.failed)):
            if rows:
                lines.append(f"{label} ({len(rows)}):")
                lines += [f"  lead {lead_id}: {reason}" for lead_id, reason in rows]
        return "\n".join(lines)


def lob_client() -> LobClient:
    return LobClient(settings.LOB_API_BASE_URL, settings.LOB_API_KEY, timeout=settings.HTTP_TIMEOUT_SECONDS)


def _activity(lead_id: int, body: str) -> Activity:
    return Activity(lead_id=lead_id, kind=Activity.Kind.SYSTEM, body=body)


def mail_campaign_send(
    *,
    campaign: MailCampaign,
    dry_run: bool = False,
    client: LobClient | None = None,
    today: datetime.date | None = None,
) -> SendReport:
    """Mail every touch due today to the campaign's audience; a dry run only says what it would mail and cost."""
    today = today or timezone.localdate()
    unit_costs = parse_unit_costs(settings.MAIL_UNIT_COSTS)
    kind = campaign.kind
    report = SendReport(campaign=campaign.slug, dry_run=dry_run)
    if not dry_run and client is None:
        client = lob_client()
    sender = _return_address(campaign)
    if kind is PieceKind.LETTER and sender is None:
        raise MailCampaignError(f"{campaign.slug}: a letter needs a return address (set it on the campaign in admin)")
    fresh_after = timezone.now() - datetime.timedelta(days=settings.MAIL_VERIFICATION_DAYS)
    audience = LeadFilterSet(data=campaign.audience, queryset=Lead.objects.select_related("property__owner")).qs
    leads = audience.order_by("id")
    last_id = 0
    while True:
        batch = list(leads.filter(id__gt=last_id)[:BATCH])
        if not batch:
            break
        last_id = batch[-1].id
        report.audience += len(batch)
        _send_batch(
            campaign=campaign,
            batch=batch,
            kind=kind,
            sender=sender,
            client=client,
            today=today,
            fresh_after=fresh_after,
            unit_cost=unit_costs.unit_cost(kind),
            report=report,
        )
    if dry_run:
        estimate = estimate_send_cost(
            pieces={kind: sum(report.due.values())}, verifications=report.verifications, unit_costs=unit_costs
        )
        report.estimate = estimate.describe()
    return report


def _return_address(campaign: MailCampaign) -> Address | None:
    if not campaign.return_line1:
        return None
    return Address(
        line1=campaign.return_line1,
        line2=campaign.return_line2,
        city=campaign.return_city,
        state=campaign.return_state,
        zip_code=campaign.return_zip,
        name=campaign.return_name,
        company=campaign.return_company,
    )


def _send_batch(*, campaign, batch, kind, sender, client, today, fresh_after, unit_cost, report) -> None:
    ids = [lead.id for lead in batch]
    pieces: dict[tuple[int, int], MailPiece] = {
        (p.lead_id, p.touch): p for p in MailPiece.objects.filter(campaign=campaign, lead_id__in=ids)
    }
    sent: dict[int, list[SentTouch]] = defaultdict(list)
    for piece in pieces.values():
        if piece.status not in _MAILABLE_AGAIN:
            returned = piece.status == MailPiece.Status.RETURNED
            sent[piece.lead_id].append(SentTouch(piece.touch, piece.sent_on, returned))
    gate = may_contact(leads=batch)
    keys = {lead.id: address_key(lead.property.owner_mailing_address) for lead in batch}
    verified = {
        v.address_key: v
        for v in MailVerification.objects.filter(address_key__in=set(keys.values()), verified_at__gte=fresh_after)
    }
    recorded = set(
        Activity.objects.filter(
            lead_id__in=ids, kind=Activity.Kind.SYSTEM, body__startswith=f"Mail {campaign.slug}: "
        ).values_list("lead_id", "body")
    )
    notes: list[Activity] = []

    def skip(lead_id: int, reason: str, *, record: bool = False) -> None:
        report.skipped.append((lead_id, reason))
        body = f"Mail {campaign.slug}: not mailed: {reason}"
        if record and not report.dry_run and (lead_id, body) not in recorded:
            recorded.add((lead_id, body))
            notes.append(_activity(lead_id, body))

    for lead in batch:
        refusal = gate[lead.id]
        do_not_contact = refusal.reason is GateReason.DO_NOT_CONTACT
        opted_out = refusal.reason in (GateReason.OPTED_OUT, GateReason.NO_CONSENT)
        decision = next_touch(
            touch_days=campaign.days,
            sent=sent[lead.id],
            today=today,
            lead_status=lead.status,
            opted_out=opted_out,
            do_not_contact=do_not_contact,
            starts_on=campaign.starts_on,
        )
        if not decision.due:
            if decision.reason in (Reason.WAITING, Reason.NOT_STARTED, Reason.COMPLETE):
                report.waiting += decision.reason is not Reason.COMPLETE
                continue
            skip(lead.id, decision.message, record=decision.reason in (Reason.OPTED_OUT, Reason.DO_NOT_CONTACT))
            continue
        if not refusal.allowed:  # the gate's other refusals: a dead or closed lead, a passed auction
            skip(lead.id, refusal.message, record=True)
            continue
        prop = lead.property
        parts = mailing_address(prop.owner_mailing_address)
        if parts is None:
            why = "no owner mailing address is recorded" if not prop.owner_mailing_address.strip() else None
            skip(lead.id, why or f"the mailing address {prop.owner_mailing_address!r} cannot be read", record=True)
            continue
        values = MergeValues(
            owner_name=prop.owner_name,
            property_address=" ".join(filter(None, [prop.street, prop.unit])),
            property_city=f"{prop.city}, {prop.state} {prop.zip}".strip(", ") if prop.city else "",
            offer=offer_range(lead.mao),
            return_address=campaign.return_address_text,
            sender_name=campaign.sender_name,
            sender_phone=campaign.sender_phone,
        )
        try:
            sides = render_piece(kind, campaign.templates, values.fields())
        except (MissingMergeValue, ValueError) as exc:
            skip(lead.id, str(exc))
            continue
        verification = verified.get(keys[lead.id])
        if verification is None:
            if report.dry_run:
                report.verifications += 1
                report.due[decision.touch] += 1
                continue
            try:
                verification = _verify(client, keys[lead.id], parts)
            except LobAuthError:
                raise
            except LobError as exc:
                report.failed.append((lead.id, f"address verification: {exc}"))
                continue
            verified[keys[lead.id]] = verification
        if not verification.mailable:
            skip(
                lead.id,
                f"the mailing address is undeliverable ({verification.notes or verification.deliverability})",
                record=True,
            )
            continue
        report.due[decision.touch] += 1
        if report.dry_run:
            continue
        _mail_one(
            campaign=campaign,
            lead=lead,
            touch=decision.touch,
            to=_to_address(verification, prop.owner_name),
            sender=sender,
            sides=sides,
            kind=kind,
            client=client,
            existing=pieces.get((lead.id, decision.touch)),
            unit_cost=unit_cost,
            report=report,
        )
    Activity.objects.bulk_create(notes)


def _verify(client: LobClient, key: str, parts: dict[str, str]) -> MailVerification:
    answer: Verification = client.verify_us_address(**parts)
    std = answer.address()
    row, _ = MailVerification.objects.update_or_create(
        address_key=key,
        defaults={
            "deliverability": answer.deliverability,
            "mailable": answer.mailable,
            "notes": "; ".join(answer.notes),
            "lob_id": answer.id,
            "verified_at": timezone.now(),
            "standardized": {
                "line1": std.line1,
                "line2": std.line2,
                "city": std.city,
                "state": std.state,
                "zip_code": std.zip_code,
            },
        },
    )
    return row


def _to_address(verification: MailVerification, owner_name: str) -> Address:
    parts = verification.standardized
    return Address(
        line1=parts.get("line1", ""),
        line2=parts.get("line2", ""),
        city=parts.get("city", ""),
        state=parts.get("state", ""),
        zip_code=parts.get("zip_code", ""),
        name=recipient_name(owner_name or "Current Resident"),
    )


def _mail_one(*, campaign, lead, touch, to, sender, sides, kind, client, existing, unit_cost, report) -> None:
    key = idempotency_key(campaign_id=campaign.id, lead_id=lead.id, touch=touch)
    try:
        with transaction.atomic():
            piece = existing or MailPiece(campaign=campaign, lead=lead, touch=touch, idempotency_key=key)
            piece.status, piece.error, piece.sent_on = MailPiece.Status.SENDING, "", timezone.localdate()
            piece.save()
    except IntegrityError:  # another run claimed this touch a moment ago
        report.skipped.append((lead.id, f"touch {touch} is being sent by another run"))
        return
    metadata = {"campaign": campaign.slug, "lead": str(lead.id), "touch": str(touch)}
    try:
        if kind is PieceKind.LETTER:
            answer = client.letter_create(
                to=to, from_=sender, file=sides["file"], idempotency_key=key, metadata=metadata
            )
        else:
            answer = client.postcard_create(
                to=to,
                from_=sender,
                front=sides["front"],
                back=sides["back"],
                size=kind.lob_size,
                idempotency_key=key,
                metadata=metadata,
            )
    except LobAuthError:
        piece.status, piece.error = MailPiece.Status.FAILED, "Lob refused the API key"
        piece.save(update_fields=["status", "error"])
        raise
    except LobError as exc:
        piece.status, piece.error = MailPiece.Status.FAILED, str(exc)
        piece.save(update_fields=["status", "error"])
        report.failed.append((lead.id, str(exc)))
        return
    piece.status = MailPiece.Status.SENT
    piece.lob_id = answer.id
    piece.expected_delivery_date = answer.expected_delivery_date
    piece.cost = unit_cost
    piece.save(update_fields=["status", "lob_id", "expected_delivery_date", "cost"])
    expected = f", expected {answer.expected_delivery_date.isoformat()}" if answer.expected_delivery_date else ""
    Activity.objects.create(
        lead=lead,
        kind=Activity.Kind.SYSTEM,
        body=f"Mail {campaign.slug}: touch {touch} sent as Lob {answer.kind} {answer.id}{expected}",
    )
    report.sent += 1


def mail_campaigns_send_due() -> dict:
    """The nightly step: the due touches of every active campaign."""
    campaigns = list(MailCampaign.objects.filter(active=True))
    client = lob_client() if campaigns else None
    sent = failed = 0
    for campaign in campaigns:
        report = mail_campaign_send(campaign=campaign, client=client)
        sent, failed = sent + report.sent, failed + len(report.failed)
    return {"sent": sent, "failed": failed}


_STAGE_STATUS = {
    "mailed": MailPiece.Status.MAILED,
    "in_transit": MailPiece.Status.IN_TRANSIT,
    "in_local_area": MailPiece.Status.IN_TRANSIT,
    "processed_for_delivery": MailPiece.Status.IN_TRANSIT,
    "re_routed": MailPiece.Status.IN_TRANSIT,
    "deleted": MailPiece.Status.CANCELLED,
}


def lob_event_apply(*, event: LobEvent) -> bool:
    """A Lob tracking event on its piece and the lead's timeline; False when no piece of ours has that id."""
    piece = MailPiece.objects.filter(lob_id=event.piece_id).first()
    if piece is None:
        return False
    moment = (event.tracking_event and event.tracking_event.time) or event.date_created or timezone.now()
    if event.delivered:
        piece.status, piece.delivered_at = MailPiece.Status.DELIVERED, moment
    elif event.returned:
        piece.status, piece.returned_at = MailPiece.Status.RETURNED, moment
    elif event.stage in _STAGE_STATUS and piece.status not in (MailPiece.Status.DELIVERED, MailPiece.Status.RETURNED):
        piece.status = _STAGE_STATUS[event.stage]
    piece.save(update_fields=["status", "delivered_at", "returned_at"])
    Activity.objects.create(lead_id=piece.lead_id, kind=Activity.Kind.SYSTEM, body=event.summary)
    return True
