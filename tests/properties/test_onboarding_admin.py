"""The admin's "Add source from URL" (issue 19 item 1) and the per-source health view (issue 19 item 4)."""

import json

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from rest_framework.test import APIClient

from dealfinder.ops.api_tokens import api_token_create
from dealfinder.ops.roles import ACQUISITIONS, ADMIN, DISPOSITIONS, roles_setup
from properties import models as m
from properties.selectors import datasource_health
from tests.factories import DataSourceFactory, IngestionRunFactory, UserFactory
from tests.fakes.arcgis import FakeArcGISLayer, load_arcgis_fixture

pytestmark = pytest.mark.django_db
ADD_URL = "/admin/properties/datasource/add-from-url/"


@pytest.fixture
def staff_in(db):
    roles_setup()

    def make(role):
        user = UserFactory(username=f"staff-{role.lower()}", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def admin_role(client, staff_in):
    client.force_login(staff_in(ADMIN))
    return client


@pytest.fixture
def layer(httpserver):
    return FakeArcGISLayer.from_fixture(httpserver, "summit-oh-parcels")


def create_data(page, **overrides) -> dict:
    form = page.context["create_form"]
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data.update(overrides)
    if data.get("enabled") is False:
        del data["enabled"]
    return data


@pytest.mark.parametrize("role", [ACQUISITIONS, DISPOSITIONS])
def test_only_roles_that_may_add_data_sources_get_the_page(client, staff_in, role, httpserver):
    client.force_login(staff_in(role))

    assert client.get(ADD_URL).status_code == 403
    assert client.post(ADD_URL, {"url": httpserver.url_for("/x"), "_probe": "1"}).status_code == 403
    assert httpserver.log == []


def test_anonymous_users_are_sent_to_the_login(client):
    response = client.get(ADD_URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_changelist_offers_the_flow_to_the_admin_role_only(admin_role, client, staff_in):
    page = admin_role.get(reverse("admin:properties_datasource_changelist")).content.decode()
    assert 'id="add-from-url"' in page
    client.force_login(staff_in(ACQUISITIONS))
    assert 'id="add-from-url"' not in client.get(reverse("admin:properties_datasource_changelist")).content.decode()


def test_url_probe_review_and_create_disabled(admin_role, layer):
    page = admin_role.post(ADD_URL, {"url": layer.url, "kind": "", "dataset": "", "_probe": "1"})

    assert page.status_code == 200
    html = page.content.decode()
    for expected in ('id="probe-proposal"', 'id="probe-dry-run"', "PARCELID", "Dry run over 12 sample records"):
        assert expected in html, expected
    data = create_data(page)
    assert (data["dataset"], data["name"], data["slug"], data["parcel_format"]) == (
        "parcels", "Tax Parcels", "tax-parcels", "canonical",
    )  # fmt: skip
    assert json.loads(data["field_mapping"])["owner_name"] == "OWNERNME1"
    assert m.DataSource.objects.count() == 0

    response = admin_role.post(ADD_URL, {**data, "county": "Summit", "_create": "1"})

    source = m.DataSource.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "admin:properties_datasource_change", args=[source.pk]
    )
    assert (source.kind, source.url, source.enabled, source.county) == ("arcgis", layer.url, False, "Summit")
    assert source.field_mapping["parcel_id"] == "PARCELID"


def test_a_mapping_naming_a_missing_attribute_is_refused_with_its_name(admin_role, layer):
    page = admin_role.post(ADD_URL, {"url": layer.url, "_probe": "1"})
    mapping = {**json.loads(create_data(page)["field_mapping"]), "owner_name": "OWNER_NAME"}
    data = create_data(page, field_mapping=json.dumps(mapping), enabled="on")

    checked = admin_role.post(ADD_URL, {**data, "_check": "1"})
    created = admin_role.post(ADD_URL, {**data, "_create": "1"})

    assert "&#x27;OWNER_NAME&#x27; is not an attribute of this source" in checked.content.decode()
    assert created.status_code == 200
    assert (
        created.context["create_form"]
        .errors["field_mapping"][0]
        .startswith("the mapping names attributes the source does not have: OWNER_NAME (for owner_name).")
    )
    assert m.DataSource.objects.count() == 0


def test_the_user_may_create_it_enabled(admin_role, layer):
    page = admin_role.post(ADD_URL, {"url": layer.url, "_probe": "1"})
    admin_role.post(ADD_URL, {**create_data(page, slug="summit-parcels", enabled="on"), "_create": "1"})
    assert m.DataSource.objects.get(slug="summit-parcels").enabled is True


def test_a_service_root_offers_its_layers(admin_role, httpserver):
    httpserver.expect_request("/arcgis/rest/services/Fiscal/FeatureServer").respond_with_json(
        load_arcgis_fixture("summit-oh-service-root")
    )
    page = admin_role.post(
        ADD_URL, {"url": httpserver.url_for("/arcgis/rest/services/Fiscal/FeatureServer"), "_probe": "1"}
    )
    html = page.content.decode()
    assert 'id="probe-layers"' in html and "Delinquent Parcels" in html
    assert "create_form" not in page.context or page.context["create_form"] is not None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/etc/passwd", "give an http(s) URL: local files can only be probed with manage.py source_probe"),
        ("file:///etc/passwd", "give an http(s) URL: local files can only be probed with manage.py source_probe"),
        ("http:etc/passwd", "http: URL without a host; write it as http://host/path"),
    ],
)
def test_the_web_flow_never_reads_local_files(admin_role, url, message):
    page = admin_role.post(ADD_URL, {"url": url, "_probe": "1"})
    assert page.context["probe_form"].errors["url"] == [message]


