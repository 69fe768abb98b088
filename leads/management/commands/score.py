import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from leads.services import leads_score_all
from properties.models import Property


class Command(BaseCommand):
    help = "Score every active property (or one parcel), write deal numbers and today's history snapshot."

    def add_arguments(self, parser):
        parser.add_argument("--parcel", help="Score only this normalized parcel id")

    def handle(self, *args, parcel=None, **options):
        properties = Property.objects.filter(is_active=True)
        if parcel:
            properties = properties.filter(parcel_id=parcel)
            if not properties.exists():
                raise CommandError(f"No active property with parcel id {parcel!r}")
        with tqdm(total=properties.count(), unit="lead", file=sys.stderr, disable=None) as bar:
            summary = leads_score_all(parcel_id=parcel, progress=bar.update)
        self.stdout.write(str(summary))
