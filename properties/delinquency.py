"""When a tax delinquency is still owed, from what a source says about it. Pure: no database.

A delinquency is a standing record: once a source reports taxes owed it counts until a source says they were
paid, abated, cancelled or closed. An amount owed above zero means delinquent, zero means paid.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

CLOSED_STATUS = re.compile(r"paid|abate|cancel|closed|redeem|satisf|releas|resolved|void|withdrawn|no longer", re.I)


@dataclass(frozen=True)
class DelinquencyState:
    is_open: bool
    status: str  # what the source said, or what DealFinder read from it ("paid: nothing owed")


def delinquency_state(
    *,
    flag: bool | None = None,
    amount: Decimal | None = None,
    status: str | None = None,
    resolved_at: dt.date | None = None,
    listed: bool = False,
) -> DelinquencyState | None:
    """Open or resolved, from a source's flag, amount owed, status and paid date; None when the record says
    nothing about delinquency. `listed`: the record comes from a delinquency list, so it is owed unless it says
    otherwise."""
    status = (status or "").strip()
    if resolved_at or (status and CLOSED_STATUS.search(status)):
        return DelinquencyState(False, status or "paid")
    if amount is not None:
        return DelinquencyState(amount > 0, status or ("" if amount > 0 else "paid: nothing owed"))
    if flag is not None:
        return DelinquencyState(flag, status or ("" if flag else "no longer delinquent"))
    if listed or status:
        return DelinquencyState(True, status)
    return None
