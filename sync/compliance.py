"""The compliance gate: may this message go to this contact now? Plain values in, a `Decision` out.

Every outbound message passes here first: an SMS, a GoHighLevel workflow enrolment, an email blast, a row of a list
exported for a dialer, a Lob mail piece. The decision says allow or refuse, the reason in the broker's words, and
the consent records it relied on, so the send (or the refusal) can be recorded with them.

Consent, one record per contact and channel (sms, call, email, mail, workflow), merged from events:
- GoHighLevel's DND: `dnd: true` stops sms, call, email and workflows; `dndSettings.{SMS,Call,Email}.status`
  "active" stops that channel, "permanent" stops it for good (no later opt-in lifts it); "inactive" only means
  DND is off, which is not consent, so it adds nothing (`events_from_ghl`). WhatsApp/GMB/FB are not used here.
- Replies (`reply_events`): STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT (the CTIA opt-out words) and REVOKE,
  OPT OUT (named with them by the FCC's 2024 consent-revocation order, 47 CFR 64.1200(a)(10)); a short message
  that says "stop texting me", "remove me", "wrong number" counts too. STOP by text also stops calls and workflows
  (the order makes a revocation cover robocalls and robotexts alike); STOPALL stops every channel. START and
  UNSTOP, alone in a message, opt back in to what STOP stopped. A long message that merely contains such a word
  is not acted on but flagged `needs_review`, for a broker to read.
- Local opt-outs and opt-ins (a broker's note, a buyer's `sms_opt_in`, a web form) and phone DNC flags from skip
  tracing: `ConsentEvent`s with their source.
- The do-not-contact list: permanent, every channel (`do_not_contact_events`).
Per channel the newest event wins (START after STOP texts again, STOP after START does not), a tie goes to the
refusal, and a permanent refusal beats everything.

Quiet hours, in the contact's own time zones (`sync.time_zones.locate`: ZIP, state, phone area code; every zone
when unsure, which is the strictest reading): the federal window is 8:00-21:00 local (47 CFR 64.1200(c)(1));
states with stricter windows, Sunday or holiday bans are in `STATE_RULES` with their sources. SMS and workflow
enrolments are checked now; a dialer export is checked for consent only and carries the permitted window for the
dialer; email and mail have no hours. A wholesaler's offer to buy is treated as a solicitation (the strict
reading; some courts disagree). A refusal for the hour says when the window opens (`retry_at`).

A message about a property is refused when its auction date has passed (in the property's own time zones) or its
lead is dead or closed.

How to integrate
----------------
- A `Consent` model (sync app): contact (owner or buyer, by a generic key or two nullable FKs), channel, status
  (granted/revoked/unknown), source, detail, permanent, at, and the raw evidence (the GoHighLevel payload, the
  reply's message id); unique (contact, channel). A `ConsentEvent` log keeps every event; the record is
  `merge_consents(events)` stored (one bulk upsert per batch). A `DoNotContact` model (phone/email/owner, reason,
  added_by) feeds `do_not_contact_events`.
- Where events come from: the GoHighLevel pull, the reconcile run and ContactDndUpdate/ContactUpdate webhooks
  call `events_from_ghl(contact_json, seen_at=...)`; InboundMessage webhooks call `reply_events(body, ...)` (and
  open a broker task when `needs_review`); buyers' `sms_opt_in` becomes an opt-in event; skip-trace DNC flags
  become `Source.DNC_REGISTRY` refusals for call and sms.
- Where the gate is called (one `decide()` per contact and message, before the outside call): the buyer SMS on a
  match and any `GHLClient.sms_send` (Action.SMS), `contact_add_to_workflow` (Action.WORKFLOW, with
  `GHL_WORKFLOW_CHANNELS`), email blasts (Action.EMAIL_BLAST), the buyers/leads CSV for a dialer
  (Action.DIALER_EXPORT: write `decision.window` and the zones into the file), Lob pieces in
  `mail_campaign_send` (Action.MAIL_PIECE, after `sync.drip.next_touch`). A refusal becomes an Activity with
  `decision.message`; a send stores `decision.relied_on` (channel, status, source, at) with the message.
- Settings: `COMPLIANCE_SMS_REQUIRES_OPT_IN` (default True -> `Policy.require_opt_in`), `GHL_WORKFLOW_CHANNELS`
  (default "sms,email"), `COMPLIANCE_STATE_RULES` (a dotted path to a replacement for `STATE_RULES`, for counsel's
  own table). Property facts come from the lead (status) and its foreclosure/tax sale (auction or sale date).
"""

