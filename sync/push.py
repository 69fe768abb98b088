"""Push leads and their matches' buyer actions to GoHighLevel: an outbox keyed by payload hashes, claimed per
batch so concurrent runs never push the same lead twice."""

from __future__ import annotations

import datetime
import logging
import uuid
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import DataError, IntegrityError
from django.db.models import Min, Q
from django.utils import timezone

from buyers.models import PropertyMatch
from dealfinder.common.logging import logged_run
from leads.choices import TIERS, LeadStatus
from leads.models import Activity, Lead
from sync.buyer_messages import MatchGate, MatchStamps, match_actions_gate
from sync.compliance import Action
from sync.consent import outbound_sent_activity
from sync.ghl import GHLAuthError, GHLClient, GHLError
from sync.links import (
    CONTACT_KINDS,
    contact_link_save,
    external_link_save,
    external_links_adopt_by_owners,
    external_links_for,
)
from sync.models import ExternalLink, PushClaim, SyncConflict, SyncLog
from sync.pacing import PacingStop
from sync.payloads import (
    LEAD_TAG,
    lead_contact_payload,
    lead_opportunity_payload,
    match_message,
    owner_contact_payload,
    payload_hash,
)
from sync.readback import contact_readback
from sync.runs import (
    NOT_CONFIGURED,
    STAGE_SENT,
    SyncRun,
    ghl_client,
    ghl_configured,
    opportunity_stage,
    opportunity_stage_sent,
)
from sync.skip_trace import contact_points_by_holder

# A push claim older than this belongs to a killed run (the push task's time limit is 30 minutes).
PUSH_CLAIM_TIMEOUT = datetime.timedelta(minutes=30)
BATCH_SIZE = 500
# An answer GoHighLevel should not give (a shape the client cannot read, an id already linked to another record, an
# id too long to store): the item fails with the reason, the run goes on.
UNEXPECTED_ANSWER = (IntegrityError, DataError, KeyError, TypeError, ValueError, AttributeError)
SHARED_NOTE = (
    "owners got a contact GoHighLevel had already linked to another owner (its duplicate rules): recorded as "
    "shared_contact links for review (External links)"
)
logger = logging.getLogger(__name__)
OWN_TAGS = frozenset({LEAD_TAG, *(f"tier-{tier.lower()}" for tier in TIERS)})


def _tiers_from(min_tier: str) -> list[str]:
    return list(TIERS[: TIERS.index(min_tier) + 1])


