"""`manage.py parcel_rekey SLUG [SLUG ...] --format FORMAT [--apply]`: move sources' parcels to another id format."""

from django.core.management.base import BaseCommand, CommandError

from properties.models import DataSource, ParcelFormat
from properties.rekey import parcel_rekey_apply, parcel_rekey_plan


class Command(BaseCommand):
    help = (
        "Re-key the parcels the given sources list to another parcel-id format (renamed in place, records and leads "
        "kept) and switch the sources to it. A dry run unless --apply; refused when it would merge distinct parcels."
    )

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="+", metavar="SLUG", help="data sources to move together")
        parser.add_argument("--format", required=True, choices=ParcelFormat.values, dest="parcel_format")
        parser.add_argument("--apply", action="store_true", help="make the change (default: show it only)")

    def handle(self, *args, slugs, parcel_format, apply, **options):
        sources = list(DataSource.objects.filter(slug__in=slugs).order_by("slug"))
        missing = sorted(set(slugs) - {s.slug for s in sources})
        if missing:
            raise CommandError(f"no data source with slug {', '.join(missing)}")
        plan = parcel_rekey_plan(sources=sources, parcel_format=parcel_format)
        for line in plan.summary():
            self.stdout.write(line)
        if plan.blocked:
            raise CommandError("nothing was changed")
        if not apply:
            self.stdout.write("dry run: nothing was changed (add --apply)")
            return
        renamed = parcel_rekey_apply(plan=plan)
        self.stdout.write(
            f"renamed {renamed} parcels; the sources now use {parcel_format}; the next ingest re-reads them"
        )
