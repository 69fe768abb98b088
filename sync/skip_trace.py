"""Skip tracing leads' owners through the configured provider: who is due, one billable call per batch, results kept.

A trace is keyed on the lead (its property's owner; not yet on the Owner record) and its phones and emails are
LeadContactPoint rows; `trace_subjects()` is the one place that says whom a lead's trace is for.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from leads.models import Lead
from sync.skiptrace.base import (
    SkipTraceError,
    SkipTraceProvider,
    TraceAddress,
    TraceRequest,
    TraceStatus,
    call_cost,
    chunked,
)
from sync.skiptrace.batchdata import BatchDataProvider
from sync.skiptrace.window import contacts_to_add, owners_due_for_trace
from sync.skiptrace_models import LeadContactPoint, LeadSkipTrace, PermissibleUseAcknowledgement, SkipTraceCall


class SkipTraceRefused(Exception):
    """Tracing cannot start (no permissible-use acknowledgement, no provider configured); the message says why."""


def skiptrace_provider() -> SkipTraceProvider:
    if settings.SKIPTRACE_PROVIDER != "batchdata":
        raise SkipTraceRefused(f"unknown SKIPTRACE_PROVIDER {settings.SKIPTRACE_PROVIDER!r} (known: batchdata)")
    try:
        cost = Decimal(settings.SKIPTRACE_COST_PER_HIT)
    except InvalidOperation:
        raise SkipTraceRefused("set SKIPTRACE_COST_PER_HIT to your plan's price per hit, e.g. 0.12") from None
    try:
        return BatchDataProvider(
            settings.BATCHDATA_API_BASE_URL,
            settings.BATCHDATA_API_TOKEN,
            cost_per_hit=cost,
            timeout=settings.HTTP_TIMEOUT_SECONDS,
        )
    except SkipTraceError as exc:
        raise SkipTraceRefused(str(exc)) from exc


def trace_subjects(leads: Sequence[Lead]) -> dict[str, tuple[Lead, TraceRequest | None, str]]:
    """Per lead key: the lead, the request that traces its owner (None when it cannot be asked), and why not."""
    subjects = {}
    for lead in leads:
        prop = lead.property
        key = f"lead-{lead.id}"
        try:
            if prop.street and (prop.zip or (prop.city and prop.state)):
                address = TraceAddress(street=prop.street, city=prop.city, state=prop.state, zip_code=prop.zip)
                subjects[key] = (lead, TraceRequest(key=key, address=address), "")
            else:
                subjects[key] = (
                    lead,
                    TraceRequest(key=key, apn=prop.parcel_id_raw, county=prop.county, state=prop.state),
                    "",
                )
        except ValueError as exc:
            subjects[key] = (lead, None, str(exc))
    return subjects


@dataclass
class TraceReport:
    calls: int = 0
    traced: int = 0
    hits: int = 0
    cost: Decimal = Decimal(0)
    contacts_added: int = 0
    not_due: list[tuple[int, datetime.datetime]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    failed_calls: list[str] = field(default_factory=list)


def lead_skip_trace(
    *, leads: Sequence[Lead], provider: SkipTraceProvider, now: datetime.datetime | None = None
) -> TraceReport:
    """Trace the owners of `leads` not traced inside SKIPTRACE_WINDOW_DAYS; one billable call per provider batch."""
    if not PermissibleUseAcknowledgement.objects.exists():
        raise SkipTraceRefused(
            "nobody has acknowledged permissible use (DPPA/GLBA) yet: add one in admin > Permissible use "
            "acknowledgements before the first trace"
        )
    now = now or timezone.now()
    report = TraceReport()
    subjects = trace_subjects(leads)
    ids = [lead.id for lead, _, _ in subjects.values()]
    last = dict(
        LeadSkipTrace.objects.filter(lead_id__in=ids, status__in=[TraceStatus.HIT, TraceStatus.NO_HIT])
        .values_list("lead_id")
        .annotate(at=Max("traced_at"))
    )
    window = datetime.timedelta(days=settings.SKIPTRACE_WINDOW_DAYS)
    due = owners_due_for_trace(last_traced={k: last.get(s[0].id) for k, s in subjects.items()}, now=now, window=window)
    report.not_due = [(subjects[key][0].id, when) for key, when in due.not_due]
    requests = []
    for key in due.due:
        lead, request, why = subjects[key]
        if request is None:
            report.skipped.append((lead.id, why))
        else:
            requests.append(request)
    for chunk in chunked(requests, provider.batch_size):
        _trace_chunk(chunk=chunk, subjects=subjects, provider=provider, now=now, report=report)
    return report


def _trace_chunk(*, chunk, subjects, provider, now, report) -> None:
    call = SkipTraceCall.objects.create(provider=provider.name, requests=len(chunk), started_at=now)
    report.calls += 1
    try:
        results = provider.trace(chunk)
    except SkipTraceError as exc:
        call.error, call.finished_at = str(exc), timezone.now()
        call.save(update_fields=["error", "finished_at"])
        report.failed_calls.append(str(exc))
        return
    cost = call_cost(results, provider.cost_per_hit)
    call.hits, call.no_hits, call.errors, call.cost = cost.hits, cost.no_hits, cost.errors, cost.cost
    call.finished_at = timezone.now()
    call.save(update_fields=["hits", "no_hits", "errors", "cost", "finished_at"])
    report.traced += len(results)
    report.hits += cost.hits
    report.cost += cost.cost
    lead_ids = [subjects[r.key][0].id for r in results]
    existing = defaultdict(lambda: {"phone": [], "email": []})
    for lead_id, kind, value in LeadContactPoint.objects.filter(lead_id__in=lead_ids).values_list(
        "lead_id", "kind", "value"
    ):
        existing[lead_id][kind].append(value)
    traces, points = [], []
    for result in results:
        lead_id = subjects[result.key][0].id
        persons = [dataclasses.asdict(p) for p in result.persons]
        traces.append(
            LeadSkipTrace(
                lead_id=lead_id, call=call, status=result.status, persons=persons, message=result.message, traced_at=now
            )
        )
        phones, emails = contacts_to_add(
            existing_phones=existing[lead_id]["phone"],
            existing_emails=existing[lead_id]["email"],
            persons=result.persons,
        )
        points += [
            LeadContactPoint(
                lead_id=lead_id,
                kind="phone",
                value=p.number,
                phone_type=p.type,
                dnc=p.dnc,
                tcpa=p.tcpa,
                rank=p.rank,
                source=provider.name,
            )
            for p in phones
        ]
        points += [
            LeadContactPoint(lead_id=lead_id, kind="email", value=e.address, rank=e.rank, source=provider.name)
            for e in emails
        ]
    LeadSkipTrace.objects.bulk_create(traces)
    LeadContactPoint.objects.bulk_create(points, ignore_conflicts=True)
    report.contacts_added += len(points)
