"""Reconcile: read what changed in GoHighLevel since the last reconcile and apply what the webhooks missed.

GoHighLevel drops a webhook on any failure but a 429 and never redelivers, so DealFinder reads the changes itself:

- contacts updated since the last run's high-water mark (less GHL_RECONCILE_OVERLAP_SECONDS), oldest first, paged by
  the `searchAfter` cursor of `POST /contacts/search`: a buyer's fields are merged under GHL_CONFLICT_STRATEGY (as
  the pull does); a lead's contact has its snapshot (name, tags) refreshed and a timeline entry; every contact's DND
  flags become consent records (sync.consent);
- opportunities: `GET /opportunities/search` has no "updated since" filter, so every opportunity of the pipeline is
  paged and those whose status differs from the link's snapshot are applied as an OpportunityStatusUpdate webhook
  would have been; linked opportunities absent from a complete listing were deleted in GoHighLevel;
- linked contacts are checked for existence (one search per 100 ids): a deleted one marks its link
  (`remote_deleted_at`, shown in admin), a buyer becomes inactive, a lead gets a timeline entry. Nothing is deleted.

Each run is a SyncLog of kind "reconcile" with drift found and applied; its `cursor` says where the contacts were
read up to. A PacingStop (daily budget below GHL_DAILY_RESERVE) ends it "partial" and the next run resumes there.
"""

from __future__ import annotations

import datetime
import logging
from collections import Counter

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from buyers.models import Buyer
from dealfinder.common.logging import logged_run
from leads.models import Activity, Lead
from sync.consent import consent_record_from_ghl
from sync.ghl import Contact, GHLClient, GHLError, parse_datetime
from sync.models import ExternalLink, SyncLog
from sync.pacing import PacingStop
from sync.payloads import buyer_fields_from_contact, buyer_local_fields
from sync.pull import buyers_upsert_from_contacts
from sync.runs import NOT_CONFIGURED, SyncRun, ghl_client, ghl_configured
from sync.webhooks import opportunity_status_apply

logger = logging.getLogger(__name__)
PAGE_LIMIT = 100
EXISTENCE_CHUNK = 100
BEGINNING = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


def reconcile_since() -> datetime.datetime:
    """Where this run starts reading contacts: the last reconcile's high-water mark less the overlap."""
    last = (
        SyncLog.objects.filter(sync_type=SyncLog.SyncType.RECONCILE, cursor__has_key="contacts_until")
        .order_by("-started_at")
        .values_list("cursor", flat=True)
        .first()
    )
    until = parse_datetime(last["contacts_until"]) if last else None
    if until is None:
        return BEGINNING
    return until - datetime.timedelta(seconds=settings.GHL_RECONCILE_OVERLAP_SECONDS)


def _content_types() -> tuple[int, int]:
    return ContentType.objects.get_for_model(Lead).pk, ContentType.objects.get_for_model(Buyer).pk


def _buyer_differs(contact: Contact, buyer: Buyer, field_keys: dict[str, str]) -> bool:
    local = buyer_local_fields(buyer)
    remote = buyer_fields_from_contact(contact, field_keys, buyer_tag=settings.GHL_BUYER_TAG)
    return any(local.get(name) != value for name, value in remote.items())


