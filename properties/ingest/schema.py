"""A source's schema (its attributes and their types, as the source names them) and what changed between runs.

Readers describe their source before the first page (`Reader.schema()`): an ArcGIS layer's fields, a Socrata
dataset's columns, a CKAN resource's fields, a file's header. The loader checks the mapping against it before
anything is fetched (a mapped attribute the source does not have fails the run, naming it), stores it on the
run, and records the drift since the previous run: attributes added, removed or retyped. Pure: no database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SourceField:
    name: str
    type: str  # as the source says it: esriFieldTypeString, calendar_date, numeric, text, ...
    alias: str = ""


@dataclass(frozen=True)
class SourceSchema:
    fields: tuple[SourceField, ...]
    # Names a record may carry that are not listed as fields (Socrata's :id, :updated_at, ...).
    system: frozenset[str] = field(default_factory=frozenset)

    def as_dict(self) -> dict[str, str]:
        return {f.name: f.type for f in self.fields}

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def has(self, name: str) -> bool:
        """Whether a mapping may name this attribute: case-insensitively, or by a nested key (`shape.latitude`)."""
        known = {n.lower() for n in (*self.names, *self.system)}
        return name.lower() in known or name.split(".", 1)[0].lower() in known


def mapped_attributes(specs: Iterable) -> list[tuple[str, str]]:
    """(target, source attribute) for every attribute a mapping's specs read, in mapping order."""
    return [(spec.target, source) for spec in specs for source in spec.sources]


def checked_specs(specs: Iterable, config) -> list:
    """The specs whose attributes must exist: all of them, except a preset's own entries, which are optional
    (a preset maps every column its kind of export may have; what the user wrote is checked)."""
    if not isinstance(config, dict) or "preset" not in config:
        return list(specs)
    own = {target for target, spec in config.items() if target != "preset" and spec is not None}
    return [spec for spec in specs if spec.target in own]


def missing_attributes(specs: Iterable, schema: SourceSchema) -> list[tuple[str, str]]:
    """(target, source attribute) pairs whose attribute the source does not have."""
    return [(target, source) for target, source in mapped_attributes(specs) if not schema.has(source)]


def missing_message(missing: list[tuple[str, str]], schema: SourceSchema) -> str:
    names = ", ".join(f"{source} (for {target})" for target, source in missing)
    listed = ", ".join(schema.names[:60]) + (", ..." if len(schema.names) > 60 else "")
    return f"the mapping names attributes the source does not have: {names}. Its attributes are: {listed}"


def schema_drift(previous: dict[str, str] | None, current: dict[str, str], *, mapped: Iterable[str] = ()) -> dict:
    """What changed since the previous run's schema (None: nothing to compare with).

    `missing_mapped` lists the mapped attributes that disappeared (compared case-insensitively, by their
    root for nested keys): the change a broker must hear about.
    """
    if previous is None:
        return {"compared": False, "added": [], "removed": [], "retyped": [], "missing_mapped": []}
    added = [name for name in current if name not in previous]
    removed = [name for name in previous if name not in current]
    retyped = [
        {"name": name, "from": previous[name], "to": current[name]}
        for name in current
        if name in previous and previous[name] != current[name]
    ]
    gone = {name.lower() for name in removed}
    still = {name.lower() for name in current}
    missing = []
    for attribute in mapped:
        key, root = attribute.lower(), attribute.split(".", 1)[0].lower()
        if (key in gone or root in gone) and key not in still and root not in still and attribute not in missing:
            missing.append(attribute)
    return {"compared": True, "added": added, "removed": removed, "retyped": retyped, "missing_mapped": missing}


def drift_summary(drift: dict) -> str:
    """One line for a run's drift ("" when nothing changed)."""
    parts = []
    if drift.get("missing_mapped"):
        parts.append("mapped attributes disappeared: " + ", ".join(drift["missing_mapped"]))
    if drift.get("removed"):
        parts.append("removed: " + ", ".join(drift["removed"]))
    if drift.get("added"):
        parts.append("added: " + ", ".join(drift["added"]))
    if drift.get("retyped"):
        parts.append("retyped: " + ", ".join(f"{r['name']} {r['from']} -> {r['to']}" for r in drift["retyped"]))
    return "; ".join(parts)
