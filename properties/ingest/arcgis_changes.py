"""Which features of an ArcGIS layer to ask for: only those edited since a time, when the layer can say.

A layer with editor tracking names the field holding each feature's last edit (`editFieldsInfo.editDateField`)
and its own last edit (`editingInfo.lastEditDate`, or `dataLastEditDate`). Given `since` (where the last
successful run started, less a margin), a reader asks for `<editDateField> > TIMESTAMP '<since>'` only, and asks
for nothing at all when the layer's last edit is not after `since`. A layer without editor tracking is read in
full; so is one whose server refuses the query (the reader's fallback says why). Deletions are never reported by
such a query: the caller runs a full read now and then (properties.services.incremental_since).

Editor-tracking dates are UTC unless the layer's `dateFieldsTimeReference` names another time zone; then the
window is widened by a day, since a local time stored as if it were UTC could be up to 14 hours behind. Pure: no
HTTP, no database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

UTC_NAMES = frozenset({"utc", "coordinated universal time", "etc/utc", "gmt"})
LOCAL_TIME_MARGIN = dt.timedelta(days=1)


@dataclass(frozen=True)
class ChangesPlan:
    """How to read the layer this run: `where` (None: the layer's usual where, in full), or `nothing` to read."""

    where: str | None
    since: dt.datetime | None  # what was asked for (None: a full read)
    nothing: bool = False
    reason: str = ""  # why a full read, when incremental was wanted


def changes_plan(
    *,
    where: str,
    since: dt.datetime | None,
    edit_date_field: str | None,
    last_edit_date: dt.datetime | None,
    time_reference: dict | None = None,
) -> ChangesPlan:
    """The plan for a layer read with `where`, given `since` (None: a full read is wanted)."""
    if since is None:
        return ChangesPlan(where=None, since=None)
    if not edit_date_field:
        return ChangesPlan(where=None, since=None, reason="the layer has no editor tracking (editFieldsInfo)")
    zone = str((time_reference or {}).get("timeZone") or "UTC").strip().lower()
    asked = since if zone in UTC_NAMES else since - LOCAL_TIME_MARGIN
    if last_edit_date is not None and last_edit_date <= asked:
        return ChangesPlan(where=None, since=asked, nothing=True)
    stamp = asked.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    changed = f"{edit_date_field} > TIMESTAMP '{stamp}'"
    base = (where or "").strip()
    return ChangesPlan(where=changed if base in ("", "1=1") else f"({base}) AND {changed}", since=asked)
