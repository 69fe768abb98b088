"""Three-way merge of synced fields: the last agreed values (base) against local and remote. Pure."""

import datetime
from dataclasses import dataclass, field
from typing import Any

STRATEGIES = ("ghl_wins", "db_wins", "newest_wins", "manual")


@dataclass
class Merge:
    take_remote: dict[str, Any] = field(default_factory=dict)  # write these to the local record
    conflicts: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # field -> (local, remote), for a person
    base: dict[str, Any] = field(default_factory=dict)  # the new agreed snapshot


def merge_fields(
    *,
    base: dict[str, Any],
    local: dict[str, Any],
    remote: dict[str, Any],
    strategy: str,
    local_updated_at: datetime.datetime | None = None,
    remote_updated_at: datetime.datetime | None = None,
) -> Merge:
    """Fields only one side changed go that side's way; fields both changed follow `strategy`.

    A field missing from `base` has never been synced: the remote value is taken.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"Unknown conflict strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
    result = Merge(base=dict(base))
    for name, remote_value in remote.items():
        local_value = local.get(name)
        if remote_value == local_value:
            result.base[name] = remote_value
            continue
        local_changed = name in base and local_value != base[name]
        remote_changed = name not in base or remote_value != base[name]
        if not remote_changed:
            continue  # only local changed: keep it (a push sends it)
        if not local_changed or strategy == "ghl_wins":
            winner = "remote"
        elif strategy == "db_wins":
            winner = "local"
        elif strategy == "newest_wins":
            newer = remote_updated_at and (local_updated_at is None or remote_updated_at > local_updated_at)
            winner = "remote" if newer else "local"
        else:
            result.conflicts[name] = (local_value, remote_value)
            continue
        if winner == "remote":
            result.take_remote[name] = remote_value
        result.base[name] = remote_value
    return result
