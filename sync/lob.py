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
- Models (a campaigns app or sync/models.py): `MailCampaign` (name, unique slug, audience filter,
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
- Pipeline: `"mail": mail_campaigns_send_due` in STEP_SERVICES (dealfinder/ops/pipeline/steps.py), after "ghl_push"
  in JOBS["nightly"] (dealfinder/ops/pipeline/runs.py), and a "mail" job of its own: the due touches of every
  active campaign.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from sync.lob_records import (
    Address,
    LobAuthError,
    LobError,
    LobInputError,
    MailPiece,
    Verification,
)
from sync.outbound import OutboundClient, retry_after_seconds

DEFAULT_BASE_URL = "https://api.lob.com/v1"
MAX_ATTEMPTS = 5
MAX_PACING_WAIT = 10.0  # seconds; Lob's windows are 5 s long, so a reset further away is a clock problem
HTML_MAX = 10_000  # inline HTML for front, back or file
IDEMPOTENCY_KEY_MAX = 256
METADATA_MAX_KEYS = 20
POSTCARD_SIZES = ("4x6", "6x9", "6x11")
MAIL_TYPES = ("usps_first_class", "usps_standard")
ADDRESS_PLACEMENTS = ("top_first_page", "insert_blank_page", "bottom_first_page_center", "bottom_first_page")
_VERIFY_ZIP = re.compile(r"^\d{5}(-?\d{4})?$")


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
