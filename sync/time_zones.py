"""Where a contact is, in time zones: from ZIP, state and phone area code, the strictest reading when unsure.

The table (sync/data/us_time_zones.json, rebuilt by scripts/build_us_time_zones.py) maps every US ZIP prefix, the
ZIPs of the 34 prefixes that straddle a time zone line, every state and territory, and every area code to the IANA
zones they use. `locate()` answers every zone the contact may be in, and says how it knows:

- a ZIP known to the table: that ZIP's zone(s) (a border ZIP where the sources disagree keeps both);
- an unknown ZIP: its prefix's zones (one zone for most prefixes; all of them where the prefix is split, e.g. 324
  in the Florida panhandle, 798 west of the Pecos, 475 in southern Indiana, 427 in Kentucky, 373 in Tennessee,
  575/576/585/586 in the Dakotas, 677/678 in Kansas, 690-692 in Nebraska, 979 in Oregon, 835 in Idaho);
- no usable ZIP: the state's zones (every zone of a split state: FL, TX, IN, KY, TN, MI, ND, SD, NE, KS, OR, ID,
  NV, AZ, AK);
- the phone's area code adds its zones and states (a cell phone follows its owner; the Florida, Oklahoma and
  Maryland acts presume a call to their area codes reaches a resident);
- GoHighLevel's own contact time zone is used only when nothing else is known (it is often the sub-account's).

A caller applies a quiet-hours window in every zone returned, which is the strictest interpretation; `exact` is
False and `notes` say so whenever more than one zone remains or the zone was guessed from less than a ZIP.

How to integrate
----------------
The compliance gate's callers build the contact's `Location` from what the owner or buyer record holds (mailing
state and ZIP, the phone, GoHighLevel's `timezone`) and pass it to `sync.compliance.decide`; a property's own
zones (for "has the auction passed") come from `locate(state=..., zip_code=...)` on the parcel's address. The
table loads once per process (about 60 KB). Rebuild it with scripts/build_us_time_zones.py when ZIPs or zone
lines change; nothing here needs settings or the database. (It knows nothing of GoHighLevel: after issue 17 it
belongs on the floor, beside the other shared helpers.)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TABLE = Path(__file__).resolve().parent / "data" / "us_time_zones.json"


@cache
def table() -> dict:
    data = json.loads(TABLE.read_text())
    zones = data["zones"]

    def names(indexes: list[int]) -> tuple[str, ...]:
        return tuple(zones[i] for i in indexes)

    return {
        "prefix": {k: names(v) for k, v in data["prefix"].items()},
        "zip": {k: names(v) for k, v in data["zip"].items()},
        "prefix_state": {k: tuple(v) for k, v in data["prefix_state"].items()},
        "state": {k: names(v) for k, v in data["state"].items()},
        "area_code": {k: (names(v[0]), tuple(v[1])) for k, v in data["area_code"].items()},
    }


@dataclass(frozen=True)
class Location:
    zones: tuple[str, ...]  # every IANA zone the contact may be in (empty: unknown)
    states: tuple[str, ...]  # every state whose rules may apply
    exact: bool  # one zone, known from a ZIP (or a single-zone state)
    notes: tuple[str, ...] = field(default=())


def locate(*, state: str = "", zip_code: str = "", phone: str = "", time_zone: str = "") -> Location:
    """The zones and states a contact may be in (see the module docstring)."""
    data = table()
    notes: list[str] = []
    zones: list[str] = []
    states: list[str] = []
    state = (state or "").strip().upper()
    if state and state not in data["state"]:
        notes.append(f"state {state!r} is not a US state or territory code")
        state = ""
    exact = False
    digits = re.sub(r"\D", "", zip_code or "")
    zip5 = digits[:5] if len(digits) in (5, 9) else ""
    if zip_code and not zip5:
        notes.append(f"ZIP {zip_code!r} is not a 5-digit US ZIP")
    prefix_states = data["prefix_state"].get(zip5[:3], ()) if zip5 else ()
    if zip5 in data["zip"]:
        zones += data["zip"][zip5]
        exact = len(zones) == 1
        if not exact:
            notes.append(f"ZIP {zip5} lies on a time zone line: the strictest of {', '.join(zones)}")
    elif zip5[:3] in data["prefix"]:
        zones += data["prefix"][zip5[:3]]
        exact = len(zones) == 1
        if not exact:
            notes.append(
                f"ZIP {zip5} is not in the table and ZIPs starting {zip5[:3]} span several time zones: "
                f"the strictest of {', '.join(zones)}"
            )
    elif zip5:
        notes.append(f"ZIP {zip5} is not a known US ZIP")
    if state:
        states.append(state)
        if prefix_states and state not in prefix_states:
            notes.append(f"ZIP {zip5} is in {'/'.join(prefix_states)}, not {state}: the rules of both apply")
            states += prefix_states
            zones += data["state"][state]
            exact = False
        elif not zones:
            zones += data["state"][state]
            exact = len(zones) == 1
            notes.append(
                f"time zone from the state {state} (no usable ZIP)"
                + ("" if exact else f": the strictest of {', '.join(zones)}")
            )
    elif prefix_states:
        states += prefix_states
    area = _area_code(phone)
    if area and area in data["area_code"]:
        area_zones, area_states = data["area_code"][area]
        new_zones = [z for z in area_zones if z not in zones]
        new_states = [s for s in area_states if s not in states]
        if new_zones or new_states:
            notes.append(
                f"the phone's area code {area} is also used in {'/'.join(area_states)} ({', '.join(area_zones)}): "
                "those count too"
            )
            exact = exact and not new_zones
        zones += new_zones
        states += new_states
    if not zones and time_zone:
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            notes.append(f"time zone {time_zone!r} is not an IANA time zone")
        else:
            zones.append(time_zone)
            notes.append(f"time zone {time_zone} from GoHighLevel's contact record (no address or area code)")
    unique_zones, unique_states = tuple(dict.fromkeys(zones)), tuple(dict.fromkeys(states))
    return Location(zones=unique_zones, states=unique_states, exact=exact, notes=tuple(notes))


def _area_code(phone: str) -> str:
    """The area code of a North American number (+1 NXX ...); '' for anything else."""
    value = (phone or "").strip()
    digits = re.sub(r"\D", "", value)
    if value.startswith("+") and not digits.startswith("1"):
        return ""
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits[:3] if len(digits) == 10 and digits[0] in "23456789" else ""
