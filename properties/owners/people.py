"""People's names as assessors and recorders write them: "SMITH JOHN A" (the assessor order, surname first),
"John A. Smith", "SMITH, JOHN A JR", and joint owners sharing a surname ("SMITH JOHN A & MARY B"). Pure.

Which word is the surname, when nothing else says so:
1. a comma ends the surname ("SMITH, JOHN A", "DE LA CRUZ, MARIA");
2. an initial is never a surname: "SMITH JOHN A" is surname first, "J ROBERT SMITH" surname last;
3. otherwise the order that puts a common given name first wins ("JOHN ALAN SMITH" vs "SMITH JOHN ALAN"), a middle
   initial in second place ("JOHN A SMITH") counts towards surname last, and a tie goes to the assessor order for
   all-capital text and to the natural order for mixed case ("John Smith").
`order="last_first"` or `"first_last"` overrides the guess for a source known to write one way.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

from .vocabulary import GIVEN_NAMES, JOINERS, LEADING_PARTICLES, PARTICLES, SUFFIXES, TITLES

ORDERS = ("auto", "last_first", "first_last")


@dataclass(frozen=True, slots=True)
class PersonName:
    last: str  # "SMITH", "DE LA CRUZ", "SMITH-JONES"
    first: str = ""  # "JOHN", or "J" when only the initial is known
    middle: str = ""  # "A", "ALAN", "ANN MARIE"; "" when none was written
    suffix: str = ""  # "JR", "SR", "II", "III", "IV"

    @property
    def key(self) -> str:
        """Grouping key: spacing and hyphens inside a surname do not count ("O BRIEN" = "OBRIEN")."""
        return _person_key(self.last, self.first, self.middle, self.suffix)

    def middle_variants(self) -> tuple[str, ...]:
        """The keys this name also answers to when its middle name is cut to initials or left out, most specific
        first; the last one is the key without a middle name."""
        head = f"{self.last.replace(' ', '').replace('-', '')}|{self.first.replace('-', '')}|"
        tail = f"|{self.suffix}"
        middle = self.middle
        if len(middle) <= 1:  # the common cases, without building the general list
            return (head + middle + tail, head + tail) if middle else (head + tail,)
        initials = " ".join(w[0] for w in middle.split())
        return tuple(head + m + tail for m in dict.fromkeys((middle, initials, initials[:1], "")))

    @property
    def canonical(self) -> str:
        """Assessor form with a comma, which reads back to the same key: "SMITH, JOHN A JR"."""
        rest = " ".join(p for p in (self.first, self.middle, self.suffix) if p)
        return f"{self.last}, {rest}" if rest else f"{self.last},"  # "SMITH," : a surname alone

    @property
    def display(self) -> str:
        """Natural order for people: "John A Smith Jr", "John Smith III"."""
        name = " ".join(p for p in (self.first, self.middle, self.last) if p).title()
        suffix = self.suffix.title() if self.suffix in ("JR", "SR") else self.suffix
        return f"{name} {suffix}" if suffix else name


def _person_key(last: str, first: str, middle: str, suffix: str) -> str:
    return f"{last.replace(' ', '').replace('-', '')}|{first.replace('-', '')}|{middle}|{suffix}"


def people_canonical(people: tuple[PersonName, ...]) -> str:
    """People in canonical form, "SMITH, JOHN A & SMITH, MARY B"; a final surname-alone comma is left out."""
    return " & ".join(p.canonical for p in people).rstrip(",")


def people_keys(people: tuple[PersonName, ...]) -> tuple[str, ...]:
    """The keys of several people, each person's looser keys combined: most specific first, all middle names left
    out last. Only the exact key for more than three people (the combinations grow fast)."""
    if len(people) == 1:
        return people[0].middle_variants()
    if len(people) > 3 or not any(p.middle for p in people):
        return (";".join(sorted({p.key for p in people})),)
    combos = product(*(p.middle_variants() for p in people))
    return tuple(dict.fromkeys(";".join(sorted(set(c))) for c in combos))


def parse_people(tokens: list[str], *, order: str = "auto", mixed_case: bool = False) -> tuple[PersonName, ...]:
    """The people in an owner name's words ("&" and "AND" separate owners; "," ends a surname)."""
    parts = [_prepare(part) for part in _split(tokens)]
    parts = [p for p in parts if p[0] and (len(parts) == 1 or not set(p[0]) <= SUFFIXES.keys())]  # "SMITH J & JR"
    if not parts:
        return ()
    first_words, _, first_comma = parts[0]
    if order != "auto":
        last_first = order == "last_first"
    elif first_comma is not None:
        last_first = True
    elif len(parts) > 1 and len(parts[-1][0]) > 1 and _is_given_only(first_words, False):
        last_first = _last_first(parts[-1][0], mixed_case)  # "JOHN A & MARY B SMITH": the surname comes at the end
    else:
        last_first = _last_first(first_words, mixed_case)
    people: list[PersonName | None] = []
    for i, (words, suffix, comma) in enumerate(parts):
        head = i == 0 if last_first else i == len(parts) - 1  # the part that carries the shared surname
        if comma is not None:
            people.append(_read_last_first(words, suffix, comma))
        elif not head and _is_given_only(words, last_first):
            people.append(None)  # "SMITH JOHN A & MARY B", "JOHN & MARY SMITH": a neighbour's surname, below
        else:
            people.append(_read_last_first(words, suffix) if last_first else _read_first_last(words, suffix))
    result = []
    for i, person in enumerate(people):
        words, suffix, _ = parts[i]
        if person is None:
            before, after = people[:i][::-1], people[i + 1 :]
            donor = next((p for p in (before + after if last_first else after + before) if p is not None), None)
            if donor is None:
                person = _read_last_first(words, suffix) if last_first else _read_first_last(words, suffix)
            else:
                person = PersonName(donor.last, words[0], " ".join(words[1:]), suffix)
        result.append(person)
    return tuple(result)


