"""Backup and restore (README "Backup and restore"): a pg_dump -Fc of the database, restored with pg_restore
into a fresh database, holds the same rows: counts and a checksum of the key columns, geometry included."""

import os
import shutil
import subprocess

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from buyers.models import Buyer, PropertyMatch
from leads.models import Lead
from properties.models import Property, TaxSale
from tests.factories import BuyerFactory, LeadFactory, PropertyFactory, PropertyMatchFactory, TaxSaleFactory

pytestmark = [pytest.mark.postgis, pytest.mark.django_db(transaction=True)]

# table -> the key columns whose values must survive, as one text expression per row, and the order.
CHECKS = {
    Property: ("parcel_id || '|' || address_normalized || '|' || coalesce(ST_AsEWKT(location), '')", "parcel_id"),
    TaxSale: ("tda_number || '|' || coalesce(sale_date::text, '') || '|' || coalesce(opening_bid::text, '')", "id"),
    Lead: ("property_id || '|' || total || '|' || tier || '|' || status || '|' || reasons::text", "property_id"),
    Buyer: (
        "first_name || ' ' || last_name || '|' || coalesce(phone, '') || '|' || coalesce(ST_AsEWKT(target_area), '')",
        "id",
    ),
    PropertyMatch: ("property_id || '|' || buyer_id || '|' || score", "property_id, buyer_id"),
}


def tool(name: str) -> str:
    """The client tool of the server's major version (pg_dump refuses a newer server)."""
    major = connection.pg_version // 10000
    versioned = f"/usr/lib/postgresql/{major}/bin/{name}"
    return versioned if os.path.exists(versioned) else shutil.which(name)


def pg_env() -> dict[str, str]:
    db = connection.settings_dict
    return {
        **os.environ,
        "PGHOST": db["HOST"] or "localhost",
        "PGPORT": str(db["PORT"] or 5432),
        "PGUSER": db["USER"],
        "PGPASSWORD": db["PASSWORD"] or "",
    }


def fingerprint(conn) -> dict[str, tuple[int, str]]:
    result = {}
    with conn.cursor() as cursor:
        for model, (expression, order) in CHECKS.items():
            table = model._meta.db_table
            query = f"SELECT count(*), md5(coalesce(string_agg({expression}, '~' ORDER BY {order}), '')) FROM {table}"  # noqa: S608
            cursor.execute(query)
            result[table] = cursor.fetchone()
    return result


def test_pg_dump_restores_the_same_rows(tmp_path):
    properties = PropertyFactory.create_batch(5)
    for prop in properties:
        LeadFactory(property=prop, total=80, tier="A", reasons=["Tax-deed sale 2026-03-08", "Absentee owner"])
    TaxSaleFactory.create_batch(3, property=properties[0])
    buyers = BuyerFactory.create_batch(2)
    PropertyMatchFactory(property=properties[1], buyer=buyers[0])

    source = fingerprint(connection.connection)
    assert {table: count for table, (count, _) in source.items()} == {
        "properties_property": 5,
        "properties_taxsale": 3,
        "leads_lead": 5,
        "buyers_buyer": 2,
        "buyers_propertymatch": 1,
    }

    dump = tmp_path / "dealfinder.dump"
    database = connection.settings_dict["NAME"]
    subprocess.run(  # noqa: S603 (fixed argv of the PostgreSQL client tools, no shell)
        [tool("pg_dump"), "-Fc", "--no-owner", "-f", str(dump), database], env=pg_env(), check=True, timeout=120
    )
    restored = f"{database}_restore"
    admin = psycopg.connect(dbname="postgres", autocommit=True, **_connect_kwargs())
    try:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(restored)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(restored)))
        subprocess.run(  # noqa: S603 (fixed argv of the PostgreSQL client tools, no shell)
            [tool("pg_restore"), "--no-owner", "--exit-on-error", "-d", restored, str(dump)],
            env=pg_env(),
            check=True,
            timeout=120,
        )
        with psycopg.connect(dbname=restored, **_connect_kwargs()) as fresh:
            assert fingerprint(fresh) == source
    finally:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(restored)))
        admin.close()


def _connect_kwargs() -> dict:
    env = pg_env()
    return {"host": env["PGHOST"], "port": env["PGPORT"], "user": env["PGUSER"], "password": env["PGPASSWORD"]}
