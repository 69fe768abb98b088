from django.contrib import admin
from leaflet.admin import LeafletGeoAdmin

from dealfinder.admin_utils import admin_link

from .models import Buyer, PropertyMatch


class PropertyMatchInline(admin.TabularInline):
    model = PropertyMatch
    extra = 0
    fields = ("property", "score", "contacted_at", "sms_sent_at", "workflow_triggered_at")
    readonly_fields = fields
    ordering = ("-score",)
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Buyer)
class BuyerAdmin(LeafletGeoAdmin):
    list_display = (
        "__str__",
        "company",
        "email",
        "phone",
        "min_price",
        "max_price",
        "cash_buyer",
        "proof_of_funds",
        "sms_opt_in",
        "source",
        "is_active",
    )
    list_filter = ("is_active", "source", "cash_buyer", "proof_of_funds", "sms_opt_in")
    search_fields = ("first_name", "last_name", "company", "email", "phone", "ghl_contact_id")
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (
            "Contact",
            {
                "fields": (
                    ("first_name", "last_name"),
                    "company",
                    ("email", "phone"),
                    ("sms_opt_in", "dnd"),
                    "tags",
                    ("is_active", "source", "ghl_contact_id"),
                )
            },
        ),
        (
            "Buy box",
            {
                "fields": (
                    ("min_price", "max_price"),
                    "property_types",
                    ("min_beds", "min_baths"),
                    ("min_year_built", "max_year_built"),
                    "target_zips",
                    "target_area",
                    ("center", "radius_miles"),
                    "strategies",
                    ("cash_buyer", "proof_of_funds"),
                )
            },
        ),
        ("Notes", {"fields": ("notes", "created_at", "updated_at")}),
    )
    inlines = (PropertyMatchInline,)


@admin.register(PropertyMatch)
class PropertyMatchAdmin(admin.ModelAdmin):
    list_display = ("property_link", "buyer", "score", "contacted_at", "sms_sent_at", "workflow_triggered_at")
    list_filter = ("contacted_at", "sms_sent_at")
    list_select_related = ("property", "buyer")
    autocomplete_fields = ("property", "buyer")
    search_fields = ("=property__parcel_id", "buyer__last_name", "buyer__company", "buyer__email")
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="property", ordering="property__parcel_id")
    def property_link(self, obj):
        return admin_link(obj.property, obj.property.address_normalized or obj.property.parcel_id)
