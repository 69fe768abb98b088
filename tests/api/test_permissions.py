import pytest
from rest_framework.test import APIClient

from dealfinder.ops.roles import ACQUISITIONS, ADMIN, DISPOSITIONS
from tests.factories import (
    DataSourceFactory,
    IngestionRunFactory,
    LeadFactory,
    OwnerFactory,
    PropertyMatchFactory,
    SyncLogFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

A, D, M = ACQUISITIONS, DISPOSITIONS, ADMIN
GET, PATCH, POST = "get", "patch", "post"

# (method, url, body, {role: expected status}); anonymous always gets 401.
MATRIX = [
    (GET, "/api/v1/leads/", None, {A: 200, D: 200, M: 200}),
    (GET, "/api/v1/leads/{lead}/", None, {A: 200, D: 200, M: 200}),
    (GET, "/api/v1/leads/geojson/", None, {A: 200, D: 200, M: 200}),
    (PATCH, "/api/v1/leads/{lead}/", {"notes": "Called"}, {A: 200, D: 403, M: 200}),
    (POST, "/api/v1/leads/{lead}/rescore/", None, {A: 200, D: 403, M: 200}),
    (POST, "/api/v1/leads/{lead}/push/", None, {A: 409, D: 403, M: 409}),
    (GET, "/api/v1/properties/", None, {A: 200, D: 200, M: 200}),
    (GET, "/api/v1/properties/{property}/", None, {A: 200, D: 200, M: 200}),
    (GET, "/api/v1/properties/geojson/", None, {A: 200, D: 200, M: 200}),
    (GET, "/api/v1/owners/", None, {A: 200, D: 200, M: 200}),
    (GET, "/api/v1/owners/{owner}/", None, {A: 200, D: 200, M: 200}),
    (GET, "/api/v1/buyers/", None, {A: 403, D: 200, M: 200}),
    (POST, "/api/v1/buyers/", {"first_name": "Cash"}, {A: 403, D: 201, M: 201}),
    (GET, "/api/v1/matches/", None, {A: 403, D: 200, M: 200}),
    (PATCH, "/api/v1/matches/{match}/", {"contacted_at": "2026-01-02T03:04:05Z"}, {A: 403, D: 200, M: 200}),
    (GET, "/api/v1/data-sources/", None, {A: 403, D: 403, M: 200}),
    (GET, "/api/v1/data-sources/{source}/", None, {A: 403, D: 403, M: 200}),
    (POST, "/api/v1/data-sources/{source}/ingest/", None, {A: 403, D: 403, M: 202}),
    (GET, "/api/v1/ingestion-runs/", None, {A: 200, D: 403, M: 200}),
    (GET, "/api/v1/ingestion-runs/{run}/", None, {A: 200, D: 403, M: 200}),
    (GET, "/api/v1/sync-logs/", None, {A: 403, D: 403, M: 200}),
    (GET, "/api/v1/sync-logs/{log}/", None, {A: 403, D: 403, M: 200}),
    (GET, "/api/schema/", None, {A: 200, D: 200, M: 200}),
]


@pytest.fixture
def objects(db):
    lead = LeadFactory()
    source = DataSourceFactory(field_mapping={"no_such_field": "X"}, enabled=True)  # ingest fails fast, fetches nothing
    return {
        "lead": lead.pk,
        "property": lead.property_id,
        "owner": OwnerFactory(properties=[lead.property]).pk,
        "match": PropertyMatchFactory(property=lead.property).pk,
        "source": source.pk,
        "run": IngestionRunFactory(source=source).pk,
        "log": SyncLogFactory().pk,
    }


def call(client, method, url, body):
    return getattr(client, method)(url, body, format="json") if body is not None else getattr(client, method)(url)


@pytest.mark.parametrize(("method", "url", "body", "expected"), MATRIX, ids=[f"{m} {u}" for m, u, _, _ in MATRIX])
def test_permission_matrix(client_as, objects, settings, method, url, body, expected):
    settings.GHL_API_TOKEN = ""
    url = url.format(**objects)
    anonymous = call(APIClient(), method, url, body)
    assert anonymous.status_code == 401
    for role, status in expected.items():
        response = call(client_as(role), method, url, body)
        assert response.status_code == status, (role, response.content)


def test_anonymous_gets_a_token_challenge(objects):
    response = APIClient().get("/api/v1/leads/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_bad_token_is_401_and_no_role_is_403(objects):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/v1/leads/").status_code == 401
    client = APIClient()
    client.force_login(UserFactory())
    assert client.get("/api/v1/leads/").status_code == 403


def test_session_login_works_too(user_in, objects):
    client = APIClient()
    client.force_login(user_in(ACQUISITIONS))
    assert client.get("/api/v1/leads/").status_code == 200


def test_docs_are_behind_login(user_in):
    client = APIClient()
    for url in ("/api/docs/", "/api/redoc/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    client.force_login(user_in(DISPOSITIONS))
    assert client.get("/api/docs/").status_code == 200
    assert client.get("/api/redoc/").status_code == 200


def test_no_cors_headers(acq, objects):
    response = acq.get("/api/v1/leads/", HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 200
    assert not [h for h in response.headers if h.lower().startswith("access-control-")]


def test_command_endpoints_have_a_stricter_throttle(acq, objects, settings):
    url = f"/api/v1/leads/{objects['lead']}/rescore/"
    statuses = [acq.post(url).status_code for _ in range(31)]
    assert statuses == [200] * 30 + [429]
    assert acq.get("/api/v1/leads/").status_code == 200
