"""CKAN DataStore resources (issue 19 3): `datastore_search` paging by limit/offset, fields, SQL filters, errors."""

import pytest

from properties import models as m
from properties.ingest.base import SourceError
from properties.ingest.ckan import CKANReader
from properties.ingest.urls import ckan_search_url, guess_kind
from properties.services import datasource_ingest, ingest_adhoc
from tests.factories import DataSourceFactory
from tests.fakes.ckan import FakeCKANResource, load_ckan_fixture

ANSWER = load_ckan_fixture("wprdc-property-assessments")
RESOURCE = "65855e14-549e-4992-b5be-d629afc676fa"
MAPPING = {
    "parcel_id": "PARID",
    "street": {"concat": ["PROPERTYHOUSENUM", "PROPERTYFRACTION", "PROPERTYADDRESS"]},
    "city": "PROPERTYCITY",
    "state": "PROPERTYSTATE",
    "zip": "PROPERTYZIP",
    "owner_mailing_address": {"concat": ["CHANGENOTICEADDRESS1", "CHANGENOTICEADDRESS3", "CHANGENOTICEADDRESS4"],
                              "sep": ", "},
    "market_value": "FAIRMARKETTOTAL",
    "year_built": "YEARBLT",
}  # fmt: skip


@pytest.fixture
def resource(httpserver):
    return FakeCKANResource(httpserver, ANSWER)


def read(url, **options):
    return list(CKANReader(url, retry_wait=0, **options))


def test_resource_pages_and_api_links_are_recognised():
    page = f"https://data.wprdc.org/dataset/property-assessments/resource/{RESOURCE}"
    api = f"https://data.gov.au/data/api/action/datastore_search?resource_id={RESOURCE}&limit=5"
    assert (guess_kind(page), guess_kind(api)) == ("ckan", "ckan")
    assert ckan_search_url(page) == f"https://data.wprdc.org/api/3/action/datastore_search?resource_id={RESOURCE}"
    assert ckan_search_url(api) == f"https://data.gov.au/data/api/3/action/datastore_search?resource_id={RESOURCE}"


def test_pages_by_limit_and_offset_in_id_order_under_a_site_root(resource):
    pages = read(resource.search_url, page_size=3)

    assert [(p.number, len(p.records)) for p in pages] == [(1, 3), (2, 3), (3, 1)]
    assert [r.external_id for p in pages for r in p.records] == ["1", "2", "3", "4", "5", "6", "7"]
    assert [params for _action, params in resource.requests] == [
        {"resource_id": RESOURCE, "limit": "3", "offset": str(offset), "sort": "_id asc"} for offset in (0, 3, 6)
    ]
    assert pages[0].records[0].attributes["PARID"] == "0023S00162000000"


def test_the_schema_is_the_resource_fields_without_the_row_id(resource):
    reader = CKANReader(resource.resource_page, retry_wait=0)

    schema = reader.schema()

    assert schema.as_dict()["PARID"] == "text"
    assert schema.as_dict()["FAIRMARKETTOTAL"] == "numeric"
    assert "_id" not in schema.as_dict() and schema.has("_id")
    assert reader.total == 7
    assert resource.requests == [("datastore_search", {"resource_id": RESOURCE, "limit": "0"})]


def test_a_where_clause_reads_through_datastore_search_sql(resource):
    pages = read(resource.search_url, where="\"PROPERTYCITY\" = 'IMPERIAL'", page_size=2)

    assert [r.attributes["PROPERTYCITY"] for p in pages for r in p.records] == ["IMPERIAL", "IMPERIAL", "IMPERIAL"]
    assert {action for action, _ in resource.requests} == {"datastore_search_sql"}


def test_a_failing_page_carries_the_servers_message_and_the_next_page_is_read(httpserver):
    resource = FakeCKANResource(httpserver, ANSWER, fail_offsets={3: 409})

    pages = read(resource.search_url, page_size=3)

    assert [len(p.records) for p in pages] == [3, 0, 1]
    assert pages[1].error == (
        f"records 3-5: HTTP 409 from GET {httpserver.url_for('/data/api/3/action/datastore_search')}: Datastore is busy"
    )


def test_an_unknown_resource_is_a_source_error_in_the_servers_words(resource, httpserver):
    url = httpserver.url_for("/data/api/3/action/datastore_search") + "?resource_id=nope"
    with pytest.raises(SourceError) as caught:
        CKANReader(url, retry_wait=0).schema()
    assert str(caught.value).endswith('Not found: Resource "nope" was not found.')


def test_a_url_without_a_resource_says_so(httpserver):
    with pytest.raises(SourceError, match=r"names no CKAN resource: add \?resource_id=<id>$"):
        read(httpserver.url_for("/api/3/action/datastore_search"))


@pytest.mark.django_db
def test_a_ckan_resource_ingests_exactly_and_idempotently(resource):
    source = DataSourceFactory(kind="ckan", url=resource.search_url, field_mapping=MAPPING, enabled=True)

    first = datasource_ingest(source_id=source.pk)
    again = datasource_ingest(source_id=source.pk)

    assert (first.status, first.processed, first.inserted) == ("success", 7, 7)
    assert (again.processed, again.unchanged) == (7, 7)
    prop = m.Property.objects.get(parcel_id="0023S00162000000")
    assert (prop.street, prop.city, prop.zip, prop.year_built) == ("514 E OHIO ST", "IMPERIAL", "15126", 1905)
    assert prop.valuations.get().market_value == 57000
    assert first.schema["CHANGENOTICEADDRESS1"] == "text"


@pytest.mark.django_db
def test_an_ad_hoc_resource_page_url_is_stored_as_its_api_url(resource):
    run = ingest_adhoc(url=resource.resource_page, dataset="parcels", mapping={"parcel_id": "PARID"})

    assert (run.source.kind, run.status, run.inserted) == ("ckan", "success", 7)
    assert run.source.url == resource.search_url
