"""The load process: N simulated brokers over real HTTP, in a process of its own (no Django in it).

Run by dealfinder.ops.benchmark.load as `python -m <this module>`; it reads the plan as one JSON line on stdin,
then commands, one per line: `phase NAME` (start or switch the measured phase) and `stop` (or end of input).
It writes JSON lines on stdout: `ready` (every broker logged in, admin filters discovered, sweep done),
`progress` (every few seconds), and at the end `result` (or `error`).

Each broker is a thread with its own httpx client (one keep-alive connection, its own cookies) logged in
through the real admin login form (GET the form, POST it back with its CSRF token); API requests carry the
broker's API token. Requests go to the loopback gunicorn as a TLS-terminating proxy would forward them:
`X-Forwarded-Proto: https` (the header settings.SECURE_PROXY_SSL_HEADER trusts), and the production cookies,
which are `Secure`, are sent back on that hop like a browser sends them over HTTPS. Nothing in the server's
settings is relaxed.

gunicorn's sync workers (the Dockerfile's) answer every request with `Connection: close`, so each request opens
a new loopback connection, as it would from the proxy; the client keeps the connection whenever a server allows.
The API throttle (API_THROTTLE_USER, 600 a minute per user) holds for the simulated brokers too: a 429 counts
as an error (outcome "429"), which one client with no think time on a tiny county can come near.

A process of its own so the generator's CPU is measured apart (getrusage) and never competes for a GIL
with the work running during the load (the nightly pipeline in the benchmark's process).
"""

from __future__ import annotations

import json
import os
import re
import resource
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any
from urllib.parse import urlsplit

import httpx

from .load_memory import MemorySampler, rss_kb
from .load_mix import ADMIN_CHANGELISTS, Mix, MixSpec, Request, admin_filter_links, sweep_requests
from .load_stats import Histogram, KindStats, outcome_of

LOGIN_PATH = "/admin/login/"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
MAX_ERROR_SAMPLES = 20
SWEEP = "sweep"


class ProxyHopCookiePolicy(DefaultCookiePolicy):
    """Return `Secure` cookies on the plain-HTTP hop from the (simulated) TLS proxy to the loopback server."""

    def return_ok_secure(self, cookie, request):
        return True


def _send_cookies(client: httpx.Client):
    """A request hook: the session's cookies by the jar's own policy. (httpx builds each request's cookies
    from a copy of the jar under the default policy, which keeps `Secure` cookies off plain HTTP.)"""
    return lambda request: client.cookies.set_cookie_header(request)


