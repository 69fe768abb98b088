"""A process killed in the middle of an ingest or a pipeline run (SIGKILL: no cleanup of any kind) must not leave
its run "running" forever nor block the next run for long (issue 16, item 14), on PostGIS and SpatiaLite alike.

The runs beat every RUN_HEARTBEAT_SECONDS from the process doing the work; here 0.2 s. RUN_STALE_AFTER_SECONDS (180 s
by default) is read by the process that sweeps: the next run started at once is given 10 minutes (so the dead run,
which beat a moment ago, still counts as alive whatever the machine's load), the one after that 2 s. The fake
ArcGIS layer holds page 2 until the test has killed the process, so the kill lands mid-run, after page 1 landed.
"""

import signal
import threading
import time

import pytest

from tests.factories import DataSourceFactory
from tests.fakes.arcgis import FakeArcGISLayer, point_features
from tests.faults.conftest import manage, manage_env

pytestmark = pytest.mark.django_db(transaction=True)

STALE_AFTER = 2.0
BEATS = {"RUN_HEARTBEAT_SECONDS": "0.2", "RUN_STALE_AFTER_SECONDS": str(STALE_AFTER)}
PATIENT = {"RUN_HEARTBEAT_SECONDS": "0.2", "RUN_STALE_AFTER_SECONDS": "600"}
PAGE = 5
DEAD = "the process running it was killed or lost; marked failed"


class HangingLayer(FakeArcGISLayer):
    """Answers page 1, then holds page 2 until `release` is set."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.asked_for_page_2 = threading.Event()
        self.release = threading.Event()

    def _failure(self, number, body):
        if number == 2 and not self.release.is_set():
            self.asked_for_page_2.set()
            self.release.wait(30)
        return super()._failure(number, body)


@pytest.fixture
def layer(httpserver):
    hanging = HangingLayer(httpserver, point_features(3 * PAGE), max_record_count=PAGE)
    yield hanging
    hanging.release.set()


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def kill_mid_run(process, layer, outside_db, table):
    """Wait until the process is inside page 2 and its run has beaten at least once more, then SIGKILL it."""
    wait_for(lambda: layer.asked_for_page_2.is_set() or process.poll() is not None)
    assert process.poll() is None, process.communicate()
    first = outside_db.query(f"SELECT heartbeat_at FROM {table} WHERE status = 'running'")  # noqa: S608
    wait_for(lambda: outside_db.query(f"SELECT heartbeat_at FROM {table} WHERE status = 'running'") != first)  # noqa: S608
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    layer.release.set()


def finish(process) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


def test_a_killed_ingest_is_failed_with_why_and_the_next_one_runs(layer, outside_db):
    DataSourceFactory(
        slug="hanging", url=layer.url, field_mapping={"parcel_id": "PARCEL"}, page_size=PAGE, enabled=True
    )
    env = manage_env(outside_db.share(), **BEATS)
    runs = "SELECT id, status, message FROM properties_ingestionrun ORDER BY id"

    killed = manage("ingest", "hanging", env=env)
    kill_mid_run(killed, layer, outside_db, "properties_ingestionrun")
    ((killed_run, status, _),) = outside_db.query(runs)
    assert status == "running"
    assert outside_db.query("SELECT COUNT(*) FROM properties_property") == [(PAGE,)]  # page 1 landed

    code, out, err = finish(manage("ingest", "hanging", env={**env, **PATIENT}))  # the dead run beat just now
    if outside_db.postgis:
        # The advisory lock died with the killed session: the run is closed as interrupted, the ingest runs.
        assert code == 0, err
        assert outside_db.query(runs)[0] == (
            killed_run,
            "failed",
            "interrupted: the database connection was lost or the worker stopped before the run ended",
        )
    else:
        # No lock but the heartbeat: a run that beat less than RUN_STALE_AFTER_SECONDS ago may be alive.
        assert code == 1
        assert f"another ingest of this source is still running (run #{killed_run})" in out
        time.sleep(STALE_AFTER + 0.5)
        code, out, err = finish(manage("ingest", "hanging", env=env))
        assert code == 0, err
        (_, status, message), *_ = outside_db.query(runs)
        assert (status, message.startswith("no heartbeat since "), message.endswith(DEAD)) == ("failed", True, True)
    assert outside_db.query(runs)[-1][1:] == ("success", "")
    assert outside_db.query("SELECT COUNT(*) FROM properties_property") == [(3 * PAGE,)]
    assert outside_db.query("SELECT COUNT(*) FROM properties_ingestionrun WHERE status = 'running'") == [(0,)]


def test_a_killed_pipeline_run_stops_blocking_within_the_stale_time(layer, outside_db):
    DataSourceFactory(
        slug="hanging", url=layer.url, field_mapping={"parcel_id": "PARCEL"}, page_size=PAGE, enabled=True
    )
    env = manage_env(outside_db.share(), **BEATS)
    pipeline_runs = "SELECT id, status, message FROM dealfinder_pipelinerun ORDER BY id"

    killed = manage("run_pipeline", env=env)
    kill_mid_run(killed, layer, outside_db, "dealfinder_pipelinerun")
    ((killed_run, status, _),) = outside_db.query(pipeline_runs)
    assert status == "running"

    code, _, err = finish(manage("run_pipeline", env={**env, **PATIENT}))  # it beat just now: it may be alive
    assert code == 2, err
    assert f"nightly run #{killed_run} is still running" in err

    time.sleep(STALE_AFTER + 0.5)
    code, _, err = finish(manage("run_pipeline", env=env))

    assert code == 0, err
    (_, status, error), skipped, (_, last_status, _) = outside_db.query(pipeline_runs)
    assert (status, error.startswith("no heartbeat since "), error.endswith(DEAD)) == ("failed", True, True)
    assert skipped[1] == "skipped"
    assert last_status == "success"
    steps = 'SELECT name, status FROM dealfinder_pipelinestep WHERE run_id = %s ORDER BY "order"'
    assert outside_db.query(steps, [killed_run])[:2] == [("ingest", "failed"), ("enrich", "skipped")]
    # The killed run's ingest was failed by the same sweep, and the new run's ingest landed every record.
    ingest_runs = outside_db.query("SELECT status, message FROM properties_ingestionrun ORDER BY id")
    assert [status for status, _ in ingest_runs] == ["failed", "success"]
    assert ingest_runs[0][1].endswith(DEAD) or ingest_runs[0][1].startswith("interrupted")
    assert outside_db.query("SELECT COUNT(*) FROM properties_property") == [(3 * PAGE,)]
