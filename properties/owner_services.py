"""Owners stored: the pure resolution in `properties/owners/` run over the parcel master, its result upserted as
Owner rows and set on each parcel, and a broker's corrections recorded so every later resolution keeps them.

`owners_resolve()` runs in the nightly enrich step (after dedupe) and alone as `manage.py resolve_owners`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace

from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from dealfinder.common.bulk import bulk_update_rows, bulk_upsert, bulk_upsert_rows, copy_to_stage
from dealfinder.common.collector import collector_paused
from dealfinder.common.generations import change_generation_bump
from properties import models as m
from properties.owners import (
    Assign,
    Correction,
    MailingAddress,
    Merge,
    OwnerRecord,
    RecordRef,
    ResolvedOwner,
    Split,
    carry_over,
    parse_owner_name,
    resolve_owners,
)
from properties.owners.corrections import correction_refs
from properties.owners.resolution import record_block

BATCH_SIZE = 1000
OWNER_FIELDS = [
    "key", "kind", "display_name", "canonical_name", "people", "entity", "mailing_street", "mailing_city",
    "mailing_state", "mailing_zip", "is_corporate", "is_trust", "is_estate", "is_government", "is_bank",
    "is_out_of_state", "name_forms", "explanation", "updated_at",
]  # fmt: skip


@dataclass(frozen=True)
class OwnersSummary:
    owners: int = 0  # owners holding at least one active parcel
    written: int = 0  # owner rows inserted or changed
    renamed: int = 0  # stored owners whose key changed (same row, same GoHighLevel contact)
    parcels_changed: int = 0  # parcels whose owner changed
    unresolved: int = 0  # parcels whose owner name is blank, unknown or withheld (no owner)
    corrections_stale: int = 0
    corrections_conflict: int = 0
    resolved: int = 0  # parcels resolved again: those in the blocks of what changed

    def __str__(self) -> str:
        return (
            f"{self.owners} owners ({self.written} written, {self.renamed} re-keyed), {self.parcels_changed} parcels "
            f"re-assigned, {self.unresolved} without a known owner"
        )


def distressed_parcels() -> Q:
    """Parcels with a tax sale, an open tax delinquency, a foreclosure or an open code violation."""
    return Q(
        Exists(m.TaxSale.objects.filter(property=OuterRef("pk")))
        | Exists(m.TaxDelinquency.objects.filter(property=OuterRef("pk"), is_open=True))
        | Exists(m.Foreclosure.objects.filter(property=OuterRef("pk")))
        | Exists(m.CodeViolation.objects.filter(property=OuterRef("pk"), closed_at__isnull=True))
    )


def owner_corrections_load() -> list[Correction]:
    """The stored corrections as the pure core's Merge / Split / Assign."""
    out: list[Correction] = []
    for c in m.OwnerCorrection.objects.order_by("pk"):
        a = RecordRef(c.record_id, c.name_key)
        b = RecordRef(c.other_record_id, c.other_name_key) if c.other_record_id else None
        if c.kind == m.OwnerCorrection.Kind.ASSIGN:
            out.append(Assign(c.pk, a, b, c.note))
        elif b is not None:
            out.append((Merge if c.kind == m.OwnerCorrection.Kind.MERGE else Split)(c.pk, a, b, c.note))
    return out


def owners_resolve(*, everything: bool = False) -> OwnersSummary:
    """Resolve the owners of the active parcels, keep stored owners whose key changed (rename, not replace), upsert
    the changed ones, set `Property.owner` where it changed and recount. Idempotent: a second run writes nothing.

    Only the blocks (properties.owners.resolution.record_block) that hold a parcel whose owner name, mailing address
    or state changed since it was last resolved are resolved again, with the blocks of every correction's parcels:
    each parcel keeps what it was resolved from and where (OwnerInput). Resolving whole blocks
    gives what resolving every parcel gives, so a night costs what changed; `everything` resolves every parcel
    (the first run does, and a change of RESOLVER_VERSION).

    Owners left without parcels stay (property_count 0): their GoHighLevel contact may still be linked to them."""
    with collector_paused():
        return _owners_resolve(everything=everything)


