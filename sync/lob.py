"""Lob print-and-mail API (v1) client: US address verification, postcards, letters, retrieval, cancellation.

Built against Lob's official OpenAPI description (MIT; the part this client calls is shipped as
tests/fixtures/lob/lob-api.yml and served by Prism in tests/sync/test_lob_prism_contract.py):

- `POST /us_verifications` (JSON: `primary_line`, `secondary_line`, `city`, `state`, `zip_code`; city and state, or
  the ZIP, are required) answers a deliverability (`deliverable`, `deliverable_unnecessary_unit`,
  `deliverable_incorrect_unit`, `deliverable_missing_unit`, `undeliverable`) and the USPS-standardized address.
- `POST /postcards` (`to`, `from`, `front`, `back`, `size` 4x6 | 6x9 | 6x11, `use_type`, `mail_type`, `metadata`) and
  `POST /letters` (`to`, `from`, `file`, `color`, `double_sided`, `address_placement`, `use_type`, ...) create a piece;
  `GET`/`DELETE /postcards/{psc_id}` and `/letters/{ltr_id}` retrieve and cancel one.
- Basic auth with the API key as the user and an empty password. Keys starting `test_` never print or mail (and
  verify nothing); `live_` keys do both.
- `Idempotency-Key` header (at most 256 characters) on creates: a retry with the same key returns the piece already
  created. Lob keeps keys for 24 hours only, per mode and per resource, so the key guards retries and re-runs within
  a day; the product's own unique (campaign, lead, touch) record is what prevents a second mailing after that.
- Errors are `{"error": {"message", "status_code", "code"}}`. Rate limits are per key and endpoint (150 requests per
  5 s; 300 for verifications), reported in `ratelimit-*` (spec) or `X-Rate-Limit-*` (docs) headers: when the window is
  used up the client waits for its reset; a 429 is retried after `Retry-After` or the reset.
- The API answers no price: costs come from the configured unit costs (sync/mail_costs.py).

How to integrate
----------------
- Settings: `LOB_API_KEY` (secret, no default; `test_...` in development and CI), `LOB_API_BASE_URL` (default
  `https://api.lob.com/v1`), `LOB_WEBHOOK_SECRET` (sync/lob_webhooks.py), timeouts from `HTTP_TIMEOUT_SECONDS`:
  `LobClient(settings.LOB_API_BASE_URL, settings.LOB_API_KEY, timeout=settings.HTTP_TIMEOUT_SECONDS)`.
- Models (a campaigns app or sync/models.py after issue 17): `MailCampaign` (name, unique slug, audience filter,
  piece kind from mail_pieces.PieceKind, templates, return address, touch days), `MailPiece` unique on
  (campaign, lead, touch) with the Lob id, idempotency key, status, expected delivery date, estimated cost, and a
  `MailVerification` per normalized mailing address (deliverability, standardized address, verified_at) so an address
  is verified once, not once per lead or touch.
- The send service `mail_campaign_send(*, campaign, dry_run)` (behind `manage.py mail_campaign_send SLUG
  [--dry-run]`), per lead of the audience: drip.next_touch() -> the compliance gate before each send (issue 23's
  consent check for channel "mail"; until it lands, local opt-outs and do-not-contact), a refusal recorded as an
  activity -> `verify_us_address()` unless a recent verification exists; `mailable` false -> record the reason and
  skip -> mail_pieces.render_piece() -> create the MailPiece row first (status "sending", key from
  drip.idempotency_key()) -> `postcard_create()`/`letter_create()` -> store the answer. A `LobInputError` or a
  non-retryable `LobError` fails that lead with its message; the run goes on. `LobAuthError` stops the run.
- Pipeline: `"mail": "sync.services.mail_campaigns_send_due"` in dealfinder.pipeline.STEP_SERVICES, placed after
  "ghl_push" in JOBS["nightly"] (and a "mail" job of its own), sending the due touches of every active campaign.
"""

from __future__ import annotations

import datetime
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from sync.outbound import OutboundClient, OutboundError, retry_after_seconds

DEFAULT_BASE_URL = "https://api.lob.com/v1"
MAX_ATTEMPTS = 5
MAX_PACING_WAIT = 10.0  # seconds; Lob's windows are 5 s long, so a reset further away is a clock problem

