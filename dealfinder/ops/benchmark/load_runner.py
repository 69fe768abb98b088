"""Drive the load process from the benchmark's process: the plan in, phases and progress, the result out.

`load_run(plan, seconds=S)` loads the server for S seconds; `load_run(plan, during=work)` loads it for as long
as `work()` (e.g. the nightly chain) runs in this process, and reports that window as its own phase. The load
itself runs in a child process (dealfinder.ops.benchmark.load_process), so its threads never compete with `work`
for this process's GIL and its CPU is measured on its own. No Django here: plans and results are plain data.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib import import_module
from pathlib import Path
from typing import Any

from . import load_process
from .load_mix import MixSpec
from .load_stats import KindStats, merged

IDLE, DURING = "idle", "during_pipeline"
READY_TIMEOUT = 900.0  # logins, filter discovery and the sweep (every variant once) at a 1M county
# Where `python -m` finds this project's packages (wherever this module moves inside them).
PROJECT_ROOT = Path(import_module(__name__.partition(".")[0]).__file__).resolve().parent.parent


class LoadError(Exception):
    """The load could not run: the load process said why (a login refused, the server gone)."""


@dataclass(frozen=True)
class BrokerLogin:
    username: str
    password: str
    token: str


@dataclass
class LoadPlan:
    """What the load process needs, as plain data. `sweep`: first request every variant once (its own phase,
    `sweep`), so each filter is measured and shown to answer even in a short run."""

    base_url: str
    brokers: list[BrokerLogin]
    mix: MixSpec
    web_master_pid: int | None = None
    seed: int = 26
    think_seconds: float = 0.0  # between a broker's requests; 0: back to back (capacity)
    timeout_seconds: float = 60.0
    sweep: bool = False
    memory_interval: float = 1.0
    progress_seconds: float = 5.0

    def with_clients(self, clients: int, *, sweep: bool = False) -> LoadPlan:
        if not 1 <= clients <= len(self.brokers):
            raise ValueError(f"clients must be 1..{len(self.brokers)} (the brokers created for the load)")
        return replace(self, brokers=self.brokers[:clients], sweep=sweep)

    def to_json(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "brokers": [vars(b) for b in self.brokers],
            "mix": self.mix.to_json(),
            "web_master_pid": self.web_master_pid,
            "seed": self.seed,
            "think_seconds": self.think_seconds,
            "timeout_seconds": self.timeout_seconds,
            "sweep": self.sweep,
            "memory_interval": self.memory_interval,
            "progress_seconds": self.progress_seconds,
        }


@dataclass
class PhaseResult:
    name: str
    seconds: float
    kinds: dict[str, KindStats]
    variants: dict[str, KindStats]  # "kind|variant"

    @property
    def total(self) -> KindStats:
        return merged(self.kinds.values())

    def group(self, prefix: str) -> KindStats:
        """Every kind whose name starts with `prefix` as one (e.g. "admin_": every changelist)."""
        return merged(s for k, s in self.kinds.items() if k.startswith(prefix))

    @property
    def rps(self) -> float:
        return round(self.total.latency.count / self.seconds, 2) if self.seconds else 0.0

    @classmethod
    def from_json(cls, name: str, data: dict[str, Any]) -> PhaseResult:
        return cls(
            name=name,
            seconds=float(data["seconds"]),
            kinds={k: KindStats.from_json(v) for k, v in data["kinds"].items()},
            variants={k: KindStats.from_json(v) for k, v in data["variants"].items()},
        )


@dataclass
class LoadResult:
    clients: int
    phases: dict[str, PhaseResult]
    memory: dict[str, Any] | None
    generator: dict[str, Any]
    logins: dict[str, Any]
    discovered: dict[str, int]
    error_samples: list[dict[str, Any]] = field(default_factory=list)
    work: dict[str, Any] | None = None  # with `during`: its seconds, and its error if it raised

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LoadResult:
        return cls(
            clients=data["clients"],
            phases={name: PhaseResult.from_json(name, p) for name, p in data["phases"].items()},
            memory=data["memory"],
            generator=data["generator"],
            logins=data["logins"],
            discovered=data["discovered"],
            error_samples=data["error_samples"],
        )


class LoadProcess:
    """The load child process: `with LoadProcess(plan) as load: load.phase("idle"); ...; result = load.stop()`.

    Entering starts it and waits until every broker is logged in (and the sweep is done); leaving without
    `stop()` (an exception, Ctrl-C) ends it. Progress events go to `progress` from a reader thread as they
    arrive. The child's stderr goes to a temporary file, quoted in errors."""

    def __init__(
        self, plan: LoadPlan, *, progress: Callable[[dict], None] | None = None, ready_timeout: float = READY_TIMEOUT
    ):
        plan.mix.check()
        self.plan, self.progress, self.ready_timeout = plan, progress, ready_timeout
        self.events: queue.Queue[dict] = queue.Queue()
        self.process: subprocess.Popen | None = None
        self.ready: dict[str, Any] = {}

    def __enter__(self) -> LoadProcess:
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(  # noqa: S603 - this interpreter, a module of this project
            [sys.executable, "-m", load_process.__name__],
            cwd=PROJECT_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        threading.Thread(target=self._read, name="load-events", daemon=True).start()
        try:
            self._send(json.dumps(self.plan.to_json()))
            self.ready = self._wait("ready", timeout=self.ready_timeout)
        except BaseException:  # __exit__ does not run when __enter__ fails: end the child here
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.stderr.close()

    def _read(self) -> None:
        for line in self.process.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue  # not an event (a stray print): ignored
            if message.get("event") == "progress":
                if self.progress:
                    self.progress(message)
            else:
                self.events.put(message)
        self.events.put({"event": "exit"})

    def _send(self, line: str) -> None:
        try:
            self.process.stdin.write(line + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # it ended: the next _wait says why

    def _wait(self, event: str, *, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                message = self.events.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise LoadError(f"the load process sent no {event!r} within {timeout:.0f} s") from None
            if message["event"] == event:
                return message
            if message["event"] in ("error", "exit"):
                self.stderr.seek(0)
                detail = message.get("message") or self.stderr.read()[-2000:] or "no message"
                raise LoadError(f"the load process failed: {detail}")

    def phase(self, name: str) -> None:
        self._send(f"phase {name}")

    def stop(self, *, timeout: float = 300.0) -> LoadResult:
        """End the load (brokers finish the request they are in) and collect the result."""
        self._send("stop")
        self.process.stdin.close()
        result = LoadResult.from_json(self._wait("result", timeout=timeout))
        self.process.wait(timeout=30)
        return result

    def wait(self, seconds: float) -> None:
        """Let the load run for `seconds` (less if the load process ends early: stop() then says why)."""
        try:
            message = self.events.get(timeout=seconds)
        except queue.Empty:
            return
        self.events.put(message)


def load_run(
    plan: LoadPlan,
    *,
    seconds: float | None = None,
    during: Callable[[], Any] | None = None,
    progress: Callable[[dict], None] | None = None,
) -> LoadResult:
    """Load the server for `seconds` (phase "idle"), or while `during()` runs here (phase "during_pipeline").

    With `during`, `result.work` holds its seconds and, if it raised an Exception, the error (the load result
    is still returned: what the brokers saw while the chain failed is worth having). KeyboardInterrupt and
    SystemExit end the load and propagate."""
    if (seconds is None) == (during is None):
        raise ValueError("give either seconds or during")
    with LoadProcess(plan, progress=progress) as load:
        if during is None:
            load.phase(IDLE)
            load.wait(seconds)
            return load.stop()
        load.phase(DURING)
        began, error = time.perf_counter(), None
        try:
            during()
        except Exception as exc:  # the chain failed: report it beside the load figures
            error = f"{type(exc).__name__}: {exc}"[:500]
        work = {"seconds": round(time.perf_counter() - began, 2), "error": error}
        result = load.stop()
        result.work = work
        return result
