"""Project-level views: health check and the broker dashboard (the one view that reads every app)."""

import datetime
import logging
import re

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count, Max, Q
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from buyers.models import PropertyMatch
from dealfinder.ops.dashboard_figures import dashboard_figures
from dealfinder.ops.models import PipelineRun
from dealfinder.ops.reports import sql as report_sql
from leads.backtest_runs import backtest_latest
from leads.backtest_views import backtest_report_context
from leads.charts import bar_chart
from leads.choices import TIERS
from leads.ui_selectors import lead_hot_deals, lead_tier_trend
from properties.models import DataSource, Foreclosure, IngestionRun, QualityReport, TaxSale
from sync.models import SyncLog

logger = logging.getLogger(__name__)

HOT_SCORE = report_sql.HOT_SCORE  # as vw_hot_deals
TREND_DAYS = 30
UPCOMING_DAYS = 14
LIST_SIZE = 10
TIER_COLORS = {"A": "#d7301f", "B": "#f28e2b", "C": "#e6c229", "D": "#9a9a9a"}
# Each section shows only to users who may view the models it reads.
SECTION_PERMISSIONS = {
    "leads": "leads.view_lead",
    "history": "leads.view_leadscorehistory",
    "upcoming": ("properties.view_taxsale", "properties.view_foreclosure"),
    "matches": "buyers.view_propertymatch",
    "ingestion": "properties.view_ingestionrun",
    "quality": "properties.view_qualityreport",
    "sync": "sync.view_synclog",
    "outcomes": ("leads.view_outcome", "leads.view_backtestrun"),
}


def _check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"status": "ok"}


