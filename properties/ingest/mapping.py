"""Field mappings: `{"<target>": "<source attribute>" | {spec}}`, validated before any fetch.

A spec is one of
  "ATTR"                                         the attribute as is (strings trimmed, blanks -> None)
  {"source": "ATTR", "transform": [...]}         transforms: trim upper lower title number int bool date date:<fmt>
                                                 rebase:<anchor date> (shift so the anchor day is today)
  {"concat": ["A", "B"], "sep": " "}             joined non-blank values
  {"source": "STZIP", "split": "state_zip", "part": "zip"}   or "split": "<separator>", "part": <index>
  {"value": "FL"}                                a constant
and may carry "default". The result is coerced to the target's type (dates accept epoch ms, ISO and m/d/Y).
A config may start from a shipped preset: {"preset": "zillow", "<target>": override, "<target>": null (drop)}.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

from django.db import models as dj
from django.utils import timezone

from properties import models as m

from .base import RawRecord

ROW_ERROR = "__row_error__"  # a reader marks a record it could only half read (e.g. a CSV row's column count)
PRESETS_DIR = Path(__file__).resolve().parent / "mappings"


class MappingError(ValueError):
    """The mapping configuration itself is wrong (raised before anything is fetched)."""


class RowError(ValueError):
    """One record cannot be mapped; the message is the reason recorded on the run."""


def _f(model, name):
    return model._meta.get_field(name)


_COMMON = {
    "parcel_id": dj.CharField(max_length=64),
    "external_id": dj.CharField(max_length=128),
    "county": _f(m.Property, "county"),
    "street": dj.CharField(max_length=200),
    "unit": _f(m.Property, "unit"),
    "city": _f(m.Property, "city"),
    "state": dj.CharField(max_length=30),
    "zip": _f(m.Property, "zip"),
    "latitude": dj.FloatField(),
    "longitude": dj.FloatField(),
    "owner_name": _f(m.Property, "owner_name"),
    "owner_mailing_address": _f(m.Property, "owner_mailing_address"),
    "mailing_street": dj.CharField(max_length=200),
    "mailing_city": dj.CharField(max_length=100),
    "mailing_state": dj.CharField(max_length=30),
    "mailing_zip": dj.CharField(max_length=10),
    "property_type": dj.CharField(max_length=100),
    **{n: _f(m.Property, n) for n in ("beds", "baths", "living_sqft", "lot_sqft", "year_built", "is_vacant")},
}
_VALUATION = (
    "tax_year",
    "market_value",
    "assessed_value",
    "taxable_value",
    "annual_taxes",
    "last_sale_price",
    "last_sale_date",
    "tax_delinquent",
    "delinquent_amount",
)
_CHILD_TARGETS = {
    "parcels": {n: _f(m.Valuation, n) for n in _VALUATION},
    "valuations": {n: _f(m.Valuation, n) for n in _VALUATION},
    "tax_sales": {
        n: _f(m.TaxSale, n) for n in ("tda_number", "sale_date", "deed_status", "opening_bid", "source_updated_at")
    },
    "foreclosures": {
        n: _f(m.Foreclosure, n)
        for n in (
            "case_number",
            "borrower",
            "lender",
            "status",
            "default_amount",
            "opening_bid",
            "filing_date",
            "auction_date",
        )
    },
    "code_violations": {
        n: _f(m.CodeViolation, n) for n in ("case_number", "violation_type", "status", "opened_at", "closed_at")
    },
    "listings": {
        **{n: _f(m.Listing, n) for n in ("list_price", "days_on_market", "listed_at", "url")},
        "status": dj.CharField(max_length=100),
        "previous_price": _f(m.PriceChange, "old_price"),
        "price_change": _f(m.PriceChange, "old_price"),
        "price_changed_at": _f(m.PriceChange, "changed_at"),
    },
}
TARGETS: dict[str, dict[str, dj.Field]] = {ds: {**_COMMON, **child} for ds, child in _CHILD_TARGETS.items()}
KEY_TARGET = {"tax_sales": "tda_number", "foreclosures": "case_number", "code_violations": "case_number"}
SIGNED = {"price_change", "latitude", "longitude"}
TRANSFORMS = {"trim", "upper", "lower", "title", "number", "int", "bool", "date", "rebase"}
_SPEC_KEYS = {"source", "concat", "sep", "transform", "split", "part", "value", "default"}
_STATE_ZIP = re.compile(r"^([A-Za-z]{2})[\s,]*(\d{5}(?:-?\d{4})?)?$")
_TRUE = {"Y", "YES", "TRUE", "T", "1"}
_FALSE = {"N", "NO", "FALSE", "F", "0", ""}


def preset_names() -> list[str]:
    return sorted(p.stem for p in PRESETS_DIR.glob("*.json"))


def load_preset(name: str) -> dict:
    if name not in preset_names():
        raise MappingError(f"unknown mapping preset {name!r}; available: {', '.join(preset_names())}")
    return json.loads((PRESETS_DIR / f"{name}.json").read_text())


@dataclass(frozen=True)
class FieldSpec:
    target: str
    sources: tuple[str, ...] = ()
    sep: str = " "
    transforms: tuple[str, ...] = ()
    split: str | None = None
    part: str | int | None = None
    constant: Any = None
    default: Any = None


@dataclass(frozen=True)
class FieldMapping:
    dataset: str
    specs: tuple[FieldSpec, ...]

    @classmethod
    def from_config(cls, dataset: str, config: dict) -> FieldMapping:
        """Validate a mapping config for a dataset; MappingError says what is wrong."""
        if dataset not in TARGETS:
            raise MappingError(f"unknown dataset {dataset!r}; allowed: {', '.join(TARGETS)}")
        if not isinstance(config, dict):
            raise MappingError("a field mapping must be a JSON object of target field -> source")
        config = dict(config)
        fields = {}
        if "preset" in config:
            fields = dict(load_preset(config.pop("preset"))["fields"])
        fields.update(config)
        allowed = TARGETS[dataset]
        specs = []
        for target, spec in fields.items():
            if spec is None:
                continue
            if target not in allowed:
                raise MappingError(
                    f"unknown target field {target!r} for dataset {dataset}; allowed: {', '.join(sorted(allowed))}"
                )
            specs.append(_parse_spec(target, spec))
        mapped = {s.target for s in specs}
        for required in ("parcel_id", KEY_TARGET.get(dataset)):
            if required and required not in mapped:
                raise MappingError(f"the {dataset} mapping must map {required!r}")
        return cls(dataset, tuple(specs))

    def apply(self, record: RawRecord) -> dict[str, Any]:
        """Target values for one record; RowError(reason) when a value is missing or malformed."""
        if ROW_ERROR in record.attributes:
            raise RowError(record.attributes[ROW_ERROR])
        row = {}
        for spec, extract, coerce in self._compiled:
            value = extract(record.attributes)
            try:
                row[spec.target] = None if _blank(value) else coerce(value)
            except (ValueError, TypeError, ArithmeticError) as exc:
                raise RowError(f"bad {spec.target}: {value!r} ({exc})") from None
        for required in ("parcel_id", KEY_TARGET.get(self.dataset)):
            if required and row.get(required) is None:
                raise RowError(f"missing {required}")
        return row

    @cached_property
    def _compiled(self) -> tuple[tuple[FieldSpec, Callable[[dict], Any], Callable[[Any], Any]], ...]:
        """Each spec with its extraction and the coercion to its target's type, chosen once per mapping."""
        fields = TARGETS[self.dataset]
        return tuple((spec, _extractor(spec), _coercer(fields[spec.target], spec.target)) for spec in self.specs)


