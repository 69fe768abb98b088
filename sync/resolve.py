"""Conflicts between DealFinder and GoHighLevel: recorded field by field, resolved by a broker (keep ours, or
take theirs now), and a lead's status set from its opportunity's (webhooks, resolutions)."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from leads.models import Lead, Outcome
from leads.services import lead_change_status
from sync.models import ExternalLink, SyncConflict
from sync.payloads import buyer_apply, lead_opportunity_payload, lead_status_from_opportunity, payload_hash
from sync.runs import STAGE_SENT, opportunity_stage, opportunity_stage_sent


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


def lead_set_status_from_ghl(*, lead: Lead, status: str, note: str, actor=None) -> None:
    """Change a lead's status (with its timeline entry); the opportunity link's hash follows."""
    if status == lead.status:
        return
    before_hash, before_stage = payload_hash(lead_opportunity_payload(lead)), opportunity_stage(lead.status)
    lead_change_status(lead=lead, status=status, actor=actor, note=note, source=Outcome.Source.GHL)
    # GoHighLevel already shows this status: no push needed (nor a stage move: the opportunity stays where it is
    # there) unless something else was pending.
    link = ExternalLink.objects.filter(
        content_type=ContentType.objects.get_for_model(Lead),
        object_id=lead.pk,
        kind=ExternalLink.Kind.OPPORTUNITY,
        last_hash=before_hash,
    ).first()
    if link is not None:
        link.last_hash = payload_hash(lead_opportunity_payload(lead))
        stage = opportunity_stage(lead.status)
        if opportunity_stage_sent(link.remote_snapshot) == before_stage != stage:
            link.remote_snapshot = {**link.remote_snapshot, STAGE_SENT: stage}
        link.save(update_fields=["last_hash", "remote_snapshot"])


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
                buyer_apply(obj, {conflict.field: conflict.remote_value})
                obj.save()
        conflict.status = SyncConflict.Status.TOOK_REMOTE if keep == "remote" else SyncConflict.Status.KEPT_LOCAL
        conflict.resolved_at = timezone.now()
        conflict.resolved_by = user
        conflict.save(update_fields=["status", "resolved_at", "resolved_by"])
        done += 1
    return done
