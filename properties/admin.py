import functools
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.gis.geos import MultiPoint, Point
from django.db.models import JSONField
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from leaflet.admin import LeafletGeoAdmin, LeafletGeoAdminMixin
from leaflet.forms.widgets import LeafletWidget

from dealfinder.common.admin import (
    CountedRecordsAdmin,
    LargeChangelistAdmin,
    ReadOnlyAdmin,
    admin_link,
    fieldsets_without,
    json_display,
)
from dealfinder.common.admin_counts import BoundedCountPaginator
from dealfinder.common.admin_filters import IndexedAllValuesFieldListFilter
from dealfinder.common.json_limits import JSON_FORMFIELD_OVERRIDES
from dealfinder.common.queue import QueueUnavailable

from .api.services import datasource_ingest_start
from .health_display import render_health
from .ingest.mapping import TARGETS, FieldMapping, MappingError, load_preset, preset_names
from .models import (
    CodeViolation,
    DataSource,
    Foreclosure,
    GeocodeCache,
    IngestionRun,
    Listing,
    Owner,
    OwnerCorrection,
    OwnerInput,
    PriceChange,
    Property,
    PropertySource,
    QualityReport,
    Sale,
    TaxDelinquency,
    TaxSale,
    Valuation,
)
from .onboarding.admin_view import add_from_url_view
from .owner_selectors import owner_portfolio, owner_same_name_count
from .owner_services import owner_correction_add, owner_correction_check, owner_corrections_delete
from .rekey import parcel_format_change_error
from .selectors import datasource_health, mapping_vs_recorded_schema

RAW = json_display("raw")


class ChildInline(admin.TabularInline):
    extra = 0
    show_change_link = True
    exclude = ("raw", "content_hash")
    autocomplete_fields = ("source",)


class TaxSaleInline(ChildInline):
    model = TaxSale
    fields = ("source", "tda_number", "sale_date", "deed_status", "opening_bid")


class ForeclosureInline(ChildInline):
    model = Foreclosure
    fields = ("source", "case_number", "status", "auction_date", "filing_date", "default_amount", "lender")


class ValuationInline(ChildInline):
    model = Valuation
    fields = ("source", "tax_year", "market_value", "assessed_value", "annual_taxes", "equity_percent")


class TaxDelinquencyInline(ChildInline):
    model = TaxDelinquency
    fields = ("source", "tax_year", "amount_owed", "status", "is_open", "delinquent_since", "resolved_at")


class CodeViolationInline(ChildInline):
    model = CodeViolation
    fields = ("source", "case_number", "violation_type", "status", "opened_at", "closed_at")


class ListingInline(ChildInline):
    model = Listing
    fields = ("source", "list_price", "status", "days_on_market", "listed_at", "url")


