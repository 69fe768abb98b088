"""Issue 18 item 6: the nightly chain over two counties through real Celery worker processes (`celery worker
--pool solo`, on the real Redis) gives exactly the same properties, lead scores and tiers, and matches with two
worker processes as with one. Each run has its own fresh scratch database (dealfinder/ops/benchmark/fanout.py).

Worker processes and the test share a PostgreSQL server; SpatiaLite's test database lives in this process's
memory, so this runs on PostGIS only, like the other real-worker tests.
"""

import pytest
from django.db import connection

from dealfinder.ops.benchmark.fanout import nightly_through_workers

pytestmark = [pytest.mark.worker, pytest.mark.postgis, pytest.mark.django_db(transaction=True)]

PARCELS = 50  # per county


def test_two_worker_processes_give_the_same_night_as_one(settings):
    if not settings.CELERY_BROKER_URL:
        pytest.skip('needs Redis: CELERY_BROKER_URL is unset (eval "$(bash scripts/services.sh start)")')
    scratch = f"{connection.settings_dict['NAME']}_fanout_test"

    one = nightly_through_workers(workers=1, parcels=PARCELS, buyer_count=10, scratch_name=scratch)
    two = nightly_through_workers(workers=2, parcels=PARCELS, buyer_count=10, scratch_name=scratch)

    assert (one.status, two.status) == ("success", "success")
    ingest = two.steps["ingest"]["counts"]
    layers = ("parcels", "tax-sales", "foreclosures", "code-violations", "listings", "sales")
    assert (ingest["sources"], ingest["failed_sources"]) == (2 * len(layers), 0)
    assert sorted(ingest["by_source"]) == sorted(f"benchmark-county{n}-{layer}" for n in (1, 2) for layer in layers)
    assert one.counts()["properties"] == 2 * PARCELS
    assert one.counts()["leads"] > 0 and one.counts()["matches"] > 0
    assert two.results["properties"] == one.results["properties"]
    assert two.results["leads"] == one.results["leads"]
    assert two.results["matches"] == one.results["matches"]
    print(f"nightly over two counties of {PARCELS}: {one.seconds}s with one worker, {two.seconds}s with two")