def reconcile_contacts(*, contacts: list[Contact], field_keys: dict[str, str], tally: Counter) -> None:
    """Apply one page of changed contacts (set-based but for the consent records of contacts with DND flags)."""
    lead_type, _ = _content_types()
    links = {
        link.ghl_id: link
        for link in ExternalLink.objects.filter(kind=ExternalLink.Kind.CONTACT, ghl_id__in=[c.id for c in contacts])
    }
    buyer_ids = set(
        Buyer.objects.filter(ghl_contact_id__in=[c.id for c in contacts]).values_list("ghl_contact_id", flat=True)
    )
    buyers = [c for c in contacts if c.id in buyer_ids or settings.GHL_BUYER_TAG in c.tags]
    if buyers:
        local = {b.ghl_contact_id: b for b in Buyer.objects.filter(ghl_contact_id__in=[c.id for c in buyers])}
        drifted = [c for c in buyers if c.id not in local or _buyer_differs(c, local[c.id], field_keys)]
        result = buyers_upsert_from_contacts(contacts=buyers, field_keys=field_keys)
        tally["found"] += len(drifted)
        tally["applied"] += result.created + result.updated
        tally["unchanged"] += len(buyers) - len(drifted)
    lead_links = [links[c.id] for c in contacts if c.id in links and links[c.id].content_type_id == lead_type]
    by_id = {c.id: c for c in contacts}
    activities, changed = [], []
    for link in lead_links:
        contact = by_id[link.ghl_id]
        seen = {"name": link.remote_snapshot.get("name"), "tags": sorted(link.remote_snapshot.get("tags") or [])}
        remote_name = contact.raw.get("name") or " ".join(filter(None, [contact.first_name, contact.last_name]))
        now_seen = {"name": remote_name, "tags": sorted(contact.tags)}
        if now_seen == seen:
            tally["unchanged"] += 1
            continue
        fields = sorted(k for k in seen if seen[k] != now_seen[k])
        link.remote_snapshot = {**link.remote_snapshot, **now_seen}
        link.remote_updated_at = contact.date_updated
        changed.append(link)
        activities.append(
            Activity(
                lead_id=link.object_id,
                kind=Activity.Kind.SYNC,
                body=f"GoHighLevel contact changed without a webhook ({', '.join(fields)}): found by reconcile",
            )
        )
        tally["found"] += 1
        tally["applied"] += 1
    ExternalLink.objects.bulk_update(changed, ["remote_snapshot", "remote_updated_at"])
    Activity.objects.bulk_create(activities)
    for contact in contacts:  # DND flags -> consent records of the contact's local record (a lead's owner, a buyer)
        consent_record_from_ghl(contact=contact.raw, seen_at=contact.date_updated or timezone.now())


def reconcile_opportunities(*, client: GHLClient, tally: Counter) -> None:
    """Every opportunity of the pipeline, paged; statuses the links have not seen are applied; linked ones absent
    from the complete listing are marked deleted."""
    lead_type, _ = _content_types()
    seen: set[str] = set()
    page = 1
    while True:
        result = client.opportunity_search(pipeline_id=settings.GHL_PIPELINE_ID, page=page, limit=PAGE_LIMIT)
        seen.update(o.id for o in result.opportunities)
        tally["read"] += len(result.opportunities)
        links = {
            link.ghl_id: link
            for link in ExternalLink.objects.filter(
                kind=ExternalLink.Kind.OPPORTUNITY,
                content_type_id=lead_type,
                ghl_id__in=[o.id for o in result.opportunities],
            )
        }
        for opportunity in result.opportunities:
            link = links.get(opportunity.id)
            if link is None or not opportunity.status:
                continue
            if link.remote_snapshot.get("status") == opportunity.status:
                tally["unchanged"] += 1
                continue
            tally["found"] += 1
            before = Lead.objects.filter(pk=link.object_id).values_list("status", flat=True).first()
            opportunity_status_apply(
                {
                    "id": opportunity.id,
                    "status": opportunity.status,
                    "timestamp": opportunity.updated_at.isoformat() if opportunity.updated_at else None,
                }
            )
            after = Lead.objects.filter(pk=link.object_id).values_list("status", flat=True).first()
            tally["applied"] += int(after != before)
        if not result.opportunities or not result.next_page or len(result.opportunities) < PAGE_LIMIT:
            break
        page = result.next_page
    gone = ExternalLink.objects.filter(
        kind=ExternalLink.Kind.OPPORTUNITY, content_type_id=lead_type, remote_deleted_at__isnull=True
    ).exclude(ghl_id__in=seen)
    _mark_deleted(list(gone), what="opportunity", tally=tally)


