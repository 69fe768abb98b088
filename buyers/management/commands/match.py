import sys

from django.core.management.base import BaseCommand
from tqdm import tqdm

from buyers.services import matches_refresh_all


class Command(BaseCommand):
    help = "Match every scored lead against every active buyer's buy box (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--buyer", type=int, action="append", dest="buyer_ids", help="Only this buyer id (repeat)")

    def handle(self, *args, buyer_ids=None, **options):
        with tqdm(file=sys.stderr, unit="buyer", desc="match", disable=options["verbosity"] == 0) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            summary = matches_refresh_all(buyer_ids=buyer_ids, progress=progress)
        self.stdout.write(f"Matched: {summary}")
        if summary.without_location:
            names = ", ".join(summary.without_location_names[:20])
            more = f" and {summary.without_location - 20} more" if summary.without_location > 20 else ""
            buyers = "buyer has" if summary.without_location == 1 else "buyers have"
            self.stdout.write(
                f"{summary.without_location} active {buyers} no target area, zips or centre + radius and matches"
                f" nothing: {names}{more}"
            )
