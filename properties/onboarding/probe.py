"""Probe a source before it is added: read its metadata and a sample, propose a mapping, dry-run it.

`source_probe(url=...)` is the selector behind `manage.py source_probe` and the admin's "Add source from URL":
it reads (never writes) the source's description (an ArcGIS layer's fields, types, object id field, geometry type,
spatial reference, maxRecordCount and editor tracking; a Socrata dataset's typed columns; a CKAN resource's fields;
a file's header, dialect and record count), a sample of records through the same readers ingest uses, proposes a
mapping for the dataset (guessed when not given) and dry-runs it over the sample.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal

from dealfinder.common.source_location import LocationError, location_parse
from properties.ingest.arcgis import ArcGISClient
from properties.ingest.base import RawRecord, SourceError
from properties.ingest.ckan import CKANReader
from properties.ingest.esri_geometry import ArcGISError, esri_xy, page_spatial_reference, spatial_reference_label
from properties.ingest.files import FileReader, dialect_label
from properties.ingest.http import PAGE_ERRORS, describe_error
from properties.ingest.joined import JOINED_FIELDS, ChildTable, join_config, join_sample
from properties.ingest.mapping import FieldMapping, MappingError
from properties.ingest.schema import SourceField, SourceSchema, missing_attributes
from properties.ingest.socrata import SocrataReader
from properties.ingest.urls import ARCGIS, CKAN, SOCRATA, canonical_url, guess_kind
from properties.models import DataSource, ParcelFormat

from .dry_run import DryRun, dry_run
from .propose import FieldInfo, Problem, Proposal, propose

SAMPLE_SIZE = 50
SHOWN_ROWS = 10


@dataclass
class SourceSample:
    """What a source says about itself and its first records."""

    fields: list[FieldInfo]
    records: list[RawRecord]
    about: dict = field(default_factory=dict)  # name, geometry type, spatial reference, dialect, counts, ...
    title: str = ""
    has_geometry: bool = False
    edit_date_field: str | None = None
    incremental_field: str = ""
    problems: list[Problem] = field(default_factory=list)
    layers: list[dict] | None = None  # an ArcGIS service root


@dataclass
class ProbeResult:
    url: str
    kind: str
    dataset: str | None
    sample: SourceSample
    mapping: dict = field(default_factory=dict)
    confidence: dict = field(default_factory=dict)
    proposal: Proposal | None = None
    dry_run: DryRun | None = None
    problems: list[Problem] = field(default_factory=list)
    parcel_format: str = ParcelFormat.CANONICAL

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    def as_json(self) -> dict:
        """Exactly {"kind", "dataset", "fields", "mapping", "confidence", "problems", "sample"}."""
        sample = self.sample
        return {
            "kind": self.kind,
            "dataset": self.dataset,
            "fields": [{"name": f.name, "type": f.type, "alias": f.alias} for f in sample.fields],
            "mapping": self.mapping,
            "confidence": self.confidence,
            "problems": [p.as_dict() for p in self.problems],
            "sample": {
                "url": self.url,
                "source": sample.about,
                "layers": sample.layers,
                "settings": {
                    "parcel_format": self.parcel_format,
                    "incremental_field": sample.incremental_field,
                    "dataset_reason": self.proposal.dataset_reason if self.proposal else "",
                },
                "size": len(sample.records),
                "rows": [json_safe(r.attributes) for r in sample.records[:SHOWN_ROWS]],
                "dry_run": self.dry_run.as_dict() if self.dry_run else None,
            },
        }


def json_safe(value):
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def source_probe(
    *,
    url: str,
    kind: str | None = None,
    dataset: str | None = None,
    mapping: dict | None = None,
    parcel_format: str | None = None,
    sample_size: int = SAMPLE_SIZE,
    allow_path: bool = False,
) -> ProbeResult:
    """Read a source's description and sample, propose a mapping (or check `mapping`) and dry-run it.

    SourceError when the source cannot be read at all; everything else is a problem on the result.
    Local paths only with `allow_path` (the command line), never from the web.
    """
    try:
        location = location_parse(url)
        kind = kind or guess_kind(url)
    except LocationError as exc:
        raise SourceError(str(exc)) from None
    if not location.is_url and not allow_path:
        raise SourceError("give an http(s) URL: local files can only be probed with manage.py source_probe")
    url = canonical_url(url, kind)
    sample = _with_joined_tables(_read(kind, url, sample_size), kind=kind, mapping=mapping)
    result = ProbeResult(url=url, kind=kind, dataset=dataset, sample=sample, problems=list(sample.problems))
    if sample.layers is not None:
        return result
    default_format = DataSource._meta.get_field("parcel_format").default
    proposal = propose(
        fields=sample.fields,
        rows=[r.attributes for r in sample.records],
        dataset=dataset,
        title=sample.title,
        has_geometry=sample.has_geometry,
        edit_date_field=sample.edit_date_field,
        default_parcel_format=default_format,
    )
    result.proposal, result.dataset = proposal, proposal.dataset
    result.parcel_format = parcel_format or proposal.parcel_format
    if mapping is None:
        result.mapping, result.confidence = proposal.mapping, proposal.confidence
        result.problems += proposal.problems
    else:
        result.mapping = mapping
        result.problems += mapping_problems(result.dataset, mapping, sample)
    if not sample.records:
        result.problems.append(Problem("the source returned no records to try the mapping on"))
    elif not any(p.level == "error" and p.target in ("parcel_id", None) for p in result.problems):
        try:
            result.dry_run = dry_run(
                dataset=result.dataset,
                mapping=result.mapping,
                records=sample.records,
                parcel_format=result.parcel_format,
            )
        except MappingError as exc:
            result.problems.append(Problem(f"the mapping cannot be used: {exc}", None, "error"))
        else:
            result.problems += result.dry_run.problems
    return result


def _with_joined_tables(sample: SourceSample, *, kind: str, mapping: dict | None) -> SourceSample:
    """For a mapping that names joined tables ("tables": an ACRIS-like sales source), the sample joined with its
    documents' parties and legals, with their attributes among the fields; else the sample as it is (a bad
    "tables" entry is for mapping_problems to say)."""
    try:
        config = join_config(mapping)
    except ValueError:
        return sample
    if config is None or sample.layers is not None or not sample.records:
        return sample
    from properties.services import table_reader  # the ingest's own readers (services imports nothing from here)

    def make(table: ChildTable):
        return table_reader(table.kind or kind, table.url, where=table.where, page_size=None)

    records, refused = join_sample(sample.records, config, make)
    known = {f.name.lower() for f in sample.fields}
    added = dict.fromkeys(
        name for r in records for name in r.attributes if name.lower() not in known and not name.startswith(":")
    )
    fields = [*sample.fields, *(FieldInfo(name, "text" if name in JOINED_FIELDS else "") for name in added)]
    problems = [*sample.problems, *(Problem(f"sample record {r['record']}: {r['reason']}") for r in refused[:5])]
    return replace(sample, fields=fields, records=records, problems=problems)


def mapping_problems(dataset: str, mapping: dict, sample: SourceSample) -> list[Problem]:
    """A user's mapping checked as ingest will check it: valid for the dataset, and naming existing attributes."""
    try:
        specs = FieldMapping.from_config(dataset, mapping).specs
    except MappingError as exc:
        return [Problem(f"the mapping cannot be used: {exc}", None, "error")]
    schema = SourceSchema(tuple(SourceField(f.name, f.type) for f in sample.fields), system=_system(sample))
    return [
        Problem(f"{source!r} is not an attribute of this source", target, "error")
        for target, source in missing_attributes(specs, schema)
    ]


