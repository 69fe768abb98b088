"""Outcomes: recording how leads ended (the backtest's ground truth), from any door."""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from dealfinder.common.generations import change_generation_bump
from leads.choices import OUTCOME_STATUSES, LeadStatus
from leads.models import Lead, Outcome
from leads.services import lead_change_status


def outcome_record(
    *,
    lead: Lead,
    kind: str,
    source: str,
    occurred_on: datetime.date | None = None,
    contract_date: datetime.date | None = None,
    fee: Decimal | None = None,
    reason: str = "",
    note: str = "",
    actor=None,
) -> Outcome:
    """Record (or complete) a lead's outcome with its details, and move the lead to the matching status.

    The outcome of that kind on that day is updated when it exists (its fee, reason, contract date, note filled
    in), otherwise created; the lead's status follows with its timeline entry when it differs. ValueError for a
    kind that is not an outcome, a fee on anything but a won deal, or a reason on anything but a dead lead."""
    if kind not in OUTCOME_STATUSES:
        raise ValueError(f"{kind!r} is not an outcome: use one of {', '.join(OUTCOME_STATUSES)}")
    if fee is not None and kind != LeadStatus.CLOSED_WON:
        raise ValueError("Only a closed (won) deal has a fee.")
    if reason and kind != LeadStatus.DEAD:
        raise ValueError("Only a dead lead has a reason.")
    if reason and reason not in Outcome.Reason.values:
        raise ValueError(f"Unknown reason {reason!r}: use one of {', '.join(Outcome.Reason.values)}")
    occurred_on = occurred_on or timezone.localdate()
    if contract_date is not None and contract_date > occurred_on:
        raise ValueError("The contract date cannot be after the outcome.")
    details = {"contract_date": contract_date, "fee": fee, "reason": reason, "note": note}
    with transaction.atomic():
        if lead.status != kind:  # records the bare outcome that day, with the lead's timeline entry
            lead_change_status(lead=lead, status=kind, actor=actor, note=note, source=source, on=occurred_on)
        outcome, created = Outcome.objects.get_or_create(
            lead=lead,
            kind=kind,
            occurred_on=occurred_on,
            defaults={**details, "source": source, "recorded_by": actor},
        )
        given = {name: value for name, value in details.items() if value not in (None, "")}
        if given and not created:
            for name, value in given.items():
                setattr(outcome, name, value)
            outcome.save(update_fields=list(given))
            transaction.on_commit(change_generation_bump)  # outcomes carry no `updated_at` for cached figures
    return outcome
