"""Skip tracing leads' owners through the configured provider: who is due, one billable call per batch, results kept.

A trace is of an Owner (issue 20), asked by one of its leads' property, and its phones and emails are LeadContactPoint
rows on the owner; a lead whose parcel has no resolved owner is traced, and keeps its contacts, on its own.
`trace_subjects()` is the one place that says whom a lead's trace is for; the window counts per owner.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db.models import F, Max, Q
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


@dataclass
class TraceSubject:
    """Whom one trace request is for: an owner (all of its leads given) or a lead whose parcel has no owner."""

    leads: list[Lead]
    owner_id: int | None
    request: TraceRequest | None = None  # None: none of its properties can be asked
    asked: Lead | None = None  # the lead whose property is asked (the first that can be)
    why: str = ""


def _request_for(key: str, lead: Lead, names: tuple[str, str]) -> TraceRequest:
    prop = lead.property
    first, last = names
    if prop.street and (prop.zip or (prop.city and prop.state)):
        address = TraceAddress(street=prop.street, city=prop.city, state=prop.state, zip_code=prop.zip)
        return TraceRequest(key=key, address=address, owner_first=first, owner_last=last)
    return TraceRequest(
        key=key, apn=prop.parcel_id_raw, county=prop.county, state=prop.state, owner_first=first, owner_last=last
    )


def _owner_names(owner) -> tuple[str, str]:
    """A person owner's first and last name (helps the provider pick the right person); blank for companies."""
    people = (owner.people or []) if owner is not None and owner.kind in ("individual", "joint", "estate") else []
    return (people[0].get("first", ""), people[0].get("last", "")) if people else ("", "")


def trace_subjects(leads: Sequence[Lead]) -> dict[str, TraceSubject]:
    """Per trace key ("owner-<id>", or "lead-<id>" for a parcel without a resolved owner): its leads, the request
    that traces the owner (by the first of its leads' properties that can be asked) and, when none can, why not.
    Leads need `property__owner` loaded."""
    subjects: dict[str, TraceSubject] = {}
    for lead in leads:
        owner_id = lead.property.owner_id
        key = f"owner-{owner_id}" if owner_id else f"lead-{lead.id}"
        subject = subjects.setdefault(key, TraceSubject(leads=[], owner_id=owner_id))
        subject.leads.append(lead)
        if subject.request is not None:
            continue
        try:
            subject.request = _request_for(key, lead, _owner_names(lead.property.owner if owner_id else None))
            subject.asked, subject.why = lead, ""
        except ValueError as exc:
            subject.why = subject.why or str(exc)
    return subjects


def contact_points_by_holder(
    *, owner_ids: Iterable[int], lead_ids: Iterable[int]
) -> dict[tuple[str, int], list[LeadContactPoint]]:
    """The phones and emails of these owners, ("owner", id), and of these leads whose parcel has no owner,
    ("lead", id), oldest first, in one query. A lead's own ones kept from before its parcel had an owner count for
    that owner (readers take both)."""
    owner_ids, lead_ids = list(owner_ids), list(lead_ids)
    points = (
        LeadContactPoint.objects.filter(
            Q(owner_id__in=owner_ids) | Q(lead__property__owner_id__in=owner_ids) | Q(lead_id__in=lead_ids)
        )
        .annotate(lead_owner=F("lead__property__owner_id"))
        .order_by("pk")
    )
    held: dict[tuple[str, int], list[LeadContactPoint]] = defaultdict(list)
    for point in points:
        owner_id = point.owner_id or point.lead_owner
        held[("owner", owner_id) if owner_id else ("lead", point.lead_id)].append(point)
    return held


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
    """Trace the owners of `leads` (each owner once, whatever number of its leads are given) not traced inside
    SKIPTRACE_WINDOW_DAYS; one billable call per provider batch. Leads need `property__owner` loaded."""
    if not PermissibleUseAcknowledgement.objects.exists():
        raise SkipTraceRefused(
            "nobody has acknowledged permissible use (DPPA/GLBA) yet: add one in admin > Permissible use "
            "acknowledgements before the first trace"
        )
    now = now or timezone.now()
    report = TraceReport()
    subjects = trace_subjects(leads)
    last = _last_traced(subjects)
    window = datetime.timedelta(days=settings.SKIPTRACE_WINDOW_DAYS)
    due = owners_due_for_trace(last_traced=last, now=now, window=window)
    report.not_due = [(lead.id, when) for key, when in due.not_due for lead in subjects[key].leads]
    requests = []
    for key in due.due:
        subject = subjects[key]
        if subject.request is None:
            report.skipped += [(lead.id, subject.why) for lead in subject.leads]
        else:
            requests.append(subject.request)
    for chunk in chunked(requests, provider.batch_size):
        _trace_chunk(chunk=chunk, subjects=subjects, provider=provider, now=now, report=report)
    return report


