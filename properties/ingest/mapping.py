"""Field mappings: `{"<target>": "<source attribute>" | {spec}}`, validated before any fetch.

A spec is one of
  "ATTR"                                         the attribute as is (strings trimmed, blanks -> None)
  {"source": "ATTR", "transform": [...]}         transforms: trim upper lower title number int bool date date:<fmt>
                                                 rebase:<anchor date> (shift so the anchor day is today)
  {"concat": ["A", "B"], "sep": " "}             joined non-blank values
  {"source": "STZIP", "split": "state_zip", "part": "zip"}   or "split": "<separator>", "part": <index>
  {"value": "FL"}                                a constant
and may carry "default" (for a blank value), "null" (the values that mean "unknown" for this field, in place of
the target's defaults: a sale price, year built or area of 0) and, for property_type, "vocabulary" (the source's
land-use codes: "fl_dor", "cook_il", "words" (the default) or a table {"<code>": "<property type>"}).
Everywhere, NULL, N/A, None, NULL-- and the like are blanks. A config may start from a shipped preset
({"preset": "zillow", "<target>": override, "<target>": null (drop)}) and may name the EPSG code of its x/y
columns ({"x": "XCOORD", "y": "YCOORD", "epsg": 2236}).

Each value is coerced to its target's type. A value that is not one (a word in a number column, a date that is
no date) drops that value, counted per field, never the record; only a bad or missing parcel id (or the
dataset's key) fails a record. `FieldMapping.read` says how each field read: filled, blank, sentinel or bad.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from django.contrib.gis.gdal import GDALException, SpatialReference

from properties.landuse import vocabulary_errors
from properties.sales_rules import SaleRulesParams

from .base import RawRecord
from .coerce import coercer, describe_error, short_value, transform
from .joined import TABLES, JoinConfig
from .targets import KEY_TARGET, TARGETS

ROW_ERROR = "__row_error__"  # a reader marks a record it could only half read (e.g. a CSV row's column count)
PRESETS_DIR = Path(__file__).resolve().parent / "mappings"
# How a field read, one letter per mapped field in FieldMapping.read's flags.
FILLED, BLANK, SENTINEL, BAD = "f", "b", "s", "x"


class MappingError(ValueError):
    """The mapping configuration itself is wrong (raised before anything is fetched)."""


class RowError(ValueError):
    """One record cannot be mapped; the message is the reason recorded on the run. `field` names the target at
    fault when there is one, and `mapped` holds how the record's fields read (when they were read)."""

    def __init__(self, message: str, *, field: str | None = None, mapped: Mapped | None = None):
        super().__init__(message)
        self.field, self.mapped = field, mapped


# Values that mean "unknown" for a target unless its spec says otherwise ("null": [...]): no sale recorded, no
# year or area on record. A sale price of 0 would otherwise make 100% equity.
DEFAULT_NULLS = {"last_sale_price": (0,), "year_built": (0,), "living_sqft": (0,), "lot_sqft": (0,)}
# Blanks in any column, whatever the case.
NULL_WORDS = frozenset({"NULL", "NULL--", "<NULL>", "(NULL)", "N/A", "#N/A", "NA", "NONE", "NAN", "NIL", "-", "--"})
TRANSFORMS = {"trim", "upper", "lower", "title", "number", "int", "bool", "date", "rebase"}
_SPEC_KEYS = {"source", "concat", "sep", "transform", "split", "part", "value", "default", "null", "vocabulary"}
_STATE_ZIP = re.compile(r"^([A-Za-z]{2})[\s,]*(\d{5}(?:-?\d{4})?)?$")
WGS84 = 4326
SALE_RULES = "sale_rules"  # a sales source's arms-length parameters (properties.sales_rules.SaleRulesParams)


def _check_sale_rules(dataset: str, rules) -> None:
    if rules is None:
        return
    if dataset != "sales":
        raise MappingError(f"{SALE_RULES!r} belongs to a sales mapping, not to {dataset}")
    if not isinstance(rules, dict):
        raise MappingError(f'{SALE_RULES!r} must be a JSON object, e.g. {{"nominal_price_floor": 1000}}')
    try:
        SaleRulesParams.from_mapping(rules)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise MappingError(f"{SALE_RULES}: {exc}") from None


