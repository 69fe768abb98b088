import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from dealfinder.ops.scoring import leads_score
from leads.grid import map_grid_refresh
from properties.models import Property


class Command(BaseCommand):
    help = (
        "Score every active property (or one parcel), write deal numbers and today's history snapshot; "
        "after a full run, rebuild the map index (PostGIS)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--parcel", help="Score only this normalized parcel id")

    def handle(self, *args, parcel=None, **options):
        properties = Property.objects.filter(is_active=True)
        if parcel:
            properties = properties.filter(parcel_id=parcel)
            if not properties.exists():
                raise CommandError(f"No active property with parcel id {parcel!r}")
        with tqdm(total=properties.count(), unit="lead", file=sys.stderr, disable=None) as bar:
            summary = leads_score(parcel_id=parcel, progress=bar.update)
        self.stdout.write(str(summary))
        if not parcel:
            grid = map_grid_refresh()
            self.stdout.write(
                f"Map index: {grid.skipped or f'{grid.points} points, {grid.cells} cells in {grid.seconds}s'}"
            )
