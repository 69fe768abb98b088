"""What the backtest page shows, read from a stored backtest document (no database, no fit)."""

from leads.backtest.signals import SIGNAL_LABELS
from leads.charts import lift_chart, tier_rate_chart


def backtest_report_context(*, document: dict) -> dict:
    """Template context for templates/admin/leads/backtestrun/report.html: the document, its charts, and the
    weights side by side with their labels (only signals where either profile gives points)."""
    if not document:
        return {"doc": None}
    proposed = document.get("proposed_weights") or {}
    weights = [
        {
            "signal": name,
            "label": SIGNAL_LABELS.get(name, name),
            "active": active,
            "proposed": proposed.get(name),
            "changed": name in proposed and proposed[name] != active,
        }
        for name, active in document["active_weights"].items()
    ]
    return {
        "doc": document,
        "weights": weights,
        "lifts": [s for s in document["signals"] if s["lift"] is not None],
        "tier_chart": tier_rate_chart(document["by_tier"]),
        "lift_chart": lift_chart(document["signals"]),
    }
