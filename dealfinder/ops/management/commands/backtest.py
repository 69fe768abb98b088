import datetime
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from dealfinder.ops.backtest import backtest_run
from leads.backtest_runs import backtest_text


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since: {value!r} is not a date like 2026-01-31") from None


class Command(BaseCommand):
    help = (
        "Backtest the active scoring profile against the recorded outcomes (the score each lead had before its "
        "outcome): conversion by tier and decile, lift per signal, calibration, time to contract, and a profile "
        "fitted to the outcomes. Stored as a backtest run (admin: Leads > Backtest runs)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", type=_date, help="Only outcomes on or after this day (YYYY-MM-DD)")
        parser.add_argument("--json", dest="json_file", help="Also write the result as JSON to this file ('-': stdout)")

    def handle(self, *args, since=None, json_file=None, **options):
        run = backtest_run(since=since)
        if json_file == "-":
            self.stdout.write(json.dumps(run.document, indent=2))
            return
        self.stdout.write(backtest_text(run.document))
        self.stdout.write(f"Backtest #{run.pk} stored ({run.seconds:.1f} s).")
        if json_file:
            try:
                Path(json_file).write_text(json.dumps(run.document, indent=2) + "\n")
            except OSError as exc:
                raise CommandError(f"--json: cannot write {json_file}: {exc.strerror}") from None
            self.stdout.write(f"JSON written to {json_file}.")
