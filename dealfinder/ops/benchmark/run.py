"""The measured run: each figure beside its physical baseline, on the synthetic county.

Steps, in order (each timed, with its CPU seconds and the Python process's peak resident memory):
generate -> ingest (every layer through the real DataSource ingest service, over HTTP) -> COPY baseline ->
unchanged re-ingest -> owners (the first owner resolution) -> score (leads created) -> comps (every lead's comps
and ARV from the recorded sales, the nightly "comps" step) -> rescore unchanged -> rescore after a profile change
(every lead rewritten) -> bare UPDATE baseline -> match -> map bbox endpoint -> lead list API -> the same API
through gunicorn with and without the connection pool (load_pool) -> nightly pipeline on the next day's data,
on the next day's clock (eager) -> [load test] -> fan-out (two small counties through one real Celery worker
process, then two: fanout.py). With `counties` > 1 every step works on that many counties of `parcels` each. The
JSON file is rewritten after every step.

Memory is this Python process's (VmHWM from /proc/self/status, reset per step through /proc/self/clear_refs
where the kernel allows, else ru_maxrss); PostgreSQL's backends are other processes and are not counted.
"""

from __future__ import annotations

import datetime as dt
import io
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from tqdm import tqdm

from .county import MAPPINGS, County, buyers, viewports
from .fanout import FANOUT_BUYERS, FANOUT_PARCELS, FanoutError, nightly_through_workers
from .load_pool import p95, pool_step
from .load_step import load_step
from .probes import heap_frozen, machine_info, peak_rss_mb, reset_peak_rss
from .report import pipeline_info, result
from .scratch import BENCHMARK_TAG, SOURCE_PREFIX
from .server import ArcGISCountyServer

PARCEL_TABLES = ("properties_property", "properties_valuation", "properties_propertysource")
NIGHT = dt.timedelta(days=1)  # the next night's clock: the day after the county was loaded


@dataclass
class Step:
    name: str
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"seconds": self.seconds, "cpu_seconds": self.cpu_seconds, "peak_rss_mb": self.peak_rss_mb, **self.info}