def _check_redis() -> dict:
    """PING the Celery broker with a one-second timeout (skipped when no Redis broker is configured)."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return {"status": "skipped"}
    import redis

    client = redis.Redis.from_url(url, socket_timeout=HEALTHZ_TIMEOUT, socket_connect_timeout=HEALTHZ_TIMEOUT)
    try:
        client.ping()
    finally:
        client.close()
    return {"status": "ok"}


def _check_pipeline() -> dict:
    """Age of the last nightly run that ran through (success, or partial: some sources failed). Stale is a
    warning, not a failure: the web still serves."""
    through = [PipelineRun.Status.SUCCESS, PipelineRun.Status.PARTIAL]
    last = (
        PipelineRun.objects.filter(job=PIPELINE_JOB, status__in=through, finished_at__isnull=False)
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    if last is None:
        return {"status": "never", "last_success": None, "age_hours": None}
    age_hours = round((timezone.now() - last).total_seconds() / 3600, 1)
    stale = age_hours > settings.HEALTHZ_PIPELINE_MAX_AGE_HOURS
    return {"status": "stale" if stale else "ok", "last_success": last.isoformat(), "age_hours": age_hours}


HEALTHZ_TIMEOUT = 1.0
PIPELINE_JOB = "nightly"
# A failing check makes /healthz answer 503; these only add a warning to a 200.
HEALTHZ_CHECKS = {
    "database": (_check_database, True),
    "redis": (_check_redis, True),
    "pipeline": (_check_pipeline, False),
}


@never_cache
@require_GET
def healthz(request):
    """Anonymous probe: database and Redis (503 when either fails), age of the last successful pipeline.

    The body names every check: {"status": "ok"|"warning"|"error", "checks": {name: {"status": ...}}}.
    A stale or never-run pipeline is a warning (200), so a load balancer keeps serving the web app
    while monitoring alerts on it. Errors are logged, never echoed to the anonymous caller.
    """
    checks, status = {}, "ok"
    for name, (check, fatal) in HEALTHZ_CHECKS.items():
        if name == "pipeline" and checks["database"]["status"] == "error":
            checks[name] = {"status": "unknown"}  # the database is down
            continue
        try:
            checks[name] = check()
        except Exception:
            logger.exception("health check %s failed", name)
            checks[name] = {"status": "error"}
        if checks[name]["status"] in ("ok", "skipped"):
            continue
        if fatal or checks[name]["status"] == "error":
            status = "error"
        elif status == "ok":
            status = "warning"
    return JsonResponse({"status": status, "checks": checks}, status=503 if status == "error" else 200)


def trend_chart(trend: dict[datetime.date, dict[str, int]], *, width: int = 600, height: int = 140) -> dict:
    """Stacked columns (one per day, D at the bottom, A on top) as SVG rectangles."""
    if not trend:
        return {"width": width, "height": height, "bars": [], "max": 0}
    peak = max(sum(day.values()) for day in trend.values()) or 1
    step = width / len(trend)
    bars = []
    for i, (date, tiers) in enumerate(trend.items()):
        y = float(height)
        for tier in reversed(TIERS):
            h = tiers[tier] * height / peak
            y -= h
            if tiers[tier]:
                bars.append(
                    {
                        "x": round(i * step + 1, 1),
                        "y": round(y, 1),
                        "w": round(max(step - 2, 1), 1),
                        "h": round(h, 1),
                        "color": TIER_COLORS[tier],
                        "title": f"{date:%b %d} Tier {tier}: {tiers[tier]}",
                    }
                )
    return {"width": width, "height": height, "bars": bars, "max": peak}


def _upcoming(today: datetime.date) -> dict:
    until = today + datetime.timedelta(days=UPCOMING_DAYS)
    sales = TaxSale.objects.filter(sale_date__range=(today, until))
    auctions = Foreclosure.objects.filter(auction_date__range=(today, until))
    return {
        "tax_sales": list(sales.select_related("property").order_by("sale_date", "id")[:LIST_SIZE]),
        "foreclosures": list(auctions.select_related("property").order_by("auction_date", "id")[:LIST_SIZE]),
        "counts": {"tax_sales": sales.count(), "foreclosures": auctions.count()},
    }


def _ingestion(since: datetime.datetime) -> dict:
    sources = DataSource.objects.annotate(
        last_success=Max("runs__finished_at", filter=Q(runs__status=IngestionRun.Status.SUCCESS)),
        last_run=Max("runs__started_at"),
        recent_failures=Count(
            "runs",
            filter=Q(
                runs__status__in=[IngestionRun.Status.FAILED, IngestionRun.Status.PARTIAL], runs__started_at__gte=since
            ),
        ),
    ).order_by("name")
    failures = IngestionRun.objects.filter(
        status__in=[IngestionRun.Status.FAILED, IngestionRun.Status.PARTIAL], started_at__gte=since
    ).select_related("source")
    return {"sources": list(sources), "failures": list(failures.order_by("-started_at")[:LIST_SIZE])}


def _sync(since: datetime.datetime) -> dict:
    latest_ids = SyncLog.objects.order_by().values("sync_type").annotate(last=Max("id")).values("last")
    return {
        "latest": list(SyncLog.objects.filter(id__in=latest_ids).order_by("sync_type")),
        "failures": list(
            SyncLog.objects.filter(status=SyncLog.Status.FAILED, started_at__gte=since).order_by("-started_at")[
                :LIST_SIZE
            ]
        ),
    }


@login_required
@require_GET
def dashboard(request):
    """Today's best leads, what is coming up, and whether the nightly pipeline is healthy."""
    show = {
        name: request.user.has_perms(perms if isinstance(perms, tuple) else [perms])
        for name, perms in SECTION_PERMISSIONS.items()
    }
    if not any(show.values()):
        raise PermissionDenied("No DealFinder role")
    today = timezone.localdate()
    week_ago = timezone.now() - datetime.timedelta(days=7)
    context = {"show": show, "hot_score": HOT_SCORE, "tier_colors": TIER_COLORS, "upcoming_days": UPCOMING_DAYS}
    counted = show["leads"] or show["history"] or show["sync"] or show["outcomes"]
    figures = dashboard_figures(today=today) if counted else {}
    if show["leads"]:
        context["summary"] = figures["summary"]
        context["tiers"] = _tier_bar(figures["summary"])
        context["hot_deals"] = lead_hot_deals(hot_score=HOT_SCORE, limit=LIST_SIZE)
    if show["history"]:
        context["new_tier_a"] = figures["new_tier_a"]
        context["trend"] = trend_chart(lead_tier_trend(since=today - datetime.timedelta(days=TREND_DAYS - 1)))
    if show["upcoming"]:
        context["upcoming"] = _upcoming(today)
    if show["matches"]:
        # Newest first by id: the nightly upsert gives hundreds of thousands of matches one created_at, and ordering
        # on it sorted every tie (about 0.4 s a view at 100,000 parcels); ids follow creation.
        context["matches"] = list(PropertyMatch.objects.select_related("buyer", "property").order_by("-id")[:LIST_SIZE])
    if show["ingestion"]:
        context["ingestion"] = _ingestion(week_ago)
    if show["quality"]:
        context["quality"] = QualityReport.objects.order_by("-created_at").first()
    if show["sync"]:
        context["sync"] = {**_sync(week_ago), "unsynced": figures["unsynced"]}
    if show["outcomes"]:
        context["outcomes"] = _outcomes(kpi_month=request.GET.get(KPI_MONTH_PARAM, ""), today=today, figures=figures)
    return render(request, "dashboard/index.html", context)


KPI_MONTH_PARAM = "kpi_month"  # YYYY-MM, or "all"; default: the current month
KPI_ALL = "all"
KPI_MONTH = re.compile(r"[1-9][0-9]{3}-(0[1-9]|1[0-2])")


def _month_key(month: datetime.datetime) -> str:
    return timezone.localtime(month).strftime("%Y-%m")


