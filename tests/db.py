"""A psycopg connection of its own to the test database (PostgreSQL), beside Django's: for tests that act from
outside the code under test (another session, another role)."""

import psycopg
from django.db import connection


def raw_connection(**overrides) -> psycopg.Connection:
    """Autocommit, as Django's connection's user unless `user`/`password` are given."""
    s = connection.settings_dict
    params = {"host": s["HOST"], "port": s["PORT"], "dbname": s["NAME"], "user": s["USER"], "password": s["PASSWORD"]}
    return psycopg.connect(**{**params, **overrides}, autocommit=True)
