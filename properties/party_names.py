"""Grantor and grantee names on recorded deeds: what kind of party, which surnames, one key per party. Pure.

Recorders write parties as one text per side ("SMITH JOHN A & SMITH MARY", "ACME HOMES, L.L.C.") or as one
row per party (NYC ACRIS parties); the functions here take either. What they decide:

- `party_kind(name)`: `lender` (banks, mortgage companies, Fannie Mae / Freddie Mac, HUD and VA, servicing
  trusts "AS TRUSTEE FOR"), `government` (city, county, state, authorities, land banks), `company` (LLC, INC,
  CORP, LP, ... or a business word such as HOLDINGS, PROPERTIES, INVESTMENTS), `trust` (a family or living trust,
  a trustee) or `individual`. The first kind that matches wins, in that order (a land bank or housing authority is
  government before its BANK can make it a lender): "U S BANK NA AS TRUSTEE" is a lender, "ORANGE COUNTY
  HOLDINGS LLC" a company, "SMITH FAMILY TRUST" a trust.
- `split_parties(text)`: one text into its parties, on "&", "AND", ";" and "/" between people; a company's name
  is never split ("SMITH & SONS LLC" stays whole).
- `surnames(name, order)`: the surname(s) of an individual or a family trust. Recorders' indexes write
  "LAST FIRST M" (Cook County, Philadelphia) or "LAST, FIRST M" (ACRIS); some layers write "First M Last". The
  comma form is always read as "LAST, FIRST". Otherwise `order` says which end is the surname: `last_first`
  (the default: the recorder's index convention), `first_last`, or `either` (both ends: finds more relatives
  and more strangers who share a first name). "ESTATE OF JOHN SMITH" is read in natural order. Suffixes (JR,
  III), marital and tenancy words (ETUX, ETAL, H/W, JTWROS), trust and estate words and initials are not
  names. Particles join the next word ("DE LA CRUZ").
- `party_key(name)`: upper case, "&" as AND, punctuation gone, company forms in one spelling (L.L.C. ->
  LLC, INCORPORATED -> INC, COMPANY -> CO, CORPORATION -> CORP, LIMITED -> LTD), a leading "THE" and the
  words ETAL / ETUX dropped. Two spellings of one party get one key; two parties never share one unless
  their names differ only in those forms.

Deliberately small and conservative: nothing is merged on a guess. Owner resolution (issue 20: one owner
across parcels, "SMITH JOHN A" = "John A. Smith" at one mailing address) is the better key wherever it
exists; the rules that use this module take owner keys and prefer them.

How to integrate: when issue 20's owner normalizer lands, keep `party_kind` / `surnames` here (deeds name
both sides, owners only one) or move them beside it, and let ingest store each sale's grantor and grantee
owner keys; `sales_rules.assess_sale` and `buyers.discovery` already take those keys.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum


class PartyKind(StrEnum):
    LENDER = "lender"
    GOVERNMENT = "government"
    COMPANY = "company"
    TRUST = "trust"
    INDIVIDUAL = "individual"


NAME_ORDERS = ("last_first", "first_last", "either")

_PUNCTUATION = re.compile(r"[^A-Z0-9 ]+")
_SPACES = re.compile(r"\s+")

# Whole-word phrases, matched on the cleaned name (upper case, "&" as AND, punctuation as spaces, dots dropped).
_LENDER = (
    "BANK", "BANCORP", "N A", "NATIONAL ASSOCIATION", "MORTGAGE", "MTG", "SAVINGS", "CREDIT UNION", "LOAN", "LOANS",
    "LENDING", "SERVICING", "FEDERAL NATIONAL", "FANNIE MAE", "FEDERAL HOME LOAN", "FREDDIE MAC", "FNMA", "FHLMC",
    "SECRETARY OF HOUSING", "HOUSING AND URBAN DEVELOPMENT", "HUD", "VETERANS AFFAIRS", "SECRETARY OF VETERANS",
    "AS TRUSTEE FOR", "CERTIFICATEHOLDERS", "CERTIFICATE HOLDERS", "PASS THROUGH", "ASSET BACKED",
)  # fmt: skip
# Public bodies whose names hold a lender's word (a LAND BANK is no bank): read before the lenders.
_PUBLIC_BODIES = ("LAND BANK", "LAND REUTILIZATION", "HOUSING AUTHORITY", "REDEVELOPMENT AUTHORITY")
_GOVERNMENT = (
    "CITY OF", "COUNTY OF", "STATE OF", "TOWN OF", "TOWNSHIP OF", "VILLAGE OF", "BOROUGH OF", "COMMONWEALTH OF",
    "UNITED STATES", "BOARD OF", "DEPARTMENT OF", "SCHOOL DISTRICT", "TAX COLLECTOR", "COUNTY COMMISSIONERS",
    "PUBLIC WORKS",
)  # fmt: skip
_COMPANY = (
    "LLC", "L L C", "INC", "INCORPORATED", "CORP", "CORPORATION", "CO", "COMPANY", "LTD", "LIMITED", "LP", "LLP",
    "LLLP", "PLLC", "PC", "HOLDINGS", "HOLDING", "PROPERTIES", "PROPERTY", "INVESTMENTS", "INVESTMENT", "INVESTORS",
    "CAPITAL", "REALTY", "REAL ESTATE", "VENTURES", "GROUP", "PARTNERS", "PARTNERSHIP", "ENTERPRISES", "ENTERPRISE",
    "DEVELOPMENT", "DEVELOPERS", "BUILDERS", "CONSTRUCTION", "HOMES", "ASSETS", "EQUITY", "EQUITIES", "FUND",
    "MANAGEMENT", "RENTALS", "ACQUISITIONS", "SOLUTIONS", "ASSOCIATES", "SERIES", "CHURCH", "MINISTRIES",
    "ASSOCIATION", "SOCIETY", "FOUNDATION", "UNIVERSITY", "HOSPITAL",
)  # fmt: skip
_TRUST = ("TRUST", "TRUSTEE", "TRUSTEES", "TR", "TRS", "TTEE", "TTEES", "REVOCABLE", "LIVING TRUST")
_KINDS = (
    (PartyKind.GOVERNMENT, _PUBLIC_BODIES),
    (PartyKind.LENDER, _LENDER),
    (PartyKind.GOVERNMENT, _GOVERNMENT),
    (PartyKind.COMPANY, _COMPANY),
    (PartyKind.TRUST, _TRUST),
)
# Words in an individual's or a trust's name that are not a name.
_NOT_NAMES = frozenset(
    {
        *("JR", "SR", "II", "III", "IV", "V", "ESQ", "MD", "DR", "MR", "MRS", "MS"),
        *("ETAL", "ET", "AL", "ETUX", "UX", "ETVIR", "VIR", "HW", "WH", "HUSBAND", "WIFE", "JT", "JTWROS", "JTRS"),
        *("TEN", "COM", "TC", "TE", "TBE", "ENT", "AKA", "FKA", "NKA", "DBA", "OF", "THE", "AS", "FOR", "U", "T", "A"),
        *("TRUST", "TRUSTEE", "TRUSTEES", "TR", "TRS", "TTEE", "TTEES", "REVOCABLE", "IRREVOCABLE", "LIVING"),
        *("FAMILY", "DECLARATION", "AGREEMENT", "DATED", "DTD", "UTD", "UTA", "UAD", "NO"),
        *("ESTATE", "EST", "HEIRS", "DECEASED", "DECD", "DEC", "SURVIVOR", "PERSONAL", "REPRESENTATIVE", "EXECUTOR"),
        *("EXECUTRIX", "ADMINISTRATOR", "ADMINISTRATRIX", "GUARDIAN", "CONSERVATOR", "LIFE", "TENANT", "REMAINDERMAN"),
    }
)
_PARTICLES = frozenset(
    {"DE", "DEL", "DELA", "LA", "LE", "DA", "DI", "DOS", "DU", "VAN", "VON", "DER", "DEN", "ST", "MC"}
)
# Company forms in one spelling, for party_key (whole words, after cleaning).
_FORMS = (
    ("LIMITED LIABILITY COMPANY", "LLC"),
    ("LIMITED PARTNERSHIP", "LP"),
    ("L L C", "LLC"),
    ("INCORPORATED", "INC"),
    ("CORPORATION", "CORP"),
    ("COMPANY", "CO"),
    ("LIMITED", "LTD"),
)
_KEY_NOISE = re.compile(r"^THE | (?:ETAL|ET AL|ETUX|ET UX|ETVIR|ET VIR)(?= |$)")


def clean(name: str | None) -> str:
    """Upper case, "&" as AND, dots and apostrophes dropped, other punctuation as spaces, spaces collapsed."""
    text = str(name or "").upper().replace("&", " AND ").replace(".", "").replace("'", "").replace("\u2019", "")
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", text)).strip()


def _has(text: str, phrases: Iterable[str]) -> bool:
    padded = f" {text} "
    return any(f" {phrase} " in padded for phrase in phrases)


def party_kind(name: str | None) -> PartyKind:
    text = clean(name)
    for kind, phrases in _KINDS:
        if _has(text, phrases):
            return kind
    return PartyKind.INDIVIDUAL


def split_parties(text: str | None) -> list[str]:
    """The parties in one side's text; a company's name (or a text with no separator) is one party."""
    raw = str(text or "").strip()
    if not raw:
        return []
    if party_kind(raw) in (PartyKind.LENDER, PartyKind.GOVERNMENT, PartyKind.COMPANY):
        return [raw]
    parts = re.split(r"\s*(?:&|;|/|\bAND\b)\s*", raw, flags=re.IGNORECASE)
    return [p for p in (part.strip(" ,") for part in parts) if p]


def _name_words(name: str) -> list[str]:
    return [w for w in clean(name).split(" ") if len(w) > 1 and w not in _NOT_NAMES and not w.isdigit()]


def _surname_at(words: list[str], *, first: bool) -> str:
    """The surname at the start (first=True) or the end of `words`, with its particles."""
    if first:
        taken = 0
        while taken < len(words) - 1 and words[taken] in _PARTICLES:
            taken += 1
        return " ".join(words[: taken + 1])
    start = len(words) - 1
    while start > 0 and words[start - 1] in _PARTICLES:
        start -= 1
    return " ".join(words[start:])


def surnames(name: str | None, order: str = "last_first") -> frozenset[str]:
    """The surname(s) an individual or a family trust can be read to have; empty for other kinds of party,
    for a lone given name ("MARY" in "SMITH JOHN & MARY") and for names that are only titles and initials."""
    if order not in NAME_ORDERS:
        raise ValueError(f"unknown name order {order!r}: use one of {', '.join(NAME_ORDERS)}")
    raw = str(name or "")
    if party_kind(raw) not in (PartyKind.INDIVIDUAL, PartyKind.TRUST):
        return frozenset()
    if "," in raw:
        head = _name_words(raw.split(",", 1)[0])
        return frozenset({" ".join(head)}) if head else frozenset()
    words = _name_words(raw)
    if re.match(r"(?:ESTATE|HEIRS) OF ", clean(raw)):  # "ESTATE OF JOHN SMITH" is written in natural order
        order = "first_last" if order == "last_first" else order
    if len(words) < 2 and not _has(clean(raw), _TRUST):  # a lone word of a person is a given name, not a surname
        return frozenset()
    if not words:
        return frozenset()
    found = set()
    if order in ("last_first", "either"):
        found.add(_surname_at(words, first=True))
    if order in ("first_last", "either"):
        found.add(_surname_at(words, first=False))
    return frozenset(found)


def party_key(name: str | None) -> str:
    """One spelling per party, for grouping one grantee's deeds when no owner key is known."""
    text = clean(name)
    for long, short in _FORMS:
        text = re.sub(rf"\b{long}\b", short, text)
    return _SPACES.sub(" ", _KEY_NOISE.sub(" ", text)).strip()
