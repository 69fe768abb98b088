"""No index of the apps' tables is a leading part of another btree index of the same table (PostgreSQL): such an
index serves no query the other does not, and every insert and update writes it (the score history takes a hundred
thousand rows a night at 100,000 leads). A foreign key whose column leads a unique or composite index takes
db_index=False."""

import pytest
from django.apps import apps
from django.db import connection

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="reads PostgreSQL's catalog"),
]

APPS = ("properties", "leads", "buyers", "sync", "dealfinder")

# (table, index, the index that covers it): same method, same leading columns, operator classes and orders.
REDUNDANT = """
WITH idx AS (
    SELECT i.indrelid::regclass::text AS tbl, i.indexrelid::regclass::text AS idx, i.indisunique AS uniq,
        string_to_array(i.indkey::text, ' ')::int[] AS cols, string_to_array(i.indclass::text, ' ')::oid[] AS opcs,
        string_to_array(i.indoption::text, ' ')::int[] AS opts,
        i.indpred IS NULL AND i.indexprs IS NULL AND am.amname = 'btree' AS plain
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
    WHERE c.relnamespace = current_schema()::regnamespace
)
SELECT a.tbl, a.idx, b.idx FROM idx a JOIN idx b ON b.tbl = a.tbl AND b.idx <> a.idx AND a.plain AND b.plain
WHERE NOT a.uniq AND a.tbl = ANY(%s)
    AND cardinality(a.cols) <= cardinality(b.cols)
    AND a.cols = b.cols[1:cardinality(a.cols)] AND a.opcs = b.opcs[1:cardinality(a.cols)]
    AND a.opts = b.opts[1:cardinality(a.cols)]
    AND (cardinality(a.cols) < cardinality(b.cols) OR a.idx > b.idx)
ORDER BY 1, 2
"""


def test_no_index_is_the_leading_part_of_another():
    tables = [m._meta.db_table for label in APPS for m in apps.get_app_config(label).get_models()]
    with connection.cursor() as cursor:
        cursor.execute(REDUNDANT, [tables])
        assert cursor.fetchall() == []
