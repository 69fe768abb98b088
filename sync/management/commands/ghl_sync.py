import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from sync.deferred import deferred_messages_send_due
from sync.models import SyncLog
from sync.pull import ghl_pull_buyers
from sync.push import ghl_push_leads
from sync.reconcile import ghl_reconcile


class Command(BaseCommand):
    help = (
        "Push new/changed leads and buyer actions to GoHighLevel and/or pull buyers (both when no flag is given); "
        "--reconcile reads what changed in GoHighLevel since the last reconcile and applies what webhooks missed; "
        "--deferred sends the buyer messages deferred for quiet hours that are due, asking the compliance gate again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--push", action="store_true", help="push leads and match actions")
        parser.add_argument("--pull", action="store_true", help="pull buyers tagged GHL_BUYER_TAG")
        parser.add_argument(
            "--reconcile",
            action="store_true",
            help="read GoHighLevel's changes since the last reconcile and apply them",
        )
        parser.add_argument(
            "--deferred",
            action="store_true",
            help="send the buyer messages deferred for quiet hours whose hours have opened",
        )

    def handle(self, *args, push=False, pull=False, reconcile=False, deferred=False, **options):
        runs = []
        if reconcile:
            runs.append(ghl_reconcile())
        if push or not (pull or reconcile or deferred):
            with tqdm(desc="GoHighLevel push", unit="item", file=sys.stderr, disable=None) as bar:
                runs.append(ghl_push_leads(progress=bar.update))
        if deferred:
            runs.append(deferred_messages_send_due())
        if pull or not (push or reconcile or deferred):
            runs.append(ghl_pull_buyers())
        for log in runs:
            self.stdout.write(
                f"{log.sync_type}: {log.status} - processed {log.processed}, succeeded {log.succeeded}, "
                f"failed {log.failed}, skipped {log.skipped}"
                + (
                    f", drift found {log.drift_found}, applied {log.drift_applied}"
                    if log.sync_type == SyncLog.SyncType.RECONCILE
                    else ""
                )
                + (f" ({log.message})" if log.message else "")
            )
        failed = [log for log in runs if log.status == SyncLog.Status.FAILED]
        if failed:
            raise CommandError(
                f"{len(failed)} GoHighLevel run(s) failed: " + "; ".join(str(log.errors[:3]) for log in failed)
            )
