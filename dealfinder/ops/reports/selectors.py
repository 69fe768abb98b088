"""The reporting views' rows as the ORM computes them: the dashboard's figures and the answer the views are tested
against (tests/dealfinder/test_reports.py). Keep each in step with its view in sql.py."""

import datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from buyers.models import PropertyMatch
from leads.choices import CLOSED_STATUSES
from leads.models import Lead
from sync.models import ExternalLink

from .sql import HOT_SCORE, RECENT_MATCH_DAYS, UNSYNCED_TIERS


def report_hot_deal_leads() -> QuerySet:
    """Open leads scoring HOT_SCORE or more, with `match_count`."""
    return (
        Lead.objects.filter(total__gte=HOT_SCORE)
        .exclude(status__in=CLOSED_STATUSES)
        .annotate(match_count=Count("property__matches"))
    )


def report_unsynced_leads() -> QuerySet:
    """Tier A/B leads with no GoHighLevel contact, or changed (the lead or its property) since its contact's last
    push. The contact is the owner's when the parcel has an owner (one contact per owner), else the lead's own."""

    def fresh(app_label: str, model: str, object_id) -> Exists:
        return Exists(
            ExternalLink.objects.filter(
                content_type__app_label=app_label, content_type__model=model, object_id=object_id, kind="contact"
            )
            .filter(last_synced_at__gte=OuterRef("updated_at"))
            .filter(last_synced_at__gte=OuterRef("property__updated_at"))
        )

    synced = (Q(property__owner__isnull=True) & Q(fresh("leads", "lead", OuterRef("pk")))) | (
        Q(property__owner__isnull=False) & Q(fresh("properties", "owner", OuterRef("property__owner_id")))
    )
    return Lead.objects.filter(tier__in=UNSYNCED_TIERS).exclude(synced)


def report_recent_matches() -> QuerySet:
    return PropertyMatch.objects.filter(created_at__gte=timezone.now() - datetime.timedelta(days=RECENT_MATCH_DAYS))
