"""The sync health page's numbers (a selector): last push, pull, reconcile and webhook, drift, today's budget,
failures and compliance refusals by reason,
messages deferred for quiet hours."""

from __future__ import annotations

import datetime
import re
from collections import Counter

from django.db.models import Count, Max, Q
from django.utils import timezone

from leads.models import Activity
from sync.models import DeferredMessage, ExternalLink, SyncLog, WebhookEvent
from sync.pacing import GHLPacer

WINDOW = datetime.timedelta(days=7)
TOP = 10
REFUSED = "refused: "


def _reason(error: str) -> str:
    """An error without the ids that make each one unique: "GoHighLevel 400: Contact not found"."""
    text = re.sub(r"\(traceId [^)]*\)", "", str(error))
    return re.sub(r"\b[0-9a-zA-Z]{15,}\b", "…", text).strip()[:160]


def sync_health(*, pacer: GHLPacer, now: datetime.datetime | None = None) -> dict:
    now = now or timezone.now()
    since = now - WINDOW
    last = {
        row["sync_type"]: row["last"]
        for row in SyncLog.objects.order_by().values("sync_type").annotate(last=Max("started_at"))
    }
    latest = {log.sync_type: log for log in SyncLog.objects.filter(started_at__in=list(last.values()))}
    failures: Counter = Counter()
    for errors in SyncLog.objects.filter(
        started_at__gte=since, status__in=[SyncLog.Status.FAILED, SyncLog.Status.PARTIAL]
    ).values_list("errors", flat=True):
        failures.update(_reason(e.get("error", "")) for e in errors or [] if isinstance(e, dict))
    refusals = (
        Activity.objects.filter(to_value__startswith=REFUSED, created_at__gte=since)
        .values("to_value")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    budget = pacer.budget()
    return {
        "runs": [{"kind": label, "last": latest.get(kind)} for kind, label in SyncLog.SyncType.choices],
        "last_webhook": WebhookEvent.objects.aggregate(last=Max("received_at"))["last"],
        "drift_links": ExternalLink.objects.exclude(drift={}).count(),
        "deleted_links": ExternalLink.objects.filter(remote_deleted_at__isnull=False).count(),
        "drift_reconciled": sum(
            SyncLog.objects.filter(sync_type=SyncLog.SyncType.RECONCILE, started_at__gte=since).values_list(
                "drift_found", flat=True
            )
        ),
        "budget": budget,
        "budget_read_at": (
            datetime.datetime.fromtimestamp(budget.daily_read_at, tz=datetime.UTC) if budget.daily_read_at else None
        ),
        "failures": failures.most_common(TOP),
        "refusals": [(r["to_value"].removeprefix(REFUSED), r["n"]) for r in refusals[:TOP]],
        "deferred": deferred_counts(now=now, since=since),
        "since": since,
    }


def deferred_counts(*, now: datetime.datetime, since: datetime.datetime) -> dict[str, int]:
    """Messages deferred for the hours: waiting, of those due now, and sent / refused at send time since `since`."""
    pending = Q(status=DeferredMessage.Status.PENDING)
    finished = Q(finished_at__gte=since)
    return DeferredMessage.objects.aggregate(
        pending=Count("pk", filter=pending),
        due=Count("pk", filter=pending & Q(due_at__lte=now)),
        sent=Count("pk", filter=finished & Q(status=DeferredMessage.Status.SENT)),
        refused=Count("pk", filter=finished & Q(status=DeferredMessage.Status.REFUSED)),
    )
