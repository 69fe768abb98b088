"""What every source reader (ArcGIS, Socrata, files) yields to the loader.

A reader is an iterator of `Page`s. A page that could not be fetched or parsed is still
yielded, with `error` set and no records, so the loader records it on the run and keeps
the pages before and after it. Anything that makes the whole source unreadable (bad
metadata, bad configuration, authentication) raises `SourceError` before or while paging.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from django.contrib.gis.geos import GEOSGeometry

if TYPE_CHECKING:
    from .schema import SourceSchema


class SourceError(Exception):
    """The source as a whole cannot be read (the run fails with this message)."""


@dataclass
class RawRecord:
    external_id: str  # the record's id in its source (ArcGIS object id, Socrata :id, file row key)
    attributes: dict[str, Any]  # source attribute name -> value (esri date fields already aware UTC datetimes)
    geometry: GEOSGeometry | None = None  # SRID 4326; polygons already reduced to a point on the surface
    xy: tuple[float, float] | None = None  # the geometry's (x, y) when the reader has it: not read back from GEOS


@dataclass
class Page:
    number: int  # 1-based
    records: list[RawRecord] = field(default_factory=list)
    error: str | None = None  # set when this page failed after retries; records is then empty
    failed_ids: list[str] = field(default_factory=list)  # record ids the failed page would have held, if known
    # records the reader itself refused ({"record", "reason"}: a joined source's party without its document), each
    # counted as processed and failed and recorded on the run beside the page's good records
    rejected: list[dict] = field(default_factory=list)


class Reader(Protocol):
    def schema(self) -> SourceSchema | None:
        """The source's attributes, read before any page (None when the source cannot say); SourceError when
        the source cannot be read at all."""

    def close(self) -> None:
        """Release what schema() opened, for a reader that will not be iterated."""

    def __iter__(self) -> Iterator[Page]: ...
