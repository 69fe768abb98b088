"""Outcome backtest: how well the score predicted which leads closed, and a profile fitted to what did.

Pure rules (plain values in, dataclasses out, no database), one subject per module:

- `signals`: the profile's weighted signals, named as the profile names their points (`tax_sale_points`,
  `equity_points`, ...); which of them a lead earned (`signals_awarded`, read from leads.scoring.score);
  a profile's weights (`signal_weights`) and the `parameters` giving new ones (`weight_parameters`).
- `observations`: each lead's deciding outcome paired with its last score snapshot strictly before it
  (never one taken on or after the outcome); leads without one are left out and counted.
- `rates`: conversion by tier and by score decile, lift per signal with a 95% Katz interval, days to
  contract by tier.
- `fit`: regularised logistic regression (scikit-learn, cross-validated) on the signal indicators; the
  out-of-fold AUC beside the active totals' AUC; calibration of both.
- `proposal`: coefficients -> non-negative point weights within each component's cap; tier thresholds
  keeping the tier shares; when there are too few outcomes, how many more are needed instead of a fit.
- `compare`: which leads change tier under the proposal (rescored in memory by leads.scoring).
- `report`: `backtest_run` (all of the above in one call) and `backtest_json` (the `backtest --json` shape).

numpy and scikit-learn are imported only inside `fit`'s functions: importing this package costs the web
process nothing until a backtest runs (a run takes a few seconds: call it from a command or a task).

How to integrate
----------------
An Outcome model (one row per lead event) must hold: the lead; the kind (under_contract, closed_won, dead);
the date it happened (a date in the broker's time zone, not the time the row was written); for won deals the
assignment fee or profit; for dead leads the reason (no answer, not motivated, price, listed, sold
elsewhere, ...); where it came from (admin, API status change, GoHighLevel opportunity won/lost); the
contract date when known. A status change alone records one (fee and reason optional).

LeadScoreHistory must also keep the signals of each snapshot: a JSON list `signals`, written by the nightly
score as `sorted(signals_awarded(facts.signals, params))` (about 10 us a lead: one more `score` call). The
backtest needs the signals the lead had then; rebuilding them later from today's records would leak
(violations closed since, sales redeemed since).

A selector turns the database into plain values, set-based:
- `LeadOutcome(lead_id, outcome_date, converted, days_to_contract)` per outcome row (converted = under
  contract or closed won; days_to_contract = contract date - the lead's first snapshot date);
- `Snapshot(lead_id, snapshot_date, total, tier, signals)` for the last history row strictly before each
  lead's deciding outcome (one Subquery ordered by -snapshot_date with `snapshot_date__lt`), streamed;
- the scored leads' current facts for the tier shares and the comparison: `leads.selectors.
  property_facts_chunks` (flatten the chunks; pair each with its lead id for `tiers_compare`).

Then the service (e.g. `backtest_run_for_profile(*, since)`) calls::

    params, _ = scoring_params_for(profile=scoringprofile_get_active())
    observations = observations_build(outcomes=..., snapshots=..., since=since)
    result = backtest_run(observations=observations, active=params, population=facts_signals)
    comparison = tiers_compare(facts=lead_id_and_signals, active=params, proposed=result.proposal.params)
    document = backtest_json(result, comparison=comparison)

- `python manage.py backtest [--since DATE] [--json FILE]`: prints a text summary of `result` (or the
  `result.shortfall.message`), writes `document` as JSON to FILE.
- The admin backtest page renders the same result: rates, lifts with intervals, calibration, time to
  contract, both AUCs and both weight sets side by side, `comparison` (from -> to counts with example
  leads), and an "Activate proposal" action (permissions=["change"] on ScoringProfile) that creates a new
  ScoringProfile with the active profile's columns, `result.proposal.columns` and
  `parameters={**active.parameters, **result.proposal.parameters}`, runs `full_clean()` (the proposal is
  already checked with the admin's own `parameter_errors`), activates it with `scoringprofile_activate` and
  rescores; tiers then move as `comparison` said. Cache the result (a run takes seconds).
- The API serves `document` to the same roles as the admin page; the charts (conversion by tier, lift per
  signal) read its `by_tier` and `signals`.
"""

from .compare import TierChange, TierComparison, tiers_compare
from .observations import LeadOutcome, Observation, Observations, Snapshot, observations_build
from .report import BacktestResult, backtest_json, backtest_run
from .signals import SIGNALS, signal_weights, signals_awarded

__all__ = [
    "SIGNALS",
    "BacktestResult",
    "LeadOutcome",
    "Observation",
    "Observations",
    "Snapshot",
    "TierChange",
    "TierComparison",
    "backtest_json",
    "backtest_run",
    "observations_build",
    "signal_weights",
    "signals_awarded",
    "tiers_compare",
]
