"""Deferred messages: a buyer's SMS or workflow enrolment the compliance gate refused only for the hour (kept by the
push, sync.buyer_messages), sent once the contact's hours open.

`deferred_messages_send_due()` is the service (the "ghl_deferred" pipeline job every 15 minutes, and
`python manage.py ghl_sync --deferred`). It takes the due messages batch by batch under the push's lead claims (a
push and this never send about the same lead at once), asks the gate again at send time (an opt-out, DND or
do-not-contact entry since then, a dead or closed lead or a passed auction refuses it for good; hours still closed
move it to their next opening), sends, stamps the match and marks the message sent: a message is sent once. A
message a push already sent (the match is stamped) is marked superseded without a request.
"""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.utils import timezone

from dealfinder.common.logging import logged_run
from sync.buyer_messages import STAMPS, MatchStamps, deferrable
from sync.compliance import Action
from sync.consent import outbound_check_batch, outbound_sent_activity, recipient_for_buyer
from sync.deferred_models import DeferredMessage
from sync.ghl import GHLAuthError, GHLClient, GHLError
from sync.models import SyncLog
from sync.pacing import PacingStop
from sync.payloads import match_message
from sync.push import BATCH_SIZE, push_claims_release, push_claims_take
from sync.runs import NOT_CONFIGURED, SyncRun, ghl_client, ghl_configured

Status = DeferredMessage.Status
WHAT = {
    Action.SMS: "SMS to buyer {buyer} (deferred until the hours opened)",
    Action.WORKFLOW: "Workflow enrolment of buyer {buyer} (deferred until the hours opened)",
}
UPDATED = ["status", "due_at", "message", "outcome", "finished_at"]


@logged_run("sync_run_id", sync_type="deferred")
def deferred_messages_send_due(*, client: GHLClient | None = None, now: datetime.datetime | None = None) -> SyncLog:
    """Send the deferred messages due at `now` (see the module docstring); a SyncLog of kind "deferred"."""
    run = SyncRun(SyncLog.SyncType.DEFERRED)
    now = now or timezone.now()
    due = DeferredMessage.objects.filter(status=Status.PENDING, due_at__lte=now).order_by("pk")
    if client is None and not ghl_configured():
        run.skipped = due.count()
        run.notes.append(NOT_CONFIGURED)
        return run.finish()
    client = client or ghl_client()
    owner, busy, last_pk = uuid.uuid4().hex, 0, 0
    try:
        while batch := list(due.filter(pk__gt=last_pk).values_list("pk", "lead_id")[:BATCH_SIZE]):
            last_pk = batch[-1][0]
            claimed = push_claims_take(lead_ids=sorted({lead_id for _, lead_id in batch}), owner=owner)
            try:
                held = sum(1 for _, lead_id in batch if lead_id not in claimed)
                busy, run.processed, run.skipped = busy + held, run.processed + held, run.skipped + held
                ids = [pk for pk, lead_id in batch if lead_id in claimed]
                _send_batch(run, client, ids, now=now)
            finally:
                push_claims_release(lead_ids=claimed, owner=owner)
    except (GHLAuthError, PacingStop) as exc:
        return run.finish(aborted=exc)
    except Exception as exc:
        run.finish(aborted=exc)
        raise
    if busy:
        run.notes.append(f"{busy} messages wait for the next run: a push run was working on their leads")
    return run.finish()


def _finish(row: DeferredMessage, status: str, outcome: str, now: datetime.datetime) -> DeferredMessage:
    row.status, row.outcome, row.finished_at = status, outcome[:300], now
    return row


def _send_batch(run: SyncRun, client: GHLClient, ids: list[int], *, now) -> None:
    rows = list(
        DeferredMessage.objects.filter(pk__in=ids, status=Status.PENDING)
        .select_related("lead", "match__buyer", "match__property__lead")
        .order_by("pk")
    )
    changed: list[DeferredMessage] = []
    stamps = MatchStamps()
    asking: dict[Action, list[DeferredMessage]] = {}
    for row in rows:
        run.processed += 1
        match, action = row.match, Action(row.action)
        if getattr(match, STAMPS[action]) is not None:
            run.skipped += 1
            changed.append(_finish(row, Status.SUPERSEDED, "already sent by a push", now))
        elif not (match.buyer.is_active and match.buyer.ghl_contact_id):
            run.skipped += 1
            changed.append(_finish(row, Status.REFUSED, "the buyer is inactive or not in GoHighLevel", now))
        elif action is Action.WORKFLOW and not settings.GHL_WORKFLOW_ID:
            run.skipped += 1
            changed.append(_finish(row, Status.REFUSED, "no workflow configured (GHL_WORKFLOW_ID)", now))
        else:
            asking.setdefault(action, []).append(row)
    try:
        for action, todo in asking.items():
            items = [(recipient_for_buyer(row.match.buyer), row.lead) for row in todo]
            decisions = outbound_check_batch(items=items, action=action, now=now)
            for row, decision in zip(todo, decisions, strict=True):
                if deferrable(decision):  # the hours are still (or again) closed: wait for their next opening
                    run.skipped += 1
                    row.due_at, row.message = decision.retry_at, decision.message[:300]
                    changed.append(row)
                elif not decision.allowed:  # recorded on the lead's timeline by the gate
                    run.skipped += 1
                    changed.append(_finish(row, Status.REFUSED, f"{decision.reason.value}: {decision.message}", now))
                elif _send(run, client, row, action):
                    run.succeeded += 1
                    what = WHAT[action].format(buyer=row.match.buyer)
                    stamps.add(
                        row.match, action, sent=outbound_sent_activity(lead=row.lead, decision=decision, what=what)
                    )
                    stamps.save()  # at once: after a run killed here, the next finds it sent (superseded), recorded
                    changed.append(_finish(row, Status.SENT, "sent", now))
    finally:
        DeferredMessage.objects.bulk_update(changed, fields=UPDATED, batch_size=BATCH_SIZE)


def _send(run: SyncRun, client: GHLClient, row: DeferredMessage, action: Action) -> bool:
    """Send one message; a GoHighLevel error fails it for this run (it stays pending, the next run retries)."""
    contact_id = row.match.buyer.ghl_contact_id
    try:
        if action is Action.WORKFLOW:
            client.contact_add_to_workflow(contact_id, settings.GHL_WORKFLOW_ID)
        else:
            client.sms_send(contact_id, match_message(row.match))
    except GHLAuthError:
        raise
    except GHLError as exc:
        run.fail(exc, deferred=row.pk, match=row.match_id)
        return False
    return True
