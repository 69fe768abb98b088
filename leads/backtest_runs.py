"""Backtest runs: the database read into leads.backtest's plain values, the run stored, its proposal activated.

Set-based reads: the outcomes aggregated per lead (first contract, first death), the last score snapshot
strictly before each lead's deciding outcome (one subquery per chunk of leads), and the scored leads' current
facts streamed twice (tier shares, then the side-by-side comparison), so memory stays bounded by the number of
outcomes and one chunk of facts.
"""

import datetime
import time
from collections.abc import Iterator, Mapping

from django.db import transaction
from django.db.models import DateField, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from leads.backtest import LeadOutcome, Snapshot, backtest_json, backtest_run, observations_build, tiers_compare
from leads.choices import CONVERTED_STATUSES, LeadStatus
from leads.models import BacktestRun, Lead, LeadScoreHistory, ScoringProfile
from leads.scoring import PropertySignals
from leads.selectors import property_facts_chunks
from leads.services import scoring_params_for, scoringprofile_activate, scoringprofile_get_active

CHUNK = 2000


class BacktestError(ValueError):
    """A backtest or its proposal cannot be used as asked (the message says why, for the broker)."""


def _lead_outcomes() -> Iterator[LeadOutcome]:
    """Per lead with outcomes: its first contract (converted) and its first death, as LeadOutcome rows."""
    converted = Q(outcomes__kind__in=CONVERTED_STATUSES)
    rows = (
        Lead.objects.filter(outcomes__isnull=False)
        .order_by()
        .values("id")
        .annotate(
            contract=Min(Coalesce("outcomes__contract_date", "outcomes__occurred_on"), filter=converted),
            dead=Min("outcomes__occurred_on", filter=Q(outcomes__kind=LeadStatus.DEAD)),
            first_snapshot=Min("history__snapshot_date"),
        )
    )
    for row in rows.iterator(chunk_size=CHUNK):
        if row["contract"] is not None:
            first = row["first_snapshot"]
            days = (row["contract"] - first).days if first is not None and first <= row["contract"] else None
            yield LeadOutcome(row["id"], row["contract"], True, days)
        if row["dead"] is not None:
            yield LeadOutcome(row["id"], row["dead"], False)


def _deciding_dates(outcomes: list[LeadOutcome]) -> dict[int, datetime.date]:
    """Each lead's deciding outcome date: its first contract, else its first death (as observations_build)."""
    deciding: dict[int, LeadOutcome] = {}
    for o in outcomes:
        held = deciding.get(o.lead_id)
        if held is None or (not o.converted, o.outcome_date) < (not held.converted, held.outcome_date):
            deciding[o.lead_id] = o
    return {lead_id: o.outcome_date for lead_id, o in deciding.items()}


def _snapshots_before(deciding: Mapping[int, datetime.date]) -> Iterator[Snapshot]:
    """The last snapshot strictly before each lead's deciding date: one query per chunk of leads."""
    lead_ids = sorted(deciding)
    for start in range(0, len(lead_ids), CHUNK):
        chunk = lead_ids[start : start + CHUNK]
        converted = Min(
            Coalesce("outcomes__contract_date", "outcomes__occurred_on"),
            filter=Q(outcomes__kind__in=CONVERTED_STATUSES),
        )
        dead = Min("outcomes__occurred_on", filter=Q(outcomes__kind=LeadStatus.DEAD))
        decided = (
            Lead.objects.filter(pk=OuterRef("lead_id"))
            .order_by()
            .values("pk")
            .annotate(on=Coalesce(converted, dead, output_field=DateField()))
            .values("on")
        )
        last = (
            LeadScoreHistory.objects.filter(lead_id=OuterRef("lead_id"), snapshot_date__lt=Subquery(decided))
            .order_by("-snapshot_date")
            .values("id")[:1]
        )
        rows = (
            LeadScoreHistory.objects.filter(lead_id__in=chunk, id=Subquery(last))
            .order_by("lead_id")
            .values_list("lead_id", "snapshot_date", "total", "tier", "signals")
        )
        for lead_id, day, total, tier, signals in rows:
            yield Snapshot(lead_id, day, total, tier, frozenset(signals.split()))


def _facts(*, today, params, buyer_demand_by_zip) -> Iterator[tuple[int, PropertySignals]]:
    """(lead id, current facts) of every scored lead, streamed by chunk."""
    for facts in property_facts_chunks(today=today, params=params, buyer_demand_by_zip=buyer_demand_by_zip):
        leads = dict(
            Lead.objects.filter(property_id__in=[f.property_id for f in facts]).values_list("property_id", "id")
        )
        for fact in facts:
            if fact.property_id in leads:
                yield leads[fact.property_id], fact.signals


