"""The web workers' memory sampler: children of a process, their VmRSS, and series that stay bounded."""

import os
import subprocess
import sys
import time

import pytest

from dealfinder.ops.benchmark.load_memory import BoundedSeries, MemorySampler, rss_kb, worker_pids

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def test_a_short_series_keeps_every_sample():
    series = BoundedSeries(max_points=10)
    for t in range(7):
        series.add(float(t), 100 + t)
    assert series.points == [(float(t), 100 + t) for t in range(7)] and series.step == 1


def test_a_long_series_stays_bounded_spans_the_run_and_keeps_every_peak():
    series = BoundedSeries(max_points=120)
    values = [100 + (t % 97) / 10 for t in range(1800)]  # half an hour of one-second samples
    values[1234] = 900  # one spike

    for t, value in enumerate(values):
        series.add(float(t), value)

    assert len(series.points) <= 120 and series.step == 16
    assert series.points[0][0] == 0.0 and series.points[-1][0] >= 1800 - series.step
    assert max(v for _, v in series.points) == 900
    # Each point is the largest of the samples it stands for.
    for i, (t, value) in enumerate(series.points):
        end = series.points[i + 1][0] if i + 1 < len(series.points) else len(values)
        assert value == max(values[int(t) : int(end)])


def test_worker_pids_are_the_children_of_a_process():
    children = [subprocess.Popen(["sleep", "30"]) for _ in range(2)]  # noqa: S607
    try:
        assert set(worker_pids(os.getpid())) >= {c.pid for c in children}
        assert worker_pids(children[0].pid) == []
    finally:
        for child in children:
            child.kill()
            child.wait()


def test_rss_of_a_live_and_a_finished_process():
    rss = rss_kb(os.getpid())
    assert rss > 10_000 and rss_kb(os.getpid(), "VmHWM") >= rss  # the peak, read after
    child = subprocess.Popen(["true"])  # noqa: S607
    child.wait()
    assert rss_kb(child.pid) is None


def test_the_sampler_reports_each_worker_and_the_peaks():
    child = subprocess.Popen(
        [sys.executable, "-c", "print('up', flush=True); import time; time.sleep(30)"], stdout=subprocess.PIPE
    )
    try:
        assert child.stdout.readline() == b"up\n"  # running: not a fork still on its way to exec
        sampler = MemorySampler(os.getpid(), interval=0.05)
        sampler.sample()
        sampler.sample()
        report = sampler.report()
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
    worker = report["workers"][str(child.pid)]
    assert report["samples"] == 2 and len(worker["series_mb"]) == 2
    assert 1 < worker["first_mb"] <= worker["peak_mb"] and worker["last_mb"] <= worker["peak_mb"]
    assert report["worker_peak_mb"] >= worker["peak_mb"]
    assert report["total_peak_mb"] >= report["worker_peak_mb"]


def test_the_sampler_thread_starts_and_stops():
    sampler = MemorySampler(os.getpid(), interval=0.01)
    sampler.start()
    deadline = time.monotonic() + 10
    while sampler.samples < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    sampler.stop()
    assert sampler.samples >= 3
    assert not sampler.is_alive()
