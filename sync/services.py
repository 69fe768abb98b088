"""GoHighLevel sync: push leads and buyer actions (an outbox keyed by payload hashes), pull buyers, conflicts."""

from __future__ import annotations

import datetime
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, Q, Value, When
from django.db.models.functions import Lower
from django.utils import timezone

from buyers.models import Buyer, PropertyMatch
from dealfinder.common.logging import logged_run
from leads.choices import TIERS
from leads.models import Activity, Lead
from leads.services import lead_change_status
from sync.conflicts import merge_fields
from sync.ghl import Contact, GHLAuthError, GHLClient, GHLError
from sync.models import ExternalLink, PushClaim, SyncConflict, SyncLog

NOT_CONFIGURED = "GoHighLevel not configured (set GHL_API_TOKEN and GHL_LOCATION_ID)"
# A push claim older than this belongs to a killed run (the push task's time limit is 30 minutes).
PUSH_CLAIM_TIMEOUT = datetime.timedelta(minutes=30)
LEAD_TAG = "dealfinder"
MAX_ERRORS = 100
BATCH_SIZE = 500

# Contact custom fields DealFinder fills in (create them in GoHighLevel with these keys).
LEAD_CUSTOM_FIELDS = {
    "score": "contact.dealfinder_score",
    "tier": "contact.dealfinder_tier",
    "arv": "contact.dealfinder_arv",
    "mao": "contact.dealfinder_mao",
    "parcel": "contact.dealfinder_parcel",
}
# Buyer buy-box custom fields read on pull (where the location has them).
BUYER_CUSTOM_FIELDS = {
    "min_price": "contact.buy_box_min_price",
    "max_price": "contact.buy_box_max_price",
    "min_beds": "contact.buy_box_min_beds",
    "property_types": "contact.buy_box_property_types",
    "target_zips": "contact.buy_box_zips",
}
BUYER_CONTACT_FIELDS = ("first_name", "last_name", "company", "email", "phone", "tags", "dnd", "is_active")

OPPORTUNITY_STATUS = {Lead.Status.CLOSED_WON: "won", Lead.Status.DEAD: "lost"}
LEAD_STATUS_FROM_OPPORTUNITY = {"won": Lead.Status.CLOSED_WON, "lost": Lead.Status.DEAD, "abandoned": Lead.Status.DEAD}


# --- configuration and run bookkeeping ---------------------------------------------------
def ghl_configured() -> bool:
    return bool(settings.GHL_API_TOKEN and settings.GHL_LOCATION_ID)


def ghl_client() -> GHLClient:
    return GHLClient(
        settings.GHL_API_BASE_URL,
        settings.GHL_API_TOKEN,
        settings.GHL_LOCATION_ID,
        timeout=settings.HTTP_TIMEOUT_SECONDS,
    )


def conflict_strategy() -> str:
    return settings.GHL_CONFLICT_STRATEGY


@dataclass
class SyncRun:
    sync_type: str
    processed: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    started_at: datetime.datetime = field(default_factory=timezone.now)

    def fail(self, error: Exception | str, **ids) -> None:
        self.failed += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({**ids, "error": str(error)})

    def finish(self, *, aborted: Exception | None = None) -> SyncLog:
        if aborted is not None:
            self.errors.append({"error": str(aborted)})
            status = SyncLog.Status.FAILED
        elif self.failed and self.succeeded:
            status = SyncLog.Status.PARTIAL
        elif self.failed:
            status = SyncLog.Status.FAILED
        else:
            status = SyncLog.Status.SUCCESS
        return SyncLog.objects.create(
            sync_type=self.sync_type,
            status=status,
            processed=self.processed,
            succeeded=self.succeeded,
            failed=self.failed,
            skipped=self.skipped,
            errors=self.errors,
            message="; ".join(self.notes + ([str(aborted)] if aborted else [])),
            started_at=self.started_at,
            finished_at=timezone.now(),
            duration_seconds=round(time.monotonic() - self.started, 3),
        )


