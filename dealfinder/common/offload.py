"""CPU work on a second core: a helper process that runs one function on what it is sent, while this process
does something else (the GIL keeps two threads of Python on one core; a process has its own).

The helper is a fresh interpreter started with `subprocess` (fork + exec): nothing of this process is inherited
(no open database connection, no threads, no locks), and it works where `multiprocessing` refuses to start a
child, such as a Celery prefork worker's daemonic process. It talks over two private pipes, one pickle per
message; its stdout and stderr are this process's (its logs go where ours go).

`target` names a factory, "package.module:function": called once in the helper with `setup` (picklable), it
returns the function each `send()`'s arguments are handed to. The helper imports Django (settings from the
environment) before the factory, and opens no database connection unless the function does.

Lifetime: `Offload` is a context manager; leaving it (normally, by an exception, or a Celery time limit) closes
the helper's input, waits a moment, then kills it. A helper whose parent dies without cleaning up (SIGKILL)
reads end-of-file on its input or gets a broken pipe on its output and exits: no orphan outlives the run.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import pickle
import select
import struct
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

_HEADER = struct.Struct("!Q")
_ROOT = str(Path(__file__).resolve().parents[2])  # the directory that holds the `dealfinder` package


class OffloadError(RuntimeError):
    """The helper process failed: its function raised (the helper's traceback is the message) or it died."""


def _write(fd: int, payload: bytes) -> None:
    view = memoryview(_HEADER.pack(len(payload)) + payload)
    while view:
        view = view[os.write(fd, view) :]


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None  # end of file: the other side is gone
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _read(fd: int) -> Any:
    header = _read_exactly(fd, _HEADER.size)
    if header is None:
        raise EOFError
    payload = _read_exactly(fd, _HEADER.unpack(header)[0])
    if payload is None:
        raise EOFError
    collecting = gc.isenabled()
    gc.disable()  # unpickling makes many containers and no garbage: collections on the way cost 1.5-3x the time
    try:
        # Only from the private pipe between this project's own two processes (no one else can write to it).
        return pickle.loads(payload)  # noqa: S301  # nosec B301
    finally:
        if collecting:
            gc.enable()


class Offload:
    """One helper process running `target`'s function; `send()` a call, do other work, `receive()` its result.
    At most one call is outstanding at a time (so neither side can block the other on a full pipe)."""

    def __init__(self, target: str, setup: Any = None, *, timeout: float = 5.0):
        self._timeout = timeout
        self._pending = False
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, env.get("PYTHONPATH")) if p)
        try:
            self._process = subprocess.Popen(  # noqa: S603 - this interpreter, this module, our own arguments
                [sys.executable, "-m", __name__, target, str(to_child_r), str(from_child_w)],
                stdin=subprocess.DEVNULL,
                pass_fds=(to_child_r, from_child_w),
                env=env,
                cwd=_ROOT,
            )
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
        self._out, self._in = to_child_w, from_child_r
        self._ready = False
        try:
            _write(self._out, pickle.dumps(setup, protocol=pickle.HIGHEST_PROTOCOL))
        except BaseException:
            self.close()
            raise

    @property
    def pid(self) -> int:
        return self._process.pid

    def ready(self) -> bool:
        """True once the helper has started and built its function (it takes a second or two: a caller with other
        work can do it meanwhile instead of waiting in send/receive). Never blocks."""
        if not self._ready and not self._pending and select.select([self._in], [], [], 0)[0]:
            self._await_start()
        return self._ready

    def _await_start(self) -> None:
        try:
            _read(self._in)  # the helper's "started"
        except (EOFError, OSError) as exc:
            raise OffloadError(f"the helper process ended ({self._exit_status()})") from exc
        self._ready = True

    def send(self, *args: Any) -> None:
        if self._pending:
            raise RuntimeError("receive() the previous call's result first")
        if not self._ready:
            self._await_start()
        payload = pickle.dumps(args, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            _write(self._out, payload)
        except OSError as exc:  # the helper is gone
            raise OffloadError(f"the helper process ended ({self._exit_status()})") from exc
        self._pending = True

    def receive(self) -> Any:
        if not self._pending:
            raise RuntimeError("nothing was sent")
        try:
            ok, value = _read(self._in)
        except (EOFError, OSError) as exc:
            raise OffloadError(f"the helper process ended ({self._exit_status()})") from exc
        self._pending = False
        if not ok:
            raise OffloadError(value)
        return value

    def _exit_status(self) -> str:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=self._timeout)
        code = self._process.returncode
        return "still running" if code is None else f"exit status {code}"

    def close(self) -> None:
        """End the helper: its input is closed (it exits when idle), then it is killed if it lingers."""
        for fd in (self._out, self._in):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._out = self._in = -1
        if self._process.poll() is None and self._pending:
            self._process.kill()  # busy with a call nobody will read
        try:
            self._process.wait(timeout=self._timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def __enter__(self) -> Offload:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _serve(target: str, inbox: int, outbox: int) -> None:
    """The helper's loop: build the function from the first message, then answer each call until end of file."""
    if os.environ.get("DJANGO_SETTINGS_MODULE"):
        import django

        django.setup()
    module, _, name = target.partition(":")
    factory = getattr(importlib.import_module(module), name)
    try:
        function = factory(_read(inbox))
    except EOFError:
        return
    gc.freeze()  # what the start loaded (Django, the function's modules) lives on: no collection scans it again
    try:
        _write(outbox, pickle.dumps(None))  # started
    except BrokenPipeError:
        return
    while True:
        try:
            args = _read(inbox)
        except EOFError:
            return
        try:
            reply = pickle.dumps((True, function(*args)), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # handed to the caller, which raises it
            reply = pickle.dumps((False, traceback.format_exc()))
        try:
            _write(outbox, reply)
        except BrokenPipeError:
            return


if __name__ == "__main__":
    _serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # no interpreter teardown (most of a second with Django loaded): the owner waits for this exit
