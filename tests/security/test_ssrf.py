"""DataSource URLs: http(s) only; no private, loopback, link-local, multicast or reserved hosts unless allowed."""

import json
import socket

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from dealfinder.common.outbound import UnsafeURLError, url_check_public
from properties.models import DataSource
from tests.factories import DataSourceFactory

PUBLIC = "93.184.216.34"  # an IP literal: resolving it needs no DNS


@pytest.fixture
def production_guard(settings):
    settings.INGEST_ALLOW_PRIVATE_URLS = False


@pytest.fixture
def fake_dns(monkeypatch):
    """Names resolve to what the test says (the resolver is the operating system's, not our code)."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            family = {True: socket.AF_INET6, False: socket.AF_INET}
            return [(family[":" in a], socket.SOCK_STREAM, 6, "", (a, port)) for a in answers[host]]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8000/x", "127.0.0.1 resolves to a loopback address (127.0.0.1)"),
        ("http://[::1]/x", "::1 resolves to a loopback address (::1)"),
        ("http://[::ffff:127.0.0.1]/x", "::ffff:127.0.0.1 resolves to a loopback address (::ffff:127.0.0.1)"),
        ("http://10.1.2.3/x", "10.1.2.3 resolves to a private address (10.1.2.3)"),
        ("http://172.16.0.9/x", "172.16.0.9 resolves to a private address (172.16.0.9)"),
        ("https://192.168.1.20/x", "192.168.1.20 resolves to a private address (192.168.1.20)"),
        ("http://169.254.169.254/x", "169.254.169.254 resolves to a link-local address (169.254.169.254)"),
        ("http://[fe80::1]/x", "fe80::1 resolves to a link-local address (fe80::1)"),
        ("http://224.0.0.1/x", "224.0.0.1 resolves to a multicast address (224.0.0.1)"),
        ("http://0.0.0.0/x", "0.0.0.0 resolves to an unspecified address (0.0.0.0)"),
        ("http://240.0.0.1/x", "240.0.0.1 resolves to a reserved address (240.0.0.1)"),
        ("http://100.64.0.1/x", "100.64.0.1 resolves to a non-public address (100.64.0.1)"),
        ("http://[fc00::1]/x", "fc00::1 resolves to a private address (fc00::1)"),
    ],
)
def test_private_addresses_are_refused(production_guard, url, reason):
    with pytest.raises(UnsafeURLError) as caught:
        url_check_public(url)
    assert str(caught.value) == f"{reason}; not allowed in production"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "only http and https URLs are allowed, not 'file'"),
        ("gopher://example.com/", "only http and https URLs are allowed, not 'gopher'"),
        ("/var/data/parcels.csv", "only http and https URLs are allowed, not 'a bare path'"),
        ("ftp://example.com/x.csv", "only http and https URLs are allowed, not 'ftp'"),
    ],
)
def test_only_http_and_https_even_when_private_hosts_are_allowed(settings, url, message):
    settings.INGEST_ALLOW_PRIVATE_URLS = True
    with pytest.raises(UnsafeURLError) as caught:
        url_check_public(url)
    assert str(caught.value) == message


def test_public_hosts_pass_and_private_ones_pass_when_allowed(settings, production_guard):
    url_check_public(f"https://{PUBLIC}/arcgis/rest/services/x/MapServer/1")
    settings.INGEST_ALLOW_PRIVATE_URLS = True
    url_check_public("http://127.0.0.1:8000/x")


def test_a_name_resolving_to_any_private_address_is_refused(production_guard, fake_dns):
    fake_dns["data.example.gov"] = [PUBLIC, "10.0.0.5"]
    with pytest.raises(UnsafeURLError) as caught:
        url_check_public("https://data.example.gov/resource/abc.json")
    assert str(caught.value) == ("data.example.gov resolves to a private address (10.0.0.5); not allowed in production")
    fake_dns["data.example.gov"] = [PUBLIC]
    url_check_public("https://data.example.gov/resource/abc.json")


def test_an_unresolvable_host_is_refused(production_guard, fake_dns, monkeypatch):
    def fail(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(UnsafeURLError) as caught:
        url_check_public("https://nowhere.invalid/x")
    assert str(caught.value) == "cannot resolve host 'nowhere.invalid': [Errno -2] Name or service not known"


# --- where the rule is applied ------------------------------------------------------------


@pytest.mark.django_db
def test_the_model_refuses_an_unsafe_url_on_full_clean(production_guard):
    source = DataSourceFactory.build(url="http://169.254.169.254/latest/meta-data", field_mapping={})
    with pytest.raises(ValidationError) as caught:
        source.full_clean()
    assert caught.value.message_dict["url"] == [
        "169.254.169.254 resolves to a link-local address (169.254.169.254); not allowed in production"
    ]


@pytest.mark.django_db
def test_the_model_refuses_a_local_path_even_in_development(settings):
    settings.INGEST_ALLOW_PRIVATE_URLS = True
    source = DataSourceFactory.build(url="file:///etc/passwd", field_mapping={})
    with pytest.raises(ValidationError) as caught:
        source.full_clean()
    assert caught.value.message_dict == {"url": ["only http and https URLs are allowed, not 'file'"]}


def _source_data(**overrides) -> dict:
    return {
        "name": "County parcels",
        "slug": "county-parcels",
        "kind": "arcgis",
        "dataset": "parcels",
        "url": f"https://{PUBLIC}/arcgis/rest/services/Parcels/MapServer/0",
        "where": "1=1",
        "field_mapping": {"preset": "orange_fl_parcels"},
        "parcel_format": "plain",
        **overrides,
    }


@pytest.mark.django_db
def test_the_api_refuses_unsafe_urls_and_bad_mappings(production_guard, admin_user):
    api = APIClient()
    api.force_authenticate(admin_user)
    response = api.post("/api/v1/data-sources/", _source_data(url="http://localhost:8080/x"), format="json")
    assert response.status_code == 400
    assert response.json() == {
        "url": ["localhost resolves to a loopback address (127.0.0.1); not allowed in production"]
    }
    response = api.post("/api/v1/data-sources/", _source_data(field_mapping={"sale_price": "X"}), format="json")
    assert response.status_code == 400
    (message,) = response.json()["field_mapping"]
    assert message.startswith("unknown target field 'sale_price' for dataset parcels; allowed: annual_taxes, ")
    response = api.post("/api/v1/data-sources/", _source_data(field_mapping=["parcel_id"]), format="json")
    assert response.status_code == 400
    assert response.json() == {"field_mapping": ["Must be an object: target field -> source field or expression."]}
    response = api.post("/api/v1/data-sources/", _source_data(), format="json")
    assert response.status_code == 201
    assert DataSource.objects.get().url == f"https://{PUBLIC}/arcgis/rest/services/Parcels/MapServer/0"


@pytest.mark.django_db
def test_the_admin_shows_the_reason(production_guard, admin_client):
    data = {**_source_data(url="gopher://internal/"), "field_mapping": json.dumps({"preset": "orange_fl_parcels"})}
    data.update(county="", page_size="", notes="")
    response = admin_client.post("/admin/properties/datasource/add/", data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"url": ["only http and https URLs are allowed, not 'gopher'"]}
    assert DataSource.objects.count() == 0
