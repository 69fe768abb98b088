"""Admin building blocks shared by every app."""

import json

from django.contrib import admin
from django.contrib.admin import helpers
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from dealfinder.common.generations import change_generation_bump


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


def fieldsets_without(fieldsets, hidden: tuple[str, ...]) -> list:
    """`fieldsets` with the `hidden` fields left out (for fields a user's permissions do not cover)."""
    return [(name, {**opts, "fields": [f for f in opts["fields"] if f not in hidden]}) for name, opts in fieldsets]


class LargeChangelistAdmin(admin.ModelAdmin):
    """For the big changelists (issue 26): Django's action checkbox column with the same markup, without a widget
    template render per row (a CheckboxInput render costs about 0.3 ms: a tenth of a 100-row page), and pages of
    50 rows (the rows are most of a page's cost once its queries are indexed: 100 -> 50 rows took a page from
    about 115 to 80 ms in-process at 100,000 leads)."""

    list_per_page = 50

    def action_checkbox(self, obj):
        label = format_html(_("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            label,
        )


class CountedRecordsAdmin(admin.ModelAdmin):
    """For records cached figures count (dealfinder.common.generations): a save or deletion here bumps the
    generation once committed (for models without an `updated_at` the figures' fingerprint reads)."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        transaction.on_commit(change_generation_bump)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        transaction.on_commit(change_generation_bump)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        transaction.on_commit(change_generation_bump)


class ReadOnlyAdmin(admin.ModelAdmin):
    """For records written only by the system (runs, logs, history)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def with_action_permissions(admin_class: type[admin.ModelAdmin], **permissions: list[str]) -> type:
    """A subclass of a third-party ModelAdmin whose named actions declare `permissions=` (its own do not), so
    Django offers and runs each only for users holding them: with_action_permissions(X, run_tasks=["change"])."""
    attrs = {}
    for name, perms in permissions.items():
        func = getattr(admin_class, name)

        def wrapper(modeladmin, request, queryset, _func=func):
            return _func(modeladmin, request, queryset)

        wrapper.__name__ = name
        attrs[name] = admin.action(permissions=perms, description=func.short_description)(wrapper)
    return type(admin_class.__name__, (admin_class,), attrs)


def register_with_action_permissions(model, **permissions: list[str]) -> None:
    """Re-register `model` with its registered admin made to declare its actions' permissions."""
    current = type(admin.site.get_model_admin(model))
    admin.site.unregister(model)
    admin.site.register(model, with_action_permissions(current, **permissions))
