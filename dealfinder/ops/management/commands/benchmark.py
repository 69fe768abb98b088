"""`python manage.py benchmark [--parcels N] [--counties C] [--buyers M] [--json FILE] [--pool-requests N]
[--load-clients N --load-seconds S]`: DealFinder's figures at county scale, and brokers under load over HTTP
(dealfinder/ops/benchmark/load_step.py).

Runs in its own scratch database `<database>_benchmark` (created, migrated, dropped) unless `--in-place`;
see dealfinder/ops/benchmark/ for what is measured and against which baseline.
"""

import importlib.util
import json
import signal
import sys
import threading
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from dealfinder.ops.benchmark.fanout import FANOUT_PARCELS
from dealfinder.ops.benchmark.report import table
from dealfinder.ops.benchmark.run import Benchmark
from dealfinder.ops.benchmark.scratch import BenchmarkRefused, refuse_real_data, require_postgis, scratch_database


class Command(BaseCommand):
    help = (
        "Benchmark ingest, scoring, matching, the nightly pipeline, the map and the API on a synthetic county "
        "(PostGIS), each beside its baseline; prints a table and writes JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("--parcels", type=int, default=100_000, help="parcels per county (default 100,000)")
        parser.add_argument(
            "--counties", type=int, default=1,
            help="synthetic counties of --parcels each, with their own layers and parcel ids (default 1); "
            "fanout_speedup is always measured on two small counties through real Celery workers",
        )  # fmt: skip
        parser.add_argument(
            "--fanout-parcels", type=int, default=FANOUT_PARCELS,
            help=f"parcels in each of fanout_speedup's two counties (default {FANOUT_PARCELS:,}; at most --parcels)",
        )  # fmt: skip
        parser.add_argument("--buyers", type=int, default=2_000, help="cash buyers (default 2,000)")
        parser.add_argument("--json", dest="json_file", help="write the figures and details to this file")
        parser.add_argument(
            "--in-place",
            action="store_true",
            help="run in the configured database instead of a scratch one (refused if it holds real data)",
        )
        parser.add_argument(
            "--allow-nonempty", action="store_true", help="with --in-place: run even if the database holds data"
        )
        parser.add_argument("--scratch-name", help="scratch database name (default <database>_benchmark)")
        parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
        parser.add_argument("--map-requests", type=int, default=30, help="map requests per zoom kind (default 30)")
        parser.add_argument("--api-requests", type=int, default=30, help="lead list API requests (default 30)")
        parser.add_argument(
            "--pool-requests", type=int, default=100,
            help="lead list API requests through gunicorn without and with the connection pool, each (default 100; "
            "0 skips it)",
        )  # fmt: skip
        parser.add_argument(
            "--load-clients", type=int, default=16, help="brokers of the load test over HTTP (default 16; 0 skips it)"
        )
        parser.add_argument(
            "--load-seconds", type=float, default=20.0,
            help="seconds of each load run (default 20; 1800 is the soak: watch web_rss_growth_mb)",
        )  # fmt: skip
        parser.add_argument("--load-workers", type=int, default=3, help="gunicorn workers serving it (default 3)")

    def handle(self, *args, **options):
        if options["parcels"] < 100 or options["buyers"] < 1 or options["counties"] < 1:
            raise CommandError("--parcels must be at least 100, --buyers and --counties at least 1")
        if importlib.util.find_spec("time_machine") is None:
            raise CommandError("the benchmark needs the development requirements (requirements/dev.txt): make bench")
        if options["fanout_parcels"] < 10:
            raise CommandError("--fanout-parcels must be at least 10")
        if options["pool_requests"] < 0:
            raise CommandError("--pool-requests must be >= 0")
        if options["load_clients"] < 0 or options["load_seconds"] <= 0 or options["load_workers"] < 1:
            raise CommandError("--load-clients must be >= 0, --load-seconds positive and --load-workers >= 1")
        path = Path(options["json_file"]) if options["json_file"] else None
        benchmark = Benchmark(
            parcels=options["parcels"],
            counties=options["counties"],
            fanout_parcels=options["fanout_parcels"],
            buyers=options["buyers"],
            out=self.stdout.write,
            progress=options["verbosity"] > 0,
            map_requests=options["map_requests"],
            api_requests=options["api_requests"],
            pool_requests=options["pool_requests"],
            load_clients=options["load_clients"],
            load_seconds=options["load_seconds"],
            load_workers=options["load_workers"],
            checkpoint=(lambda partial: self._write(path, partial)) if path else None,
        )
        # A terminated run still drops its scratch database (SystemExit unwinds through the cleanup).
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143)) if main else None
        try:
            require_postgis()
            if options["in_place"]:
                if not options["allow_nonempty"]:
                    refuse_real_data()
                result = self._run(benchmark)
            else:
                with scratch_database(options["scratch_name"], keep=options["keep"]) as name:
                    self.stdout.write(f"Scratch database {name} (migrated; dropped at the end)")
                    result = self._run(benchmark)
        except BenchmarkRefused as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if main:
                signal.signal(signal.SIGTERM, previous)
        self.stdout.write("")
        self.stdout.write(table(result))
        if path:
            self._write(path, result)
            self.stdout.write(f"\nWrote {path}")
        return None

    @staticmethod
    def _write(path: Path, result: dict) -> None:
        """The JSON file, rewritten after every step (`complete` false until the end), so a long run that is
        stopped still leaves what it measured."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2, default=str) + "\n")

    def _run(self, benchmark: Benchmark) -> dict:
        counties = f" x {benchmark.counties} counties" if benchmark.counties > 1 else ""
        self.stdout.write(f"Benchmark: {benchmark.parcels:,} parcels{counties}, {benchmark.buyers:,} buyers")
        return benchmark.run()
