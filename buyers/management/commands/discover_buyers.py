"""`manage.py discover_buyers [--json] [--explain] [--as-of DATE]`: cash buyers found in recorded purchases."""

import datetime
import json

from django.core.management.base import BaseCommand

from buyers.discovered import discovered_buyers_refresh


class Command(BaseCommand):
    help = "Discover cash buyers from recorded purchases; store them for the admin's Create buyer; list them."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help='print [{"name", "purchases", "zips", ...}]')
        parser.add_argument("--explain", action="store_true", help="add each buyer's key, kind, cash and reasons")
        parser.add_argument("--as-of", type=datetime.date.fromisoformat, help="YYYY-MM-DD (default today)")

    def handle(self, *args, **options):
        found, summary = discovered_buyers_refresh(as_of=options["as_of"])
        if options["json"]:
            self.stdout.write(json.dumps([b.as_json(explain=options["explain"]) for b in found], indent=2))
            return
        for b in found:
            zips = ", ".join(b.zips) or "no zip"
            self.stdout.write(f"{b.name}: {len(b.purchases)} purchases in {zips}, {b.style}")
        self.stdout.write(str(summary))
