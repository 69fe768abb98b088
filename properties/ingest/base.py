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

from django.contrib.gis.geos import GEOSGeometry, Point

if TYPE_CHECKING:
    from .schema import SourceSchema


class SourceError(Exception):
    """The source as a whole cannot be read (the run fails with this message)."""


class RawRecord:
    """One source record: its id in the source (ArcGIS object id, Socrata :id, file row key), its attributes
    (source attribute name -> value; esri date fields already aware UTC datetimes) and where it lies.

    `geometry` is SRID 4326, polygons already reduced to a point on the surface; `xy` is its (x, y) when the
    reader has it. A reader that has only the (x, y) gives that alone: the GEOS point is made on first use,
    so a record skipped as unchanged never pays for one.
    """

    __slots__ = ("_geometry", "attributes", "external_id", "xy")

    def __init__(
        self,
        external_id: str,
        attributes: dict[str, Any],
        geometry: GEOSGeometry | None = None,
        xy: tuple[float, float] | None = None,
    ):
        self.external_id = external_id
        self.attributes = attributes
        self.xy = xy
        self._geometry = geometry

    @property
    def geometry(self) -> GEOSGeometry | None:
        if self._geometry is None and self.xy is not None:
            self._geometry = Point(*self.xy, srid=4326)
        return self._geometry

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RawRecord):
            return NotImplemented
        if (self.external_id, self.attributes, self.xy) != (other.external_id, other.attributes, other.xy):
            return False
        return self.xy is not None or self.geometry == other.geometry  # the same (x, y): the same point, unbuilt

    __hash__ = None  # mutable, like the dataclass it was

    def __repr__(self) -> str:
        return f"RawRecord({self.external_id!r}, {self.attributes!r}, xy={self.xy!r})"


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