def _system(sample: SourceSample) -> frozenset[str]:
    names = {name for record in sample.records for name in record.attributes if name.startswith(":") or name == "_id"}
    return frozenset(names)


# --- reading, per kind ---------------------------------------------------------------------------------


def _read(kind: str, url: str, size: int) -> SourceSample:
    readers = {ARCGIS: _read_arcgis, SOCRATA: _read_socrata, CKAN: _read_ckan}
    return readers.get(kind, _read_file)(url, size)


def _read_arcgis(url: str, size: int) -> SourceSample:
    client = ArcGISClient(url)
    try:
        meta = client.metadata()
        if meta.layers is not None:
            layers = [{**layer, "url": f"{client.url}/{layer['id']}"} for layer in meta.layers]
            message = "this is an ArcGIS service, not a layer: probe one of its layers: " + "; ".join(
                f"{layer['url']} ({layer['name'] or layer['type']})" for layer in layers
            )
            return SourceSample([], [], {"name": meta.name, "kind": "ArcGIS service"}, problems=[
                Problem(message, None, "error")], layers=layers)  # fmt: skip
        about = {
            "kind": "ArcGIS layer",
            "name": meta.name,
            "geometry_type": meta.geometry_type,
            "object_id_field": meta.object_id_field,
            "spatial_reference": spatial_reference_label(meta.spatial_reference) if meta.spatial_reference else None,
            "max_record_count": meta.max_record_count,
            "supports_pagination": meta.supports_pagination,
            "edit_date_field": meta.edit_date_field,
            "last_edit_date": meta.last_edit_date.isoformat() if meta.last_edit_date else None,
            "record_count": client.count(),
        }
        fields = [FieldInfo(name, kind_, meta.aliases.get(name, "")) for name, kind_ in meta.fields.items()]
        problems = []
        try:
            data = client.sample(size)
        except PAGE_ERRORS as exc:
            raise SourceError(f"cannot read sample records from {client.url}: {describe_error(exc)}") from None
        records, problems = _arcgis_records(client, data, meta.spatial_reference)
        about["answer_spatial_reference"] = (
            spatial_reference_label(data["spatialReference"]) if data.get("spatialReference") else None
        )
        return SourceSample(
            fields, records, about, title=meta.name, has_geometry=bool(meta.geometry_type),
            edit_date_field=meta.edit_date_field, problems=problems,
        )  # fmt: skip
    finally:
        client.close()


