"""Owner names from US county assessor / recorder data, read into a kind, the people and/or entity named, the
indicators a wholesaler filters on, and a canonical key for grouping. Pure: no database.

    >>> parse_owner_name("SMITH JOHN A & MARY B H/W").key
    'person:SMITH|JOHN|A|;SMITH|MARY|B|'
    >>> parse_owner_name("Acme Holdings, L.L.C.").key == parse_owner_name("ACME HOLDINGS LLC").key
    True

The order of reading (first match wins): unknown / blank / confidential -> government (public bodies and the
government-sponsored mortgage enterprises) -> bank -> company (a designator: LLC, INC, CORP, CO, LTD, LP, LLP, ...)
-> estate (EST OF, ESTATE, HEIRS, DECD, PR) -> trust (TRUST, TR, TRS, TRUSTEE, REV TR, ...) -> organization words
(HOLDINGS, PROPERTIES, CHURCH, ...) or digits -> one or more people. Markers that say how people hold title (ET AL,
ET UX, ET VIR, H/W, JTWROS, TEN COM, LIFE ESTATE) and a care-of party (C/O, %, ATTN) are taken out first and kept
in `notes` / `care_of`: they never change the key.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from . import vocabulary as v
from .entities import entity_display, entity_text, has_designator, is_organization
from .people import ORDERS, PersonName, parse_people, people_canonical, people_keys, trim_joiners
from .trusts import read_trust


class OwnerKind(StrEnum):
    INDIVIDUAL = "individual"
    JOINT = "joint"  # two or more people named, or one named with unnamed co-owners (ET AL, ET UX, ET VIR)
    COMPANY = "company"  # companies, banks, churches, associations: any private organization
    TRUST = "trust"
    ESTATE = "estate"  # a decedent's estate, heirs, or an owner marked deceased
    GOVERNMENT = "government"  # public bodies and Fannie Mae / Freddie Mac / Ginnie Mae
    UNKNOWN = "unknown"  # blank, "UNKNOWN", confidential / redacted: never grouped


@dataclass(frozen=True, slots=True)
class OwnerName:
    raw: str  # as received
    normalized: str  # upper case, ASCII, punctuation and spacing normalized; normalize_owner_text(normalized) == it
    kind: OwnerKind
    people: tuple[PersonName, ...] = ()  # the individuals, joint owners, trustees or decedents named
    entity: str = ""  # company / government / trust name in canonical form
    care_of: str = ""  # "C/O JANE DOE" -> "JANE DOE"
    notes: tuple[str, ...] = ()  # markers read and set aside: "ET AL", "H/W", "JTWROS", "LIFE ESTATE", "C/O", ...
    has_others: bool = False  # ET AL / ET UX / ET VIR: co-owners not named
    is_corporate: bool = False
    is_trust: bool = False
    is_estate: bool = False  # an estate, heirs, or a deceased owner
    is_government: bool = False
    is_bank: bool = False  # a lender or mortgage investor (bank-owned / REO), GSEs included
    key: str = ""  # canonical grouping key: "person:SMITH|JOHN|A|", "company:ACME HOLDINGS LLC", ...; "" if unknown
    looser_keys: tuple[str, ...] = ()  # keys of less complete forms of this name, most specific first
    canonical: str = ""  # text that reads back to the same key: "SMITH, JOHN A & SMITH, MARY B"
    display: str = ""  # for people: "John A Smith & Mary B Smith", "Acme Holdings LLC"

    @property
    def block_key(self) -> str:
        """The least complete form: names that may join each other share it."""
        return self.looser_keys[-1] if self.looser_keys else self.key

    @property
    def is_institutional(self) -> bool:
        return self.is_government or self.is_bank


_APOSTROPHES = str.maketrans("", "", "'`\u2018\u2019")
_DOTTED = re.compile(r"\b(?:[A-Z]\.){2,}")
_OTHER = re.compile(r"[^A-Z0-9&,/\- ]+")
_SLASH = re.compile(r"\s*(?:/\s*)+")
_COMMAS = re.compile(r"\s*(?:,\s*)+")
_AMPS = re.compile(r"\s*(?:&\s*)+")
_LOOSE_HYPHENS = re.compile(r"-{2,}|(?<![A-Z0-9])-|-(?![A-Z0-9])")  # a hyphen stays only inside a word
_SPACES = re.compile(r" {2,}")
_DATE = re.compile(r"\d+[/-]\d+(?:[/-]\d+)?")
_NORMAL = re.compile(r"[A-Z0-9]+(?:[-/][A-Z0-9]+)*(?:(?: |, | & )[A-Z0-9]+(?:[-/][A-Z0-9]+)*)*")  # already normal
_LETTER = re.compile(r"[A-Z]")


def normalize_owner_text(raw) -> str:
    """Upper case ASCII with one spacing of "&", "," and "/": "Acme Holdings, L.L.C." -> "ACME HOLDINGS, LLC".
    Idempotent."""
    text = "" if raw is None else str(raw)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = text.upper()
    if _NORMAL.fullmatch(text):
        return text
    text = text.translate(_APOSTROPHES)
    if "." in text:
        text = _DOTTED.sub(_join_dotted, text).replace(".", " ")
    text = _OTHER.sub(" ", text.replace("%", " C/O ").replace(";", " & "))
    text = _SLASH.sub("/", _LOOSE_HYPHENS.sub(" ", text))
    text = _AMPS.sub(" & ", _COMMAS.sub(", ", text))
    text = _SPACES.sub(" ", text).strip(" ,&/-")
    return text


def _join_dotted(match: re.Match) -> str:
    joined = match.group(0).replace(".", "")
    return joined if joined in v.DOTTED_ABBREVIATIONS else match.group(0)


def tokens_of(normalized: str) -> list[str]:
    """Words of a normalized owner name, multi-word markers as one word ("ET AL" -> "ETAL"), "&" and "," alone."""
    text = normalized
    if not v.PHRASE_STARTS.isdisjoint(text.replace("/", " ").split()):
        text = v.PHRASE_RE.sub(lambda m: v.PHRASES[m.group(0)], text)
    text = text.replace(",", " , ").replace("&", " & ")
    words: list[str] = []
    for word in text.split():
        if "/" in word and word != "C/O" and not _DATE.fullmatch(word):
            for i, piece in enumerate(p for p in word.split("/") if p):  # "JOHN/MARY" -> JOHN & MARY
                words.extend(("&", piece) if i else (piece,))
        else:
            words.append(word)
    return words


def parse_owner_name(raw, *, name_order: str = "auto") -> OwnerName:
    """Read one owner name. `name_order` ("auto", "last_first", "first_last") says how the source writes people
    when a name has no comma (see `people`); "auto" guesses per name."""
    if name_order not in ORDERS:
        raise ValueError(f"name_order must be one of {', '.join(ORDERS)}, not {name_order!r}")
    return _parse("" if raw is None else str(raw), name_order)


@lru_cache(maxsize=1 << 16)
def _parse(raw: str, order: str) -> OwnerName:
    normalized = normalize_owner_text(raw)
    words = tokens_of(normalized)
    notes: list[str] = []
    care_of = ""
    if "C/O" in words:
        at = words.index("C/O")
        care_of = " ".join(w for w in words[at + 1 :] if w != ",")
        words, notes = words[:at], ["C/O"]
    others = False
    kept = []
    for word in words:
        if word in v.MARKER_NOTES:
            notes.append(v.MARKER_NOTES[word])
            others = others or word in v.OTHERS_MARKERS
        else:
            kept.append(word)
    words = trim_joiners(kept)
    base = {"raw": raw, "normalized": normalized, "care_of": care_of, "notes": tuple(dict.fromkeys(notes)),
            "has_others": others}  # fmt: skip
    text = " ".join(words)
    if (
        not words
        or {text, normalized} & v.UNKNOWN_TEXTS
        or text.startswith(v.UNKNOWN_PREFIXES)
        or not _has_letters(text)
    ):
        return OwnerName(kind=OwnerKind.UNKNOWN, **base)
    wordset = set(words)
    designated = has_designator(words)
    if v.GOVERNMENT_RE.search(text) or (wordset & v.GOVERNMENT_WORDS and not designated):
        return _entity(OwnerKind.GOVERNMENT, words, base, is_government=True, is_bank=bool(v.GSE_RE.search(text)))
    if v.BANK_RE.search(text) or designated:
        is_trust = bool(wordset & (v.TRUSTEE_WORDS | v.TRUST_WORDS))
        return _entity(OwnerKind.COMPANY, words, base, is_corporate=True, is_bank=bool(v.BANK_RE.search(text)),
                       is_trust=is_trust)  # fmt: skip
    estate = None if wordset.isdisjoint(v.ESTATE_SIGNS) else _read_estate(words)
    if estate is not None:
        decedents, representative = estate
        if representative and not care_of:
            base.update(care_of=representative, notes=(*base["notes"], "PR"))
        people = parse_people(decedents, order=order, mixed_case=_mixed(raw))
        if not people:
            return OwnerName(kind=OwnerKind.UNKNOWN, **base)
        keys = tuple(f"estate:{k}" for k in people_keys(people))
        canonical = people_canonical(people) + " EST"
        display = "Estate of " + " & ".join(p.display for p in people)
        is_trust = bool(wordset & (v.TRUSTEE_WORDS | v.TRUST_WORDS))
        return OwnerName(kind=OwnerKind.ESTATE, people=people, is_estate=True, is_trust=is_trust, key=keys[0],
                         looser_keys=keys[1:], canonical=canonical, display=display, **base)  # fmt: skip
    trust = None if wordset.isdisjoint(v.TRUST_SIGNS) else read_trust(words, order=order, mixed_case=_mixed(raw))
    if trust is not None:
        return OwnerName(kind=OwnerKind.TRUST, people=trust.trustees, entity=trust.name, is_trust=True,
                         key=trust.keys[0], looser_keys=trust.keys[1:], canonical=trust.canonical,
                         display=trust.display, **base)  # fmt: skip
    if is_organization(words):
        return _entity(OwnerKind.COMPANY, words, base, is_corporate=True)
    people = parse_people(words, order=order, mixed_case=_mixed(raw))
    if not people:
        return OwnerName(kind=OwnerKind.UNKNOWN, **base)
    keys = tuple(f"person:{k}" for k in people_keys(people))
    kind = OwnerKind.JOINT if len(people) > 1 or others else OwnerKind.INDIVIDUAL
    return OwnerName(kind=kind, people=people, key=keys[0], looser_keys=keys[1:],
                     canonical=people_canonical(people),
                     display=" & ".join(p.display for p in people), **base)  # fmt: skip


def _has_letters(text: str) -> bool:
    return _LETTER.search(text) is not None


def _mixed(raw: str) -> bool:
    return raw != raw.upper()


def _entity(kind: OwnerKind, words: list[str], base: dict, **flags) -> OwnerName:
    canonical, bare = entity_text(words)
    key = f"{kind.value}:{canonical}"
    looser = (f"{kind.value}:{bare}",) if bare != canonical and kind is OwnerKind.COMPANY else ()
    return OwnerName(kind=kind, entity=canonical, key=key, looser_keys=looser, canonical=canonical,
                     display=entity_display(canonical), **flags, **base)  # fmt: skip


def _read_estate(words: list[str]) -> tuple[list[str], str] | None:
    """(the decedents' words, a personal representative named before "PR OF") when the name marks an estate
    ("EST OF SMITH JOHN", "SMITH JOHN A DECD", "DOE JANE PR OF THE ESTATE OF JOHN SMITH"), else None."""
    words = [w for w in words if w not in v.TITLES]  # "SMITH JOHN PR DR": PR still ends the name
    representative = ""
    marked = False
    if "PR" in words[1:-1] and words[words.index("PR") + 1] == "OF":
        at = words.index("PR")
        representative = " ".join(w for w in words[:at] if w != ",")
        words, marked = words[at + 2 :], True
    out: list[str] = []
    skip_of = False
    for i, word in enumerate(words):
        at_end = i == len(words) - 1 or words[i + 1] in ("&", ",")
        after_name = i and words[i - 1] not in v.ESTATE_WORDS and words[i - 1] != "OF"
        if word in v.ESTATE_WORDS or (word in v.ESTATE_END_WORDS and at_end and after_name):
            marked = skip_of = True
            if out and out[-1] == "THE":
                out.pop()
            continue
        if skip_of and word == "OF":
            skip_of = False
            continue
        skip_of = False
        if word not in v.TRUSTEE_WORDS and word not in v.TRUST_WORDS:
            out.append(word)
    return (trim_joiners(out), representative) if marked else None
