"""Merge properties that are the same place: same normalized address and zip, set-based.

Records from different sources for the same parcel already share one Property (the loader keys on the
normalized parcel id). Here, duplicates under different parcel ids are merged into a survivor: their child
rows and provenance move to it, and they are soft-deleted (is_active=False, merged_into=survivor), so later
ingests of their parcel ids land on the survivor too.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Case, Count, IntegerField, Q, Value, When

from properties import models as m

CHILD_MODELS = (m.TaxSale, m.Foreclosure, m.Valuation, m.TaxDelinquency, m.CodeViolation, m.Listing, m.PropertySource)
CHUNK = 500


@dataclass(frozen=True)
class DedupeSummary:
    groups: int = 0  # addresses held by more than one active property
    merged: int = 0  # properties soft-deleted into a survivor
    moved: int = 0  # child rows and provenance rows moved to survivors

    def __str__(self) -> str:
        return f"{self.groups} duplicate addresses, {self.merged} properties merged, {self.moved} records moved"


def _duplicates() -> dict[int, int]:
    """duplicate id -> survivor id. The survivor has an owner on record, then the oldest id."""
    active = m.Property.objects.filter(is_active=True).exclude(street="").exclude(address_normalized="")
    keys = active.values("address_normalized", "zip").annotate(n=Count("id")).filter(n__gt=1)
    survivor_of: dict[int, int] = {}
    for start in range(0, len(keys := list(keys)), CHUNK):
        chunk = keys[start : start + CHUNK]
        match = Q()
        for key in chunk:
            match |= Q(address_normalized=key["address_normalized"], zip=key["zip"])
        members = active.filter(match).annotate(
            no_owner=Case(When(owner_name="", then=Value(1)), default=Value(0), output_field=IntegerField())
        )
        first = {}
        for pk, addr, zip5 in members.order_by("no_owner", "id").values_list("id", "address_normalized", "zip"):
            survivor = first.setdefault((addr, zip5), pk)
            if survivor != pk:
                survivor_of[pk] = survivor
    return survivor_of


def _retarget(queryset, match: str, target: str, survivor_of: dict[int, int], **also) -> int:
    """One UPDATE per chunk: `target` = survivor for rows whose `match` is a duplicate id."""
    moved = 0
    items = list(survivor_of.items())
    for start in range(0, len(items), CHUNK):
        chunk = dict(items[start : start + CHUNK])
        survivor = Case(*(When(**{match: dup}, then=Value(s)) for dup, s in chunk.items()), output_field=IntegerField())
        moved += queryset.filter(**{f"{match}__in": chunk}).update(**{target: survivor}, **also)
    return moved


def property_dedupe() -> DedupeSummary:
    """Merge active properties sharing a normalized address and zip into one survivor each."""
    survivor_of = _duplicates()
    if not survivor_of:
        return DedupeSummary()
    with transaction.atomic():
        moved = sum(_retarget(model.objects, "property_id", "property", survivor_of) for model in CHILD_MODELS)
        _retarget(m.Property.objects, "merged_into_id", "merged_into", survivor_of)  # earlier merges follow along
        _retarget(m.Property.objects, "id", "merged_into", survivor_of, is_active=False)
    return DedupeSummary(groups=len(set(survivor_of.values())), merged=len(survivor_of), moved=moved)
