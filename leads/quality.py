"""The nightly data-quality run: property checks plus lead-score checks, alerting on errors."""

import datetime

from django.conf import settings
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When

from leads.alerts import alerts_send_quality_errors
from leads.models import Activity, Alert, Lead, LeadScoreHistory
from leads.services import scoring_params_for, scoringprofile_get_active
from properties.models import Property, QualityReport
from properties.quality import ERROR, WARNING, Finding, finding_for, quality_report_create

PARCEL = "property__parcel_id"


def lead_quality_findings() -> list[Finding]:
    """Active properties without a lead; components over their caps; totals or tiers that do not add up."""
    params, _ = scoring_params_for(profile=scoringprofile_get_active())
    scored = Lead.objects.filter(property__is_active=True)
    over_cap = (
        Q(distress__gt=params.distress_cap)
        | Q(value__gt=params.value_cap)
        | Q(location_score__gt=params.location_cap)
        | Q(urgency__gt=params.urgency_cap)
    )
    expected_tier = Case(
        When(total__gte=params.tier_a_min, then=Value("A")),
        When(total__gte=params.tier_b_min, then=Value("B")),
        When(total__gte=params.tier_c_min, then=Value("C")),
        default=Value("D"),
    )
    unscored = Property.objects.filter(is_active=True).filter(~Exists(Lead.objects.filter(property=OuterRef("pk"))))
    return [
        *finding_for(
            "properties_without_lead", WARNING, unscored, "{count} active properties have no lead", "parcel_id"
        ),
        *finding_for(
            "score_over_cap", ERROR, scored.filter(over_cap), "{count} leads have a component over its cap", PARCEL
        ),
        *finding_for(
            "score_total_mismatch",
            ERROR,
            scored.exclude(total=F("distress") + F("value") + F("location_score") + F("urgency")),
            "{count} leads have a total that is not the sum of their components",
            PARCEL,
        ),
        *finding_for(
            "invalid_tier",
            ERROR,
            scored.annotate(expected_tier=expected_tier).exclude(tier=F("expected_tier")),
            "{count} leads have a tier that does not match their score",
            PARCEL,
        ),
    ]


def quality_check_run(*, stale_days: int | None = None, now: datetime.datetime | None = None) -> QualityReport:
    """Check the data, store a QualityReport and alert the configured channels when it has errors."""
    report = quality_report_create(
        stale_days=stale_days if stale_days is not None else getattr(settings, "QUALITY_STALE_DAYS", 3),
        extra_counts={
            "leads": Lead.objects.count(),
            "lead_score_history": LeadScoreHistory.objects.count(),
            "activities": Activity.objects.count(),
            "alerts": Alert.objects.count(),
        },
        extra_checks=[lead_quality_findings],
        now=now,
    )
    if report.errors:
        alerts_send_quality_errors(report=report)
    return report