def reconcile_deleted_contacts(*, client: GHLClient, tally: Counter) -> bool:
    """Linked contacts that no longer exist in GoHighLevel, marked (one search per EXISTENCE_CHUNK ids). False when
    GoHighLevel did not apply the id filter: then nothing is marked (a contact is never taken for deleted on a
    guess)."""
    links = ExternalLink.objects.filter(kind=ExternalLink.Kind.CONTACT, remote_deleted_at__isnull=True).order_by("pk")
    last = 0
    while chunk := list(links.filter(pk__gt=last)[:EXISTENCE_CHUNK]):
        last = chunk[-1].pk
        present = client.contact_ids_present([link.ghl_id for link in chunk])
        if present is None:
            return False
        _mark_deleted([link for link in chunk if link.ghl_id not in present], what="contact", tally=tally)
    return True


def _mark_deleted(links: list[ExternalLink], *, what: str, tally: Counter) -> None:
    if not links:
        return
    lead_type, buyer_type = _content_types()
    now = timezone.now()
    ExternalLink.objects.filter(pk__in=[link.pk for link in links]).update(remote_deleted_at=now)
    Buyer.objects.filter(pk__in=[link.object_id for link in links if link.content_type_id == buyer_type]).update(
        is_active=False, updated_at=now
    )
    Activity.objects.bulk_create(
        [
            Activity(
                lead_id=link.object_id,
                kind=Activity.Kind.SYNC,
                body=f"GoHighLevel {what} {link.ghl_id} was deleted in GoHighLevel (found by reconcile); "
                "the lead is kept",
            )
            for link in links
            if link.content_type_id == lead_type
        ]
    )
    tally["found"] += len(links)
    tally["applied"] += len(links)
    tally["deleted"] += len(links)


@logged_run("sync_run_id", sync_type="reconcile")
def ghl_reconcile(*, client: GHLClient | None = None) -> SyncLog:
    """Read GoHighLevel's changes since the last reconcile and apply what the webhooks missed (module docstring)."""
    run = SyncRun(SyncLog.SyncType.RECONCILE)
    if client is None and not ghl_configured():
        run.notes.append(NOT_CONFIGURED)
        return run.finish()
    client = client or ghl_client()
    since = reconcile_since()
    until, tally, aborted = None, Counter(), None
    try:
        field_keys = {f.id: f.key for f in client.custom_fields(model="contact")}
        cursor = None
        while True:
            page = client.contact_search_changed(since=since, search_after=cursor, page_limit=PAGE_LIMIT)
            tally["read"] += len(page.contacts)
            reconcile_contacts(contacts=page.contacts, field_keys=field_keys, tally=tally)
            stamps = [c.date_updated for c in page.contacts if c.date_updated]
            until = max([until, *stamps], key=lambda d: d or BEGINNING) if stamps else until
            if len(page.contacts) < PAGE_LIMIT or page.search_after is None:
                break
            cursor = page.search_after
        if settings.GHL_PIPELINE_ID:
            reconcile_opportunities(client=client, tally=tally)
        else:
            run.notes.append("opportunities not reconciled (GHL_PIPELINE_ID not set)")
        if not reconcile_deleted_contacts(client=client, tally=tally):
            run.notes.append("deleted contacts not checked: GoHighLevel did not filter the search by id")
    except (GHLError, PacingStop) as exc:
        aborted = exc
    except Exception as exc:
        run.finish(aborted=exc)
        raise
    run.processed = tally["read"]
    run.succeeded = tally["applied"]
    run.skipped = tally["unchanged"]
    run.notes.insert(
        0,
        f"{tally['found']} drift found, {tally['applied']} applied"
        + (f", {tally['deleted']} deleted in GoHighLevel (marked)" if tally["deleted"] else "")
        + f"; contacts changed since {since:%Y-%m-%d %H:%M:%S} UTC",
    )
    cursor = {"contacts_until": (until or since).isoformat()}
    return run.finish(aborted=aborted, drift_found=tally["found"], drift_applied=tally["applied"], cursor=cursor)