def _check_tables(dataset: str, tables) -> None:
    if tables is None:
        return
    if dataset != "sales":
        raise MappingError(f"{TABLES!r} (parties and legals joined on the document id) belongs to a sales mapping")
    try:
        JoinConfig.from_mapping(tables)
    except ValueError as exc:
        raise MappingError(f"{TABLES}: {exc}") from None


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
    nulls: tuple | None = None  # None: the target's DEFAULT_NULLS
    vocabulary: Any = None  # property_type only: a vocabulary name or a {code: type} table

    @property
    def label(self) -> str:
        """The source side as a user wrote it: "SALE_PRICE", "ADDR1+ADDR2", or the constant."""
        return "+".join(self.sources) if self.sources else f"value {self.constant!r}"


@dataclass
class Mapped:
    """One record through a mapping: the target values, one flag letter per spec (FILLED, BLANK, SENTINEL, BAD, in
    spec order) and the problems, (target, message) in the user's words, of its bad and sentinel values."""

    row: dict[str, Any]
    flags: str
    problems: list[tuple[str, str]] | None = None


@dataclass(frozen=True)
class FieldMapping:
    dataset: str
    specs: tuple[FieldSpec, ...]
    epsg: int | None = None  # the coordinate system of the x/y targets (None: WGS84 longitude/latitude)

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
        epsg = _parse_epsg(config.pop("epsg", None))
        _check_sale_rules(dataset, config.pop(SALE_RULES, None))
        _check_tables(dataset, config.pop(TABLES, None))
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
        if ("x" in mapped) != ("y" in mapped):
            raise MappingError("map both x and y (the point's coordinates), or neither")
        if epsg is not None and "x" not in mapped:
            raise MappingError(f"epsg {epsg} names the coordinate system of x and y: map them too")
        return cls(dataset, tuple(specs), epsg)

    def read(self, record: RawRecord) -> Mapped:
        """The record's target values and how each field read. A bad value is dropped (None, flagged BAD, its
        problem stated); RowError when the record cannot be one: a missing or bad parcel id or key."""
        attributes = record.attributes
        if ROW_ERROR in attributes:
            raise RowError(attributes[ROW_ERROR])
        row: dict[str, Any] = {}
        flags: list[str] = []
        problems = None
        for target, label, extract, coerce, raw_nulls, longest_null, nulls, loose in self._compiled:
            try:
                value = extract(attributes)
            except ValueError as exc:  # a transform or split that cannot read the value
                row[target] = None
                flags.append(BAD)
                problems = _add(problems, target, f"{label}: {exc}")
                continue
            if value is None:
                row[target] = None
                flags.append(BLANK)
                continue
            if value.__class__ is str and len(value) <= longest_null and value.strip().upper() in raw_nulls:
                row[target] = None
                flags.append(SENTINEL)
                problems = _add(problems, target, f"{label}: {short_value(value)} read as unknown")
                continue
            try:
                coerced = coerce(value)
            except (ValueError, TypeError, ArithmeticError) as exc:
                row[target] = None
                if nulls and _loose(loose, value) in nulls:  # e.g. year built 0, out of the year range
                    flags.append(SENTINEL)
                    problems = _add(problems, target, f"{label}: {short_value(value)} read as unknown")
                else:
                    flags.append(BAD)
                    problems = _add(problems, target, f"{label}: {describe_error(exc, value)}")
                continue
            if nulls and coerced in nulls:
                row[target] = None
                flags.append(SENTINEL)
                problems = _add(problems, target, f"{label}: {short_value(value)} read as unknown")
                continue
            row[target] = coerced
            flags.append(FILLED)
        mapped = Mapped(row, "".join(flags), problems)
        for required, index in self._required:
            if row[required] is None:
                reason = next((text for t, text in problems or () if t == required), "")
                message = f"bad {required}: {reason}" if flags[index] == BAD else f"missing {required}"
                raise RowError(message, field=required, mapped=mapped)
        return mapped

    def apply(self, record: RawRecord) -> dict[str, Any]:
        """The record's target values (FieldMapping.read without how they read)."""
        return self.read(record).row

    @cached_property
    def targets(self) -> tuple[str, ...]:
        """The mapped targets in spec order: the meaning of each letter of Mapped.flags."""
        return tuple(spec.target for spec in self.specs)

    @cached_property
    def _required(self) -> tuple[tuple[str, int], ...]:
        """The targets a record cannot be without, with their place in the flags."""
        return tuple((t, self.targets.index(t)) for t in ("parcel_id", KEY_TARGET.get(self.dataset)) if t)

    @cached_property
    def _compiled(self) -> tuple:
        """Per spec: target, label, extraction, coercion to the target's type, the null texts (upper case) and the
        longest of them, the null values as the coercion without its range check reads them, and that coercion;
        chosen once per mapping."""
        fields = TARGETS[self.dataset]
        compiled = []
        for spec in self.specs:
            field = fields[spec.target]
            coerce, loose = coercer(field, spec), coercer(field, spec, ranged=False)
            configured = DEFAULT_NULLS.get(spec.target, ()) if spec.nulls is None else spec.nulls
            raw_nulls = NULL_WORDS | {str(n).strip().upper() for n in configured}
            nulls = frozenset(n for n in (_loose(loose, value) for value in configured) if n is not None)
            longest = max(len(n) for n in raw_nulls) + 2  # padding around a null word is still a null word
            compiled.append((spec.target, spec.label, _extractor(spec), coerce, raw_nulls, longest, nulls, loose))
        return tuple(compiled)


