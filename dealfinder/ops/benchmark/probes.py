"""What the benchmark measures the machine with: peak resident memory (per step), the machine's description
(CPU, memory, load, the code's commit) for the report, and a heap kept out of the way of request latencies."""

from __future__ import annotations

import gc
import os
import platform
import resource
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection


def _status_kb(key: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


@contextmanager
def heap_frozen() -> Iterator[None]:
    """Inside the block, the objects this process holds so far are out of the garbage collector's sight (gc.freeze).

    The map and API latencies are measured by the Django test client in the benchmark's own process, whose heap
    holds what the run built before (hundreds of MB); a full collection over it paused single requests by 80-190 ms
    at 100,000 parcels. A web worker's heap holds none of it.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False when not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss_mb() -> float:
    kb = _status_kb("VmHWM")
    if kb is None:
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kb / 1024, 1)


def _meminfo_mb() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _git(*args: str) -> str:
    try:
        command = ["git", *args]
        out = subprocess.run(command, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=10, check=True)  # noqa: S603
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


def machine_info() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        pg = cursor.fetchone()[0]
        cursor.execute("SELECT postgis_lib_version()")
        postgis = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        shared_buffers = cursor.fetchone()[0]
    import django

    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "ram_mb": _meminfo_mb(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": pg,
        "postgis": postgis,
        "shared_buffers": shared_buffers,
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }


# --- steps --------------------------------------------------------------------------------------


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()  # noqa: S607
    except (OSError, subprocess.SubprocessError):
        return ""
