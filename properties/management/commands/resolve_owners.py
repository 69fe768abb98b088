"""`manage.py resolve_owners`: group every active parcel's owner into Owner rows (also part of the enrich step)."""

from django.core.management.base import BaseCommand

from properties.owner_services import owners_resolve


class Command(BaseCommand):
    help = (
        "Resolve owners: one person or company across its parcels (normalized name + mailing address), keeping the "
        "brokers' merge/split corrections. Idempotent; the nightly enrich step runs it after dedupe."
    )

    def handle(self, *args, **options):
        summary = owners_resolve()
        self.stdout.write(str(summary))
        if summary.corrections_stale or summary.corrections_conflict:
            self.stdout.write(
                f"{summary.corrections_stale} stale and {summary.corrections_conflict} conflicting corrections: "
                "see Owner corrections in admin"
            )
