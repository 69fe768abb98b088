import zipfile

from django.conf import settings
from django.contrib import admin
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import JSONField
from django.forms.models import BaseInlineFormSet
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from import_export.admin import ImportExportModelAdmin
from import_export.forms import ConfirmImportForm, ImportForm
from import_export.tmp_storages import CacheStorage
from leaflet.admin import LeafletGeoAdmin

from dealfinder.common.admin import LargeChangelistAdmin, admin_link
from dealfinder.common.admin_counts import BoundedCountPaginator
from dealfinder.common.admin_search import related_search
from dealfinder.common.json_limits import JSON_FORMFIELD_OVERRIDES
from leads.grid import map_points_sync_matches
from leads.models import TIER_CHOICES, Lead
from leads.views import minimap_attrs

from .discovered import discovered_buyer_create_buyer
from .models import Buyer, DiscoveredBuyer, MatchingProfile, PropertyMatch
from .resources import EXPORT_FORMATS, IMPORT_FORMATS, BuyerResource
from .services import matches_mark_contacted

INLINE_MATCHES = 100


def property_matches_url(**params) -> str:
    """The PropertyMatch changelist filtered, e.g. property__id__exact=N (a lead's buyers, ranked)."""
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{reverse('admin:buyers_propertymatch_changelist')}?{query}"


def _lead(match):
    return getattr(match.property, "lead", None)


def _reasons(match) -> str:
    return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((r,) for r in match.reasons)))


class TopMatchesFormSet(BaseInlineFormSet):
    """Only the best INLINE_MATCHES matches; the full list is one link away."""

    def get_queryset(self):
        if not hasattr(self, "_top"):
            self._top = super().get_queryset()[:INLINE_MATCHES]
        return self._top


class PropertyMatchInline(admin.TabularInline):
    model = PropertyMatch
    formset = TopMatchesFormSet
    extra = 0
    can_delete = False
    fields = ("address", "score", "tier", "mao", "reasons_list", "contacted_at")
    readonly_fields = fields
    ordering = ("-score", "id")
    show_change_link = True
    verbose_name_plural = f"matching leads (best {INLINE_MATCHES}, ranked by score)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("property__lead", "buyer")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="address")
    def address(self, obj):
        lead = _lead(obj)
        return admin_link(lead or obj.property, obj.property.address_normalized or obj.property.address)

    @admin.display(description="tier")
    def tier(self, obj):
        lead = _lead(obj)
        return lead.tier if lead else "-"

    @admin.display(description="MAO")
    def mao(self, obj):
        lead = _lead(obj)
        return f"${lead.mao:,.0f}" if lead and lead.mao is not None else "-"

    @admin.display(description="reasons")
    def reasons_list(self, obj):
        return _reasons(obj)


IMPORT_GONE = "The uploaded file is no longer available (older than an hour, or the cache was emptied): upload it again"
IMPORT_NOT_YOURS = "This import was not uploaded in your session: upload the file again."
XLSX_MAX_EXPANSION = 10  # an XLSX (a zip) may unpack to at most this many times BUYER_IMPORT_MAX_BYTES


class BuyerImportForm(ImportForm):
    """The buyer import refuses files over BUYER_IMPORT_MAX_BYTES before reading them (the import holds the
    whole file in memory), and an XLSX whose contents unpack to more than XLSX_MAX_EXPANSION times that."""

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        limit = settings.BUYER_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise ValidationError(
                f"The file has {upload.size:,} bytes; buyer imports take at most {limit:,} "
                "(BUYER_IMPORT_MAX_BYTES). Split it and import the parts."
            )
        if zipfile.is_zipfile(upload):
            with zipfile.ZipFile(upload) as archive:
                unpacked = sum(info.file_size for info in archive.infolist())
            upload.seek(0)
            if unpacked > limit * XLSX_MAX_EXPANSION:
                raise ValidationError(
                    f"The workbook unpacks to {unpacked:,} bytes; buyer imports take at most "
                    f"{limit * XLSX_MAX_EXPANSION:,}. Save it as CSV or split it."
                )
        return upload


class BuyerImportStorage(CacheStorage):
    """The upload waits for the confirm step in the cache (Redis in production: every web process sees it),
    for an hour at most; never in a shared temp folder whose files a posted name could read and delete."""

    CACHE_LIFETIME = 60 * 60
    CACHE_PREFIX = "buyer-import-"

    def read(self):
        data = super().read()
        if data is None:
            raise ValueError(IMPORT_GONE + ".")
        return data

    @classmethod
    def exists(cls, name: str) -> bool:
        return cache.get(cls.CACHE_PREFIX + name) is not None


def _import_salt(request) -> str:
    """Binds an upload's name to the session that uploaded it."""
    return f"buyers.import:{request.session.session_key}:{request.user.pk}"


