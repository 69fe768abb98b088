"""One parser decides what a source location is: an http(s) URL or a local file path.

Everything that reads a source's location (the file reader, the kind guess, the URL guard, the probe)
asks `location_parse`, so `HTTP://host/x` is a URL everywhere, `http:etc/passwd` is an error everywhere
(a URL without a host), and only text without any scheme (or `file://`) is ever a path. `name` is what
messages may show: a URL without its query or credentials, or a path's file name only, never the
server's directories.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlsplit, urlunsplit

URL_SCHEMES = ("http", "https")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class LocationError(ValueError):
    """The text is neither an http(s) URL with a host nor a local path."""


@dataclass(frozen=True)
class SourceLocation:
    url: str | None = None  # an http(s) URL with a host, scheme in lower case
    path: str | None = None  # a local path as written (without file://)
    scheme: str = ""  # the scheme as read (lower case); "" for a bare path

    @property
    def is_url(self) -> bool:
        return self.url is not None

    @property
    def name(self) -> str:
        """What a message may show: scheme://host/path of a URL, the file name of a path."""
        if self.url is None:
            return PurePosixPath(self.path or "").name or "the file"
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def location_parse(text: str) -> SourceLocation:
    """Classify a source location; LocationError (with a reason fit for the user) when it is neither."""
    text = (text or "").strip()
    if not text:
        raise LocationError("no location given")
    if _CONTROL.search(text):
        raise LocationError("the location contains control characters")
    match = _SCHEME.match(text)
    if match is None:
        return SourceLocation(path=text)
    scheme = match.group(1).lower()
    if scheme == "file":
        parts = urlsplit(text)
        if parts.netloc not in ("", "localhost") or not parts.path:
            raise LocationError("a file: location must be file:///absolute/path")
        return SourceLocation(path=parts.path, scheme=scheme)
    if scheme not in URL_SCHEMES:
        raise LocationError(f"only http and https URLs are allowed, not {scheme!r}")
    parts = urlsplit(text)
    try:
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise LocationError("the URL has an invalid port") from None
    if not host or not text[len(match.group(0)) :].startswith("//"):
        raise LocationError(f"{scheme}: URL without a host; write it as {scheme}://host/path")
    return SourceLocation(url=urlunsplit(parts._replace(scheme=scheme)), scheme=scheme)
