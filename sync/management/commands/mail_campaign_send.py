from django.core.management.base import BaseCommand, CommandError

from sync.lob_records import LobAuthError, LobInputError
from sync.mail import mail_campaign_send
from sync.mail_models import MailCampaign


class Command(BaseCommand):
    help = "Mail the touches of a campaign that are due today through Lob (--dry-run: who, what it costs, who not)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--dry-run", action="store_true", help="print the audience, the cost and the skips")

    def handle(self, *args, slug, dry_run, **options):
        campaign = MailCampaign.objects.filter(slug=slug).first()
        if campaign is None:
            raise CommandError(f"no mail campaign with the slug {slug!r}")
        try:
            report = mail_campaign_send(campaign=campaign, dry_run=dry_run)
        except (LobAuthError, LobInputError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(report.describe())
        if report.failed:
            raise CommandError(f"{len(report.failed)} piece(s) failed; see above (a re-run retries them)")