def _extractor(spec: FieldSpec) -> Callable[[dict], Any]:
    extract = _attribute_extractor(spec)
    if spec.target in _PAIR_INDEX:
        return _pair_part(extract, _PAIR_INDEX[spec.target])
    return extract


_PAIR_INDEX = {"longitude": 0, "latitude": 1}


def _parse_spec(target: str, spec) -> FieldSpec:
    if isinstance(spec, str):
        return FieldSpec(target, (spec,))
    if not isinstance(spec, dict) or not spec.keys() <= _SPEC_KEYS:
        raise MappingError(f"{target}: a spec is a source attribute name or an object with keys {sorted(_SPEC_KEYS)}")
    transforms = spec.get("transform", [])
    transforms = (transforms,) if isinstance(transforms, str) else transforms
    if not isinstance(transforms, list | tuple) or not all(isinstance(t, str) for t in transforms):
        raise MappingError(f"{target}: 'transform' is a transform name or a list of transform names")
    transforms = tuple(transforms)
    for t in transforms:
        op, _, arg = t.partition(":")
        if op not in TRANSFORMS:
            raise MappingError(f"{target}: unknown transform {t!r}; allowed: {', '.join(sorted(TRANSFORMS))}")
        if op == "rebase" and not _is_iso_date(arg):
            raise MappingError(f"{target}: rebase needs the data's anchor date, e.g. rebase:2026-01-01")
    if "concat" in spec:
        if not isinstance(spec["concat"], list | tuple):
            raise MappingError(f"{target}: 'concat' is a list of source attribute names")
        sources = tuple(spec["concat"])
    elif "source" in spec:
        sources = (spec["source"],)
    elif "value" in spec:
        sources = ()
    else:
        raise MappingError(f"{target}: give 'source', 'concat' or 'value'")
    if not all(isinstance(s, str) and s for s in sources):
        raise MappingError(f"{target}: source attribute names must be non-empty strings")
    split, part = spec.get("split"), spec.get("part")
    if not isinstance(spec.get("sep", " "), str):
        raise MappingError(f"{target}: 'sep' must be a string")
    if split is not None and not (isinstance(split, str) and split):
        raise MappingError(f"{target}: 'split' is 'state_zip' or a non-empty separator string")
    if isinstance(part, bool):
        raise MappingError(f"{target}: 'part' is 'state', 'zip' or an integer index")
    if split == "state_zip" and part not in ("state", "zip"):
        raise MappingError(f"{target}: split state_zip needs part 'state' or 'zip'")
    if split and split != "state_zip" and not isinstance(part, int):
        raise MappingError(f"{target}: split by a separator needs an integer part")
    return FieldSpec(
        target, sources, spec.get("sep", " "), transforms, split, part, spec.get("value"), spec.get("default")
    )