class Recorder:
    """Every answer, by phase, kind and variant (bounded: histograms and counters, a few error samples)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.phase: str | None = None
        self.phase_began = 0.0
        self.phase_seconds: dict[str, float] = {}
        self.kinds: dict[str, dict[str, KindStats]] = {}
        self.variants: dict[str, dict[str, KindStats]] = {}
        self.error_samples: list[dict[str, Any]] = []
        self.requests = self.errors = 0

    def switch(self, phase: str | None) -> None:
        with self.lock:
            now = time.monotonic()
            if self.phase is not None:
                self.phase_seconds[self.phase] = self.phase_seconds.get(self.phase, 0.0) + now - self.phase_began
            self.phase, self.phase_began = phase, now

    def record(self, phase: str, request: Request, ms: float, outcome: str | None, body: str = "") -> None:
        with self.lock:
            self.requests += 1
            self.kinds.setdefault(phase, {}).setdefault(request.kind, KindStats()).record(ms, outcome)
            key = f"{request.kind}|{request.variant}"
            self.variants.setdefault(phase, {}).setdefault(key, KindStats()).record(ms, outcome)
            if outcome is None:
                return
            self.errors += 1
            if len(self.error_samples) < MAX_ERROR_SAMPLES:
                query = "&".join(f"{k}={v}" for k, v in request.params)
                self.error_samples.append(
                    {
                        "phase": phase,
                        "kind": request.kind,
                        "variant": request.variant,
                        "outcome": outcome,
                        "url": f"{request.path}?{query}" if query else request.path,
                        "body": body[:300],
                    }
                )

    def to_json(self) -> dict[str, Any]:
        with self.lock:
            return {
                name: {
                    "seconds": round(seconds, 3),
                    "kinds": {k: s.to_json() for k, s in self.kinds.get(name, {}).items()},
                    "variants": {k: s.to_json() for k, s in self.variants.get(name, {}).items()},
                }
                for name, seconds in self.phase_seconds.items()
            }


class Broker:
    """One simulated broker: a logged-in session and a token, issuing the mix's requests back to back."""

    def __init__(self, index: int, plan: dict[str, Any], recorder: Recorder):
        login = plan["brokers"][index]
        self.index, self.recorder = index, recorder
        self.username, self.password = login["username"], login["password"]
        self.token_header = {"Authorization": f"Token {login['token']}"}
        self.think = float(plan.get("think_seconds", 0))
        host = urlsplit(plan["base_url"]).netloc
        self.origin = f"https://{host}"
        self.client = httpx.Client(
            base_url=plan["base_url"],
            headers={"X-Forwarded-Proto": "https", "User-Agent": "dealfinder-load/1"},
            cookies=CookieJar(policy=ProxyHopCookiePolicy()),
            timeout=float(plan.get("timeout_seconds", 60)),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )
        self.client.event_hooks["request"] = [_send_cookies(self.client)]
        self.mix: Mix | None = None

    def login(self) -> float:
        """The admin login form, as a browser submits it; returns the milliseconds it took."""
        began = time.perf_counter()
        form = self.client.get(LOGIN_PATH, params={"next": "/admin/"})
        token = CSRF_INPUT.search(form.text)
        if form.status_code != 200 or token is None:
            raise LoadFailure(f"{self.username}: the login form answered {form.status_code} without a CSRF token")
        answer = self.client.post(
            LOGIN_PATH,
            data={
                "username": self.username,
                "password": self.password,
                "csrfmiddlewaretoken": token.group(1),
                "next": "/admin/",
            },
            headers={"Origin": self.origin, "Referer": f"{self.origin}{LOGIN_PATH}"},
        )
        if answer.status_code != 302 or "sessionid" not in self.client.cookies:
            raise LoadFailure(f"{self.username}: login answered {answer.status_code} (wrong password or locked out?)")
        return (time.perf_counter() - began) * 1000

    def send(self, phase: str, request: Request) -> None:
        began = time.perf_counter()
        body = ""
        try:
            response = self.client.get(
                request.path, params=request.params, headers=self.token_header if request.api else None
            )
            outcome = outcome_of(response.status_code)
            if outcome is not None:
                body = response.text
            elif request.api and self.mix is not None:
                self.mix.api_next = _local(response.json().get("next"))
        except (httpx.HTTPError, ValueError) as exc:  # connection refused, timeout, a body that is not JSON
            outcome, body = type(exc).__name__, str(exc)
        self.recorder.record(phase, request, (time.perf_counter() - began) * 1000, outcome, body)

    def run(self, go: threading.Event, stop: threading.Event) -> None:
        go.wait()
        while not stop.is_set():
            phase = self.recorder.phase
            self.send(phase, self.mix.next_request())
            if self.think:
                stop.wait(self.think)


def _local(url: str | None) -> str | None:
    """`next` links are absolute (https://host/...); the broker asks its own server for path and query."""
    if not url:
        return None
    split = urlsplit(url)
    return f"{split.path}?{split.query}" if split.query else split.path


class LoadFailure(Exception):
    """The load cannot run (a login failed, the server is gone): reported as an `error` event."""


class Output:
    def __init__(self):
        self.lock = threading.Lock()

    def emit(self, event: str, **data: Any) -> None:
        with self.lock:
            sys.stdout.write(json.dumps({"event": event, **data}, separators=(",", ":")) + "\n")
            sys.stdout.flush()


def discover_admin_filters(broker: Broker, spec: MixSpec) -> dict[str, int]:
    """Fill spec.admin_filters from each weighted changelist's own filter sidebar; returns links per kind."""
    found = {}
    for kind, path in ADMIN_CHANGELISTS.items():
        if not spec.weights.get(kind):
            continue
        page = broker.client.get(path)
        if page.status_code != 200:
            raise LoadFailure(f"{path} answered {page.status_code} to {broker.username}: no permission?")
        spec.admin_filters[kind] = admin_filter_links(page.text)
        found[kind] = len(spec.admin_filters[kind])
    return found