class PropertySourceInline(admin.TabularInline):
    model = PropertySource
    extra = 0
    fields = ("source", "external_id", "first_seen_at", "last_seen_at")
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = "listed by sources"

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Property)
class PropertyAdmin(LargeChangelistAdmin, CountedRecordsAdmin, LeafletGeoAdmin):
    list_display = (
        "parcel_id",
        "address_normalized",
        "city",
        "zip",
        "property_type",
        "owner_name",
        "is_absentee",
        "lead_link",
        "is_active",
        "updated_at",
    )
    # No date_hierarchy: its year/month/day links list the distinct dates of every row on each page (a scan of
    # the table); the created-at filter offers fixed ranges. County and state by an index skip scan.
    list_filter = (
        "is_active",
        "property_type",
        "is_absentee",
        "is_vacant",
        ("county", IndexedAllValuesFieldListFilter),
        ("state", IndexedAllValuesFieldListFilter),
        ("created_at", admin.DateFieldListFilter),
    )
    search_fields = ("=parcel_id", "parcel_id_raw", "address_normalized", "owner_name", "zip")
    list_select_related = ("lead",)
    paginator = BoundedCountPaginator
    show_full_result_count = False
    readonly_fields = ("created_at", "updated_at", "geocoded_at", "owner")
    inlines = (
        PropertySourceInline,
        TaxSaleInline,
        ForeclosureInline,
        ValuationInline,
        TaxDelinquencyInline,
        CodeViolationInline,
        ListingInline,
    )
    fieldsets = (
        (None, {"fields": ("parcel_id", "parcel_id_raw", "county", "is_active")}),
        ("Address", {"fields": ("address_raw", "street", "unit", "city", "state", "zip", "address_normalized")}),
        ("Location", {"fields": ("location", "geocoded_at")}),
        ("Owner", {"fields": ("owner_name", "owner_mailing_address", "owner", "is_absentee", "is_vacant")}),
        (
            "Building",
            {"fields": ("property_type", "beds", "baths", "living_sqft", "lot_sqft", "year_built")},
        ),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )
    actions = ("deactivate", "reactivate")

    def get_fieldsets(self, request, obj=None):
        """Owners' mailing addresses only for roles that reach owners (`properties.view_owner_mailing`)."""
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.has_perm("properties.view_owner_mailing"):
            return fieldsets
        return fieldsets_without(fieldsets, ("owner_mailing_address",))

    @admin.display(description="lead")
    def lead_link(self, obj):
        lead = getattr(obj, "lead", None)
        return admin_link(lead, f"{lead.tier} {lead.total}") if lead else "-"

    @admin.action(description="Soft-delete (mark inactive)", permissions=["change"])
    def deactivate(self, request, queryset):
        self.message_user(request, f"{queryset.update(is_active=False)} properties marked inactive.")

    @admin.action(description="Reactivate", permissions=["change"])
    def reactivate(self, request, queryset):
        self.message_user(request, f"{queryset.update(is_active=True)} properties reactivated.")


class ChildAdmin(admin.ModelAdmin):
    list_select_related = ("property", "source")
    autocomplete_fields = ("property", "source")
    exclude = ("raw",)
    readonly_fields = (RAW, "content_hash", "created_at", "updated_at")
    show_full_result_count = False

    @admin.display(description="property", ordering="property__parcel_id")
    def property_link(self, obj):
        return admin_link(obj.property, obj.property.parcel_id)


@admin.register(TaxSale)
class TaxSaleAdmin(ChildAdmin):
    list_display = ("tda_number", "property_link", "sale_date", "deed_status", "opening_bid", "source")
    list_filter = ("deed_status", "source")
    search_fields = ("tda_number", "=property__parcel_id", "property__address_normalized")
    date_hierarchy = "sale_date"


@admin.register(Foreclosure)
class ForeclosureAdmin(ChildAdmin):
    list_display = ("case_number", "property_link", "status", "auction_date", "filing_date", "default_amount")
    list_filter = ("status", "source")
    search_fields = ("case_number", "borrower", "lender", "=property__parcel_id", "property__address_normalized")
    date_hierarchy = "auction_date"


@admin.register(Valuation)
class ValuationAdmin(ChildAdmin):
    list_display = (
        "property_link",
        "tax_year",
        "market_value",
        "assessed_value",
        "annual_taxes",
        "equity_percent",
        "tax_delinquent",
    )
    list_filter = ("tax_year", "tax_delinquent", "source")
    search_fields = ("=property__parcel_id", "property__address_normalized")


@admin.register(TaxDelinquency)
class TaxDelinquencyAdmin(ChildAdmin):
    list_display = ("property_link", "tax_year", "amount_owed", "status", "is_open", "resolved_at", "source")
    list_filter = ("is_open", "tax_year", "source")
    search_fields = ("=property__parcel_id", "property__address_normalized", "status")


@admin.register(CodeViolation)
class CodeViolationAdmin(LeafletGeoAdminMixin, ChildAdmin):
    list_display = ("case_number", "property_link", "violation_type", "status", "opened_at", "closed_at")
    list_filter = ("status", "violation_type", "source")
    search_fields = ("case_number", "violation_type", "=property__parcel_id", "property__address_normalized")
    date_hierarchy = "opened_at"


class PriceChangeInline(admin.TabularInline):
    model = PriceChange
    extra = 0
    fields = ("changed_at", "old_price", "new_price")


