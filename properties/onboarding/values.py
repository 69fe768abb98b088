"""What a column's sample values look like: money, dates (epoch milliseconds too), zips, state codes, years, small
counts, street addresses, names, codes, degrees or projected coordinates. Pure: plain values in, a profile out."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from scourgify.address_constants import STATE_ABBREVIATIONS

STATE_CODES = frozenset(STATE_ABBREVIATIONS.values()) | {"DC", "PR", "VI", "GU", "AS", "MP"}
STATE_NAMES = frozenset(name for name in STATE_ABBREVIATIONS if name.isalpha() and len(name) > 4)
_ZIP = re.compile(r"^\d{5}(?:-?\d{4})?$")
_STATE_ZIP = re.compile(r"^([A-Za-z]{2})[\s,]*(\d{5}(?:-?\d{4})?)$")
_CITY_STATE_ZIP = re.compile(r"^[A-Za-z][A-Za-z .'-]+,?\s+[A-Za-z]{2}[\s,]+\d{5}(?:-?\d{4})?$")
_ADDRESS = re.compile(
    r"^\s*\d+[A-Za-z]?(?:[-/ ]\d+/\d+|-\d+[A-Za-z]?)?\s+(?:[NSEW]{1,2}\s+)?[A-Za-z0-9][A-Za-z0-9 .'#-]*$"
)
_PO_BOX = re.compile(r"^\s*(?:P\.?\s?O\.?\s*)?BOX\s+\d+", re.I)
_MONEY_TEXT = re.compile(r"^\s*\$?\s*-?[\d,]+(?:\.\d+)?\s*$")
_WORDS = re.compile(r"^[A-Za-z][A-Za-z .,&'/()-]*$")
_CODE = re.compile(r"^[A-Za-z]?\d{1,5}[A-Za-z]?(?:[-.]\d{1,4})?$")
_PARCELISH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 .\-/:]{3,40}$")
_URL = re.compile(r"^https?://", re.I)
TRUE_FALSE = {"Y", "N", "YES", "NO", "TRUE", "FALSE", "T", "F", "0", "1"}
EPOCH_MS = (1e11, 4.2e12)  # 1973 .. 2103 in milliseconds

# Date formats a column may use; the first that reads (nearly) every value is the column's.
DATE_FORMATS = (
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%m-%d-%Y",
    "%Y%m%d",
    "%m/%d/%y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%Y/%m/%d",
    "%b %d %Y",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M",
    "%Y/%m/%d %H:%M:%S+00",
    "%Y-%m-%d %H:%M:%S",
)


@dataclass
class Profile:
    """Shares (0..1) of a column's non-blank sample values that look like each kind, and a few examples."""

    filled: int = 0
    total: int = 0
    distinct: int = 0
    examples: list[str] = field(default_factory=list)
    number: float = 0.0
    integer: float = 0.0
    money: float = 0.0  # numbers >= 0 that read as amounts (not years, not tiny counts)
    zero: float = 0.0
    epoch_ms: float = 0.0
    date: float = 0.0  # datetime values, epoch milliseconds or strings in date_format
    date_format: str | None = None  # the strptime format of string dates
    year: float = 0.0
    small_count: float = 0.0  # 0..20, halves allowed (beds, baths)
    area: float = 0.0  # 100..500,000 (square feet)
    zip: float = 0.0
    state: float = 0.0  # USPS codes or full state names
    state_zip: float = 0.0  # "FL 32801", "MI49327"
    city_state_zip: float = 0.0  # "PINE ISLAND NY 10969"
    address: float = 0.0  # starts with a house number (or is a PO box)
    words: float = 0.0  # letters and punctuation only
    code: float = 0.0  # short codes such as 0100, R1, 2-11
    parcelish: float = 0.0
    boolean: float = 0.0
    url: float = 0.0
    longitude: float = 0.0  # decimal numbers in -180..180 (not all whole)
    latitude: float = 0.0  # decimal numbers in -90..90
    projected: float = 0.0  # numbers too large for degrees (metres or feet)
    pair: float = 0.0  # [x, y] pairs (GeoJSON coordinates)

    @property
    def fill_rate(self) -> float:
        return self.filled / self.total if self.total else 0.0

    @property
    def unique(self) -> float:
        return self.distinct / self.filled if self.filled else 0.0


def blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def as_number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, str) and _MONEY_TEXT.match(value):
        try:
            return float(Decimal(value.strip().replace("$", "").replace(",", "").replace(" ", "")))
        except InvalidOperation:
            return None
    return None