def payload_hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _save_link(*, obj, kind: str, ghl_id: str, last_hash: str, snapshot: dict, remote_updated_at=None) -> ExternalLink:
    """One upsert right after GoHighLevel acknowledged, so a created id is never lost."""
    link = ExternalLink(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        kind=kind,
        ghl_id=ghl_id,
        last_hash=last_hash,
        remote_snapshot=snapshot,
        remote_updated_at=remote_updated_at,
        last_synced_at=timezone.now(),
    )
    ExternalLink.objects.bulk_create(
        [link],
        update_conflicts=True,
        unique_fields=["content_type", "object_id", "kind"],
        update_fields=["ghl_id", "last_hash", "remote_snapshot", "remote_updated_at", "last_synced_at"],
    )
    return link


# --- push --------------------------------------------------------------------------------
def _tiers_from(min_tier: str) -> list[str]:
    return list(TIERS[: TIERS.index(min_tier) + 1])


def _money(value) -> str:
    return "" if value is None else str(Decimal(value).quantize(Decimal("0.01")))


def lead_contact_payload(lead: Lead) -> dict:
    """What DealFinder says about a lead's owner contact: body fields, custom values by key, tags."""
    prop = lead.property
    return {
        "body": {
            "name": prop.owner_name or prop.address_normalized or prop.parcel_id,
            "address1": f"{prop.street} {prop.unit}".strip(),
            "city": prop.city,
            "state": prop.state,
            "postalCode": prop.zip,
            "country": "US",
            "source": "DealFinder",
        },
        "custom": {
            LEAD_CUSTOM_FIELDS["score"]: str(lead.total),
            LEAD_CUSTOM_FIELDS["tier"]: lead.tier,
            LEAD_CUSTOM_FIELDS["arv"]: _money(lead.arv),
            LEAD_CUSTOM_FIELDS["mao"]: _money(lead.mao),
            LEAD_CUSTOM_FIELDS["parcel"]: prop.parcel_id,
        },
        "tags": [LEAD_TAG, f"tier-{lead.tier.lower()}"],
    }


def opportunity_status(lead_status: str) -> str:
    return OPPORTUNITY_STATUS.get(lead_status, "open")


def lead_opportunity_payload(lead: Lead) -> dict:
    prop = lead.property
    value = lead.mao if lead.mao is not None else lead.arv
    return {
        "name": f"{prop.address_normalized or prop.parcel_id} (Tier {lead.tier}, score {lead.total})",
        "status": opportunity_status(lead.status),
        "monetaryValue": float(value) if value is not None else 0,
    }


class _Pusher:
    """One push run: a lazily created client and the location's custom field ids."""

    def __init__(self, run: SyncRun, client: GHLClient | None, progress: Callable[[int], None]):
        self.run = run
        self.progress = progress
        self._client = client
        self._field_ids: dict[str, str] | None = None
        self.activities: list[Activity] = []

    @property
    def client(self) -> GHLClient:
        if self._client is None:
            self._client = ghl_client()
        return self._client

    def field_ids(self) -> dict[str, str]:
        if self._field_ids is None:
            self._field_ids = {f.key: f.id for f in self.client.custom_fields(model="contact")}
        return self._field_ids

    def push_contact(self, lead: Lead, payload: dict, link: ExternalLink | None) -> str:
        ids = self.field_ids()
        body = {
            **payload["body"],
            "customFields": [
                {"id": ids[key], "key": key, "field_value": value}
                for key, value in payload["custom"].items()
                if key in ids and value != ""
            ],
        }
        if link is None:
            contact_id = self.client.contact_upsert(body).contact.id
        else:
            contact_id = self.client.contact_update(link.ghl_id, body).id
        self.client.contact_add_tags(contact_id, payload["tags"])
        # Only tags DealFinder put there (the previous push's snapshot) are taken off: the old tier's.
        stale = sorted(set(link.remote_snapshot.get("tags", [])) - set(payload["tags"])) if link else []
        if stale:
            self.client.contact_remove_tags(contact_id, stale)
        _save_link(
            obj=lead,
            kind=ExternalLink.Kind.CONTACT,
            ghl_id=contact_id,
            last_hash=payload_hash(payload),
            snapshot={"name": body["name"], "tags": payload["tags"]},
        )
        return contact_id

    def push_opportunity(self, lead: Lead, payload: dict, contact_id: str, link: ExternalLink | None) -> None:
        if link is None:
            opportunity = self.client.opportunity_create(
                {
                    **payload,
                    "pipelineId": settings.GHL_PIPELINE_ID,
                    "pipelineStageId": settings.GHL_PIPELINE_STAGE_ID,
                    "contactId": contact_id,
                }
            )
        else:
            opportunity = self.client.opportunity_update(
                link.ghl_id, {**payload, "pipelineId": settings.GHL_PIPELINE_ID}
            )
        _save_link(
            obj=lead,
            kind=ExternalLink.Kind.OPPORTUNITY,
            ghl_id=opportunity.id,
            last_hash=payload_hash(payload),
            snapshot={**(link.remote_snapshot if link else {}), "status": payload["status"]},
            remote_updated_at=opportunity.updated_at,
        )