def _kpi_window(value: str, today: datetime.date) -> tuple[str, str]:
    """The KPI cards' month ("YYYY-MM" or "all") from the query parameter, and an error for one that is neither
    (the current month is shown then)."""
    if value == KPI_ALL:
        return KPI_ALL, ""
    current = today.strftime("%Y-%m")
    if not value:
        return current, ""
    if KPI_MONTH.fullmatch(value):
        return value, ""
    return current, f"“{value[:20]}” is not a month (YYYY-MM): showing {today:%B %Y}."


def _outcomes(*, kpi_month: str, today: datetime.date, figures: dict) -> dict:
    """Issue 22's charts: conversion by tier and lift per signal from the latest backtest; the KPIs per list source
    and per signal stack for the chosen month (`kpi_month`: YYYY-MM, "all" for all months; default this month).
    The cached figures hold every month's rows: the chosen month is picked from them, and their months are the
    choices."""
    run = backtest_latest()
    chosen, error = _kpi_window(kpi_month, today)
    source_rows, stack_rows = figures["kpis_by_source"], figures["kpis_by_stack"]
    months = ({_month_key(r["month"]) for r in stack_rows} | {today.strftime("%Y-%m"), chosen}) - {KPI_ALL}
    if chosen != KPI_ALL:
        source_rows = [r for r in source_rows if _month_key(r["month"]) == chosen]
        stack_rows = [r for r in stack_rows if _month_key(r["month"]) == chosen]
    sources = sorted(_source_totals(source_rows), key=lambda r: (-r["revenue"], r["source"]))
    return {
        "kpi_month": chosen,
        "kpi_month_label": "all time" if chosen == KPI_ALL else _month_label(chosen),
        "kpi_month_error": error,
        "kpi_month_choices": [(m, _month_label(m)) for m in sorted(months, reverse=True)] + [(KPI_ALL, "All time")],
        "stacks": _stack_totals(stack_rows),
        "run": run,
        **(backtest_report_context(document=run.document) if run else {}),
        "sources": sources,
        "source_chart": bar_chart(
            [
                (r["source"], float(r["revenue"]), "", f"{r['source']}: {r['closed']} closed of {r['leads']} leads")
                for r in sources
            ],
            axis="revenue (won deals' fees) per list source",
            fmt="${:,.0f}",
        ),
    }


SOURCE_MEASURES = ("leads", "contacted", "contracts", "closed", "revenue")


def _source_totals(rows: list[dict]) -> list[dict]:
    """Issue 22's return per list source, the given months summed: the counts, the cost (unknown when no month
    had one), the cost per closed deal and the days to contract averaged over the contracts."""
    totals: dict[str, dict] = {}
    for row in rows:
        total = totals.setdefault(
            row["source"], {"source": row["source"], **dict.fromkeys(SOURCE_MEASURES, 0), "cost": None, "days": 0}
        )
        for name in SOURCE_MEASURES:
            total[name] += row[name]
        if row["cost"] is not None:
            total["cost"] = (total["cost"] or 0) + row["cost"]
        if row["days_to_contract"] is not None:
            total["days"] += row["days_to_contract"] * row["contracts"]
    for total in totals.values():
        days = total.pop("days")
        total["days_to_contract"] = round(days / total["contracts"], 1) if total["contracts"] else None
        total["cost_per_deal"] = (
            total["cost"] / total["closed"] if total["cost"] is not None and total["closed"] else None
        )
    return list(totals.values())


def _month_label(key: str) -> str:
    return datetime.datetime.strptime(key, "%Y-%m").strftime("%B %Y")


STACK_MEASURES = ("leads", "contacted", "appointments", "contracts", "closed", "revenue")


def _stack_totals(rows: list[dict]) -> list[dict]:
    """Issue 22's KPIs per signal stack (distinct distress signals), the given months summed, most signals first."""
    totals: dict[int, dict] = {}
    for row in rows:
        total = totals.setdefault(row["stack_count"], dict.fromkeys(STACK_MEASURES, 0))
        for name in STACK_MEASURES:
            total[name] += row[name]
    return [{"stack_count": n, **totals[n]} for n in sorted(totals, reverse=True)]


def _tier_bar(summary: dict) -> list[dict]:
    """Per tier: count, colour, percent and the percent before it (x of its SVG rectangle)."""
    tiers, offset = [], 0.0
    for t in TIERS:
        percent = _percent(summary, t)
        tiers.append(
            {"tier": t, "count": summary[f"tier_{t}"], "color": TIER_COLORS[t], "percent": percent, "offset": offset}
        )
        offset = round(offset + percent, 1)
    return tiers


def _percent(summary: dict, tier: str) -> float:
    return round(100 * summary[f"tier_{tier}"] / summary["leads"], 1) if summary["leads"] else 0.0
