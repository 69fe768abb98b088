"""The provenance table's layout for the nightly stamp of last_seen_at (PropertySource's docstring)."""

import pytest
from django.db import connection

from properties.models import PropertySource

pytestmark = pytest.mark.django_db


def _indexed_columns() -> list[list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, PropertySource._meta.db_table)
    return sorted(c["columns"] for c in constraints.values() if (c["index"] or c["unique"]) and not c["primary_key"])


def test_the_stamped_column_has_no_index_and_the_keys_only_composite_ones():
    assert _indexed_columns() == [
        ["property_id", "source_id"],
        ["source_id", "external_id"],
        ["source_id", "record_hash"],
    ]


@pytest.mark.postgis
def test_its_pages_keep_room_for_the_stamp_to_stay_on_its_page():
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE oid = %s::regclass", [PropertySource._meta.db_table])
        assert cursor.fetchone()[0] == ["fillfactor=70"]
