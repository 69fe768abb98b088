"""Model field validators shared by the apps (the outbound URL guard, lists of short strings)."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from dealfinder.common.outbound import UnsafeURLError, url_check_public


def validate_source_url(value: str) -> None:
    """Model field validator for DataSource.url (admin and API show the message)."""
    try:
        url_check_public(value)
    except UnsafeURLError as exc:
        raise ValidationError(str(exc), code="unsafe_url") from None


def validate_string_list(value, *, choices=None, max_items: int = 100, max_length: int = 100) -> list[str]:
    """A JSON list of short strings (optionally from `choices`); the cleaned list, or a ValidationError.

    For model clean() methods and admin forms of list-valued JSON fields (Buyer.tags, property_types,
    target_zips, strategies), which the API already checks with ListField serializers.
    """
    if not isinstance(value, list):
        raise ValidationError(
            'Must be a list of strings, e.g. ["a", "b"], not %(kind)s.',
            code="not_a_list",
            params={"kind": type(value).__name__},
        )
    if len(value) > max_items:
        raise ValidationError("At most %(max)d items.", code="too_many", params={"max": max_items})
    allowed = {str(c[0]) if isinstance(c, tuple | list) else str(c) for c in choices} if choices else None
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise ValidationError(
                "Item %(item)r is not a non-empty string.", code="not_a_string", params={"item": item}
            )
        if len(item) > max_length:
            raise ValidationError(
                "Item %(item)r is longer than %(max)d characters.",
                code="too_long",
                params={"item": item[:20] + "…", "max": max_length},
            )
        if allowed is not None and item not in allowed:
            raise ValidationError(
                "Unknown value %(item)r; allowed: %(allowed)s.",
                code="invalid_choice",
                params={"item": item, "allowed": ", ".join(sorted(allowed))},
            )
    return value
