"""Arms-length rules for a recorded sale: each rule a named flag with a reason. Pure.

`assess_sale(facts, params)` reads one recorded transfer (price, deed type, grantor and grantee names, owner
keys when known, how many parcels its document covers, the parcel's assessed value) and returns every flag that
applies, in this order:

- `price_unknown` (not arms-length; a purchase): no price recorded (non-disclosure states publish none).
- `nominal_price` (neither): a price under `nominal_price_floor` ($1,000), or under `nominal_share_of_assessed`
  (5%) of the assessed value.
- `non_warranty_deed` (not arms-length; a purchase): a quitclaim (deed_types `quitclaim`).
- `non_market_deed` (not arms-length; a purchase): condemnation, land bank, timeshare (`non_market`).
- `no_sale_deed` (neither): gift, interspousal, transfer on death, life estate, adverse possession (`no_sale`).
- `corrective_deed` (neither): corrective, confirmatory, re-recorded (`corrective`).
- `not_a_deed` (neither): a mortgage, deed of trust, assignment or transfer-tax return filed as a sale.
- `related_parties` (neither): the same owner key on both sides, the same party on both sides, or an
  individual (or family trust) on each side sharing a surname.
- `multi_parcel` (not arms-length; a purchase, its price not one parcel's): one document over several parcels,
  the price is for all of them.
- `distressed` (kept: arms-length, a purchase; marked): foreclosure, tax and in-lieu deeds.
- `bank_owned` (kept, marked): the seller is a lender or agency (REO: a bank, Fannie Mae, HUD, VA, a
  servicing trust).
- `deed_type_unknown` (kept, said so): a deed type deed_types does not know, or none.

`is_arms_length` is "no flag says otherwise"; `is_distressed` is `distressed` or `bank_owned`. Comps use
arms-length sales that are not distressed (a sheriff's sale price is not a retail price); buyer discovery uses
`is_purchase` (distressed purchases are exactly what cash buyers make; a quitclaim at a real price is still a
purchase; a gift, a correction or a self-transfer is not).

The related-party surname test reads names with `party_names.surnames` in `name_order` (recorders' indexes:
"LAST FIRST"); it compares individuals and family trusts only, never companies. It also flags two strangers
who share a common surname: one comp lost costs less than a family sale kept as a comp, and the owner-key test
(issue 20) is the precise one wherever owner keys exist.

How to integrate: the `sales` dataset's loader builds `SaleFacts` per row (parcel_count = the document's
parcels, counted set-based by `COUNT(*) OVER (PARTITION BY document_id)`; assessed_value from the parcel's
latest Valuation), stores `assessment.as_json()` in the Sale's flags JSON plus `is_arms_length`,
`is_distressed`, `is_purchase` and `deed_kind` columns (indexed for comps), and re-assesses when the rules or
parameters change (`RULES_VERSION` in the row's content hash). Parameters belong on the scoring profile or the
data source (`SaleRulesParams.from_mapping`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from enum import StrEnum

from .deed_types import DISTRESSED_KINDS, DeedKind, deed_kind
from .party_names import NAME_ORDERS, PartyKind, party_key, party_kind, split_parties, surnames

RULES_VERSION = 1


class Flag(StrEnum):
    PRICE_UNKNOWN = "price_unknown"
    NOMINAL_PRICE = "nominal_price"
    NON_WARRANTY_DEED = "non_warranty_deed"
    NON_MARKET_DEED = "non_market_deed"
    NO_SALE_DEED = "no_sale_deed"
    CORRECTIVE_DEED = "corrective_deed"
    NOT_A_DEED = "not_a_deed"
    RELATED_PARTIES = "related_parties"
    MULTI_PARCEL = "multi_parcel"
    DISTRESSED = "distressed"
    BANK_OWNED = "bank_owned"
    DEED_TYPE_UNKNOWN = "deed_type_unknown"


NOT_ARMS_LENGTH = frozenset(
    {
        Flag.PRICE_UNKNOWN,
        Flag.NOMINAL_PRICE,
        Flag.NON_WARRANTY_DEED,
        Flag.NON_MARKET_DEED,
        Flag.NO_SALE_DEED,
        Flag.CORRECTIVE_DEED,
        Flag.NOT_A_DEED,
        Flag.RELATED_PARTIES,
        Flag.MULTI_PARCEL,
    }
)
NOT_A_PURCHASE = frozenset(
    {Flag.NOMINAL_PRICE, Flag.NO_SALE_DEED, Flag.CORRECTIVE_DEED, Flag.NOT_A_DEED, Flag.RELATED_PARTIES}
)
DISTRESS = frozenset({Flag.DISTRESSED, Flag.BANK_OWNED})

_DEED_FLAGS = {
    DeedKind.QUITCLAIM: (Flag.NON_WARRANTY_DEED, "Quitclaim deed ({text}): no warranty of title"),
    DeedKind.NON_MARKET: (Flag.NON_MARKET_DEED, "{text}: a set price or a taking, not an open-market sale"),
    DeedKind.NO_SALE: (Flag.NO_SALE_DEED, "{text}: a gift, family or death transfer, not a sale"),
    DeedKind.CORRECTIVE: (Flag.CORRECTIVE_DEED, "Corrective deed ({text}): re-records an earlier transfer"),
    DeedKind.NOT_A_DEED: (Flag.NOT_A_DEED, "{text} is not a deed (a mortgage, assignment or tax form)"),
    DeedKind.FORECLOSURE: (Flag.DISTRESSED, "Foreclosure deed ({text}): kept, marked distressed"),
    DeedKind.TAX: (Flag.DISTRESSED, "Tax deed ({text}): kept, marked distressed"),
    DeedKind.DEED_IN_LIEU: (Flag.DISTRESSED, "Deed in lieu of foreclosure ({text}): kept, marked distressed"),
}


@dataclass(frozen=True)
class SaleRulesParams:
    nominal_price_floor: Decimal = Decimal("1000")
    nominal_share_of_assessed: Decimal = Decimal("0.05")
    name_order: str = "last_first"  # party_names.NAME_ORDERS
    vocabulary: Mapping[str, str] = field(default_factory=dict)  # the source's own deed codes -> DeedKind values

    def __post_init__(self):
        if self.name_order not in NAME_ORDERS:
            raise ValueError(f"name_order must be one of {', '.join(NAME_ORDERS)}, not {self.name_order!r}")
        unknown = sorted(str(v) for v in self.vocabulary.values() if v not in set(DeedKind))
        if unknown:
            raise ValueError(f"vocabulary kinds must be deed kinds ({', '.join(DeedKind)}), not {', '.join(unknown)}")
        if self.nominal_price_floor < 0 or not 0 <= self.nominal_share_of_assessed < 1:
            raise ValueError("need nominal_price_floor >= 0 and 0 <= nominal_share_of_assessed < 1")

    @classmethod
    def from_mapping(cls, values: Mapping) -> SaleRulesParams:
        """Build from a profile's or a source's JSON (unknown keys are ignored)."""
        kwargs = {}
        for f in fields(cls):
            if f.name in values:
                value = values[f.name]
                kwargs[f.name] = Decimal(str(value)) if f.type == "Decimal" else value
        return cls(**kwargs)


@dataclass(frozen=True)
class SaleFacts:
    price: Decimal | None
    deed_type: str = ""
    grantors: Sequence[str] | str = ()  # one text per side, or one per party (ACRIS parties)
    grantees: Sequence[str] | str = ()
    grantor_owner_keys: frozenset[str] = frozenset()  # issue 20's owner records, when resolved
    grantee_owner_keys: frozenset[str] = frozenset()
    parcel_count: int = 1  # parcels on the same document
    assessed_value: Decimal | None = None


@dataclass(frozen=True)
class SaleFlag:
    code: Flag
    reason: str


@dataclass(frozen=True)
class SaleAssessment:
    deed_kind: DeedKind
    flags: tuple[SaleFlag, ...]

    @property
    def codes(self) -> frozenset[Flag]:
        return frozenset(f.code for f in self.flags)

    @property
    def is_arms_length(self) -> bool:
        return not self.codes & NOT_ARMS_LENGTH

    @property
    def is_distressed(self) -> bool:
        return bool(self.codes & DISTRESS)

    @property
    def is_purchase(self) -> bool:
        return not self.codes & NOT_A_PURCHASE

    @property
    def reasons(self) -> list[str]:
        return [f.reason for f in self.flags]

    def as_json(self) -> dict:
        return {
            "deed_kind": self.deed_kind.value,
            "is_arms_length": self.is_arms_length,
            "is_distressed": self.is_distressed,
            "is_purchase": self.is_purchase,
            "flags": [{"code": f.code.value, "reason": f.reason} for f in self.flags],
        }


def _money(value: Decimal) -> str:
    return f"${value:,.0f}"


def _parties(side: Sequence[str] | str) -> list[str]:
    texts = [side] if isinstance(side, str) else list(side)
    return [party for text in texts for party in split_parties(text)]


def _price_flags(facts: SaleFacts, params: SaleRulesParams) -> list[SaleFlag]:
    price = facts.price
    if price is None:
        return [SaleFlag(Flag.PRICE_UNKNOWN, "No price recorded")]
    if price < params.nominal_price_floor:
        floor = _money(params.nominal_price_floor)
        return [SaleFlag(Flag.NOMINAL_PRICE, f"Price {_money(price)} is under the {floor} nominal-price floor")]
    assessed, share = facts.assessed_value, params.nominal_share_of_assessed
    if assessed and assessed > 0 and price < assessed * share:
        return [
            SaleFlag(
                Flag.NOMINAL_PRICE,
                f"Price {_money(price)} is under {share * 100:.0f}% of the assessed value {_money(assessed)}",
            )
        ]
    return []


def _related_flag(grantors: list[str], grantees: list[str], facts: SaleFacts, order: str) -> SaleFlag | None:
    if facts.grantor_owner_keys & facts.grantee_owner_keys:
        return SaleFlag(Flag.RELATED_PARTIES, "Grantor and grantee are the same owner record")
    grantee_keys = {party_key(g): g for g in grantees}
    for grantor in grantors:
        if (key := party_key(grantor)) and key in grantee_keys:
            return SaleFlag(Flag.RELATED_PARTIES, f"Grantor and grantee are the same party ({key})")
    grantee_names = [(g, surnames(g, order)) for g in grantees]
    for grantor in grantors:
        mine = surnames(grantor, order)
        for grantee, theirs in grantee_names:
            shared = sorted(mine & theirs)
            if shared:
                return SaleFlag(
                    Flag.RELATED_PARTIES,
                    f"Grantor and grantee share the surname {shared[0]} ({grantor} / {grantee})",
                )
    return None


def assess_sale(facts: SaleFacts, params: SaleRulesParams | None = None) -> SaleAssessment:
    params = params or SaleRulesParams()
    kind = deed_kind(facts.deed_type, params.vocabulary)
    text = " ".join(str(facts.deed_type or "").split())
    flags = _price_flags(facts, params)
    if kind in _DEED_FLAGS and kind not in DISTRESSED_KINDS:
        code, template = _DEED_FLAGS[kind]
        flags.append(SaleFlag(code, template.format(text=text)))
    grantors, grantees = _parties(facts.grantors), _parties(facts.grantees)
    related = _related_flag(grantors, grantees, facts, params.name_order)
    if related:
        flags.append(related)
    if facts.parcel_count > 1:
        price = f"the {_money(facts.price)}" if facts.price is not None else "its price"
        flags.append(
            SaleFlag(Flag.MULTI_PARCEL, f"One document for {facts.parcel_count} parcels: {price} is for all of them")
        )
    if kind in DISTRESSED_KINDS:
        code, template = _DEED_FLAGS[kind]
        flags.append(SaleFlag(code, template.format(text=text)))
    seller = next((g for g in grantors if party_kind(g) is PartyKind.LENDER), None)
    if seller:
        flags.append(SaleFlag(Flag.BANK_OWNED, f"Seller {seller} is a lender or agency: a bank-owned (REO) sale"))
    if kind is DeedKind.UNKNOWN:
        reason = f"Deed type {text!r} is not one DealFinder knows: kept" if text else "No deed type recorded: kept"
        flags.append(SaleFlag(Flag.DEED_TYPE_UNKNOWN, reason))
    return SaleAssessment(deed_kind=kind, flags=tuple(flags))
