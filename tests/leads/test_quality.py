import json

import httpx
import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db.models import F

from leads.models import Alert, Lead
from leads.quality import quality_check_run
from leads.services import leads_score_all
from tests import factories as pf
from tests.leads.conftest import TODAY

pytestmark = pytest.mark.django_db

WEBHOOK = "https://hooks.slack.test/services/T0000/B0000/XXXXXXXX"


@pytest.fixture
def scored(county):
    leads_score_all(today=TODAY)
    return {lead.property.parcel_id: lead for lead in Lead.objects.select_related("property")}


def lead_findings(report):
    lead_checks = {"properties_without_lead", "score_over_cap", "score_total_mismatch", "invalid_tier"}
    return [(f["check"], f["severity"], f["count"], f["sample"]) for f in report.findings if f["check"] in lead_checks]


def test_freshly_scored_leads_have_no_lead_findings(scored):
    report = quality_check_run()
    assert lead_findings(report) == []
    assert (report.counts["leads"], report.counts["lead_score_history"]) == (6, 6)


def test_finds_seeded_score_defects_and_alerts_once(scored, settings, respx_mock):
    settings.SLACK_WEBHOOK_URL = WEBHOOK
    settings.ALERT_EMAIL_TO = ["ops@example.test"]
    route = respx_mock.post(WEBHOOK).mock(return_value=httpx.Response(200, text="ok"))
    Lead.objects.filter(pk=scored["HOT"].pk).update(total=F("total") + 1)
    Lead.objects.filter(pk=scored["WARM"].pk).update(tier="A")
    Lead.objects.filter(pk=scored["CLEAN"].pk).update(value=35, total=35)
    pf.PropertyFactory(parcel_id="NEW")

    report = quality_check_run()

    assert lead_findings(report) == [
        ("properties_without_lead", "warning", 1, ["NEW"]),
        ("score_over_cap", "error", 1, ["CLEAN"]),
        ("score_total_mismatch", "error", 1, ["HOT"]),
        ("invalid_tier", "error", 1, ["WARM"]),
    ]
    assert (report.status, report.errors) == ("error", 3)
    assert route.call_count == 1
    body = json.loads(route.calls[0].request.content)
    assert body["text"].splitlines()[:4] == [
        "DealFinder data quality: 3 errors",
        "score_over_cap: 1 leads have a component over its cap",
        "score_total_mismatch: 1 leads have a total that is not the sum of their components",
        "invalid_tier: 1 leads have a tier that does not match their score",
    ]
    assert [m.subject for m in mail.outbox] == ["DealFinder data quality: 3 errors"]
    assert sorted(Alert.objects.values_list("quality_report_id", "lead_id", "channel", "kind", "status")) == [
        (report.pk, None, "email", "quality_errors", "sent"),
        (report.pk, None, "slack", "quality_errors", "sent"),
    ]


def test_quality_alert_failure_is_recorded_and_the_run_completes(scored, settings, respx_mock):
    settings.SLACK_WEBHOOK_URL = WEBHOOK
    settings.ALERT_RETRY_WAIT_SECONDS = 0
    respx_mock.post(WEBHOOK).mock(return_value=httpx.Response(503, text="service_unavailable"))
    Lead.objects.filter(pk=scored["WARM"].pk).update(tier="A")

    report = quality_check_run()

    assert report.errors == 1
    alert = Alert.objects.get()
    assert (alert.quality_report_id, alert.status, alert.error[:40]) == (
        report.pk,
        "failed",
        "HTTPStatusError: Slack answered 503 Serv",
    )


def test_command_prints_findings_and_exits_1_on_errors(scored, capsys):
    Lead.objects.filter(pk=scored["WARM"].pk).update(tier="A")
    with pytest.raises(CommandError) as raised:
        call_command("quality_check")
    assert raised.value.returncode == 1
    assert str(raised.value).endswith(": error, 2 warnings, 1 errors")
    assert capsys.readouterr().out.splitlines() == [
        "WARNING no_valuation: 1 active properties have no valuation (e.g. STALE)",
        "WARNING records_of_inactive_properties: 5 records belong to inactive (soft-deleted) properties "
        "(e.g. tax_sales: 1, foreclosures: 1, valuations: 1, code_violations: 2)",
        "ERROR invalid_tier: 1 leads have a tier that does not match their score (e.g. WARM)",
    ]


def test_command_exits_0_with_warnings(scored, capsys):
    pf.PropertyFactory(parcel_id="NEW")
    call_command("quality_check")
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out[:3]] == [
        "WARNING no_valuation",
        "WARNING records_of_inactive_properties",
        "WARNING properties_without_lead",
    ]
    assert out[0] == "WARNING no_valuation: 2 active properties have no valuation (e.g. NEW, STALE)"
    assert out[3].endswith(": warning, 3 warnings, 0 errors")
