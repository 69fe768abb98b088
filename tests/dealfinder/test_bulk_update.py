"""dealfinder.common.bulk.bulk_update_by_pk and bulk_update_rows: the named fields of the given rows, nothing else;
one UPDATE on PostgreSQL (by COPY), whatever the number of rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dealfinder.common.bulk import bulk_update_by_pk, bulk_update_rows
from properties.models import DataSource, Owner, Property

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


def test_plain_rows_set_a_foreign_key_by_id_or_clear_it():
    owner = Owner.objects.create(key="SMITH JOHN@1 MAIN ST", digest="d1", kind="individual", display_name="John Smith")
    first, second, _third = (
        Property.objects.create(parcel_id=pid, county="Orange", owner_name=name)
        for pid, name in (("P1", "JOHN SMITH"), ("P2", "ACME LLC"), ("P3", "JANE DOE"))
    )
    Property.objects.filter(pk=second.pk).update(owner=owner)

    with CaptureQueriesContext(connection) as queries:
        assert bulk_update_rows(Property, [(first.pk, owner.pk), (second.pk, None)], fields=["owner"]) == 2

    rows = Property.objects.order_by("parcel_id").values_list("parcel_id", "owner_id", "owner_name")
    assert list(rows) == [("P1", owner.pk, "JOHN SMITH"), ("P2", None, "ACME LLC"), ("P3", None, "JANE DOE")]
    if connection.vendor == "postgresql":
        assert len([q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]) == 1
    assert bulk_update_rows(Property, [], fields=["owner"]) == 0
