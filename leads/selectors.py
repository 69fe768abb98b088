"""Lead read paths: the set-based gathering of every active property's scoring signals."""

import datetime
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, QuerySet, Subquery, Value
from django.utils import timezone

from leads.models import LeadScoreHistory
from leads.scoring import PropertySignals, ScoringParams
from properties.models import (
    CodeViolation,
    Foreclosure,
    Listing,
    PriceChange,
    Property,
    PropertySource,
    TaxDelinquency,
    TaxSale,
    Valuation,
)

CHUNK_SIZE = 2000
# A record whose status matches one of these is no longer a live distress signal.
CLOSED_TAX_SALE = r"cancel|redeem|struck|withdrawn|closed|sold"
CLOSED_FORECLOSURE = r"dismiss|cancel|closed|withdrawn|redeem|disposed|sold"
CLOSED_VIOLATION = r"closed|resolved|complied|dismiss|void"


@dataclass(frozen=True)
class PropertyFacts:
    property_id: int
    signals: PropertySignals
    living_sqft: int | None
    year_built: int | None


PROPERTY_COLUMNS = (
    "id", "zip", "is_absentee", "is_vacant", "living_sqft", "year_built", "owner__property_count",
    "owner__distressed_count",
)  # fmt: skip


def _first_per_property(rows: Iterable[tuple]) -> dict[int, tuple]:
    """The first row per property id (each row's first value), without it."""
    first: dict[int, tuple] = {}
    for row in rows:
        if row[0] not in first:
            first[row[0]] = row[1:]
    return first


def _chunk_facts(
    rows: list[tuple], *, today: datetime.date, params: ScoringParams, demand: Mapping[str, int]
) -> list[PropertyFacts]:
    """Eight aggregate queries over the chunk's id range, joined in Python (rows are PROPERTY_COLUMNS tuples)."""
    in_range = {"property_id__gte": rows[0][0], "property_id__lte": rows[-1][0]}
    sales = dict(
        TaxSale.objects.filter(**in_range)
        .filter(Q(sale_date__gte=today) | Q(sale_date__isnull=True))
        .exclude(deed_status__iregex=CLOSED_TAX_SALE)
        .order_by()
        .values("property_id")
        .annotate(next_sale=Min("sale_date"))
        .values_list("property_id", "next_sale")
    )
    filed_since = today - datetime.timedelta(days=params.foreclosure_filing_window_days)
    foreclosures = {
        row["property_id"]: row
        for row in Foreclosure.objects.filter(**in_range)
        .filter(Q(auction_date__gte=today) | Q(auction_date__isnull=True, filing_date__gte=filed_since))
        .exclude(status__iregex=CLOSED_FORECLOSURE)
        .order_by()
        .values("property_id")
        .annotate(next_auction=Min("auction_date"), last_filing=Max("filing_date"))
    }
    violations = dict(
        CodeViolation.objects.filter(**in_range, closed_at__isnull=True)
        .exclude(status__iregex=CLOSED_VIOLATION)
        .order_by()
        .values("property_id")
        .annotate(n=Count("id"))
        .values_list("property_id", "n")
    )
    valuations = _first_per_property(
        Valuation.objects.filter(**in_range)
        .order_by("property_id", F("tax_year").desc(nulls_last=True), "-id")
        .values_list("property_id", "market_value", "equity_percent")
    )
    delinquencies = _delinquencies(in_range, today=today, params=params)
    listings = _first_per_property(
        Listing.objects.filter(**in_range, status=Listing.Status.ACTIVE)
        .order_by("property_id", F("listed_at").desc(nulls_last=True), "-id")
        .values_list("property_id", "list_price")
    )
    cut_since = datetime.datetime.combine(
        today - datetime.timedelta(days=params.price_reduction_window_days),
        datetime.time.min,
        tzinfo=timezone.get_current_timezone(),
    )
    reductions = {
        row["listing__property_id"]: row
        for row in PriceChange.objects.filter(
            listing__property_id__gte=in_range["property_id__gte"],
            listing__property_id__lte=in_range["property_id__lte"],
            listing__status=Listing.Status.ACTIVE,
            new_price__lt=F("old_price"),
            changed_at__gte=cut_since,
        )
        .order_by()
        .values("listing__property_id")
        .annotate(n=Count("id"), last=Max("changed_at"))
    }

    def days(date):
        return None if date is None else (date - today).days

    facts = []
    none = (None, None)
    no_delinquency = Delinquency()
    for pid, zip_code, is_absentee, is_vacant, living_sqft, year_built, owner_parcels, owner_distressed in rows:
        market_value, equity_percent = valuations.get(pid, none)
        delinquency = delinquencies.get(pid, no_delinquency)
        listing = listings.get(pid)
        fc = foreclosures.get(pid)
        cut = reductions.get(pid)
        if fc is None:  # most properties have no foreclosure, no price cut, no tax sale
            has_foreclosure, days_to_auction, filed_days_ago = False, None, None
        else:
            last_filing = fc["last_filing"]
            has_foreclosure, days_to_auction = bool(fc), days(fc["next_auction"])
            filed_days_ago = None if last_filing is None else -days(last_filing)
        if cut is None:
            price_reductions, reduction_days_ago = 0, None
        else:
            last_cut = cut["last"]
            price_reductions = cut["n"]
            reduction_days_ago = None if last_cut is None else -days(timezone.localdate(last_cut))
        sale = sales.get(pid)
        signals = PropertySignals(
            has_active_tax_sale=pid in sales,
            days_to_tax_sale=None if sale is None else (sale - today).days,
            has_foreclosure=has_foreclosure,
            days_to_auction=days_to_auction,
            foreclosure_filed_days_ago=filed_days_ago,
            open_violations=violations.get(pid, 0),
            tax_delinquent=delinquency.open,
            tax_delinquent_since=delinquency.since,
            tax_delinquent_amount=delinquency.amount,
            tax_delinquency_ended=delinquency.ended,
            is_absentee=is_absentee,
            is_vacant=is_vacant,
            owner_parcels=owner_parcels or 0,
            owner_distressed_parcels=owner_distressed or 0,
            price_reductions=price_reductions,
            latest_reduction_days_ago=reduction_days_ago,
            equity_percent=equity_percent,
            market_value=market_value,
            list_price=None if listing is None else listing[0],
            zip=zip_code,
            buyer_demand=demand.get(zip_code, 0),
        )
        facts.append(PropertyFacts(pid, signals, living_sqft, year_built))
    return facts


