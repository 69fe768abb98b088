"""Admin for skip tracing: permissible-use acknowledgements, billable calls, traced contacts."""

from django.contrib import admin

from sync.skiptrace_models import LeadContactPoint, LeadSkipTrace, PermissibleUseAcknowledgement, SkipTraceCall


@admin.register(PermissibleUseAcknowledgement)
class PermissibleUseAcknowledgementAdmin(admin.ModelAdmin):
    list_display = ("user", "purpose", "acknowledged_at")
    list_select_related = ("user",)
    fields = ("purpose",)

    def save_model(self, request, obj, form, change):
        obj.user = request.user
        super().save_model(request, obj, form, change)

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SkipTraceCall)
class SkipTraceCallAdmin(admin.ModelAdmin):
    list_display = ("provider", "started_at", "requests", "hits", "no_hits", "errors", "cost", "error")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(LeadContactPoint)
class LeadContactPointAdmin(admin.ModelAdmin):
    list_display = ("owner", "lead", "kind", "value", "phone_type", "dnc", "tcpa", "source")
    list_select_related = ("owner", "lead__property")
    list_filter = ("kind", "source", "dnc", "tcpa")
    raw_id_fields = ("owner", "lead")
    search_fields = ("value", "owner__display_name")


@admin.register(LeadSkipTrace)
class LeadSkipTraceAdmin(admin.ModelAdmin):
    list_display = ("owner", "lead", "status", "traced_at", "call")
    list_select_related = ("owner", "lead__property", "call")
    list_filter = ("status",)
    raw_id_fields = ("owner", "lead", "call")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
