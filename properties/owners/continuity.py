"""Keeping an owner's stored row (and its GoHighLevel contact) when its key changes between two resolutions. Pure.

An owner's key is its most complete name at its mailing address, so it changes when a new parcel brings a fuller
name ("SMITH JOHN" becomes "SMITH JOHN ALAN") or a broker merges owners. The records stay: the integrator keeps
each record's previous owner key (`Property.owner.key`) and asks which previous owner each new one continues, so it
renames that row instead of deleting it and creating another (which would orphan its contact, notes and tasks).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from .resolution import ResolvedOwner


def carry_over(previous: Mapping[str, str], owners: Iterable[ResolvedOwner]) -> dict[str, str]:
    """{new owner key: previous owner key it continues} for owners whose key is new.

    `previous` maps record id -> the owner key the record had. A new owner continues the previous owner holding
    most of its records, provided that key is gone now and no other new owner took it (largest overlap first,
    then key order, so the answer does not depend on input order). Owners with no previous records are new."""
    owners = list(owners)
    current = {o.key for o in owners}
    known = set(previous.values())
    candidates = []
    for owner in owners:
        if owner.key in known:  # its row is still there under the same key
            continue
        overlap = Counter(previous[r] for r in owner.record_ids if r in previous)
        candidates += [(-n, owner.key, old) for old, n in overlap.items() if old not in current]
    result: dict[str, str] = {}
    taken: set[str] = set()
    for _, new, old in sorted(candidates):
        if new not in result and old not in taken:
            result[new] = old
            taken.add(old)
    return result