@admin.register(Listing)
class ListingAdmin(ChildAdmin):
    list_display = ("external_id", "property_link", "list_price", "status", "days_on_market", "listed_at", "source")
    list_filter = ("status", "source")
    search_fields = ("external_id", "=property__parcel_id", "property__address_normalized")
    date_hierarchy = "listed_at"
    inlines = (PriceChangeInline,)


@admin.register(Sale)
class SaleAdmin(ChildAdmin):
    list_display = ("document_id", "property_link", "sale_date", "sale_price", "deed_type", "deed_kind",
                    "is_arms_length", "is_distressed", "grantee", "source")  # fmt: skip
    list_filter = ("is_arms_length", "is_distressed", "is_purchase", "deed_kind", "source")
    search_fields = ("document_id", "=property__parcel_id", "property__address_normalized", "grantor", "grantee")
    date_hierarchy = "sale_date"


@admin.register(PriceChange)
class PriceChangeAdmin(admin.ModelAdmin):
    list_display = ("listing", "old_price", "new_price", "changed_at")
    list_select_related = ("listing",)
    autocomplete_fields = ("listing",)
    date_hierarchy = "changed_at"
    search_fields = ("=listing__property__parcel_id", "listing__external_id")


class DataSourceForm(forms.ModelForm):
    """Checks the field mapping against the dataset on save (the admin supplies model and fields), and against the
    attributes the source had at its latest run when the URL is unchanged."""

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("dataset") and "field_mapping" in cleaned:
            try:
                mapping = FieldMapping.from_config(cleaned["dataset"], cleaned["field_mapping"])
            except MappingError as exc:
                self.add_error("field_mapping", str(exc))
            else:
                config, url = cleaned["field_mapping"], cleaned.get("url")
                problem = mapping_vs_recorded_schema(self.instance, url, config, mapping)
                if problem:
                    self.add_error("field_mapping", problem)
        if cleaned.get("parcel_format"):
            problem = parcel_format_change_error(source=self.instance, parcel_format=cleaned["parcel_format"])
            if problem:
                self.add_error("parcel_format", problem)
        return cleaned


@admin.register(DataSource)
class DataSourceAdmin(admin.ModelAdmin):
    form = DataSourceForm
    formfield_overrides = {JSONField: JSON_FORMFIELD_OVERRIDES}
    list_display = ("name", "slug", "kind", "dataset", "county", "parcel_format", "enabled", "updated_at")
    list_filter = ("enabled", "kind", "dataset", "parcel_format")
    list_editable = ("enabled",)
    search_fields = ("name", "slug", "url")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("created_at", "updated_at", "mapping_help")
    actions = ("ingest_now",)

    def get_urls(self):
        view = self.admin_site.admin_view(functools.partial(add_from_url_view, self))
        return [path("add-from-url/", view, name="properties_datasource_add_from_url"), *super().get_urls()]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and request.user.has_perm("properties.view_ingestionrun"):
            fields = (*fields, "health")
        return fields

    @admin.display(description="health of the latest runs")
    def health(self, obj):
        return render_health(datasource_health(source=obj))

    @admin.display(description="mapping presets and target fields")
    def mapping_help(self, obj):
        presets = format_html_join(
            "", "<li><code>{{\"preset\": \"{}\"}}</code> ({}): {}</li>",
            ((n, load_preset(n)["dataset"], load_preset(n)["description"]) for n in preset_names()),
        )  # fmt: skip
        targets = ", ".join(sorted(TARGETS[obj.dataset])) if obj and obj.dataset in TARGETS else "pick a dataset"
        return format_html(
            "<p>Start from a preset and override or drop (<code>null</code>) targets. A value is a source attribute "
            'name or <code>{{"source": "SALE_DATE", "transform": ["date:%m/%d/%Y"]}}</code>, '
            '<code>{{"concat": ["ADDR1", "ADDR2"], "sep": " "}}</code>, '
            '<code>{{"source": "STZIP", "split": "state_zip", "part": "zip"}}</code>, <code>{{"value": "FL"}}</code>. '
            "Transforms: trim upper lower title number int bool date date:&lt;format&gt; rebase:&lt;date&gt;. "
            'A spec may add <code>"null": [0, "-1"]</code> (values meaning unknown; by default a sale price, year '
            'built or area of 0) and, for property_type, <code>"vocabulary": "fl_dor"</code> (or '
            '<code>"cook_il"</code>, <code>"words"</code>, or a table <code>{{"510": "sfr"}}</code>). Projected X/Y '
            'columns: <code>"x": "X", "y": "Y", "epsg": 2236</code>. A sales source kept in several tables (NYC '
            'ACRIS) names its parties and legals, joined on the document id: <code>"tables": {{"key": "document_id", '
            '"parties": {{"url": "…", "role": "party_type", "name": "name", "grantor": ["1"], "grantee": ["2"]}}, '
            '"legals": {{"url": "…"}}}}</code>, then maps <code>grantor</code>/<code>grantee</code> (README).</p>'
            "<ul>{}</ul><p>Target fields for this dataset: {}</p>",
            presets,
            targets,
        )

    @admin.action(description="Ingest now (queued)", permissions=["change"])
    def ingest_now(self, request, queryset):
        queued = 0
        disabled = sorted(queryset.filter(enabled=False).values_list("slug", flat=True))
        try:
            for source in queryset.filter(enabled=True):
                datasource_ingest_start(source=source)
                queued += 1
        except QueueUnavailable as exc:
            self.message_user(request, f"{queued} sources queued, then {exc}", messages.ERROR)
            return
        if disabled:
            self.message_user(
                request, f"Not queued, disabled (enable them first): {', '.join(disabled)}.", messages.WARNING
            )
        self.message_user(request, f"{queued} sources queued; see Ingestion runs for the results.")


