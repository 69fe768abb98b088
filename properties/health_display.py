"""A data source's health as an admin table: per recent run, records in and stored, unplaced share, fill rate and
sentinels and bad values per target field, schema drift."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join

from properties.ingest.schema import drift_summary
from properties.selectors import SourceHealth


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.0%}"


def render_health(health: SourceHealth) -> str:
    if not health.runs:
        return "No runs yet."
    rows = []
    for run in health.runs:
        fields = format_html_join(
            "",
            "<li><code>{}</code> {} filled{}{}</li>",
            (
                (
                    target,
                    _percent(f.fill_rate),
                    f", {f.sentinel} sentinel" if f.sentinel else "",
                    f", {f.bad} bad" if f.bad else "",
                )
                for target, f in run.fields.items()
            ),
        )
        drift = drift_summary(run.schema_drift) or ("-" if run.schema_drift.get("compared") else "first schema")
        rows.append(
            (
                run.started_at[:16].replace("T", " "),
                run.status,
                run.records_in,
                run.stored,
                run.failed,
                f"{run.unplaced} ({_percent(run.unplaced_share)})",
                format_html("<ul class='df-health-fields'>{}</ul>", fields) if run.fields else "-",
                drift,
            )
        )
    body = format_html_join(
        "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows
    )
    return format_html(
        "<table class='df-health'><thead><tr><th>started</th><th>status</th><th>records in</th><th>stored</th>"
        "<th>failed</th><th>unplaced</th><th>fill rate per field</th><th>schema drift</th></tr></thead>"
        "<tbody>{}</tbody></table>",
        body,
    )