from __future__ import annotations

import datetime
import enum
import itertools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from zoneinfo import ZoneInfo

from sync.time_zones import Location

UTC = datetime.UTC


class Channel(enum.StrEnum):
    SMS = "sms"
    CALL = "call"
    EMAIL = "email"
    MAIL = "mail"
    WORKFLOW = "workflow"


class Action(enum.StrEnum):
    SMS = "sms"
    WORKFLOW = "workflow"
    EMAIL_BLAST = "email_blast"
    DIALER_EXPORT = "dialer_export"
    MAIL_PIECE = "mail_piece"


class Source(enum.StrEnum):
    GHL_DND = "ghl_dnd"
    REPLY = "reply"
    LOCAL = "local"  # a broker's record, a form, a buyer's opt-in flag
    DO_NOT_CONTACT = "do_not_contact"
    DNC_REGISTRY = "dnc_registry"  # a phone's Do-Not-Call flag from skip tracing


class Status(enum.StrEnum):
    GRANTED = "granted"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


class Reason(enum.StrEnum):
    ALLOWED = "allowed"
    DO_NOT_CONTACT = "do_not_contact"
    OPTED_OUT = "opted_out"
    NO_CONSENT = "no_consent"
    LEAD_DEAD = "lead_dead"
    LEAD_CLOSED = "lead_closed"
    AUCTION_PASSED = "auction_passed"
    NO_TIME_ZONE = "no_time_zone"
    QUIET_HOURS = "quiet_hours"
    DAY_NOT_ALLOWED = "day_not_allowed"


ALL_CHANNELS = tuple(Channel)
GHL_DND_CHANNELS = {"SMS": Channel.SMS, "Call": Channel.CALL, "Email": Channel.EMAIL}
ACTION_CHANNELS = {
    Action.SMS: (Channel.SMS,),
    Action.WORKFLOW: (Channel.WORKFLOW,),  # plus Policy.workflow_channels
    Action.EMAIL_BLAST: (Channel.EMAIL,),
    Action.DIALER_EXPORT: (Channel.CALL,),
    Action.MAIL_PIECE: (Channel.MAIL,),
}
SENT_NOW = {Action.SMS, Action.WORKFLOW}  # checked against quiet hours at the moment of the decision
CHANNEL_WORDS = {
    Channel.SMS: "texts",
    Channel.CALL: "calls",
    Channel.EMAIL: "email",
    Channel.MAIL: "mail",
    Channel.WORKFLOW: "GoHighLevel workflows",
}


# --- consent --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentEvent:
    channel: Channel
    granted: bool
    at: datetime.datetime  # aware
    source: Source
    detail: str  # in the broker's words: "replied 'STOP' by text", "GoHighLevel DND (SMS) active"
    permanent: bool = False  # a refusal nothing later lifts (GoHighLevel 'permanent', the do-not-contact list)


@dataclass(frozen=True)
class Consent:
    """The merged record for one contact and channel (what a Consent row holds)."""

    channel: Channel
    status: Status
    source: Source | None = None
    at: datetime.datetime | None = None
    detail: str = ""
    permanent: bool = False


def merge_consents(events: Iterable[ConsentEvent]) -> dict[Channel, Consent]:
    """One record per channel: a permanent refusal wins, else the newest event (a tie goes to the refusal)."""
    best: dict[Channel, ConsentEvent] = {}
    for event in events:
        current = best.get(event.channel)
        if current is None or _outranks(event, current):
            best[event.channel] = event
    merged = {channel: Consent(channel=channel, status=Status.UNKNOWN) for channel in Channel}
    for channel, event in best.items():
        merged[channel] = Consent(
            channel=channel,
            status=Status.GRANTED if event.granted else Status.REVOKED,
            source=event.source,
            at=event.at,
            detail=event.detail,
            permanent=event.permanent and not event.granted,
        )
    return merged


def _outranks(event: ConsentEvent, current: ConsentEvent) -> bool:
    def rank(e: ConsentEvent):
        return (e.permanent and not e.granted, e.at, not e.granted)

    return rank(event) > rank(current)