# Bump when the rules in properties/owners change what a record resolves to: every parcel is resolved again once.
RESOLVER_VERSION = 1


def _input_digest(owner_name: str, mailing: str, state: str) -> str:
    return _digest(repr((RESOLVER_VERSION, owner_name, mailing, state)))


# Records resolved at a time: memory is bounded by this, not by the county (whole blocks, so a chunk may hold more).
CHUNK_RECORDS = 100_000


def _owners_resolve(*, everything: bool) -> OwnersSummary:
    # (pk, parcel_id, owner_name, mailing line, state, owner_id, input digest, block digest): the last two None for
    # a parcel never resolved
    columns = ["pk", "parcel_id", "owner_name", "owner_mailing_address", "state", "owner_id", "owner_input__digest"]
    rows = list(m.Property.objects.filter(is_active=True).order_by().values_list(*columns, "owner_input__block"))
    corrections = owner_corrections_load()
    named = {ref.record_id for c in corrections for ref in correction_refs(c)}  # the parcels corrections name
    fresh = _changed(rows, everything=everything)
    subset = _blocks_of(rows, fresh, named)
    del rows
    summary = OwnersSummary(resolved=len(subset))
    for chunk, given in _chunks(subset, fresh, corrections, named):
        # Each chunk in its own transaction: a failure keeps the chunks before it, and a re-run resolves the rest
        # (their inputs are stored with them).
        with transaction.atomic():
            summary = _resolve_chunk(chunk, fresh, given, summary)
    with transaction.atomic():
        m.OwnerInput.objects.filter(property__is_active=False).delete()  # merged away: resolved afresh if back
        owners_recount()
    return replace(
        summary,
        owners=m.Owner.objects.filter(property_count__gt=0).count(),
        unresolved=m.Property.objects.filter(is_active=True, owner__isnull=True).count(),
    )


def _chunks(subset, fresh, corrections, named: set[str]):
    """(rows, corrections) to resolve together, of about CHUNK_RECORDS rows: whole groups of blocks. Blocks are
    grouped when a parcel moved from one to the other (whether its previous owner's row goes on under a new key
    depends on the keys of both: continuity.carry_over) and when corrections name them (that group goes first,
    with the corrections)."""
    root: dict[str, str] = {}

    def find(b: str) -> str:
        while root.get(b, b) != b:
            b = root[b]
        return b

    def join(a: str, b: str) -> None:
        if a and b:
            root[find(a)] = find(b)

    for row in subset:
        if row[0] in fresh:
            join(row[7] or "", fresh[row[0]][1])
    corrected = [_block_now(row, fresh) for row in subset if row[1] in named]
    for b in corrected:
        join(b, corrected[0])
    first = find(next((b for b in corrected if b), "")) if corrected else None
    groups: dict[str, list] = {}
    for row in subset:  # a correction's parcel goes with it whatever its block (its name may be unknown now)
        groups.setdefault(first if row[1] in named else find(_block_now(row, fresh)), []).append(row)
    chunk, given = groups.pop(first, []) if first is not None else [], corrections
    for key in sorted(groups):
        if len(chunk) >= CHUNK_RECORDS:
            yield chunk, given
            chunk, given = [], ()
        chunk.extend(groups[key])
    if chunk or given:
        yield chunk, given