def test_an_unreachable_source_is_a_form_error_not_a_500(admin_role, httpserver):
    httpserver.expect_request("/gone/FeatureServer/0").respond_with_data("Not Found", status=404)
    page = admin_role.post(ADD_URL, {"url": httpserver.url_for("/gone/FeatureServer/0"), "_probe": "1"})
    assert page.status_code == 200
    (error,) = page.context["probe_form"].errors["url"]
    assert error.startswith("cannot read ArcGIS layer metadata at") and error.endswith(
        "HTTP 404 from GET " + httpserver.url_for("/gone/FeatureServer/0") + ": Not Found"
    )


# --- health ---------------------------------------------------------------------------------------------


@pytest.fixture
def source_with_runs():
    source = DataSourceFactory(slug="county-parcels", enabled=True)
    IngestionRunFactory(
        source=source, processed=200, inserted=180, updated=10, unchanged=5, failed=5, unplaced=20,
        field_stats={"owner_name": {"filled": 190, "blank": 5, "sentinel": 0, "bad": 0, "examples": ["DOE JANE"]},
                     "last_sale_price": {"filled": 120, "blank": 20, "sentinel": 55, "bad": 5, "examples": ["N/A"]}},
        schema={"PARCEL": "esriFieldTypeString", "OWNER": "esriFieldTypeString"},
        schema_drift={"compared": True, "added": ["OWNER"], "removed": [], "retyped": [], "missing_mapped": []},
    )  # fmt: skip
    return source


def test_the_health_selector_computes_rates_per_run(source_with_runs):
    (run,) = datasource_health(source=source_with_runs).runs

    assert (run.records_in, run.stored, run.failed, run.unplaced, run.unplaced_share) == (200, 195, 5, 20, 0.1)
    assert run.fields["owner_name"].fill_rate == 0.95
    assert (run.fields["last_sale_price"].fill_rate, run.fields["last_sale_price"].sentinel) == (0.6, 55)
    assert run.schema_drift["added"] == ["OWNER"]


def test_the_health_endpoint(source_with_runs, staff_in):
    api = APIClient()
    _, token = api_token_create(user=staff_in(ADMIN))
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    body = api.get(f"/api/v1/data-sources/{source_with_runs.pk}/health/").json()

    assert (body["source_id"], body["slug"], body["enabled"]) == (source_with_runs.pk, "county-parcels", True)
    (run,) = body["runs"]
    assert {k: run[k] for k in ("status", "records_in", "stored", "failed", "unplaced", "unplaced_share")} == {
        "status": "success", "records_in": 200, "stored": 195, "failed": 5, "unplaced": 20, "unplaced_share": 0.1,
    }  # fmt: skip
    assert run["fields"]["last_sale_price"] == {
        "filled": 120, "blank": 20, "sentinel": 55, "bad": 5, "fill_rate": 0.6, "examples": ["N/A"],
    }  # fmt: skip
    assert run["schema_drift"]["added"] == ["OWNER"]


@pytest.mark.parametrize(("role", "status"), [(ACQUISITIONS, 200), (DISPOSITIONS, 403), (None, 401)])
def test_the_health_endpoint_follows_the_roles(source_with_runs, staff_in, role, status):
    api = APIClient()
    if role:
        _, token = api_token_create(user=staff_in(role))
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get(f"/api/v1/data-sources/{source_with_runs.pk}/health/").status_code == status


def test_the_data_source_page_shows_its_health(admin_role, source_with_runs):
    html = admin_role.get(reverse("admin:properties_datasource_change", args=[source_with_runs.pk])).content.decode()
    assert "<table class='df-health'>" in html
    for expected in (
        "<td>200</td><td>195</td><td>5</td><td>20 (10%)</td>",
        "<code>last_sale_price</code> 60% filled, 55 sentinel, 5 bad",
        "added: OWNER",
    ):
        assert expected in html, expected


def test_saving_a_mapping_that_names_an_attribute_the_last_run_did_not_see_is_refused(admin_role, source_with_runs):
    s = source_with_runs
    data = {"name": s.name, "slug": s.slug, "kind": s.kind, "dataset": s.dataset, "url": s.url, "where": "1=1",
            "field_mapping": json.dumps({"parcel_id": "PARCEL", "owner_name": "OWNR"}), "parcel_format": "plain",
            "county": "", "notes": "", "enabled": "on", "incremental_field": ""}  # fmt: skip

    response = admin_role.post(reverse("admin:properties_datasource_change", args=[s.pk]), data)

    assert response.status_code == 200
    (error,) = response.context["adminform"].form.errors["field_mapping"]
    assert error.startswith("the mapping names attributes the source does not have: OWNR (for owner_name).")
    assert error.endswith("(as recorded by its latest run)")


def test_the_api_refuses_the_same_mapping(source_with_runs, staff_in):
    api = APIClient()
    api.force_authenticate(staff_in(ADMIN))
    response = api.patch(
        f"/api/v1/data-sources/{source_with_runs.pk}/", {"field_mapping": {"parcel_id": "PARCLE"}}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["field_mapping"][0].startswith(
        "the mapping names attributes the source does not have: PARCLE"
    )


def test_the_web_flow_refuses_private_addresses_in_production(admin_role, settings, httpserver):
    settings.INGEST_ALLOW_PRIVATE_URLS = False
    page = admin_role.post(ADD_URL, {"url": "http://127.0.0.1:9/arcgis/rest/services/P/FeatureServer/0", "_probe": "1"})
    (error,) = page.context["probe_form"].errors["url"]
    assert error.endswith(
        "refused URL: 127.0.0.1 resolves to a loopback address (127.0.0.1); not allowed in production"
    )
