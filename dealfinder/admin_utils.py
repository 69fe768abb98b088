"""Admin building blocks shared by every app."""

import json

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html


def pretty_json(value) -> str:
    """Read-only, indented JSON for raw payloads."""
    return format_html(
        '<pre class="df-json">{}</pre>',
        json.dumps(value, indent=2, sort_keys=True, default=str),
    )


def json_display(field: str):
    """A read-only admin field showing a JSON column pretty-printed (use with exclude)."""

    @admin.display(description=field.replace("_", " "))
    def render(obj):
        return pretty_json(getattr(obj, field)) if obj is not None and obj.pk else "-"

    render.__name__ = f"{field}_json"
    return render


def admin_link(obj, label=None) -> str:
    """An HTML link to an object's admin change page ("-" when there is none)."""
    if obj is None:
        return "-"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label if label is not None else obj)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records written only by the system (runs, logs, history)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