def _last_traced(subjects: dict[str, TraceSubject]) -> dict[str, datetime.datetime | None]:
    """Each subject's last hit or no-hit: an owner's by any of its traces (or a trace of one of these leads from
    before the owner was resolved), a lead's by its own. One query."""
    owner_key = {s.owner_id: key for key, s in subjects.items() if s.owner_id}
    lead_key = {lead.id: key for key, s in subjects.items() for lead in s.leads}
    last: dict[str, datetime.datetime | None] = dict.fromkeys(subjects)
    rows = (
        LeadSkipTrace.objects.filter(
            Q(owner_id__in=list(owner_key)) | Q(lead_id__in=list(lead_key)),
            status__in=[TraceStatus.HIT, TraceStatus.NO_HIT],
        )
        .values_list("owner_id", "lead_id")
        .annotate(at=Max("traced_at"))
    )
    for owner_id, lead_id, at in rows:
        # An owner's traces count for it; a trace made for another owner (the parcel changed hands) does not.
        key = owner_key.get(owner_id) if owner_id is not None else lead_key.get(lead_id)
        if key is not None and (last[key] is None or at > last[key]):
            last[key] = at
    return last


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
    traced = [subjects[r.key] for r in results]
    held = contact_points_by_holder(
        owner_ids=[s.owner_id for s in traced if s.owner_id], lead_ids=[s.asked.id for s in traced if not s.owner_id]
    )
    existing = defaultdict(lambda: {"phone": [], "email": []})
    for subject, result in zip(traced, results, strict=True):
        holder = ("owner", subject.owner_id) if subject.owner_id else ("lead", subject.asked.id)
        for point in held.get(holder, []):
            existing[result.key][point.kind].append(point.value)
    traces, points = [], []
    for result, subject in zip(results, traced, strict=True):
        persons = [dataclasses.asdict(p) for p in result.persons]
        traces.append(
            LeadSkipTrace(
                lead_id=subject.asked.id,
                owner_id=subject.owner_id,
                call=call,
                status=result.status,
                persons=persons,
                message=result.message,
                traced_at=now,
            )
        )
        phones, emails = contacts_to_add(
            existing_phones=existing[result.key]["phone"],
            existing_emails=existing[result.key]["email"],
            persons=result.persons,
        )
        litigator_phones = {p.number for person in result.persons if person.litigator for p in person.phones}
        holder = {"owner_id": subject.owner_id} if subject.owner_id else {"lead_id": subject.asked.id}
        points += [
            LeadContactPoint(
                **holder,
                kind="phone",
                value=p.number,
                phone_type=p.type,
                dnc=p.dnc,
                tcpa=True if p.number in litigator_phones else p.tcpa,
                rank=p.rank,
                source=provider.name,
            )
            for p in phones
        ]
        points += [
            LeadContactPoint(**holder, kind="email", value=e.address, rank=e.rank, source=provider.name) for e in emails
        ]
    LeadSkipTrace.objects.bulk_create(traces)
    LeadContactPoint.objects.bulk_create(points, ignore_conflicts=True)
    report.contacts_added += len(points)
