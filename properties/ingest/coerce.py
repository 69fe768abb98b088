"""Coercions of mapped values to their target fields' types (text, numbers, dates, flags, states, zips, property
types through the source's land-use vocabulary), and the user's words for a value that is not one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import models as dj
from django.utils import timezone

from dealfinder.common.numbers import parse_decimal, parse_int
from properties.landuse import land_use_reader
from properties.normalize import split_state_zip, usps_state

if TYPE_CHECKING:
    from .mapping import FieldSpec

SIGNED = {"price_change"}
# Target ranges beyond the field's type; a value outside is bad (dropped, counted).
RANGES = {"latitude": (-90, 90), "longitude": (-180, 180), "year_built": (1700, 2100), "tax_year": (1800, 2200)}
_TRUE = {"Y", "YES", "TRUE", "T", "1"}
_FALSE = {"N", "NO", "FALSE", "F", "0", ""}


def short_value(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def describe_error(exc: Exception, value) -> str:
    """A coercion failure in the user's words: "'N/A x' is not a number", never decimal.ConversionSyntax."""
    message = str(exc) if isinstance(exc, ValueError) and not isinstance(exc, ArithmeticError) else ""
    if not message or message.startswith(("[<class", "could not convert", "invalid literal")):
        message = "is not a number"
    return f"{short_value(value)} {message}"


def transform(name: str, value):
    op, _, arg = name.partition(":")
    try:
        if op == "date" and arg:
            return dt.datetime.strptime(str(value).strip(), arg).date()
        if op == "rebase":  # sample data: dates written relative to an anchor day move so the anchor is today
            shift = timezone.localdate() - dt.date.fromisoformat(arg)
            return (
                read_date(value) if isinstance(value, str) and len(value.strip()) == 10 else read_datetime(value)
            ) + shift
        if op in ("trim", "upper", "lower", "title"):
            text = str(value).strip()
            return text if op == "trim" else getattr(text, op)()
        return {"number": parse_decimal, "int": parse_int, "bool": _bool, "date": read_date}[op](value)
    except (ValueError, TypeError, ArithmeticError) as exc:
        if op == "date" and arg:
            raise ValueError(f"{short_value(value)} is not a date in the format {arg}") from None
        raise ValueError(f"transform {name}: {describe_error(exc, value)}") from None


def _bool(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return bool(value)
    text = str(value).strip().upper()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise ValueError("is not yes/no")


def _epoch_ms(value) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=float(value))


def read_datetime(value) -> dt.datetime:
    try:
        return _read_datetime(value)
    except (ValueError, TypeError, OverflowError, ArithmeticError):
        raise ValueError("is not a date (e.g. 2024-03-01, 03/01/2024 or epoch milliseconds)") from None


def _read_datetime(value) -> dt.datetime:
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


def read_date(value) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    return read_datetime(value).date()  # in the value's own offset; epoch ms are UTC


def text_coercer(max_length: int | None) -> Callable[[Any], str]:
    def text(value) -> str:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = " ".join(str(value).split())  # whitespace runs collapsed, ends trimmed
        return text[:max_length] if max_length else text

    return text


def coercer(field: dj.Field, spec: FieldSpec, *, ranged: bool = True) -> Callable[[Any], Any]:
    """The coercion of a non-blank value to a target field's type; it raises ValueError (the reason in the user's
    words, after the value), TypeError or ArithmeticError for a value that is not one. `ranged=False` leaves out
    the target's plausible range (RANGES), to read null values such as a year 0."""
    target, kind = spec.target, field.get_internal_type()
    special = _SPECIAL.get(target)
    if special:
        return special(field, spec)
    if kind in ("CharField", "TextField", "URLField", "SlugField"):
        return text_coercer(field.max_length)
    if kind == "BooleanField":
        return _bool
    if kind == "DateField":
        return read_date
    if kind == "DateTimeField":
        return read_datetime
    low, high = RANGES.get(target, (None, None)) if ranged else (None, None)
    if kind == "FloatField":

        def float_(value) -> float:
            number = value if type(value) is float else float(parse_decimal(value))
            if number != number or number in (float("inf"), float("-inf")):
                raise ValueError("is not a finite number")
            if low is not None and not low <= number <= high:
                raise ValueError(f"is not a {target} ({low} to {high})")
            return number

        return float_
    if kind == "DecimalField":
        quantum, limit, signed = (
            Decimal(1).scaleb(-field.decimal_places),
            field.max_digits - field.decimal_places,
            target in SIGNED,
        )

        def decimal(value) -> Decimal:
            number = parse_decimal(value)
            if number.adjusted() >= limit:
                raise ValueError("is too large")
            if number < 0 and not signed:
                raise ValueError("is negative")
            return number.quantize(quantum)

        return decimal
    plausible = f"is not a plausible {target.replace('_', ' ')} ({low} to {high})"
    if low is None:
        low, high = (0, 32767) if "Small" in kind else (0, 2147483647)
        plausible = f"is out of range ({low} to {high})" if ranged else "is out of range"

    def integer(value) -> int:
        number = value if type(value) is int else parse_int(value)
        if ranged and not low <= number <= high:
            raise ValueError(plausible)
        return number

    return integer


def _state_coercer(field, spec) -> Callable[[Any], str]:
    """A USPS state code from a code or a name ("Missouri" -> MO), or "MI 49327" from a state and zip in one
    column (the address parser splits it); a value that is no US state is bad, never truncated."""

    def state(value) -> str:
        text = " ".join(str(value).split())
        code = usps_state(text)
        if code:
            return code
        pair = split_state_zip(text)
        if pair and usps_state(pair[0]):
            return f"{pair[0]} {pair[1]}"
        raise ValueError("is not a US state")

    return state


def _zip_coercer(field, spec) -> Callable[[Any], str]:
    text = text_coercer(field.max_length)

    def zip_(value) -> str:
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 100000:
            return f"{value:05d}"  # a zip stored as a number lost its leading zero
        result = text(value)
        digits = sum(c.isdigit() for c in result)
        if digits not in (4, 5, 8, 9) or not result.replace("-", "").replace(" ", "").isdigit():
            raise ValueError("is not a zip code")
        return result

    return zip_


def _property_type_coercer(field, spec) -> Callable[[Any], str]:
    """A property type through the source's land-use vocabulary; a value it does not explain is bad (stored as
    unknown), with what to do about it."""
    vocabulary = dict(spec.vocabulary) if isinstance(spec.vocabulary, tuple) else spec.vocabulary
    read = land_use_reader(vocabulary)
    name = vocabulary if isinstance(vocabulary, str) else "mapping's table" if vocabulary else None
    text = text_coercer(100)

    def property_type(value) -> str:
        found = read(text(value))
        if found:
            return found
        if not any(c.isdigit() for c in str(value)):
            raise ValueError("names no property type DealFinder knows")
        if name and name != "words":
            raise ValueError(f"is not in the {name} land-use vocabulary")
        raise ValueError('is a land-use code: name the source\'s vocabulary ("fl_dor", "cook_il" or a table)')

    return property_type


_SPECIAL = {
    "state": _state_coercer,
    "mailing_state": _state_coercer,
    "zip": _zip_coercer,
    "mailing_zip": _zip_coercer,
    "property_type": _property_type_coercer,
}