def _is_iso_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _get(attributes: dict, name: str):
    """An attribute by name, case-insensitively; a dotted name also reaches into nested values
    (`shape.latitude`, `location.coordinates.1`, `location.human_address.zip` inside a JSON string)."""
    if name in attributes:
        return attributes[name]
    lowered = name.lower()
    value = next((v for k, v in attributes.items() if k.lower() == lowered), _ABSENT)
    if value is _ABSENT:
        return _nested(attributes, name.split(".")) if "." in name else None
    return value


_ABSENT = object()


def _nested(value, keys: list[str]):
    for key in keys:
        if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
            try:
                value = json.loads(value)
            except ValueError:
                return None
        if isinstance(value, dict):
            lowered = key.lower()
            value = value[key] if key in value else next((v for k, v in value.items() if k.lower() == lowered), None)
        elif isinstance(value, list) and key.lstrip("-").isdigit() and -len(value) <= int(key) < len(value):
            value = value[int(key)]
        else:
            return None
    return value


def _pair_part(extract: Callable[[dict], Any], index: int) -> Callable[[dict], Any]:
    """For latitude/longitude: a [longitude, latitude] pair (GeoJSON `coordinates`) gives its own part."""

    def part(attributes: dict):
        value = extract(attributes)
        if isinstance(value, list | tuple) and len(value) in (2, 3):
            return value[index]
        return value

    return part


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _extract(spec: FieldSpec, attributes: dict):
    if not spec.sources:
        value = spec.constant
    elif len(spec.sources) == 1 and not spec.split:
        value = _get(attributes, spec.sources[0])
    else:
        parts = [_get(attributes, s) for s in spec.sources]
        value = spec.sep.join(str(p).strip() for p in parts if not _blank(p)) or None
    if spec.split and not _blank(value):
        value = _split(str(value).strip(), spec.split, spec.part)
    for t in spec.transforms:
        if _blank(value):
            break
        value = _transform(t, value)
    return spec.default if _blank(value) else value


def _attribute_extractor(spec: FieldSpec) -> Callable[[dict], Any]:
    """_extract for one spec; the common "ATTR" spec (one attribute as is) without the general path."""
    if len(spec.sources) != 1 or spec.split or spec.transforms:
        return lambda attributes: _extract(spec, attributes)
    name, default = spec.sources[0], spec.default

    def attribute(attributes: dict):
        value = attributes[name] if name in attributes else _get(attributes, name)
        return default if _blank(value) else value

    return attribute


