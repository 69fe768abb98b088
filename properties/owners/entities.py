"""Organization names (companies, public bodies, named trusts) in canonical form. Pure."""

from __future__ import annotations

import re

from . import vocabulary as v

_DIGIT = re.compile(r"\d")

_DESIGNATOR_FORMS = frozenset(v.DESIGNATORS.values()) | frozenset(v.END_DESIGNATORS.values()) | {"&"}


def is_organization(words: list[str]) -> bool:
    """Organization words (HOLDINGS, PROPERTIES, CHURCH after the first word, ...) or digits in a name."""
    if _DIGIT.search(" ".join(w for w in words if w not in v.SUFFIXES)):  # "123 MAIN LLC", not "SMITH JOHN 3RD"
        return True
    return any(w in v.ORGANIZATION_WORDS and (i or w not in v.SURNAME_ORGANIZATION_WORDS) for i, w in enumerate(words))


def has_designator(words: list[str]) -> bool:
    """LLC, INC, CORP, ... after the first word, or PA / PC / GP / LC as the last word."""
    return any(w in v.DESIGNATORS for w in words[1:]) or (len(words) > 1 and words[-1] in v.END_DESIGNATORS)


def entity_text(words: list[str]) -> tuple[str, str]:
    """(canonical name, the same without its trailing designators):
    "THE ACME HOLDINGS, LIMITED LIABILITY COMPANY" -> ("ACME HOLDINGS LLC", "ACME HOLDINGS")."""
    out = ["&" if w == "AND" else "REAL ESTATE" if w == "REALESTATE" else w for w in words if w != ","]
    for i in range(1, len(out)):
        out[i] = "TRUSTEE" if out[i] in v.TRUSTEE_WORDS else v.DESIGNATORS.get(out[i], out[i])
    if len(out) > 1 and out[-1] in v.END_DESIGNATORS:
        out[-1] = v.END_DESIGNATORS[out[-1]]
    while len(out) > 1 and out[0] in ("THE", "&"):
        out = out[1:]
    while len(out) > 1 and out[-1] in ("THE", "&"):
        out = out[:-1]
    bare = list(out)
    while len(bare) > 1 and bare[-1] in _DESIGNATOR_FORMS:
        bare.pop()
    return " ".join(out), " ".join(bare)


def entity_display(text: str) -> str:
    """Title case, designators kept: "ACME HOLDINGS LLC" -> "Acme Holdings LLC", "CITY OF X" -> "City of X"."""
    words = text.split()
    return " ".join(
        w if w in v.BUSINESS_TOKENS or not w.isalpha() else w.lower() if i and w in v.SMALL_WORDS else w.title()
        for i, w in enumerate(words)
    )