def events_from_ghl(contact: Mapping, *, seen_at: datetime.datetime) -> list[ConsentEvent]:
    """Refusals from a GoHighLevel contact object's `dnd` and `dndSettings` (as seen at `seen_at`)."""
    events = []
    if contact.get("dnd") is True:
        events += [
            ConsentEvent(c, False, seen_at, Source.GHL_DND, "GoHighLevel: do not disturb (all channels)")
            for c in (Channel.SMS, Channel.CALL, Channel.EMAIL, Channel.WORKFLOW)
        ]
    settings = contact.get("dndSettings") or {}
    for name, channel in GHL_DND_CHANNELS.items():
        setting = settings.get(name) if isinstance(settings, Mapping) else None
        status = (setting or {}).get("status") if isinstance(setting, Mapping) else None
        if status in ("active", "permanent"):
            why = f": {setting['message']}" if setting.get("message") else ""
            events.append(
                ConsentEvent(
                    channel,
                    False,
                    seen_at,
                    Source.GHL_DND,
                    f"GoHighLevel DND ({name}) {status}{why}",
                    permanent=status == "permanent",
                )
            )
    return events


def do_not_contact_events(*, at: datetime.datetime, detail: str = "") -> list[ConsentEvent]:
    """An entry on the do-not-contact list: every channel, for good."""
    text = "on the do-not-contact list" + (f": {detail}" if detail else "")
    return [ConsentEvent(c, False, at, Source.DO_NOT_CONTACT, text, permanent=True) for c in Channel]


