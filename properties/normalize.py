"""Parcel ids, addresses, states and listing statuses in normal form. Pure: no database."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from scourgify import normalize_address_record
from scourgify.address_constants import (
    DIRECTIONAL_REPLACEMENTS,
    OCCUPANCY_TYPE_ABBREVIATIONS,
    STATE_ABBREVIATIONS,
    STREET_TYPE_ABBREVIATIONS,
)
from scourgify.cleaning import pre_clean_addr_str
from scourgify.exceptions import AddressNormalizationError
from scourgify.normalize import normalize_state

PROPERTY_TYPES = ("sfr", "multi", "condo", "townhouse", "mobile", "land", "commercial", "other")

_SEPARATORS = re.compile(r"[^0-9A-Za-z]+")
_SPACES = re.compile(r"\s+")
# Orange County FL display form: Section-Township-Range-Subdivision-Block-Lot.
_ORANGE_GROUPS = (2, 2, 2, 4, 2, 3)
# Cook County IL PIN: area-subarea-block-parcel-unit (2-2-3-3-4); a 10-digit PIN has no unit (0000).
_COOK_GROUPS = (2, 2, 3, 3, 4)
PARCEL_FORMATS = ("canonical", "plain", "orange_fl", "cook_il")


def normalize_parcel_id(raw, fmt: str = "canonical") -> str:
    """The county's canonical parcel id; ValueError for values that cannot be one.

    canonical: uppercase, every run of separators (spaces, dashes, dots, slashes) written as one "-", none at
    the ends, so "221-52" and "2215-2" (Baltimore block/lot) stay two parcels. plain: separators deleted (only
    for counties whose separators carry no meaning). orange_fl, cook_il: the county's own form.
    """
    text = "" if raw is None else str(raw).strip()
    if fmt == "orange_fl":
        return _orange_fl(text)
    if fmt == "cook_il":
        return _cook_il(text)
    if fmt == "canonical":
        value = _SEPARATORS.sub("-", text).strip("-").upper()
    elif fmt == "plain":
        value = _SEPARATORS.sub("", text).upper()
    else:
        raise ValueError(f"unknown parcel format {fmt!r}; allowed: {', '.join(PARCEL_FORMATS)}")
    if not value or not any(c.isdigit() for c in value) or not value.replace("-", "").strip("0") or len(value) > 64:
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


def _cook_il(text: str) -> str:
    groups = [g for g in _SEPARATORS.split(text) if g]
    digits = "".join(groups)
    lengths = tuple(len(g) for g in groups)
    if digits.isdigit() and (lengths in ((14,), (10,)) or lengths in (_COOK_GROUPS, _COOK_GROUPS[:4])):
        return digits.ljust(14, "0")
    raise ValueError(f"not a Cook County PIN (AA-SS-BBB-PPP-UUUU, 14 or 10 digits): {text!r}")


# USPS codes of the states, DC, the territories and the military "states".
USPS_STATES = frozenset(STATE_ABBREVIATIONS.values()) | {"PR", "GU", "VI", "AS", "MP", "AA", "AE", "AP"}
_SHORT_NAMES = {"ALA", "ALAS", "ARIZ", "ARK", "CALIF", "CAL", "COLO", "COL", "CONN", "DEL", "FLA", "FLOR", "GA",
                "IDA", "ILL", "IND", "KANS", "KAN", "KEN", "KENT", "MASS", "MICH", "MINN", "MISS", "MONT", "NEBR",
                "NEB", "NEV", "N MEX", "NEW M", "N DAK", "OKLA", "OREG", "ORE", "PENN", "S DAK", "TENN", "TEX", "W VA",
                "WASH", "WIS", "WISC", "WYO"}  # fmt: skip
_STATE_NAMES = {name: code for name, code in STATE_ABBREVIATIONS.items() if name not in _SHORT_NAMES} | {
    "PUERTO RICO": "PR",
    "GUAM": "GU",
    "VIRGIN ISLANDS": "VI",
    "US VIRGIN ISLANDS": "VI",
    "U S VIRGIN ISLANDS": "VI",
    "AMERICAN SAMOA": "AS",
    "NORTHERN MARIANA ISLANDS": "MP",
    "WASHINGTON DC": "DC",
    "WASHINGTON D C": "DC",
}
_STATE_SHORT = {**STATE_ABBREVIATIONS, **_STATE_NAMES}  # also "FLA", "MICH", "CALIF", ...


def usps_state(value) -> str:
    """The USPS code of a state written as a code or a name ("Missouri" -> "MO", "Md." -> "MD"); "" when it is
    not a US state, DC or territory (never a truncation)."""
    if value in USPS_STATES:
        return value
    text = _SPACES.sub(" ", str(value or "").replace(".", " ")).strip().upper()
    if text in USPS_STATES:
        return text
    return _STATE_SHORT.get(text, "")


def _take_state(text: str) -> tuple[str, str] | None:
    """("PINE ISLAND", "NY") from "PINE ISLAND NY" or "Mcgregor, Texas": a trailing USPS code or full state
    name (not "DEL" or "KENT", which end town names), and what precedes it."""
    words = text.replace(",", " , ").split()
    for n in (4, 3, 2, 1):
        if len(words) > n:
            tail = " ".join(words[-n:]).replace(".", "").upper()
            code = tail if n == 1 and tail in USPS_STATES else _STATE_NAMES.get(tail, "")
            if code:
                return " ".join(words[:-n]).strip(" ,").replace(" , ", ", "), code
    return None


_TRAILING_ZIP = re.compile(r"^(.*?)[\s,]*\b(\d{5})(?:-?\d{4})?$")


def split_city_state_zip(text: str) -> tuple[str, str, str] | None:
    """(city, state, zip) from one "CityStateZip" value ("PINE ISLAND NY 10969", "Grant, MI 49327",
    "ORLANDO 32801"); None when it ends in neither a state nor a zip, or leaves no city."""
    text = _clean(text)
    zip5 = ""
    match = _TRAILING_ZIP.match(text)
    if match:
        text, zip5 = match.group(1), match.group(2)
    taken = _take_state(text)
    city, state = taken if taken else (text.strip(" ,"), "")
    if not (state or zip5) or not city or any(c.isdigit() for c in city):
        return None
    return city, state, zip5


_STATE_ZIP = re.compile(r"^([A-Za-z]{2})\.?[\s,]*(\d{5})(?:-?\d{4})?$")


def split_state_zip(text: str) -> tuple[str, str] | None:
    """("MI", "49327") from "MI49327", "MI 49327" or "mi, 49327-1234"; None for any other shape."""
    match = _STATE_ZIP.match(_clean(text))
    return (match.group(1).upper(), match.group(2)) if match else None


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
    """The one address parser, for situs and mailing addresses alike: USPS Pub 28 normal form (usaddress-scourgify),
    uppercase + collapsed spaces when it cannot parse.

    The parts may come split or not: a whole line in `street` ("2 BROZDOWSKI LN, PINE ISLAND NY 10969"), a
    combined "CityStateZip" in `city` ("PINE ISLAND NY 10969"), or "MI49327" in `state`. House numbers lose
    their zero padding ("06214 OSAGE AVE" is 6214); states are USPS codes ("Missouri" -> MO), or "" when the
    value is no US state.
    """
    street, city, state, zip5 = _clean(street), _clean(city), _clean(state), _zip5(zip)
    raw = ", ".join(p for p in (street, city, f"{state} {zip5}".strip()) if p)
    if not (city or state or zip5):
        street, city, state, zip5 = _split_line(street)
    city, state, zip5 = _place(city, state, zip5)
    if street[:1] == "0":
        street = _HOUSE_ZEROS.sub("", street)
    # Parsed once per address whatever its case (a situs "12 mills avenue" and the mailing "12 MILLS AVENUE" read
    # alike) and whatever its raw form: the raw text is the one thing the parse does not decide.
    return replace(_normalize_address(street.upper(), city.upper(), state.upper(), zip5), raw=raw)


_HOUSE_ZEROS = re.compile(r"^0+(?=[0-9])")


def normalize_place(city="", state="", zip="") -> tuple[str, str, str]:
    """(CITY, USPS state code or "", 5-digit zip or "") of an address without a street, split as normalize_address
    splits them ("PINE ISLAND NY 10969" in the city, "MI49327" in the state)."""
    city, state, zip5 = _place(_clean(city), _clean(state), _zip5(zip))
    return city.upper(), state, zip5


def _place(city: str, state: str, zip5: str) -> tuple[str, str, str]:
    if city and not (state or zip5):
        city, state, zip5 = split_city_state_zip(city) or (city, "", "")
    if state and not usps_state(state):
        pair = split_state_zip(state)
        if pair:
            state, zip5 = pair[0], zip5 or pair[1]
    return city, usps_state(state), zip5


def _split_line(text: str) -> tuple[str, str, str, str]:
    """(street, city, state, zip) of a whole address on one line; (text, "", "", "") for a street alone.

    "street, city[,] state zip" is split at its commas; a line without them ("1550 WOODWARD AVE DETROIT MI
    48226") is read by scourgify's parser, which knows where a street ends and a city begins."""
    zip5 = ""
    match = _TRAILING_ZIP.match(text)
    head = match.group(1) if match else text
    if match:
        zip5 = match.group(2)
    taken = _take_state(head)
    head, state = taken if taken else (head, "")
    if "," in head and (state or zip5):
        street, city = (p.strip() for p in head.rsplit(",", 1))
        if street and city and not any(c.isdigit() for c in city):
            return street.replace(",", " "), city, state, zip5
    if state and zip5:
        line = _scourgify_line(text)
        if line:
            return line
    return text, "", "", ""


def _scourgify_line(text: str) -> tuple[str, str, str, str] | None:
    try:
        rec = normalize_address_record(text)
    except (AddressNormalizationError, TypeError, ValueError, KeyError):
        return None
    street = " ".join(p for p in (rec["address_line_1"], rec["address_line_2"]) if p)
    return (street, rec["city"] or "", rec["state"] or "", rec["postal_code"] or "") if street else None


@lru_cache(maxsize=65536)
def _normalize_address(street: str, city: str, state: str, zip5: str) -> NormalizedAddress:
    rec = _fast_record(street, city, state, zip5)
    try:
        if rec is None:
            rec = _scourgify_record(street, city, state, zip5)
        line1, unit = rec["address_line_1"] or "", rec["address_line_2"] or ""
        city, state, zip5 = rec["city"] or city.upper(), rec["state"] or state, rec["postal_code"] or zip5
        parsed = True
    except (AddressNormalizationError, TypeError, ValueError, KeyError):
        line1, unit, city, parsed = street.upper(), "", city.upper(), False
    state, zip5 = usps_state(state), _zip5(zip5)
    line = " ".join(p for p in (line1, unit) if p)
    tail = " ".join(p for p in (state, zip5) if p)
    normalized = ", ".join(p for p in (line, city, tail) if p)
    return NormalizedAddress(line1, unit, city, state, zip5, normalized, "", parsed)


def _scourgify_record(street: str, city: str, state: str, zip5: str) -> dict:
    """scourgify's record for an address given in parts (its CRF parser: ~0.4 ms an address)."""
    return normalize_address_record(
        {"address_line_1": street, "city": city or None, "state": state or None, "postal_code": zip5 or None}
    )


# The fast path reads the common shape "123 [N] OAK GROVE ST [APT 4]" itself and gives exactly scourgify's
# record (tests/properties/test_normalize_fast.py compares the two). A street-name word must be a plain word no
# table knows, so that the parser could not take it for a street type, directional, unit, state or box; full
# state names (WASHINGTON ST, MICHIGAN AVE) are the exception: the parser reads them as names before a street type.
_DIRECTIONS = {**DIRECTIONAL_REPLACEMENTS, **{v: v for v in DIRECTIONAL_REPLACEMENTS.values()}}
_UNIT_TYPES = {"APT", "UNIT", "STE"}
# Street types the parser reads as such after plain words; not HWY, PARK, PLACE, TRAIL, ..., which it may take for
# part of the name. CT is spelled out as COURT before parsing (except in Connecticut, where it stays CT: no answer).
_SUFFIX_WORDS = ("ST", "STREET", "AVE", "AVENUE", "DR", "DRIVE", "BLVD", "RD", "ROAD", "LN", "WAY", "PL", "CIR", "TER",
                 "TRL", "PKWY", "LOOP", "CV", "COURT")  # fmt: skip
_SUFFIXES = {t: STREET_TYPE_ABBREVIATIONS[t] for t in _SUFFIX_WORDS}
_RESERVED = {
    *STREET_TYPE_ABBREVIATIONS,
    *STREET_TYPE_ABBREVIATIONS.values(),
    *_DIRECTIONS,
    *OCCUPANCY_TYPE_ABBREVIATIONS,
    *OCCUPANCY_TYPE_ABBREVIATIONS.values(),
    *(name for name in STATE_ABBREVIATIONS if len(name) < 5 or not name.isalpha()),  # ALA, CALIF, N DAK, ...
    *STATE_ABBREVIATIONS.values(),
    *("PO", "BOX", "POB", "RR", "HC", "ROUTE", "RTE", "HIGHWAY", "HWY", "COUNTY", "STATE", "US", "INTERSTATE"),
    *("AND", "AT", "OF", "THE", "CORNER", "NO", "NUMBER", "BLDG", "FLOOR", "FL", "RM", "SPC", "LOT", "TRLR"),
}
_WORD = re.compile(r"[A-Z]{3,20}")
_HOUSE_NUMBER = re.compile(r"[1-9][0-9]{0,5}")
_UNIT_ID = re.compile(r"[1-9][0-9]{0,4}[A-Z]?|[A-Z]")
_PLAIN_NAME = re.compile(r"[A-Za-z]+(?: [A-Za-z]+)*")


def _fast_record(street: str, city: str, state: str, zip5: str) -> dict | None:
    """scourgify's record for "123 [N] OAK GROVE ST [APT 4]" with a plain city, state and 5-digit zip;
    None for any other shape (the caller then asks scourgify)."""
    if len(zip5) != 5 or not _PLAIN_NAME.fullmatch(city) or not _PLAIN_NAME.fullmatch(state):
        return None
    words = street.upper().split(" ")
    if not street.isascii() or not street.replace(" ", "").isalnum() or not 3 <= len(words) <= 9:
        return None
    words = pre_clean_addr_str(street, normalize_state(state)).split(" ")  # CT -> COURT, as scourgify does
    if not _HOUSE_NUMBER.fullmatch(words[0]):
        return None
    unit = ""
    if len(words) >= 5 and words[-2] in _UNIT_TYPES and _UNIT_ID.fullmatch(words[-1]):
        unit = f"{words[-2]} {words[-1]}"
        words = words[:-2]
    pre = ""
    if words[1] in _DIRECTIONS and len(words[1]) <= 2:
        pre = words.pop(1)
    number, *name, suffix = words
    if not 1 <= len(name) <= 2 or suffix not in _SUFFIXES:
        return None
    if any(w in _RESERVED or not _WORD.fullmatch(w) for w in name):
        return None
    line1 = " ".join(p for p in (number, pre, *name, _SUFFIXES[suffix]) if p)
    state = state.upper()
    return {
        "address_line_1": line1,
        "address_line_2": unit or None,
        "city": city.upper(),
        "state": STATE_ABBREVIATIONS.get(state, state),
        "postal_code": zip5,
    }


def is_absentee(situs: NormalizedAddress | None, mailing: NormalizedAddress | None) -> bool:
    """True when the owner's mailing address is known and is not the property's own address."""
    if not situs or not mailing or not mailing.street or not situs.street:
        return False
    same_street = (situs.street, situs.unit) == (mailing.street, mailing.unit)
    same_zip = not situs.zip or not mailing.zip or situs.zip == mailing.zip
    return not (same_street and same_zip)


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
