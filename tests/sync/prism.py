"""Stoplight Prism serving one OpenAPI file on loopback, for contract tests.

Prism (node_modules/.bin/prism, installed by `make setup` through npm ci) validates every request against the spec;
with `--errors` a request the spec refuses gets an error answer (422, or 401 without credentials) and so does an
answer that breaks the spec. PrismTransport sends a client's requests there and records what Prism refused.
"""

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from django.conf import settings

PRISM = Path(settings.BASE_DIR) / "node_modules" / ".bin" / "prism"
SKIP_REASON = "Stoplight Prism is not installed (node_modules/.bin/prism): run `make setup` (npm ci)"
START_SECONDS = 180  # on a loaded machine; a few on an idle one


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def prism_mock(spec: Path) -> Iterator[int]:
    """`prism mock --errors` on a free loopback port; yields the port once Prism listens."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - a fixed local binary and our own fixture file
        [str(PRISM), "mock", "--errors", "-h", "127.0.0.1", "-p", str(port), str(spec)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"Prism on port {port} did not start (exit code {process.poll()})")
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


class PrismTransport(httpx.BaseTransport):
    """Sends every request to the Prism on `port`; records each request and those Prism refused."""

    def __init__(self, port: int):
        self.port = port
        self.inner = httpx.HTTPTransport()
        self.sent: list[str] = []
        self.rejected: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self.port)
        response = self.inner.handle_request(request)
        response.read()
        self.sent.append(f"{request.method} {request.url.path}")
        if response.status_code >= 400:
            try:
                body = json.loads(response.content)
            except ValueError:
                body = response.text
            self.rejected.append(f"{request.method} {request.url.path} -> {response.status_code}: {body}")
        return response