@dataclass
class Benchmark:
    parcels: int  # per county
    buyers: int
    counties: int = 1  # synthetic counties, each of `parcels` parcels with its own six layers and parcel ids
    out: Callable[[str], None] = print
    progress: bool = True
    map_requests: int = 30  # per zoom kind (county, city)
    api_requests: int = 30
    pool_requests: int = 100  # lead list API requests through gunicorn with and without the pool (0 skips it)
    checkpoint: Callable[[dict], None] | None = None  # called with the partial result after each step
    load_clients: int = 0  # brokers of the load test (load_step); 0 skips it
    load_seconds: float = 20.0
    load_workers: int = 3
    load_detail: dict[str, Any] = field(default_factory=dict)
    fanout_parcels: int = FANOUT_PARCELS  # per county of the fan-out step (at most `parcels`)
    not_measured: dict[str, str] = field(default_factory=dict)  # figure -> why this run has none
    steps: list[Step] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, Any] = field(default_factory=dict)

    # --- helpers ---------------------------------------------------------------------------
    @contextmanager
    def step(self, name: str) -> Iterator[Step]:
        step = Step(name)
        reset_peak_rss()
        began, cpu = time.perf_counter(), time.process_time()
        try:
            yield step
        except BaseException as exc:  # stopped (SIGTERM, Ctrl-C) or failed: keep what this step measured
            step.info["interrupted"] = f"{type(exc).__name__}: {exc}"[:200]
            self._record(step, began, cpu)
            raise
        self._record(step, began, cpu)

    def _record(self, step: Step, began: float, cpu: float) -> None:
        name = step.name
        step.seconds = round(time.perf_counter() - began, 3)
        step.cpu_seconds = round(time.process_time() - cpu, 3)
        step.peak_rss_mb = peak_rss_mb()
        self.steps.append(step)
        extra = " ".join(f"{k}={v}" for k, v in step.info.items() if not isinstance(v, dict | list))
        self.out(f"  {name}: {step.seconds:.2f}s (cpu {step.cpu_seconds:.1f}s, rss {step.peak_rss_mb:.0f} MB) {extra}")
        self._save()

    def _save(self) -> None:
        """Hand the partial result to the checkpoint (after each step, and once a phase's figures are set)."""
        if self.checkpoint is not None:
            self.checkpoint(self.result(complete=False))

    def bar(self, total: int | None, desc: str, unit: str) -> tqdm:
        return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=not self.progress, leave=False)

    def seconds(self, name: str) -> float:
        return next(s.seconds for s in self.steps if s.name == name)

    @staticmethod
    def analyze() -> None:
        """Planner statistics, as autovacuum would have them on a live database (not timed)."""
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    # --- the run ---------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        import logging

        for name in ("httpx", "celery", "dealfinder.pipeline"):  # one line per page / task otherwise
            logging.getLogger(name).setLevel(logging.WARNING)
        self.machine = machine_info()
        self.server_info: dict = {}
        today = timezone.localdate()
        counties = [County(self.parcels, today=today, parcel_offset=n * self.parcels) for n in range(self.counties)]
        county = counties[0]
        with self.step("generate") as step:
            with self.bar(self.parcels * self.counties, "generate counties", " parcels") as bar:
                for each in counties:
                    each.generate(progress=bar.update)
            self._create_buyers()
            step.info = {
                "counties": self.counties,
                "parcels": self.parcels * self.counties,
                "distress_records": sum(each.distress_records for each in counties),
                **{name: sum(len(each.members[name]) for each in counties) for name in county.members},
                "buyers": self.buyers,
            }
        with ExitStack() as servers:
            server = servers.enter_context(ArcGISCountyServer(county))
            sources = self._create_sources(county, server)
            for n, other in enumerate(counties[1:], start=2):
                sources += self._create_sources(other, servers.enter_context(ArcGISCountyServer(other)), number=n)
            first = self._ingest_all("ingest", sources, counties)
            self.analyze()
            self._copy_baseline(first, [s for s in sources if s.dataset == "parcels"])
            self.figures["ingest_vs_copy"] = round(
                first["records_per_second"] / self.counts["copy_records_per_second"], 3
            )
            self._ingest_all("reingest", sources, counties)
            self._reingest_figures(county)
            self._owners()
            self._score()
            self._save()
            self._comps()
            self._save()
            self._match()
            self._save()
            self.analyze()
            self._map()
            self._save()
            self._map_filters()
            self._save()
            self._api()
            self._save()
            pool_step(self)
            edited_at = timezone.now()
            for each in counties:  # the next night: a few parcels and listings changed, a day's deeds
                each.day, each.edited_at = 2, edited_at
            self._pipeline()
            if self.load_clients:
                load_step(self, county)
            self.server_info = {"requests": server.requests, "busy_seconds": round(server.busy_seconds, 2)}
        self._fanout()
        self._save()
        self._final_counts()
        return self.result(complete=True)

    def result(self, *, complete: bool) -> dict[str, Any]:
        """Everything measured so far (report.result)."""
        return result(self, complete=complete)

    # --- data -----------------------------------------------------------------------------
    def _create_buyers(self) -> None:
        from buyers.models import Buyer

        with self.bar(self.buyers, "generate buyers", " buyers") as bar:
            batch = []
            for data in buyers(self.buyers):
                batch.append(Buyer(**data))
                if len(batch) == 500:
                    Buyer.objects.bulk_create(batch)
                    bar.update(len(batch))
                    batch = []
            Buyer.objects.bulk_create(batch)
            bar.update(len(batch))

    def _create_sources(self, county: County, server: ArcGISCountyServer, *, number: int = 1) -> list:
        """The county's layers as enabled sources; a second or later county's slugs say its number."""
        from properties.models import DataSource

        sources = []
        prefix = SOURCE_PREFIX if number == 1 else f"{SOURCE_PREFIX}county{number}-"
        for layer in county.layers:
            source, _ = DataSource.objects.update_or_create(
                slug=f"{prefix}{layer.dataset.replace('_', '-')}",
                defaults={
                    "name": f"Benchmark county{'' if number == 1 else f' {number}'}: {layer.name}",
                    "kind": DataSource.Kind.ARCGIS,
                    "dataset": layer.dataset,
                    "url": server.url(layer),
                    "field_mapping": MAPPINGS[layer.dataset],
                    "parcel_format": "orange_fl",
                    "county": "Orange",
                    "enabled": True,
                },
            )
            sources.append(source)
        return sources

    # --- ingest ---------------------------------------------------------------------------
    def _ingest_all(self, name: str, sources: list, counties: list[County]) -> dict:
        """Every source, one after the other; per dataset (summed over the counties) seconds and records."""
        from properties.services import datasource_ingest

        per_source: dict[str, dict] = {}
        total_records = sum(self.parcels + each.distress_records for each in counties)
        with self.step(name) as step, self.bar(total_records, name, " rec") as bar:
            for source in sources:
                began = time.perf_counter()
                run = datasource_ingest(source_id=source.pk, progress=bar.update)
                seconds = time.perf_counter() - began
                if run.status != "success":
                    raise RuntimeError(f"{name} of {source.slug} ended {run.status}: {run.message} {run.errors[:3]}")
                this = per_source.setdefault(source.dataset, dict.fromkeys(
                    ("seconds", "records", "inserted", "updated", "unchanged", "failed"), 0))  # fmt: skip
                this["seconds"] = round(this["seconds"] + seconds, 3)
                for key, value in (("records", run.processed), ("inserted", run.inserted), ("updated", run.updated),
                                   ("unchanged", run.unchanged), ("failed", run.failed)):  # fmt: skip
                    this[key] += value
                this["records_per_second"] = round(this["records"] / this["seconds"], 1) if this["seconds"] else 0.0
            records = sum(s["records"] for s in per_source.values())
            step.info = {"records": records, "sources": per_source}
        seconds = self.seconds(name)
        step.info["records_per_second"] = round(records / seconds, 1)
        parcels = per_source["parcels"]
        self.counts[f"{name}_records"] = records
        self.counts[f"{name}_records_per_second"] = step.info["records_per_second"]
        return {"seconds": seconds, "records": records, "records_per_second": parcels["records_per_second"],
                "parcels_seconds": parcels["seconds"]}  # fmt: skip

    def _reingest_figures(self, county: County) -> None:
        """Re-ingest against first ingest, apart for the layers without editor tracking (every record is read
        again: reingest_speedup) and those with it (only what was edited since is asked for)."""
        tracked = {layer.dataset for layer in county.layers if layer.edit_date is not None}
        first, again = (self.steps_info(name)["sources"] for name in ("ingest", "reingest"))
        for key, datasets in (("reingest_speedup", set(first) - tracked), ("reingest_tracked_speedup", tracked)):
            before = sum(first[d]["seconds"] for d in datasets)
            after = sum(again[d]["seconds"] for d in datasets)
            self.figures[key] = round(before / after, 2) if after else None
        self.figures["reingest_all_speedup"] = round(self.seconds("ingest") / self.seconds("reingest"), 2)
        self.counts["reingest_tracked_layers"] = sorted(tracked)

    def steps_info(self, name: str) -> dict:
        return next(s.info for s in self.steps if s.name == name)

    def _copy_baseline(self, first: dict, parcels_sources: list) -> None:
        """COPY the rows the parcels ingest wrote into fresh copies of their tables (same indexes)."""
        with self.step("copy_baseline") as step:
            timings, rows = {}, {}
            connection.ensure_connection()
            raw = connection.connection  # the psycopg connection, in autocommit mode like Django's
            for table in PARCEL_TABLES:
                ids = ",".join(str(int(source.pk)) for source in parcels_sources)
                where = f" WHERE source_id IN ({ids})" if table.endswith("propertysource") else ""
                buffer = io.BytesIO()
                with raw.cursor() as cursor:
                    with cursor.copy(f"COPY (SELECT * FROM {table}{where}) TO STDOUT") as copy:  # noqa: S608
                        for data in copy:
                            buffer.write(data)
                    copy_table = f"benchmark_copy_{table}"
                    cursor.execute(f"DROP TABLE IF EXISTS {copy_table}")
                    cursor.execute(f"CREATE TABLE {copy_table} (LIKE {table} INCLUDING ALL)")
                payload = buffer.getvalue()
                began = time.perf_counter()
                with raw.cursor() as cursor:
                    with cursor.copy(f"COPY {copy_table} FROM STDIN") as copy:
                        for start in range(0, len(payload), 1 << 20):
                            copy.write(payload[start : start + (1 << 20)])
                    rows[table] = cursor.rowcount
                timings[table] = time.perf_counter() - began
                with raw.cursor() as cursor:
                    cursor.execute(f"DROP TABLE {copy_table}")
            copy_seconds = sum(timings.values())
            parcels = rows["properties_property"]
            step.info = {
                "rows": rows,
                "copy_seconds": {k: round(v, 3) for k, v in timings.items()},
                "records_per_second": round(parcels / copy_seconds, 1),
            }
        self.counts["copy_records_per_second"] = parcels / copy_seconds
        self.counts["copy_property_only_records_per_second"] = round(parcels / timings["properties_property"], 1)
        self.counts["ingest_parcels_records_per_second"] = first["records_per_second"]
        self.figures["ingest_vs_copy_property_only"] = round(
            first["records_per_second"] / self.counts["copy_property_only_records_per_second"], 3
        )

    # --- score ----------------------------------------------------------------------------
    def _score(self) -> None:
        from dealfinder.ops.scoring import leads_score
        from leads.grid import map_grid_refresh
        from leads.models import Lead
        from leads.services import scoringprofile_get_active

        total = Lead.objects.count() or None
        for name in ("score", "rescore_unchanged"):
            with self.step(name) as step, self.bar(total or self.parcels, name, " leads") as bar:
                summary = leads_score(progress=bar.update)
                step.info = {"scored": summary.scored, "created": summary.created, "changed": summary.changed,
                             "history_written": summary.history_written, "tiers": summary.tiers}  # fmt: skip
        self.analyze()
        profile = scoringprofile_get_active()
        profile.assignment_fee += 1000  # every lead with a positive MAO changes: the rescore rewrites them all
        profile.save()
        with self.step("rescore") as step, self.bar(self.parcels, "rescore", " leads") as bar:
            summary = leads_score(progress=bar.update)
            step.info = {"scored": summary.scored, "changed": summary.changed,
                         "history_written": summary.history_written}  # fmt: skip
        with self.step("update_baseline") as step, connection.cursor() as cursor:
            cursor.execute(f"UPDATE {Lead._meta.db_table} SET updated_at = %s", [timezone.now()])  # noqa: S608
            step.info = {"rows": cursor.rowcount}
        # What follows scoring in the product (the nightly "map" step, `manage.py score`): the map index, which
        # the map step below reads.
        with self.step("map_index") as step:
            grid = map_grid_refresh()
            step.info = {"points": grid.points, "cells": grid.cells}
        self.figures["map_index_seconds"] = round(self.seconds("map_index"), 2)
        self.counts["leads"] = summary.scored
        self.counts["rescore_changed"] = summary.changed
        self.figures["rescore_vs_update"] = round(self.seconds("rescore") / self.seconds("update_baseline"), 2)
        self.figures["rescore_unchanged_vs_update"] = round(
            self.seconds("rescore_unchanged") / self.seconds("update_baseline"), 2
        )

    # --- comps ----------------------------------------------------------------------------
    def _owners(self) -> None:
        """The first night's owner resolution (the enrich step's, before scoring reads the portfolios): every
        parcel's owner resolved from nothing. The next night's enrich then costs what changed."""
        from properties.owner_services import owners_resolve

        with self.step("owners") as step:
            summary = owners_resolve()
            step.info = {"owners": summary.owners, "parcels_changed": summary.parcels_changed,
                         "unresolved": summary.unresolved}  # fmt: skip
        self.counts["owners"] = summary.owners

    def _comps(self) -> None:
        """Every lead's comps and ARV at once (what the nightly chain's "comps" step runs): comps_seconds."""
        from leads.comps_refresh import leads_comps_refresh

        with self.step("comps") as step:
            summary = leads_comps_refresh()
            step.info = {"leads": summary.leads, "changed": summary.changed, "with_arv": summary.with_arv}
        self.figures["comps_seconds"] = self.seconds("comps")
        self.counts["leads_with_arv"] = summary.with_arv

    # --- match ----------------------------------------------------------------------------
    def _match(self) -> None:
        from buyers.services import matches_refresh_all

        with self.step("match") as step, self.bar(self.buyers, "match", " buyers") as bar:
            done = [0]

            def progress(finished, total):
                bar.update(finished - done[0])
                done[0] = finished

            summary = matches_refresh_all(progress=progress)
            step.info = {k: getattr(summary, k) for k in ("buyers", "candidates", "kept", "created")}
        self.figures["match_seconds"] = self.seconds("match")
        self.counts["matches"] = summary.kept

    # --- pipeline -------------------------------------------------------------------------
    def _pipeline(self) -> None:
        """The next night's chain, eager, on the next day's clock: a real night is a new day, the first to stamp
        every record seen and snapshot every lead's score, not a second run on the day the county was loaded."""
        import time_machine  # a development requirement, as the benchmark is (the command checks for it)

        from dealfinder.celery import app as celery_app
        from dealfinder.ops.tasks import pipeline_run_inline

        eager = celery_app.conf.task_always_eager
        celery_app.conf.task_always_eager = True
        try:
            with self.step("pipeline") as step, time_machine.travel(timezone.now() + NIGHT, tick=True):
                try:
                    pipeline_run_inline(job="nightly", trigger="manual")
                finally:
                    try:
                        step.info = pipeline_info()
                    except Exception:  # the connection died with the interrupted step: read on a new one
                        connection.close()
                        step.info = pipeline_info()
        finally:
            celery_app.conf.task_always_eager = eager
        self.figures["pipeline_seconds"] = self.seconds("pipeline")
        self.counts["pipeline_status"] = step.info["status"]

    # --- fan-out --------------------------------------------------------------------------
    def _fanout(self) -> None:
        """fanout_speedup: the nightly chain over two small counties through real Celery worker processes, one
        against two, each in a fresh scratch database (fanout.py); the results must be identical."""
        from django.conf import settings

        if not settings.CELERY_BROKER_URL:
            self.not_measured["fanout_speedup"] = "needs Redis for the Celery workers: CELERY_BROKER_URL is unset"
            return
        parcels = min(self.parcels, self.fanout_parcels)
        scratch = f"{connection.settings_dict['NAME']}_fanout"[:63]
        runs = {}
        with self.step("fanout") as step:
            try:
                for workers in (1, 2):
                    runs[workers] = nightly_through_workers(
                        workers=workers, parcels=parcels, buyer_count=FANOUT_BUYERS, scratch_name=scratch
                    )
            except FanoutError as exc:
                self.not_measured["fanout_speedup"] = str(exc)[:1000]
                step.info = {"error": str(exc)[:1000]}
                return
            identical = runs[1].results == runs[2].results
            step.info = {
                "counties": 2,
                "parcels_per_county": parcels,
                "buyers": FANOUT_BUYERS,
                "one_worker_seconds": runs[1].seconds,
                "two_workers_seconds": runs[2].seconds,
                "identical_results": identical,
                "ingest_concurrency": {"1_worker": runs[1].ingest_concurrency, "2_workers": runs[2].ingest_concurrency},
                "results": runs[1].counts(),
                "steps_seconds": {
                    f"{w}_worker{'s' if w > 1 else ''}": {name: s["seconds"] for name, s in run.steps.items()}
                    for w, run in runs.items()
                },
            }
        if not identical:
            self.not_measured["fanout_speedup"] = "two workers gave other results than one (see steps.fanout)"
            return
        self.figures["fanout_speedup"] = round(runs[1].seconds / runs[2].seconds, 2)

    # --- map and API ----------------------------------------------------------------------
    def _client(self) -> Client:
        from django.contrib.auth import get_user_model

        user, _ = get_user_model().objects.update_or_create(
            username=f"{BENCHMARK_TAG}-user", defaults={"is_staff": True, "is_superuser": True, "is_active": True}
        )
        client = Client()
        client.force_login(user)
        return client

    def _map(self) -> None:
        client = self._client()
        url = "/map/leads.geojson"
        samples: dict[str, list[tuple[float, int, int]]] = {"county": [], "city": []}
        with heap_frozen(), self.step("map") as step, self.bar(2 * self.map_requests, "map", " req") as bar:
            client.get(url, {"in_bbox": "-81.40,28.52,-81.38,28.54", "zoom": 14})  # warm-up, not counted
            for kind in samples:
                for bbox, zoom in viewports(kind, self.map_requests):
                    began = time.perf_counter()
                    response = client.get(url, {"in_bbox": ",".join(map(str, bbox)), "zoom": zoom})
                    elapsed = (time.perf_counter() - began) * 1000
                    if response.status_code != 200:
                        raise RuntimeError(f"map answered {response.status_code}: {response.content[:200]!r}")
                    samples[kind].append((elapsed, len(response.content), response.json()["count"]))
                    bar.update()
            step.info = {
                kind: {
                    "p95_ms": round(p95([s[0] for s in rows]), 1),
                    "median_ms": round(statistics.median(s[0] for s in rows), 1),
                    "max_kb": round(max(s[1] for s in rows) / 1024, 1),
                    "max_leads": max(s[2] for s in rows),
                }
                for kind, rows in samples.items()
            }
        everything = samples["county"] + samples["city"]
        self.figures["map_p95_ms"] = round(p95([s[0] for s in everything]), 1)
        self.figures["map_max_kb"] = round(max(s[1] for s in everything) / 1024, 1)

    def _map_filters(self) -> None:
        """Every filter the map offers (load_setup.map_filter_variants), each over county and city viewports:
        map_filter_p95_ms over all of them, and each filter's own p95."""
        from .load_setup import map_filter_variants

        client = self._client()
        url = "/map/leads.geojson"
        views = viewports("county", 3) + viewports("city", 3)
        variants = map_filter_variants()
        latencies: dict[str, list[float]] = {}
        with (
            heap_frozen(),
            self.step("map_filters") as step,
            self.bar(len(variants) * len(views), "map filters", " req") as bar,
        ):
            for name, params in variants:
                for bbox, zoom in views:
                    query = [("in_bbox", ",".join(map(str, bbox))), ("zoom", str(zoom)), *params]
                    began = time.perf_counter()
                    response = client.get(url, query)
                    latencies.setdefault(name, []).append((time.perf_counter() - began) * 1000)
                    if response.status_code != 200:
                        raise RuntimeError(f"map ({name}) answered {response.status_code}: {response.content[:200]!r}")
                    bar.update()
            step.info = {"p95_ms": {name: round(p95(values), 1) for name, values in latencies.items()}}
        self.figures["map_filter_p95_ms"] = round(p95([v for values in latencies.values() for v in values]), 1)

    def _api(self) -> None:
        client = self._client()
        queries, latencies = [], []
        variants = [{}, {"ordering": "-score"}, {"tier": "A"}, {"ordering": "-updated_at"}]
        with heap_frozen(), self.step("api") as step, self.bar(self.api_requests, "api", " req") as bar:
            client.get("/api/v1/leads/")  # warm-up, not counted
            next_url: str | None = None
            for n in range(self.api_requests):
                params = variants[n % len(variants)]
                with CaptureQueriesContext(connection) as captured:
                    began = time.perf_counter()
                    response = client.get(next_url) if next_url else client.get("/api/v1/leads/", params)
                    latencies.append((time.perf_counter() - began) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"API answered {response.status_code}: {response.content[:200]!r}")
                queries.append(len(captured.captured_queries))
                body = response.json()
                next_url = body.get("next") if n % 3 != 2 else None  # follow a cursor twice, then a new query
                bar.update()
            step.info = {
                "requests": len(latencies),
                "queries": sorted(set(queries)),
                "median_ms": round(statistics.median(latencies), 1),
                "page_size": len(body["results"]),
            }
        self.figures["api_p95_ms"] = round(p95(latencies), 1)
        self.figures["api_queries"] = max(queries)
        self.figures["api_queries_constant"] = min(queries) == max(queries)

    def _final_counts(self) -> None:
        from buyers.models import Buyer, PropertyMatch
        from leads.models import Lead
        from properties import models as m

        self.counts.update(
            {
                "properties": m.Property.objects.count(),
                "valuations": m.Valuation.objects.count(),
                "tax_sales": m.TaxSale.objects.count(),
                "foreclosures": m.Foreclosure.objects.count(),
                "code_violations": m.CodeViolation.objects.count(),
                "listings": m.Listing.objects.count(),
                "sales": m.Sale.objects.count(),
                "sales_arms_length": m.Sale.objects.filter(is_arms_length=True).count(),
                "price_changes": m.PriceChange.objects.count(),
                "leads": Lead.objects.count(),
                "leads_by_tier": {
                    row["tier"]: row["n"] for row in Lead.objects.order_by().values("tier").annotate(n=Count("id"))
                },
                "buyers": Buyer.objects.count(),
                "matches": PropertyMatch.objects.count(),
            }
        )
