"""`manage.py benchmark` at N = 2 x 5,000 (two counties) as a smoke test: counts and keys only, never timings."""

import json

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from dealfinder.ops.benchmark.county import County
from dealfinder.ops.benchmark.report import TARGETS
from dealfinder.ops.benchmark.scratch import BenchmarkRefused, scratch_database
from tests.factories import BuyerFactory, PropertyFactory

PARCELS, COUNTIES, BUYERS = 5_000, 2, 20  # parcels per county
FANOUT_PARCELS = 40


@pytest.mark.postgis
@pytest.mark.django_db(transaction=True)
def test_benchmark_small_county_in_place(tmp_path):
    out = tmp_path / "benchmark.json"
    call_command(
        "benchmark",
        "--parcels", str(PARCELS), "--counties", str(COUNTIES), "--buyers", str(BUYERS), "--in-place",
        "--json", str(out), "--fanout-parcels", str(FANOUT_PARCELS), "--map-requests", "3", "--api-requests", "4",
        "--pool-requests", "4", "--load-clients", "2", "--load-seconds", "2", verbosity=0,
    )  # fmt: skip
    result = json.loads(out.read_text())
    county = County(PARCELS)
    county.generate()
    distress = county.distress_records  # the same in the second county (only its parcels' identities differ)
    parcels = COUNTIES * PARCELS

    assert result["complete"] is True
    assert result["parameters"]["parcels"] == PARCELS and result["parameters"]["buyers"] == BUYERS
    assert result["parameters"]["counties"] == COUNTIES
    measured = set(TARGETS) - {"fanout_speedup"}  # the fan-out needs Redis: checked at the end
    assert measured <= set(result) and measured <= set(result["figures"])
    counts = result["counts"]
    assert counts["ingest_records"] == COUNTIES * (PARCELS + distress)
    # The layers with editor tracking (foreclosures, violations, listings) are asked only for what was edited since
    # the first ingest (nothing); parcels and tax sales, without tracking, are read again in full.
    assert counts["reingest_records"] == COUNTIES * (PARCELS + len(county.members["tax_sales"]))
    assert result["steps"]["ingest"]["sources"]["parcels"]["inserted"] == parcels
    assert result["steps"]["reingest"]["sources"]["parcels"]["unchanged"] == parcels
    assert result["steps"]["copy_baseline"]["rows"] == dict.fromkeys(
        ["properties_property", "properties_valuation", "properties_propertysource"], parcels
    )
    assert counts["properties"] == parcels and counts["valuations"] == parcels and counts["leads"] == parcels
    assert counts["tax_sales"] == COUNTIES * len(county.members["tax_sales"])
    assert counts["foreclosures"] == COUNTIES * len(county.members["foreclosures"])
    assert counts["code_violations"] == COUNTIES * len(county.members["code_violations"])
    assert counts["listings"] == COUNTIES * len(county.members["listings"])
    county.day = 2  # the next night's deeds are in the counts too
    assert counts["sales"] == COUNTIES * (len(county.members["sales"]) + county.new_deeds)
    assert county.new_deeds >= 1 and counts["sales_arms_length"] > 0
    assert counts["sales_arms_length"] < counts["sales"]
    assert result["steps"]["comps"]["leads"] == parcels and counts["leads_with_arv"] > 0
    # The next night searches again only the comps those deeds and the day's aging can change.
    night_comps = result["steps"]["pipeline"]["steps"]["comps"]["counts"]
    assert night_comps["leads"] == parcels and 0 < night_comps["searched"] < parcels // 2
    # The first night's owner resolution, before scoring; the next night's enrich then finds nothing to move.
    assert result["steps"]["owners"]["parcels_changed"] == parcels and 0 < counts["owners"] <= parcels
    assert result["steps"]["pipeline"]["steps"]["enrich"]["counts"]["owners"]["parcels_changed"] < parcels // 10
    # The next night runs on the next day's clock: the day's first scoring snapshots every lead.
    night_score = result["steps"]["pipeline"]["steps"]["score"]["counts"]
    assert night_score["history_written"] == night_score["scored"] > 0
    assert counts["buyers"] == BUYERS and counts["matches"] > 0
    assert result["steps"]["update_baseline"]["rows"] == parcels
    assert result["steps"]["map_index"]["points"] == parcels and result["figures"]["map_index_seconds"] >= 0
    assert counts["pipeline_status"] == "success"
    assert set(result["steps"]["pipeline"]["steps"]) == {
        "ingest", "enrich", "score", "comps", "map", "match",
        "discover_buyers", "ghl_reconcile", "ghl_push", "mail", "alerts", "quality", "dashboard",
    }  # fmt: skip
    assert result["steps"]["map"]["county"]["max_leads"] > 0 and result["steps"]["api"]["requests"] == 4
    assert result["machine"]["cores"] and result["machine"]["postgresql"].startswith("PostgreSQL")
    # Issue 24: the lead list API through gunicorn without and with the connection pool, 4 requests each.
    assert result["api_nopool_p95_ms"] > 0 and result["api_pool_p95_ms"] > 0
    pool = result["steps"]["api_pool"]
    assert (pool["nopool"]["requests"], pool["pool"]["requests"], pool["server"]["pool_max"]) == (4, 4, 4)
    # The load test (issue 26): its keys, nothing failed idle or while the next night's chain ran.
    assert result["load_errors"] == 0 and result["load_during_pipeline_errors"] == 0
    assert result["load_rps"] > 0 and result["dashboard_p95_ms"] > 0 and result["admin_p95_ms"] > 0
    assert result["load_during_pipeline_p95_ms"] > 0 and result["load"]["during_pipeline"]["pipeline"]["error"] is None
    assert (result["load"]["single"]["clients"], result["load"]["crowd"]["clients"]) == (1, 2)
    if not settings.CELERY_BROKER_URL:  # fanout_speedup needs real Celery workers, hence Redis
        reason = "needs Redis for the Celery workers: CELERY_BROKER_URL is unset"
        assert result["not_measured"] == {"fanout_speedup": reason} and result["met"]["fanout_speedup"] is None
    else:
        assert result["not_measured"] == {} and result["met"]["fanout_speedup"] is not None
        # fanout_speedup (issue 18 item 6): two counties through one real worker process, then two; the same night.
        fanout = result["steps"]["fanout"]
        assert (fanout["counties"], fanout["parcels_per_county"], fanout["identical_results"]) == (
            2,
            FANOUT_PARCELS,
            True,
        )
        assert (
            fanout["results"]["properties"] == 2 * FANOUT_PARCELS and fanout["results"]["leads"] == 2 * FANOUT_PARCELS
        )
        assert result["fanout_speedup"] > 0


