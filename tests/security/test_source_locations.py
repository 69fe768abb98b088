"""Source locations (issue 16 item 10): one parser decides URL versus local path, errors never show the
server's directories, and a disabled source is never resolved or fetched, whoever asks."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import TestCase
from django.urls import reverse
from rest_framework.test import APIClient

from dealfinder.common.source_location import LocationError, location_parse
from properties.ingest.base import SourceError
from properties.ingest.files import FileReader
from properties.ingest.urls import guess_kind
from properties.models import DataSource, IngestionRun
from properties.services import SourceDisabled, datasource_ingest
from tests.factories import DataSourceFactory

FILES = Path(__file__).resolve().parent.parent / "fixtures" / "files"


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("HTTP://example.com/parcels.csv", "http://example.com/parcels.csv"),
        ("Https://Example.com/a/FeatureServer/0", "https://Example.com/a/FeatureServer/0"),
        ("  https://example.com/x.json  ", "https://example.com/x.json"),
    ],
)
def test_urls_in_any_case_are_urls(text, url):
    location = location_parse(text)
    assert (location.is_url, location.url, location.path) == (True, url, None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("http:etc/passwd", "http: URL without a host; write it as http://host/path"),
        ("HTTP:/etc/passwd", "http: URL without a host; write it as http://host/path"),
        ("https://", "https: URL without a host; write it as https://host/path"),
        ("ftp://example.com/x.csv", "only http and https URLs are allowed, not 'ftp'"),
        ("C:\\data\\parcels.csv", "only http and https URLs are allowed, not 'c'"),
        ("http://example.com:port/x", "the URL has an invalid port"),
        ("file://fileserver/share/x.csv", "a file: location must be file:///absolute/path"),
        ("data/x.csv\x00.json", "the location contains control characters"),
        ("   ", "no location given"),
    ],
)
def test_what_is_neither_a_url_nor_a_path_is_an_error(text, message):
    with pytest.raises(LocationError) as caught:
        location_parse(text)
    assert str(caught.value) == message


def test_only_text_without_a_scheme_or_file_urls_are_paths():
    assert location_parse("tests/fixtures/files/x.csv").path == "tests/fixtures/files/x.csv"
    assert location_parse("/srv/data/x.csv").path == "/srv/data/x.csv"
    assert location_parse("file:///srv/data/x.csv").path == "/srv/data/x.csv"


def test_messages_name_a_file_never_its_directories_and_a_url_without_its_query_or_password():
    assert location_parse("/srv/secret/county/x.csv").name == "x.csv"
    assert (
        location_parse("https://user:pw@example.com:8443/d/x.csv?token=abc#f").name
        == "https://example.com:8443/d/x.csv"
    )


def test_the_kind_guess_uses_the_same_parser():
    assert guess_kind("HTTPS://gis.example.gov/arcgis/rest/services/P/featureserver/0") == "arcgis"
    assert guess_kind("/srv/data/parcels.csv") == "file"
    with pytest.raises(LocationError):
        guess_kind("http:etc/passwd")


def test_an_upper_case_url_is_downloaded_not_opened_as_a_file(httpserver):
    httpserver.expect_request("/export.csv").respond_with_data("parcel_id\nA-1\n", content_type="text/csv")
    url = httpserver.url_for("/export.csv").replace("http://", "HTTP://")
    (page,) = list(FileReader(url))
    assert [r.attributes for r in page.records] == [{"parcel_id": "A-1"}]
    assert len(httpserver.log) == 1


def test_a_url_without_a_host_is_never_read_as_a_local_file():
    with pytest.raises(SourceError) as caught:
        list(FileReader("http:tests/fixtures/files/generic_parcels.csv"))
    assert str(caught.value) == "not a file location: http: URL without a host; write it as http://host/path"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.csv", "file not found: missing.csv"),
        (lambda d: d, "cannot read {name}: Is a directory"),
    ],
)
def test_file_errors_name_the_file_only(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(SourceError) as caught:
        list(FileReader(str(path)))
    assert str(caught.value) == message.format(name=path.name)
    assert str(tmp_path) not in str(caught.value)


def test_a_binary_file_is_refused_in_plain_words(tmp_path):
    path = tmp_path / "parcels.xlsx.csv"
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xff\xfe")
    with pytest.raises(SourceError) as caught:
        list(FileReader(str(path)))
    assert str(caught.value) == (
        "parcels.xlsx.csv is not UTF-8 text (a spreadsheet or zip file?); save it as CSV (UTF-8)"
    )


@pytest.mark.django_db
def test_a_stored_url_without_a_host_is_refused_even_when_private_hosts_are_allowed(settings):
    settings.INGEST_ALLOW_PRIVATE_URLS = True
    source = DataSourceFactory.build(url="http:etc/passwd", field_mapping={})
    with pytest.raises(ValidationError) as caught:
        source.full_clean()
    assert caught.value.message_dict == {"url": ["http: URL without a host; write it as http://host/path"]}


@pytest.mark.django_db
def test_the_api_refuses_a_url_without_a_host(settings, admin_user):
    settings.INGEST_ALLOW_PRIVATE_URLS = True
    api = APIClient()
    api.force_authenticate(admin_user)
    data = {"name": "X", "slug": "x", "kind": "file", "dataset": "parcels", "url": "http:etc/passwd"}
    response = api.post("/api/v1/data-sources/", {**data, "field_mapping": {"parcel_id": "P"}}, format="json")
    assert response.status_code == 400
    assert response.json() == {"url": ["http: URL without a host; write it as http://host/path"]}


# --- a disabled source is never resolved or fetched ------------------------------------------------


@pytest.fixture
def disabled_source(db, httpserver):
    return DataSourceFactory(
        slug="off", kind="file", url=httpserver.url_for("/parcels.csv"), field_mapping={"parcel_id": "P"}
    )


def test_the_service_refuses_a_disabled_source_without_fetching(disabled_source, httpserver):
    with pytest.raises(SourceDisabled) as caught:
        datasource_ingest(source_id=disabled_source.pk)
    assert str(caught.value) == "data source 'off' is disabled: enable it in admin before ingesting it"
    assert (httpserver.log, IngestionRun.objects.count()) == ([], 0)


def test_the_command_refuses_a_disabled_slug(disabled_source, httpserver):
    with pytest.raises(CommandError, match=r"^data source 'off' is disabled: enable it in admin before ingesting it$"):
        call_command("ingest", "off", stdout=StringIO(), stderr=StringIO())
    assert httpserver.log == []


def test_the_api_answers_409_for_a_disabled_source(disabled_source, httpserver, admin_user):
    api = APIClient()
    api.force_authenticate(admin_user)
    response = api.post(f"/api/v1/data-sources/{disabled_source.pk}/ingest/")
    assert response.status_code == 409
    assert response.json() == {"detail": "data source 'off' is disabled: enable it in admin before ingesting it"}
    assert (httpserver.log, IngestionRun.objects.count()) == ([], 0)


def test_the_admin_action_queues_only_enabled_sources(disabled_source, httpserver, admin_client):
    httpserver.expect_request("/on.csv").respond_with_data("P\n29-1\n", content_type="text/csv")
    enabled = DataSourceFactory(
        slug="on", kind="file", url=httpserver.url_for("/on.csv"), field_mapping={"parcel_id": "P"}, enabled=True
    )
    url = reverse("admin:properties_datasource_changelist")
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = admin_client.post(
            url, {"action": "ingest_now", "_selected_action": [disabled_source.pk, enabled.pk]}, follow=True
        )
    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        "Not queued, disabled (enable them first): off.",
        "1 sources queued; see Ingestion runs for the results.",
    ]
    assert [r.path for r, _ in httpserver.log] == ["/on.csv"]
    assert list(IngestionRun.objects.values_list("source__slug", flat=True)) == ["on"]


def test_a_source_disabled_after_the_pipeline_listed_it_is_skipped_not_fetched(disabled_source, httpserver):
    from dealfinder.ops.pipeline.steps import pipeline_ingest_source

    result = pipeline_ingest_source(run_id=0, source_id=disabled_source.pk, can_retry=False)
    assert result == {"source_id": disabled_source.pk, "counts": {"status": "skipped"}, "error": None}
    assert httpserver.log == []


def test_a_task_queued_before_the_source_was_disabled_fetches_nothing(disabled_source, httpserver):
    from properties.tasks import datasource_ingest_task

    assert datasource_ingest_task(disabled_source.pk) == {
        "run_id": None,
        "status": "skipped",
        "message": "data source 'off' is disabled: enable it in admin before ingesting it",
    }
    assert httpserver.log == []


@pytest.mark.django_db
def test_ad_hoc_ingests_still_run_on_their_own_disabled_source(tmp_path):
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"preset": "generic_csv"}))
    out = StringIO()
    call_command(
        "ingest", "--url", str(FILES / "generic_parcels.csv"), "--dataset", "parcels", "--mapping", str(mapping),
        stdout=out, stderr=StringIO(),
    )  # fmt: skip
    assert (
        out.getvalue()
        .strip()
        .endswith("inserted=3 updated=0 unchanged=0 failed=1 status=partial stored=3 unplaced=1 duplicates=0")
    )
    assert DataSource.objects.get().enabled is False


@pytest.mark.django_db
def test_ad_hoc_refuses_a_url_without_a_host(tmp_path):
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"preset": "generic_csv"}))
    with pytest.raises(CommandError, match=r"^bad --url: http: URL without a host; write it as http://host/path$"):
        call_command(
            "ingest", "--url", "http:etc/passwd", "--dataset", "parcels", "--mapping", str(mapping),
            stdout=StringIO(), stderr=StringIO(),
        )  # fmt: skip
    assert DataSource.objects.count() == 0
