"""The web workers' resident memory during a load run, sampled from /proc once a second (Linux).

The workers are the children of the gunicorn master (`/proc/<master>/task/<master>/children`, else a scan of
/proc for that parent). Each sample reads VmRSS from `/proc/<worker>/status`. Per worker we keep the first,
last and peak value and a bounded series (`BoundedSeries`: at most MAX_POINTS points; when full, neighbouring
points merge into one holding the larger value), so a 30-minute soak keeps a few hundred numbers per worker and
still shows whether memory climbs. A worker that gunicorn replaced keeps its own entry (its pid is the key).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_POINTS = 120


def worker_pids(master: int) -> list[int]:
    """The master's child processes (the gunicorn workers)."""
    try:
        text = Path(f"/proc/{master}/task/{master}/children").read_text()
        return sorted(int(pid) for pid in text.split())
    except OSError:
        pass
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ")".
        if int(stat.rpartition(")")[2].split()[1]) == master:
            pids.append(int(entry.name))
    return sorted(pids)


def rss_kb(pid: int, key: str = "VmRSS") -> int | None:
    """VmRSS (or VmHWM, its peak) of a process in kB; None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class BoundedSeries:
    """(seconds since start, value) points, at most `max_points`: each point holds the largest of `step`
    consecutive samples and is stamped with the first one's time; when every point is full, neighbours merge
    pairwise and `step` doubles, so the series always spans the whole run at an even resolution."""

    def __init__(self, max_points: int = MAX_POINTS):
        self.max_points = max_points - max_points % 2  # merging pairs needs an even count
        self.step = 1  # samples per point
        self.points: list[tuple[float, float]] = []
        self._pending = 0  # samples merged into the last point so far

    def add(self, t: float, value: float) -> None:
        if self.points and self._pending < self.step:
            last_t, last_v = self.points[-1]
            self.points[-1] = (last_t, max(last_v, value))
            self._pending += 1
            return
        if len(self.points) == self.max_points:  # every point is full: halve the resolution
            self.points = [(a[0], max(a[1], b[1])) for a, b in zip(self.points[::2], self.points[1::2], strict=True)]
            self.step *= 2
        self.points.append((t, value))
        self._pending = 1


@dataclass
class WorkerMemory:
    first_kb: int
    last_kb: int
    peak_kb: int
    series: BoundedSeries = field(default_factory=BoundedSeries)

    def as_dict(self) -> dict[str, Any]:
        mb = 1 / 1024
        return {
            "first_mb": round(self.first_kb * mb, 1),
            "last_mb": round(self.last_kb * mb, 1),
            "peak_mb": round(self.peak_kb * mb, 1),
            "series_mb": [[round(t, 1), round(v * mb, 1)] for t, v in self.series.points],
        }


class MemorySampler(threading.Thread):
    """Samples the master's workers every `interval` seconds until `stop()`; `report()` any time."""

    def __init__(self, master: int, *, interval: float = 1.0):
        super().__init__(name="web-memory", daemon=True)
        self.master, self.interval = master, interval
        self.workers: dict[int, WorkerMemory] = {}
        self.peak_total_kb = 0
        self.samples = 0
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._began = time.monotonic()

    def sample(self) -> None:
        t = time.monotonic() - self._began
        total = 0
        with self._lock:
            for pid in worker_pids(self.master):
                kb = rss_kb(pid)
                if kb is None:
                    continue
                total += kb
                worker = self.workers.get(pid)
                if worker is None:
                    worker = self.workers[pid] = WorkerMemory(first_kb=kb, last_kb=kb, peak_kb=kb)
                worker.last_kb, worker.peak_kb = kb, max(worker.peak_kb, kb)
                worker.series.add(t, kb)
            self.peak_total_kb = max(self.peak_total_kb, total)
            self.samples += 1

    def run(self) -> None:
        while not self._stopped.is_set():
            self.sample()
            self._stopped.wait(self.interval)

    def stop(self) -> None:
        self._stopped.set()
        if self.is_alive():
            self.join(timeout=5)

    def report(self) -> dict[str, Any]:
        """Peak of any one worker and of all together (MB), and each worker's first/last/peak and series."""
        with self._lock:
            workers = {str(pid): w.as_dict() for pid, w in sorted(self.workers.items())}
            peak = max((w.peak_kb for w in self.workers.values()), default=0)
            return {
                "samples": self.samples,
                "interval_seconds": self.interval,
                "worker_peak_mb": round(peak / 1024, 1),
                "total_peak_mb": round(self.peak_total_kb / 1024, 1),
                "workers": workers,
            }
