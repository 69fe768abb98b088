"""A column among many values as one array parameter on PostgreSQL: `AnyOf` for querysets, `any_of_sql` for raw SQL.

`Model.objects.filter(AnyOf(F("record_hash"), digests))` is `record_hash = ANY(%s)` with the values as one
array on PostgreSQL, and `IN (...)` elsewhere. Django's `__in` sends a placeholder per value: with a thousand
values per batch, preparing them (Django's lookup, psycopg's query split) costs more client time than the
query itself takes in the database. For plain values (text, numbers) whose field needs no conversion.
"""

from django.db import connection
from django.db.models import Lookup
from django.db.models.lookups import In


class AnyOf(Lookup):
    """Used as an expression (`filter(AnyOf(F(name), values))`), not registered on a field."""

    prepare_rhs = False

    def as_sql(self, compiler, connection):
        return In(self.lhs, list(self.rhs)).as_sql(compiler, connection)

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, list(self.rhs)]


def any_of_sql(values: list) -> tuple[str, list]:
    """What follows a column in raw SQL for "among `values`", with its parameters: `= ANY(%s)` and one array on
    PostgreSQL, `IN (%s, ...)` elsewhere (`IN (NULL)`, true of nothing, for no values)."""
    if connection.vendor == "postgresql":
        return "= ANY(%s)", [list(values)]
    return f"IN ({', '.join(['%s'] * len(values)) or 'NULL'})", list(values)
