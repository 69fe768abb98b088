"""`manage.py resolve_owners [--everything]`: group the active parcels' owners into Owner rows (also part of the
enrich step): those whose owner name, mailing address or state changed, with the others of their blocks."""

from django.core.management.base import BaseCommand

from properties.owner_services import owners_resolve


class Command(BaseCommand):
    help = (
        "Resolve owners: one person or company across its parcels (normalized name + mailing address), keeping the "
        "brokers' merge/split corrections. Idempotent; the nightly enrich step runs it after dedupe."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--everything",
            action="store_true",
            help="resolve every parcel again, not only the blocks (mailing addresses) of what changed since",
        )

    def handle(self, *args, **options):
        summary = owners_resolve(everything=options["everything"])
        self.stdout.write(str(summary))
        if summary.corrections_stale or summary.corrections_conflict:
            self.stdout.write(
                f"{summary.corrections_stale} stale and {summary.corrections_conflict} conflicting corrections: "
                "see Owner corrections in admin"
            )
