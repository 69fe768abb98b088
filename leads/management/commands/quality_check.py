from django.core.management.base import BaseCommand, CommandError

from leads.quality import quality_check_run


class Command(BaseCommand):
    help = "Run the data-quality checks and store a report. Exit status 1 when the report has errors."

    def add_arguments(self, parser):
        parser.add_argument("--stale-days", type=int, help="A source with no successful run this long is stale")

    def handle(self, *args, stale_days=None, **options):
        report = quality_check_run(stale_days=stale_days)
        for finding in report.findings:
            sample = f" (e.g. {', '.join(finding['sample'])})" if finding["sample"] else ""
            self.stdout.write(f"{finding['severity'].upper()} {finding['check']}: {finding['message']}{sample}")
        summary = f"Quality report {report.pk}: {report.status}, {report.warnings} warnings, {report.errors} errors"
        if report.errors:
            raise CommandError(summary)
        self.stdout.write(summary)
