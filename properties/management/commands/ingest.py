"""`manage.py ingest SOURCE_SLUG | --all | --url URL --dataset D --mapping FILE.json [--kind K] [--parcel-format F]`"""

import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from dealfinder.common.source_location import LocationError
from properties import services
from properties.ingest.mapping import MappingError
from properties.ingest.schema import drift_summary
from properties.models import DataSource, IngestionRun, ParcelFormat
from properties.rekey import ParcelFormatChange
from properties.selectors import datasource_get_by_slug


def summary_line(run: IngestionRun) -> str:
    line = (
        f"{run.source_label}: processed={run.processed} inserted={run.inserted} updated={run.updated} "
        f"unchanged={run.unchanged} failed={run.failed} status={run.status} stored={run.stored} "
        f"unplaced={run.unplaced} duplicates={run.duplicates}"
    )
    return f"{line} ({run.message})" if run.message else line


class Command(BaseCommand):
    help = "Ingest one source, every enabled source, or an ad hoc URL/file; prints one summary line per run."

    def add_arguments(self, parser):
        parser.add_argument("slug", nargs="?", help="DataSource slug")
        parser.add_argument("--all", action="store_true", help="every enabled source")
        parser.add_argument("--url", help="ad hoc: ArcGIS layer, Socrata dataset, CKAN resource, or a file path / URL")
        parser.add_argument("--dataset", choices=DataSource.Dataset.values)
        parser.add_argument("--mapping", help="ad hoc: JSON file with the field mapping")
        parser.add_argument("--kind", choices=DataSource.Kind.values, help="ad hoc: default guessed from the URL")
        parser.add_argument(
            "--parcel-format",
            choices=ParcelFormat.values,
            default=ParcelFormat.CANONICAL,
            help="ad hoc: how parcel ids are normalized (default canonical: separators kept as '-')",
        )

    def handle(self, *args, slug=None, url=None, **options):
        if sum(bool(x) for x in (slug, options["all"], url)) != 1:
            raise CommandError("give exactly one of SOURCE_SLUG, --all or --url")
        with tqdm(file=sys.stderr, unit=" records", disable=None) as bar:
            try:
                runs = self._run(slug, url, options, bar.update)
            except MappingError as exc:
                raise CommandError(f"bad mapping: {exc}") from None
            except ParcelFormatChange as exc:
                raise CommandError(str(exc)) from None
            except LocationError as exc:
                raise CommandError(f"bad --url: {exc}") from None
        for run in runs:
            self.stdout.write(summary_line(run))
            drift = drift_summary(run.schema_drift or {})
            if drift:
                self.stderr.write(f"{run.source_label}: the source's attributes changed since its last run: {drift}")
        failed = [run for run in runs if run.status == IngestionRun.Status.FAILED]
        if failed:
            raise CommandError(f"{len(failed)} of {len(runs)} runs failed")

    def _run(self, slug, url, options, progress):
        if options["all"]:
            return services.datasource_ingest_all(progress=progress)
        if slug:
            source = datasource_get_by_slug(slug=slug)
            if source is None:
                raise CommandError(f"no data source with slug {slug!r}")
            try:
                return [services.datasource_ingest(source_id=source.pk, progress=progress)]
            except services.SourceDisabled as exc:
                raise CommandError(str(exc)) from None
        if not options["dataset"] or not options["mapping"]:
            raise CommandError("--url needs --dataset and --mapping")
        try:
            mapping = json.loads(Path(options["mapping"]).read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read mapping {options['mapping']}: {exc}") from None
        run = services.ingest_adhoc(
            url=url,
            dataset=options["dataset"],
            mapping=mapping,
            kind=options["kind"],
            parcel_format=options["parcel_format"],
            progress=progress,
        )
        return [run]