def _arcgis_records(client: ArcGISClient, data: dict, layer_reference: dict | None):
    problems = []
    features = data.get("features") or []
    if not data.get("spatialReference") and features:
        used = page_spatial_reference(data, layer_reference, [esri_xy(f.get("geometry")) for f in features])
        if used:
            problems.append(Problem(
                "the server answers without a spatial reference although DealFinder asks for longitude/latitude; its"
                f" coordinates are read in the layer's own {spatial_reference_label(used)}", "location",
            ))  # fmt: skip
    try:
        return client.records(data), problems
    except ArcGISError as exc:
        problems.append(Problem(f"records cannot be placed: {exc}", "location", "error"))
        oid = data.get("objectIdFieldName") or client.object_id_field
        records = [RawRecord(str(f["attributes"].get(oid)), f.get("attributes") or {}) for f in features]
        return records, problems


def _read_socrata(url: str, size: int) -> SourceSample:
    reader = SocrataReader(url)
    try:
        metadata = reader.read_metadata() or {}
        schema = reader.schema()
        records = reader.sample(size)
    finally:
        reader.close()
    if schema is not None:
        fields = [FieldInfo(f.name, f.type, f.alias) for f in schema.fields]
    else:
        names = dict.fromkeys(k for r in records for k in r.attributes if not k.startswith(":"))
        fields = [FieldInfo(name) for name in names]
    updated = metadata.get("rowsUpdatedAt")
    about = {
        "kind": "Socrata dataset",
        "name": metadata.get("name", ""),
        "rows_updated_at": dt.datetime.fromtimestamp(updated, dt.UTC).isoformat() if isinstance(updated, int) else None,
        "geometry_columns": [f.name for f in fields if f.type in ("point", "location", "multipolygon", "polygon")],
    }
    problems = [] if schema is not None else [Problem("the portal does not serve this dataset's column types")]
    return SourceSample(
        fields, records, about, title=about["name"], has_geometry=any(r.geometry for r in records),
        incremental_field=":updated_at", problems=problems,
    )  # fmt: skip


def _read_ckan(url: str, size: int) -> SourceSample:
    reader = CKANReader(url)
    try:
        schema = reader.schema()
        records = reader.sample(size)
    finally:
        reader.close()
    about = {"kind": "CKAN DataStore resource", "resource_id": reader.resource_id, "record_count": reader.total}
    return SourceSample([FieldInfo(f.name, f.type, f.alias) for f in schema.fields], records, about)


def _read_file(url: str, size: int) -> SourceSample:
    reader = FileReader(url)
    try:
        schema = reader.schema()
        records = reader.sample(size)
        about = {
            "kind": "file",
            "name": reader.name,
            "format": "GeoJSON" if reader.format == "json" and any(r.xy for r in records) else reader.format,
            "dialect": dialect_label(reader.dialect) if reader.format == "csv" else None,
            "header": reader.header or None,
            "record_count": reader.record_count,
        }
    finally:
        reader.close()
    fields = [FieldInfo(f.name, f.type) for f in schema.fields]
    return SourceSample(fields, records, about, title=reader.name, has_geometry=any(r.geometry for r in records))
