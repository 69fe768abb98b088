"""The one reader of numbers from outside (ingested records, GoHighLevel custom fields): "1,250.50", "$60,000",
12, 3.5 -> Decimal. A ValueError says why a value is not one, in words that follow the value ("... is not a
number"); callers decide whether that drops a field (ingest) or leaves it unset (a pulled buy box)."""

from decimal import Decimal, InvalidOperation


def parse_decimal(value) -> Decimal:
    """A finite Decimal from a number or its text (thousands separators and a dollar sign allowed)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    try:
        number = Decimal(str(value).strip().replace(",", "").replace("$", ""))
    except InvalidOperation:
        raise ValueError("is not a number") from None
    if not number.is_finite():
        raise ValueError("is not a finite number")
    return number


def parse_int(value) -> int:
    """A whole number (parse_decimal's reading); "3.5" is not one."""
    number = parse_decimal(value)
    if number != number.to_integral_value():
        raise ValueError("is not a whole number")
    return int(number)
