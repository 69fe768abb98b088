"""Owner mailing addresses as resolution compares them. Pure.

Ingest already normalizes mailing addresses (`properties.normalize.normalize_address`, USPS Pub 28 form) and stores
the one-line form on `Property.owner_mailing_address` ("123 N MAIN ST APT 4, ORLANDO, FL 32801"). Resolution takes
the parts; `MailingAddress.from_line` reads them back from that stored line without re-parsing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPACES = re.compile(r"\s+")
# "P.O. BOX", "P O BOX", "POST OFFICE BOX", "PO BX", "BOX" -> "PO BOX" (ingest keeps what USPS parsing left of it)
_PO_BOX = re.compile(r"^(?:P\s*O\s*|POST\s+OFFICE\s+|POB\s+)?(?:BOX|BX)\s*#?\s*(?=\d)")
_STREET_PUNCTUATION = re.compile(r"[.,]")
_STATE_ZIP = re.compile(r"(?:([A-Z]{2}) )?(\d{5})(?:-?\d{4})?|([A-Z]{2})")


def _clean(value) -> str:
    return _SPACES.sub(" ", str(value or "")).strip().upper()


@dataclass(frozen=True, slots=True)
class MailingAddress:
    street: str  # the whole street line, unit included: "123 N MAIN ST APT 4", "PO BOX 55"
    city: str = ""
    state: str = ""  # two letters; a foreign mailing address keeps what the source wrote
    zip: str = ""  # five digits

    def __post_init__(self):
        for field in ("street", "city", "state"):
            object.__setattr__(self, field, _clean(getattr(self, field)))
        object.__setattr__(self, "zip", re.sub(r"\D", "", str(self.zip or ""))[:5])

    @classmethod
    def from_line(cls, line) -> MailingAddress | None:
        """Parts of a one-line address as `normalize_address` writes it ("STREET, CITY, ST 12345"); None if blank.
        A line that was stored unparsed (no commas) is all street."""
        text = _clean(line)
        if not text:
            return None
        parts = text.rsplit(", ", 2)
        if len(parts) == 1:
            return cls(text)
        tail = _STATE_ZIP.fullmatch(parts[-1])
        if tail is None:  # "STREET, CITY" or "STREET, CITY, SOMETHING ELSE"
            return cls(parts[0], parts[1] if len(parts) > 1 else "")
        state = tail.group(1) or tail.group(3) or ""
        city = parts[1] if len(parts) == 3 else ""
        return cls(parts[0], city, state, tail.group(2) or "")

    @property
    def key(self) -> str:
        """Street line and zip (or city and state when there is no zip); "" when there is no street."""
        if not self.street:
            return ""
        street = _street_key(self.street)
        return f"{street}|{self.zip}" if self.zip else f"{street}|{self.city}|{self.state}"

    @property
    def one_line(self) -> str:
        tail = " ".join(p for p in (self.state, self.zip) if p)
        return ", ".join(p for p in (self.street, self.city, tail) if p)


def _street_key(street: str) -> str:
    """The street line as keys compare it: periods and commas dropped, PO boxes in one form."""
    text = _SPACES.sub(" ", _STREET_PUNCTUATION.sub(" ", street)).strip()
    return _PO_BOX.sub("PO BOX ", text)