def _resolve_chunk(chunk, fresh, corrections, summary: OwnersSummary) -> OwnersSummary:
    """Resolve these rows' owners (whole blocks), rename and upsert them, move the parcels, store what was read."""
    resolution = resolve_owners([_record(r) for r in chunk], corrections=corrections)
    previous = _keys_of({r[5] for r in chunk if r[5]})
    previous = {r[1]: previous[r[5]] for r in chunk if r[5]}
    renamed = _rename(carry_over(previous, resolution.owners))
    written, owner_pk = _upsert(resolution.owners)
    target = {r[0]: owner_pk.get(resolution.owner_key_of(r[1]) or "") for r in chunk}
    moved = [(r[0], target[r[0]]) for r in chunk if target[r[0]] != r[5]]
    bulk_update_rows(m.Property, moved, fields=["owner"])  # one statement on PostgreSQL (a first run moves all)
    inputs = [{"property_id": r[0], "digest": fresh[r[0]][0], "block": fresh[r[0]][1]} for r in chunk if r[0] in fresh]
    # One COPY for the chunk (its rows are in memory already), without a model instance per parcel.
    bulk_upsert_rows(m.OwnerInput, inputs, unique_fields=["property"], update_fields=["digest", "block"])
    if moved:  # parcels moved between owners without a new `updated_at`: cached figures must know
        transaction.on_commit(change_generation_bump)
    outcomes = resolution.corrections
    _record_outcomes(outcomes)
    return replace(
        summary,
        written=summary.written + written,
        renamed=summary.renamed + renamed,
        parcels_changed=summary.parcels_changed + len(moved),
        corrections_stale=summary.corrections_stale + sum(o.status == "stale" for o in outcomes),
        corrections_conflict=summary.corrections_conflict + sum(o.status == "conflict" for o in outcomes),
    )


def _record(row) -> OwnerRecord:
    return OwnerRecord(row[1], row[2] or "", MailingAddress.from_line(row[3]), row[4] or "")


def _changed(rows, *, everything: bool) -> dict[int, tuple[str, str]]:
    """{pk: (input digest, block digest)} of the parcels to resolve from what they read now: their input changed
    (or was never resolved), or they are resolvable and have no owner (its row was deleted)."""
    fresh = {}
    for row in rows:
        digest = _input_digest(row[2], row[3], row[4])
        if everything or digest != row[6] or (row[5] is None and row[7]):
            block = record_block(_record(row))
            fresh[row[0]] = (digest, _digest(block) if block else "")
    return fresh


def _block_now(row, fresh) -> str:
    """The block the parcel of `row` resolves in now: the one read afresh if it changed, else the stored one ("" for
    none)."""
    return fresh[row[0]][1] if row[0] in fresh else row[7] or ""


def _blocks_of(rows, fresh, named: set[str]) -> list:
    """The rows in the blocks to resolve again: those of the changed parcels, before and after the change; those
    that parcels merged away (inactive) leave behind; those of every correction's parcels (and those parcels
    themselves, whatever their name reads: the correction's outcome depends on them)."""
    affected = {b for row in rows if row[0] in fresh for b in (row[7], fresh[row[0]][1])}
    affected.update(m.OwnerInput.objects.filter(property__is_active=False).values_list("block", flat=True))
    affected.update(_block_now(row, fresh) for row in rows if row[1] in named)
    affected -= {"", None}
    return [row for row in rows if row[0] in fresh or row[7] in affected or row[1] in named]


def _keys_of(owner_ids: set[int]) -> dict[int, str]:
    ids, keys = sorted(owner_ids), {}
    for start in range(0, len(ids), BATCH_SIZE):
        keys.update(m.Owner.objects.filter(pk__in=ids[start : start + BATCH_SIZE]).values_list("pk", "key"))
    return keys


def _digest(key: str) -> str:
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


