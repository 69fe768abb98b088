"""Owner resolution: records (a parcel's owner name and mailing address) grouped into owners, one person or
company across its parcels, each grouping explained. Pure; linear in the number of records (records are bucketed
by key, never compared pairwise).

The rules, most certain first:
1. Same name key and same mailing address -> one owner. The name key ignores spelling: "SMITH JOHN A",
   "John A. Smith" and "SMITH, JOHN A" have one key, as have "ACME HOLDINGS LLC" and "Acme Holdings, L.L.C.".
2. A less complete form of a name joins the complete one at the same mailing address only when it fits exactly one
   name there: "SMITH JOHN" (or "SMITH JOHN A") joins "SMITH JOHN ALAN"; "ACME HOLDINGS" joins "ACME HOLDINGS LLC";
   "SMITH FAMILY TRUST" joins "SMITH JOHN A TR OF THE SMITH FAMILY TRUST". Surname, first name and suffix must be
   identical. If "SMITH JOHN A" and "SMITH JOHN B" both live there, "SMITH JOHN" joins neither and says why.
3. Nothing else merges automatically: not a shared surname ("SMITH JOHN A" / "SMITH MARY"), not a different
   middle initial ("SMITH JOHN A" / "SMITH JOHN B": father and son), not a different suffix ("SMITH JOHN A" /
   "SMITH JOHN A JR"), not a shared address (two LLCs at a registered agent's), not the same name at two
   addresses, not one person in two capacities (owner, trustee, estate). A broker merges those (corrections).
4. Without a mailing address a person's name groups nothing (it is its own owner); a company or public body
   without one groups with the same name's other address-less records.
Unknown, blank and confidential owner names are not owners: they come back in `unresolved` with the reason.

Every rule works inside one block (`record_block`): the records at one mailing address; a company's or public
body's address-less records of one name block; a person's address-less record alone. Corrections join the blocks
of the records they name. So resolving any set of whole blocks, closed under the corrections, gives those blocks'
owners exactly as resolving everything does: a night re-resolves only the blocks its changes touch.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from .corrections import Correction, CorrectionOutcome, Link, plan_groups
from .mailing import MailingAddress
from .names import OwnerKind, OwnerName, parse_owner_name
from .vocabulary import UNKNOWN_PREFIXES

_GROUPED_WITHOUT_ADDRESS = (OwnerKind.COMPANY, OwnerKind.GOVERNMENT)


@dataclass(frozen=True, slots=True)
class OwnerRecord:
    record_id: str  # the parcel's normalized parcel_id: corrections refer to it
    owner_name: str  # as the source wrote it
    mailing: MailingAddress | None = None
    property_state: str = ""  # the parcel's own state (situs), for the out-of-state indicator


@dataclass(frozen=True, slots=True)
class ResolvedOwner:
    key: str  # "<name key>@<mailing address key>": the owner's identity while its name and address hold
    name: OwnerName  # the most complete name of the group, in its commonest spelling
    mailing: MailingAddress | None
    record_ids: tuple[str, ...]
    out_of_state_record_ids: tuple[str, ...]  # mailing state known and not the parcel's state
    name_forms: tuple[str, ...]  # every spelling seen, as received
    explanation: tuple[str, ...]  # why these records are one owner (and what was kept apart), for people
    is_corporate: bool = False
    is_trust: bool = False
    is_estate: bool = False
    is_government: bool = False
    is_bank: bool = False

    @property
    def kind(self) -> OwnerKind:
        return self.name.kind

    @property
    def display_name(self) -> str:
        return self.name.display

    @property
    def property_count(self) -> int:
        return len(self.record_ids)

    @property
    def is_out_of_state(self) -> bool:
        return bool(self.out_of_state_record_ids)

    @property
    def digest(self) -> str:
        """32 hex characters standing for `key` (keys can be long): a unique column for the Owner row."""
        return hashlib.blake2b(self.key.encode(), digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class Unresolved:
    record_id: str
    reason: str


@dataclass(frozen=True)
class Resolution:
    owners: tuple[ResolvedOwner, ...]  # ordered by key
    unresolved: tuple[Unresolved, ...]
    corrections: tuple[CorrectionOutcome, ...]  # one per correction given: applied, stale or conflict
    _by_record: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    def owner_key_of(self, record_id: str) -> str | None:
        return self._by_record.get(record_id)


@dataclass
class _Cluster:
    """Records with one name key at one mailing address key."""

    name_key: str
    address_key: str
    records: list[OwnerRecord] = field(default_factory=list)
    names: list[OwnerName] = field(default_factory=list)


def record_block(record: OwnerRecord, *, name_order: str = "auto") -> str:
    """The block `record` resolves in (see the module docstring); "" for a record that is no owner (unresolved)."""
    name = parse_owner_name(record.owner_name, name_order=name_order)
    if name.kind is OwnerKind.UNKNOWN:
        return ""
    address = record.mailing.key if record.mailing else ""
    if address:
        return f"at:{address}"
    if name.kind in _GROUPED_WITHOUT_ADDRESS:
        return f"named:{name.block_key}"
    return f"record:{record.record_id}"


def resolve_owners(
    records: Iterable[OwnerRecord], *, corrections: Sequence[Correction] = (), name_order: str = "auto"
) -> Resolution:
    """Group records into owners (see the module docstring), then apply the broker's corrections."""
    clusters: dict[tuple[str, str], _Cluster] = {}
    unresolved: list[Unresolved] = []
    seen: set[str] = set()
    for record in records:
        if record.record_id in seen:
            raise ValueError(f"record id {record.record_id!r} is given twice")
        seen.add(record.record_id)
        name = parse_owner_name(record.owner_name, name_order=name_order)
        if name.kind is OwnerKind.UNKNOWN:
            unresolved.append(Unresolved(record.record_id, _unknown_reason(record.owner_name, name)))
            continue
        address = record.mailing.key if record.mailing else ""
        if not address and name.kind not in _GROUPED_WITHOUT_ADDRESS:
            address = f"record:{record.record_id}"
        cluster = clusters.setdefault((name.key, address), _Cluster(name.key, address))
        cluster.records.append(record)
        cluster.names.append(name)
    ordered = [clusters[k] for k in sorted(clusters)]
    for c in ordered:  # records in id order: the result must not depend on the input order
        pairs = sorted(zip(c.records, c.names, strict=True), key=lambda pair: pair[0].record_id)
        c.records, c.names = [r for r, _ in pairs], [n for _, n in pairs]
    links, ambiguous = _absorptions(ordered)
    name_keys = {r.record_id: c.name_key for c in ordered for r in c.records}
    plan, outcomes = plan_groups([[r.record_id for r in c.records] for c in ordered], links, name_keys, corrections)
    cluster_of = {r.record_id: i for i, c in enumerate(ordered) for r in c.records}
    link_of = {k.source: k for k in links}  # a cluster joins at most one other
    owners = [
        _owner(group, ordered, cluster_of, link_of, ambiguous, plan.notes.get(group[0], [])) for group in plan.groups
    ]
    owners = _unique_keys(owners)
    by_record = {r: o.key for o in owners for r in o.record_ids}
    return Resolution(tuple(owners), tuple(sorted(unresolved, key=lambda u: u.record_id)), tuple(outcomes),
                      by_record)  # fmt: skip