@logged_run("sync_run_id", sync_type="lead_push")
def ghl_push_leads(
    *,
    lead_ids: Iterable[int] | None = None,
    min_tier: str | None = None,
    client: GHLClient | None = None,
    progress: Callable[[int], None] | None = None,
) -> SyncLog:
    """Push new or changed leads at or above `min_tier` (default GHL_PUSH_MIN_TIER, "B"), then buyer actions.

    A lead whose payload hash equals the one last pushed costs no request and counts as skipped.
    Counts cover leads and matches; `progress` is called with 1 for each. Without GHL_API_TOKEN /
    GHL_LOCATION_ID nothing is sent: a success log saying "GoHighLevel not configured", candidates skipped.
    """
    run = SyncRun(SyncLog.SyncType.LEAD_PUSH)
    min_tier = min_tier or getattr(settings, "GHL_PUSH_MIN_TIER", "B")
    leads = Lead.objects.filter(tier__in=_tiers_from(min_tier)).select_related("property").order_by("pk")
    if lead_ids is not None:
        leads = leads.filter(pk__in=list(lead_ids))
    if client is None and not ghl_configured():
        run.skipped = leads.count()
        run.notes.append(NOT_CONFIGURED)
        return run.finish()
    pusher = _Pusher(run, client, progress or (lambda done: None))
    try:
        _push_leads(pusher, leads)
    except GHLAuthError as exc:
        return run.finish(aborted=exc)
    except Exception as exc:
        run.finish(aborted=exc)  # the run is in the log even when something unexpected stops it
        raise
    finally:
        Activity.objects.bulk_create(pusher.activities, batch_size=BATCH_SIZE)
    return run.finish()


def _links_for(objects: list, kinds: Iterable[str]) -> dict[tuple[int, str], ExternalLink]:
    if not objects:
        return {}
    content_type = ContentType.objects.get_for_model(objects[0])
    links = ExternalLink.objects.filter(
        content_type=content_type, object_id__in=[o.pk for o in objects], kind__in=list(kinds)
    )
    return {(link.object_id, link.kind): link for link in links}


def push_claims_take(*, lead_ids: list[int], owner: str) -> set[int]:
    """Claim the leads for `owner` (one INSERT; stale claims are taken over); the ids it now holds."""
    now = timezone.now()
    PushClaim.objects.filter(lead_id__in=lead_ids, claimed_at__lt=now - PUSH_CLAIM_TIMEOUT).delete()
    PushClaim.objects.bulk_create(
        [PushClaim(lead_id=pk, owner=owner, claimed_at=now) for pk in lead_ids], ignore_conflicts=True
    )
    return set(PushClaim.objects.filter(lead_id__in=lead_ids, owner=owner).values_list("lead_id", flat=True))


def push_claims_release(*, lead_ids: Iterable[int], owner: str) -> None:
    PushClaim.objects.filter(lead_id__in=list(lead_ids), owner=owner).delete()


def _push_leads(pusher: _Pusher, leads) -> None:
    """Batch by batch: claim the leads (those another run is pushing are skipped), read their links after the
    claim, push them and their matches' actions, release the claims."""
    run = pusher.run
    with_opportunity = bool(settings.GHL_PIPELINE_ID and settings.GHL_PIPELINE_STAGE_ID)
    if not with_opportunity:
        run.notes.append("no opportunities (GHL_PIPELINE_ID / GHL_PIPELINE_STAGE_ID not set)")
    owner, busy = uuid.uuid4().hex, 0
    last_pk = 0
    while batch := list(leads.filter(pk__gt=last_pk)[:BATCH_SIZE]):
        last_pk = batch[-1].pk
        claimed = push_claims_take(lead_ids=[lead.pk for lead in batch], owner=owner)
        try:
            busy += len(batch) - len(claimed)
            run.processed += len(batch) - len(claimed)
            run.skipped += len(batch) - len(claimed)
            _push_lead_batch(pusher, [lead for lead in batch if lead.pk in claimed], with_opportunity)
            _push_match_actions(pusher, sorted(claimed))
        finally:
            push_claims_release(lead_ids=claimed, owner=owner)
    if busy:
        run.notes.append(f"{busy} leads skipped: another push run was pushing them")


