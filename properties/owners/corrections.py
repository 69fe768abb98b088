"""A broker's corrections to owner grouping (merge, split, move), applied on top of the automatic grouping so
that every re-ingest reproduces the corrected grouping. Pure: the integrator stores the corrections.

What a correction refers to. Owner keys are no anchor: they change when a name gains a middle initial or two owners
are merged. Records are: a correction names records by `RecordRef(record_id, name_key)`, where `record_id` is what
resolution was given (the parcel's normalized `parcel_id`) and `name_key` the `OwnerName.key` of the record's owner
name when the broker made the correction. While the parcel keeps that owner name (however the source spells it:
"SMITH JOHN A" and "Smith, John A." have one key) the correction holds; once the parcel is sold or its owner name
really changes, the correction is reported `stale` and no longer applied: a merge made for the old owner must not
drag the new one along. Corrections are never deleted by ingest; the admin shows the stale ones for review.

How to persist (one row per correction, never edited, newest wins):

    OwnerCorrection(seq=<auto id, the order>, kind="merge"|"split"|"assign", record_id, name_key,
                    other_record_id, other_name_key (blank for "assign" to an owner of its own),
                    note, created_by, created_at)

and rebuild `Merge` / `Split` / `Assign` from the rows before each resolution.

Semantics, applied newest first (a higher `seq` wins a contradiction; the loser is reported `conflict`):
- `Merge(a, b)`: the owners of records a and b are one owner (both whole groups, including parcels that join either
  later by the automatic rules).
- `Split(a, b)`: records a and b belong to different owners. Where the automatic grouping had them together it is
  undone between them: the other records of that group follow the automatic links that remain, in a fixed order.
- `Assign(a, owner_of=b)`: record a leaves its automatic group and belongs to the owner of record b ("move this
  parcel to that owner"); `owner_of=None` makes it an owner of its own ("split this parcel off").
Automatic links (same name and address, a less complete name joining the complete one) are then added wherever no
correction forbids them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RecordRef:
    record_id: str
    name_key: str  # OwnerName.key of the record's owner name when the correction was made


@dataclass(frozen=True, slots=True)
class _Pair:
    seq: int
    a: RecordRef
    b: RecordRef
    note: str = ""


@dataclass(frozen=True, slots=True)
class Merge(_Pair):
    """The owners of records a and b are one owner."""


@dataclass(frozen=True, slots=True)
class Split(_Pair):
    """Records a and b belong to different owners."""


@dataclass(frozen=True, slots=True)
class Assign:
    seq: int
    record: RecordRef
    owner_of: RecordRef | None = None  # None: the record is an owner of its own
    note: str = ""


Correction = Merge | Split | Assign


@dataclass(frozen=True, slots=True)
class CorrectionOutcome:
    seq: int
    status: str  # "applied", "stale" (its records or their owner names changed), "conflict" (a newer one wins)
    reason: str


@dataclass(frozen=True, slots=True)
class Link:
    """An automatic reason to put two clusters (records with one name key and one address) together."""

    source: int
    target: int
    reason: str


@dataclass
class Plan:
    groups: list[tuple[str, ...]]  # record ids, each group sorted; groups in order of their first record
    notes: dict[str, list[str]] = field(default_factory=dict)  # first record id of a group -> explanation lines


def correction_refs(c: Correction) -> list[RecordRef]:
    """The records a correction names."""
    if isinstance(c, Assign):
        return [c.record] + ([c.owner_of] if c.owner_of else [])
    return [c.a, c.b]


def describe(c: Correction) -> str:
    note = f" ({c.note})" if c.note else ""
    if isinstance(c, Merge):
        return f"Correction #{c.seq}: records {c.a.record_id} and {c.b.record_id} are one owner{note}."
    if isinstance(c, Split):
        return f"Correction #{c.seq}: records {c.a.record_id} and {c.b.record_id} are different owners{note}."
    if c.owner_of is None:
        return f"Correction #{c.seq}: record {c.record.record_id} is an owner of its own{note}."
    return f"Correction #{c.seq}: record {c.record.record_id} belongs to the owner of {c.owner_of.record_id}{note}."


def plan_groups(
    clusters: Sequence[Sequence[str]],
    links: Sequence[Link],
    name_keys: dict[str, str],
    corrections: Sequence[Correction],
) -> tuple[Plan, list[CorrectionOutcome]]:
    """Group the clusters' records: corrections first (newest first), then the automatic links in their order."""
    cluster_of = {r: ci for ci, records in enumerate(clusters) for r in records}
    outcomes: list[CorrectionOutcome] = []
    valid: list[Correction] = []
    for c in sorted(corrections, key=lambda c: c.seq, reverse=True):
        problem = _stale(c, cluster_of, name_keys)
        if problem:
            outcomes.append(CorrectionOutcome(c.seq, "stale", problem))
        else:
            valid.append(c)
    constrained = {ref.record_id for c in valid for ref in correction_refs(c)}
    uf = _Groups()
    cluster_atom: list[int | None] = []
    record_atom: dict[str, int] = {}
    for records in clusters:
        rest = [r for r in records if r not in constrained]
        cluster_atom.append(uf.add(rest) if rest else None)
        for r in records:
            if r in constrained:
                record_atom[r] = uf.add([r], constrained=True)

    def atom(record_id: str) -> int:
        return record_atom[record_id]

    applied: list[Correction] = []
    assigned: dict[str, int] = {}
    for c in valid:
        if isinstance(c, Split):
            if uf.find(atom(c.a.record_id)) == uf.find(atom(c.b.record_id)):
                outcomes.append(CorrectionOutcome(c.seq, "conflict", "a newer correction puts these records together"))
                continue
            uf.forbid(atom(c.a.record_id), c.b.record_id, c.seq)
            uf.forbid(atom(c.b.record_id), c.a.record_id, c.seq)
        elif isinstance(c, Assign) and c.record.record_id in assigned:
            seq = assigned[c.record.record_id]
            outcomes.append(CorrectionOutcome(c.seq, "conflict", f"newer correction #{seq} placed this record"))
            continue
        elif isinstance(c, Merge) and (placed := [r.record_id for r in (c.a, c.b) if r.record_id in assigned]):
            seq = assigned[placed[0]]  # an older merge must not drag a record a newer correction placed
            outcomes.append(CorrectionOutcome(c.seq, "conflict", f"newer correction #{seq} placed record {placed[0]}"))
            continue
        else:
            a, b = (c.a, c.b) if isinstance(c, Merge) else (c.record, c.owner_of)
            if isinstance(c, Assign):
                assigned[a.record_id] = c.seq
            if b is not None and uf.join(atom(a.record_id), atom(b.record_id)) is not None:
                outcomes.append(CorrectionOutcome(c.seq, "conflict", "a newer correction keeps these owners apart"))
                continue
        applied.append(c)
        outcomes.append(CorrectionOutcome(c.seq, "applied", describe(c)))

    blocked: list[tuple[int, str]] = []  # (atom, explanation)
    soft: list[tuple[int, int, str]] = []
    anchors: list[int | None] = []
    for ci, records in enumerate(clusters):
        peeled = [record_atom[r] for r in records if r in constrained and r not in assigned]
        anchor = cluster_atom[ci] if cluster_atom[ci] is not None else (peeled[0] if peeled else None)
        anchors.append(anchor)
        soft += [(anchor, p, "same owner name and mailing address") for p in peeled if p != anchor]
    soft += [(anchors[k.source], anchors[k.target], k.reason) for k in links]
    for a, b, reason in soft:
        if a is None or b is None:
            continue
        blocked_by = uf.join(a, b)
        if blocked_by is not None:
            text = f"Kept apart by correction #{blocked_by}: {reason}."
            blocked += [(a, text), (b, text)]
    by_root: dict[int, list[str]] = {}
    for ai, records in enumerate(uf.records):
        by_root.setdefault(uf.find(ai), []).extend(records)
    plan = Plan(groups=sorted(tuple(sorted(rs)) for rs in by_root.values() if rs))
    first = {r: g[0] for g in plan.groups for r in g}
    for ai, text in blocked:  # both sides of a refused link say why
        plan.notes.setdefault(first[by_root[uf.find(ai)][0]], []).append(text)
    for c in sorted(applied, key=lambda c: c.seq):
        for head in dict.fromkeys(first[ref.record_id] for ref in correction_refs(c)):
            plan.notes.setdefault(head, []).append(describe(c))
    return plan, sorted(outcomes, key=lambda o: o.seq)


