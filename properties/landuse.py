"""Land use -> property type. Pure: no database.

A land-use code means what its source's vocabulary says: Florida DOR "0200" is a mobile home, Cook County
"2-11" an apartment building and Ohio "200" nothing DOR knows. So a code is only read through the vocabulary
a mapping names (a shipped one, or a table of its own); words ("SINGLE FAMILY", "510 - SINGLE FAMILY") are
read in any county, and beat a code the vocabulary does not know. What neither explains is unknown (None),
never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache

from properties.normalize import PROPERTY_TYPES

WORDS = "words"  # no code vocabulary: words only


def _fl_dor(code: str) -> str | None:
    """Florida Department of Revenue use codes: the first two digits of "0101" (or "01", "101") are the class."""
    if not code.isdigit() or len(code) > 4:
        return None
    digits = code.zfill(2) if len(code) <= 2 else code.zfill(4)
    cls = int(digits[:2])
    if cls in _DOR_CLASSES:
        return _DOR_CLASSES[cls]
    if 11 <= cls <= 39 or 41 <= cls <= 49:
        return "commercial"  # stores, offices, hotels ...; industrial
    return "other"  # 06/07/09 other residential, 50-69 agricultural, 70-99 institutional, government, misc.


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

# Cook County IL assessor classes ("2-11", "211"): major class 1 vacant, 2 residential (by minor class), 3 and 9
# apartments, 4 not-for-profit, 5-8 commercial and industrial; EX exempt, RR railroad.
COOK_IL = {
    "1": "land",
    "200": "land",
    "201": "other",
    **dict.fromkeys(("202", "203", "204", "205", "206", "207", "208", "209", "234", "278", "288"), "sfr"),
    "210": "townhouse",
    "211": "multi",
    "212": "multi",
    "213": "condo",
    "218": "other",
    "224": "other",
    "225": "multi",
    "236": "other",
    **dict.fromkeys(("239", "240", "241", "290"), "land"),
    "295": "townhouse",
    "297": "other",
    "299": "condo",
    "3": "multi",
    "4": "other",
    **dict.fromkeys(("5", "6", "7", "8"), "commercial"),
    "9": "multi",
    "EX": "other",
    "RR": "other",
}

VOCABULARIES = {"fl_dor": _fl_dor, "cook_il": COOK_IL}
VOCABULARY_NAMES = (WORDS, *VOCABULARIES)

# Words, on word boundaries; the first type with a match wins: "RESIDENTIAL VACANT LAND" is land, "TWO FAMILY
# DWELLING" multi, "ONE-FAMILY DWLG ON PLATTED LOT" a house (a lot is weaker evidence than a dwelling),
# "WAREHOUSE" commercial, not a house.
_TYPE_WORDS = (
    ("townhouse", r"TOWN ?HOUSES?|TOWN ?HOMES?|ROW ?HOUSES?|ROW ?HOMES?"),
    ("condo", r"CONDO(?:MINIUM)?S?|CO-?OP(?:ERATIVE)?S?|CONDOP"),
    ("mobile", r"MOBILE|MANUFACTURED|TRAILERS?"),
    ("land", r"VACANT|UNIMPROVED|(?:RESIDENTIAL|COMMERCIAL|INDUSTRIAL|AGRICULTURAL) LAND"),
    (
        "multi",
        r"MULTI|MULTI-?FAMILY|MULTIPLEX|DUPLEX|TRIPLEX|QUADRUPLEX|QUADPLEX|FOURPLEX|APARTMENTS?|"
        r"(?:TWO|THREE|FOUR|2|3|4) ?-?(?:FAMILY|FAM|UNITS?)|2-4 UNITS",
    ),
    (
        "commercial",
        r"COMMERCIAL|OFFICES?|RETAIL|INDUSTRIAL|STORES?|WAREHOUSES?|HOTELS?|MOTELS?|RESTAURANTS?|PARKING",
    ),
    ("sfr", r"SINGLE|SFR|SFD|ONE ?-?FAMILY|1 ?-?FAMILY|RESIDENCES?|RESIDENTIAL|HOUSES?|DWELLINGS?|DWLGS?|BUNGALOW"),
    ("land", r"LAND|LOTS?|ACREAGE|ACRES"),
    (
        "other",
        r"AGRICULTURAL|AGRICULTURE|FARMS?|EXEMPT|CHURCH(?:ES)?|SCHOOLS?|GOVERNMENT|INSTITUTIONAL|UTILITY|"
        r"RAILROAD|CEMETERY",
    ),
)
_WORD_PATTERNS = tuple((ptype, re.compile(rf"(?<![A-Z0-9])(?:{words})(?![A-Z0-9])")) for ptype, words in _TYPE_WORDS)
_CODE = re.compile(r"^([0-9A-Z]*[0-9][0-9A-Z]*(?:[-./][0-9A-Z]+)*|EX|RR)(?:$|[\s:,;-]+)")
_CODE_SEPARATORS = re.compile(r"[-./\s]")


def property_type_from(value, vocabulary: str | Mapping[str, str] | None = None) -> str | None:
    """A PropertyType value for a land-use value, read through the source's vocabulary (a name in VOCABULARY_NAMES
    or a table of code -> type); None when neither the code nor the words say what it is."""
    return land_use_reader(vocabulary)(value)


def land_use_reader(vocabulary: str | Mapping[str, str] | None = None) -> Callable[[object], str | None]:
    """property_type_from for one vocabulary, its table prepared once and its answers cached (a county has few
    distinct land-use values)."""
    if vocabulary in (None, WORDS):
        lookup = None
    elif isinstance(vocabulary, str) and callable(VOCABULARIES.get(vocabulary)):
        by_code = VOCABULARIES[vocabulary]

        def lookup(code: str, text: str) -> str | None:
            return by_code(_CODE_SEPARATORS.sub("", code))
    else:
        table = _table(VOCABULARIES[vocabulary] if isinstance(vocabulary, str) else vocabulary)

        def lookup(code: str, text: str) -> str | None:
            return _in_table(table, code, text)

    @lru_cache(maxsize=4096)
    def read(value) -> str | None:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = " ".join(str(value or "").upper().replace("_", " ").split())
        match = _CODE.match(text) if lookup else None
        found = lookup(match.group(1), text) if match else None
        if found:
            return found
        for ptype, pattern in _WORD_PATTERNS:
            if pattern.search(text):
                return ptype
        return None

    return read


def _table(vocabulary: Mapping[str, str]) -> dict[str, str]:
    """A table's keys as codes are compared: uppercase, and also without separators ("2-11" is "211")."""
    keys = {}
    for key, ptype in vocabulary.items():
        upper = " ".join(str(key).upper().split())
        keys[upper] = ptype
        keys.setdefault(_CODE_SEPARATORS.sub("", upper), ptype)
    return keys


def _in_table(table: dict[str, str], code: str, text: str) -> str | None:
    """The whole value, the code, the code without separators, then the code's longest leading part in the table
    ("5-17" -> "5")."""
    for key in (text, code):
        if key in table:
            return table[key]
    bare = _CODE_SEPARATORS.sub("", code)
    for end in range(len(bare), 0, -1):
        if bare[:end] in table:
            return table[bare[:end]]
    return None


def vocabulary_errors(vocabulary) -> str | None:
    """What is wrong with a mapping's vocabulary (a name, or a table of code -> property type), or None."""
    if isinstance(vocabulary, str):
        if vocabulary in VOCABULARY_NAMES:
            return None
        return f"unknown vocabulary {vocabulary!r}; use one of {', '.join(VOCABULARY_NAMES)} or a table of codes"
    if not isinstance(vocabulary, dict) or not vocabulary:
        return "a vocabulary is a name or a non-empty table of land-use code -> property type"
    wrong = sorted(str(v) for v in vocabulary.values() if v not in PROPERTY_TYPES)
    if wrong:
        return f"unknown property types {', '.join(repr(w) for w in wrong)}; allowed: {', '.join(PROPERTY_TYPES)}"
    return None