def _push_lead_batch(pusher: _Pusher, batch: list[Lead], with_opportunity: bool) -> None:
    run = pusher.run
    kinds = (ExternalLink.Kind.CONTACT, ExternalLink.Kind.OPPORTUNITY)
    if not batch:
        return
    links = _links_for(batch, kinds)
    held = set(
        SyncConflict.objects.filter(
            link__in=[link for link in links.values() if link.kind == ExternalLink.Kind.OPPORTUNITY],
            status=SyncConflict.Status.OPEN,
        ).values_list("link_id", flat=True)
    )
    for lead in batch:
        run.processed += 1
        pusher.progress(1)
        contact_link = links.get((lead.pk, ExternalLink.Kind.CONTACT))
        opportunity_link = links.get((lead.pk, ExternalLink.Kind.OPPORTUNITY))
        contact = lead_contact_payload(lead)
        opportunity = lead_opportunity_payload(lead)
        push_contact = contact_link is None or contact_link.last_hash != payload_hash(contact)
        push_opportunity = (
            with_opportunity
            and (opportunity_link is None or opportunity_link.last_hash != payload_hash(opportunity))
            and (opportunity_link is None or opportunity_link.pk not in held)
        )
        if not (push_contact or push_opportunity):
            run.skipped += 1
            continue
        try:
            contact_id = pusher.push_contact(lead, contact, contact_link) if push_contact else contact_link.ghl_id
            if push_opportunity:
                pusher.push_opportunity(lead, opportunity, contact_id, opportunity_link)
        except GHLAuthError:
            raise
        except GHLError as exc:
            run.fail(exc, lead=lead.pk)
            continue
        run.succeeded += 1
        pusher.activities.append(
            Activity(lead=lead, kind=Activity.Kind.SYNC, body=f"Pushed to GoHighLevel (contact {contact_id})")
        )


def _match_message(match: PropertyMatch) -> str:
    prop, lead = match.property, getattr(match.property, "lead", None)
    mao = f", MAO ${lead.mao:,.0f}" if lead is not None and lead.mao is not None else ""
    return f"New deal: {prop.address_normalized or prop.parcel_id}{mao}. Reply YES if interested."


def _push_match_actions(pusher: _Pusher, lead_ids: list[int]) -> None:
    """Workflow, SMS (opt-in and not DND only) and task for each match of these leads, each stamped once done."""
    if not lead_ids:
        return
    run = pusher.run
    workflow_id = settings.GHL_WORKFLOW_ID
    pending = Q(task_created_at__isnull=True) | Q(sms_sent_at__isnull=True, buyer__sms_opt_in=True, buyer__dnd=False)
    if workflow_id:
        pending |= Q(workflow_triggered_at__isnull=True)
    matches = (
        PropertyMatch.objects.filter(pending, property__lead__id__in=lead_ids, buyer__is_active=True)
        .exclude(buyer__ghl_contact_id__isnull=True)
        .exclude(buyer__ghl_contact_id="")
        .select_related("buyer", "property__lead")
        .order_by("pk")
    )
    for match in matches.iterator(chunk_size=BATCH_SIZE):
        run.processed += 1
        pusher.progress(1)
        contact_id = match.buyer.ghl_contact_id
        stamp = PropertyMatch.objects.filter(pk=match.pk)
        try:
            if workflow_id and match.workflow_triggered_at is None:
                pusher.client.contact_add_to_workflow(contact_id, workflow_id)
                stamp.update(workflow_triggered_at=timezone.now())
            if match.sms_sent_at is None and match.buyer.sms_opt_in and not match.buyer.dnd:
                pusher.client.sms_send(contact_id, _match_message(match))
                stamp.update(sms_sent_at=timezone.now())
            if match.task_created_at is None:
                pusher.client.task_create(
                    contact_id,
                    title=f"Send deal to {match.buyer}: {match.property.address_normalized}",
                    body=_match_message(match) + f" Match score {match.score}.",
                    due=timezone.now() + datetime.timedelta(days=1),
                )
                stamp.update(task_created_at=timezone.now())
        except GHLAuthError:
            raise
        except GHLError as exc:
            run.fail(exc, match=match.pk)
            continue
        run.succeeded += 1