def _stale(c: Correction, cluster_of: dict[str, int], name_keys: dict[str, str]) -> str:
    refs = correction_refs(c)
    if isinstance(c, Merge | Split) and c.a.record_id == c.b.record_id:
        return f"names record {c.a.record_id} twice"
    for ref in refs:
        if ref.record_id not in cluster_of:
            return f"record {ref.record_id} is no longer in the data (or its owner name is unknown)"
        if name_keys[ref.record_id] != ref.name_key:
            return f"the owner name on record {ref.record_id} changed since the correction"
    return ""


class _Groups:
    """Union-find over atoms (a cluster's unconstrained records, or one constrained record) that refuses a join
    bringing together two records a split keeps apart."""

    def __init__(self):
        self.parent: list[int] = []
        self.records: list[list[str]] = []
        self.members: dict[int, set[str]] = {}  # root -> its constrained records
        self.forbidden: dict[int, dict[str, int]] = {}  # root -> {record it must not contain: split seq}

    def add(self, records: list[str], *, constrained: bool = False) -> int:
        self.parent.append(len(self.parent))
        self.records.append(records)
        if constrained:
            self.members[len(self.parent) - 1] = set(records)
        return len(self.parent) - 1

    def find(self, a: int) -> int:
        while self.parent[a] != a:
            self.parent[a] = a = self.parent[self.parent[a]]
        return a

    def forbid(self, a: int, record_id: str, seq: int) -> None:
        self.forbidden.setdefault(self.find(a), {})[record_id] = seq

    def join(self, a: int, b: int) -> int | None:
        """Join the groups of a and b; the seq of the split that forbids it (nothing joined), else None."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        for x, y in ((ra, rb), (rb, ra)):
            clash = self.forbidden.get(x, {}).keys() & self.members.get(y, set())
            if clash:
                return self.forbidden[x][min(clash)]
        self.parent[rb] = ra
        if rb in self.members:
            self.members.setdefault(ra, set()).update(self.members.pop(rb))
        if rb in self.forbidden:
            self.forbidden.setdefault(ra, {}).update(self.forbidden.pop(rb))
        return None
