"""Moving sources' stored parcels to another parcel-id format without merging what was distinct.

A parcel id is the key of the parcel master, so a source whose format changes would store its parcels again under
new ids (duplicates) or, with a format that deletes more, fold distinct parcels into one. Instead the properties
the sources list are renamed in place (their records, leads and history stay with them) to what the new format
reads from the id their source wrote (`parcel_id_raw`), and the sources' record keys that carry the parcel id
follow. A plan that would give two properties one id, or an id another property already has, is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Case, CharField, Value, When

from properties import models as m
from properties.normalize import normalize_parcel_id

CHUNK = 500
SHOWN = 10  # examples of each problem in a plan
KEYED_MODELS = (m.PropertySource, m.Valuation, m.TaxDelinquency)  # rows whose external_id may carry the parcel id


@dataclass
class RekeyPlan:
    sources: list[m.DataSource]
    parcel_format: str
    renames: dict[int, tuple[str, str]] = field(default_factory=dict)  # property id -> (old id, new id)
    unchanged: int = 0
    collisions: list[str] = field(default_factory=list)  # would merge: the plan is refused
    unreadable: list[str] = field(default_factory=list)  # ids the new format cannot read: kept as they are
    others: list[str] = field(default_factory=list)  # other sources listing these parcels in another format

    @property
    def blocked(self) -> bool:
        return bool(self.collisions or self.others)

    def summary(self) -> list[str]:
        names = ", ".join(s.slug for s in self.sources)
        lines = [
            f"{names} -> {self.parcel_format}: {len(self.renames)} parcel ids change, {self.unchanged} stay",
            *(f"  {old} -> {new}" for old, new in list(self.renames.values())[:SHOWN]),
        ]
        if self.unreadable:
            lines.append(f"{len(self.unreadable)} ids the {self.parcel_format} format cannot read stay as they are:")
            lines += [f"  {text}" for text in self.unreadable[:SHOWN]]
        if self.collisions:
            lines.append(f"refused: {len(self.collisions)} would merge distinct parcels:")
            lines += [f"  {text}" for text in self.collisions[:SHOWN]]
        if self.others:
            lines.append("refused: other sources list these parcels in another format; re-key them together:")
            lines += [f"  {text}" for text in self.others]
        return lines


def parcel_rekey_plan(*, sources: Iterable[m.DataSource], parcel_format: str) -> RekeyPlan:
    """What re-keying the sources' properties to `parcel_format` would change, and what forbids it."""
    if parcel_format not in m.ParcelFormat.values:
        raise ValueError(f"unknown parcel format {parcel_format!r}; allowed: {', '.join(m.ParcelFormat.values)}")
    sources = list(sources)
    plan = RekeyPlan(sources, parcel_format)
    owner_of: dict[str, int] = {}  # new id -> the property that gets it
    for rows in _property_chunks(sources):
        for pk, parcel_id, raw in rows:
            try:
                new = normalize_parcel_id(raw or parcel_id, parcel_format)
            except ValueError as exc:
                plan.unreadable.append(f"{parcel_id}: {exc}")
                new = parcel_id
            first = owner_of.setdefault(new, pk)
            if first != pk:
                plan.collisions.append(f"{parcel_id} and {_old_id(plan, first)} would both become {new}")
            elif new != parcel_id:
                plan.renames[pk] = (parcel_id, new)
            else:
                plan.unchanged += 1
    renamed_to = [new for _, new in plan.renames.values()]
    for start in range(0, len(renamed_to), CHUNK):
        taken = m.Property.objects.filter(parcel_id__in=renamed_to[start : start + CHUNK])
        for pk, parcel_id in taken.exclude(id__in=owner_of.values()).values_list("id", "parcel_id")[:SHOWN]:
            plan.collisions.append(f"{parcel_id} already belongs to another property (id {pk})")
    listed = m.PropertySource.objects.filter(source__in=sources).values("property_id")
    others = (
        m.DataSource.objects.filter(property_records__property_id__in=listed)
        .exclude(id__in=[s.pk for s in sources])
        .exclude(parcel_format=parcel_format)
        .distinct()
        .order_by("slug")
    )
    plan.others = [f"{s.slug} ({s.parcel_format})" for s in others]
    return plan


