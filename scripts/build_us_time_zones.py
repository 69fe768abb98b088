"""Rebuild sync/data/us_time_zones.json: US ZIP prefix / ZIP / state / area code -> IANA time zones.

Run rarely (time zone boundaries move seldom), in a scratch virtualenv, never from the app:

    python -m venv /tmp/tzbuild && /tmp/tzbuild/bin/pip install zipcodes timezonefinder
    /tmp/tzbuild/bin/python scripts/build_us_time_zones.py > sync/data/us_time_zones.json

Sources: the `zipcodes` package (MIT; every ZIP with its state, area codes, time zone and GeoNames coordinates)
and `timezonefinder` (MIT; the time zone polygon at each ZIP's coordinates, from timezone-boundary-builder).
Where the two disagree about a ZIP (border towns such as Phenix City AL, which keeps Eastern time unofficially,
or Flagstaff AZ), the ZIP gets both zones, so the compliance gate applies the strictest of them.

Zones that keep the same clock (America/Detroit, America/Indiana/* on Eastern time, America/Boise, ...) are
folded into one canonical zone, compared hour by hour over three years; the table stays small and a ZIP prefix
is "mixed" only when its clocks really differ.
"""

from __future__ import annotations

import collections
import datetime
import json
import sys
from zoneinfo import ZoneInfo

import zipcodes
from timezonefinder import TimezoneFinder

START = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
HOURS = [START + datetime.timedelta(hours=h) for h in range(24 * 365 * 3)]


def main() -> None:
    rows = [r for r in zipcodes.list_all() if "/" in (r.get("timezone") or "")]
    finder = TimezoneFinder()
    signature: dict[str, tuple] = {}

    def clock(zone: str) -> tuple:
        if zone not in signature:
            info = ZoneInfo(zone)
            signature[zone] = tuple(h.astimezone(info).utcoffset() for h in HOURS)
        return signature[zone]

    zip_zones: dict[str, set[str]] = {}
    for row in rows:
        zones = {row["timezone"]}
        try:
            found = finder.timezone_at(lat=float(row["lat"]), lng=float(row["long"]))
        except (TypeError, ValueError):
            found = None
        if found and not found.startswith("Etc/"):  # Etc/*: no usable coordinates
            zones.add(found)
        zip_zones[row["zip_code"]] = zones

    use = collections.Counter(z for zones in zip_zones.values() for z in zones)
    by_clock: dict[tuple, list[str]] = collections.defaultdict(list)
    for zone in use:
        by_clock[clock(zone)].append(zone)
    canonical = {z: max(group, key=lambda g: (use[g], g)) for group in by_clock.values() for z in group}
    names = sorted({canonical[z] for z in use}, key=lambda z: (-use[z], z))
    index = {z: i for i, z in enumerate(names)}

    def ids(zones) -> list[int]:
        return sorted({index[canonical[z]] for z in zones})

    prefix_zones: dict[str, set[int]] = collections.defaultdict(set)
    prefix_states: dict[str, set[str]] = collections.defaultdict(set)
    state_zones: dict[str, set[int]] = collections.defaultdict(set)
    area_rows: dict[str, list[dict]] = collections.defaultdict(list)
    zip_ids = {code: ids(zones) for code, zones in zip_zones.items()}
    for row in rows:
        code, state = row["zip_code"], row["state"]
        prefix_zones[code[:3]].update(zip_ids[code])
        prefix_states[code[:3]].add(state)
        state_zones[state].update(zip_ids[code])
        for area in row.get("area_codes") or []:
            area_rows[area].append(row)
    # A geographic area code belongs to one state; ZIPs near a border also list their neighbours' codes, so an
    # area code's state is the one most of its ZIPs are in, and its zones are those of its ZIPs in that state.
    area_codes = {}
    for area, listed in sorted(area_rows.items()):
        home = collections.Counter(r["state"] for r in listed).most_common(1)[0][0]
        zones = sorted({i for r in listed if r["state"] == home for i in zip_ids[r["zip_code"]]})
        area_codes[area] = [zones, [home]]

    mixed = {p for p, zones in prefix_zones.items() if len(zones) > 1}
    table = {
        "about": (
            "US ZIP / state / area code -> IANA time zones, built by scripts/build_us_time_zones.py from the "
            "zipcodes package (MIT) cross-checked with timezonefinder (MIT). Lists hold indexes into 'zones'."
        ),
        "zones": names,
        "prefix": {p: sorted(z) for p, z in sorted(prefix_zones.items())},
        "zip": {c: zip_ids[c] for c in sorted(zip_ids) if c[:3] in mixed},
        "prefix_state": {p: sorted(s) for p, s in sorted(prefix_states.items())},
        "state": {s: sorted(z) for s, z in sorted(state_zones.items())},
        "area_code": area_codes,
    }
    # One entry per line, so a rebuild shows in a diff as the ZIPs that moved.
    sections = []
    for key, value in table.items():
        if isinstance(value, dict):
            lines = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" for k, v in value.items())
            sections.append(f"{json.dumps(key)}: {{\n{lines}\n}}")
        else:
            sections.append(f"{json.dumps(key)}: {json.dumps(value)}")
    sys.stdout.write("{\n" + ",\n".join(sections) + "\n}\n")


if __name__ == "__main__":
    main()
