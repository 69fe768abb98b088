"""fanout_speedup: the nightly chain over two counties through real Celery workers, one worker process against two.

Each measurement gets a fresh scratch database (created, migrated, dropped: scratch.scratch_database) holding two
synthetic counties (county.County, the second with its own parcel ids) served over HTTP by two ArcGIS servers,
and a few buyers. `celery worker --pool solo` processes (one, then two) are started against that database and the
broker (CELERY_BROKER_URL), on a queue of their own, so nothing else on the same Redis takes the tasks; the
nightly chain is queued (pipeline_launch) and timed from the run row (started_at to finished_at). The ingest step
fans the sources out (a chord per stage: both counties' parcels, then their distress layers), so two processes
ingest two counties at once; enrich, score, match and the rest run once afterwards.

`nightly_through_workers` also returns what the run produced (properties, leads' scores and tiers, matches), so
the benchmark and tests/integration/test_fanout_workers.py check that two workers give exactly what one gives.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .county import MAPPINGS, County, buyers
from .scratch import SOURCE_PREFIX, scratch_database
from .server import ArcGISCountyServer

ROOT = Path(__file__).resolve().parents[3]
FANOUT_PARCELS = 3_000  # per county, in every benchmark run: large enough that ingest outweighs the queue
FANOUT_BUYERS = 50
WORKER_START_SECONDS = 60
RUN_TIMEOUT_SECONDS = 900


class FanoutError(RuntimeError):
    """The workers did not start, or the nightly run did not finish (or failed)."""


def database_url() -> str:
    """The DATABASE_URL of the database the default connection uses (for the worker processes)."""
    db = connection.settings_dict
    user, password = quote(db["USER"] or "", safe=""), quote(db["PASSWORD"] or "", safe="")
    return f"postgis://{user}:{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def sending_to(queue: str) -> Iterator[None]:
    """Tasks sent from this process go to `queue` through the broker (not eagerly) inside the block."""
    from dealfinder.celery import app

    conf = app.conf
    previous = conf.task_default_queue, conf.task_always_eager

    def use(queue_name: str, eager: bool) -> None:
        conf.task_default_queue, conf.task_always_eager = queue_name, eager
        for cached in ("queues", "default_queue", "router"):  # built from the previous default queue
            app.amqp.__dict__.pop(cached, None)

    use(queue, False)
    try:
        yield
    finally:
        use(*previous)


@contextmanager
def worker_processes(count: int, *, queue: str, database: str, log_dir: Path) -> Iterator[list[subprocess.Popen]]:
    """`count` Celery worker processes (`--pool solo`: one task at a time each) on `queue`, against `database`;
    yields once every one answers a ping, stops them (warm shutdown, then kill) on the way out."""
    from dealfinder.celery import app

    if not settings.CELERY_BROKER_URL:
        raise FanoutError("needs Redis: CELERY_BROKER_URL is unset")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        DATABASE_URL=database,
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CELERY_RESULT_BACKEND=settings.CELERY_RESULT_BACKEND or settings.CELERY_BROKER_URL,
        CELERY_TASK_DEFAULT_QUEUE=queue,
        LOG_FORMAT="text",
    )
    names = [f"{queue}-{n}@fanout" for n in range(1, count + 1)]
    processes: list[subprocess.Popen] = []
    logs = [log_dir / f"worker-{n}.log" for n in range(1, count + 1)]
    try:
        for name, log in zip(names, logs, strict=True):
            with log.open("w") as out:
                command = [sys.executable, "-m", "celery", "-A", "dealfinder", "worker", "--pool", "solo",
                           "--queues", queue, "--hostname", name, "--loglevel", "WARNING",
                           "--without-gossip", "--without-mingle", "--without-heartbeat"]  # fmt: skip
                processes.append(
                    subprocess.Popen(  # noqa: S603 (this interpreter running celery, fixed arguments)
                        command,
                        cwd=ROOT,
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
        deadline = time.monotonic() + WORKER_START_SECONDS
        answered: set[str] = set()
        problem = ""
        while answered != set(names):
            dead = [p for p in processes if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                tail = "\n".join(log.read_text()[-2000:] for log in logs)
                raise FanoutError(
                    f"the Celery workers did not start ({len(answered)} of {count} answered{problem}):\n{tail}"
                )
            try:
                for reply in app.control.ping(destination=names, timeout=1.0):
                    answered.update(reply)
            except Exception as exc:  # the broker unreachable: asked again until the deadline
                problem = f"; pinging them: {type(exc).__name__}: {exc}"
                time.sleep(1)
        yield processes
    finally:
        for process in processes:
            process.terminate()  # SIGTERM: warm shutdown
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@dataclass
class FanoutRun:
    workers: int
    seconds: float
    status: str
    steps: dict
    ingest_concurrency: float  # the sources' ingest seconds summed over the ingest's wall time: ~1 serial, ~2 paired
    results: dict = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.results.items()}


def two_counties(parcels: int) -> list[County]:
    counties = [County(parcels, today=timezone.localdate(), parcel_offset=n * parcels) for n in range(2)]
    for county in counties:
        county.generate()
    return counties


def _create(counties: list[County], servers: list[ArcGISCountyServer], buyer_count: int) -> None:
    from buyers.models import Buyer, MatchingProfile
    from properties.models import DataSource

    Buyer.objects.bulk_create(Buyer(**data) for data in buyers(buyer_count))
    # Every match is kept (no per-buyer cap), so one worker and two can be compared exactly: under the cap, which of
    # equally ranked properties fill a buyer's last places goes by property id ("the oldest property first"), and
    # which county's parcels are older depends on which worker wrote first.
    MatchingProfile.objects.update(is_active=False)
    MatchingProfile.objects.create(name="Benchmark fan-out: no cap", is_active=True, max_matches_per_buyer=None)
    for n, (county, server) in enumerate(zip(counties, servers, strict=True), start=1):
        for layer in county.layers:
            DataSource.objects.create(
                slug=f"{SOURCE_PREFIX}county{n}-{layer.dataset.replace('_', '-')}",
                name=f"Benchmark county {n}: {layer.name}",
                kind=DataSource.Kind.ARCGIS,
                dataset=layer.dataset,
                url=server.url(layer),
                field_mapping=MAPPINGS[layer.dataset],
                parcel_format="orange_fl",
                county=f"Benchmark {n}",
                enabled=True,
            )


def results_now() -> dict[str, list[tuple]]:
    """What a nightly run produced, in an order independent of ids: properties, leads' scores and tiers, matches."""
    from buyers.models import PropertyMatch
    from leads.models import Lead
    from properties.models import Property

    return {
        "properties": list(
            Property.objects.order_by("parcel_id").values_list(
                "parcel_id", "county", "address_normalized", "owner_name", "is_absentee", "property_type", "is_active"
            )
        ),
        "leads": list(
            Lead.objects.order_by("property__parcel_id").values_list(
                "property__parcel_id", "distress", "value", "location_score", "urgency", "total", "tier", "stack_count"
            )
        ),
        "matches": list(
            PropertyMatch.objects.order_by("property__parcel_id", "buyer__email").values_list(
                "property__parcel_id", "buyer__email", "score"
            )
        ),
    }