def _old_id(plan: RekeyPlan, pk: int) -> str:
    return plan.renames[pk][0] if pk in plan.renames else f"property {pk}"


def _property_chunks(sources: list[m.DataSource]):
    """(id, parcel_id, parcel_id_raw) of every property the sources list, in id order, a chunk at a time."""
    listed = m.Property.objects.filter(source_records__source__in=sources).distinct().order_by("id")
    last = 0
    while rows := list(listed.filter(id__gt=last).values_list("id", "parcel_id", "parcel_id_raw")[:CHUNK]):
        last = rows[-1][0]
        yield rows


def parcel_rekey_apply(*, plan: RekeyPlan) -> int:
    """Rename the plan's properties and re-key their sources' records, in one transaction; switch the sources to
    the new format. Returns how many properties were renamed. ValueError for a blocked plan."""
    if plan.blocked:
        raise ValueError("; ".join(plan.summary()[1:]))
    renames = list(plan.renames.items())
    with transaction.atomic():
        # Through temporary ids first, so that ids trading places never meet the unique constraint.
        for start in range(0, len(renames), CHUNK):
            chunk = renames[start : start + CHUNK]
            _rename(chunk, lambda pk, old, new: f"~rekey~{pk}")
        for start in range(0, len(renames), CHUNK):
            chunk = renames[start : start + CHUNK]
            _rename(chunk, lambda pk, old, new: new)
            _rekey_records(plan.sources, dict(chunk))
        for source in plan.sources:
            source.parcel_format = plan.parcel_format
            source.save(update_fields=["parcel_format", "updated_at"])
    return len(renames)


def _rename(chunk: list[tuple[int, tuple[str, str]]], to) -> None:
    whens = [When(id=pk, then=Value(to(pk, old, new))) for pk, (old, new) in chunk]
    m.Property.objects.filter(id__in=[pk for pk, _ in chunk]).update(parcel_id=Case(*whens, output_field=CharField()))


def _rekey_records(sources: list[m.DataSource], renames: dict[int, tuple[str, str]]) -> None:
    """Keys the loader built from the parcel id ("<parcel id>" or "<parcel id>:<tax year>") follow the rename."""
    for model in KEYED_MODELS:
        rows = model.objects.filter(source__in=sources, property_id__in=renames).values_list(
            "id", "property_id", "external_id"
        )
        updates = []
        for pk, property_id, key in rows:
            old, new = renames[property_id]
            if key == old or key.startswith(f"{old}:"):
                updates.append((pk, new + key[len(old) :]))
        if updates:
            whens = [When(id=pk, then=Value(key)) for pk, key in updates]
            model.objects.filter(id__in=[pk for pk, _ in updates]).update(
                external_id=Case(*whens, output_field=CharField())
            )


class ParcelFormatChange(ValueError):
    """A source with stored parcels was asked to use another parcel format (without parcel_rekey)."""


def parcel_format_change_error(*, source: m.DataSource, parcel_format: str) -> str | None:
    """Why a source's format may not simply be edited: it has stored parcels, which would be stored again under
    new ids. None when nothing is stored yet."""
    stored = m.DataSource.objects.filter(pk=source.pk).values_list("parcel_format", flat=True).first()
    if stored in (None, parcel_format) or not m.PropertySource.objects.filter(source_id=source.pk).exists():
        return None
    return (
        f"this source has parcels stored under the {stored} format; changing the format would store them again "
        f"under new ids. Re-key them: python manage.py parcel_rekey {source.slug} --format {parcel_format} "
        "(a dry run; add --apply)"
    )
