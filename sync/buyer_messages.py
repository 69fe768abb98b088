"""Messages to buyers about their matches (a workflow enrolment, an SMS): the compliance gate asked once per batch
of matches, not once per message, and a refusal only for the hour kept as a deferred message.

    gate = match_actions_gate(matches=chunk, workflow_id=settings.GHL_WORKFLOW_ID)
    stamps = MatchStamps()
    for match in chunk:
        if (decision := gate.sms.get(match.pk)) is not None and decision.allowed:
            ...send...
            stamps.add(match, Action.SMS)
            activities.append(outbound_sent_activity(lead=..., decision=decision, what=f"SMS to buyer {match.buyer}"))
    stamps.save()

Refusals are recorded on the leads' timelines by the gate (sync.consent.outbound_check_batch), in one bulk insert.
A refusal for quiet hours or a day a state allows no messages, with the moment the hours open (`Decision.retry_at`,
in the contact's time zone), becomes a DeferredMessage (one pending per match and action) that sync.deferred sends
when due.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils import timezone

from buyers.models import PropertyMatch
from leads.models import Activity
from sync.compliance import Action, Decision, Reason
from sync.consent import outbound_check_batch, recipient_for_buyer
from sync.deferred_models import DeferredMessage

HOUR_REASONS = frozenset({Reason.QUIET_HOURS, Reason.DAY_NOT_ALLOWED})
STAMPS = {Action.WORKFLOW: "workflow_triggered_at", Action.SMS: "sms_sent_at"}


@dataclass(frozen=True)
class MatchGate:
    """The gate's decision per match id, for the matches that wanted the message (absent: nothing to ask)."""

    workflow: dict[int, Decision] = field(default_factory=dict)
    sms: dict[int, Decision] = field(default_factory=dict)


def wants(match: PropertyMatch, action: Action, *, workflow_id: str = "") -> bool:
    """Whether the push would send this message for the match (not yet sent; an SMS only to an opted-in buyer
    without DND on the record, a workflow only when one is configured)."""
    if action is Action.WORKFLOW:
        return bool(workflow_id) and match.workflow_triggered_at is None
    return match.sms_sent_at is None and match.buyer.sms_opt_in and not match.buyer.dnd


def deferrable(decision: Decision) -> bool:
    return not decision.allowed and decision.reason in HOUR_REASONS and decision.retry_at is not None


def match_actions_gate(
    *, matches: Sequence[PropertyMatch], workflow_id: str, now: datetime.datetime | None = None
) -> MatchGate:
    """Ask the gate about every wanted message of these matches (buyer and property__lead selected): one batch
    per action, a fixed number of queries whatever the number of buyers; refusals recorded, those only for the
    hour deferred."""
    now = now or timezone.now()
    out: dict[Action, dict[int, Decision]] = {}
    later: list[DeferredMessage] = []
    for action in (Action.WORKFLOW, Action.SMS):
        todo = [m for m in matches if wants(m, action, workflow_id=workflow_id)]
        decisions = (
            outbound_check_batch(
                items=[(recipient_for_buyer(m.buyer), m.property.lead) for m in todo], action=action, now=now
            )
            if todo
            else []
        )
        out[action] = {m.pk: d for m, d in zip(todo, decisions, strict=True)}
        later += [
            deferred_message(match=m, action=action, decision=d, now=now)
            for m, d in zip(todo, decisions, strict=True)
            if deferrable(d)
        ]
    if later:  # a message already waiting keeps its row (one pending per match and action)
        DeferredMessage.objects.bulk_create(later, ignore_conflicts=True)
    return MatchGate(workflow=out[Action.WORKFLOW], sms=out[Action.SMS])


def deferred_message(
    *, match: PropertyMatch, action: Action, decision: Decision, now: datetime.datetime
) -> DeferredMessage:
    return DeferredMessage(
        match=match,
        lead=match.property.lead,
        action=action.value,
        due_at=decision.retry_at,
        reason=decision.reason.value,
        message=decision.message[:300],
        created_at=now,
    )


class MatchStamps:
    """The matches' "done" stamps and the records of the messages sent (each with the consent it relied on), saved
    right after the requests they record, so that a run killed later neither sends them again nor loses the
    record: one UPDATE per set of stamps (one per match when saved after each match) and one INSERT of records."""

    FIELDS = (*STAMPS.values(), "task_created_at")

    def __init__(self):
        self.fields: dict[int, set[str]] = {}
        self.sent: list[Activity] = []

    def add(self, match: PropertyMatch, what: Action | str, *, sent: Activity | None = None) -> None:
        self.fields.setdefault(match.pk, set()).add(STAMPS.get(what, what))
        if sent is not None:
            self.sent.append(sent)

    def save(self, *, now: datetime.datetime | None = None) -> None:
        now = now or timezone.now()
        by_fields: dict[frozenset[str], list[int]] = {}
        for pk, names in self.fields.items():
            by_fields.setdefault(frozenset(names), []).append(pk)
        for names, ids in by_fields.items():
            PropertyMatch.objects.filter(pk__in=ids).update(**dict.fromkeys(names, now))
        Activity.objects.bulk_create(self.sent)
        self.fields, self.sent = {}, []
