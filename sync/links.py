"""ExternalLink bookkeeping: the local object <-> GoHighLevel id rows every push and pull reads and writes."""

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from leads.models import Lead
from properties.models import Owner
from sync.models import ExternalLink

CONTACT_KINDS = (ExternalLink.Kind.CONTACT, ExternalLink.Kind.SHARED_CONTACT)


def external_link_save(*, obj, kind: str, ghl_id: str, last_hash: str, snapshot: dict, remote_updated_at=None):
    """One upsert right after GoHighLevel acknowledged, so a created id is never lost."""
    link = ExternalLink(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        kind=kind,
        ghl_id=ghl_id,
        last_hash=last_hash,
        remote_snapshot=snapshot,
        remote_updated_at=remote_updated_at,
        last_synced_at=timezone.now(),
    )
    with transaction.atomic():  # a savepoint: an IntegrityError leaves the caller's transaction usable
        ExternalLink.objects.bulk_create(
            [link],
            update_conflicts=True,
            unique_fields=["content_type", "object_id", "kind"],
            update_fields=["ghl_id", "last_hash", "remote_snapshot", "remote_updated_at", "last_synced_at"],
        )
    return link


def contact_link_save(*, obj, ghl_id: str, last_hash: str, snapshot: dict) -> ExternalLink:
    """The object's contact link. A contact GoHighLevel already gave another object (its duplicate rules merged the
    two) becomes a `shared_contact` link instead: recorded for review, never an IntegrityError."""
    try:
        return external_link_save(
            obj=obj, kind=ExternalLink.Kind.CONTACT, ghl_id=ghl_id, last_hash=last_hash, snapshot=snapshot
        )
    except IntegrityError:  # externallink_unique_remote: another object holds this contact
        return external_link_save(
            obj=obj, kind=ExternalLink.Kind.SHARED_CONTACT, ghl_id=ghl_id, last_hash=last_hash, snapshot=snapshot
        )


def external_links_adopt_by_owners(leads: list[Lead]) -> int:
    """Contacts pushed one per lead (before owners) become their owner's: per owner without a contact, its first
    such lead's contact link moves to the owner (never a second contact), with no hash, so the next push brings the
    contact up to date as the owner's. The other leads' old contacts stay linked to their leads (webhooks still find
    them) and push no longer uses them. Leads need `property` loaded. How many links moved."""
    owner_of = {lead.pk: lead.property.owner_id for lead in leads if lead.property.owner_id}
    if not owner_of:
        return 0
    owner_type = ContentType.objects.get_for_model(Owner)
    taken = set(
        ExternalLink.objects.filter(
            content_type=owner_type, object_id__in=set(owner_of.values()), kind__in=CONTACT_KINDS
        ).values_list("object_id", flat=True)
    )
    moves: dict[int, int] = {}
    old = ExternalLink.objects.filter(
        content_type=ContentType.objects.get_for_model(Lead), object_id__in=owner_of, kind=ExternalLink.Kind.CONTACT
    )
    for link_id, lead_id in old.order_by("object_id").values_list("id", "object_id"):
        if owner_of[lead_id] not in taken:
            taken.add(owner_of[lead_id])
            moves[link_id] = owner_of[lead_id]
    if moves:
        ExternalLink.objects.filter(pk__in=moves).update(
            content_type=owner_type,
            object_id=Case(*(When(pk=pk, then=Value(owner)) for pk, owner in moves.items())),
            last_hash="",
        )
    return len(moves)


def external_links_for(objects: list, kinds) -> dict[tuple[int, str], ExternalLink]:
    """The links of these objects (all of one model) of these kinds, by (object id, kind), in one query."""
    if not objects:
        return {}
    content_type = ContentType.objects.get_for_model(objects[0])
    links = ExternalLink.objects.filter(
        content_type=content_type, object_id__in=[o.pk for o in objects], kind__in=list(kinds)
    )
    return {(link.object_id, link.kind): link for link in links}


def external_links_hand_over(folds: dict[int, int]) -> None:
    """Folded lead id -> kept lead id (leads.services.leads_fold_merged's `on_fold`): each kept lead takes the first
    folded lead's link of a kind it lacks (the next push brings it up to date); the folded leads' other links are
    dropped, and their records stay in GoHighLevel for the broker to merge there."""
    links = ExternalLink.objects.filter(
        content_type=ContentType.objects.get_for_model(Lead), object_id__in=[*folds, *folds.values()]
    )
    taken = set(links.filter(object_id__in=folds.values()).values_list("object_id", "kind"))
    handed = {}
    for link_id, lead_id, kind in (
        links.filter(object_id__in=folds).order_by("object_id").values_list("id", "object_id", "kind")
    ):
        if (folds[lead_id], kind) not in taken:
            taken.add((folds[lead_id], kind))
            handed[link_id] = folds[lead_id]
    if handed:
        links.filter(pk__in=handed).update(object_id=Case(*(When(pk=pk, then=Value(to)) for pk, to in handed.items())))
    links.filter(object_id__in=folds).delete()


def owner_contact_ids() -> dict[str, int]:
    """{GoHighLevel contact id: owner id} of every owner's contact (shared ones included)."""
    links = ExternalLink.objects.filter(content_type=ContentType.objects.get_for_model(Owner), kind__in=CONTACT_KINDS)
    return dict(links.order_by("-kind").values_list("ghl_id", "object_id"))
