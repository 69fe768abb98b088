"""`manage.py source_probe URL [--kind K] [--dataset D] [--json] [--mapping FILE] [--sample N] [--parcel-format F]`"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from properties.ingest.base import SourceError
from properties.ingest.urls import ARCGIS, CKAN, FILE, SOCRATA
from properties.models import DataSource, ParcelFormat
from properties.onboarding.probe import SAMPLE_SIZE, ProbeResult, source_probe


class Command(BaseCommand):
    help = (
        "Read a source's metadata and a sample, propose a field mapping (confidence and reason per field) and "
        "dry-run it; nothing is saved. --json prints {kind, dataset, fields, mapping, confidence, problems, sample}."
    )

    def add_arguments(self, parser):
        parser.add_argument("url", help="ArcGIS layer or service, Socrata dataset, CKAN resource, file URL or path")
        parser.add_argument("--kind", choices=(ARCGIS, SOCRATA, CKAN, FILE), help="default: guessed from the URL")
        parser.add_argument("--dataset", choices=DataSource.Dataset.values, help="default: guessed from the columns")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")
        parser.add_argument("--mapping", help="dry-run this mapping (JSON file) instead of proposing one")
        parser.add_argument("--sample", type=int, default=SAMPLE_SIZE, help=f"sample records (default {SAMPLE_SIZE})")
        parser.add_argument("--parcel-format", choices=ParcelFormat.values, help="default: proposed")

    def handle(self, *args, url, json=False, **options):
        mapping = None
        if options["mapping"]:
            try:
                mapping = _json_loads(Path(options["mapping"]).read_text())
            except (OSError, ValueError) as exc:
                raise CommandError(f"cannot read mapping {options['mapping']}: {exc}") from None
        if not 1 <= options["sample"] <= 2000:
            raise CommandError("--sample must be between 1 and 2000")
        try:
            result = source_probe(
                url=url,
                kind=options["kind"],
                dataset=options["dataset"],
                mapping=mapping,
                parcel_format=options["parcel_format"],
                sample_size=options["sample"],
                allow_path=True,
            )
        except SourceError as exc:
            raise CommandError(str(exc)) from None
        if json:
            self.stdout.write(_json_dumps(result.as_json()))
        else:
            self.stdout.write("\n".join(report(result)))


def _json_loads(text):
    return json.loads(text)


def _json_dumps(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def report(result: ProbeResult) -> list[str]:
    """The probe as text: source, fields, proposed mapping with confidence, dry run, problems, mapping JSON."""
    sample, lines = result.sample, []
    about = sample.about
    lines.append(f"{about.get('kind', result.kind)}: {about.get('name') or ''} ({result.url})".replace(":  (", ": ("))
    details = [
        f"{k.replace('_', ' ')}: {v}" for k, v in about.items() if k not in ("kind", "name") and v not in (None, "", [])
    ]
    lines += [f"  {d}" for d in details]
    if sample.layers is not None:
        lines.append("Layers:")
        lines += [
            f"  {layer['url']}  {layer['name']} ({layer['geometry_type'] or layer['type']})" for layer in sample.layers
        ]
    if sample.fields:
        lines.append(f"Fields ({len(sample.fields)}):")
        width = max(len(f.name) for f in sample.fields)
        lines += [f"  {f.name:<{width}}  {f.type}" + (f"  ({f.alias})" if f.alias else "") for f in sample.fields]
    if result.dataset:
        reason = result.proposal.dataset_reason if result.proposal else ""
        lines.append(f"Dataset: {result.dataset}" + (f" ({reason})" if reason and reason != "given" else ""))
    if result.confidence:
        lines.append("Proposed mapping (target, source, confidence, reason):")
        width = max(len(t) for t in result.confidence)
        for target, c in result.confidence.items():
            lines.append(f"  {target:<{width}}  {c['source']}  {c['score']:.2f}  {c['reason']}")
    if result.dry_run:
        run = result.dry_run
        lines.append(f"Dry run over {run.records} sample records: {run.loadable} would load, {run.placed} with a point")
        for title, targets in (("mapped", run.targets), ("as stored", run.derived)):
            for target, t in targets.items():
                values = "; ".join(t.values)
                lines.append(f"  {title:<9} {target:<22} {t.fill_rate:>5.0%}  {values}")
    if result.problems:
        lines.append("Problems:")
        lines += [f"  [{p.level}] " + (f"{p.target}: " if p.target else "") + p.message for p in result.problems]
    if result.mapping:
        lines.append(f"Parcel format: {result.parcel_format}")
        if sample.incremental_field:
            lines.append(f"Incremental field: {sample.incremental_field}")
        lines.append("Mapping (save as mapping.json for ingest --mapping):")
        lines.append(_json_dumps(result.mapping))
    return lines