def _rename(renames: dict[str, str]) -> int:
    """Stored owners continued under a new key keep their row; a row already holding the new key (an owner left
    without parcels earlier) is left as it is and the old row stays behind. One UPDATE per batch (the new digests
    are not in the table, and each old key is continued by one new key at most, so the order does not matter)."""
    news = sorted(renames)
    taken: set[str] = set()
    for start in range(0, len(news), BATCH_SIZE):
        digests = [_digest(k) for k in news[start : start + BATCH_SIZE]]
        taken.update(m.Owner.objects.filter(digest__in=digests).values_list("digest", flat=True))
    todo = [(_digest(renames[new]), new, _digest(new)) for new in news if _digest(new) not in taken]
    qn, done = connection.ops.quote_name, 0
    table, key, digest = qn(m.Owner._meta.db_table), qn("key"), qn("digest")
    with connection.cursor() as cursor:
        for start in range(0, len(todo), BATCH_SIZE):
            batch = todo[start : start + BATCH_SIZE]
            values = ", ".join(["(%s, %s, %s)"] * len(batch))
            cursor.execute(
                f"WITH v (old, new_key, new_digest) AS (VALUES {values}) "  # noqa: S608 - identifiers are the model's
                f"UPDATE {table} SET {key} = v.new_key, {digest} = v.new_digest FROM v WHERE {table}.{digest} = v.old "
                f"RETURNING {table}.{qn('id')}",  # counted from RETURNING: SQLite's rowcount misses a WITH ... UPDATE
                [value for row in batch for value in row],
            )
            done += len(cursor.fetchall())
    return done


def _owner_row(owner: ResolvedOwner) -> m.Owner:
    mailing = owner.mailing or MailingAddress("")
    return m.Owner(
        key=owner.key,
        digest=owner.digest,
        kind=owner.kind.value,
        display_name=owner.display_name[:255],
        canonical_name=owner.name.canonical[:255],
        people=[{"last": p.last, "first": p.first, "middle": p.middle, "suffix": p.suffix} for p in owner.name.people],
        entity=owner.name.entity[:255],
        mailing_street=mailing.street[:200],
        mailing_city=mailing.city[:100],
        mailing_state=mailing.state[:32],
        mailing_zip=mailing.zip,
        is_corporate=owner.is_corporate,
        is_trust=owner.is_trust,
        is_estate=owner.is_estate,
        is_government=owner.is_government,
        is_bank=owner.is_bank,
        is_out_of_state=owner.is_out_of_state,
        name_forms=list(owner.name_forms),
        explanation=list(owner.explanation),
    )


def _row_hash(row: m.Owner) -> str:
    values = [getattr(row, f) for f in OWNER_FIELDS if f != "updated_at"]
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


def _upsert(owners) -> tuple[int, dict[str, int]]:
    """Upsert the owners whose stored row differs; {owner key: pk} for all of them. PostgreSQL compares in the
    database (_upsert_staged); elsewhere each stored row's hash is compared in Python."""
    if connection.vendor == "postgresql":
        return _upsert_staged(owners)
    rows = [_owner_row(o) for o in owners]
    stored = {}
    digests = [r.digest for r in rows]
    for start in range(0, len(digests), BATCH_SIZE):
        for row in m.Owner.objects.filter(digest__in=digests[start : start + BATCH_SIZE]):
            stored[row.digest] = (row.pk, _row_hash(row))
    fresh = [r for r in rows if stored.get(r.digest, (None, None))[1] != _row_hash(r)]
    for start in range(0, len(fresh), BATCH_SIZE):
        bulk_upsert(m.Owner, fresh[start : start + BATCH_SIZE], unique_fields=["digest"], update_fields=OWNER_FIELDS)
    pks = {digest: pk for digest, (pk, _) in stored.items()}
    missing = [r.digest for r in fresh if r.digest not in pks]
    for start in range(0, len(missing), BATCH_SIZE):
        pks.update(m.Owner.objects.filter(digest__in=missing[start : start + BATCH_SIZE]).values_list("digest", "pk"))
    return len(fresh), {r.key: pks[r.digest] for r in rows}


STAGED_FIELDS = ["digest", *(f for f in OWNER_FIELDS if f != "updated_at")]
STAGE_TABLE = "owner_resolve_stage"  # a temporary table per connection
JSON_FIELDS = {"people", "name_forms", "explanation"}