# --- pull --------------------------------------------------------------------------------
def _decimal(value) -> str | None:
    try:
        return _money(Decimal(str(value).replace(",", "").replace("$", "").strip()))
    except (InvalidOperation, ValueError):
        return None


def _int(value) -> int | None:
    try:
        return int(float(str(value).strip()))
    except ValueError:
        return None


def _text_list(value, *, lower: bool = False) -> list[str]:
    items = value if isinstance(value, list) else str(value or "").split(",")
    return sorted({(str(v).strip().lower() if lower else str(v).strip()) for v in items if str(v).strip()})


BUY_BOX_PARSERS = {
    "min_price": _decimal,
    "max_price": _decimal,
    "min_beds": _int,
    "property_types": lambda v: _text_list(v, lower=True),
    "target_zips": _text_list,
}


def buyer_fields_from_contact(contact: Contact, field_keys: dict[str, str]) -> dict[str, Any]:
    """A contact as Buyer values in their JSON form (buy box only where the custom field is present)."""
    values: dict[str, Any] = {
        "first_name": contact.first_name[:100],
        "last_name": contact.last_name[:100],
        "company": contact.company_name[:200],
        "email": contact.email.lower(),
        "phone": contact.phone[:32],
        "tags": sorted(set(contact.tags)),
        "dnd": contact.dnd,
        "is_active": settings.GHL_BUYER_TAG in contact.tags,
    }
    keys = {key: name for name, key in BUYER_CUSTOM_FIELDS.items()}
    for field_id, raw in contact.custom_fields.items():
        name = keys.get(field_keys.get(field_id, ""))
        if name and raw not in (None, "", []):
            values[name] = BUY_BOX_PARSERS[name](raw)
    return values


def buyer_local_fields(buyer: Buyer) -> dict[str, Any]:
    values = {name: getattr(buyer, name) for name in BUYER_CONTACT_FIELDS}
    values["tags"] = sorted(set(buyer.tags or []))
    values["min_price"] = _money(buyer.min_price) or None
    values["max_price"] = _money(buyer.max_price) or None
    values["min_beds"] = buyer.min_beds
    values["property_types"] = _text_list(buyer.property_types or [], lower=True)
    values["target_zips"] = _text_list(buyer.target_zips or [])
    return values


