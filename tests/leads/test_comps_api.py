"""GET /api/v1/leads/{id}/comps/: the promised shape, and roles hold."""

import pytest
from rest_framework.test import APIClient

from tests.factories import BrokerFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_comps_of_a_lead_without_sales_say_so():
    lead = LeadFactory()
    client = APIClient()
    client.force_authenticate(BrokerFactory())
    answer = client.get(f"/api/v1/leads/{lead.pk}/comps/")
    assert answer.status_code == 200
    assert answer.json() == {"arv": None, "low": None, "high": None, "confidence": "none", "comps": []}


def test_comps_need_a_login_and_a_role_that_sees_leads():
    lead = LeadFactory()
    assert APIClient().get(f"/api/v1/leads/{lead.pk}/comps/").status_code in (401, 403)
    client = APIClient()
    client.force_authenticate(UserFactory())
    assert client.get(f"/api/v1/leads/{lead.pk}/comps/").status_code in (403, 404)
