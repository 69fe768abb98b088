"""Migration operations the apps' migrations share."""

from django.db import migrations


def index_dropped(
    index: str, table: str, column: str, alter: migrations.AlterField
) -> migrations.SeparateDatabaseAndState:
    """A foreign key's own index dropped (`alter` sets db_index=False; a unique or composite index leading with its
    column serves it). Django's own AlterField would also drop and re-add the key's constraint, whose check reads
    every row of the table again under lock."""
    return migrations.SeparateDatabaseAndState(
        state_operations=[alter],
        database_operations=[
            migrations.RunSQL(f'DROP INDEX IF EXISTS "{index}"', f'CREATE INDEX "{index}" ON "{table}" ("{column}")')
        ],
    )