def backtest_run_create(
    *, since: datetime.date | None = None, buyer_demand_by_zip: Mapping[str, int] | None = None, actor=None
) -> BacktestRun:
    """Backtest the active profile against the outcomes (on or after `since`) and store the run with its JSON
    document (`backtest --json`), the proposal and which leads would change tier under it. `buyer_demand_by_zip`
    is what the nightly score hands the location score (dealfinder.ops passes it), so the comparison rescores the
    leads exactly as activating and rescoring will. Takes seconds: call it from a command or a task."""
    started = time.monotonic()
    profile = scoringprofile_get_active()
    params, _ = scoring_params_for(profile=profile)
    outcomes = list(_lead_outcomes())
    deciding = _deciding_dates(outcomes)
    observations = observations_build(outcomes=outcomes, snapshots=_snapshots_before(deciding), since=since)
    today = timezone.localdate()
    population = (signals for _, signals in _facts(today=today, params=params, buyer_demand_by_zip=buyer_demand_by_zip))
    result = backtest_run(observations=observations, active=params, population=population)
    comparison = None
    if result.proposal is not None:
        facts = _facts(today=today, params=params, buyer_demand_by_zip=buyer_demand_by_zip)
        comparison = tiers_compare(facts=facts, active=params, proposed=result.proposal.params)
    document = backtest_json(result, comparison=comparison)
    return BacktestRun.objects.create(
        created_by=actor,
        since=since,
        profile=profile,
        outcomes=result.outcomes,
        active_auc=document["active_auc"],
        proposed_auc=document["proposed_auc"],
        document=document,
        seconds=round(time.monotonic() - started, 2),
    )


def backtest_latest() -> BacktestRun | None:
    return BacktestRun.objects.order_by("-created_at", "-id").first()


def backtest_proposal_activate(*, run: BacktestRun) -> ScoringProfile:
    """Save the run's proposed profile as a new profile version (the tested profile's columns and parameters
    with the proposal's thresholds and weights over them) and make it the active one. The caller rescores (the
    roof: the scores need the buyers' demand). BacktestError when the run has no proposal, the tested profile
    is gone or no longer active (the comparison would not hold), or the proposal was activated already."""
    proposal = run.document.get("proposal") or {}
    if proposal.get("status") != "fitted":
        raise BacktestError(proposal.get("message") or "This backtest has no proposed profile.")
    if run.activated_profile_id is not None:
        raise BacktestError(f"This proposal is already saved as {run.activated_profile}.")
    base = run.profile
    if base is None or not base.is_active:
        raise BacktestError("The active scoring profile changed since this backtest: run the backtest again.")
    with transaction.atomic():
        profile = ScoringProfile.objects.get(pk=base.pk)
        profile.pk = profile.id = None
        profile.is_active = False
        profile.name = f"{base.name[:60]} (fitted, backtest #{run.pk})"
        for name, value in proposal["columns"].items():
            setattr(profile, name, value)
        profile.parameters = {**(base.parameters or {}), **proposal["parameters"]}
        profile.created_at = profile.updated_at = timezone.now()
        profile.full_clean()
        scoringprofile_activate(profile=profile)
        BacktestRun.objects.filter(pk=run.pk).update(activated_profile=profile)
        run.activated_profile = profile
    return profile


def _pct(rate) -> str:
    return "-" if rate is None else f"{rate:.0%}"


def _num(value, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def backtest_text(document: dict) -> str:
    """A plain-text summary of a backtest document, for the command line."""
    lines = [
        f"Outcomes: {document['outcomes']} ({document['won']} reached a contract; "
        f"{document['without_snapshot']} left out: no score snapshot before their outcome)"
    ]
    lines.append(
        "Conversion by tier: "
        + ", ".join(
            f"{tier} {row['won']}/{row['leads']} ({_pct(row['rate'])})" for tier, row in document["by_tier"].items()
        )
    )
    lines.append("Lift per signal (leads with it convert x times as often; 95% interval):")
    for s in document["signals"]:
        if s["lift"] is None:
            continue
        proposed = "-" if s["proposed_weight"] is None else s["proposed_weight"]
        lines.append(
            f"  {s['label']:<36} lift {_num(s['lift'])} [{_num(s['ci_low'])}, {_num(s['ci_high'])}] "
            f"n={s['n']} weight {s['active_weight']} -> {proposed}"
        )
    lines.append(f"AUC: active {_num(document['active_auc'], 3)}, proposed {_num(document['proposed_auc'], 3)}")
    proposal = document["proposal"]
    if proposal["status"] != "fitted":
        lines.append(proposal["message"])
    else:
        changes = document.get("tier_changes") or {}
        lines.append(
            f"Proposed thresholds: {proposal['columns']}; {changes.get('changed', 0)} of {changes.get('leads', 0)} "
            "leads would change tier."
        )
    return "\n".join(lines)
