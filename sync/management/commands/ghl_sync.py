import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from sync.models import SyncLog
from sync.pull import ghl_pull_buyers
from sync.push import ghl_push_leads


class Command(BaseCommand):
    help = "Push new/changed leads and buyer actions to GoHighLevel and/or pull buyers (both when no flag is given)."

    def add_arguments(self, parser):
        parser.add_argument("--push", action="store_true", help="push leads and match actions")
        parser.add_argument("--pull", action="store_true", help="pull buyers tagged GHL_BUYER_TAG")

    def handle(self, *args, push=False, pull=False, **options):
        runs = []
        if push or not pull:
            with tqdm(desc="GoHighLevel push", unit="item", file=sys.stderr, disable=None) as bar:
                runs.append(ghl_push_leads(progress=bar.update))
        if pull or not push:
            runs.append(ghl_pull_buyers())
        for log in runs:
            self.stdout.write(
                f"{log.sync_type}: {log.status} - processed {log.processed}, succeeded {log.succeeded}, "
                f"failed {log.failed}, skipped {log.skipped}" + (f" ({log.message})" if log.message else "")
            )
        failed = [log for log in runs if log.status == SyncLog.Status.FAILED]
        if failed:
            raise CommandError(
                f"{len(failed)} GoHighLevel run(s) failed: " + "; ".join(str(log.errors[:3]) for log in failed)
            )