@admin.register(IngestionRun)
class IngestionRunAdmin(LargeChangelistAdmin, ReadOnlyAdmin):
    list_display = (
        "started_at",
        "source_label",
        "dataset",
        "status",
        "processed",
        "stored",
        "inserted",
        "updated",
        "unchanged",
        "failed",
        "unplaced",
        "duplicates",
        "finished_at",
    )
    list_filter = ("status", "dataset", "source")
    list_select_related = ("source",)
    search_fields = ("source_label", "message")
    paginator = BoundedCountPaginator
    show_full_result_count = False
    date_hierarchy = "started_at"
    exclude = ("errors", "warnings", "field_stats")
    readonly_fields = ("field_table", json_display("errors"), json_display("warnings"))

    @admin.display(description="fields")
    def field_table(self, obj):
        """Per target field: how its values read over the run's records, and the first problems."""
        if not obj or not obj.field_stats:
            return "-"
        rows = []
        for target, c in obj.field_stats.items():
            read = c["filled"] + c["blank"] + c["sentinel"] + c["bad"]
            rate = f"{c['filled'] / read:.0%}" if read else "-"
            examples = format_html_join("", "<li>{}</li>", ((e,) for e in c.get("examples") or ()))
            rows.append((target, rate, c["filled"], c["blank"], c["sentinel"], c["bad"], examples))
        body = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><ul>{}</ul></td></tr>", rows
        )
        return format_html(
            "<table><thead><tr><th>target field</th><th>fill rate</th><th>filled</th><th>blank</th>"
            "<th>null sentinel</th><th>bad (dropped)</th><th>first problems</th></tr></thead><tbody>{}</tbody></table>",
            body,
        )


@admin.register(PropertySource)
class PropertySourceAdmin(ReadOnlyAdmin):
    list_display = ("external_id", "property", "source", "first_seen_at", "last_seen_at")
    list_filter = ("source",)
    list_select_related = ("property", "source")
    search_fields = ("external_id", "=property__parcel_id")


@admin.register(OwnerInput)
class OwnerInputAdmin(ReadOnlyAdmin):
    """What owner resolution last read of each parcel (a digest) and its block: shown for support, never edited."""

    list_display = ("property", "digest", "block")
    list_select_related = ("property",)
    search_fields = ("=property__parcel_id", "=block")
    show_full_result_count = False


@admin.register(GeocodeCache)
class GeocodeCacheAdmin(ReadOnlyAdmin):
    list_display = ("address_key", "status", "matched_address", "created_at")
    list_filter = ("status",)
    search_fields = ("address_key",)