def _staged_row(owner: ResolvedOwner) -> tuple:
    """The owner's STAGED_FIELDS values as COPY takes them (the JSON fields as JSON text), as _owner_row has them."""
    mailing = owner.mailing or MailingAddress("")
    dumps = json.dumps
    return (
        owner.digest,
        owner.key,
        owner.kind.value,
        owner.display_name[:255],
        owner.name.canonical[:255],
        dumps([{"last": p.last, "first": p.first, "middle": p.middle, "suffix": p.suffix} for p in owner.name.people]),
        owner.name.entity[:255],
        mailing.street[:200],
        mailing.city[:100],
        mailing.state[:32],
        mailing.zip,
        owner.is_corporate,
        owner.is_trust,
        owner.is_estate,
        owner.is_government,
        owner.is_bank,
        owner.is_out_of_state,
        dumps(list(owner.name_forms)),
        dumps(list(owner.explanation)),
    )


def _upsert_staged(owners) -> tuple[int, dict[str, int]]:
    """PostgreSQL: every resolved owner COPYed into a temporary table, then one UPDATE of the stored rows that
    differ (IS DISTINCT FROM, JSON compared as jsonb) and one INSERT of the new ones: unchanged owners are neither
    built as models nor written. {owner key: pk} for all of them."""
    table, stage, now = m.Owner._meta.db_table, STAGE_TABLE, timezone.now()
    columns = [m.Owner._meta.get_field(name).column for name in STAGED_FIELDS]
    compared = [c for c in columns if c != "digest"]
    with connection.cursor() as cursor:
        copy_to_stage(cursor, table=table, stage=stage, columns=", ".join(columns), rows=map(_staged_row, owners))
        assign = ", ".join(f"{c} = s.{c}" for c in compared)
        old = ", ".join(f"o.{c}" for c in compared)
        new = ", ".join(f"s.{c}" for c in compared)
        cursor.execute(
            f"UPDATE {table} AS o SET {assign}, updated_at = %s FROM {stage} AS s "  # noqa: S608
            f"WHERE o.digest = s.digest AND ({old}) IS DISTINCT FROM ({new})",
            [now],
        )
        written = cursor.rowcount
        listed = ", ".join(columns)
        cursor.execute(
            f"INSERT INTO {table} ({listed}, property_count, distressed_count, created_at, updated_at) "  # noqa: S608
            f"SELECT {', '.join(f's.{c}' for c in columns)}, 0, 0, %s, %s FROM {stage} AS s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} AS o WHERE o.digest = s.digest) ORDER BY s.digest",
            [now, now],
        )
        written += cursor.rowcount
        cursor.execute(f"SELECT s.key, o.id FROM {stage} AS s JOIN {table} AS o ON o.digest = s.digest")  # noqa: S608
        pks = dict(cursor.fetchall())
    return written, pks


def owners_recount() -> int:
    """property_count and distressed_count of every owner from its active parcels, touching only the owners whose
    count changed. PostgreSQL: one pass over the parcels (GROUP BY owner) and one UPDATE; elsewhere one UPDATE per
    count. Returns how many counts changed."""
    if connection.vendor == "postgresql":
        return _owners_recount_grouped()
    changed = 0
    for field, parcels in (("property_count", Q()), ("distressed_count", distressed_parcels())):
        per_owner = (
            m.Property.objects.filter(parcels, owner=OuterRef("pk"), is_active=True)
            .order_by()
            .values("owner")
            .annotate(n=Count("pk"))
            .values("n")
        )
        count = Coalesce(Subquery(per_owner), 0)
        changed += m.Owner.objects.alias(n=count).exclude(**{field: F("n")}).update(**{field: count})
    return changed