@pytest.mark.postgis
@pytest.mark.django_db
def test_benchmark_refuses_a_database_with_real_data(tmp_path):
    PropertyFactory()
    BuyerFactory()
    with pytest.raises(CommandError, match=r"holds real data \(1 properties, 1 buyers\)"):
        call_command("benchmark", "--parcels", "100", "--buyers", "1", "--in-place", verbosity=0)


@pytest.mark.postgis
@pytest.mark.django_db
def test_scratch_database_never_touches_a_database_it_did_not_create():
    with pytest.raises(BenchmarkRefused, match="not a benchmark scratch database"), scratch_database("postgres"):
        pass  # pragma: no cover
    own_name = settings.DATABASES["default"]["NAME"]
    with pytest.raises(BenchmarkRefused, match="not a usable scratch database name"), scratch_database(own_name):
        pass  # pragma: no cover


@pytest.mark.django_db
def test_benchmark_is_postgis_only():
    if settings.IS_POSTGIS:
        pytest.skip("checks the refusal on SpatiaLite")
    with pytest.raises(CommandError, match="PostgreSQL/PostGIS only"):
        call_command("benchmark", "--parcels", "100", "--buyers", "1", verbosity=0)


def test_county_is_deterministic_and_its_distress_overlaps():
    one, two = County(3000), County(3000)
    one.generate()
    two.generate()
    assert one.members == two.members
    assert one.parcel(17) == two.parcel(17)
    parcel_ids = {one.parcel(n)["attributes"]["PARCEL"] for n in range(1, 3001)}
    assert len(parcel_ids) == 3000
    stacked = set(one.members["tax_sales"]) & set(one.members["foreclosures"])
    assert stacked  # distress comes stacked on the same parcels, as in a real county
    two.day = 2
    changed = [n for n in range(1, 3001) if one.parcel(n) != two.parcel(n)]
    assert 0 < len(changed) < 150
    assert all(one.parcel(n)["attributes"]["PARCEL"] == two.parcel(n)["attributes"]["PARCEL"] for n in changed)


def test_latencies_are_measured_with_the_runs_heap_frozen_and_it_thaws_afterwards():
    import gc

    from dealfinder.ops.benchmark.probes import heap_frozen

    held = [object() for _ in range(1000)]
    with pytest.raises(RuntimeError, match="a step failed"), heap_frozen():
        assert gc.get_freeze_count() >= len(held)
        raise RuntimeError("a step failed")
    assert gc.get_freeze_count() == 0
