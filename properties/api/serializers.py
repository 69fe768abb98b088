from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from dealfinder.common.outbound import UnsafeURLError, url_check_public
from dealfinder.common.permissions import PermittedFieldsMixin
from properties.ingest.mapping import FieldMapping, MappingError
from properties.models import (
    CodeViolation,
    DataSource,
    Foreclosure,
    IngestionRun,
    Listing,
    PriceChange,
    Property,
    TaxDelinquency,
    TaxSale,
    Valuation,
)
from properties.rekey import parcel_format_change_error
from properties.selectors import mapping_vs_recorded_schema

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
    "tax_delinquencies": "properties.view_taxdelinquency",
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


class TaxDelinquencySerializer(serializers.ModelSerializer):
    class Meta:
        model = TaxDelinquency
        fields = (
            *RECORD_FIELDS,
            "tax_year",
            "amount_owed",
            "status",
            "is_open",
            "delinquent_since",
            "resolved_at",
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
    tax_delinquencies = TaxDelinquencySerializer(many=True, read_only=True)
    code_violations = CodeViolationSerializer(many=True, read_only=True)
    listings = ListingSerializer(many=True, read_only=True)

    class Meta:
        model = Property
        fields = (
            *PROPERTY_FIELDS,
            "tax_sales",
            "foreclosures",
            "valuations",
            "tax_delinquencies",
            "code_violations",
            "listings",
        )


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
            "incremental_field",
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
        """The field mapping must make sense for the dataset (checked as the admin checks it); the parcel format of
        a source with stored parcels changes only through parcel_rekey."""
        dataset = attrs.get("dataset", getattr(self.instance, "dataset", None))
        mapping = attrs.get("field_mapping", getattr(self.instance, "field_mapping", None))
        if dataset and mapping is not None and ("dataset" in attrs or "field_mapping" in attrs):
            try:
                parsed = FieldMapping.from_config(dataset, mapping)
            except MappingError as exc:
                raise serializers.ValidationError({"field_mapping": str(exc)}) from None
            problem = mapping_vs_recorded_schema(self.instance, attrs.get("url"), mapping, parsed)
            if problem:
                raise serializers.ValidationError({"field_mapping": problem})
        if self.instance is not None and "parcel_format" in attrs:
            problem = parcel_format_change_error(source=self.instance, parcel_format=attrs["parcel_format"])
            if problem:
                raise serializers.ValidationError({"parcel_format": problem})
        return attrs


class FieldStatSerializer(serializers.Serializer):
    filled = serializers.IntegerField()
    blank = serializers.IntegerField()
    sentinel = serializers.IntegerField(help_text="Values that mean unknown: NULL, N/A, a $0 sale, year 0, ...")
    bad = serializers.IntegerField(help_text="Values that could not be read: dropped, the record kept")
    examples = serializers.ListField(child=serializers.CharField(), help_text="The first problems, with record ids")


class IngestionRunSerializer(serializers.ModelSerializer):
    duration_seconds = serializers.SerializerMethodField()
    field_stats = serializers.DictField(
        child=FieldStatSerializer(),
        read_only=True,
        help_text='Per target field (and "location", the point): how its values read over the records of the run',
    )

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
            "stored",
            "unplaced",
            "duplicates",
            "pages",
            "pages_failed",
            "errors",
            "warnings",
            "field_stats",
            "message",
            "started_at",
            "finished_at",
            "heartbeat_at",
            "duration_seconds",
        )

    def get_duration_seconds(self, run) -> float | None:
        return run.duration.total_seconds() if run.duration else None


class IngestStartSerializer(serializers.Serializer):
    run = IngestionRunSerializer(read_only=True)
    task_id = serializers.CharField(allow_null=True, read_only=True)


class FieldHealthSerializer(serializers.Serializer):
    filled = serializers.IntegerField()
    blank = serializers.IntegerField()
    sentinel = serializers.IntegerField()
    bad = serializers.IntegerField()
    fill_rate = serializers.FloatField(allow_null=True, help_text="filled / records processed")
    examples = serializers.ListField(child=serializers.CharField())


class RunHealthSerializer(serializers.Serializer):
    run_id = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    status = serializers.CharField()
    message = serializers.CharField(allow_blank=True)
    records_in = serializers.IntegerField(help_text="records processed")
    stored = serializers.IntegerField(help_text="inserted + updated + unchanged")
    failed = serializers.IntegerField()
    unplaced = serializers.IntegerField(help_text="records stored without a point")
    unplaced_share = serializers.FloatField(allow_null=True, help_text="unplaced / records processed")
    incremental_since = serializers.DateTimeField(allow_null=True)
    fields = serializers.DictField(child=FieldHealthSerializer(), help_text="per target field")
    schema_drift = serializers.DictField(help_text="added, removed, retyped, missing_mapped since the previous run")


class SourceHealthSerializer(serializers.Serializer):
    source_id = serializers.IntegerField()
    slug = serializers.CharField()
    enabled = serializers.BooleanField()
    runs = RunHealthSerializer(many=True, help_text="the latest runs, newest first")