def date_format(texts: list[str]) -> str | None:
    """The strptime format that reads at least 90% of the texts (all that look like dates), else None."""
    if not texts:
        return None
    for fmt in DATE_FORMATS:
        good = 0
        for text in texts:
            try:
                dt.datetime.strptime(text.strip(), fmt)
                good += 1
            except ValueError:
                pass
        if good >= 0.9 * len(texts):
            return fmt
    return None


def profile(values: Iterable) -> Profile:
    values = list(values)
    result = Profile(total=len(values))
    present = [v for v in values if not blank(v)]
    result.filled = len(present)
    if not present:
        return result
    texts = [str(v).strip() for v in present]
    result.distinct = len(set(texts))
    result.examples = list(dict.fromkeys(texts))[:5]
    n = len(present)

    def share(test) -> float:
        return sum(1 for v in present if test(v)) / n

    numbers = [as_number(v) for v in present]
    result.number = sum(1 for x in numbers if x is not None) / n
    result.integer = sum(1 for x in numbers if x is not None and x == int(x)) / n
    result.zero = sum(1 for x in numbers if x == 0) / n
    result.year = sum(1 for x in numbers if x is not None and x == int(x) and 1700 <= x <= 2100) / n
    result.money = sum(1 for x in numbers if x is not None and x >= 0 and not (1700 <= x <= 2100 and x == int(x))) / n
    result.small_count = sum(1 for x in numbers if x is not None and 0 <= x <= 20 and (x * 2) == int(x * 2)) / n
    result.area = sum(1 for x in numbers if x is not None and 100 <= x <= 500_000) / n
    result.epoch_ms = sum(1 for x in numbers if x is not None and EPOCH_MS[0] <= x <= EPOCH_MS[1]) / n
    decimals = [x for x in numbers if x is not None and x != int(x)]
    has_decimals = len(decimals) >= 0.5 * n
    result.longitude = (sum(1 for x in numbers if x is not None and -180 <= x <= 180) / n) if has_decimals else 0.0
    result.latitude = (sum(1 for x in numbers if x is not None and -90 <= x <= 90) / n) if has_decimals else 0.0
    result.projected = sum(1 for x in numbers if x is not None and abs(x) > 1000) / n if has_decimals else 0.0
    result.pair = share(
        lambda v: isinstance(v, list | tuple) and len(v) in (2, 3) and all(as_number(c) is not None for c in v[:2])
    )

    string_dates = [t for v, t in zip(present, texts, strict=True) if isinstance(v, str) and as_number(v) is None]
    result.date_format = date_format(string_dates) if len(string_dates) >= 0.5 * n else None
    dates = sum(1 for v in present if isinstance(v, dt.date))
    if result.date_format:
        dates += sum(1 for t in string_dates if _reads(t, result.date_format))
    elif string_dates:
        dates += sum(1 for t in string_dates if _iso(t))
    result.date = max(dates / n, result.epoch_ms)

    result.zip = share(lambda v: _ZIP.match(str(v).strip()) is not None or (isinstance(v, int) and 1000 <= v <= 99999))
    result.state = share(lambda v: str(v).strip().upper() in STATE_CODES or str(v).strip().upper() in STATE_NAMES)
    result.state_zip = share(lambda v: _STATE_ZIP.match(str(v).strip()) is not None)
    result.city_state_zip = share(lambda v: _CITY_STATE_ZIP.match(str(v).strip()) is not None)
    result.address = share(lambda v: isinstance(v, str) and (_ADDRESS.match(v) is not None or _PO_BOX.match(v)))
    result.words = share(lambda v: isinstance(v, str) and _WORDS.match(v.strip()) is not None)
    result.code = share(lambda v: _CODE.match(str(v).strip()) is not None)
    result.parcelish = share(
        lambda v: _PARCELISH.match(str(v).strip()) is not None and any(c.isdigit() for c in str(v))
    )
    result.boolean = share(lambda v: isinstance(v, bool) or str(v).strip().upper() in TRUE_FALSE)
    result.url = share(lambda v: isinstance(v, str) and _URL.match(v) is not None)
    return result


def _reads(text: str, fmt: str) -> bool:
    try:
        dt.datetime.strptime(text, fmt)
    except ValueError:
        return False
    return True


def _iso(text: str) -> bool:
    try:
        dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def natively_read_date(fmt: str | None) -> bool:
    """Whether the mapping reads dates in this format without a `date:<format>` transform (ISO, m/d/Y)."""
    return fmt in (
        None,
        "%Y-%m-%d",
        "%m/%d/%Y",
        "%Y%m%d",
        "%m/%d/%Y %I:%M:%S %p",
        "%m/%d/%Y %H:%M",
        "%Y-%m-%d %H:%M:%S",
    )