def _buyer_apply(buyer: Buyer, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if name in ("min_price", "max_price"):
            value = Decimal(value) if value is not None else None
        setattr(buyer, name, value)


@dataclass
class BuyerUpsertResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: int = 0


def _buyers_for_contacts(contacts: list[Contact]) -> dict[str, Buyer]:
    """The buyers these contacts update, by contact id (one query): the buyer linked to the contact, else the
    oldest buyer entered in DealFinder (typed in, imported) and not yet linked whose email is the contact's
    (case-insensitive), which is linked to it (one UPDATE) so a pull does not create a duplicate."""
    email_contact = {c.email.strip().lower(): c.id for c in contacts if c.email.strip()}
    rows = list(
        Buyer.objects.annotate(email_key=Lower("email"))
        .filter(
            Q(ghl_contact_id__in=[c.id for c in contacts])
            | Q(ghl_contact_id__isnull=True, email_key__in=list(email_contact))
        )
        .order_by("id")
    )
    existing = {b.ghl_contact_id: b for b in rows if b.ghl_contact_id}
    newly_linked: dict[int, str] = {}
    for buyer in rows:
        contact_id = email_contact.get(buyer.email_key) if buyer.ghl_contact_id is None else None
        if contact_id is not None and contact_id not in existing:
            buyer.ghl_contact_id, existing[contact_id], newly_linked[buyer.pk] = contact_id, buyer, contact_id
    if newly_linked:
        contact_of = Case(*(When(pk=pk, then=Value(contact_id)) for pk, contact_id in newly_linked.items()))
        Buyer.objects.filter(pk__in=newly_linked).update(ghl_contact_id=contact_of)
    return existing


def buyers_upsert_from_contacts(*, contacts: list[Contact], field_keys: dict[str, str]) -> BuyerUpsertResult:
    """Create or update Buyers from GoHighLevel contacts (set-based), merging fields both sides changed.

    A contact not linked yet updates the DealFinder buyer with its email, if there is one (_buyers_for_contacts).
    """
    result = BuyerUpsertResult()
    if not contacts:
        return result
    strategy = conflict_strategy()
    now = timezone.now()
    buyer_type = ContentType.objects.get_for_model(Buyer)
    existing = _buyers_for_contacts(contacts)
    links = {
        link.object_id: link
        for link in ExternalLink.objects.filter(
            content_type=buyer_type, kind=ExternalLink.Kind.CONTACT, object_id__in=[b.pk for b in existing.values()]
        )
    }
    new, changed, snapshots, conflicts = [], [], {}, {}
    changed_fields: set[str] = set()
    for contact in contacts:
        remote = buyer_fields_from_contact(contact, field_keys)
        buyer = existing.get(contact.id)
        if buyer is None:
            buyer = Buyer(ghl_contact_id=contact.id, source=Buyer.Source.GHL)
            _buyer_apply(buyer, remote)
            new.append(buyer)
            snapshots[contact.id] = (remote, contact.date_updated)
            continue
        link = links.get(buyer.pk)
        base = link.remote_snapshot if link else {}
        merge = merge_fields(
            base=base,
            local=buyer_local_fields(buyer),
            remote=remote,
            strategy=strategy,
            local_updated_at=buyer.updated_at,
            remote_updated_at=contact.date_updated,
        )
        if merge.conflicts:
            conflicts[contact.id] = merge.conflicts
        if merge.take_remote:
            _buyer_apply(buyer, merge.take_remote)
            buyer.updated_at = now
            changed.append(buyer)
            changed_fields.update(merge.take_remote)
            result.updated += 1
        else:
            result.unchanged += 1
        if merge.take_remote or merge.base != base or link is None:
            snapshots[contact.id] = (merge.base, contact.date_updated)
    Buyer.objects.bulk_create(new, batch_size=BATCH_SIZE)
    if changed:
        Buyer.objects.bulk_update(changed, [*sorted(changed_fields), "updated_at"], batch_size=BATCH_SIZE)
    result.created = len(new)
    if snapshots:
        pks = dict(Buyer.objects.filter(ghl_contact_id__in=list(snapshots)).values_list("ghl_contact_id", "pk"))
        ExternalLink.objects.bulk_create(
            [
                ExternalLink(
                    content_type=buyer_type,
                    object_id=pks[ghl_id],
                    kind=ExternalLink.Kind.CONTACT,
                    ghl_id=ghl_id,
                    remote_snapshot=snapshot,
                    remote_updated_at=updated_at,
                    last_synced_at=now,
                )
                for ghl_id, (snapshot, updated_at) in snapshots.items()
            ],
            update_conflicts=True,
            unique_fields=["content_type", "object_id", "kind"],
            update_fields=["ghl_id", "remote_snapshot", "remote_updated_at", "last_synced_at"],
            batch_size=BATCH_SIZE,
        )
    if conflicts:
        result.conflicts = sync_conflicts_record(
            links=ExternalLink.objects.filter(kind=ExternalLink.Kind.CONTACT, ghl_id__in=list(conflicts)),
            conflicts=conflicts,
        )
    return result


def sync_conflicts_record(*, links, conflicts: dict[str, dict[str, tuple]]) -> int:
    """Open one SyncConflict per (link, field); a repeated detection refreshes the open row."""
    links = list(links)
    open_rows = {
        (c.link_id, c.field): c for c in SyncConflict.objects.filter(link__in=links, status=SyncConflict.Status.OPEN)
    }
    create, update = [], []
    for link in links:
        for name, (local, remote) in conflicts.get(link.ghl_id, {}).items():
            row = open_rows.get((link.pk, name))
            if row is None:
                create.append(SyncConflict(link=link, field=name, local_value=local, remote_value=remote))
            elif (row.local_value, row.remote_value) != (local, remote):
                row.local_value, row.remote_value = local, remote
                update.append(row)
    SyncConflict.objects.bulk_create(create)
    SyncConflict.objects.bulk_update(update, ["local_value", "remote_value"])
    return len(create) + len(update)


@logged_run("sync_run_id", sync_type="buyer_pull")
def ghl_pull_buyers(*, client: GHLClient | None = None) -> SyncLog:
    """Every contact tagged GHL_BUYER_TAG (searched page by page) upserted as a Buyer on ghl_contact_id."""
    run = SyncRun(SyncLog.SyncType.BUYER_PULL)
    if client is None and not ghl_configured():
        run.notes.append(NOT_CONFIGURED)
        return run.finish()
    client = client or ghl_client()
    total, seen, aborted = BuyerUpsertResult(), set(), None
    try:
        field_keys = {f.id: f.key for f in client.custom_fields(model="contact")}
        contacts = client.contact_search_all(tag=settings.GHL_BUYER_TAG)
        while page := list(islice(contacts, BATCH_SIZE)):
            batch = list({c.id: c for c in page if c.id not in seen}.values())
            seen.update(c.id for c in batch)
            result = buyers_upsert_from_contacts(contacts=batch, field_keys=field_keys)
            for name in ("created", "updated", "unchanged", "conflicts"):
                setattr(total, name, getattr(total, name) + getattr(result, name))
    except GHLError as exc:
        aborted = exc
    except Exception as exc:
        run.finish(aborted=exc)
        raise
    run.processed = len(seen)
    run.succeeded = total.created + total.updated
    run.skipped = total.unchanged
    run.notes.append(f"{total.created} created, {total.updated} updated, {total.unchanged} unchanged")
    if total.conflicts:
        run.notes.append(f"{total.conflicts} conflicts await a decision")
    return run.finish(aborted=aborted)


# --- lead status from GoHighLevel and conflict resolution --------------------------------
def lead_status_from_opportunity(remote_status: str, current: str) -> str:
    """won -> closed_won, lost/abandoned -> dead; open reopens a closed lead as follow-up."""
    if remote_status in LEAD_STATUS_FROM_OPPORTUNITY:
        return LEAD_STATUS_FROM_OPPORTUNITY[remote_status]
    if current in OPPORTUNITY_STATUS:
        return Lead.Status.FOLLOW_UP
    return current


def lead_set_status_from_ghl(*, lead: Lead, status: str, note: str, actor=None) -> None:
    """Change a lead's status (with its timeline entry); the opportunity link's hash follows."""
    if status == lead.status:
        return
    before_hash = payload_hash(lead_opportunity_payload(lead))
    lead_change_status(lead=lead, status=status, actor=actor, note=note)
    # GoHighLevel already shows this status: no push needed unless something else was pending.
    ExternalLink.objects.filter(
        content_type=ContentType.objects.get_for_model(Lead),
        object_id=lead.pk,
        kind=ExternalLink.Kind.OPPORTUNITY,
        last_hash=before_hash,
    ).update(last_hash=payload_hash(lead_opportunity_payload(lead)))


def sync_conflicts_resolve(*, conflict_ids: Iterable[int], keep: str, user=None) -> int:
    """Resolve open conflicts: keep="local" (DealFinder value, pushed next run) or "remote" (applied now)."""
    if keep not in ("local", "remote"):
        raise ValueError("keep must be 'local' or 'remote'")
    rows = SyncConflict.objects.filter(pk__in=list(conflict_ids), status=SyncConflict.Status.OPEN).select_related(
        "link__content_type"
    )
    done = 0
    for conflict in rows:
        link = conflict.link
        obj = link.content_type.get_object_for_this_type(pk=link.object_id)
        link.remote_snapshot = {**link.remote_snapshot, conflict.field: conflict.remote_value}
        if keep == "local":
            link.last_hash = ""  # the DealFinder value goes out on the next push
            link.save(update_fields=["remote_snapshot", "last_hash"])
        else:
            link.save(update_fields=["remote_snapshot"])
            if isinstance(obj, Lead):
                status = lead_status_from_opportunity(conflict.remote_value, obj.status)
                lead_set_status_from_ghl(
                    lead=obj, status=status, note="Conflict resolved: took GoHighLevel value", actor=user
                )
            else:
                _buyer_apply(obj, {conflict.field: conflict.remote_value})
                obj.save()
        conflict.status = SyncConflict.Status.TOOK_REMOTE if keep == "remote" else SyncConflict.Status.KEPT_LOCAL
        conflict.resolved_at = timezone.now()
        conflict.resolved_by = user
        conflict.save(update_fields=["status", "resolved_at", "resolved_by"])
        done += 1
    return done