class BuyerConfirmImportForm(ConfirmImportForm):
    """The confirm step takes only a name signed for this session (by BuyerAdmin.get_confirm_form_initial) whose
    upload is still stored: never a name picked by the client."""

    def __init__(self, *args, salt: str, **kwargs):
        self.salt = salt
        super().__init__(*args, **kwargs)

    def clean_import_file_name(self):
        try:
            name = signing.loads(
                self.cleaned_data["import_file_name"], salt=self.salt, max_age=BuyerImportStorage.CACHE_LIFETIME
            )
        except signing.BadSignature:
            raise ValidationError(IMPORT_NOT_YOURS) from None
        if not BuyerImportStorage.exists(name):
            raise ValidationError(IMPORT_GONE + ".")
        return name


@admin.register(Buyer)
class BuyerAdmin(LargeChangelistAdmin, ImportExportModelAdmin, LeafletGeoAdmin):
    resource_classes = (BuyerResource,)
    import_form_class = BuyerImportForm
    confirm_form_class = BuyerConfirmImportForm
    tmp_storage_class = BuyerImportStorage
    import_formats = IMPORT_FORMATS
    export_formats = EXPORT_FORMATS
    formfield_overrides = {JSONField: JSON_FORMFIELD_OVERRIDES}
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
    autocomplete_fields = ("owner",)
    paginator = BoundedCountPaginator
    show_full_result_count = False
    readonly_fields = ("buy_box_map", "all_matches", "created_at", "updated_at")
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
                    "owner",
                )
            },
        ),
        (
            "Buy box",
            {
                "description": "Where: a drawn target area, a zip list and/or a center with a radius "
                "(a buyer with none of them matches nothing). Empty criteria do not restrict.",
                "fields": (
                    ("min_price", "max_price"),
                    "property_types",
                    ("min_beds", "min_baths"),
                    ("min_year_built", "max_year_built"),
                    "target_zips",
                    "target_area",
                    ("center", "radius_miles"),
                    "buy_box_map",
                    "strategies",
                    ("cash_buyer", "proof_of_funds"),
                ),
            },
        ),
        ("Notes", {"fields": ("notes", "all_matches", "created_at", "updated_at")}),
    )
    inlines = (PropertyMatchInline,)

    class Media:
        css = {"all": ("leads/admin.css",)}
        js = ("leaflet/leaflet.js", "leads/minimap.js")

    # Deleting buyers deletes their matches: those properties' "has buyer matches" on the map index follows.
    def delete_model(self, request, obj):
        properties = list(obj.matches.values_list("property_id", flat=True))
        super().delete_model(request, obj)
        map_points_sync_matches(property_ids=properties)

    def delete_queryset(self, request, queryset):
        properties = list(PropertyMatch.objects.filter(buyer__in=queryset).values_list("property_id", flat=True))
        super().delete_queryset(request, queryset)
        map_points_sync_matches(property_ids=properties)

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["import_file_name"] = signing.dumps(initial["import_file_name"], salt=_import_salt(request))
        return initial

    def get_confirm_form_kwargs(self, request, import_form=None):
        return {**super().get_confirm_form_kwargs(request, import_form), "salt": _import_salt(request)}

    @admin.display(description="buy box on the map")
    def buy_box_map(self, obj):
        """The saved target area and center + radius together, read-only (static/leads/minimap.js)."""
        if obj is None or obj.pk is None or (obj.target_area is None and obj.center is None):
            return "No target area or center saved."
        center = obj.center
        attrs = minimap_attrs(
            geojson=obj.target_area.geojson if obj.target_area is not None else None,
            lat=center.y if center is not None else None,
            lon=center.x if center is not None else None,
            radius_m=round(float(obj.radius_miles) * 1609.344, 1) if center is not None and obj.radius_miles else None,
            label="Buy-box center" if center is not None else None,
        )
        return format_html('<div class="df-minimap" id="buyer-buybox-map"{}></div>', attrs)

    @admin.display(description="matches")
    def all_matches(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        return format_html('<a href="{}">All matches of this buyer</a>', property_matches_url(buyer__id__exact=obj.pk))


class LeadTierFilter(admin.SimpleListFilter):
    """The lead tier of the matched property, as a semi-join on the leads of that tier (`property_id IN (leads of
    tier X)`): the plain `property__lead__tier` joins match -> property -> lead, two index probes per match, and
    its bounded count made 20,000 of them for a common tier."""

    title = "lead tier"
    parameter_name = "lead_tier"

    def lookups(self, request, model_admin):
        return TIER_CHOICES

    def queryset(self, request, queryset):
        if self.value() not in dict(TIER_CHOICES):
            return queryset
        return queryset.filter(property_id__in=Lead.objects.filter(tier=self.value()).values("property_id"))


@admin.register(PropertyMatch)
class PropertyMatchAdmin(LargeChangelistAdmin):
    """Filter with ?property__id__exact=N for a lead's buyers ranked by score."""

    list_display = (
        "property_link",
        "tier",
        "mao",
        "buyer_link",
        "buyer_phone",
        "sms_opt_in",
        "score",
        "reasons_list",
        "contacted_at",
    )
    list_filter = ("contacted_at", "sms_sent_at", "buyer__sms_opt_in", LeadTierFilter)
    list_select_related = ("property__lead", "buyer")
    autocomplete_fields = ("property", "buyer")
    # Searched table by table (related_search): the properties and buyers a word names, then their matches.
    search_fields = ("=property__parcel_id", "property__address_normalized", "buyer__last_name", "buyer__company")
    readonly_fields = ("score", "reasons_list", "created_at", "updated_at")
    exclude = ("reasons",)
    ordering = ("-score", "id")
    show_full_result_count = False
    paginator = BoundedCountPaginator
    actions = ("mark_contacted",)  # sync adds the blast and dialer exports (they pass its compliance gate)

    def get_search_results(self, request, queryset, search_term):
        return related_search(queryset, self.get_search_fields(request), search_term), False

    # Adding, moving or deleting a match changes its properties' "has buyer matches" on the map index.
    def save_model(self, request, obj, form, change):
        before = form.initial.get("property") if change else None
        super().save_model(request, obj, form, change)
        map_points_sync_matches(property_ids=[pk for pk in (before, obj.property_id) if pk is not None])

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        map_points_sync_matches(property_ids=[obj.property_id])

    def delete_queryset(self, request, queryset):
        properties = list(queryset.values_list("property_id", flat=True).distinct())
        super().delete_queryset(request, queryset)
        map_points_sync_matches(property_ids=properties)

    @admin.display(description="property", ordering="property__address_normalized")
    def property_link(self, obj):
        return admin_link(_lead(obj) or obj.property, obj.property.address_normalized or obj.property.parcel_id)

    @admin.display(description="tier", ordering="property__lead__tier")
    def tier(self, obj):
        lead = _lead(obj)
        return lead.tier if lead else "-"

    @admin.display(description="MAO", ordering="property__lead__mao")
    def mao(self, obj):
        lead = _lead(obj)
        return f"${lead.mao:,.0f}" if lead and lead.mao is not None else "-"

    @admin.display(description="buyer", ordering="buyer__last_name")
    def buyer_link(self, obj):
        return admin_link(obj.buyer)

    @admin.display(description="phone")
    def buyer_phone(self, obj):
        return obj.buyer.phone

    @admin.display(description="SMS opt-in", boolean=True)
    def sms_opt_in(self, obj):
        return obj.buyer.sms_opt_in

    @admin.display(description="reasons")
    def reasons_list(self, obj):
        return _reasons(obj)

    @admin.action(description="Mark contacted", permissions=["change"])
    def mark_contacted(self, request, queryset):
        count = matches_mark_contacted(match_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"Marked {count} match(es) contacted.")


@admin.register(MatchingProfile)
class MatchingProfileAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "is_active",
        "location_weight",
        "price_weight",
        "type_weight",
        "cash_weight",
        "proof_of_funds_weight",
        "threshold",
        "price_tolerance_percent",
        "max_matches_per_buyer",
    )
    readonly_fields = ("created_at", "updated_at")