def _absorptions(ordered: list[_Cluster]) -> tuple[list[Link], dict[int, list[int]]]:
    """Links from a less complete name to the one complete name it fits at the same address; the clusters that fit
    several (left alone)."""
    blocks: dict[tuple[str, str], list[int]] = {}
    for i, c in enumerate(ordered):
        blocks.setdefault((c.names[0].block_key, c.address_key), []).append(i)
    links: list[Link] = []
    ambiguous: dict[int, list[int]] = {}
    for members in blocks.values():
        if len(members) < 2:
            continue
        looser = {i: set(ordered[i].names[0].looser_keys) for i in members}
        maximal = [m for m in members if not any(ordered[m].name_key in looser[o] for o in members if o != m)]
        for i in members:
            if i in maximal:
                continue
            fits = [m for m in maximal if ordered[i].name_key in looser[m]]
            if len(fits) == 1:
                source, target = _canonical(ordered[i]), _canonical(ordered[fits[0]])
                reason = (
                    f'"{source}" joined "{target}" at the same mailing address: a less complete form of that name '
                    "(a middle name, designator or trustee left out), and the only name there it fits"
                )
                links.append(Link(i, fits[0], reason))
            elif fits:
                ambiguous[i] = fits
    return links, ambiguous


def _owner(group, ordered, cluster_of, link_of, ambiguous, notes) -> ResolvedOwner:
    ids = set(group)
    members = sorted({cluster_of[r] for r in group})
    parts = {i: [(r, n) for r, n in zip(ordered[i].records, ordered[i].names, strict=True) if r.record_id in ids]
             for i in members}  # fmt: skip
    joined = [i for i in members if i in link_of and link_of[i].target in parts]
    complete = [i for i in members if i not in joined] or members
    head = min(complete, key=lambda i: (-len(parts[i]), ordered[i].name_key))
    cluster = ordered[head]
    counts = Counter(n.normalized for _, n in parts[head])
    name = next(n for _, n in parts[head] if n.normalized == min(counts, key=lambda t: (-counts[t], t)))
    mailing = next((r.mailing for r, _ in parts[head] if r.mailing and r.mailing.key), None)
    names = [n for i in members for _, n in parts[i]]
    lines = []
    for i in sorted(members, key=lambda i: (i != head, i)):
        c, canonical = ordered[i], _canonical(ordered[i])
        forms = sorted({r.owner_name.strip() for r, _ in parts[i]} - {canonical})
        written = f" (written {', '.join(repr(f) for f in forms)})" if forms else ""
        where = next((r.mailing.one_line for r, _ in parts[i] if r.mailing and r.mailing.key), "")
        place = f"at {where}" if where else "with no mailing address"
        lines.append(f'{len(parts[i])} record{"s" * (len(parts[i]) != 1)} as "{canonical}" {place}{written}.')
        if c.address_key.startswith("record:"):
            lines.append("No mailing address: a person's name alone does not group parcels.")
        if i in ambiguous:
            fits = " or ".join(f'"{_canonical(ordered[m])}"' for m in ambiguous[i])
            lines.append(f'"{canonical}" was not joined: at this mailing address it could be {fits}.')
        # Nothing here about the owners of the same name elsewhere: that is other blocks' news (it would rewrite
        # every owner of a common name whenever one of them changes); the owner page counts and links them.
    lines += [link_of[i].reason + "." for i in joined]
    return ResolvedOwner(
        key=f"{cluster.name_key}@{cluster.address_key}",
        name=name,
        mailing=mailing,
        record_ids=tuple(group),
        out_of_state_record_ids=tuple(sorted(r.record_id for i in members for r, _ in parts[i] if _out_of_state(r))),
        name_forms=tuple(sorted({r.owner_name.strip() for i in members for r, _ in parts[i]})),
        explanation=tuple(lines + notes),
        is_corporate=any(n.is_corporate for n in names),
        is_trust=any(n.is_trust for n in names),
        is_estate=any(n.is_estate for n in names),
        is_government=any(n.is_government for n in names),
        is_bank=any(n.is_bank for n in names),
    )


def _canonical(cluster: _Cluster) -> str:
    return cluster.names[0].canonical


def _out_of_state(record: OwnerRecord) -> bool:
    state = record.mailing.state if record.mailing else ""
    return bool(state and record.property_state and state != record.property_state.strip().upper())


def _unique_keys(owners: list[ResolvedOwner]) -> list[ResolvedOwner]:
    """A split can leave two owners with one name and address: the later ones (by first record) get "#<record>"."""
    taken: set[str] = set()
    out = []
    for owner in owners:  # already in order of first record id
        key = owner.key if owner.key not in taken else f"{owner.key}#{owner.record_ids[0]}"
        taken.add(key)
        out.append(owner if key == owner.key else replace(owner, key=key))
    return sorted(out, key=lambda o: o.key)


def _unknown_reason(raw: str, name: OwnerName) -> str:
    if not name.normalized:
        return "owner name is blank"
    if name.normalized.startswith(UNKNOWN_PREFIXES):
        return f"owner name is withheld by the source ({raw.strip()!r})"
    return f"owner name says nothing about the owner ({raw.strip()!r})"
