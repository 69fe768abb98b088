"""Chart layouts: plain numbers in, the shapes of an SVG chart out (templates/charts/ draws them).

Charts are inline SVG drawn on the server: no script, no library, nothing from a CDN, nothing the
Content-Security-Policy has to allow; they print and they read without JavaScript. Each bar carries a <title>
(its exact numbers, shown on hover and read by screen readers).
"""

from collections.abc import Sequence
from dataclasses import dataclass

TIER_COLORS = {"A": "#d7301f", "B": "#f28e2b", "C": "#e6c229", "D": "#9a9a9a"}
BAR_COLOR = "#2b6cb0"
WIDTH = 600
ROW = 26  # height of one horizontal bar row
LABEL = 220  # width of the label column


@dataclass(frozen=True)
class Bar:
    label: str
    x: float
    y: float
    width: float
    height: float
    color: str
    title: str
    text: str  # the value written at the bar's end
    text_x: float
    # interval charts: the whisker
    low_x: float | None = None
    high_x: float | None = None


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    label_width: int
    bars: tuple[Bar, ...]
    reference_x: float | None  # a vertical line (lift = 1), or None
    reference_label: str
    axis: str  # what the bars measure


def bar_chart(rows: Sequence[tuple[str, float | None, str, str]], *, axis: str, fmt: str = "{:.0%}") -> Chart:
    """Horizontal bars: rows are (label, value or None, color or "", title); values >= 0, scaled to the largest."""
    top = max((v for _, v, _, _ in rows if v is not None), default=0) or 1
    span = WIDTH - LABEL - 60
    bars = []
    for i, (label, value, color, title) in enumerate(rows):
        width = 0.0 if value is None else span * value / top
        bars.append(
            Bar(
                label=label,
                x=LABEL,
                y=i * ROW + 4,
                width=round(width, 1),
                height=ROW - 8,
                color=color or BAR_COLOR,
                title=title,
                text="-" if value is None else fmt.format(value),
                text_x=round(LABEL + width + 4, 1),
            )
        )
    return Chart(WIDTH, len(rows) * ROW + 20, LABEL, tuple(bars), None, "", axis)


def interval_chart(rows: Sequence[tuple[str, float, float, float, str]], *, axis: str, reference: float = 1.0) -> Chart:
    """Points with whiskers (a lift and its 95% interval), on a scale from 0 to the highest bound, with a line at
    `reference`: rows are (label, value, low, high, title)."""
    top = max([reference, *(high for _, _, _, high, _ in rows)]) * 1.05
    span = WIDTH - LABEL - 60

    def x(v: float) -> float:
        return round(LABEL + span * min(v, top) / top, 1)

    bars = []
    for i, (label, value, low, high, title) in enumerate(rows):
        significant = low > reference or high < reference
        bars.append(
            Bar(
                label=label,
                x=x(min(value, reference)),
                y=i * ROW + 8,
                width=round(abs(x(value) - x(reference)), 1),
                height=ROW - 16,
                color=BAR_COLOR if significant else "#9a9a9a",
                title=title,
                text=f"{value:.2f}",
                text_x=x(high) + 4,
                low_x=x(low),
                high_x=x(high),
            )
        )
    return Chart(WIDTH, len(rows) * ROW + 20, LABEL, tuple(bars), x(reference), f"{reference:g}", axis)


def tier_rate_chart(by_tier: dict[str, dict]) -> Chart:
    """Conversion by tier from a backtest document's `by_tier`."""
    rows = [
        (
            f"Tier {tier}",
            row["rate"],
            TIER_COLORS.get(tier, ""),
            f"Tier {tier}: {row['won']} of {row['leads']} converted",
        )
        for tier, row in by_tier.items()
    ]
    return bar_chart(rows, axis="share of leads that reached a contract")


def lift_chart(signals: list[dict]) -> Chart:
    """Lift per signal with its 95% interval, from a backtest document's `signals` (those with a lift)."""
    rows = [
        (
            s["label"],
            s["lift"],
            s["ci_low"],
            s["ci_high"],
            f"{s['label']}: lift {s['lift']:.2f} (95% {s['ci_low']:.2f}-{s['ci_high']:.2f}), "
            f"{s['won_with']} of {s['n']} with it converted, {s['won_without']} of {s['n_without']} without",
        )
        for s in signals
        if s["lift"] is not None
    ]
    return interval_chart(rows, axis="lift: how many times as often leads with the signal converted")
