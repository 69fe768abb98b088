from django.contrib import admin, messages

from buyers.admin import PropertyMatchAdmin
from buyers.selectors import BLAST_HEADER
from dealfinder.common.admin import CountedRecordsAdmin, ReadOnlyAdmin, json_display
from dealfinder.common.csv_safe import csv_response
from leads.admin import LeadAdmin

from . import mail_admin, skiptrace_admin  # noqa: F401  (registers direct mail and skip tracing)
from .consent import DIALER_HEADER, matches_blast_rows, matches_dialer_rows, phone_digits
from .models import (
    Consent,
    DeferredMessage,
    DoNotContact,
    ExternalLink,
    PushClaim,
    SyncConflict,
    SyncLog,
    WebhookEvent,
)
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
        "drift_found",
        "drift_applied",
        "duration_seconds",
    )
    list_filter = ("sync_type", "status")
    date_hierarchy = "started_at"
    search_fields = ("message", "=sync_run_id")
    exclude = ("errors", "cursor")
    readonly_fields = (json_display("errors"), json_display("cursor"))


class DriftFilter(admin.SimpleListFilter):
    title = "read-back drift"
    parameter_name = "drift"

    def lookups(self, request, model_admin):
        return (("yes", "GoHighLevel kept fields differently"), ("no", "No drift"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(drift={})
        if self.value() == "no":
            return queryset.filter(drift={})
        return queryset


@admin.register(ExternalLink)
class ExternalLinkAdmin(CountedRecordsAdmin, ReadOnlyAdmin):
    list_display = (
        "ghl_id",
        "kind",
        "content_type",
        "object_id",
        "last_synced_at",
        "drift_fields",
        "drift_checked_at",
        "remote_deleted_at",
    )
    list_filter = ("kind", "content_type", DriftFilter, ("remote_deleted_at", admin.EmptyFieldListFilter))
    list_select_related = ("content_type",)
    search_fields = ("ghl_id", "=object_id")
    exclude = ("remote_snapshot", "drift")
    readonly_fields = (json_display("remote_snapshot"), json_display("drift"))

    @admin.display(description="Drift (what GoHighLevel kept differently)")
    def drift_fields(self, obj):
        return "; ".join(
            f"{name}: sent {v.get('sent')!r}, GoHighLevel has {v.get('ghl')!r}" for name, v in obj.drift.items()
        )


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


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    """What each contact allows per channel (merged from GoHighLevel DND, replies, opt-outs, the do-not-contact
    list); the compliance gate reads these before every message."""

    list_display = ("content_type", "object_id", "channel", "status", "source", "detail", "permanent", "at")
    list_filter = ("channel", "status", "source", "permanent", "content_type")
    list_select_related = ("content_type",)
    search_fields = ("=object_id", "detail")
    exclude = ("evidence",)
    readonly_fields = (json_display("evidence"),)


@admin.register(DoNotContact)
class DoNotContactAdmin(admin.ModelAdmin):
    list_display = ("phone_digits", "email", "reason", "added_by", "created_at")
    search_fields = ("phone_digits", "email", "reason")
    readonly_fields = ("added_by", "created_at")

    def save_model(self, request, obj, form, change):
        obj.email = obj.email.strip().lower()
        obj.phone_digits = phone_digits(obj.phone_digits)
        if not change:
            obj.added_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(PushClaim)
class PushClaimAdmin(ReadOnlyAdmin):
    """Leads a push run is sending to GoHighLevel right now (a claim older than 30 minutes is a killed run's)."""

    list_display = ("lead", "owner", "claimed_at")
    list_select_related = ("lead__property",)


@admin.register(DeferredMessage)
class DeferredMessageAdmin(ReadOnlyAdmin):
    """Messages to buyers the compliance gate refused only for the hour, sent when the contact's hours open
    (`ghl_sync --deferred`, every 15 minutes); read-only."""

    list_display = ("due_at", "status", "action", "match", "lead", "reason", "outcome", "created_at", "finished_at")
    list_filter = ("status", "action", "reason")
    list_select_related = ("match__buyer", "match__property", "lead__property")
    date_hierarchy = "due_at"
    raw_id_fields = ("match", "lead")


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


@admin.action(description="Export call list for a dialer (compliance-checked)", permissions=["view"])
def export_dialer_list(modeladmin, request, queryset):
    """Added to the match admin from here (buyers never imports sync): only buyers the compliance gate allows, with
    the calling window of their time zones."""
    rows, refused = matches_dialer_rows(match_ids=queryset.values_list("pk", flat=True))
    if refused:
        modeladmin.message_user(
            request, f"{refused} buyer(s) left out by the compliance gate (see the leads' timelines).", messages.INFO
        )
    return csv_response([DIALER_HEADER, *rows], filename="dialer-list.csv")


@admin.action(description="Export blast list as CSV", permissions=["view"])
def export_blast_list(modeladmin, request, queryset):
    """Replaces the buyers app's ungated blast export (buyers never imports sync): only buyers the compliance gate
    allows an email blast (Action.EMAIL_BLAST), the refusals on the leads' timelines."""
    rows, refused = matches_blast_rows(match_ids=queryset.values_list("pk", flat=True))
    if refused:
        modeladmin.message_user(
            request, f"{refused} buyer(s) left out by the compliance gate (see the leads' timelines).", messages.INFO
        )
    return csv_response([BLAST_HEADER, *rows], filename="blast-list.csv")


PropertyMatchAdmin.actions = (
    *(a for a in PropertyMatchAdmin.actions if a != "export_blast_list"),
    export_blast_list,
    export_dialer_list,
)
