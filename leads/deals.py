"""Pure deal numbers: ARV, repair estimate and maximum allowable offer (MAO).

- ARV: the ARV from comps (recorded arms-length sales, leads.comps) when there is one, else the
  appraiser's market value (the latest valuation), else the active listing's price. The appraiser
  value is the conservative, always-present county figure; the list price is an asking price and
  only fills in when the appraiser has none.
- Repairs: living sqft x (base per sqft + per-decade age factor x decades of age, at most
  `repair_max_decades`). Unknown year built -> base rate only. Unknown sqft -> no estimate.
- MAO = ARV x arv_percent / 100 - repairs - assignment fee, floored at $0 (a negative
  offer means "no deal"; 0 keeps the lead sortable and filterable). Whole dollars.
  Without an ARV or a repair estimate there is no MAO (None).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

DOLLAR = Decimal("1")


@dataclass(frozen=True)
class DealParams:
    arv_percent: Decimal = Decimal("70")
    assignment_fee: Decimal = Decimal("10000")
    repair_base_per_sqft: Decimal = Decimal("15")
    repair_per_decade_per_sqft: Decimal = Decimal("3")
    repair_max_decades: int = 6

    @classmethod
    def from_mapping(cls, values: Mapping) -> "DealParams":
        """Build from a profile's columns and `parameters` JSON (unknown keys are ignored)."""
        kwargs = {}
        for key, default in cls.__dataclass_fields__.items():
            if key in values:
                kwargs[key] = type(default.default)(str(values[key]))
        return cls(**kwargs)


@dataclass(frozen=True)
class DealNumbers:
    arv: Decimal | None
    repair_estimate: Decimal | None
    mao: Decimal | None


def _dollars(value: Decimal) -> Decimal:
    return value.quantize(DOLLAR, rounding=ROUND_HALF_UP)


def deal_numbers(
    *,
    comps_arv: Decimal | None = None,
    market_value: Decimal | None,
    list_price: Decimal | None,
    living_sqft: int | None,
    year_built: int | None,
    current_year: int,
    params: DealParams,
) -> DealNumbers:
    arv = comps_arv or market_value or list_price
    arv = _dollars(Decimal(arv)) if arv else None
    repairs = None
    if living_sqft:
        decades = min(max(current_year - year_built, 0) // 10, params.repair_max_decades) if year_built else 0
        per_sqft = params.repair_base_per_sqft + params.repair_per_decade_per_sqft * decades
        repairs = _dollars(per_sqft * living_sqft)
    mao = None
    if arv is not None and repairs is not None:
        mao = max(_dollars(arv * params.arv_percent / 100 - repairs - params.assignment_fee), Decimal(0))
    return DealNumbers(arv=arv, repair_estimate=repairs, mao=mao)
