"""Parcel ids, addresses, property types and listing statuses in normal form. Pure: no database."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from scourgify import normalize_address_record
from scourgify.exceptions import AddressNormalizationError

PROPERTY_TYPES = ("sfr", "multi", "condo", "townhouse", "mobile", "land", "commercial", "other")

_SEPARATORS = re.compile(r"[^0-9A-Za-z]+")
_SPACES = re.compile(r"\s+")
# Orange County FL display form: Section-Township-Range-Subdivision-Block-Lot.
_ORANGE_GROUPS = (2, 2, 2, 4, 2, 3)


def normalize_parcel_id(raw, fmt: str = "plain") -> str:
    """The county's canonical parcel id; ValueError for values that cannot be one."""
    text = "" if raw is None else str(raw).strip()
    if fmt == "orange_fl":
        return _orange_fl(text)
    if fmt != "plain":
        raise ValueError(f"unknown parcel format {fmt!r}")
    value = _SEPARATORS.sub("", text).upper()
    if not value or not any(c.isdigit() for c in value) or not value.strip("0") or len(value) > 64:
        raise ValueError(f"not a parcel id: {raw!r}")
    return value


def _orange_fl(text: str) -> str:
    groups = [g for g in _SEPARATORS.split(text) if g]
    if len(groups) == 1 and len(groups[0]) == 15 and groups[0].isdigit():
        return groups[0]  # already the API form (range, township, section, ...)
    if tuple(len(g) for g in groups) != _ORANGE_GROUPS or not all(g.isdigit() for g in groups):
        raise ValueError(f"not an Orange County parcel id (SS-TT-RR-SSSS-BB-LLL or 15 digits): {text!r}")
    section, township, range_, *rest = groups
    return range_ + township + section + "".join(rest)


@dataclass(frozen=True)
class NormalizedAddress:
    street: str  # "123 N MAIN ST"
    unit: str  # "APT 4"
    city: str
    state: str
    zip: str  # 5 digits
    normalized: str  # one line: "123 N MAIN ST APT 4, ORLANDO, FL 32801"
    raw: str  # as received, padding trimmed
    parsed: bool  # False when scourgify could not parse and only case/spacing were fixed


def _clean(value) -> str:
    return _SPACES.sub(" ", str(value or "")).strip()


def _zip5(value) -> str:
    digits = re.sub(r"\D", "", _clean(value))
    if len(digits) in (4, 8):  # a zip stored as a number lost its leading zero
        digits = "0" + digits
    return digits[:5]


def normalize_address(street, city="", state="", zip="") -> NormalizedAddress:
    """USPS Pub 28 normal form via usaddress-scourgify; uppercase + collapsed spaces when it cannot parse."""
    return _normalize_address(_clean(street), _clean(city), _clean(state), _zip5(zip))


@lru_cache(maxsize=65536)
def _normalize_address(street: str, city: str, state: str, zip5: str) -> NormalizedAddress:
    raw = ", ".join(p for p in (street, city, " ".join(p for p in (state, zip5) if p)) if p)
    try:
        rec = normalize_address_record(
            {"address_line_1": street, "city": city or None, "state": state or None, "postal_code": zip5 or None}
        )
        line1, unit = rec["address_line_1"] or "", rec["address_line_2"] or ""
        city, state, zip5 = rec["city"] or city.upper(), rec["state"] or state.upper(), rec["postal_code"] or zip5
        parsed = True
    except (AddressNormalizationError, TypeError, ValueError, KeyError):
        line1, unit, city, state, parsed = street.upper(), "", city.upper(), state.upper(), False
    zip5 = _zip5(zip5)
    line = " ".join(p for p in (line1, unit) if p)
    tail = " ".join(p for p in (state, zip5) if p)
    normalized = ", ".join(p for p in (line, city, tail) if p)
    return NormalizedAddress(line1, unit, city, state[:2], zip5, normalized, raw, parsed)


def normalize_address_line(text) -> NormalizedAddress:
    """A one-line address ("123 Main St, Orlando, FL 32801") in normal form."""
    raw = _clean(text)
    try:
        rec = normalize_address_record(raw)
    except (AddressNormalizationError, TypeError, ValueError, KeyError):
        return NormalizedAddress(raw.upper(), "", "", "", "", raw.upper(), raw, False)
    line = " ".join(p for p in (rec["address_line_1"], rec["address_line_2"]) if p)
    return replace(normalize_address(line, rec["city"] or "", rec["state"] or "", rec["postal_code"] or ""), raw=raw)


def is_absentee(situs: NormalizedAddress | None, mailing: NormalizedAddress | None) -> bool:
    """True when the owner's mailing address is known and is not the property's own address."""
    if not situs or not mailing or not mailing.street or not situs.street:
        return False
    same_street = (situs.street, situs.unit) == (mailing.street, mailing.unit)
    same_zip = not situs.zip or not mailing.zip or situs.zip == mailing.zip
    return not (same_street and same_zip)


# Florida DOR land-use classes (first two digits of the use code).
_DOR_CLASSES = {
    0: "land",
    1: "sfr",
    2: "mobile",
    3: "multi",
    4: "condo",
    5: "condo",
    8: "multi",
    10: "land",
    40: "land",
}
_TYPE_WORDS = (  # first match wins
    ("townhouse", ("TOWNHOUSE", "TOWNHOME", "TOWN HOUSE")),
    ("condo", ("CONDO", "COOPERATIVE", "CO-OP")),
    ("mobile", ("MOBILE", "MANUFACTURED")),
    ("multi", ("MULTI", "DUPLEX", "TRIPLEX", "QUAD", "APARTMENT", "2-4 UNITS")),
    ("sfr", ("SINGLE", "SFR", "RESIDENTIAL", "HOUSE")),
    ("land", ("LAND", "LOT", "VACANT", "ACREAGE")),
    ("commercial", ("COMMERCIAL", "OFFICE", "RETAIL", "INDUSTRIAL", "STORE", "WAREHOUSE")),
)


def property_type_from(value) -> str:
    """A PropertyType value from a DOR / land-use code ("0101", "01") or words ("SINGLE FAMILY", "CONDO")."""
    text = _clean(value).upper().replace("_", " ")
    code = re.match(r"^(\d{1,4})\b", text)
    if code:
        digits = code.group(1).zfill(2) if len(code.group(1)) <= 2 else code.group(1).zfill(4)
        cls = int(digits[:2])
        if cls in _DOR_CLASSES:
            return _DOR_CLASSES[cls]
        return "commercial" if 11 <= cls <= 49 else "other"
    for ptype, words in _TYPE_WORDS:
        if any(w in text for w in words):
            return ptype
    return "other"


_LISTING_STATUSES = (
    ("pending", ("PENDING", "CONTRACT", "CONTINGENT")),
    ("sold", ("SOLD", "CLOSED")),
    ("off_market", ("OFF", "WITHDRAWN", "EXPIRED", "CANCEL")),
    ("active", ("ACTIVE", "FOR SALE", "NEW", "COMING SOON", "PRICE")),
)


def listing_status_from(value) -> str:
    """A Listing.Status value from MLS / Zillow / Realtor words ("FOR_SALE", "Active Under Contract")."""
    text = _clean(value).upper().replace("_", " ")
    for status, words in _LISTING_STATUSES:
        if any(w in text for w in words):
            return status
    return "active"
