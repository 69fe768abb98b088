"""Return per list source and per signal stack: leads, contacted, appointments, contracts, closed, revenue, cost
per deal and days to contract, by the month the lead was created. One grouped query each (set-based).

What the counts mean (the product has no appointment record yet): contacted = the lead left "new"; appointments =
it reached negotiating or further (an offer on the table); contracts = it has an under-contract or won outcome;
closed = a won outcome; revenue = the won outcomes' fees; days to contract = from the lead's creation to its first
contract. A lead listed by several sources counts for each of them. Cost = the source's cost per month for each
month shown, plus its cost per record for the leads counted (unknown when the source has no cost set).
"""

import datetime
from decimal import Decimal

from django.db.models import Avg, Count, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from leads.choices import CONVERTED_STATUSES, LeadStatus
from leads.models import Lead, Outcome
from properties.models import PropertySource

APPOINTMENT_STATUSES = (LeadStatus.NEGOTIATING, *CONVERTED_STATUSES)


def _first_contract(lead_id: OuterRef):
    """The id of the lead's first converted outcome (by contract date, else the day it was recorded)."""
    return (
        Outcome.objects.filter(lead_id=lead_id, kind__in=CONVERTED_STATUSES)
        .order_by(Coalesce("contract_date", "occurred_on"), "id")
        .values("id")[:1]
    )


def _measures(lead: str = "") -> dict:
    """The KPI aggregates over leads reached by the `lead` path prefix ("" on Lead itself)."""
    converted = Q(**{f"{lead}outcomes__kind__in": CONVERTED_STATUSES})
    won = Q(**{f"{lead}outcomes__kind": LeadStatus.CLOSED_WON})
    ids = f"{lead}id"
    return {
        "leads": Count(ids, distinct=True),
        "contacted": Count(ids, distinct=True, filter=~Q(**{f"{lead}status": LeadStatus.NEW})),
        "appointments": Count(ids, distinct=True, filter=Q(**{f"{lead}status__in": APPOINTMENT_STATUSES}) | converted),
        "contracts": Count(ids, distinct=True, filter=converted),
        "closed": Count(ids, distinct=True, filter=won),
        "revenue": Coalesce(Sum(f"{lead}outcomes__fee", filter=won), Decimal(0)),
        # Each lead's first contract once (its contract date when recorded), not every converted outcome row.
        "days_to_contract": Avg(
            ExpressionWrapper(
                Coalesce(f"{lead}outcomes__contract_date", f"{lead}outcomes__occurred_on")
                - F(f"{lead}created_at__date"),
                output_field=DurationField(),
            ),
            filter=Q(**{f"{lead}outcomes__id": Subquery(_first_contract(OuterRef(ids)))}),
        ),
    }


def _created(lead: str, *, month: datetime.date | None, since: datetime.date | None) -> Q:
    """Leads created in `month` (any day of it) and on or after `since`, in the broker's time zone."""
    q = Q()
    if month is not None:
        first = month.replace(day=1)
        following = (first + datetime.timedelta(days=32)).replace(day=1)
        q &= Q(**{f"{lead}created_at__gte": _midnight(first), f"{lead}created_at__lt": _midnight(following)})
    if since is not None:
        q &= Q(**{f"{lead}created_at__gte": _midnight(since)})
    return q


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _days(rows: list[dict]) -> list[dict]:
    for row in rows:
        days = row.pop("days_to_contract")
        row["days_to_contract"] = round(days.total_seconds() / 86400, 1) if days is not None else None
    return rows


def kpis_by_signal_stack(*, month: datetime.date | None = None, since: datetime.date | None = None) -> list[dict]:
    """Per month and stack count (the lead's distinct distress signals now), newest first: the KPIs. `month` (any
    day of it) and `since` keep the leads created then."""
    rows = (
        Lead.objects.filter(_created("", month=month, since=since))
        .annotate(month=TruncMonth("created_at"))
        .order_by()
        .values("month", "stack_count")
        .annotate(**_measures())
        .order_by("-month", "-stack_count")
    )
    return _days(list(rows))


def kpis_by_source(*, month: datetime.date | None = None, since: datetime.date | None = None) -> list[dict]:
    """Per month and list source, newest month first: the KPIs, the source's cost and the cost per closed deal.
    One query: each (source, parcel) pair counts once however many records the source holds about the parcel (its
    first record: none before it, an anti-join that PostgreSQL hashes; a subquery per record read each pair's
    records again, 1.15 s -> 0.48 s at 100,000 parcels). `month` (any day of it) and `since` keep the leads created
    then."""
    earlier_record = PropertySource.objects.filter(
        property_id=OuterRef("property_id"), source_id=OuterRef("source_id"), id__lt=OuterRef("id")
    )
    lead = "property__lead__"
    rows = _days(
        list(
            PropertySource.objects.filter(~Exists(earlier_record), property__lead__isnull=False)
            .filter(_created(lead, month=month, since=since))
            .annotate(month=TruncMonth(f"{lead}created_at"))
            .order_by()
            .values("month", "source_id", "source__name", "source__cost_per_month", "source__cost_per_record")
            .annotate(**_measures(lead))
            .order_by("-month", "source__name")
        )
    )
    for row in rows:
        row["source"] = row.pop("source__name")
        per_month, per_record = row.pop("source__cost_per_month"), row.pop("source__cost_per_record")
        known = per_month is not None or per_record is not None
        cost = (per_month or 0) + (per_record or 0) * row["leads"] if known else None
        row["cost"] = cost
        row["cost_per_deal"] = cost / row["closed"] if cost is not None and row["closed"] else None
    return rows
