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

How it is integrated
--------------------
Outcome (leads.models; recorded by leads.services.lead_bulk_change_status from every door, completed by
leads.outcomes.outcome_record), LeadScoreHistory.signals (space-separated signal names, written by the score as
`signals_awarded`), the set-based selectors and the stored BacktestRun in leads.backtest_runs, the command and the
activation with a rescore in dealfinder.ops.backtest, the admin page in leads.admin.BacktestRunAdmin, the API in
leads.api.outcomes. tests/integration/test_backtest_demo.py walks the demo county through all of it.
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
