"""dealfinder.common.bulk.bulk_update_by_pk: the named fields of the given rows, nothing else; one UPDATE on
PostgreSQL (by COPY), whatever the number of rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dealfinder.common.bulk import bulk_update_by_pk
from properties.models import DataSource

pytestmark = pytest.mark.django_db


def source(slug: str) -> DataSource:
    return DataSource.objects.create(
        slug=slug, name=slug.title(), kind=DataSource.Kind.FILE, dataset="parcels", county="Orange", enabled=False
    )


def test_writes_the_named_fields_of_the_given_rows_only():
    alpha, beta, gamma = source("alpha"), source("beta"), source("gamma")
    alpha.name, alpha.field_mapping, alpha.kind = "Alpha roll", {"parcel_id": "PIN"}, DataSource.Kind.ARCGIS
    beta.name, beta.field_mapping, beta.kind = "Beta roll", {"parcel_id": "PARCEL"}, DataSource.Kind.SOCRATA
    alpha.county = beta.county = "Lake"  # not among the fields: not written

    with CaptureQueriesContext(connection) as queries:
        assert bulk_update_by_pk(DataSource, [alpha, beta], fields=["name", "field_mapping", "kind"]) == 2

    rows = DataSource.objects.order_by("slug").values_list("slug", "name", "field_mapping", "kind", "county")
    assert list(rows) == [
        ("alpha", "Alpha roll", {"parcel_id": "PIN"}, "arcgis", "Orange"),
        ("beta", "Beta roll", {"parcel_id": "PARCEL"}, "socrata", "Orange"),
        ("gamma", "Gamma", {}, "file", "Orange"),
    ]
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    # Another set of fields on the same connection has a staging table of its own.
    gamma.enabled = True
    assert bulk_update_by_pk(DataSource, [gamma], fields=["enabled"]) == 1
    assert DataSource.objects.get(slug="gamma").enabled is True
    assert bulk_update_by_pk(DataSource, [], fields=["enabled"]) == 0
