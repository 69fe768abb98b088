"""Cash buyers discovered from who is buying: recorded purchases in, buyers with an inferred buy box out. Pure.

Rules, in this order:
1. Purchases: transfers that sales_rules calls a purchase (`is_purchase`: not a nominal, family, gift,
   corrective or self transfer; distressed and quitclaim purchases count), recorded on or before `as_of` and
   after `lookback_months` (24) before it.
2. One buyer per grantee: the owner key when known (issue 20), else `party_names.party_key` of the grantee's
   name. Lenders (credit bids at foreclosure, REO take-backs) and government are never buyers.
3. Cash: where the county publishes mortgages (`mortgages_published`), a purchase with a mortgage recorded
   (`mortgage_amount` above $0) is financed and is not evidence; with none it is a cash purchase. Where the
   county publishes none, the purchase is evidence with cash unknown (`null`), and the buyer says so.
4. Discovered: a company (party_names: LLC, INC, HOLDINGS, ...) with at least one cash-or-unknown purchase,
   or anyone with `min_purchases` (2) of them within `within_months` (12) calendar months of each other.
5. Buy box from the evidence: `zips`, the smallest set holding at least `zip_coverage` (70%) of the purchases
   that have a zip (most purchases first, then the zip: deterministic); `min_price`/`max_price`, the lowest and
   highest single-parcel prices (a multi-parcel document's price is for all its parcels and is left out);
   `property_types`, the types bought, most first (unknown types are no preference and are left out).
6. Style: a purchase is flipped when the buyer (same key, as grantor) transfers that parcel again within
   `resale_months` (12) of buying it, held when it has not within 12 months by `as_of`, and undecided when it is
   younger and not yet resold. `flipper` when at least `flipper_share` (half) of the decided purchases were
   flipped, `holder` when fewer, `unknown` when none is decided yet.
Buyers are listed most purchases first, then the latest purchase first, then by name.

`DiscoveredBuyer.as_json()` is the promised `discover_buyers --json` item: `{"name", "purchases", "zips",
"min_price", "max_price", "property_types", "style"}` with each purchase as evidence (document, parcel, zip,
date, price, type, parcels on the document, cash, resold on); `as_json(explain=True)` adds the key, the kind,
the reasons and the cash status. `buy_box()` gives the Buyer fields "Create buyer" fills.

Set-based, at county scale: the candidates are one GROUP BY over the Sale table (grantee key, `COUNT(*)`,
`bool_or(is_company)`, `MAX(sale_date) - MIN(sale_date)`, filtered on purchases with no mortgage where
published); only those grantees' purchases and the later sales of the same parcels (grantor key = grantee
key) are read into this module.

How to integrate: a selector builds `Transfer`s from the Sale table (grantor/grantee owner keys from issue
20, `is_purchase` from the stored sales_rules flags, the data source's "publishes mortgages" setting);
`manage.py discover_buyers --json` prints `[b.as_json() for b in discover_buyers(...)]`; an admin list of
DiscoveredBuyer rows (stored by key, refreshed nightly) with a "Create buyer" action (`permissions=`) that
writes `buy_box()` onto a new Buyer, or links the existing Buyer with the same owner key, name or GoHighLevel
contact instead of duplicating it.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from leads.comps import UNKNOWN_TYPES, months_before
from properties.party_names import PartyKind, party_key, party_kind

NOT_BUYERS = (PartyKind.LENDER, PartyKind.GOVERNMENT)


@dataclass(frozen=True)
class Transfer:
    document_id: str
    parcel_id: str
    sale_date: datetime.date
    grantee: str
    grantor: str = ""
    grantee_key: str = ""  # owner keys (issue 20) when resolved; else the names are keyed
    grantor_key: str = ""
    zip: str = ""
    price: Decimal | None = None
    property_type: str = "other"
    mortgage_amount: Decimal | None = None
    mortgages_published: bool = False  # does this county publish mortgages at all
    parcel_count: int = 1
    is_purchase: bool = True  # sales_rules.SaleAssessment.is_purchase

    @property
    def buyer_key(self) -> str:
        return self.grantee_key or party_key(self.grantee)

    @property
    def seller_key(self) -> str:
        return self.grantor_key or party_key(self.grantor)

    @property
    def cash(self) -> bool | None:
        """True: no mortgage recorded where the county publishes them; False: financed; None: not published."""
        if not self.mortgages_published:
            return None
        return not (self.mortgage_amount and self.mortgage_amount > 0)


@dataclass(frozen=True)
class DiscoveryParams:
    lookback_months: int = 24
    min_purchases: int = 2
    within_months: int = 12
    zip_coverage: Decimal = Decimal("0.70")
    resale_months: int = 12
    flipper_share: Decimal = Decimal("0.5")

    def __post_init__(self):
        months = (self.lookback_months, self.within_months, self.resale_months)
        if min(months) < 1 or self.min_purchases < 1:
            raise ValueError("lookback_months, within_months, resale_months and min_purchases must be at least 1")
        if not 0 < self.zip_coverage <= 1 or not 0 < self.flipper_share <= 1:
            raise ValueError("zip_coverage and flipper_share must be shares in (0, 1], e.g. 0.70")


def _dollars(value: Decimal | None) -> int | None:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP)) if value is not None else None


@dataclass(frozen=True)
class Evidence:
    transfer: Transfer
    resold_on: datetime.date | None

    def as_json(self) -> dict:
        t = self.transfer
        return {
            "document_id": t.document_id,
            "parcel_id": t.parcel_id,
            "zip": t.zip,
            "sale_date": t.sale_date.isoformat(),
            "price": _dollars(t.price),
            "property_type": t.property_type,
            "parcel_count": t.parcel_count,
            "cash": t.cash,
            "resold_on": self.resold_on.isoformat() if self.resold_on else None,
        }


@dataclass(frozen=True)
class DiscoveredBuyer:
    key: str
    name: str
    kind: PartyKind
    purchases: tuple[Evidence, ...]
    zips: tuple[str, ...]
    min_price: Decimal | None
    max_price: Decimal | None
    property_types: tuple[str, ...]
    style: str  # flipper, holder, unknown
    reasons: tuple[str, ...]

    @property
    def cash(self) -> bool | None:
        """True when some purchase is a confirmed cash purchase; None when no county publishes mortgages."""
        return True if any(e.transfer.cash for e in self.purchases) else None

    def as_json(self, *, explain: bool = False) -> dict:
        result = {
            "name": self.name,
            "purchases": [e.as_json() for e in self.purchases],
            "zips": list(self.zips),
            "min_price": _dollars(self.min_price),
            "max_price": _dollars(self.max_price),
            "property_types": list(self.property_types),
            "style": self.style,
        }
        if explain:
            result.update(key=self.key, kind=self.kind.value, cash=self.cash, reasons=list(self.reasons))
        return result

    def buy_box(self) -> dict:
        """The Buyer fields "Create buyer" fills (buyers.models.Buyer)."""
        strategies = {"flipper": ["flip"], "holder": ["rental"]}.get(self.style, [])
        return {
            "company": self.name if self.kind in (PartyKind.COMPANY, PartyKind.TRUST) else "",
            "min_price": self.min_price,
            "max_price": self.max_price,
            "property_types": list(self.property_types),
            "target_zips": list(self.zips),
            "strategies": strategies,
            "cash_buyer": self.cash is True,
            "notes": "Discovered from recorded purchases: " + "; ".join(self.reasons),
        }


def covering_zips(zips: Iterable[str], coverage: Decimal) -> tuple[str, ...]:
    """The smallest set of zips holding at least `coverage` of the (non-empty) zips given."""
    counts = Counter(z for z in zips if z)
    total, covered, chosen = sum(counts.values()), 0, []
    for zip_code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        if covered >= coverage * total:
            break
        chosen.append(zip_code)
        covered += count
    return tuple(chosen)


def _most_in_window(dates: list[datetime.date], months: int) -> int:
    """The most purchases dated within `months` calendar months of each other."""
    dates = sorted(dates)
    best, start = 0, 0
    for end, day in enumerate(dates):
        while dates[start] < months_before(day, months):
            start += 1
        best = max(best, end - start + 1)
    return best


def _style(evidence: list[Evidence], *, as_of: datetime.date, params: DiscoveryParams) -> tuple[str, str]:
    flipped = held = 0
    for e in evidence:
        bought = e.transfer.sale_date
        if e.resold_on and months_before(e.resold_on, params.resale_months) <= bought:
            flipped += 1
        elif months_before(as_of, params.resale_months) >= bought:
            held += 1
    decided = flipped + held
    if not decided:
        return "unknown", f"None of the purchases is {params.resale_months} months old or resold yet"
    style = "flipper" if flipped >= params.flipper_share * decided else "holder"
    return style, f"Resold {flipped} of {decided} purchases within {params.resale_months} months: {style}"


def _buyer(
    key: str, purchases: list[Transfer], resales: dict, *, as_of: datetime.date, params: DiscoveryParams
) -> DiscoveredBuyer | None:
    purchases.sort(key=lambda t: (t.sale_date, t.document_id, t.parcel_id))
    name = purchases[-1].grantee
    kind = party_kind(name)
    evidence_transfers = [t for t in purchases if t.cash is not False]
    if kind in NOT_BUYERS or not evidence_transfers:
        return None
    reasons = []
    if kind is PartyKind.COMPANY:
        reasons.append("A company")
    most = _most_in_window([t.sale_date for t in evidence_transfers], params.within_months)
    if most >= params.min_purchases:
        reasons.append(f"{most} purchases within {params.within_months} months")
    if not reasons:
        return None
    published = [t for t in purchases if t.cash is not None]
    if published:
        cash = sum(1 for t in published if t.cash)
        reasons.append(f"No mortgage recorded on {cash} of {len(published)} purchases")
    else:
        reasons.append("The county publishes no mortgages: cash not confirmed")
    evidence = []
    for t in evidence_transfers:
        later = [day for day in resales.get((key, t.parcel_id), ()) if day > t.sale_date]
        evidence.append(Evidence(t, min(later) if later else None))
    style, style_reason = _style(evidence, as_of=as_of, params=params)
    reasons.append(style_reason)
    prices = [t.price for t in evidence_transfers if t.parcel_count == 1 and t.price is not None and t.price > 0]
    types = Counter(t.property_type for t in evidence_transfers if t.property_type not in UNKNOWN_TYPES)
    return DiscoveredBuyer(
        key=key,
        name=name,
        kind=kind,
        purchases=tuple(evidence),
        zips=covering_zips((t.zip for t in evidence_transfers), params.zip_coverage),
        min_price=min(prices) if prices else None,
        max_price=max(prices) if prices else None,
        property_types=tuple(t for t, _ in sorted(types.items(), key=lambda item: (-item[1], item[0]))),
        style=style,
        reasons=tuple(reasons),
    )


def discover_buyers(
    transfers: Iterable[Transfer], *, as_of: datetime.date, params: DiscoveryParams | None = None
) -> list[DiscoveredBuyer]:
    """The buyers among the grantees of `transfers` (purchases and the resales that follow them)."""
    params = params or DiscoveryParams()
    start = months_before(as_of, params.lookback_months)
    by_buyer: dict[str, list[Transfer]] = defaultdict(list)
    resales: dict[tuple[str, str], list[datetime.date]] = defaultdict(list)
    for t in transfers:
        if not t.is_purchase or t.sale_date > as_of:
            continue
        if t.seller_key:
            resales[(t.seller_key, t.parcel_id)].append(t.sale_date)
        if t.sale_date > start and t.buyer_key:
            by_buyer[t.buyer_key].append(t)
    found = [b for key, bought in by_buyer.items() if (b := _buyer(key, bought, resales, as_of=as_of, params=params))]
    return sorted(found, key=lambda b: (-len(b.purchases), -b.purchases[-1].transfer.sale_date.toordinal(), b.name))