def run(plan: dict[str, Any], commands, out: Output) -> None:
    spec = MixSpec.from_json(plan["mix"])
    recorder = Recorder()
    brokers = [Broker(i, plan, recorder) for i in range(len(plan["brokers"]))]
    master = plan.get("web_master_pid")
    sampler = MemorySampler(int(master), interval=float(plan.get("memory_interval", 1.0))) if master else None
    if sampler:
        sampler.start()
    go, stop = threading.Event(), threading.Event()
    logins, clock = Histogram(), {}
    try:
        with ThreadPoolExecutor(len(brokers), thread_name_prefix="broker") as pool:
            try:  # inside the pool's block: leaving it waits for the brokers, which must have been told to stop
                for ms in pool.map(lambda b: b.login(), brokers):
                    logins.add(ms)
                discovered = discover_admin_filters(brokers[0], spec)
                seed = int(plan.get("seed", 26)) * 1000
                for broker in brokers:
                    broker.mix = Mix(spec, seed=seed + broker.index, offset=broker.index * 7)
                if plan.get("sweep"):
                    recorder.switch(SWEEP)
                    todo = sweep_requests(spec)
                    list(pool.map(lambda b: [b.send(SWEEP, r) for r in todo[b.index :: len(brokers)]], brokers))
                    recorder.switch(None)
                out.emit("ready", logins=logins.summary(), discovered=discovered, sweep=plan.get("sweep", False))
                threads = [pool.submit(b.run, go, stop) for b in brokers]
                _obey(commands, recorder, go, clock, start=lambda: _start_progress(recorder, sampler, out, stop, plan))
                stop.set()
                for thread in threads:
                    thread.result()
                recorder.switch(None)
            finally:
                stop.set()
                go.set()
    finally:
        if sampler:
            sampler.stop()
        for broker in brokers:
            broker.client.close()
    measured = time.monotonic() - clock["wall"] if clock else 0.0
    cpu = _cpu_seconds() - clock["cpu"] if clock else 0.0
    out.emit(
        "result",
        clients=len(brokers),
        phases=recorder.to_json(),
        error_samples=recorder.error_samples,
        logins=logins.summary(),
        discovered=discovered,
        memory=sampler.report() if sampler else None,
        generator={
            "cpu_seconds": round(cpu, 2),
            "wall_seconds": round(measured, 2),
            "cpu_share_of_one_core": round(cpu / measured, 3) if measured else None,
            "peak_rss_mb": _rss_mb("VmHWM"),
        },
    )


def _obey(commands, recorder: Recorder, go: threading.Event, clock: dict, start) -> None:
    """`phase NAME` switches the phase (the first one lets the brokers go and starts the clocks); `stop` or the
    end of input returns."""
    for line in commands:
        command, _, argument = line.strip().partition(" ")
        if command == "stop":
            return
        if command == "phase" and argument:
            recorder.switch(argument)
            if not go.is_set():
                clock.update(cpu=_cpu_seconds(), wall=time.monotonic())
                go.set()
                start()


def _rss_mb(key: str) -> float | None:
    """This process's VmRSS or VmHWM (its peak). Not ru_maxrss: on Linux it survives exec, so it would report
    the parent's size at the fork that started this process."""
    kb = rss_kb(os.getpid(), key)
    return None if kb is None else round(kb / 1024, 1)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _start_progress(recorder: Recorder, sampler: MemorySampler | None, out: Output, stop: threading.Event, plan):
    args = (recorder, sampler, out, stop, float(plan.get("progress_seconds", 5)))
    threading.Thread(target=_progress, args=args, name="progress", daemon=True).start()


def _progress(recorder: Recorder, sampler: MemorySampler | None, out: Output, stop: threading.Event, every) -> None:
    last_requests, last_time = recorder.requests, time.monotonic()  # the sweep's requests are not this phase's
    while not stop.wait(every):
        now = time.monotonic()
        with recorder.lock:
            requests, errors, phase = recorder.requests, recorder.errors, recorder.phase
        memory = sampler.report() if sampler else {}
        out.emit(
            "progress",
            phase=phase,
            requests=requests,
            errors=errors,
            rps=round((requests - last_requests) / (now - last_time), 1),
            web_worker_peak_mb=memory.get("worker_peak_mb"),
            generator_rss_mb=_rss_mb("VmRSS"),
        )
        last_requests, last_time = requests, now


def main() -> int:
    out = Output()
    try:
        plan = json.loads(sys.stdin.readline())
        run(plan, sys.stdin, out)
    except LoadFailure as exc:
        out.emit("error", message=str(exc))
        return 1
    except Exception as exc:  # anything else: say what, for the parent's error message
        out.emit("error", message=f"{type(exc).__name__}: {exc}")
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