@dataclass
class Delinquency:
    """A property's tax delinquencies, as scoring reads them."""

    open: bool = False
    since: int | None = None
    amount: Decimal | None = None
    ended: str = ""


def _delinquencies(in_range: dict, *, today: datetime.date, params: ScoringParams) -> dict[int, Delinquency]:
    """Per property: open delinquencies (earliest year, amount owed), else why those on record no longer count.
    One stands until a source resolves it or, with tax_delinquency_unlisted_days, until its source has not listed
    it for that long (a record no source lists, e.g. typed in, stands)."""
    records = TaxDelinquency.objects.filter(**in_range).order_by()
    if params.tax_delinquency_unlisted_days:
        cutoff = datetime.datetime.combine(
            today - datetime.timedelta(days=params.tax_delinquency_unlisted_days),
            datetime.time.min,
            tzinfo=timezone.get_current_timezone(),
        )
        unlisted = PropertySource.objects.filter(
            source_id=OuterRef("source_id"), external_id=OuterRef("external_id"), last_seen_at__lt=cutoff
        )
        records = records.annotate(stale=Exists(unlisted))
    else:
        records = records.annotate(stale=Value(False))
    found: dict[int, Delinquency] = {}
    unlisted = f"not listed by its source for {params.tax_delinquency_unlisted_days} days"
    for pid, is_open, stale, year, amount, status in records.values_list(
        "property_id", "is_open", "stale", "tax_year", "amount_owed", "status"
    ):
        d = found.setdefault(pid, Delinquency())
        if is_open and not stale:
            d.open = True
            d.since = year if d.since is None or (year is not None and year < d.since) else d.since
            d.amount = amount if d.amount is None else d.amount + (amount or 0)
        elif not d.ended:
            d.ended = unlisted if is_open else f"resolved ({status})" if status else "resolved"
    for d in found.values():
        if d.open:
            d.ended = ""
    return found


def property_facts_chunks(
    *,
    today: datetime.date,
    params: ScoringParams,
    parcel_id: str | None = None,
    property_ids: Iterable[int] | QuerySet | None = None,
    buyer_demand_by_zip: Mapping[str, int] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[list[PropertyFacts]]:
    """Every active property's scoring facts, in id-ordered chunks (9 queries per chunk)."""
    properties = Property.objects.filter(is_active=True)
    if parcel_id is not None:
        properties = properties.filter(parcel_id=parcel_id)
    if property_ids is not None:
        properties = properties.filter(id__in=property_ids)
    last_id = 0
    while True:
        rows = list(properties.filter(id__gt=last_id).order_by("id").values_list(*PROPERTY_COLUMNS)[:chunk_size])
        if not rows:
            return
        last_id = rows[-1][0]
        yield _chunk_facts(rows, today=today, params=params, demand=buyer_demand_by_zip or {})


def lead_ids_new_tier_a(*, today: datetime.date) -> list[int]:
    """Leads whose snapshot today is Tier A and whose previous snapshot (if any) was not."""
    previous = LeadScoreHistory.objects.filter(lead=OuterRef("lead"), snapshot_date__lt=today).order_by(
        "-snapshot_date"
    )
    return list(
        LeadScoreHistory.objects.filter(snapshot_date=today, tier="A")
        .annotate(previous_tier=Subquery(previous.values("tier")[:1]))
        .filter(Q(previous_tier__isnull=True) | ~Q(previous_tier="A"))
        .order_by("lead_id")
        .values_list("lead_id", flat=True)
    )