OPT_OUT_WORDS = frozenset({"STOP", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT"})
STOP_ALL_WORDS = frozenset({"STOPALL", "STOP ALL"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP"})
OPT_OUT_PHRASES = (
    "REMOVE ME",
    "TAKE ME OFF",
    "DO NOT TEXT",
    "DONT TEXT",
    "DO NOT CALL",
    "DONT CALL",
    "DO NOT CONTACT",
    "DONT CONTACT",
    "STOP TEXTING",
    "STOP CALLING",
    "STOP CONTACTING",
    "LEAVE ME ALONE",
    "LOSE MY NUMBER",
    "WRONG NUMBER",
)
SHORT_MESSAGE_WORDS = 5
# What a STOP received on a channel stops (and a START there restores).
REPLY_SCOPE = {
    Channel.SMS: (Channel.SMS, Channel.CALL, Channel.WORKFLOW),
    Channel.CALL: (Channel.CALL, Channel.SMS, Channel.WORKFLOW),
    Channel.EMAIL: (Channel.EMAIL,),
    Channel.WORKFLOW: (Channel.SMS, Channel.CALL, Channel.WORKFLOW),
    Channel.MAIL: (Channel.MAIL,),
}


@dataclass(frozen=True)
class ReplyMeaning:
    events: tuple[ConsentEvent, ...]
    needs_review: bool = False  # mentions an opt-out word inside a longer message: a broker should read it


def reply_events(text: str, *, channel: Channel = Channel.SMS, at: datetime.datetime) -> ReplyMeaning:
    """What an inbound reply means for consent."""
    words = re.sub(r"[^A-Z ]+", " ", (text or "").upper().replace("'", "")).split()
    normalized = " ".join(words)
    quoted = (text or "").strip()[:40]
    if normalized in STOP_ALL_WORDS:
        return ReplyMeaning(_reply(Channel, False, at, f"replied {quoted!r}: stop everything"))
    if normalized in OPT_IN_WORDS:
        return ReplyMeaning(_reply(REPLY_SCOPE[channel], True, at, f"replied {quoted!r} (opted back in)"))
    short = len(words) <= SHORT_MESSAGE_WORDS
    has_word = any(w in OPT_OUT_WORDS for w in words) or "OPT OUT" in normalized
    if (
        normalized in OPT_OUT_WORDS
        or any(f" {p} " in f" {normalized} " for p in OPT_OUT_PHRASES)
        or (short and has_word)
    ):
        return ReplyMeaning(_reply(REPLY_SCOPE[channel], False, at, f"replied {quoted!r}"))
    return ReplyMeaning((), needs_review=has_word)


def _reply(channels, granted: bool, at: datetime.datetime, detail: str) -> tuple[ConsentEvent, ...]:
    return tuple(ConsentEvent(c, granted, at, Source.REPLY, detail) for c in channels)


# --- hours ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    start: datetime.time
    end: datetime.time  # exclusive: "not after 9 p.m." allows up to 20:59:59

    def __contains__(self, moment: datetime.time) -> bool:
        return self.start <= moment < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def hours(start: int, end: int) -> Window:
    return Window(datetime.time(start), datetime.time(end))


@dataclass(frozen=True)
class HoursRule:
    """Calling hours: a window per weekday (Monday first; None: no messages that day)."""

    name: str
    days: tuple[Window | None, ...]
    no_holidays: bool = False
    standard_time: bool = False  # the statute names standard time: the window must hold on that clock too
    source: str = ""

    def describe(self) -> str:
        """ "Texas Mon-Sat 09:00-21:00, Sun 12:00-21:00"; "Florida 08:00-20:00"."""
        runs = [
            (days[0][0] + (f"-{days[-1][0]}" if len(days) > 1 else ""), window)
            for window, group in itertools.groupby(zip(DAY_NAMES, self.days, strict=True), key=lambda d: d[1])
            for days in [list(group)]
        ]
        text = str(runs[0][1]) if len(runs) == 1 else ", ".join(f"{d} {w or 'none'}" for d, w in runs)
        return f"{self.name} {text}" + (", not on holidays" if self.no_holidays else "")


def every_day(window: Window) -> tuple[Window | None, ...]:
    return (window,) * 7


def weekdays(window: Window, *, saturday: Window | None, sunday: Window | None) -> tuple[Window | None, ...]:
    return (window,) * 5 + (saturday, sunday)


FEDERAL = HoursRule("federal (TCPA)", every_day(hours(8, 21)), source="47 CFR 64.1200(c)(1)")

# States whose windows are stricter than the federal one. Checked sources are cited; rows marked "per ..." come
# from compliance vendors' state tables (ClickPoint "State Calling Hours", reviewed July 2025; Drop Cowboy "State
# Calling Restrictions Guide", November 2025) and should be confirmed by counsel: a broker can replace the table
# (COMPLIANCE_STATE_RULES). Pennsylvania's Saturday/Sunday/holiday rules are not modelled (sources disagree).
VENDOR_TABLES = "per ClickPoint / Drop Cowboy state tables"
STATE_RULES: dict[str, HoursRule] = {
    "AL": HoursRule(
        "Alabama",
        weekdays(hours(8, 20), saturday=hours(8, 20), sunday=None),
        no_holidays=True,
        source=VENDOR_TABLES,
    ),
    "CT": HoursRule("Connecticut", every_day(hours(9, 20)), source="Conn. Gen. Stat. 42-288a (Public Act 23-98)"),
    "FL": HoursRule("Florida", every_day(hours(8, 20)), source="Fla. Stat. 501.616(6)(a), as amended by 2021 SB 1120"),
    "KY": HoursRule("Kentucky", every_day(hours(10, 21)), source=VENDOR_TABLES),
    "LA": HoursRule(
        "Louisiana",
        weekdays(hours(8, 20), saturday=hours(8, 20), sunday=None),
        no_holidays=True,
        source=VENDOR_TABLES + " (Louisiana PSC do-not-call rules)",
    ),
    "MA": HoursRule("Massachusetts", every_day(hours(8, 20)), source=VENDOR_TABLES),
    "MD": HoursRule(
        "Maryland", every_day(hours(8, 20)), source="Md. Code, Com. Law 14-45 (Stop the Spam Calls Act of 2023)"
    ),
    "MI": HoursRule("Michigan", every_day(hours(9, 21)), source=VENDOR_TABLES),
    "MN": HoursRule("Minnesota", every_day(hours(9, 21)), source=VENDOR_TABLES),
    "MS": HoursRule(
        "Mississippi",
        weekdays(hours(8, 20), saturday=hours(8, 20), sunday=None),
        standard_time=True,
        source="Miss. Code 77-3-723 ('8:00 a.m. and 8:00 p.m. Central Standard Time', no Sundays)",
    ),
    "NM": HoursRule("New Mexico", every_day(hours(9, 21)), source=VENDOR_TABLES),
    "NV": HoursRule("Nevada", every_day(hours(9, 20)), source=VENDOR_TABLES),
    "OK": HoursRule(
        "Oklahoma", every_day(hours(8, 20)), source="Okla. Stat. tit. 15, 775C.4 (Telephone Solicitation Act 2022)"
    ),
    "RI": HoursRule(
        "Rhode Island",
        weekdays(hours(9, 18), saturday=hours(10, 17), sunday=None),
        no_holidays=True,
        source="R.I. Gen. Laws 5-61-3.6 and the hours of operation in 5-61-2",
    ),
    "TX": HoursRule(
        "Texas",
        weekdays(hours(9, 21), saturday=hours(9, 21), sunday=hours(12, 21)),
        source="Tex. Bus. & Com. Code 301.051",
    ),
    "UT": HoursRule(
        "Utah",
        weekdays(hours(8, 21), saturday=hours(8, 21), sunday=None),
        no_holidays=True,
        source=VENDOR_TABLES,
    ),
    "WA": HoursRule("Washington", every_day(hours(8, 20)), source="RCW 80.36.390"),
}


@cache
def federal_holidays(year: int) -> frozenset[datetime.date]:
    """US federal holidays (5 U.S.C. 6103) of a year, each on its date and on its observed weekday."""

    def nth(month: int, weekday: int, n: int) -> datetime.date:
        first = datetime.date(year, month, 1)
        return first + datetime.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))

    def last(month: int, weekday: int) -> datetime.date:
        day = datetime.date(year, month + 1, 1) - datetime.timedelta(days=1)
        return day - datetime.timedelta(days=(day.weekday() - weekday) % 7)

    fixed = [datetime.date(year, m, d) for m, d in ((1, 1), (6, 19), (7, 4), (11, 11), (12, 25))]
    days = set(fixed)
    for day in fixed:
        if day.weekday() == 5:
            days.add(day - datetime.timedelta(days=1))
        elif day.weekday() == 6:
            days.add(day + datetime.timedelta(days=1))
    days |= {nth(1, 0, 3), nth(2, 0, 3), last(5, 0), nth(9, 0, 1), nth(10, 0, 2), nth(11, 3, 4)}
    return frozenset(days)


# --- the decision ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PropertyFacts:
    lead_status: str = ""  # leads.models.Lead.Status value
    auction_date: datetime.date | None = None  # the foreclosure auction or tax-deed sale
    zones: tuple[str, ...] = ()  # the property's time zones (sync.time_zones.locate); else the contact's


@dataclass(frozen=True)
class Policy:
    require_opt_in: frozenset[Channel] = frozenset({Channel.SMS})
    workflow_channels: tuple[Channel, ...] = (Channel.SMS, Channel.EMAIL)
    federal: HoursRule = FEDERAL
    state_rules: Mapping[str, HoursRule] = field(default_factory=lambda: STATE_RULES)
    holidays: Callable[[int], frozenset[datetime.date]] = federal_holidays


DEFAULT_POLICY = Policy()
DEAD_STATUSES = frozenset({"dead"})


@dataclass(frozen=True)
class Decision:
    allowed: bool
    action: Action
    reason: Reason
    message: str  # in the broker's words
    relied_on: tuple[Consent, ...] = ()  # the consent records the send relies on (or the one that refused it)
    zones: tuple[str, ...] = ()
    window: str = ""  # the hours that apply, e.g. "Florida 08:00-20:00 (Fla. Stat. ...)"
    local_times: tuple[str, ...] = ()
    retry_at: datetime.datetime | None = None  # when the hours next allow it (quiet-hours refusals)
    notes: tuple[str, ...] = ()  # how the time zone was found, when it was a guess


def decide(
    *,
    action: Action,
    consents: Mapping[Channel, Consent],
    where: Location,
    now: datetime.datetime,
    about: PropertyFacts | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> Decision:
    """Allow or refuse one message (see the module docstring)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    channels = ACTION_CHANNELS[action]
    if action is Action.WORKFLOW:
        channels = channels + tuple(c for c in policy.workflow_channels if c not in channels)
    records = tuple(consents.get(c) or Consent(channel=c, status=Status.UNKNOWN) for c in channels)
    rules = _rules(where.states, policy)
    needs_hours = action in SENT_NOW or action is Action.DIALER_EXPORT
    window = _describe(rules) if needs_hours else ""
    common = {"action": action, "zones": where.zones, "notes": where.notes, "window": window}

    def refuse(reason: Reason, message: str, relied_on=records, **extra) -> Decision:
        return Decision(False, reason=reason, message=message, relied_on=relied_on, **common, **extra)

    for record in records:
        if record.status is Status.REVOKED:
            reason = Reason.DO_NOT_CONTACT if record.source is Source.DO_NOT_CONTACT else Reason.OPTED_OUT
            words = CHANNEL_WORDS[record.channel]
            return refuse(reason, f"No {words}: {record.detail}" + _since(record), (record,))
    for record in records:
        if record.channel in policy.require_opt_in and record.status is not Status.GRANTED:
            return refuse(
                Reason.NO_CONSENT,
                f"No {CHANNEL_WORDS[record.channel]}: no consent on record (a written opt-in or a START reply)",
                (record,),
            )
    if about is not None:
        status = (about.lead_status or "").lower()
        if status in DEAD_STATUSES:
            return refuse(Reason.LEAD_DEAD, "Not about this property: the lead is dead")
        if status.startswith("closed"):
            return refuse(Reason.LEAD_CLOSED, "Not about this property: the lead is closed")
        if about.auction_date is not None:
            zones = about.zones or where.zones or ("UTC",)
            today = max(now.astimezone(ZoneInfo(z)).date() for z in zones)
            if about.auction_date < today:
                return refuse(
                    Reason.AUCTION_PASSED,
                    f"Not about this property: its auction date ({about.auction_date:%Y-%m-%d}) has passed",
                )
    if needs_hours and not where.zones:
        return refuse(
            Reason.NO_TIME_ZONE,
            "Not sent: the contact's time zone is unknown (no state, ZIP or area code): add the mailing address",
        )
    local_times = tuple(_local(now, z) for z in where.zones) if needs_hours else ()
    if action in SENT_NOW:
        blocked = _blocked(now, where.zones, rules, policy)
        if blocked is not None:
            reason, message = blocked
            return refuse(
                reason, message, local_times=local_times, retry_at=_next_open(now, where.zones, rules, policy)
            )
    sent = "May be sent" if action is not Action.DIALER_EXPORT else "May be exported for the dialer"
    return Decision(
        True,
        reason=Reason.ALLOWED,
        message=f"{sent}: " + ", ".join(f"{CHANNEL_WORDS[r.channel]} {r.status.value}" for r in records),
        relied_on=records,
        local_times=local_times,
        **common,
    )


def _since(record: Consent) -> str:
    return f" (since {record.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC)" if record.at else ""


def _rules(states: Iterable[str], policy: Policy) -> tuple[HoursRule, ...]:
    return (policy.federal, *(policy.state_rules[s] for s in states if s in policy.state_rules))


def _describe(rules: tuple[HoursRule, ...]) -> str:
    return "; ".join(f"{r.describe()} ({r.source})" for r in rules)


def _local(now: datetime.datetime, zone: str) -> str:
    local = now.astimezone(ZoneInfo(zone))
    return f"{local:%a %Y-%m-%d %H:%M} {local.tzname()} ({zone})"


def _blocked(now, zones, rules, policy) -> tuple[Reason, str] | None:
    """Why no message may go at `now` in one of `zones` under one of `rules`; None when all allow it."""
    for zone in zones:
        local = now.astimezone(ZoneInfo(zone))
        for rule in rules:
            clocks = [local]
            if rule.standard_time and local.dst():
                clocks.append(local - local.dst())
            for clock in clocks:
                window = rule.days[clock.weekday()]
                where = f"{clock:%A %H:%M} in {zone}" + (" (standard time)" if clock is not local else "")
                if window is None:
                    return Reason.DAY_NOT_ALLOWED, f"Not now: {rule.name} allows no messages on {clock:%A}s ({where})"
                if rule.no_holidays and clock.date() in policy.holidays(clock.year):
                    return Reason.DAY_NOT_ALLOWED, f"Not now: {rule.name} allows no messages on holidays ({where})"
                if clock.time() not in window:
                    return Reason.QUIET_HOURS, f"Not now: quiet hours, {rule.name} allows {window} ({where})"
    return None


def _next_open(now, zones, rules, policy) -> datetime.datetime | None:
    """The first moment within a week when every zone and rule allow a message (a window's start, somewhere)."""
    candidates = set()
    for zone in zones:
        info = ZoneInfo(zone)
        today = now.astimezone(info).date()
        for offset in range(8):
            day = today + datetime.timedelta(days=offset)
            for rule in rules:
                window = rule.days[day.weekday()]
                if window is None:
                    continue
                start = datetime.datetime.combine(day, window.start, tzinfo=info)
                candidates.add(start)
                if rule.standard_time and start.dst():
                    candidates.add(start + start.dst())
    for moment in sorted(c for c in candidates if c > now):
        if _blocked(moment, zones, rules, policy) is None:
            return moment.astimezone(UTC)
    return None