NAME_MAX = 40  # name and company on a mail piece address
LINE_MAX = 64  # address_line1/2 on a mail piece address
HTML_MAX = 10_000  # inline HTML for front, back or file
IDEMPOTENCY_KEY_MAX = 256
METADATA_MAX_KEYS = 20
POSTCARD_SIZES = ("4x6", "6x9", "6x11")
MAIL_TYPES = ("usps_first_class", "usps_standard")
ADDRESS_PLACEMENTS = ("top_first_page", "insert_blank_page", "bottom_first_page_center", "bottom_first_page")
_ZIP = re.compile(r"^\d{5}(-\d{4})?$")
_VERIFY_ZIP = re.compile(r"^\d{5}(-?\d{4})?$")
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


class LobClient(OutboundClient):
    """One Lob account. `sleep` and `clock` (epoch seconds) are injectable so tests never wait."""

    error = LobError

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float,
        http: httpx.Client | None = None,
        attempts: int = MAX_ATTEMPTS,
        first_wait: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ):
        if not api_key:
            raise LobInputError("LOB_API_KEY is not set (use a test_ key to try campaigns without mailing)")
        super().__init__(timeout=timeout, http=http, attempts=attempts, first_wait=first_wait, sleep=sleep)
        self._base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self._auth = httpx.BasicAuth(api_key, "")
        self._clock = clock
        self._resume_at = 0.0
        self.test_mode = api_key.startswith("test_")

    # --- transport -------------------------------------------------------------------
    def _pace(self, response: httpx.Response) -> float | None:
        """Remember to wait for the window's reset when it is used up; the reset's distance in seconds, if given."""
        headers = response.headers
        remaining = (headers.get("ratelimit-remaining") or headers.get("X-Rate-Limit-Remaining") or "").strip()
        reset = (headers.get("ratelimit-reset") or headers.get("X-Rate-Limit-Reset") or "").strip()
        try:
            until_reset = min(max(0.0, float(reset) - self._clock()), MAX_PACING_WAIT) if reset else None
        except ValueError:
            until_reset = None
        if remaining == "0" and until_reset is not None:
            self._resume_at = self._clock() + until_reset
        return until_reset

    def _send(self, method: str, path: str, *, json: dict | None = None, headers: dict | None = None) -> dict:
        wait = self._resume_at - self._clock()
        if wait > 0:
            self._sleep(wait)
        headers = {"Accept": "application/json", **(headers or {})}
        response = self._exchange(method, self._base_url + path, json=json, headers=headers, auth=self._auth)
        until_reset = self._pace(response)
        if response.status_code >= 400:
            raise _error_from(response, until_reset)
        return self._json_object(response)

    def _request(self, method: str, path: str, *, json: dict | None = None, headers: dict | None = None) -> dict:
        return self._with_retries(lambda: self._send(method, path, json=json, headers=headers))

    # --- verification ------------------------------------------------------------------
    def verify_us_address(
        self, *, line1: str, line2: str = "", city: str = "", state: str = "", zip_code: str = ""
    ) -> Verification:
        """Verify one US address (`POST /us_verifications`); returns a Verification."""
        problems = []
        if not line1.strip():
            problems.append("address line 1 is empty")
        if zip_code and not _VERIFY_ZIP.match(zip_code):
            problems.append(f"the ZIP code must be 12345 or 12345-6789, not {zip_code!r}")
        if not zip_code and not (city.strip() and state.strip()):
            problems.append("a ZIP code, or a city and a state, is required")
        if problems:
            raise LobInputError("address to verify: " + "; ".join(problems))
        body = {"primary_line": line1.strip(), "secondary_line": line2.strip(), "city": city.strip()}
        body |= {"state": state.strip(), "zip_code": zip_code}
        return Verification.from_api(
            self._request("POST", "/us_verifications", json={k: v for k, v in body.items() if v})
        )

    # --- mail pieces -------------------------------------------------------------------
    def postcard_create(
        self,
        *,
        to: Address,
        from_: Address | None,
        front: str,
        back: str,
        size: str,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
        mail_type: str = "usps_first_class",
        use_type: str = "marketing",
    ) -> MailPiece:
        """Create a postcard (`POST /postcards`) from inline HTML for each side."""
        if size not in POSTCARD_SIZES:
            raise LobInputError(f"postcard size must be one of {', '.join(POSTCARD_SIZES)}, not {size!r}")
        body: dict[str, Any] = {
            "to": to.to_lob("to"),
            "front": _html("front", front),
            "back": _html("back", back),
            "size": size,
            **_common(mail_type=mail_type, use_type=use_type, metadata=metadata),
        }
        if from_ is not None:
            body["from"] = from_.to_lob("from")
        data = self._request("POST", "/postcards", json=body, headers=_idempotency(idempotency_key))
        return MailPiece.from_api(data)

    def letter_create(
        self,
        *,
        to: Address,
        from_: Address,
        file: str,
        idempotency_key: str,
        color: bool = False,
        double_sided: bool = True,
        address_placement: str = "top_first_page",
        metadata: Mapping[str, str] | None = None,
        mail_type: str = "usps_first_class",
        use_type: str = "marketing",
    ) -> MailPiece:
        """Create a letter (`POST /letters`) from inline HTML; a letter needs a return (`from_`) address."""
        if address_placement not in ADDRESS_PLACEMENTS:
            raise LobInputError(f"address placement must be one of {', '.join(ADDRESS_PLACEMENTS)}")
        body = {
            "to": to.to_lob("to"),
            "from": from_.to_lob("from"),
            "file": _html("file", file),
            "color": bool(color),
            "double_sided": bool(double_sided),
            "address_placement": address_placement,
            **_common(mail_type=mail_type, use_type=use_type, metadata=metadata),
        }
        data = self._request("POST", "/letters", json=body, headers=_idempotency(idempotency_key))
        return MailPiece.from_api(data)

    def piece_get(self, piece_id: str) -> MailPiece:
        """A postcard (`psc_...`) or letter (`ltr_...`) with its tracking events."""
        return MailPiece.from_api(self._request("GET", _piece_path(piece_id)))

    def piece_cancel(self, piece_id: str) -> bool:
        """Cancel a piece before it is printed (Lob refuses once it is in production); True when Lob deleted it."""
        return bool(self._request("DELETE", _piece_path(piece_id)).get("deleted"))


