"""dealfinder.common.offload: a helper process that answers calls, reports its errors, is ended by its owner,
ends by itself when its owner dies, and can be started where multiprocessing cannot (a daemonic process, as in a
Celery prefork worker)."""

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dealfinder.common.offload import Offload, OffloadError

TARGETS = "tests.dealfinder.offload_targets"
ROOT = Path(__file__).resolve().parents[2]


def gone(pid: int, within: float = 20.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except FileNotFoundError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.1)
    return False


def test_calls_are_answered_in_the_helper():
    with Offload(f"{TARGETS}:echo", {"setup": 1}) as helper:
        helper.send([1, 2], "x")
        setup, args, pid = helper.receive()
        helper.send()
        assert helper.receive()[1] == ()
    assert (setup, args) == ({"setup": 1}, ([1, 2], "x"))
    assert pid == helper.pid != os.getpid()
    assert helper._process.returncode == 0  # it ended when its input closed


def test_an_error_in_the_helper_is_raised_here_with_its_traceback():
    with Offload(f"{TARGETS}:failing", None) as helper:
        helper.send([1, 2, 3])
        with pytest.raises(OffloadError, match="ValueError: cannot derive 3 records"):
            helper.receive()


def test_one_call_at_a_time():
    with Offload(f"{TARGETS}:echo", None) as helper:
        with pytest.raises(RuntimeError):
            helper.receive()
        helper.send()
        with pytest.raises(RuntimeError):
            helper.send()
        helper.receive()


def test_leaving_early_kills_a_busy_helper():
    with pytest.raises(KeyError), Offload(f"{TARGETS}:sleeping", None) as helper:
        helper.send(60)
        raise KeyError("the caller failed while the helper worked")
    assert helper._process.returncode == -signal.SIGKILL


def test_a_helper_ends_when_its_owner_is_killed():
    owner = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-c",
            (
                "import sys, time\n"
                "from dealfinder.common.offload import Offload\n"
                f"helper = Offload('{TARGETS}:echo', None)\n"
                "helper.send(); helper.receive()\n"
                "print(helper.pid, flush=True)\n"
                "time.sleep(120)\n"
            ),
        ],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        text=True,
    )
    try:
        pid = int(owner.stdout.readline())
        owner.kill()
        owner.wait()
        assert gone(pid)
    finally:
        owner.kill()
        owner.wait()


def _in_daemon(results):
    try:
        multiprocessing.get_context("spawn").Process(target=print).start()
    except AssertionError as exc:
        results.put(str(exc))
    with Offload(f"{TARGETS}:echo", "daemon") as helper:
        helper.send(7)
        results.put(helper.receive()[:2])


def test_a_daemonic_process_can_start_a_helper():
    """A Celery prefork worker runs tasks in daemonic processes, which multiprocessing will not let have
    children; a subprocess has no such rule. (spawn: this test process holds a database connection.)"""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    daemon = context.Process(target=_in_daemon, args=(results,), daemon=True)
    daemon.start()
    try:
        assert results.get(timeout=60) == "daemonic processes are not allowed to have children"
        assert results.get(timeout=60) == ("daemon", (7,))
    finally:
        daemon.join(timeout=10)
        daemon.kill()
    assert daemon.exitcode == 0


def _in_pool_process():
    refused = ""
    try:
        multiprocessing.get_context("spawn").Process(target=print).start()
    except AssertionError as exc:
        refused = str(exc)
    with Offload(f"{TARGETS}:echo", "prefork") as helper:
        helper.send(8)
        return refused, helper.receive()[:2]


def test_a_celery_prefork_pool_process_can_start_a_helper():
    """What a Celery worker runs tasks in by default (docker-compose's workers): billiard's pool processes."""
    from billiard.pool import Pool
    from django.db import connections

    connections.close_all()  # the pool forks this process
    pool = Pool(1)
    try:
        refused, answer = pool.apply(_in_pool_process)
    finally:
        pool.terminate()
        pool.join()
    assert refused == "daemonic processes are not allowed to have children"
    assert answer == ("prefork", (8,))


def test_a_helper_that_dies_is_an_error_here():
    with Offload(f"{TARGETS}:dying", None) as helper:
        helper.send()
        with pytest.raises(OffloadError, match=r"^the helper process ended \(exit status 3\)$"):
            helper.receive()


def test_ready_says_when_the_helper_has_booted_without_waiting():
    with Offload(f"{TARGETS}:echo", None) as helper:
        began = time.monotonic()
        first = helper.ready()
        assert time.monotonic() - began < 0.5  # it did not wait for the helper's start (a second or more)
        deadline = time.monotonic() + 60
        while not helper.ready() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (first, helper.ready()) == (False, True)
        helper.send(1)
        assert helper.receive()[1] == (1,)
