"""What Lob's API reads and answers, as plain values: addresses (checked before sending), verifications, mail
pieces and their tracking events, and Lob's errors. No HTTP here; the client is sync/lob.py."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Any

from sync.outbound import OutboundError

NAME_MAX = 40  # name and company on a mail piece address
LINE_MAX = 64  # address_line1/2 on a mail piece address
_ZIP = re.compile(r"^\d{5}(-\d{4})?$")
_STATE = re.compile(r"^[A-Za-z]{2}$")

DELIVERABLE = "deliverable"
DELIVERABLE_UNNECESSARY_UNIT = "deliverable_unnecessary_unit"
DELIVERABLE_INCORRECT_UNIT = "deliverable_incorrect_unit"
DELIVERABLE_MISSING_UNIT = "deliverable_missing_unit"
UNDELIVERABLE = "undeliverable"
MAILABLE = frozenset({DELIVERABLE, DELIVERABLE_UNNECESSARY_UNIT, DELIVERABLE_INCORRECT_UNIT, DELIVERABLE_MISSING_UNIT})
_DELIVERABILITY_NOTES = {
    DELIVERABLE: "",
    DELIVERABLE_UNNECESSARY_UNIT: "USPS delivers to the building; the unit number is not needed",
    DELIVERABLE_INCORRECT_UNIT: "USPS knows the building but not this unit number; the piece may not reach the owner",
    DELIVERABLE_MISSING_UNIT: "the building needs a unit number the address lacks; the piece may not reach the owner",
    UNDELIVERABLE: "USPS cannot deliver to this address",
    "": "Lob returned no deliverability (a test_ key verifies nothing)",
}


class LobError(OutboundError):
    """An error answer from Lob (or a network failure: status_code 0)."""

    service = "Lob"


class LobAuthError(LobError):
    """401/403: the key is missing, wrong, publishable, or the account cannot send live mail yet."""


class LobInputError(ValueError):
    """A request Lob would refuse, caught before it is sent (the message says which field and why)."""


def recipient_name(name: str, limit: int = NAME_MAX) -> str:
    """`name` with its whitespace collapsed, cut at a word boundary to fit Lob's `limit` (40) characters."""
    name = " ".join(name.split())
    if len(name) <= limit:
        return name
    cut = name[: limit + 1].rsplit(" ", 1)[0]
    return (cut if 0 < len(cut) <= limit else name[:limit]).rstrip(" ,&")


@dataclass(frozen=True)
class Address:
    """A US address as a mail piece's `to` or `from` (name or company is required, 40 characters each)."""

    line1: str
    city: str
    state: str
    zip_code: str
    line2: str = ""
    name: str = ""
    company: str = ""

    def to_lob(self, role: str) -> dict[str, str]:
        """The inline address object; raises LobInputError naming the `role` ("to", "from") and the field."""
        problems = []
        if not (self.name.strip() or self.company.strip()):
            problems.append("a name or a company is required")
        for label, value, limit in (("name", self.name, NAME_MAX), ("company", self.company, NAME_MAX)):
            if len(value) > limit:
                problems.append(f"{label} is longer than {limit} characters ({value!r})")
        if not self.line1.strip():
            problems.append("address line 1 is empty")
        for label, value in (("address line 1", self.line1), ("address line 2", self.line2)):
            if len(value) > LINE_MAX:
                problems.append(f"{label} is longer than {LINE_MAX} characters")
        if not self.city.strip():
            problems.append("the city is empty")
        if not _STATE.match(self.state):
            problems.append(f"the state must be a two-letter code, not {self.state!r}")
        if not _ZIP.match(self.zip_code):
            problems.append(f"the ZIP code must be 12345 or 12345-6789, not {self.zip_code!r}")
        if problems:
            raise LobInputError(f"{role} address: " + "; ".join(problems))
        body = {
            "name": self.name.strip(),
            "company": self.company.strip(),
            "address_line1": self.line1.strip(),
            "address_line2": self.line2.strip(),
            "address_city": self.city.strip(),
            "address_state": self.state.upper(),
            "address_zip": self.zip_code,
        }
        return {key: value for key, value in body.items() if value}


