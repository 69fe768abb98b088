"""Who may be skip traced now (never the same owner twice inside the window), and what a trace adds to an owner.

Traces are paid per hit and a person's phones do not change weekly, so an owner traced (hit or no hit) within
`SKIPTRACE_WINDOW_DAYS` is not traced again; `owners_due_for_trace` says who is due and, for the others, from when.
`contacts_to_add` merges a trace into what is already on the owner without touching it: a number or email a broker
entered stays as entered, and only new ones are added.

How to integrate: see sync/skiptrace/base.py (the trace service calls both, once per batch of owners).
"""

from __future__ import annotations

import datetime
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

from sync.skiptrace.base import Email, Person, Phone, phone_digits


@dataclass(frozen=True)
class TraceDue:
    due: tuple[Hashable, ...]  # owner keys that may be traced now, in the order given
    not_due: tuple[tuple[Hashable, datetime.datetime], ...]  # (owner key, first moment it may be traced again)


def owners_due_for_trace(
    *, last_traced: Mapping[Hashable, datetime.datetime | None], now: datetime.datetime, window: datetime.timedelta
) -> TraceDue:
    """Split owners by their last trace: never traced or traced `window` ago or more -> due; else not yet."""
    if window < datetime.timedelta(0):
        raise ValueError("the skip-trace window cannot be negative")
    due, not_due = [], []
    for key, traced_at in last_traced.items():
        if traced_at is None or traced_at + window <= now:
            due.append(key)
        else:
            not_due.append((key, traced_at + window))
    return TraceDue(tuple(due), tuple(not_due))


def contacts_to_add(
    *, existing_phones: Iterable[str], existing_emails: Iterable[str], persons: Iterable[Person]
) -> tuple[list[Phone], list[Email]]:
    """The phones and emails of `persons` the owner does not have yet (compared as digits / case-insensitively),
    each once, best ranked first; what the owner already has is never returned, so never overwritten."""
    have_phones = {phone_digits(p) for p in existing_phones if phone_digits(p)}
    have_emails = {e.strip().casefold() for e in existing_emails if e.strip()}
    phones: dict[str, Phone] = {}
    emails: dict[str, Email] = {}
    for person in persons:
        for phone in person.phones:
            digits = phone_digits(phone.number)
            if digits and digits not in have_phones and digits not in phones:
                phones[digits] = phone
        for email in person.emails:
            folded = email.address.strip().casefold()
            if folded and folded not in have_emails and folded not in emails:
                emails[folded] = email
    return sorted(phones.values(), key=_by_rank), sorted(emails.values(), key=_by_rank)


def _by_rank(item: Phone | Email) -> tuple[bool, int]:
    return item.rank is None, item.rank or 0
