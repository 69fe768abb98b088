import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dealfinder.ops.roles import ADMIN
from tests.factories import (
    BuyerFactory,
    CodeViolationFactory,
    DataSourceFactory,
    ForeclosureFactory,
    IngestionRunFactory,
    LeadFactory,
    OwnerFactory,
    PriceChangeFactory,
    PropertyFactory,
    PropertyMatchFactory,
    SyncLogFactory,
    TaxSaleFactory,
    UserFactory,
    ValuationFactory,
)

pytestmark = pytest.mark.django_db


def full_property():
    prop = PropertyFactory()
    TaxSaleFactory(property=prop)
    ForeclosureFactory(property=prop)
    ValuationFactory(property=prop)
    CodeViolationFactory(property=prop)
    PriceChangeFactory(listing__property=prop)
    return prop


MAKERS = {
    "/api/v1/properties/": full_property,
    "/api/v1/properties/geojson/": PropertyFactory,
    "/api/v1/leads/": lambda: LeadFactory(assigned_to=UserFactory()),
    "/api/v1/leads/geojson/": LeadFactory,
    "/api/v1/owners/": lambda: OwnerFactory(properties=[LeadFactory().property, PropertyFactory()]),
    "/api/v1/buyers/": BuyerFactory,
    "/api/v1/matches/": PropertyMatchFactory,
    "/api/v1/data-sources/": DataSourceFactory,
    "/api/v1/ingestion-runs/": IngestionRunFactory,
    "/api/v1/sync-logs/": SyncLogFactory,
}


def count_queries(client, url, rows: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    body = response.json()
    assert len(body.get("results", body.get("features", []))) == rows
    return len(queries)


@pytest.mark.parametrize("url", list(MAKERS))
def test_queries_do_not_grow_with_rows(client_as, url):
    client = client_as(ADMIN)
    make = MAKERS[url]
    for _ in range(3):
        make()
    client.get(url)  # a token's first use in a minute also records when it was used
    few = count_queries(client, url, 3)
    for _ in range(27):
        make()
    assert count_queries(client, url, 30) == few
