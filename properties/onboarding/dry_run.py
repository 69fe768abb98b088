"""A dry run of a mapping over sample records: per target field the values it would store, its fill rate and every
problem, and per record whether it would load, before anything is saved.

It calls the ingest path's own code (FieldMapping.apply, points.batch_points, then prepare.prepare), so whatever
that code reads or refuses, the dry run shows; each target is also applied on its own, so one bad value shows
against its field. No database.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from properties.ingest.base import RawRecord
from properties.ingest.joined import TABLES
from properties.ingest.mapping import KEY_TARGET, SALE_RULES, FieldMapping, MappingError, RowError, load_preset
from properties.ingest.points import batch_points
from properties.ingest.prepare import prepare

from .propose import Problem

EXAMPLES = 5
# Targets where a 0 usually means "no sale recorded", "vacant land" or "unknown", not a real zero.
ZERO_MEANS_UNKNOWN = {"last_sale_price", "year_built", "living_sqft", "lot_sqft", "market_value", "beds", "baths"}


@dataclass
class TargetRun:
    target: str
    filled: int = 0
    blank: int = 0
    bad: int = 0
    values: list[str] = field(default_factory=list)  # the first distinct values it would store
    problems: list[str] = field(default_factory=list)

    @property
    def fill_rate(self) -> float:
        total = self.filled + self.blank + self.bad
        return round(self.filled / total, 3) if total else 0.0

    def as_dict(self) -> dict:
        return {"fill_rate": self.fill_rate, "filled": self.filled, "blank": self.blank, "bad": self.bad,
                "values": self.values, "problems": self.problems}  # fmt: skip


@dataclass
class DryRun:
    records: int = 0
    loadable: int = 0
    placed: int = 0
    targets: dict[str, TargetRun] = field(default_factory=dict)
    derived: dict[str, TargetRun] = field(default_factory=dict)  # what the loader makes of them (normal forms)
    problems: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "records": self.records,
            "loadable": self.loadable,
            "placed": self.placed,
            "targets": {t: r.as_dict() for t, r in self.targets.items()},
            "derived": {t: r.as_dict() for t, r in self.derived.items()},
        }


def expand_config(config: dict) -> dict:
    """A mapping config's targets with its preset's fields written out (the user's entries win, null drops); the
    source's settings (arms-length rules, joined tables) are no targets."""
    fields = dict(load_preset(config["preset"])["fields"]) if "preset" in config else {}
    fields.update({k: v for k, v in config.items() if k not in ("preset", SALE_RULES, TABLES)})
    return {k: v for k, v in fields.items() if v is not None}


def show(value) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, tuple):
        return ", ".join(f"{v:.6f}" if isinstance(v, float) else str(v) for v in value)
    return str(value)


def dry_run(*, dataset: str, mapping: dict, records: list[RawRecord], parcel_format: str) -> DryRun:
    """MappingError when the mapping itself is invalid for the dataset."""
    full = FieldMapping.from_config(dataset, mapping)
    config = expand_config(mapping)
    result = DryRun(records=len(records))
    result.targets = {target: _one_target(dataset, target, spec, records) for target, spec in config.items()}
    derived = {name: TargetRun(name) for name in ("parcel_id", "address", "city", "zip", "location", "property_type")}
    refused: Counter[str] = Counter()
    raw_by_id: dict[str, set[str]] = {}
    rows: list[dict | None] = []
    for record in records:
        try:
            rows.append(full.apply(record))
        except RowError as exc:
            refused[str(exc)] += 1
            rows.append(None)
    for record, row, placed in zip(records, rows, batch_points(records, rows, full), strict=True):
        if row is None:
            continue
        if placed.problem:
            derived["location"].problems.append(placed.problem)
        try:
            item = prepare(row, record, dataset=dataset, parcel_format=parcel_format, location=placed.xy)
        except RowError as exc:
            refused[str(exc)] += 1
            continue
        result.loadable += 1
        raw_by_id.setdefault(item.parcel_id, set()).add(item.prop.get("parcel_id_raw", ""))
        prop = item.prop
        derived_values = {
            "parcel_id": item.parcel_id,
            "address": prop.get("address_normalized"),
            "city": prop.get("city"),
            "zip": prop.get("zip"),
            "location": prop.get("location"),
            "property_type": prop.get("property_type") if "property_type" in config else None,
        }
        for name, value in derived_values.items():
            _count(derived[name], value)
        if prop.get("location"):
            result.placed += 1
    result.derived = {name: run for name, run in derived.items() if run.filled or name in ("parcel_id", "location")}
    for reason, count in refused.most_common():
        result.problems.append(
            Problem(f"{count} of {len(records)} sample records would not load: {reason}", None, "error")
        )
    merged = {pid: raws for pid, raws in raw_by_id.items() if len(raws) > 1}
    for pid, raws in list(merged.items())[:5]:
        result.problems.append(Problem(
            f"different parcel ids {', '.join(sorted(raws))} all become {pid} with parcel format {parcel_format!r}:"
            " they would be stored as one property", "parcel_id", "error",
        ))  # fmt: skip
    for run in [*result.targets.values(), *result.derived.values()]:
        for problem in run.problems:
            result.problems.append(Problem(problem, run.target))
    return result


def _one_target(dataset: str, target: str, spec, records: list[RawRecord]) -> TargetRun:
    """The target's values with the ingest path's own mapping code, applied to each record on its own."""
    placeholders = {name: {"value": "0"} for name in ("parcel_id", KEY_TARGET.get(dataset)) if name and name != target}
    run = TargetRun(target)
    try:
        mapping = FieldMapping.from_config(dataset, {**placeholders, target: spec})
    except MappingError as exc:
        run.problems.append(str(exc))
        return run
    bad: Counter[str] = Counter()
    for record in records:
        try:
            value = mapping.apply(record).get(target)
        except RowError as exc:
            run.bad += 1
            bad[str(exc)] += 1
            continue
        _count(run, value)
    for reason, count in bad.most_common(3):
        run.problems.append(f"{count} value(s) cannot be read: {reason}")
    zeros = sum(1 for record in records if _is_zero(record, spec))
    if zeros and target in ZERO_MEANS_UNKNOWN:
        run.problems.append(
            f"{zeros} of {len(records)} values are 0, which sources write for 'none recorded' or 'unknown'"
        )
    if run.filled == 0 and not run.bad:
        run.problems.append("empty in every sample record")
    return run


def _is_zero(record: RawRecord, spec) -> bool:
    value = record.attributes.get(spec) if isinstance(spec, str) else None
    return value is not None and not isinstance(value, bool) and str(value).strip() in ("0", "0.0", "0.00", "$0")


def _count(run: TargetRun, value) -> None:
    if value is None or value == "":
        run.blank += 1
        return
    run.filled += 1
    text = show(value)
    if len(run.values) < EXAMPLES and text not in run.values:
        run.values.append(text)
