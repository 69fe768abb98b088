"""The reporting views' rows as the ORM computes them: the dashboard's figures and the answer the views are tested
against (tests/dealfinder/test_reports.py). Keep each in step with its view in sql.py."""

import datetime

from django.db.models import Count, Exists, OuterRef, QuerySet
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
    """Tier A/B leads with no GoHighLevel contact, or changed (the lead or its property) since its last push."""
    fresh = (
        ExternalLink.objects.filter(
            content_type__app_label="leads", content_type__model="lead", object_id=OuterRef("pk"), kind="contact"
        )
        .filter(last_synced_at__gte=OuterRef("updated_at"))
        .filter(last_synced_at__gte=OuterRef("property__updated_at"))
    )
    return Lead.objects.filter(tier__in=UNSYNCED_TIERS).exclude(Exists(fresh))


def report_recent_matches() -> QuerySet:
    return PropertyMatch.objects.filter(created_at__gte=timezone.now() - datetime.timedelta(days=RECENT_MATCH_DAYS))
