"""`manage.py comps PARCEL_ID [--json] [--explain] [--as-of DATE]`: one lead's comps and ARV;
`manage.py comps --all [--full]`: refresh every lead's comps and ARV (the nightly step; --full searches every
lead again instead of only those whose comps can have changed)."""

import datetime
import json

from django.core.management.base import BaseCommand, CommandError

from leads.comps_refresh import leads_comps_refresh
from leads.comps_selectors import lead_comps
from leads.models import Lead
from properties.normalize import normalize_parcel_id


class Command(BaseCommand):
    help = "Comparable sales and ARV for a parcel's lead (or --all leads) from recorded arms-length sales."

    def add_arguments(self, parser):
        parser.add_argument("parcel_id", nargs="?")
        parser.add_argument("--json", action="store_true", help='print {"arv", "low", "high", "confidence", "comps"}')
        parser.add_argument("--explain", action="store_true", help="add the dropped sales, tier and notes")
        parser.add_argument("--all", action="store_true", help="refresh and store every lead's comps and ARV")
        parser.add_argument("--as-of", type=datetime.date.fromisoformat, help="YYYY-MM-DD (default today)")
        parser.add_argument(
            "--full", action="store_true", help="with --all: search every lead's comps again, not only what changed"
        )

    def handle(self, *args, parcel_id=None, json=False, explain=False, all=False, as_of=None, full=False, **options):
        if all:
            self.stdout.write(str(leads_comps_refresh(as_of=as_of, full=full)))
            return
        if not parcel_id:
            raise CommandError("give a PARCEL_ID, or --all")
        lead = self._lead(parcel_id)
        result = lead_comps(lead=lead, as_of=as_of)
        if json:
            self.stdout.write(_dumps(result.as_json(explain=explain)))
            return
        arv = f"${result.arv:,}" if result.arv is not None else "none"
        self.stdout.write(f"ARV {arv} ({result.confidence} confidence), {len(result.comps)} comps")
        for comp in result.comps:
            self.stdout.write(f"  {comp.sale.parcel_id} ${comp.sale.price:,.0f}: {comp.why}")
        for note in result.notes:
            self.stdout.write(f"  note: {note}")

    def _lead(self, parcel_id: str) -> Lead:
        lead = Lead.objects.select_related("property").filter(property__parcel_id=parcel_id.strip().upper()).first()
        if lead is None:
            try:
                normalized = normalize_parcel_id(parcel_id, "canonical")
            except ValueError:
                normalized = None
            lead = Lead.objects.select_related("property").filter(property__parcel_id=normalized).first()
        if lead is None:
            raise CommandError(f"no lead for parcel {parcel_id!r} (score the parcels first: manage.py score)")
        return lead


def _dumps(value) -> str:
    return json.dumps(value, indent=2)