def _piece_path(piece_id: str) -> str:
    if re.match(r"^psc_[A-Za-z0-9]+$", piece_id):
        return f"/postcards/{piece_id}"
    if re.match(r"^ltr_[A-Za-z0-9]+$", piece_id):
        return f"/letters/{piece_id}"
    raise LobInputError(f"not a Lob postcard or letter id: {piece_id!r}")


def _html(side: str, html: str) -> str:
    if "<" not in html:
        raise LobInputError(f"{side}: Lob takes inline HTML here, and this has no HTML tag")
    if len(html) > HTML_MAX:
        raise LobInputError(f"{side}: {len(html):,} characters of HTML; Lob takes at most {HTML_MAX:,} inline")
    return html


def _idempotency(key: str) -> dict[str, str]:
    if not key or len(key) > IDEMPOTENCY_KEY_MAX:
        raise LobInputError(f"an idempotency key of 1 to {IDEMPOTENCY_KEY_MAX} characters is required")
    return {"Idempotency-Key": key}


def _common(*, mail_type: str, use_type: str, metadata: Mapping[str, str] | None) -> dict[str, Any]:
    if mail_type not in MAIL_TYPES:
        raise LobInputError(f"mail type must be one of {', '.join(MAIL_TYPES)}, not {mail_type!r}")
    if use_type not in ("marketing", "operational"):
        raise LobInputError(f"use type must be marketing or operational, not {use_type!r}")
    body: dict[str, Any] = {"mail_type": mail_type, "use_type": use_type}
    if metadata:
        if len(metadata) > METADATA_MAX_KEYS:
            raise LobInputError(f"Lob takes at most {METADATA_MAX_KEYS} metadata keys")
        for key, value in metadata.items():
            text = str(value)
            if len(key) >= 40 or len(text) >= 500 or any(c in key + text for c in '"\\'):
                raise LobInputError(f'metadata {key!r}: keys under 40 and values under 500 characters, no " or \\')
        body["metadata"] = {key: str(value) for key, value in metadata.items()}
    return body


def _error_from(response: httpx.Response, until_reset: float | None) -> LobError:
    """`{"error": {"message", "status_code", "code"}}`; 401/403 become LobAuthError with a hint."""
    try:
        data = response.json()
    except ValueError:
        data = {}
    error = data.get("error") if isinstance(data, dict) else None
    error = error if isinstance(error, dict) else {}
    message = str(error.get("message") or response.reason_phrase or "error")
    code = str(error.get("code") or "")
    status = response.status_code
    if status in (401, 403):
        return LobAuthError(status, f"{message} - check LOB_API_KEY (a secret test_ or live_ key)", code=code)
    retry_after = retry_after_seconds(response.headers) if status in (429, 503) else None
    if status == 429 and retry_after is None:
        retry_after = until_reset
    return LobError(status, message, code=code, retry_after=retry_after)