def _owners_recount_grouped() -> int:
    counts = (
        m.Property.objects.filter(is_active=True, owner__isnull=False)
        .order_by()
        .values("owner_id")
        .annotate(n=Count("pk"), d=Count("pk", filter=distressed_parcels()))
        .values_list("owner_id", "n", "d")
    )
    sql, params = counts.query.sql_with_params()
    owner = m.Owner._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {owner} AS o SET property_count = c.n, distressed_count = c.d "  # noqa: S608 - the model's names
            f"FROM (SELECT o2.id, o2.property_count AS old_n, o2.distressed_count AS old_d, COALESCE(g.n, 0) AS n, "
            f"COALESCE(g.d, 0) AS d FROM {owner} AS o2 LEFT JOIN ({sql}) AS g (owner_id, n, d) ON g.owner_id = o2.id) "
            "AS c WHERE o.id = c.id AND (c.old_n <> c.n OR c.old_d <> c.d) "
            "RETURNING (c.old_n <> c.n)::int + (c.old_d <> c.d)::int",
            params,
        )
        return sum(row[0] for row in cursor.fetchall())


def _record_outcomes(outcomes) -> None:
    by_seq = {o.seq: o for o in outcomes}
    stored = m.OwnerCorrection.objects.filter(pk__in=list(by_seq))
    changed = [c for c in stored if (c.status, c.status_reason) != (by_seq[c.pk].status, by_seq[c.pk].reason[:255])]
    for c in changed:
        c.status, c.status_reason = by_seq[c.pk].status, by_seq[c.pk].reason[:255]
    m.OwnerCorrection.objects.bulk_update(changed, ["status", "status_reason"], batch_size=BATCH_SIZE)


def owner_correction_check(*, kind: str, record_id: str, other_record_id: str = "") -> dict[str, str]:
    """{parcel id: owner name} of the parcels a correction names; ValueError saying what is wrong with it."""
    if kind not in m.OwnerCorrection.Kind.values:
        raise ValueError(f"Unknown correction {kind!r}: merge, split or assign.")
    if kind != m.OwnerCorrection.Kind.ASSIGN and not other_record_id:
        raise ValueError("A merge or a split names two parcels.")
    if record_id == other_record_id:
        raise ValueError("The two parcels are the same parcel.")
    wanted = [p for p in (record_id, other_record_id) if p]
    names = dict(m.Property.objects.filter(parcel_id__in=wanted).values_list("parcel_id", "owner_name"))
    missing = [p for p in wanted if p not in names]
    if missing:
        raise ValueError(f"No parcel with id {', '.join(missing)}.")
    return names


def owner_correction_add(
    *, kind: str, record_id: str, other_record_id: str = "", note: str = "", user=None
) -> m.OwnerCorrection:
    """Record a broker's merge / split / move between two parcels (by parcel id) and re-resolve owners so it shows
    at once. The parcels' current owner names are kept with it: when one changes, the correction goes stale."""
    names = owner_correction_check(kind=kind, record_id=record_id, other_record_id=other_record_id)
    correction = m.OwnerCorrection.objects.create(
        kind=kind,
        record_id=record_id,
        name_key=parse_owner_name(names[record_id]).key,
        other_record_id=other_record_id,
        other_name_key=parse_owner_name(names[other_record_id]).key if other_record_id else "",
        note=note[:255],
        created_by=user,
    )
    owners_resolve()
    correction.refresh_from_db()
    return correction


def owner_corrections_delete(*, corrections) -> int:
    """Delete these corrections (a queryset) and re-resolve owners so the automatic grouping shows again at once:
    their parcels are marked to be resolved again (a night resolves only what changed, and corrections that are
    gone name no parcels). How many were deleted."""
    parcels = {p for pair in corrections.values_list("record_id", "other_record_id") for p in pair if p}
    with transaction.atomic():
        m.OwnerInput.objects.filter(property__parcel_id__in=parcels).delete()
        deleted = corrections.delete()[0]
    owners_resolve()
    return deleted