def _split(value: str, how: str, part):
    if how == "state_zip":
        match = _STATE_ZIP.match(value)
        if not match:
            raise RowError(f"cannot split {value!r} into state and zip")
        return match.group(1).upper() if part == "state" else match.group(2)
    pieces = value.split(how)
    return pieces[part].strip() if -len(pieces) <= part < len(pieces) else None


def _transform(name: str, value):
    op, _, arg = name.partition(":")
    try:
        if op == "date" and arg:
            return dt.datetime.strptime(str(value).strip(), arg).date()
        if op == "rebase":  # sample data: dates written relative to an anchor day move so the anchor is today
            shift = timezone.localdate() - dt.date.fromisoformat(arg)
            return (_date(value) if isinstance(value, str) and len(value.strip()) == 10 else _datetime(value)) + shift
        if op in ("trim", "upper", "lower", "title"):
            text = str(value).strip()
            return text if op == "trim" else getattr(text, op)()
        return {"number": _decimal, "int": _int, "bool": _bool, "date": _date}[op](value)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise RowError(f"{name} cannot read {value!r} ({exc})") from None


def _decimal(value) -> Decimal:
    if isinstance(value, float):
        return Decimal(repr(value))
    number = Decimal(str(value).strip().replace(",", "").replace("$", ""))
    if not number.is_finite():
        raise ValueError("not a finite number")
    return number


def _int(value) -> int:
    number = _decimal(value)
    if number != number.to_integral_value():
        raise ValueError("not a whole number")
    return int(number)


def _bool(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return bool(value)
    text = str(value).strip().upper()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise ValueError("not a yes/no value")


def _epoch_ms(value) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=float(value))


def _datetime(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        result = value
    elif isinstance(value, dt.date):
        result = dt.datetime.combine(value, dt.time())
    elif isinstance(value, int | float | Decimal) or (isinstance(value, str) and value.strip().isdigit()):
        text = str(value).strip()
        if len(text) == 8 and isinstance(value, str):
            result = dt.datetime.strptime(text, "%Y%m%d")
        else:
            return _epoch_ms(value)
    else:
        text = str(value).strip().replace("Z", "+00:00")
        try:
            result = dt.datetime.fromisoformat(text)
        except ValueError:
            result = dt.datetime.strptime(text.split(" ")[0], "%m/%d/%Y")
    return result if timezone.is_aware(result) else timezone.make_aware(result, dt.UTC)


def _date(value) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    return _datetime(value).date()  # in the value's own offset; epoch ms are UTC


def _coercer(field: dj.Field, target: str) -> Callable[[Any], Any]:
    """The coercion of a non-blank value to a target field's type; it raises ValueError, TypeError or
    ArithmeticError for a value that is not one."""
    kind = field.get_internal_type()
    if kind in ("CharField", "TextField", "URLField", "SlugField"):
        max_length = field.max_length

        def text(value) -> str:
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            text = " ".join(str(value).split())  # whitespace runs collapsed, ends trimmed
            return text[:max_length] if max_length else text

        return text
    if kind == "BooleanField":
        return _bool
    if kind == "DateField":
        return _date
    if kind == "DateTimeField":
        return _datetime
    if kind == "FloatField":

        def float_(value) -> float:
            number = value if type(value) is float else float(_decimal(value))
            if not -180 <= number <= 180:
                raise ValueError("out of range")
            return number

        return float_
    if kind == "DecimalField":
        quantum, limit, signed = (
            Decimal(1).scaleb(-field.decimal_places),
            field.max_digits - field.decimal_places,
            target in SIGNED,
        )

        def decimal(value) -> Decimal:
            number = _decimal(value).quantize(quantum)
            if number.adjusted() >= limit or (number < 0 and not signed):
                raise ValueError("out of range")
            return number

        return decimal
    low, high = (0, 32767) if "Small" in kind else (0, 2147483647)

    def integer(value) -> int:
        number = value if type(value) is int else _int(value)
        if not low <= number <= high:
            raise ValueError("out of range")
        return number

    return integer