def ingest_concurrency() -> float:
    """How many sources were ingested at once on average: their runs' durations summed over the span of them all."""
    from properties.models import IngestionRun

    runs = list(IngestionRun.objects.filter(finished_at__isnull=False).values_list("started_at", "finished_at"))
    if not runs:
        return 0.0
    span = (max(end for _, end in runs) - min(start for start, _ in runs)).total_seconds()
    busy = sum((end - start).total_seconds() for start, end in runs)
    return round(busy / span, 2) if span > 0 else 0.0


def nightly_through_workers(*, workers: int, parcels: int, buyer_count: int, scratch_name: str) -> FanoutRun:
    """One measurement: a fresh scratch database with two counties of `parcels` each, the nightly chain queued
    to `workers` worker processes; its seconds (from the run row), steps and results."""
    from dealfinder.ops.pipeline.runs import pipeline_run_wait
    from dealfinder.ops.tasks import pipeline_launch

    from .report import pipeline_info

    counties = two_counties(parcels)
    queue = f"dealfinder-fanout-{uuid.uuid4().hex[:12]}"
    with ExitStack() as stack:
        stack.enter_context(scratch_database(scratch_name))
        servers = [stack.enter_context(ArcGISCountyServer(county)) for county in counties]
        _create(counties, servers, buyer_count)
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dealfinder-fanout-")))
        stack.enter_context(worker_processes(workers, queue=queue, database=database_url(), log_dir=log_dir))
        stack.enter_context(sending_to(queue))
        run = pipeline_launch(job="nightly", trigger="manual")
        run = pipeline_run_wait(run_id=run.pk, timeout=RUN_TIMEOUT_SECONDS, poll=0.1)
        info = pipeline_info()
        if run.status != "success":
            raise FanoutError(f"the nightly run with {workers} worker(s) ended {run.status}: {run.message}")
        return FanoutRun(
            workers=workers,
            seconds=round(run.duration.total_seconds(), 3),
            status=run.status,
            steps=info["steps"],
            ingest_concurrency=ingest_concurrency(),
            results=results_now(),
        )
