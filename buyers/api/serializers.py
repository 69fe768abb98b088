from decimal import Decimal

from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from rest_framework import serializers

from buyers.models import STRATEGIES, ZIP, Buyer, PropertyMatch, validate_center, validate_radius_miles
from dealfinder.common.permissions import PermittedFieldsMixin
from properties.models import PropertyType


def _ordered(attrs: dict, low: str, high: str, instance) -> None:
    lo = attrs.get(low, getattr(instance, low, None))
    hi = attrs.get(high, getattr(instance, high, None))
    if lo is not None and hi is not None and lo > hi:
        raise serializers.ValidationError({low: [f"Must not exceed {high}."]})


class BuyerSerializer(serializers.ModelSerializer):
    """A cash buyer and their buy box; `target_area` (MultiPolygon or Polygon) and `center` are GeoJSON."""

    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    property_types = serializers.ListField(child=serializers.ChoiceField(PropertyType.choices), required=False)
    target_zips = serializers.ListField(
        child=serializers.RegexField(ZIP, max_length=5), required=False, help_text="5-digit zips"
    )
    strategies = serializers.ListField(child=serializers.ChoiceField(STRATEGIES), required=False)
    radius_miles = serializers.DecimalField(
        max_digits=6,
        decimal_places=2,
        min_value=Decimal("0.01"),
        allow_null=True,
        required=False,
        validators=[validate_radius_miles],
    )

    class Meta:
        model = Buyer
        fields = (
            "id",
            "first_name",
            "last_name",
            "company",
            "email",
            "phone",
            "sms_opt_in",
            "dnd",
            "tags",
            "is_active",
            "source",
            "ghl_contact_id",
            "min_price",
            "max_price",
            "property_types",
            "min_beds",
            "min_baths",
            "min_year_built",
            "max_year_built",
            "target_area",
            "target_zips",
            "center",
            "radius_miles",
            "strategies",
            "cash_buyer",
            "proof_of_funds",
            "notes",
            "created_at",
            "updated_at",
        )
        read_only_fields = ("ghl_contact_id", "created_at", "updated_at")

    def validate_target_area(self, value):
        """The model's validate_target_area (vertices, WGS 84, validity, span) ran on the field already."""
        if value is None:
            return None
        if isinstance(value, Polygon):
            value = MultiPolygon(value, srid=value.srid)
        if not isinstance(value, MultiPolygon):
            raise serializers.ValidationError("Must be a Polygon or MultiPolygon.")
        value.srid = 4326
        return value

    def validate_center(self, value):
        if value is None:
            return None
        if not isinstance(value, Point):
            raise serializers.ValidationError("Must be a Point.")
        validate_center(value)
        value.srid = 4326
        return value

    def validate(self, attrs):
        _ordered(attrs, "min_price", "max_price", self.instance)
        _ordered(attrs, "min_year_built", "max_year_built", self.instance)
        return attrs


class PropertyMatchSerializer(PermittedFieldsMixin, serializers.ModelSerializer):
    field_permissions = {
        "parcel_id": "properties.view_property",
        "address": "properties.view_property",
        "buyer_name": "buyers.view_buyer",
    }

    parcel_id = serializers.CharField(source="property.parcel_id", read_only=True)
    address = serializers.CharField(source="property.address", read_only=True)
    buyer_name = serializers.CharField(source="buyer.__str__", read_only=True)

    class Meta:
        model = PropertyMatch
        fields = (
            "id",
            "property",
            "parcel_id",
            "address",
            "buyer",
            "buyer_name",
            "score",
            "reasons",
            "contacted_at",
            "sms_sent_at",
            "workflow_triggered_at",
            "task_created_at",
            "created_at",
            "updated_at",
        )
        read_only_fields = tuple(f for f in fields if f != "contacted_at")
