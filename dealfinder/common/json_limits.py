"""JSON from outside, parsed with a depth limit: a clear 400 / form error instead of a 500.

Python's json module recurses once per nested array or object: a few kilobytes of `[[[[...` raise
RecursionError (not ValueError, so parsers that catch decoding errors let it through as a 500), and
data nested hundreds deep that does parse can still exhaust the stack further on (serializers, JSONField
saves). Everything DealFinder reads from outside as JSON (API bodies, GoHighLevel webhooks, the admin's
JSON fields) goes through `loads` or the two classes below, refusing more than JSON_MAX_DEPTH levels.
"""

from __future__ import annotations

import json

from django import forms
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class JSONTooDeep(ValueError):
    def __init__(self, limit: int):
        super().__init__(f"JSON nested more than {limit} levels deep")


def max_depth() -> int:
    return settings.JSON_MAX_DEPTH


def json_check_depth(value, limit: int | None = None) -> None:
    """Raise JSONTooDeep when lists/dicts nest deeper than `limit` (default JSON_MAX_DEPTH); iterative."""
    limit = max_depth() if limit is None else limit
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            raise JSONTooDeep(limit)
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def loads(text: str | bytes, **kwargs):
    """json.loads with the depth limit: ValueError (JSONTooDeep or the decoder's) for anything unreadable."""
    try:
        value = json.loads(text, **kwargs)
    except RecursionError:
        raise JSONTooDeep(max_depth()) from None
    json_check_depth(value)
    return value


class LimitedJSONParser(JSONParser):
    """DRF's JSON parser with the depth limit (400 "JSON parse error - JSON nested more than N levels deep")."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
            json_check_depth(data)
        except (RecursionError, JSONTooDeep):
            raise ParseError(f"JSON parse error - {JSONTooDeep(max_depth())}") from None
        return data


class LimitedJSONFormField(forms.JSONField):
    """The admin's JSON form field with the depth limit (a form error, not a 500)."""

    def to_python(self, value):
        try:
            converted = super().to_python(value)
            json_check_depth(converted)
        except (RecursionError, JSONTooDeep):
            raise forms.ValidationError(str(JSONTooDeep(max_depth())), code="too_deep") from None
        return converted

    def bound_data(self, data, initial):
        try:
            return super().bound_data(data, initial)
        except RecursionError:
            return forms.fields.InvalidJSONInput(data)


JSON_FORMFIELD_OVERRIDES = {"form_class": LimitedJSONFormField}
