"""The backtest as the roof runs it: the comparison and the rescore after activating a proposal need the buyers'
demand per zip, which leads may not import (the `backtest` command, the backtest admin page)."""

import datetime

from buyers.selectors import buyer_demand_by_zip
from dealfinder.ops.scoring import leads_score
from leads.backtest_runs import backtest_proposal_activate, backtest_run_create
from leads.grid import map_grid_refresh
from leads.models import BacktestRun, ScoringProfile


def backtest_run(*, since: datetime.date | None = None, actor=None) -> BacktestRun:
    """leads.backtest_runs.backtest_run_create with the buyers' demand the nightly score uses."""
    return backtest_run_create(since=since, buyer_demand_by_zip=buyer_demand_by_zip(), actor=actor)


def backtest_activate(*, run: BacktestRun) -> tuple[ScoringProfile, str]:
    """Activate the run's proposal as a new profile version, rescore every lead and rebuild the map index;
    the new profile and the score summary. leads.backtest_runs.BacktestError when it cannot be activated."""
    profile = backtest_proposal_activate(run=run)
    summary = leads_score()
    map_grid_refresh()
    return profile, str(summary)
