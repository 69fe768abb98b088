from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from dealfinder.permissions import PermittedFieldsMixin
from dealfinder.security import UnsafeURLError, url_check_public
from properties.ingest.mapping import FieldMapping, MappingError
from properties.models import (
    CodeViolation,
    DataSource,
    Foreclosure,
    IngestionRun,
    Listing,
    PriceChange,
    Property,
    TaxSale,
    Valuation,
)

RECORD_FIELDS = ("id", "source", "external_id", "created_at", "updated_at")
PROPERTY_FIELDS = (
    "id",
    "parcel_id",
    "parcel_id_raw",
    "county",
    "address",
    "address_raw",
    "street",
    "unit",
    "city",
    "state",
    "zip",
    "address_normalized",
    "location",
    "owner_name",
    "owner_mailing_address",
    "is_absentee",
    "is_vacant",
    "property_type",
    "beds",
    "baths",
    "living_sqft",
    "lot_sqft",
    "year_built",
    "is_active",
    "created_at",
    "updated_at",
)
OWNER_MAILING = {"owner_mailing_address": "properties.view_owner_mailing"}
# Each kind of record nested in a property, with the permission admin's inline for it needs.
RECORD_PERMISSIONS = {
    "tax_sales": "properties.view_taxsale",
    "foreclosures": "properties.view_foreclosure",
    "valuations": "properties.view_valuation",
    "code_violations": "properties.view_codeviolation",
    "listings": "properties.view_listing",
}


class TaxSaleSerializer(serializers.ModelSerializer):
    class Meta:
        model = TaxSale
        fields = (*RECORD_FIELDS, "tda_number", "sale_date", "deed_status", "opening_bid", "source_updated_at")


class ForeclosureSerializer(serializers.ModelSerializer):
    class Meta:
        model = Foreclosure
        fields = (
            *RECORD_FIELDS,
            "case_number",
            "borrower",
            "lender",
            "status",
            "default_amount",
            "opening_bid",
            "filing_date",
            "auction_date",
        )


class ValuationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Valuation
        fields = (
            *RECORD_FIELDS,
            "tax_year",
            "market_value",
            "assessed_value",
            "taxable_value",
            "annual_taxes",
            "last_sale_price",
            "last_sale_date",
            "equity_percent",
            "tax_rate",
            "tax_delinquent",
            "delinquent_amount",
        )


class CodeViolationSerializer(serializers.ModelSerializer):
    class Meta:
        model = CodeViolation
        fields = (*RECORD_FIELDS, "case_number", "violation_type", "status", "opened_at", "closed_at", "location")


class PriceChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = PriceChange
        fields = ("old_price", "new_price", "changed_at")


class ListingSerializer(serializers.ModelSerializer):
    price_changes = PriceChangeSerializer(many=True, read_only=True)

    class Meta:
        model = Listing
        fields = (*RECORD_FIELDS, "list_price", "status", "days_on_market", "listed_at", "url", "price_changes")


class PropertySerializer(PermittedFieldsMixin, serializers.ModelSerializer):
    """A parcel with everything ingested about it that the caller's role may view."""

    field_permissions = {**RECORD_PERMISSIONS, **OWNER_MAILING}

    address = serializers.CharField(read_only=True)
    tax_sales = TaxSaleSerializer(many=True, read_only=True)
    foreclosures = ForeclosureSerializer(many=True, read_only=True)
    valuations = ValuationSerializer(many=True, read_only=True)
    code_violations = CodeViolationSerializer(many=True, read_only=True)
    listings = ListingSerializer(many=True, read_only=True)

    class Meta:
        model = Property
        fields = (*PROPERTY_FIELDS, "tax_sales", "foreclosures", "valuations", "code_violations", "listings")


class PropertyFeatureSerializer(PermittedFieldsMixin, GeoFeatureModelSerializer):
    """A parcel as a GeoJSON Feature (Point [lon, lat]); related records are left to the detail endpoint."""

    field_permissions = OWNER_MAILING

    address = serializers.CharField(read_only=True)

    class Meta:
        model = Property
        geo_field = "location"
        fields = PROPERTY_FIELDS


class DataSourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = DataSource
        fields = (
            "id",
            "name",
            "slug",
            "kind",
            "dataset",
            "url",
            "where",
            "field_mapping",
            "parcel_format",
            "county",
            "page_size",
            "enabled",
            "notes",
            "created_at",
            "updated_at",
        )

    def validate_field_mapping(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be an object: target field -> source field or expression.")
        return value

    def validate_url(self, value):
        try:
            url_check_public(value)
        except UnsafeURLError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value

    def validate(self, attrs):
        """The field mapping must make sense for the dataset (checked as the admin checks it)."""
        dataset = attrs.get("dataset", getattr(self.instance, "dataset", None))
        mapping = attrs.get("field_mapping", getattr(self.instance, "field_mapping", None))
        if dataset and mapping is not None and ("dataset" in attrs or "field_mapping" in attrs):
            try:
                FieldMapping.from_config(dataset, mapping)
            except MappingError as exc:
                raise serializers.ValidationError({"field_mapping": str(exc)}) from None
        return attrs


class IngestionRunSerializer(serializers.ModelSerializer):
    duration_seconds = serializers.SerializerMethodField()

    class Meta:
        model = IngestionRun
        fields = (
            "id",
            "source",
            "source_label",
            "dataset",
            "status",
            "processed",
            "inserted",
            "updated",
            "unchanged",
            "failed",
            "pages",
            "pages_failed",
            "errors",
            "message",
            "started_at",
            "finished_at",
            "duration_seconds",
        )

    def get_duration_seconds(self, run) -> float | None:
        return run.duration.total_seconds() if run.duration else None


class IngestStartSerializer(serializers.Serializer):
    run = IngestionRunSerializer(allow_null=True, read_only=True)
    task_id = serializers.CharField(allow_null=True, read_only=True)
