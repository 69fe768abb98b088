"""The lead admin's "Push to GoHighLevel now" action and its link to the lead's ranked buyers."""

import pytest
from django.urls import reverse

from sync.models import ExternalLink, SyncLog
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:leads_lead_changelist"


def push(admin_client, leads):
    return admin_client.post(
        reverse(CHANGELIST),
        {"action": "push_to_gohighlevel", "_selected_action": [lead.pk for lead in leads]},
        follow=True,
    )


def test_push_action_sends_the_selected_leads(admin_client, fake_ghl):
    leads = LeadFactory.create_batch(2, tier="C", total=45)
    response = push(admin_client, leads)
    assert response.status_code == 200
    log = SyncLog.objects.get(sync_type=SyncLog.SyncType.LEAD_PUSH)
    assert log.status == SyncLog.Status.SUCCESS
    assert ExternalLink.objects.filter(kind=ExternalLink.Kind.CONTACT).count() == 2
    assert "GoHighLevel push success" in response.content.decode()


def test_push_action_without_configuration_sends_nothing(admin_client):
    response = push(admin_client, [LeadFactory()])
    assert "GoHighLevel not configured" in response.content.decode()
    assert SyncLog.objects.count() == 0


def test_lead_page_links_to_its_ranked_buyers(admin_client):
    lead = LeadFactory()
    page = admin_client.get(reverse("admin:leads_lead_change", args=[lead.pk])).content.decode()
    assert f"/admin/buyers/propertymatch/?property__id__exact={lead.property_id}" in page
