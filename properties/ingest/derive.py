"""What the loader derives from the records it has not seen before: each one mapped (FieldMapping.read), placed
(points.batch_points) and prepared (prepare.prepare), or the RowError that stopped it. Pure CPU, no database: the
same function runs in the loader's process or in a helper process on the other core (dealfinder.common.offload),
and what it returns is plain picklable data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .base import RawRecord
from .mapping import FieldMapping, Mapped, RowError
from .points import Placed, batch_points
from .prepare import Prepared, prepare


@dataclass
class Derived:
    """One record through the mapping: `read` is None when the mapping refused it (`error`); otherwise `place`
    is its point and either `item` is the prepared record or `error` why prepare() refused it. `read` keeps how
    the fields read, not the values (they are in `item`; from the helper they would travel twice)."""

    read: Mapped | None
    place: Placed | None = None
    item: Prepared | None = None
    error: RowError | None = None


def derive_records(
    records: list[RawRecord], mapping: FieldMapping, *, dataset: str, parcel_format: str
) -> list[Derived]:
    """A Derived per record, in order."""
    derived: list[Derived] = []
    for record in records:
        try:
            derived.append(Derived(mapping.read(record)))
        except RowError as exc:
            derived.append(Derived(None, error=exc))
    places = batch_points(records, [d.read.row if d.read else None for d in derived], mapping)
    for record, each, place in zip(records, derived, places, strict=True):
        if each.read is None:
            continue
        each.place = place
        try:
            each.item = prepare(each.read.row, record, dataset=dataset, parcel_format=parcel_format,
                                location=place.xy)  # fmt: skip
        except RowError as exc:
            each.error = exc
        each.read = Mapped({}, each.read.flags, each.read.problems)
    return derived


def record_deriver(setup: tuple) -> Callable[[list[RawRecord]], list[Derived]]:
    """The helper process's function (dealfinder.common.offload), built once from deriver_setup()'s tuple;
    each call derives one batch's records."""
    mapping_dataset, specs, epsg, dataset, parcel_format = setup
    mapping = FieldMapping(mapping_dataset, specs, epsg)
    return lambda records: derive_records(records, mapping, dataset=dataset, parcel_format=parcel_format)


def deriver_setup(mapping: FieldMapping, *, dataset: str, parcel_format: str) -> tuple:
    """record_deriver's setup for `mapping`: its specs only (the compiled readers are rebuilt in the helper)."""
    return (mapping.dataset, mapping.specs, mapping.epsg, dataset, parcel_format)
