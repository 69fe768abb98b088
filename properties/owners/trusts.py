"""Trusts in owner names: the trustees ("SMITH JOHN A TR", "SMITH JOHN & MARY TRS") and/or the trust's own name
("SMITH FAMILY TRUST", "JOHN A SMITH REV LIV TR", "SMITH JOHN A TR OF THE SMITH FAMILY TRUST DTD 1/2/2003"). Pure.

"TR" / "TRS" after a trust type (REV, LIV, FAMILY, LAND, ...) means TRUST; elsewhere it means trustee. Agreement
dates (U/A, DTD, DATED and the date) are left out of the key: the same trust is written with and without them.
Trust numbers ("LAND TRUST NO 1234") stay: they tell land trusts apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import vocabulary as v
from .entities import entity_display, entity_text, has_designator, is_organization
from .people import PersonName, parse_people, people_canonical, people_keys, trim_joiners

_DATE = re.compile(r"\d+[/-]\d+(?:[/-]\d+)?")
_LEADING = frozenset({"OF", "FOR", "UNDER", "THE"})


@dataclass(frozen=True, slots=True)
class TrustReading:
    trustees: tuple[PersonName, ...]
    name: str  # "SMITH FAMILY TRUST", "SMITH, JOHN A REVOCABLE LIVING TRUST"; "" when only trustees are named
    keys: tuple[str, ...]  # the exact key, then looser ones (block key last)
    canonical: str
    display: str


def read_trust(words: list[str], *, order: str, mixed_case: bool) -> TrustReading | None:
    """The trust in a name's words, or None when nothing marks one."""
    words = _without_dates(words)
    roles = [_role(words, i) for i in range(len(words))]
    if not any(roles):
        return None
    at = roles.index("trust") if "trust" in roles else None
    if at is None:
        trustee_words, segment, after = [w for w, r in zip(words, roles, strict=True) if not r], [], []
    else:
        before = [i for i in range(at) if roles[i] == "trustee"]
        cut = before[-1] if before else -1
        trustee_words = [w for w, r in zip(words[: max(cut, 0)], roles, strict=False) if not r]
        segment = words[cut + 1 : at]
        while segment and segment[0] in _LEADING | {",", "&"}:
            segment = segment[1:]
        after_roles = roles[at + 1 :]
        after = [w for w, r in zip(words[at + 1 :], after_roles, strict=True) if not r]
        if "trustee" in after_roles:  # "SMITH FAMILY TRUST SMITH JOHN TR"
            trustee_words, after = trustee_words + after, []
    types: list[str] = []
    segment = trim_joiners(segment)
    while segment and segment[-1] in v.TRUST_TYPES:
        types.insert(0, segment.pop())
    types = list(dict.fromkeys(t for t in (v.TRUST_TYPES[w] for w in types) if t))
    segment, after = trim_joiners(segment), trim_joiners(after)
    trustee_words = trim_joiners(trustee_words)
    trustees = parse_people(trustee_words, order=order, mixed_case=mixed_case) if trustee_words else ()
    name_key, name_text, name_display = _name(segment, order, mixed_case)
    named = bool(segment or types or after or not trustees)
    tail = " ".join(after)
    name = " ".join(p for p in (name_text, *types, "TRUST", tail) if p) if named else ""
    head = f"{name_key}|{' '.join(types)}|{tail}" if named else ""
    variants = people_keys(trustees) if trustees else ("",)
    keys = [f"trust:{head}/{t}" for t in variants]
    if named:
        keys += [f"trust:{head}/", f"trust:{name_key}||{tail}/"]
    keys = list(dict.fromkeys(keys))
    label = " ".join(p for p in (name_display, *(t.title() for t in types), "Trust", tail) if p)
    if trustees:
        role = " TRUSTEES" if len(trustees) > 1 else " TRUSTEE"  # not "TR": "LIV TR" would read as a trust
        canonical = people_canonical(trustees) + role + (f" OF {name}" if named else "")
        people = " & ".join(p.display for p in trustees)
        display = f"{label} ({people}, trustee)" if named else f"{people}, Trustee"
    else:
        canonical, display = name, label
    return TrustReading(trustees, name, tuple(keys), canonical, display)


def _role(words: list[str], i: int) -> str:
    word = words[i]
    if word in v.TRUST_WORDS or (word in ("TR", "TRS") and i and words[i - 1] in v.TRUST_TYPES):
        return "trust"
    return "trustee" if word in v.TRUSTEE_WORDS else ""


def _without_dates(words: list[str]) -> list[str]:
    out, in_date = [], False
    for word in words:
        if word in v.TRUST_DATE_WORDS:
            in_date = True
        elif not ((in_date and (word.isdigit() or word in v.MONTHS)) or _DATE.fullmatch(word)):
            in_date = False
            out.append(word)
    return out


def _name(words: list[str], order: str, mixed_case: bool) -> tuple[str, str, str]:
    """(key part, canonical text, display) of the words naming a trust: people where they read as people."""
    if not words:
        return "", "", ""
    if not is_organization(words) and not has_designator(words):
        people = parse_people(words, order=order, mixed_case=mixed_case)
        if people:
            return (people_keys(people)[0], people_canonical(people),
                    " & ".join(p.display for p in people))  # fmt: skip
    text = entity_text(words)[0]
    return text, text, entity_display(text)