@admin.register(QualityReport)
class QualityReportAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "status", "warnings", "errors")
    list_filter = ("status",)
    date_hierarchy = "created_at"
    exclude = ("counts", "findings")
    readonly_fields = (json_display("findings"), json_display("counts"))


class OwnerAdminForm(forms.ModelForm):
    """The owner page's form: read-only fields plus the portfolio on a small map (not editable)."""

    portfolio_map = forms.CharField(
        required=False,
        label="portfolio map",
        widget=LeafletWidget(attrs={"modifiable": False, "geom_type": "MULTIPOINT", "map_height": "280px"}),
    )

    class Meta:
        model = Owner
        fields = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        points = [Point(lon, lat, srid=4326) for lon, lat, _ in owner_portfolio(owner=self.instance).points]
        self.initial["portfolio_map"] = MultiPoint(*points, srid=4326).geojson if points else ""


class OwnerPropertyInline(admin.TabularInline):
    model = Property
    fk_name = "owner"
    extra = 0
    fields = ("parcel_id", "address_normalized", "owner_name", "property_type", "is_absentee", "lead_tier")
    readonly_fields = fields
    show_change_link = True
    can_delete = False
    verbose_name_plural = "parcels"

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(is_active=True).select_related("lead")

    @admin.display(description="lead")
    def lead_tier(self, obj):
        lead = getattr(obj, "lead", None)
        return admin_link(lead, f"{lead.tier} {lead.total}") if lead else "-"


@admin.register(Owner)
class OwnerAdmin(admin.ModelAdmin):
    """Owners are resolved by ingest; brokers correct the grouping (merge, split) here, and the correction is kept
    through every re-ingest (see Owner corrections)."""

    form = OwnerAdminForm
    list_display = (
        "display_name",
        "kind",
        "property_count",
        "distressed_count",
        "mailing_state",
        "is_corporate",
        "is_out_of_state",
        "is_estate",
    )
    list_filter = ("kind", "is_corporate", "is_out_of_state", "is_estate", "is_trust", "is_bank", "is_government")
    search_fields = ("display_name", "canonical_name", "entity", "=properties__parcel_id", "mailing_zip")
    show_full_result_count = False
    ordering = ("-property_count", "display_name")
    inlines = (OwnerPropertyInline,)
    readonly_fields = (
        "display_name", "kind", "canonical_name", "entity", "mailing_address", "property_count", "distressed_count",
        "total_equity", "is_corporate", "is_trust", "is_estate", "is_government", "is_bank", "is_out_of_state",
        "names_seen", "why_grouped", "same_name_elsewhere", "distress_records", "created_at", "updated_at",
    )  # fmt: skip
    fieldsets = (
        (None, {"fields": ("display_name", "kind", "canonical_name", "entity", "mailing_address")}),
        ("Portfolio", {"fields": ("property_count", "distressed_count", "total_equity", "portfolio_map")}),
        (
            "Indicators",
            {"fields": ("is_corporate", "is_trust", "is_estate", "is_government", "is_bank", "is_out_of_state")},
        ),
        ("Why these parcels are one owner", {"fields": ("names_seen", "why_grouped", "same_name_elsewhere")}),
        ("Distress records", {"fields": ("distress_records",)}),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )
    actions = ("merge_owners", "split_parcels_off")

    def has_add_permission(self, request):
        return False

    def get_fieldsets(self, request, obj=None):
        if request.user.has_perm("properties.view_owner_mailing"):
            return self.fieldsets
        return fieldsets_without(self.fieldsets, ("mailing_address",))

    @admin.display(description="total equity")
    def total_equity(self, obj):
        total = owner_portfolio(owner=obj).total_equity
        return "unknown" if total is None else f"${total:,.0f}"

    @admin.display(description="names seen")
    def names_seen(self, obj):
        return format_html_join(", ", "{}", ((n,) for n in obj.name_forms)) or "-"

    @admin.display(description="why")
    def why_grouped(self, obj):
        return format_html_join("", "<p>{}</p>", ((line,) for line in obj.explanation)) or "-"

    @admin.display(description="same name elsewhere")
    def same_name_elsewhere(self, obj):
        count = owner_same_name_count(owner=obj)
        if not count:
            return "-"
        url = reverse("admin:properties_owner_changelist") + "?" + urlencode({"canonical_name": obj.canonical_name})
        return format_html('<a href="{}">{} other owner{}</a>', url, count, "s" * (count != 1))

    @admin.display(description="per parcel")
    def distress_records(self, obj):
        rows = [
            (
                p.parcel_id,
                p.address_normalized or "-",
                p.tax_sales_n,
                p.delinquencies_n,
                p.foreclosures_n,
                p.violations_open_n,
            )
            for p in owner_portfolio(owner=obj).parcels
        ]
        if not rows:
            return "-"
        columns = ("parcel", "address", "tax sales", "open delinquencies", "foreclosures", "open violations")
        head = format_html("<tr>{}</tr>", format_html_join("", "<th>{}</th>", ((c,) for c in columns)))
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows)
        return format_html("<table>{}{}</table>", head, body)

    @admin.action(description="Merge selected owners into one (kept through re-ingest)", permissions=["change"])
    def merge_owners(self, request, queryset):
        parcels = Property.objects.filter(owner__in=queryset, is_active=True).order_by("owner_id", "parcel_id")
        firsts = list(dict(reversed(parcels.values_list("owner_id", "parcel_id"))).values())
        if len(firsts) < 2:
            self.message_user(request, "Select two or more owners with parcels to merge.", messages.WARNING)
            return
        for other in firsts[1:]:
            owner_correction_add(kind="merge", record_id=firsts[0], other_record_id=other, user=request.user)
        self.message_user(request, f"{len(firsts)} owners merged; the merge is kept through re-ingest.")

    @admin.action(description="Split each selected owner into one owner per parcel", permissions=["change"])
    def split_parcels_off(self, request, queryset):
        parcels = list(
            Property.objects.filter(owner__in=queryset, is_active=True).order_by("owner_id", "parcel_id")
            .values_list("owner_id", "parcel_id")
        )  # fmt: skip
        seen, moved = set(), 0
        for owner_id, parcel_id in parcels:
            if owner_id in seen:
                owner_correction_add(kind="assign", record_id=parcel_id, user=request.user)
                moved += 1
            seen.add(owner_id)
        self.message_user(request, f"{moved} parcels split off into owners of their own; kept through re-ingest.")


