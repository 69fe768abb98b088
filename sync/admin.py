from django.contrib import admin, messages

from dealfinder.common.admin import ReadOnlyAdmin, json_display
from leads.admin import LeadAdmin

from . import mail_admin, skiptrace_admin  # noqa: F401  (registers direct mail and skip tracing)
from .models import ExternalLink, PushClaim, SyncConflict, SyncLog, WebhookEvent
from .push import ghl_push_leads
from .resolve import sync_conflicts_resolve
from .runs import NOT_CONFIGURED, ghl_configured


@admin.register(SyncLog)
class SyncLogAdmin(ReadOnlyAdmin):
    list_display = (
        "started_at",
        "sync_type",
        "status",
        "processed",
        "succeeded",
        "failed",
        "skipped",
        "duration_seconds",
    )
    list_filter = ("sync_type", "status")
    date_hierarchy = "started_at"
    search_fields = ("message", "=sync_run_id")
    exclude = ("errors",)
    readonly_fields = (json_display("errors"),)


@admin.register(ExternalLink)
class ExternalLinkAdmin(ReadOnlyAdmin):
    list_display = ("ghl_id", "kind", "content_type", "object_id", "last_synced_at")
    list_filter = ("kind", "content_type")
    list_select_related = ("content_type",)
    search_fields = ("ghl_id", "=object_id")
    exclude = ("remote_snapshot",)
    readonly_fields = (json_display("remote_snapshot"),)


@admin.register(SyncConflict)
class SyncConflictAdmin(admin.ModelAdmin):
    list_display = ("detected_at", "link", "field", "local_value", "remote_value", "status", "resolved_by")
    list_filter = ("status", "field")
    list_select_related = ("link__content_type", "resolved_by")
    search_fields = ("field", "link__ghl_id")
    readonly_fields = ("link", "field", "local_value", "remote_value", "detected_at", "resolved_at", "resolved_by")
    date_hierarchy = "detected_at"
    actions = ("keep_dealfinder_value", "take_gohighlevel_value")

    def has_add_permission(self, request):
        return False

    def _resolve(self, request, queryset, keep: str):
        done = sync_conflicts_resolve(conflict_ids=queryset.values_list("pk", flat=True), keep=keep, user=request.user)
        self.message_user(request, f"{done} conflict(s) resolved.", messages.SUCCESS)

    @admin.action(description="Keep DealFinder value", permissions=["change"])
    def keep_dealfinder_value(self, request, queryset):
        self._resolve(request, queryset, "local")

    @admin.action(description="Take GoHighLevel value", permissions=["change"])
    def take_gohighlevel_value(self, request, queryset):
        self._resolve(request, queryset, "remote")


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = (
        "received_at",
        "event_type",
        "webhook_id",
        "signature_scheme",
        "signature_valid",
        "status",
        "client_ip",
    )
    list_filter = ("event_type", "status", "signature_valid")
    search_fields = ("webhook_id", "event_type", "client_ip")
    date_hierarchy = "received_at"
    exclude = ("payload",)
    readonly_fields = (json_display("payload"),)


@admin.register(PushClaim)
class PushClaimAdmin(ReadOnlyAdmin):
    """Leads a push run is sending to GoHighLevel right now (a claim older than 30 minutes is a killed run's)."""

    list_display = ("lead", "owner", "claimed_at")
    list_select_related = ("lead__property",)


@admin.action(description="Push to GoHighLevel now", permissions=["change"])
def push_to_gohighlevel(modeladmin, request, queryset):
    """Added to the lead admin from here, so the leads app never imports sync."""
    if not ghl_configured():
        modeladmin.message_user(request, NOT_CONFIGURED, messages.WARNING)
        return
    log = ghl_push_leads(lead_ids=list(queryset.values_list("pk", flat=True)), min_tier="D")
    level = messages.SUCCESS if log.status == SyncLog.Status.SUCCESS else messages.WARNING
    modeladmin.message_user(
        request,
        f"GoHighLevel push {log.status}: {log.succeeded} succeeded, {log.failed} failed, {log.skipped} skipped",
        level,
    )


LeadAdmin.actions = (*LeadAdmin.actions, push_to_gohighlevel)
