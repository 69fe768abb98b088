"""Create a DataSource from a probed URL: the service behind the admin's "Add source from URL"."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from properties.ingest.base import SourceError
from properties.ingest.mapping import FieldMapping, MappingError
from properties.ingest.schema import missing_attributes, missing_message
from properties.ingest.urls import canonical_url
from properties.models import DataSource
from properties.services import make_reader


def datasource_create_from_url(
    *,
    url: str,
    kind: str,
    dataset: str,
    name: str,
    slug: str,
    field_mapping: dict,
    parcel_format: str,
    county: str = "",
    where: str = "",
    incremental_field: str = "",
    enabled: bool = False,
) -> DataSource:
    """Validate (URL, choices, mapping, and the mapped attributes against the source's own fields, read now)
    and save. ValidationError with per-field messages when anything is wrong; nothing is saved then."""
    source = DataSource(
        url=canonical_url(url, kind) if url else url,
        kind=kind,
        dataset=dataset,
        name=name,
        slug=slug,
        field_mapping=field_mapping,
        parcel_format=parcel_format,
        county=county,
        where=where or "1=1",
        incremental_field=incremental_field,
        enabled=enabled,
    )
    source.full_clean()
    try:
        specs = FieldMapping.from_config(dataset, field_mapping).specs
    except MappingError as exc:
        raise ValidationError({"field_mapping": str(exc)}) from None
    reader = make_reader(source)
    try:
        schema = reader.schema()
    except SourceError as exc:
        raise ValidationError({"url": f"cannot read the source: {exc}"}) from None
    finally:
        reader.close()
    if schema is not None:
        missing = missing_attributes(specs, schema)
        if missing:
            raise ValidationError({"field_mapping": missing_message(missing, schema)})
    with transaction.atomic():
        source.save()
    return source