class OwnerCorrectionForm(forms.ModelForm):
    class Meta:
        model = OwnerCorrection
        fields = ("kind", "record_id", "other_record_id", "note")

    def clean(self):
        cleaned = super().clean()
        try:
            owner_correction_check(
                kind=cleaned.get("kind", ""),
                record_id=cleaned.get("record_id", ""),
                other_record_id=cleaned.get("other_record_id", ""),
            )
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return cleaned


@admin.register(OwnerCorrection)
class OwnerCorrectionAdmin(admin.ModelAdmin):
    """Corrections to owner grouping, newest first; adding one re-resolves owners. Stale ones (a parcel's owner name
    changed since) are no longer applied and are shown for review."""

    list_display = ("pk", "kind", "record_id", "other_record_id", "status", "status_reason", "note", "created_by",
                    "created_at")  # fmt: skip
    list_filter = ("kind", "status")
    search_fields = ("=record_id", "=other_record_id", "note")
    form = OwnerCorrectionForm
    fields = ("kind", "record_id", "other_record_id", "note", "status", "status_reason")

    def get_readonly_fields(self, request, obj=None):
        """A correction is never edited: add a newer one instead (the newest wins)."""
        return self.fields if obj is not None else ("status", "status_reason")

    def delete_model(self, request, obj):
        owner_corrections_delete(corrections=OwnerCorrection.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        owner_corrections_delete(corrections=queryset)

    def save_model(self, request, obj, form, change):
        if change:
            return
        saved = owner_correction_add(
            kind=obj.kind,
            record_id=obj.record_id,
            other_record_id=obj.other_record_id,
            note=obj.note,
            user=request.user,
        )
        obj.pk = saved.pk
