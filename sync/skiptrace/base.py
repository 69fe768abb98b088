"""Skip tracing behind one interface: what is asked, what comes back, what a call costs.

A provider turns properties (by address, or by parcel number with county and state) into the persons it links to
them, with phones (type, DNC and TCPA flags, rank) and emails. Providers bill per hit (a request that matched), so
each `trace()` is one billable API call of at most `batch_size` requests, and `call_cost()` says what it cost.

Results carry duties: phone and email data from skip tracing falls under the DPPA and GLBA (a permissible purpose
is required) and phones on the DNC registry or flagged for TCPA must not be called or texted without consent.

How to integrate
----------------
- Settings: `SKIPTRACE_PROVIDER` ("batchdata"), `BATCHDATA_API_TOKEN` (secret, no default),
  `BATCHDATA_API_BASE_URL` (default https://api.batchdata.com), `SKIPTRACE_COST_PER_HIT` (the price of your plan;
  no default), `SKIPTRACE_WINDOW_DAYS` (how long a trace of an owner stands before it may be repeated).
- Models (sync/skiptrace_models.py): a `LeadSkipTrace` row per (owner, call), with the lead whose property was
  asked, the status and the persons as JSON; a `SkipTraceCall` row per API call (provider, requests, hits, cost,
  started/finished) so spend is counted per call; `LeadContactPoint` rows (phone or email, type, DNC/TCPA flags,
  rank, source) on the Owner (on the lead only while its parcel has no resolved owner); a
  `PermissibleUseAcknowledgement` (user, purpose, at) the trace service requires before the first trace.
- The service `sync.skip_trace.lead_skip_trace(*, leads, provider, now)`: groups the leads by owner
  (`trace_subjects`), window.owners_due_for_trace() picks who may be traced (never twice inside the window, per
  owner, counting hits and no-hits, not errors: nothing was billed and a re-run may try again), builds TraceRequests
  (address from the property, or APN + county + state; the person's name), `chunked(requests,
  provider.batch_size)`, calls `provider.trace()` per chunk, records the call with `call_cost()` and stores each
  result on its owner (window.contacts_to_add() keeps what a broker entered). A SkipTraceError fails that chunk with
  its message; the run goes on with the next. The owner's GoHighLevel contact carries its best phone and email
  (`sync.payloads.contact_channels`: never a DNC or TCPA phone), and every call or text passes the compliance gate.
- Entry points: the management command `skip_trace --tiers A,B` (an admin action on owners/leads, with its own
  permission since it spends money, is not built yet); not the nightly chain, unless an operator adds a
  "skip_trace" step to the pipeline (dealfinder/ops/pipeline/steps.py) on purpose.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, TypeVar

T = TypeVar("T")


class PhoneType(enum.StrEnum):
    MOBILE = "mobile"
    LANDLINE = "landline"
    VOIP = "voip"
    UNKNOWN = "unknown"


class TraceStatus(enum.StrEnum):
    HIT = "hit"  # matched: persons found, billed
    NO_HIT = "no_hit"  # no match: not billed
    ERROR = "error"  # the provider could not process this request: not billed


@dataclass(frozen=True)
class TraceAddress:
    street: str
    city: str = ""
    state: str = ""
    zip_code: str = ""


@dataclass(frozen=True)
class TraceRequest:
    """One property to trace, by address or by parcel number (APN) with county and state. `key` is the caller's
    own id (the owner's), echoed on the result."""

    key: str
    address: TraceAddress | None = None
    apn: str = ""
    county: str = ""
    state: str = ""
    owner_first: str = ""  # optional: helps the provider pick the right person
    owner_last: str = ""

    def __post_init__(self):
        if not self.key:
            raise ValueError("a trace request needs a key (the owner it is for)")
        if self.address is not None:
            a = self.address
            if not a.street.strip() or not (a.zip_code.strip() or (a.city.strip() and a.state.strip())):
                raise ValueError(f"{self.key}: an address needs a street and a ZIP code, or a city and state")
        elif not (self.apn.strip() and self.county.strip() and self.state.strip()):
            raise ValueError(f"{self.key}: trace by address, or by parcel number with its county and state")


@dataclass(frozen=True)
class Phone:
    number: str  # digits only, 10 for a US number
    type: PhoneType = PhoneType.UNKNOWN
    dnc: bool | None = None  # on the Do Not Call registry; None when the provider did not say
    tcpa: bool | None = None  # flagged as a TCPA litigator / blacklisted number
    reachable: bool | None = None
    rank: int | None = None  # the provider's order of likelihood, 1 = best
    score: int | None = None  # the provider's confidence, 0-100
    carrier: str = ""


@dataclass(frozen=True)
class Email:
    address: str
    rank: int | None = None
    tested: bool | None = None


@dataclass(frozen=True)
class Person:
    full_name: str
    first_name: str = ""
    last_name: str = ""
    is_owner: bool | None = None  # the provider links this person to the property as an owner
    deceased: bool | None = None
    litigator: bool | None = None  # a known TCPA litigator: never call or text
    phones: tuple[Phone, ...] = ()
    emails: tuple[Email, ...] = ()


@dataclass(frozen=True)
class TraceResult:
    key: str
    status: TraceStatus
    persons: tuple[Person, ...] = ()
    message: str = ""  # why, for an error

    @property
    def billable(self) -> bool:
        return self.status is TraceStatus.HIT


class SkipTraceError(Exception):
    """The whole call failed (credentials, balance, a refused request, or the provider kept failing)."""


class SkipTraceProvider(Protocol):
    name: str
    batch_size: int  # requests per call at most
    cost_per_hit: Decimal

    def trace(self, requests: Sequence[TraceRequest]) -> list[TraceResult]:
        """One API call: a result per request, in the order asked. Raises SkipTraceError when the call fails."""
        ...


@dataclass(frozen=True)
class CallCost:
    requests: int
    hits: int
    no_hits: int
    errors: int
    cost: Decimal


def call_cost(results: Sequence[TraceResult], cost_per_hit: Decimal) -> CallCost:
    """What one call cost: hits are billed, no-hits and errors are not."""
    hits = sum(1 for r in results if r.billable)
    no_hits = sum(1 for r in results if r.status is TraceStatus.NO_HIT)
    return CallCost(len(results), hits, no_hits, len(results) - hits - no_hits, cost_per_hit * hits)


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most `size` items."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def phone_digits(number: str) -> str:
    """A US phone number as its 10 digits ("(407) 555-0100", "+1 407 555 0100" -> "4075550100"); other input as
    its digits."""
    digits = re.sub(r"\D", "", number or "")
    return digits[1:] if len(digits) == 11 and digits.startswith("1") else digits
