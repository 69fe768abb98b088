"""`manage.py migrate` drops the reporting views before it runs any migration and creates them again after the
last, from the schema as it then is. A migration may so change or drop a column a view reads (PostgreSQL refuses
that while a view depends on it; SQLite's table rebuilds trip over it too), and the views always follow the
current models. Database roles that could read the views may read them again.

Connected in DealFinderConfig.ready(). These are schema upkeep around the migrate command, not domain flow.
"""

import logging

from django.db import DatabaseError, connections, transaction

from .sql import report_views_create, report_views_drop

logger = logging.getLogger(__name__)
MIGRATION = ("dealfinder", "0004_reporting_views")

# database alias -> roles that could read the views when they were dropped; while an alias is here, the
# migration that creates the views leaves them to post_migrate.
_deferred: dict[str, list[str]] = {}


def deferred(alias: str) -> bool:
    return alias in _deferred


def drop_before_migrate(sender, *, using: str, **kwargs) -> None:
    if using in _deferred:  # pre_migrate is sent once per app: the first drops
        return
    _deferred[using] = report_views_drop(connection=connections[using])


def create_after_migrate(sender, *, using: str, plan=None, **kwargs) -> None:
    if sender.label != "dealfinder":  # post_migrate is sent once per app: create once
        return
    grantees = _deferred.pop(using, [])
    connection = connections[using]
    from django.db.migrations.recorder import MigrationRecorder

    if MIGRATION not in MigrationRecorder(connection).applied_migrations():
        return  # migrated back before the views (or not yet up to them): nothing to create
    try:
        with transaction.atomic(using=using):
            report_views_create(connection=connection, grantees=grantees)
    except DatabaseError:
        # A partial `migrate app NNNN` can leave tables older than the views need: say so, never fail migrate.
        logger.exception("reporting views not created; run `manage.py migrate` to the latest migrations")
