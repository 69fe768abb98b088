"""Recorders' deed and document types in one vocabulary of kinds. Pure.

Every county writes its own words: "WD", "WARRANTY DEED", "SPECIAL WARRANTY", "QCD", "DEED - QUITCLAIM",
"CERTIFICATE OF TITLE" (a Florida clerk's foreclosure sale), "TRUSTEE'S DEED UPON SALE" (California's
foreclosure), NYC ACRIS codes ("DEED", "DEEDO", "CORRD", "IDED", "RPTT"), Cook County's "Warranty" / "Trustee" /
"Quit claim", Philadelphia's "DEED SHERIFF", "DEED LAND BANK", "DEED - DECEASED". `deed_kind(text)` reads them as:

Each kind, with examples, and whether a sale of that kind can be a comp / counts as a purchase (buyer discovery):
- `conveyance` (comp, purchase): WD, WARRANTY DEED, SPECIAL WARRANTY, GRANT DEED, BARGAIN AND SALE, a
  recorder's plain DEED, ACRIS DEED / DEEDP / DEED, RC / REIT.
- `fiduciary` (comp, purchase): TRUSTEE'S DEED, EXECUTOR'S, PERSONAL REPRESENTATIVE, ADMINISTRATOR, GUARDIAN,
  Philadelphia's DEED - DECEASED.
- `quitclaim` (no comp: no warranty of title; purchase): QCD, QC, QUIT CLAIM, QUITCLAIM DEED, DEED - QUITCLAIM.
- `foreclosure` (kept, distressed; purchase): SHERIFF'S DEED, DEED SHERIFF, CERTIFICATE OF TITLE, REFEREE'S,
  TRUSTEE'S DEED UPON SALE, SUBSTITUTE TRUSTEE'S, COMMISSIONER'S, SPECIAL MASTER'S, MARSHAL'S, RECEIVER'S.
- `tax` (kept, distressed; purchase): TAX DEED, TAX COLLECTOR'S, TREASURER'S, IN REM (ACRIS IDED).
- `deed_in_lieu` (kept, distressed; purchase): DEED IN LIEU (OF FORECLOSURE).
- `non_market` (no comp: a set price or a taking; purchase): DEED OF CONDEMNATION, DEED LAND BANK, TIMESHARE
  (ACRIS DEED, TS).
- `no_sale` (neither): GIFT, INTERSPOUSAL, TRANSFER ON DEATH (ACRIS TODD), BENEFICIARY DEED, LIFE ESTATE
  (ACRIS DEED, LE), LADY BIRD, ADVERSE POSSESSION, AFFIDAVIT OF DEATH, DISTRIBUTION.
- `corrective` (neither: re-records an earlier transfer): CORRECTIVE, CORRECTION, CONFIRMATORY, SCRIVENER'S,
  RE-RECORD (ACRIS CORRD, CONDEED, DEED COR).
- `not_a_deed` (neither): MORTGAGE, DEED OF TRUST, TRUST DEED, SATISFACTION, RECONVEYANCE, ASSIGNMENT, LEASE,
  EASEMENT, CONTRACT, a transfer-tax return (ACRIS RPTT, RETT).
- `unknown` (comp, purchase: unknown is never excluded by itself): anything else, and the deliberately vague
  DEEDO ("deed, other"), DEED MISCELLANEOUS, DEED RTT - OTHER, Cook County's Other / Beneficiary / Unknown.

How a text is read: upper case, "&" as AND, dots and apostrophes dropped, other punctuation as spaces
("DEED - QUITCLAIM" -> "DEED QUITCLAIM", "TRUSTEE'S" -> "TRUSTEES"). Then the caller's `vocabulary` (exact
texts, for a county's own codes), then the exact table of codes and short forms, then the phrase rules below in
their order, whole words only (so "DEED OF TRUST" is a mortgage before TRUSTEE can make it a fiduciary deed,
and "CORRECTIVE WARRANTY DEED" is corrective before WARRANTY makes it a conveyance).

A plain "TRUSTEE'S DEED" is a fiduciary deed (a land trust's or a living trust's trustee conveying: Illinois
sells most homes this way). In deed-of-trust states where that text names a foreclosure deed, map it per
source: `vocabulary={"TRUSTEES DEED": DeedKind.FORECLOSURE}`. Bare numeric codes mean different things in
different counties and are never guessed; `COOK_COUNTY_DEED_CODES` is the mapping for Cook County's raw codes.

How to integrate: store the kind beside the raw text on the Sale (`deed_type` raw, `deed_kind` from here) and
let a data source carry its `vocabulary` (e.g. in `field_mapping` or a JSON field) for codes only it uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from .party_names import clean


class DeedKind(StrEnum):
    CONVEYANCE = "conveyance"
    FIDUCIARY = "fiduciary"
    QUITCLAIM = "quitclaim"
    FORECLOSURE = "foreclosure"
    TAX = "tax"
    DEED_IN_LIEU = "deed_in_lieu"
    NON_MARKET = "non_market"
    NO_SALE = "no_sale"
    CORRECTIVE = "corrective"
    NOT_A_DEED = "not_a_deed"
    UNKNOWN = "unknown"


DISTRESSED_KINDS = frozenset({DeedKind.FORECLOSURE, DeedKind.TAX, DeedKind.DEED_IN_LIEU})

# Cook County Assessor's raw deed codes (its open data writes the words, which deed_kind reads as they are).
COOK_COUNTY_DEED_CODES: Mapping[str, DeedKind] = {
    "01": DeedKind.CONVEYANCE,  # Warranty
    "02": DeedKind.FIDUCIARY,  # Trustee (land trusts)
    "03": DeedKind.QUITCLAIM,  # Quit claim
    "04": DeedKind.FIDUCIARY,  # Executor
}

_EXACT: Mapping[str, DeedKind] = {
    **dict.fromkeys(
        ("DEED", "WD", "SWD", "SPWD", "GWD", "GD", "BSD", "B AND S", "WARRANTY", "DEEDP", "DEED PRE RPT TAX",
         "DEED RC", "DEED WITH RESTRICTIVE COVENANT", "REIT", "REAL ESTATE INV TRUST DEED"),
        DeedKind.CONVEYANCE,
    ),
    **dict.fromkeys(("QCD", "QC", "QCL", "Q C D", "QCLM"), DeedKind.QUITCLAIM),
    **dict.fromkeys(("CORRD", "CONDEED", "DEED COR", "CORR LE", "CORRECT INDEX DEED OFFICE USE"), DeedKind.CORRECTIVE),
    **dict.fromkeys(("DEED LE", "TODD", "TOD", "LBD", "BENEFICIARY DEED"), DeedKind.NO_SALE),
    **dict.fromkeys(("DEED TS",), DeedKind.NON_MARKET),
    **dict.fromkeys(("IDED",), DeedKind.TAX),
    **dict.fromkeys(("DIL", "DILF"), DeedKind.DEED_IN_LIEU),
    **dict.fromkeys(
        ("RPTT", "RETT", "RPTT AND RET", "RPTT AND RETT", "MTGE", "MTG", "DOT", "SAT", "SATF", "ASST", "ASGN", "AGMT",
         "CNTR", "MCON", "LEAS", "MLEA", "EASE", "RTOD", "AL AND R", "M AND CON"),
        DeedKind.NOT_A_DEED,
    ),
}  # fmt: skip

# (kind, whole-word phrases): the first rule with a phrase in the text wins.
_RULES: tuple[tuple[DeedKind, tuple[str, ...]], ...] = (
    (
        DeedKind.NOT_A_DEED,
        ("DEED OF TRUST", "TRUST DEED", "MORTGAGE", "SATISFACTION", "RELEASE", "RECONVEYANCE", "ASSIGNMENT",
         "TRANSFER TAX", "LEASE", "EASEMENT", "LIS PENDENS", "CONTRACT", "MEMORANDUM"),
    ),
    (
        DeedKind.CORRECTIVE,
        ("CORRECTIVE", "CORRECTION", "CONFIRMATORY", "SCRIVENER", "SCRIVENERS", "RE RECORD", "RERECORD",
         "RE RECORDED", "RERECORDED"),
    ),
    (DeedKind.DEED_IN_LIEU, ("IN LIEU",)),
    (
        DeedKind.FORECLOSURE,
        ("SHERIFF", "SHERIFFS", "SHRF", "SHRFS", "CERTIFICATE OF TITLE", "REFEREE", "REFEREES", "UPON SALE",
         "SUBSTITUTE TRUSTEE", "SUBSTITUTE TRUSTEES", "SUCCESSOR TRUSTEES DEED UPON SALE", "COMMISSIONER",
         "COMMISSIONERS", "SPECIAL MASTER", "SPECIAL MASTERS", "MASTERS DEED", "MARSHAL", "MARSHALS", "FORECLOSURE",
         "JUDICIAL", "RECEIVER", "RECEIVERS"),
    ),
    (
        DeedKind.TAX,
        ("TAX DEED", "TAX COLLECTOR", "TAX COLLECTORS", "TAX SALE", "TAX TITLE", "TAX FORECLOSURE", "IN REM",
         "TREASURER", "TREASURERS", "COLLECTOR DEED", "COLLECTORS DEED"),
    ),
    (DeedKind.QUITCLAIM, ("QUITCLAIM", "QUIT CLAIM", "QUIT CLM", "QUITCLAIMED")),
    (
        DeedKind.NO_SALE,
        ("GIFT", "INTERSPOUSAL", "INTER SPOUSAL", "TRANSFER ON DEATH", "TOD DEED", "LIFE ESTATE", "LADY BIRD",
         "AFFIDAVIT OF DEATH", "AFFIDAVIT OF SURVIVORSHIP", "SURVIVORSHIP AFFIDAVIT", "DEATH CERTIFICATE",
         "ADVERSE POSSESSION", "PARTITION", "DISTRIBUTION", "DIVORCE", "DISSOLUTION", "HEIRSHIP"),
    ),
    (DeedKind.NON_MARKET, ("CONDEMNATION", "EMINENT DOMAIN", "LAND BANK", "TIMESHARE")),
    (
        DeedKind.FIDUCIARY,
        ("TRUSTEE", "TRUSTEES", "EXECUTOR", "EXECUTORS", "EXECUTRIX", "PERSONAL REPRESENTATIVE",
         "PERSONAL REPRESENTATIVES", "PERS REP", "PR DEED", "ADMINISTRATOR", "ADMINISTRATORS", "ADMINISTRATRIX",
         "GUARDIAN", "GUARDIANS", "CONSERVATOR", "CONSERVATORS", "FIDUCIARY", "DECEASED"),
    ),
    (
        DeedKind.CONVEYANCE,
        ("WARRANTY", "WARRANTY DEED", "GRANT DEED", "BARGAIN AND SALE", "BARGAIN SALE", "LIMITED WARRANTY",
         "STATUTORY WARRANTY", "FEE SIMPLE DEED"),
    ),
)  # fmt: skip


def deed_kind(text: str | None, vocabulary: Mapping[str, DeedKind | str] | None = None) -> DeedKind:
    """The kind of a recorder's deed or document type; `unknown` when the words say nothing known."""
    words = clean(text)
    if not words:
        return DeedKind.UNKNOWN
    if vocabulary:
        for raw, kind in vocabulary.items():
            if clean(raw) == words:
                return DeedKind(kind)
    if words in _EXACT:
        return _EXACT[words]
    padded = f" {words} "
    for kind, phrases in _RULES:
        if any(f" {phrase} " in padded for phrase in phrases):
            return kind
    return DeedKind.UNKNOWN
