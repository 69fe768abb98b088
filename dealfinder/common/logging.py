"""Structured logging: run ids carried by every log record, and a JSON formatter.

The run services wrap their work in `with log_context(pipeline_run_id=run.pk): ...`; a
RunContextFilter on the handler copies the ids in force onto each record (as attributes), so
both formatters (text and JSON, settings.LOG_FORMAT) show them without the call sites knowing.
A contextvar keeps the ids per thread and per asyncio task.
"""

from __future__ import annotations

import contextvars
import datetime
import functools
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_context: contextvars.ContextVar[dict[str, object] | None] = contextvars.ContextVar(
    "dealfinder_log_context", default=None
)

# Attributes every LogRecord has; anything else on a record (extra=..., the context) is reported.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "taskName"}


def current_log_context() -> dict[str, object]:
    return dict(_context.get() or {})


@contextmanager
def log_context(**ids: object) -> Iterator[dict[str, object]]:
    """Add ids (None values are skipped) to every record logged inside the block; nests and restores."""
    merged = {**(_context.get() or {}), **{k: v for k, v in ids.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield merged
    finally:
        _context.reset(token)


class RunContextFilter(logging.Filter):
    """Copies the current log context onto the record (never overriding what the call site passed)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


# Settings whose values must never reach a log line: the Slack incoming-webhook URL is itself the credential
# (httpx logs every request's URL at INFO), the tokens in case a library ever echoes a header.
REDACTED_SETTINGS = ("SLACK_WEBHOOK_URL", "GHL_API_TOKEN", "SOCRATA_APP_TOKEN")


def redacted(value: str) -> str:
    """How a secret is shown: a URL keeps its scheme and host (https://hooks.slack.com/***), anything else is ***."""
    scheme, sep, rest = value.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}/***" if sep and "/" in rest else "***"


def redact_secrets(text: str) -> str:
    """`text` with the value of every REDACTED_SETTINGS setting replaced by its redacted() form."""
    from django.conf import settings

    for name in REDACTED_SETTINGS:
        secret = getattr(settings, name, "") or ""
        if len(secret) >= 8 and secret in text:
            text = text.replace(secret, redacted(secret))
    return text


class RedactSecretsFilter(logging.Filter):
    """On the handler: secrets (REDACTED_SETTINGS) are replaced in the message and the exception text of every
    record, whichever library logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact_secrets(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_secrets(record.exc_text)
        return True


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")}


class TextFormatter(logging.Formatter):
    """`time LEVEL logger message key=value ...` for humans (development)."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = _extras(record)
        if not extras:
            return line
        head, sep, tail = line.partition("\n")  # keep a traceback below the key=values
        return head + "".join(f" {k}={v}" for k, v in sorted(extras.items())) + sep + tail


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, ids, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(_extras(record))
        if record.exc_info or record.exc_text:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def new_run_id() -> str:
    """A short random id for runs whose row is only written at the end (GoHighLevel sync runs)."""
    return uuid.uuid4().hex[:12]


def logged_run(id_name: str, **ids: object) -> Callable:
    """Decorator: each call runs inside log_context(<id_name>=new_run_id(), **ids)."""

    def decorate(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with log_context(**{id_name: new_run_id()}, **ids):
                return func(*args, **kwargs)

        return wrapper

    return decorate
