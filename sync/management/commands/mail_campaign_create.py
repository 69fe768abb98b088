from django.core.management.base import BaseCommand, CommandError

from sync.mail import KINDS, MailCampaignError, mail_campaign_create


class Command(BaseCommand):
    help = "Create a direct-mail campaign (default templates and a 0,21,42 drip; edit it in admin)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug", default="", help="default: the name, slugified")
        parser.add_argument("--tiers", required=True, help="lead tiers to mail, e.g. A,B")
        parser.add_argument("--kind", default="postcard", choices=sorted(KINDS))

    def handle(self, *args, name, slug, tiers, kind, **options):
        try:
            campaign = mail_campaign_create(name=name, slug=slug, tiers=tiers.split(","), kind=kind)
        except MailCampaignError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"created mail campaign {campaign.slug} ({campaign.get_piece_kind_display()}, "
            f"tiers {','.join(campaign.audience['tier'])}, touches on days {campaign.touch_days})"
        )
