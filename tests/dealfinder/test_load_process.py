"""The load process's own loop, in this process, against the real app on pytest-django's live server.

(The full path, a child process against gunicorn with production settings, is test_load_http; this one runs
on both databases and checks the phase protocol and the clean ending when the command stream breaks.)
"""

import threading
import time

import pytest

from dealfinder.ops.api_tokens import api_token_create
from dealfinder.ops.benchmark import load_process
from dealfinder.ops.benchmark.load_mix import MixSpec
from dealfinder.ops.roles import ADMIN
from tests.factories import BrokerFactory, LeadFactory

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "correct horse battery staple"  # UserFactory's


class Events(load_process.Output):
    def __init__(self):
        super().__init__()
        self.events = []

    def emit(self, event, **data):
        self.events.append({"event": event, **data})


@pytest.fixture
def plan(live_server):
    LeadFactory.create_batch(3)
    user = BrokerFactory(username="load-broker-001", role=ADMIN)
    _, token = api_token_create(user=user)
    mix = MixSpec(weights={"dashboard": 1, "api": 1, "admin_leads": 1}, search_terms={"admin_leads": ["MAIN"]})
    return {
        "base_url": live_server.url,
        "brokers": [{"username": user.username, "password": PASSWORD, "token": token}],
        "mix": mix.to_json(),
        "think_seconds": 0.05,
    }


def paced(*lines, pause=0.4):
    for line in lines:
        time.sleep(pause)
        yield line


def test_phases_are_measured_apart_and_the_result_comes_at_stop(plan):
    out = Events()

    load_process.run(plan, paced("phase idle", "phase during_pipeline", "stop"), out)

    ready, result = out.events[0], out.events[-1]
    assert ready["event"] == "ready" and ready["logins"]["count"] == 1
    assert list(ready["discovered"]) == ["admin_leads"] and ready["discovered"]["admin_leads"] > 0
    assert result["event"] == "result" and result["clients"] == 1
    assert set(result["phases"]) == {"idle", "during_pipeline"}
    for phase in result["phases"].values():
        assert 0.3 < phase["seconds"] < 2
        assert phase["kinds"] and all(kind["errors"] == {} for kind in phase["kinds"].values())
    assert result["error_samples"] == [] and result["memory"] is None
    assert result["generator"]["wall_seconds"] > 0.7 and result["generator"]["peak_rss_mb"] > 10


def test_a_broken_command_stream_stops_the_brokers_instead_of_hanging(plan):
    def commands():
        yield "phase idle"
        time.sleep(0.3)
        raise OSError("stdin is gone")

    failure = []

    def target():
        try:
            load_process.run(plan, commands(), Events())
        except OSError as exc:
            failure.append(exc)

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(timeout=20)

    assert not worker.is_alive(), "run() hung with its brokers still loading"
    assert [str(e) for e in failure] == ["stdin is gone"]


def test_a_refused_login_is_a_load_failure(plan):
    plan["brokers"][0]["password"] = "wrong"
    with pytest.raises(load_process.LoadFailure, match=r"load-broker-001: login answered 200"):
        load_process.run(plan, iter(["phase idle", "stop"]), Events())