@admin.register(DiscoveredBuyer)
class DiscoveredBuyerAdmin(admin.ModelAdmin):
    """Cash buyers found in recorded purchases (manage.py discover_buyers refreshes the list); "Create buyer" makes
    a Buyer from the inferred buy box, or links the buyer already in the list."""

    list_display = ("name", "purchase_count", "zip_list", "min_price", "max_price", "style", "cash", "buyer_link")
    list_filter = ("style", "kind", "cash")
    search_fields = ("name", "key")
    readonly_fields = [f.name for f in DiscoveredBuyer._meta.fields]
    actions = ["create_buyer"]

    def has_add_permission(self, request):
        return False

    def has_create_buyer_permission(self, request):
        return request.user.has_perm("buyers.add_buyer")

    @admin.display(description="zips")
    def zip_list(self, obj):
        return ", ".join(obj.zips)

    @admin.display(description="buyer")
    def buyer_link(self, obj):
        return admin_link(obj.buyer) if obj.buyer_id else "-"

    @admin.action(description="Create buyer (fills the buy box; links an existing buyer)", permissions=["create_buyer"])
    def create_buyer(self, request, queryset):
        created = linked = 0
        for discovered in queryset:
            try:
                _, new = discovered_buyer_create_buyer(discovered=discovered)
            except ValidationError as exc:
                self.message_user(request, f"{discovered}: {'; '.join(exc.messages)}", level="error")
                continue
            created += new
            linked += not new
        self.message_user(request, f"{created} buyers created, {linked} linked to buyers already in the list")
