"""Where the benchmark runs: its own scratch database (the default), or the configured one when it is empty.

By default the benchmark creates `<database>_benchmark` on the same PostgreSQL server, marks it with a
comment, migrates it, runs there and drops it at the end, so it never reads or writes real data and its
figures never depend on what a real database happens to hold. A leftover scratch database (a killed run) is
dropped first, but only when it carries the marker comment: a database of that name without it is refused.

`--in-place` runs in the configured database itself (e.g. a test database pytest already created); then
the benchmark refuses a database holding properties, leads or buyers it did not create, unless told
(`--allow-nonempty`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.management import call_command
from django.db import connections

MARKER = "dealfinder benchmark scratch database (safe to drop)"
BENCHMARK_TAG = "benchmark"  # buyers the benchmark creates carry this tag
SOURCE_PREFIX = "benchmark-"  # and its data sources this slug prefix
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class BenchmarkRefused(Exception):
    """The database cannot be used by the benchmark (real data, wrong engine, a name clash)."""


def require_postgis(alias: str = "default") -> None:
    if connections[alias].vendor != "postgresql":
        raise BenchmarkRefused(
            "the benchmark runs on PostgreSQL/PostGIS only (its baselines are COPY and UPDATE there): "
            'set DATABASE_URL=postgis://... (eval "$(make -s services)")'
        )


def real_data_counts() -> dict[str, int]:
    """Rows the benchmark did not create: properties, leads and buyers."""
    from buyers.models import Buyer
    from leads.models import Lead
    from properties.models import Property, PropertySource

    ours = PropertySource.objects.filter(source__slug__startswith=SOURCE_PREFIX).values("property_id")
    return {
        "properties": Property.objects.exclude(pk__in=ours).count(),
        "leads": Lead.objects.exclude(property_id__in=ours).count(),
        "buyers": Buyer.objects.exclude(tags__contains=[BENCHMARK_TAG]).count(),
    }


def refuse_real_data() -> None:
    counts = {k: v for k, v in real_data_counts().items() if v}
    if counts:
        held = ", ".join(f"{v} {k}" for k, v in counts.items())
        raise BenchmarkRefused(
            f"database {connections['default'].settings_dict['NAME']!r} holds real data ({held}); "
            "run without --in-place (a scratch database), or pass --allow-nonempty to benchmark on top of it"
        )


def _switch(alias: str, name: str) -> None:
    connection = connections[alias]
    connection.close()
    connection.settings_dict["NAME"] = name
    settings.DATABASES[alias]["NAME"] = name


def _marked(cursor, name: str) -> bool | None:
    """None when the database does not exist; else whether it carries the scratch marker."""
    cursor.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        [name],
    )
    row = cursor.fetchone()
    return None if row is None else row[0] == MARKER


@contextmanager
def scratch_database(name: str | None = None, *, keep: bool = False, alias: str = "default") -> Iterator[str]:
    """Create, migrate and switch to a scratch database; switch back and drop it on the way out."""
    require_postgis(alias)
    connection = connections[alias]
    original = connection.settings_dict["NAME"]
    name = name or f"{original}_benchmark"
    if not _NAME.match(name) or name == original:
        raise BenchmarkRefused(f"not a usable scratch database name: {name!r}")
    quoted = connection.ops.quote_name(name)
    with connection.cursor() as cursor:
        marked = _marked(cursor, name)
        if marked is False:
            raise BenchmarkRefused(f"database {name!r} exists and is not a benchmark scratch database; not touching it")
        if marked:
            cursor.execute(f"DROP DATABASE {quoted} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {quoted}")
        cursor.execute(f"COMMENT ON DATABASE {quoted} IS %s", [MARKER])
    _switch(alias, name)
    try:
        call_command("migrate", interactive=False, verbosity=0)
        yield name
    finally:
        _switch(alias, original)
        if not keep:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
