"""ExternalLink bookkeeping: the local object <-> GoHighLevel id rows every push and pull reads and writes."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Case, Value, When
from django.utils import timezone

from leads.models import Lead
from sync.models import ExternalLink


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
    ExternalLink.objects.bulk_create(
        [link],
        update_conflicts=True,
        unique_fields=["content_type", "object_id", "kind"],
        update_fields=["ghl_id", "last_hash", "remote_snapshot", "remote_updated_at", "last_synced_at"],
    )
    return link


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