@dataclass(frozen=True)
class Verification:
    """A US verification: deliverability and the USPS-standardized address (upper case)."""

    id: str
    deliverability: str
    primary_line: str = ""
    secondary_line: str = ""
    last_line: str = ""
    city: str = ""
    state: str = ""
    zip_code: str = ""
    zip_code_plus_4: str = ""
    county: str = ""
    address_type: str = ""  # residential | commercial | ""
    record_type: str = ""  # street | highrise | firm | po_box | rural_route | general_delivery | ""
    vacant: bool | None = None  # USPS DPV vacant flag; None when Lob did not say
    confidence_score: float | None = None
    confidence_level: str = ""

    @classmethod
    def from_api(cls, data: dict) -> Verification:
        components = data.get("components") or {}
        analysis = data.get("deliverability_analysis") or {}
        confidence = data.get("lob_confidence_score") or {}
        vacant = {"Y": True, "N": False}.get(analysis.get("dpv_vacant") or "")
        return cls(
            id=data.get("id") or "",
            deliverability=data.get("deliverability") or "",
            primary_line=data.get("primary_line") or "",
            secondary_line=data.get("secondary_line") or "",
            last_line=data.get("last_line") or "",
            city=components.get("city") or "",
            state=components.get("state") or "",
            zip_code=components.get("zip_code") or "",
            zip_code_plus_4=components.get("zip_code_plus_4") or "",
            county=components.get("county") or "",
            address_type=components.get("address_type") or "",
            record_type=components.get("record_type") or "",
            vacant=vacant,
            confidence_score=confidence.get("score"),
            confidence_level=confidence.get("level") or "",
        )

    @property
    def mailable(self) -> bool:
        """USPS delivers to the address (unit problems included; see `notes`)."""
        return self.deliverability in MAILABLE

    @property
    def notes(self) -> list[str]:
        """Why the address is not mailable, or what to know before mailing it; empty for a clean address."""
        known = _DELIVERABILITY_NOTES.get(self.deliverability, f"unknown deliverability {self.deliverability!r}")
        notes = [known] if known else []
        if self.vacant:
            notes.append("USPS lists the address as vacant")
        return notes

    def address(self, *, name: str = "", company: str = "") -> Address:
        """The standardized address to mail to (ZIP+4 when Lob gave it)."""
        zip_code = f"{self.zip_code}-{self.zip_code_plus_4}" if self.zip_code_plus_4 else self.zip_code
        return Address(
            line1=self.primary_line,
            line2=self.secondary_line,
            city=self.city,
            state=self.state,
            zip_code=zip_code,
            name=name,
            company=company,
        )


@dataclass(frozen=True)
class TrackingEvent:
    """A USPS scan Lob reports: `name` such as "In Transit", "Delivered", "Returned to Sender"."""

    id: str
    name: str
    type: str = "normal"  # normal | certified
    time: datetime.datetime | None = None
    location: str = ""  # ZIP code of the scan, when known
    details: dict[str, Any] = field(default_factory=dict)  # certified letters: event, description, action_required

    @classmethod
    def from_api(cls, data: dict) -> TrackingEvent:
        return cls(
            id=data.get("id") or "",
            name=data.get("name") or "",
            type=data.get("type") or "normal",
            time=parse_datetime(data.get("time") or data.get("date_created")),
            location=data.get("location") or "",
            details=data.get("details") or {},
        )


@dataclass(frozen=True)
class MailPiece:
    """A postcard or letter as Lob answers it."""

    id: str
    kind: str  # postcard | letter
    expected_delivery_date: datetime.date | None = None
    send_date: datetime.datetime | None = None
    date_created: datetime.datetime | None = None
    size: str = ""
    mail_type: str = ""
    status: str = ""  # processed | rendered | failed | "" (older pieces)
    deleted: bool = False
    url: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    tracking_events: tuple[TrackingEvent, ...] = ()

    @classmethod
    def from_api(cls, data: dict) -> MailPiece:
        piece_id = data.get("id") or ""
        if not piece_id:
            raise LobError(200, "the answer has no piece id")
        expected = data.get("expected_delivery_date")
        try:
            expected_date = datetime.date.fromisoformat(expected[:10]) if expected else None
        except ValueError:
            expected_date = None
        return cls(
            id=piece_id,
            kind=data.get("object") or ("letter" if piece_id.startswith("ltr_") else "postcard"),
            expected_delivery_date=expected_date,
            send_date=parse_datetime(data.get("send_date")),
            date_created=parse_datetime(data.get("date_created")),
            size=data.get("size") or "",
            mail_type=data.get("mail_type") or "",
            status=data.get("status") or "",
            deleted=bool(data.get("deleted")),
            url=data.get("url") or "",
            metadata={str(k): str(v) for k, v in (data.get("metadata") or {}).items()},
            tracking_events=tuple(TrackingEvent.from_api(e) for e in data.get("tracking_events") or []),
        )


def parse_datetime(value: Any) -> datetime.datetime | None:
    """Lob's ISO-8601 timestamps ("2021-03-24T22:51:42.838Z"), as aware datetimes; None when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)
