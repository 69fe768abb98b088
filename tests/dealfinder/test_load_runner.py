"""Driving the load process: plans, clear errors when it cannot run, and no child left behind (no database)."""

import socket

import pytest

from dealfinder.ops.benchmark.load_mix import MixSpec
from dealfinder.ops.benchmark.load_runner import BrokerLogin, LoadError, LoadPlan, LoadProcess, LoadResult, load_run

BROKERS = [BrokerLogin(f"load-broker-00{n}", "pw", f"dfapi_{n}") for n in (1, 2, 3)]


def plan(base_url: str, **kwargs) -> LoadPlan:
    return LoadPlan(base_url=base_url, brokers=BROKERS, mix=MixSpec(weights={"dashboard": 1}), **kwargs)


@pytest.fixture
def silent_port():
    """A port that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


@pytest.fixture
def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends: nobody listens there


def test_a_server_that_is_not_there_is_a_clear_error(closed_port):
    with pytest.raises(LoadError, match=r"^the load process failed: ConnectError: "):
        load_run(plan(f"http://127.0.0.1:{closed_port}").with_clients(1), seconds=1)


def test_a_load_process_that_never_gets_ready_is_ended_not_left_behind(silent_port):
    load = LoadProcess(plan(f"http://127.0.0.1:{silent_port}"), ready_timeout=2)

    with pytest.raises(LoadError, match=r"the load process sent no 'ready' within 2 s"):
        load.__enter__()

    assert load.process.poll() is not None  # killed
    assert load.stderr.closed


def test_load_run_takes_either_seconds_or_a_callable():
    with pytest.raises(ValueError, match="either seconds or during"):
        load_run(plan("http://127.0.0.1:1"), seconds=1, during=lambda: None)
    with pytest.raises(ValueError, match="either seconds or during"):
        load_run(plan("http://127.0.0.1:1"))


def test_a_plan_for_fewer_clients_takes_the_first_brokers_and_never_more_than_created():
    full = plan("http://127.0.0.1:8000", web_master_pid=42)
    two = full.with_clients(2, sweep=True)
    assert [b.username for b in two.brokers] == ["load-broker-001", "load-broker-002"] and two.sweep
    assert full.sweep is False and len(full.brokers) == 3
    for clients in (0, 4):
        with pytest.raises(ValueError, match=r"clients must be 1\.\.3"):
            full.with_clients(clients)
    data = two.to_json()
    assert data["brokers"][0] == {"username": "load-broker-001", "password": "pw", "token": "dfapi_1"}
    assert (data["web_master_pid"], data["think_seconds"], data["mix"]["weights"]) == (42, 0.0, {"dashboard": 1})


def test_a_result_from_the_load_process_reads_back():
    histogram = {"buckets": {"400": 3}, "count": 3, "total_ms": 150.0, "min_ms": 40.0, "max_ms": 60.0}
    kinds = {"dashboard": {"latency": histogram, "errors": {"500": 1}}}
    data = {
        "clients": 2,
        "phases": {"idle": {"seconds": 1.5, "kinds": kinds, "variants": {"dashboard|default": kinds["dashboard"]}}},
        "memory": None,
        "generator": {"cpu_seconds": 0.1},
        "logins": {"count": 2},
        "discovered": {},
        "error_samples": [{"outcome": "500"}],
    }

    result = LoadResult.from_json(data)

    idle = result.phases["idle"]
    assert (idle.rps, idle.total.error_count, idle.group("dash").latency.count) == (2.0, 1, 3)
    assert idle.group("admin_").latency.count == 0 and result.work is None
