"""The sync health page: last runs, drift, budget used today, failures and refusals by reason; staff only."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command

from leads.models import Activity
from sync.models import ExternalLink, SyncLog
from sync.runs import ghl_pacer
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db
URL = "/sync/health/"


def test_the_health_page_shows_runs_drift_budget_and_reasons(admin_client, settings):
    settings.GHL_LOCATION_ID = "loc-health"
    lead = LeadFactory()
    SyncLog.objects.create(sync_type="reconcile", status="success", drift_found=3, drift_applied=2)
    for _ in range(2):
        SyncLog.objects.create(
            sync_type="lead_push",
            status="partial",
            succeeded=1,
            failed=1,
            errors=[{"lead": 1, "error": "GoHighLevel 400: Contact not found (traceId abc)"}],
        )
    ExternalLink.objects.create(
        content_type=ContentType.objects.get_for_model(lead),
        object_id=lead.pk,
        kind="contact",
        ghl_id="ct1",
        drift={"postalCode": {"sent": "32801", "ghl": None}},
    )
    Activity.objects.create(lead=lead, kind="system", to_value="refused: quiet_hours", body="Not sent (sms to A)")
    ghl_pacer().after_response(200, {"X-RateLimit-Limit-Daily": "200000", "X-RateLimit-Daily-Remaining": "199000"})

    page = admin_client.get(URL)

    assert page.status_code == 200
    text = page.content.decode()
    assert '<b id="drift-links">1</b>' in text
    assert '<b id="drift-reconciled">3</b>' in text
    assert '<b id="budget-used">1,000</b> of 200,000 requests used' in text
    assert page.context["failures"] == [("GoHighLevel 400: Contact not found", 2)]
    assert page.context["refusals"] == [("quiet_hours", 1)]
    assert [row["kind"] for row in page.context["runs"] if row["last"]] == ["Lead push", "Reconcile"]


def test_the_health_page_needs_a_login_and_the_sync_log_permission(client, django_user_model):
    assert client.get(URL).status_code == 302
    client.force_login(django_user_model.objects.create_user("nobody", password="x" * 20))
    assert client.get(URL).status_code == 403


def test_ghl_sync_reconcile_without_configuration_says_so(settings, capsys):
    settings.GHL_API_TOKEN = ""
    call_command("ghl_sync", "--reconcile")
    assert capsys.readouterr().out == (
        "reconcile: success - processed 0, succeeded 0, failed 0, skipped 0, drift found 0, applied 0 "
        "(GoHighLevel not configured (set GHL_API_TOKEN and GHL_LOCATION_ID))\n"
    )
    assert SyncLog.objects.get().sync_type == "reconcile"
