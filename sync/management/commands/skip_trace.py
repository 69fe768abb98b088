from django.core.management.base import BaseCommand, CommandError

from leads.models import Lead
from sync.skip_trace import SkipTraceRefused, lead_skip_trace, skiptrace_provider


class Command(BaseCommand):
    help = "Skip trace the owners of leads (billable): never an owner traced inside SKIPTRACE_WINDOW_DAYS."

    def add_arguments(self, parser):
        parser.add_argument("--tiers", required=True, help="lead tiers, e.g. A,B")
        parser.add_argument("--limit", type=int, default=100, help="most leads to trace in this run (default 100)")

    def handle(self, *args, tiers, limit, **options):
        wanted = [t.strip().upper() for t in tiers.split(",") if t.strip()]
        leads = list(
            Lead.objects.filter(tier__in=wanted, status=Lead.Status.NEW)
            .select_related("property__owner")
            .order_by("-total", "id")[:limit]  # ties by id: the same order every run
        )
        try:
            report = lead_skip_trace(leads=leads, provider=skiptrace_provider())
        except SkipTraceRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{report.calls} call(s), {report.traced} traced, {report.hits} hits, cost ${report.cost:,.2f}, "
            f"{report.contacts_added} phones/emails added; {len(report.not_due)} traced recently"
        )
        for lead_id, why in report.skipped:
            self.stdout.write(f"  lead {lead_id}: {why}")
        if report.failed_calls:
            raise CommandError("failed call(s): " + "; ".join(report.failed_calls))
