"""dealfinder.common.lookups: AnyOf (querysets) and any_of_sql (raw SQL) find the rows whose field is among the
values, as `__in` finds them; one array parameter on PostgreSQL (a placeholder per value elsewhere); no values find
nothing."""

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from dealfinder.common.lookups import AnyOf, any_of_sql
from properties.models import DataSource

pytestmark = pytest.mark.django_db


def test_finds_what_in_finds_and_nothing_for_no_values():
    for slug in ("alpha", "beta", "gamma"):
        DataSource.objects.create(slug=slug, name=slug, kind=DataSource.Kind.FILE, dataset="parcels")
    with CaptureQueriesContext(connection) as queries:
        found = set(
            DataSource.objects.filter(AnyOf(F("slug"), ["beta", "gamma", "delta"])).values_list("slug", flat=True)
        )
    assert found == {"beta", "gamma"}
    assert DataSource.objects.filter(AnyOf(F("slug"), [])).count() == 0
    assert DataSource.objects.filter(AnyOf(F("slug"), {"alpha": 1}), name="alpha").count() == 1  # any iterable
    sql = queries.captured_queries[0]["sql"]
    if connection.vendor == "postgresql":
        assert "= ANY('{beta,gamma,delta}')" in sql
    else:
        assert "IN ('beta', 'gamma', 'delta')" in sql


def test_any_of_sql_in_raw_sql_finds_the_same_and_nothing_for_no_values():
    for slug in ("alpha", "beta", "gamma"):
        DataSource.objects.create(slug=slug, name=slug, kind=DataSource.Kind.FILE, dataset="parcels")

    def slugs(values: list) -> set[str]:
        among, params = any_of_sql(values)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT slug FROM properties_datasource WHERE slug {among}", params)  # noqa: S608
            return {slug for (slug,) in cursor.fetchall()}

    assert slugs(["beta", "gamma", "delta"]) == {"beta", "gamma"}
    assert slugs([]) == set()
    assert any_of_sql(["a", "b"]) == (
        ("= ANY(%s)", [["a", "b"]]) if connection.vendor == "postgresql" else ("IN (%s, %s)", ["a", "b"])
    )