def trim_joiners(words: list[str]) -> list[str]:
    """Without leading or trailing "&", "AND" and "," (left over when markers were taken out)."""
    start, end = 0, len(words)
    while start < end and words[start] in ("&", ",", "AND"):
        start += 1
    while end > start and words[end - 1] in ("&", ",", "AND"):
        end -= 1
    return words[start:end]


def _split(tokens: list[str]) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    for token in tokens:
        if token in JOINERS:
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def _prepare(words: list[str]) -> tuple[list[str], str, int | None]:
    """(words without titles, suffix and commas; suffix; surname length when a comma ended the surname)."""
    suffix = ""
    kept: list[str] = []
    for word in words:
        if word in TITLES:
            continue
        if kept and word in SUFFIXES:  # never the first word: "JR" alone is a name
            suffix = SUFFIXES[word]
            if kept[-1] == ",":  # "SMITH, JOHN A, JR": the comma goes with the suffix
                kept.pop()
        else:
            kept.append(word)
    words = kept
    comma = None
    if "," in words:
        at = words.index(",")
        words = [w for w in words if w != ","]
        if 0 < at <= len(words):  # "SMITH, JOHN A"; "SMITH," is a surname alone
            comma = at
    return words, suffix, comma


def _is_given_only(words: list[str], last_first: bool) -> bool:
    """An owner written without a surname: "MARY", "MARY B"; in surname-first text also "MARY ANN" (first word a
    given name, where a surname would stand)."""
    return len(words) == 1 or (len(words) == 2 and len(words[1]) == 1) or (last_first and words[0] in GIVEN_NAMES)


def _surname_end(words: list[str]) -> int:
    """How many leading words the surname takes when it is written first ("DE LA CRUZ MARIA" -> 3)."""
    k = 0
    while k < len(words) - 2 and words[k] in (LEADING_PARTICLES if k == 0 else PARTICLES):
        k += 1
    return k + 1


def _surname_start(words: list[str]) -> int:
    """Where the surname starts when it is written last ("MARIA DE LA CRUZ" -> 1)."""
    k = len(words) - 1
    while k > 1 and words[k - 1] in PARTICLES:
        k -= 1
    return k


def _last_first(words: list[str], mixed_case: bool) -> bool:
    if len(words) == 1 or len(words[-1]) == 1:
        return True
    if len(words[0]) == 1 and (words[0] not in LEADING_PARTICLES or len(words) < 3):
        return False  # "J ROBERT SMITH"; but "O BRIEN PATRICK" may be either
    end = _surname_end(words)
    lf = (words[end] in GIVEN_NAMES) + (words[0] not in GIVEN_NAMES)
    fl = (words[0] in GIVEN_NAMES) + (words[-1] not in GIVEN_NAMES) + (len(words) >= 3 and len(words[1]) == 1)
    return lf > fl or (lf == fl and not mixed_case)


def _read_last_first(words: list[str], suffix: str, surname_len: int | None = None) -> PersonName:
    end = surname_len or _surname_end(words)
    rest = words[end:]
    return PersonName(" ".join(words[:end]), rest[0] if rest else "", " ".join(rest[1:]), suffix)


def _read_first_last(words: list[str], suffix: str) -> PersonName:
    if len(words) == 1:
        return PersonName(words[0], "", "", suffix)
    start = _surname_start(words)
    return PersonName(" ".join(words[start:]), words[0], " ".join(words[1:start]), suffix)
