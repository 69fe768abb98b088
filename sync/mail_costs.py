"""What a mail send costs: pieces x unit cost per kind, plus address verifications, from configured prices.

Lob answers no price for a piece, and prices depend on the account's plan, the mail class and the volume, so the
unit costs are configuration (`MAIL_UNIT_COSTS`), never a guess: a kind without a configured price makes the
estimate say so ("unknown") instead of quoting a number.

How to integrate
----------------
- Settings: `MAIL_UNIT_COSTS` (text, e.g. "postcard_4x6=0.63, postcard_6x9=0.84, letter=1.05, verification=0.00"),
  read once with `parse_unit_costs()` so a typo stops the process at start with the reason.
- `mail_campaign_send --dry-run` counts the pieces due per kind and the addresses still to verify, and prints
  `estimate_send_cost(...).describe()`; a real send stores `unit_cost(kind)` on each MailPiece so the campaign
  report (pieces, delivered, returned, cost, contracts) sums what was spent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sync.mail_pieces import PieceKind

VERIFICATION = "verification"


@dataclass(frozen=True)
class UnitCosts:
    per_kind: Mapping[PieceKind, Decimal]
    verification: Decimal | None = None

    def unit_cost(self, kind: PieceKind) -> Decimal | None:
        return self.per_kind.get(kind)


def parse_unit_costs(text: str) -> UnitCosts:
    """`"postcard_4x6=0.63, letter=1.05, verification=0"` -> UnitCosts; ValueError naming the bad entry."""
    per_kind: dict[PieceKind, Decimal] = {}
    verification = None
    known = ", ".join([*PieceKind, VERIFICATION])
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        name, sep, amount = (part.strip() for part in entry.partition("="))
        if not sep:
            raise ValueError(f"MAIL_UNIT_COSTS: {entry!r} is not name=price")
        try:
            price = Decimal(amount)
        except InvalidOperation:
            raise ValueError(f"MAIL_UNIT_COSTS: the price of {name} is not a number ({amount!r})") from None
        if not price.is_finite() or price < 0:
            raise ValueError(f"MAIL_UNIT_COSTS: the price of {name} must be zero or more ({amount!r})")
        if name == VERIFICATION:
            verification = price
        elif name in PieceKind.__members__.values():
            per_kind[PieceKind(name)] = price
        else:
            raise ValueError(f"MAIL_UNIT_COSTS: unknown kind {name!r} (known: {known})")
    return UnitCosts(per_kind=per_kind, verification=verification)


@dataclass(frozen=True)
class CostLine:
    item: str  # a PieceKind value or "verification"
    count: int
    unit_cost: Decimal | None
    subtotal: Decimal | None


@dataclass(frozen=True)
class CostEstimate:
    lines: tuple[CostLine, ...]
    total: Decimal | None  # None when a line's price is unknown
    unpriced: tuple[str, ...]

    def describe(self) -> str:
        rows = [
            f"{line.count:>7,} x {line.item:<14} "
            + (
                f"at {money_cents(line.unit_cost)} = {money_cents(line.subtotal)}"
                if line.subtotal is not None
                else "price unknown"
            )
            for line in self.lines
        ]
        if self.total is not None:
            rows.append(f"estimated total {money_cents(self.total)}")
        else:
            rows.append(f"estimated total unknown: set a price for {', '.join(self.unpriced)} in MAIL_UNIT_COSTS")
        return "\n".join(rows)


def money_cents(amount: Decimal | None) -> str:
    return "unknown" if amount is None else f"${amount:,.2f}"


def estimate_send_cost(*, pieces: Mapping[PieceKind, int], verifications: int, unit_costs: UnitCosts) -> CostEstimate:
    """The cost of mailing `pieces` (count per kind) after `verifications` address checks."""
    wanted: list[tuple[str, int, Decimal | None]] = [
        (kind.value, count, unit_costs.unit_cost(kind)) for kind, count in sorted(pieces.items()) if count
    ]
    if verifications:
        wanted.append((VERIFICATION, verifications, unit_costs.verification))
    lines = tuple(
        CostLine(item, count, price, None if price is None else price * count) for item, count, price in wanted
    )
    unpriced = tuple(line.item for line in lines if line.unit_cost is None)
    total = None if unpriced else sum((line.subtotal for line in lines if line.subtotal is not None), Decimal(0))
    return CostEstimate(lines=lines, total=total, unpriced=unpriced)
