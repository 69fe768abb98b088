"""No index of the apps' tables is a leading part of another btree index of the same table (PostgreSQL): such an
index serves no query the other does not, and every insert and update writes it (the score history takes a hundred
thousand rows a night at 100,000 leads). A foreign key whose column leads a unique or composite index takes
db_index=False. A btree read backwards serves the opposite order, so a single-column index on `-x` covers one on `x`.

Nor do the tables written by the hundred thousand a night carry a pattern-ops index (LIKE 'prefix%'), which Django
adds beside a text column's own index for db_index=True or unique=True: nothing queries them that way, so their
text columns are indexed in Meta.indexes and Meta.constraints instead."""

import pytest
from django.apps import apps
from django.db import connection

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="reads PostgreSQL's catalog"),
]

APPS = ("properties", "leads", "buyers", "sync", "dealfinder")

# (table, index, the index that covers it): same method, same leading columns and operator classes, and the same
# orders or all of them reversed (indoption bits: 1 descending, 2 nulls first; a backward scan flips both).
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
    AND (a.opts = b.opts[1:cardinality(a.cols)]
        OR a.opts = ARRAY(SELECT o # 3 FROM unnest(b.opts[1:cardinality(a.cols)]) WITH ORDINALITY u(o, n) ORDER BY n))
    AND (cardinality(a.cols) < cardinality(b.cols) OR a.idx > b.idx)
ORDER BY 1, 2
"""


def test_no_index_is_the_leading_part_of_another():
    tables = [m._meta.db_table for label in APPS for m in apps.get_app_config(label).get_models()]
    with connection.cursor() as cursor:
        cursor.execute(REDUNDANT, [tables])
        assert cursor.fetchall() == []


NIGHTLY_TABLES = ("properties_property", "properties_owner", "properties_ownerinput", "properties_propertysource",
                  "properties_valuation", "leads_lead", "leads_leadscorehistory", "leads_mappoint",
                  "buyers_propertymatch")  # fmt: skip

PATTERN_OPS = """
SELECT i.indexrelid::regclass::text FROM pg_index i JOIN pg_opclass oc ON oc.oid = ANY(i.indclass::oid[])
WHERE i.indrelid::regclass::text = ANY(%s) AND oc.opcname LIKE '%%pattern_ops' ORDER BY 1
"""


def test_the_nightly_tables_have_no_pattern_ops_index():
    with connection.cursor() as cursor:
        cursor.execute(PATTERN_OPS, [list(NIGHTLY_TABLES)])
        assert cursor.fetchall() == []
