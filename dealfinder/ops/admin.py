from django import forms
from django.contrib import admin
from django_celery_beat.admin import PeriodicTaskAdmin, PeriodicTaskForm
from django_celery_beat.models import PeriodicTask

from dealfinder.common import json_limits
from dealfinder.common.admin import ReadOnlyAdmin, pretty_json, register_with_action_permissions
from dealfinder.ops import admin_accounts  # noqa: F401  (users, groups, API tokens, login lockouts)
from dealfinder.ops.backtest import backtest_activate
from dealfinder.ops.models import PipelineRun, PipelineStep
from dealfinder.ops.scoring import leads_score
from dealfinder.ops.tasks import backtest_launch
from leads.admin import BacktestRunAdmin, LeadAdmin


def _seconds(duration) -> str:
    return f"{duration.total_seconds():.1f} s" if duration is not None else "-"


class PipelineStepInline(admin.TabularInline):
    model = PipelineStep
    fields = ("order", "name", "status", "attempts", "duration", "counts_pretty", "error", "started_at", "finished_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="duration")
    def duration(self, obj):
        return _seconds(obj.duration)

    @admin.display(description="counts")
    def counts_pretty(self, obj):
        return pretty_json(obj.counts)


@admin.register(PipelineRun)
class PipelineRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "job", "status", "trigger", "started_at", "run_duration", "step_statuses", "message")
    list_filter = ("job", "status", "trigger")
    date_hierarchy = "started_at"
    search_fields = ("message",)
    fields = ("job", "status", "trigger", "started_at", "finished_at", "heartbeat_at", "run_duration", "message")
    readonly_fields = fields
    inlines = [PipelineStepInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("steps")

    @admin.display(description="duration")
    def run_duration(self, obj):
        return _seconds(obj.duration)

    @admin.display(description="steps")
    def step_statuses(self, obj):
        return ", ".join(f"{step.name}: {step.status}" for step in obj.steps.all()) or "-"


class LimitedPeriodicTaskForm(PeriodicTaskForm):
    """django-celery-beat's form, reading a schedule's args/kwargs JSON with the depth limit (a form error, not
    the RecursionError 500 of deeply nested brackets)."""

    def _clean_json(self, field):
        value = self.cleaned_data[field]
        try:
            json_limits.loads(value)
        except ValueError as exc:
            raise forms.ValidationError(f"Unable to parse JSON: {exc}") from None
        return value


admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class LimitedPeriodicTaskAdmin(PeriodicTaskAdmin):
    form = LimitedPeriodicTaskForm


# django-celery-beat's schedule actions change the tasks they are run on.
register_with_action_permissions(
    PeriodicTask, enable_tasks=["change"], disable_tasks=["change"], toggle_tasks=["change"], run_tasks=["change"]
)


@admin.action(description="Rescore selected leads", permissions=["change"])
def rescore(modeladmin, request, queryset):
    """Added to the lead admin from here: a rescore needs the buyers' demand, which leads may not import."""
    summary = leads_score(property_ids=queryset.values("property_id"))
    modeladmin.message_user(request, f"Rescored {summary.scored} leads: {summary.changed} changed.")


_at = LeadAdmin.actions.index("assign") + 1
LeadAdmin.actions = (*LeadAdmin.actions[:_at], rescore, *LeadAdmin.actions[_at:])
from dealfinder.ops.reports import admin as reports_admin  # noqa: E402, F401  (the reporting views, read-only)

# The backtest page runs and activates as the roof does: with the buyers' demand, rescoring after activating.
BacktestRunAdmin.run_backtest = staticmethod(backtest_launch)  # in a worker when a broker is configured
BacktestRunAdmin.activate_proposal = staticmethod(backtest_activate)
