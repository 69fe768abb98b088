"""Buyers who own parcels, linked to their Owner record (a buyer's own portfolio helps at disposition).

Conservative, like owner resolution: a buyer is linked when its GoHighLevel contact is an owner's contact (the
caller, sync, passes those links in), or when its company name is exactly one company owner's name. A person's name
alone links nothing (no mailing address to tell two John Smiths apart). Links made by hand in admin are kept.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import Case, Value, When

from properties.models import Owner
from properties.owners import OwnerKind, parse_owner_name

from .models import Buyer


def buyers_link_owners(*, owner_by_contact: Mapping[str, int]) -> int:
    """Link unlinked active buyers to owners: by GoHighLevel contact id ({contact id: owner id}), else by company
    name. One query per rule and one UPDATE; how many buyers were linked."""
    buyers = list(Buyer.objects.filter(owner__isnull=True).values_list("pk", "ghl_contact_id", "company"))
    links: dict[int, int] = {}
    by_company: dict[str, list[int]] = {}
    for pk, contact_id, company in buyers:
        if contact_id and contact_id in owner_by_contact:
            links[pk] = owner_by_contact[contact_id]
        elif company:
            name = parse_owner_name(company)
            if name.kind is OwnerKind.COMPANY and name.key:
                by_company.setdefault(name.key, []).append(pk)
    if by_company:
        owners: dict[str, list[int]] = {}
        for pk, canonical in Owner.objects.filter(kind=Owner.Kind.COMPANY, property_count__gt=0).values_list(
            "pk", "canonical_name"
        ):
            owners.setdefault(parse_owner_name(canonical).key, []).append(pk)
        for key, buyer_ids in by_company.items():
            if len(owners.get(key, [])) == 1:
                links.update(dict.fromkeys(buyer_ids, owners[key][0]))
    if links:
        Buyer.objects.filter(pk__in=links).update(
            owner=Case(*(When(pk=pk, then=Value(owner)) for pk, owner in links.items()))
        )
    return len(links)
