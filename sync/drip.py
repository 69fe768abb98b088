"""The drip: which touch of a mail campaign is due for a lead today, and why not when none is; idempotency keys.

A campaign mails its touches on days 0, 21, 42, ... (touch 1 is day 0). Touch 1 is due as soon as the lead is in
the audience (and the campaign has started, when it has a start date); touch N+1 is due (day[N+1] - day[N]) days
after touch N was actually sent, so a touch that went out late never squeezes the next one closer. The drip stops
for good when the owner opted out of mail or is on the do-not-contact list, when the lead is no longer new
(contacted, follow-up, negotiating, under contract, closed, dead: any status outside MAILABLE_STATUSES, an allowlist
so a status added later stops mail rather than sending it), when a piece came back returned to sender (the address
does not reach the owner), or when every touch is sent.

How to integrate
----------------
- The campaign stores its touch days as text ("0,21,42"; `parse_touch_days` in the model's clean()), optionally a
  start date; the MailPiece rows of a (campaign, lead) give `sent` (touch, sent date, returned from the webhook).
- The send service loads, per batch of leads, the pieces already sent (one query), calls `next_touch()` per lead,
  sends only `decision.due`, and shows `decision.message` for the others in the dry run (`mail_campaign_send --dry-run`
  prints the audience, the cost estimate and who is skipped and why). The compliance gate (issue 23) runs after
  this, before each send: `opted_out` and `do_not_contact` here are the gate's refusals for the owner (its consent
  records, the do-not-contact list, the lead's MailOptOut).
- `idempotency_key(campaign_id=..., lead_id=..., touch=...)` goes on the MailPiece row (unique) and in the
  `Idempotency-Key` header. Lob keeps keys for 24 hours: the unique row is what stops a second mailing later.
"""

from __future__ import annotations

import datetime
import enum
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

DEFAULT_TOUCH_DAYS = (0, 21, 42)
MAX_TOUCHES = 12
MAX_DAY = 730
MAILABLE_STATUSES = frozenset({"new"})  # leads.models.Lead.Status.NEW
_STATUS_WORDS = {
    "contacted": "contacted",
    "follow_up": "in follow-up",
    "negotiating": "negotiating",
    "under_contract": "under contract",
    "closed_won": "closed",
    "dead": "dead",
}


def parse_touch_days(value: str | Sequence[int]) -> tuple[int, ...]:
    """Touch days from "0, 21, 42" (or a sequence); ValueError saying what is wrong otherwise."""
    if isinstance(value, str):
        parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
        if not all(re.fullmatch(r"\d+", p) for p in parts):
            raise ValueError(f"touch days are whole numbers of days separated by commas, e.g. 0,21,42 (not {value!r})")
        days = tuple(int(p) for p in parts)
    else:
        days = tuple(int(d) for d in value)
    if not days:
        raise ValueError("a drip needs at least one touch (day 0)")
    if days[0] != 0:
        raise ValueError("the first touch is on day 0")
    if any(later <= earlier for earlier, later in itertools.pairwise(days)):
        raise ValueError(f"touch days must increase: {', '.join(map(str, days))}")
    if len(days) > MAX_TOUCHES:
        raise ValueError(f"at most {MAX_TOUCHES} touches")
    if days[-1] > MAX_DAY:
        raise ValueError(f"the last touch is at most day {MAX_DAY}")
    return days


@dataclass(frozen=True)
class SentTouch:
    touch: int  # 1-based
    sent_on: datetime.date
    returned: bool = False  # Lob reported it returned to sender


class Reason(enum.StrEnum):
    DUE = "due"
    WAITING = "waiting"
    NOT_STARTED = "not_started"
    COMPLETE = "complete"
    OPTED_OUT = "opted_out"
    DO_NOT_CONTACT = "do_not_contact"
    LEAD_STATUS = "lead_status"
    RETURNED = "returned"


STOPPED = frozenset({Reason.COMPLETE, Reason.OPTED_OUT, Reason.DO_NOT_CONTACT, Reason.LEAD_STATUS, Reason.RETURNED})


@dataclass(frozen=True)
class DripDecision:
    touch: int | None  # the touch due (or next), 1-based; None once the drip has stopped
    reason: Reason
    message: str
    due_on: datetime.date | None = None

    @property
    def due(self) -> bool:
        return self.reason is Reason.DUE

    @property
    def stopped(self) -> bool:
        """The lead is out of this drip for good (nothing will ever be due)."""
        return self.reason in STOPPED


def next_touch(
    *,
    touch_days: Sequence[int],
    sent: Sequence[SentTouch],
    today: datetime.date,
    lead_status: str,
    opted_out: bool = False,
    do_not_contact: bool = False,
    starts_on: datetime.date | None = None,
) -> DripDecision:
    """Whether a touch is due for one lead today, which, and the reason in words when none is."""
    days = parse_touch_days(touch_days)
    total = len(days)
    if opted_out:
        return DripDecision(None, Reason.OPTED_OUT, "the owner opted out of mail")
    if do_not_contact:
        return DripDecision(None, Reason.DO_NOT_CONTACT, "the owner is on the do-not-contact list")
    if lead_status not in MAILABLE_STATUSES:
        word = _STATUS_WORDS.get(lead_status, f"{lead_status!r}")
        return DripDecision(None, Reason.LEAD_STATUS, f"the lead is {word}: the drip mails new leads only")
    returned = min((s for s in sent if s.returned), key=lambda s: s.touch, default=None)
    if returned is not None:
        message = f"touch {returned.touch} came back returned to sender: the mailing address does not reach the owner"
        return DripDecision(None, Reason.RETURNED, message)
    last = max(sent, key=lambda s: (s.touch, s.sent_on), default=None)
    if last is None:
        if starts_on is not None and today < starts_on:
            message = f"the campaign starts on {starts_on.isoformat()}"
            return DripDecision(1, Reason.NOT_STARTED, message, starts_on)
        return DripDecision(1, Reason.DUE, f"touch 1 of {total} is due", today)
    if last.touch >= total:
        return DripDecision(None, Reason.COMPLETE, f"all {total} touches sent (the last on {last.sent_on.isoformat()})")
    touch = last.touch + 1
    gap = days[touch - 1] - days[touch - 2]
    due_on = last.sent_on + datetime.timedelta(days=gap)
    after = f"{gap} days after touch {last.touch} on {last.sent_on.isoformat()}"
    if today < due_on:
        return DripDecision(
            touch, Reason.WAITING, f"touch {touch} of {total} is due on {due_on.isoformat()}, {after}", due_on
        )
    return DripDecision(touch, Reason.DUE, f"touch {touch} of {total} is due ({after})", due_on)


def idempotency_key(*, campaign_id: int | str, lead_id: int | str, touch: int, namespace: str = "dealfinder") -> str:
    """`<namespace>-mail-<campaign>-<lead>-<touch>`: the same on every run, so a retry or a second run within Lob's
    24 hours gets the piece already created back instead of a second one.

    Give each installation sharing a Lob account its own `namespace` (staging and production, say), or one would be
    answered with the other's pieces.
    """
    parts = [namespace, "mail", str(campaign_id), str(lead_id), str(int(touch))]
    if not all(re.fullmatch(r"[A-Za-z0-9_.]+", p) for p in parts):
        raise ValueError(f"idempotency key parts must be letters, digits, '_' or '.': {parts!r}")
    key = "-".join(parts)
    if len(key) > 256:
        raise ValueError("an idempotency key is at most 256 characters")
    return key
