"""The county trend of comparable sales: a monthly $/sqft index that adjusts a comp's price for time. Pure.

County trend (time adjustment). `county_trend(sales, as_of, params)` is a monthly index of $/sqft over the
months the comps can come from (the as-of month and the `tiers[-1]` months before it):
1. each market sale with a living area gives price / living sqft, filed under its calendar month: the sales
   recorded before the as-of month began (a deed without a recording date counts as recorded when sold). The
   index is monthly: a deed recorded this month enters it next month, so the ARVs do not move with each day's
   deeds (the comps themselves are every sale up to the as-of date);
2. a month's value is the median $/sqft of the sales in the centred window of `2 x trend_half_window + 1`
   months around it (3 by default: the smoothing); while that window holds fewer than `trend_min_sales` (10)
   sales it widens by a month on each side, up to `2 x trend_max_half_window + 1` (13) months;
3. a month whose widest window is still thin takes the value of the nearest month that has one (the earlier
   on a tie); when no month has one the trend is flat (factor 1: prices are not adjusted for time, and the
   result says so).
A comp's time factor is index(as-of month) / index(its sale month).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from leads.comps import CompParams, CompSale, is_market_sale, month_label, month_number, percentile


@dataclass(frozen=True)
class TrendMonth:
    month: int  # month_number
    price_per_sqft: float | None  # the value used (own or the nearest month's)
    sales: int  # sales in the window that gave the month its own value (0: none)
    window_months: int  # that window's width (0: none)
    from_month: int | None  # the month whose value is used


@dataclass(frozen=True)
class Trend:
    as_of: datetime.date
    months: tuple[TrendMonth, ...]

    @cached_property
    def values(self) -> dict[int, float]:
        return {m.month: m.price_per_sqft for m in self.months if m.price_per_sqft is not None}

    @property
    def is_flat(self) -> bool:
        return not self.values

    def factor(self, sale_date: datetime.date) -> float:
        values = self.values
        sold = month_number(sale_date)
        if not values or sold not in values:
            return 1.0
        return values[month_number(self.as_of)] / values[sold]

    def as_json(self) -> list[dict]:
        return [
            {
                "month": month_label(m.month),
                "price_per_sqft": round(m.price_per_sqft, 2) if m.price_per_sqft is not None else None,
                "sales": m.sales,
                "window_months": m.window_months,
                "from_month": month_label(m.from_month) if m.from_month is not None else None,
            }
            for m in self.months
        ]


def county_trend(sales: Iterable[CompSale], *, as_of: datetime.date, params: CompParams) -> Trend:
    """The monthly $/sqft index of the county's market sales (module docstring: County trend)."""
    last = month_number(as_of)
    first = last - params.widest[1]
    reach = params.trend_max_half_window
    month_start = as_of.replace(day=1)
    by_month: dict[int, list[float]] = {}
    for sale in sales:
        if not is_market_sale(sale, params) or not sale.living_sqft or sale.sale_date > as_of:
            continue
        if (sale.recorded_on or sale.sale_date) >= month_start:  # recorded this month: in next month's index
            continue
        month = month_number(sale.sale_date)
        if first - reach <= month:
            by_month.setdefault(month, []).append(float(sale.price) / sale.living_sqft)
    own: dict[int, tuple[float, int, int]] = {}
    for month in range(first, last + 1):
        for half in range(params.trend_half_window, reach + 1):
            window = [v for m in range(month - half, month + half + 1) for v in by_month.get(m, ())]
            if len(window) >= params.trend_min_sales:
                own[month] = (percentile(sorted(window), 0.5), len(window), 2 * half + 1)
                break
    months = []
    for month in range(first, last + 1):
        source = min(own, key=lambda m: (abs(m - month), m)) if own else None
        sales_count, width = own[month][1:] if month in own else (0, 0)
        value = own[source][0] if source is not None else None
        months.append(TrendMonth(month, value, sales_count, width, source))
    return Trend(as_of=as_of, months=tuple(months))
