from django.contrib import admin

from dealfinder.admin_utils import ReadOnlyAdmin, admin_link, json_display

from .models import Activity, Alert, Lead, LeadScoreHistory, ScoringProfile


class ActivityInline(admin.TabularInline):
    model = Activity
    extra = 0
    fields = ("created_at", "kind", "actor", "from_value", "to_value", "body")
    readonly_fields = ("created_at", "actor", "from_value", "to_value")
    ordering = ("-created_at",)


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = (
        "property_link",
        "address",
        "zip",
        "total",
        "tier",
        "stack_count",
        "status",
        "assigned_to",
        "mao",
        "scored_at",
    )
    list_filter = ("tier", "status", "stack_count", "assigned_to", "property__property_type")
    search_fields = ("=property__parcel_id", "property__address_normalized", "property__owner_name", "property__zip")
    list_select_related = ("property", "assigned_to")
    autocomplete_fields = ("property", "assigned_to")
    ordering = ("-total", "id")
    show_full_result_count = False
    date_hierarchy = "created_at"
    exclude = ("reasons",)
    readonly_fields = (
        "distress",
        "value",
        "location_score",
        "urgency",
        "total",
        "tier",
        "stack_count",
        json_display("reasons"),
        "scored_at",
        "arv",
        "repair_estimate",
        "mao",
        "created_at",
        "updated_at",
    )
    inlines = (ActivityInline,)

    @admin.display(description="parcel", ordering="property__parcel_id")
    def property_link(self, obj):
        return admin_link(obj.property, obj.property.parcel_id)

    @admin.display(description="address", ordering="property__address_normalized")
    def address(self, obj):
        return obj.property.address_normalized or obj.property.street

    @admin.display(description="zip", ordering="property__zip")
    def zip(self, obj):
        return obj.property.zip


@admin.register(LeadScoreHistory)
class LeadScoreHistoryAdmin(ReadOnlyAdmin):
    list_display = ("lead", "snapshot_date", "total", "tier", "distress", "value", "location_score", "urgency")
    list_filter = ("tier", "snapshot_date")
    list_select_related = ("lead__property",)
    search_fields = ("=lead__property__parcel_id",)
    date_hierarchy = "snapshot_date"


@admin.register(ScoringProfile)
class ScoringProfileAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "is_active",
        "distress_cap",
        "value_cap",
        "location_cap",
        "urgency_cap",
        "tier_a_min",
        "tier_b_min",
        "tier_c_min",
        "arv_percent",
        "assignment_fee",
    )
    list_filter = ("is_active",)
    search_fields = ("name",)


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("created_at", "lead", "kind", "actor", "from_value", "to_value")
    list_filter = ("kind",)
    list_select_related = ("lead__property", "actor")
    autocomplete_fields = ("lead", "actor")
    search_fields = ("=lead__property__parcel_id", "body")
    date_hierarchy = "created_at"


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "lead", "channel", "kind", "entered_on", "status")
    list_filter = ("channel", "status", "kind")
    list_select_related = ("lead__property",)
    search_fields = ("=lead__property__parcel_id", "error")
    date_hierarchy = "created_at"