class _Pusher:
    """One push run: a lazily created client and the location's custom field ids."""

    def __init__(self, run: SyncRun, client: GHLClient | None, progress: Callable[[int], None]):
        self.run = run
        self.progress = progress
        self._client = client
        self._field_ids: dict[str, str] | None = None
        self.activities: list[Activity] = []
        self.shared = 0  # contacts GoHighLevel answered that were already linked to another owner

    @property
    def client(self) -> GHLClient:
        if self._client is None:
            self._client = ghl_client()
        return self._client

    def field_ids(self) -> dict[str, str]:
        if self._field_ids is None:
            self._field_ids = {f.key: f.id for f in self.client.custom_fields(model="contact")}
        return self._field_ids

    def push_contact(self, subject, payload: dict, link: ExternalLink | None) -> ExternalLink:
        """Create or update the contact of `subject` (its owner, or the lead itself when the parcel has no owner);
        the link is saved right after GoHighLevel answers, so a created contact is never created twice. A contact
        shared with another owner is not pushed over (GoHighLevel merged them; a broker reviews it)."""
        if link is not None and link.kind == ExternalLink.Kind.SHARED_CONTACT:
            return link
        ids = self.field_ids()
        body = {
            **payload["body"],
            "customFields": [
                {"id": ids[key], "key": key, "field_value": value}
                for key, value in payload["custom"].items()
                if key in ids and value != ""
            ],
        }
        snapshot = {"name": body["name"], "tags": payload["tags"]}
        if link is None:
            contact_id = self.client.contact_upsert(body).contact.id
            link = contact_link_save(obj=subject, ghl_id=contact_id, last_hash="", snapshot={"name": body["name"]})
            if link.kind == ExternalLink.Kind.SHARED_CONTACT:
                self.shared += 1
                return link
        else:
            contact_id = self.client.contact_update(link.ghl_id, body).id
        self.client.contact_add_tags(contact_id, payload["tags"])
        # Only DealFinder's own tags are taken off (the old tier's): the snapshot may hold tags a broker added in
        # GoHighLevel, as its webhooks reported them, and those stay.
        stale = sorted((set(link.remote_snapshot.get("tags", [])) - set(payload["tags"])) & OWN_TAGS)
        if stale:
            self.client.contact_remove_tags(contact_id, stale)
        link = contact_link_save(obj=subject, ghl_id=contact_id, last_hash=payload_hash(payload), snapshot=snapshot)
        contact_readback(client=self.client, obj=subject, ghl_id=contact_id, sent={**body, "tags": payload["tags"]})
        return link

    def push_opportunity(
        self, lead: Lead, payload: dict, contact_id: str, link: ExternalLink | None, stage: str
    ) -> None:
        """Create or update the lead's opportunity (one per lead, on its owner's contact), in `stage`: an update
        moves it only when `stage` differs from the one DealFinder last set (a lead whose status changed), so a
        broker's own move in GoHighLevel stays. An opportunity id GoHighLevel already gave another lead is an
        unexpected answer: IntegrityError, this lead fails."""
        if link is None:
            opportunity = self.client.opportunity_create(
                {**payload, "pipelineId": settings.GHL_PIPELINE_ID, "pipelineStageId": stage, "contactId": contact_id}
            )
        else:
            body = {**payload, "pipelineId": settings.GHL_PIPELINE_ID}
            if stage != opportunity_stage_sent(link.remote_snapshot):
                body["pipelineStageId"] = stage
            opportunity = self.client.opportunity_update(link.ghl_id, body)
        external_link_save(
            obj=lead,
            kind=ExternalLink.Kind.OPPORTUNITY,
            ghl_id=opportunity.id,
            last_hash=payload_hash(payload),
            snapshot={**(link.remote_snapshot if link else {}), "status": payload["status"], STAGE_SENT: stage},
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
    leads = Lead.objects.filter(tier__in=_tiers_from(min_tier)).select_related("property__owner").order_by("pk")
    if lead_ids is not None:
        leads = leads.filter(pk__in=list(lead_ids))
    if client is None and not ghl_configured():
        run.skipped = leads.count()
        run.notes.append(NOT_CONFIGURED)
        return run.finish()
    pusher = _Pusher(run, client, progress or (lambda done: None))
    try:
        _push_leads(pusher, leads)
    except (GHLAuthError, PacingStop) as exc:  # a PacingStop ends the run "partial"; the next run resumes
        return run.finish(aborted=exc)
    except Exception as exc:
        run.finish(aborted=exc)  # the run is in the log even when something unexpected stops it
        raise
    finally:
        Activity.objects.bulk_create(pusher.activities, batch_size=BATCH_SIZE)
    return run.finish()


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
    unknown = sorted(set(settings.GHL_PIPELINE_STAGES) - set(LeadStatus.values))
    if unknown:
        run.notes.append(
            f"GHL_PIPELINE_STAGES names no lead status {', '.join(unknown)} (known: {', '.join(LeadStatus.values)})"
        )
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
    if pusher.shared:
        run.notes.append(f"{pusher.shared} {SHARED_NOTE}")


def _owner_best_tiers(owner_ids: set[int]) -> dict[int, str]:
    """Each owner's best lead tier (tiers sort A first), for its contact's tier tag."""
    rows = (
        Lead.objects.filter(property__owner_id__in=owner_ids)
        .values("property__owner_id")
        .annotate(best=Min("tier"))
        .values_list("property__owner_id", "best")
    )
    return dict(rows)


class _Contacts:
    """The contacts of one batch of leads: the owner's for a parcel with an owner, else the lead's own. Links are
    kept up to date as contacts are pushed, so an owner's second lead reuses the contact pushed for its first."""

    def __init__(self, batch: list[Lead]):
        external_links_adopt_by_owners(batch)
        owners = {lead.property.owner_id: lead.property.owner for lead in batch if lead.property.owner_id}
        self.best_tiers = _owner_best_tiers(set(owners))
        self.links = {
            ("lead", k[0]): link for k, link in external_links_for(batch, (ExternalLink.Kind.CONTACT,)).items()
        }
        for (owner_id, _), link in external_links_for(list(owners.values()), CONTACT_KINDS).items():
            self.links[("owner", owner_id)] = link
        self.points = contact_points_by_holder(
            owner_ids=owners, lead_ids=[lead.pk for lead in batch if not lead.property.owner_id]
        )

    def of(self, lead: Lead) -> tuple[object, tuple[str, int], dict]:
        """(the object the contact stands for, its key here, the contact payload)."""
        owner = lead.property.owner
        if owner is None:
            return lead, ("lead", lead.pk), lead_contact_payload(lead, self.points.get(("lead", lead.pk), ()))
        payload = owner_contact_payload(
            owner,
            best_tier=self.best_tiers.get(owner.pk, lead.tier),
            contact_points=self.points.get(("owner", owner.pk), ()),
        )
        return owner, ("owner", owner.pk), payload


def _push_lead_batch(pusher: _Pusher, batch: list[Lead], with_opportunity: bool) -> None:
    run = pusher.run
    if not batch:
        return
    contacts = _Contacts(batch)
    links = external_links_for(batch, (ExternalLink.Kind.OPPORTUNITY,))
    held = set(
        SyncConflict.objects.filter(link__in=list(links.values()), status=SyncConflict.Status.OPEN).values_list(
            "link_id", flat=True
        )
    )
    for lead in batch:
        run.processed += 1
        pusher.progress(1)
        subject, key, contact = contacts.of(lead)
        contact_link = contacts.links.get(key)
        opportunity_link = links.get((lead.pk, ExternalLink.Kind.OPPORTUNITY))
        opportunity = lead_opportunity_payload(lead)
        stage = opportunity_stage(lead.status)
        push_contact = contact_link is None or (
            contact_link.kind == ExternalLink.Kind.CONTACT and contact_link.last_hash != payload_hash(contact)
        )
        push_opportunity = (
            with_opportunity
            and (
                opportunity_link is None
                or opportunity_link.last_hash != payload_hash(opportunity)
                or stage != opportunity_stage_sent(opportunity_link.remote_snapshot)
            )
            and (opportunity_link is None or opportunity_link.pk not in held)
        )
        if not (push_contact or push_opportunity):
            run.skipped += 1
            continue
        try:
            if push_contact:
                contact_link = contacts.links[key] = pusher.push_contact(subject, contact, contact_link)
            if push_opportunity:
                pusher.push_opportunity(lead, opportunity, contact_link.ghl_id, opportunity_link, stage)
        except GHLAuthError:
            raise
        except GHLError as exc:
            run.fail(exc, lead=lead.pk)
            continue
        except UNEXPECTED_ANSWER as exc:
            logger.warning("lead %s: unexpected GoHighLevel answer", lead.pk, exc_info=exc)
            run.fail(f"unexpected answer from GoHighLevel: {type(exc).__name__}: {exc}", lead=lead.pk)
            continue
        run.succeeded += 1
        pusher.activities.append(
            Activity(lead=lead, kind=Activity.Kind.SYNC, body=f"Pushed to GoHighLevel (contact {contact_link.ghl_id})")
        )


def _push_match_actions(pusher: _Pusher, lead_ids: list[int]) -> None:
    """Workflow, SMS (opt-in and not DND only) and task for each match of these leads, each stamped once done."""
    if not lead_ids:
        return
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
    last_pk = 0
    while chunk := list(matches.filter(pk__gt=last_pk)[:BATCH_SIZE]):
        last_pk = chunk[-1].pk
        # The compliance gate once per chunk: refusals land on the leads' timelines, those for the hour are deferred
        # (sync.deferred sends them when the hours open). A match's stamps and send records are saved right after
        # its requests, so a run killed (a hard time limit, a lost worker) never messages a buyer twice nor loses
        # the record of a message sent.
        gate, stamps = match_actions_gate(matches=chunk, workflow_id=workflow_id), MatchStamps()
        for match in chunk:
            try:
                _push_match_action(pusher, match, gate, stamps)
            finally:
                stamps.save()


def _push_match_action(pusher: _Pusher, match: PropertyMatch, gate: MatchGate, stamps: MatchStamps) -> None:
    run = pusher.run
    run.processed += 1
    pusher.progress(1)
    contact_id, lead = match.buyer.ghl_contact_id, match.property.lead
    try:
        if (decision := gate.workflow.get(match.pk)) is not None and decision.allowed:
            pusher.client.contact_add_to_workflow(contact_id, settings.GHL_WORKFLOW_ID)
            what = f"Workflow enrolment of buyer {match.buyer}"
            stamps.add(match, Action.WORKFLOW, sent=outbound_sent_activity(lead=lead, decision=decision, what=what))
        if (decision := gate.sms.get(match.pk)) is not None and decision.allowed:
            pusher.client.sms_send(contact_id, match_message(match))
            what = f"SMS to buyer {match.buyer}"
            stamps.add(match, Action.SMS, sent=outbound_sent_activity(lead=lead, decision=decision, what=what))
        if match.task_created_at is None:
            pusher.client.task_create(
                contact_id,
                title=f"Send deal to {match.buyer}: {match.property.address_normalized}",
                body=match_message(match) + f" Match score {match.score}.",
                due=timezone.now() + datetime.timedelta(days=1),
            )
            stamps.add(match, "task_created_at")
    except GHLAuthError:
        raise
    except GHLError as exc:
        run.fail(exc, match=match.pk)
        return
    run.succeeded += 1