def _loose(coerce: Callable[[Any], Any], value):
    """The value as a range-free coercion reads it, or None when it cannot."""
    try:
        return coerce(value)
    except (ValueError, TypeError, ArithmeticError):
        return None


def _add(problems: list | None, target: str, text: str) -> list:
    if problems is None:
        problems = []
    problems.append((target, text))
    return problems


def _parse_epsg(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.upper().removeprefix("EPSG:").isdigit():
        value = int(value.upper().removeprefix("EPSG:"))
    if not isinstance(value, int) or isinstance(value, bool) or not 1024 <= value <= 999999:
        raise MappingError(f"epsg must be an EPSG code such as 2236 or 3857, not {value!r}")
    try:
        SpatialReference(value)
    except (GDALException, ValueError):
        raise MappingError(f"EPSG:{value} is not a coordinate system GDAL knows") from None
    return None if value == WGS84 else value


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
    nulls = spec.get("null")
    if nulls is not None:
        nulls = nulls if isinstance(nulls, list) else [nulls]
        if not all(isinstance(n, str | int | float) and not isinstance(n, bool) for n in nulls):
            raise MappingError(f"{target}: 'null' is a value or a list of values that mean unknown, e.g. [0, \"-1\"]")
        nulls = tuple(nulls)
    vocabulary = spec.get("vocabulary")
    if vocabulary is not None:
        if target != "property_type":
            raise MappingError(f"{target}: only property_type takes a 'vocabulary'")
        problem = vocabulary_errors(vocabulary)
        if problem:
            raise MappingError(f"{target}: {problem}")
        vocabulary = tuple(sorted(vocabulary.items())) if isinstance(vocabulary, dict) else vocabulary
    return FieldSpec(
        target,
        sources,
        spec.get("sep", " "),
        transforms,
        split,
        part,
        spec.get("value"),
        None if _blank(spec.get("default")) else spec.get("default"),
        nulls,
        vocabulary,
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
        value = transform(t, value)
    return spec.default if _blank(value) else value


def _attribute_extractor(spec: FieldSpec) -> Callable[[dict], Any]:
    """_extract for one spec (None for a blank value); the common "ATTR" spec (one attribute as is) without the
    general path. ValueError (the reason in the user's words) when a transform or split cannot read the value."""
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
            raise ValueError(f"{short_value(value)} is not a state and zip (e.g. FL 32801)")
        return match.group(1).upper() if part == "state" else match.group(2)
    pieces = value.split(how)
    return pieces[part].strip() if -len(pieces) <= part < len(pieces) else None
