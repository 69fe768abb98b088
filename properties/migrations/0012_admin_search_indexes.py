"""Indexes for the admin changelists (issue 26): the state filter's values (an index skip scan), the search box's
exact parcel id, and on PostgreSQL a trigram index for its substring fields (nothing on SpatiaLite)."""

import django.db.models.functions.text
from django.db import migrations, models

# The columns `PropertyAdmin` and `LeadAdmin` search by substring (`icontains`: UPPER(col::text) LIKE
# UPPER('%term%')), in one multicolumn GIN index: each column is searchable on its own, and the OR of the search
# box is a BitmapOr of scans of this one index.
TRIGRAM_COLUMNS = ("parcel_id_raw", "address_normalized", "owner_name", "zip")
TRIGRAM_INDEX = "property_search_trgm_idx"


def trigram_index_create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    columns = ", ".join(f"UPPER(({c})::text) gin_trgm_ops" for c in TRIGRAM_COLUMNS)
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON properties_property USING gin ({columns})")


def trigram_index_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("properties", "0011_recorded_sales"),
    ]

    operations = [
        migrations.AlterField(
            model_name="property",
            name="state",
            field=models.CharField(blank=True, db_index=True, max_length=2),
        ),
        migrations.AddIndex(
            model_name="property",
            index=models.Index(django.db.models.functions.text.Upper("parcel_id"), name="property_parcel_upper_idx"),
        ),
        migrations.RunPython(trigram_index_create, trigram_index_drop),
    ]
