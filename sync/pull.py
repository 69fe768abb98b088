"""Pull buyers from GoHighLevel: every contact tagged GHL_BUYER_TAG upserted as a Buyer, fields changed on both
sides merged (sync.conflicts) or held as conflicts for a broker."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, Q, Value, When
from django.db.models.functions import Lower
from django.utils import timezone

from buyers.models import Buyer
from buyers.owner_links import buyers_link_owners
from dealfinder.common.logging import logged_run
from sync.conflicts import merge_fields
from sync.consent import consent_record_from_ghl
from sync.ghl import Contact, GHLClient, GHLError
from sync.links import CONTACT_KINDS, owner_contact_ids
from sync.models import ExternalLink, SyncLog
from sync.pacing import PacingStop
from sync.payloads import buyer_apply, buyer_fields_from_contact, buyer_local_fields
from sync.resolve import sync_conflicts_record
from sync.runs import NOT_CONFIGURED, SyncRun, conflict_strategy, ghl_client, ghl_configured

BATCH_SIZE = 500


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
            content_type=buyer_type, kind__in=CONTACT_KINDS, object_id__in=[b.pk for b in existing.values()]
        )
    }
    new, changed, snapshots, conflicts = [], [], {}, {}
    changed_fields: set[str] = set()
    for contact in contacts:
        remote = buyer_fields_from_contact(contact, field_keys, buyer_tag=settings.GHL_BUYER_TAG)
        buyer = existing.get(contact.id)
        if buyer is None:
            buyer = Buyer(ghl_contact_id=contact.id, source=Buyer.Source.GHL)
            buyer_apply(buyer, remote)
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
            buyer_apply(buyer, merge.take_remote)
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
        shared = _contacts_held_elsewhere(list(snapshots), buyer_type)
        ExternalLink.objects.bulk_create(
            [
                ExternalLink(
                    content_type=buyer_type,
                    object_id=pks[ghl_id],
                    kind=ExternalLink.Kind.SHARED_CONTACT if ghl_id in shared else ExternalLink.Kind.CONTACT,
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
            links=ExternalLink.objects.filter(
                content_type=buyer_type, kind__in=CONTACT_KINDS, ghl_id__in=list(conflicts)
            ),
            conflicts=conflicts,
        )
    return result


@logged_run("sync_run_id", sync_type="buyer_pull")
def _contacts_held_elsewhere(ghl_ids: list[str], buyer_type) -> set[str]:
    """Contacts already linked to an owner or a lead (the buyer owns parcels too): the buyer's link to such a contact
    is a shared_contact link, not a second contact link (which externallink_unique_remote refuses)."""
    return set(
        ExternalLink.objects.filter(kind=ExternalLink.Kind.CONTACT, ghl_id__in=ghl_ids)
        .exclude(content_type=buyer_type)
        .values_list("ghl_id", flat=True)
    )


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
            for contact in batch:  # GoHighLevel's DND flags -> the buyers' consent records
                consent_record_from_ghl(contact=contact.raw, seen_at=contact.date_updated or timezone.now())
            for name in ("created", "updated", "unchanged", "conflicts"):
                setattr(total, name, getattr(total, name) + getattr(result, name))
    except (GHLError, PacingStop) as exc:
        aborted = exc
    except Exception as exc:
        run.finish(aborted=exc)
        raise
    linked = buyers_link_owners(owner_by_contact=owner_contact_ids())
    if linked:
        run.notes.append(f"{linked} buyers linked to the owner of their own parcels")
    run.processed = len(seen)
    run.succeeded = total.created + total.updated
    run.skipped = total.unchanged
    run.notes.append(f"{total.created} created, {total.updated} updated, {total.unchanged} unchanged")
    if total.conflicts:
        run.notes.append(f"{total.conflicts} conflicts await a decision")
    return run.finish(aborted=aborted)
