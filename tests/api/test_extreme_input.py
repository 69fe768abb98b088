"""Out-of-range numbers in filters and ids are a 400 or an empty answer, never a database overflow."""

import pytest

from dealfinder.roles import ADMIN
from tests.buyers.factories import PropertyMatchFactory
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db

EXTREMES = ["99999999999999999999999", "-1e200", "1e-200", "12345678901234567.5", "NaN"]
PARAMS = {
    "/api/v1/leads/": [
        "min_score",
        "max_score",
        "min_stack",
        "min_arv",
        "max_arv",
        "min_mao",
        "max_mao",
        "min_price",
        "max_price",
        "source",
        "assigned_to",
        "radius_miles",
    ],
    "/api/v1/properties/": ["min_beds", "source", "radius_miles"],
    "/api/v1/matches/": ["buyer", "property", "lead", "min_score"],
    "/api/v1/ingestion-runs/": ["source"],
}


@pytest.fixture
def admin(client_as):
    PropertyMatchFactory(property=LeadFactory().property)
    return client_as(ADMIN)


@pytest.mark.parametrize("url", list(PARAMS))
def test_extreme_filter_values(admin, url):
    for name in PARAMS[url]:
        for value in EXTREMES:
            params = {name: value, **({"near": "-81.37,28.53"} if name == "radius_miles" else {})}
            response = admin.get(url, params)
            assert response.status_code in (200, 400), (name, value, response.status_code)


@pytest.mark.parametrize("url", ["/api/v1/leads/{}/", "/api/v1/properties/{}/", "/api/v1/buyers/{}/"])
def test_extreme_ids(admin, url):
    for value in ("99999999999999999999999", "-99999999999999999999999", "1e5"):
        assert admin.get(url.format(value)).status_code == 404
