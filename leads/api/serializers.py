from types import SimpleNamespace

from django.db import transaction
from drf_spectacular.contrib.rest_framework_gis import GeoFeatureModelSerializerExtension
from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from dealfinder.common.geojson import PointGeometryField
from dealfinder.common.permissions import PermittedFieldsMixin
from leads.assignees import ASSIGNEE_REFUSED, lead_assignees
from leads.models import Lead, Outcome
from leads.services import lead_assign, lead_change_status
from properties.models import Property


class LeadPropertySerializer(serializers.ModelSerializer):
    address = serializers.CharField(read_only=True)
    location = PointGeometryField(read_only=True, allow_null=True)

    class Meta:
        model = Property
        fields = (
            "id",
            "parcel_id",
            "address",
            "city",
            "zip",
            "county",
            "location",
            "owner_name",
            "is_absentee",
            "is_vacant",
            "property_type",
            "beds",
            "baths",
            "living_sqft",
            "year_built",
        )


class ScoreSerializer(serializers.Serializer):
    distress = serializers.IntegerField()
    value = serializers.IntegerField()
    location = serializers.IntegerField(source="location_score")
    urgency = serializers.IntegerField()
    total = serializers.IntegerField()


class DealSerializer(serializers.Serializer):
    arv = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    repair_estimate = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    mao = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)


VIEW_PROPERTY = "properties.view_property"


class LeadSerializer(PermittedFieldsMixin, serializers.ModelSerializer):
    """A lead: its property, score breakdown with reasons, deal numbers and workflow fields."""

    field_permissions = {"property": VIEW_PROPERTY}

    property = LeadPropertySerializer(read_only=True)
    assigned_to_username = serializers.CharField(source="assigned_to.username", read_only=True, allow_null=True)
    score = ScoreSerializer(source="*", read_only=True)
    deal = DealSerializer(source="*", read_only=True)

    class Meta:
        model = Lead
        fields = (
            "id",
            "property",
            "status",
            "assigned_to",
            "assigned_to_username",
            "next_action_at",
            "notes",
            "tier",
            "score",
            "reasons",
            "stack_count",
            "scored_at",
            "deal",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class LeadUpdateSerializer(serializers.ModelSerializer):
    """What an integrator may change; status and assignee changes are recorded as Activity."""

    assigned_to = serializers.PrimaryKeyRelatedField(
        queryset=lead_assignees(),
        allow_null=True,
        required=False,
        error_messages={"does_not_exist": ASSIGNEE_REFUSED},
        help_text="An active staff user in a broker role; null unassigns.",
    )

    class Meta:
        model = Lead
        fields = ("status", "assigned_to", "notes", "next_action_at")

    @transaction.atomic
    def update(self, lead, validated_data):
        actor = self.context["request"].user
        if "status" in validated_data:
            status = validated_data.pop("status")
            lead_change_status(lead=lead, status=status, actor=actor, source=Outcome.Source.API)
        if "assigned_to" in validated_data:
            lead_assign(lead=lead, user=validated_data.pop("assigned_to"), actor=actor)
        if validated_data:
            for name, value in validated_data.items():
                setattr(lead, name, value)
            lead.save(update_fields=[*validated_data, "updated_at"])
        return lead


class LeadFeatureSerializer(PermittedFieldsMixin, GeoFeatureModelSerializer):
    """A lead as a GeoJSON Feature at its property's point ([lon, lat])."""

    field_permissions = dict.fromkeys(("parcel_id", "address", "property_type"), VIEW_PROPERTY)

    location = PointGeometryField(source="property.location", read_only=True)
    parcel_id = serializers.CharField(source="property.parcel_id", read_only=True)
    address = serializers.CharField(source="property.address", read_only=True)
    property_type = serializers.CharField(source="property.property_type", read_only=True)

    class Meta:
        model = Lead
        geo_field = "location"
        fields = (
            "id",
            "location",
            "parcel_id",
            "address",
            "property_type",
            "status",
            "tier",
            "total",
            "stack_count",
            "reasons",
            "arv",
            "mao",
            "assigned_to",
            "next_action_at",
            "updated_at",
        )


class LeadFeatureSchema(GeoFeatureModelSerializerExtension):
    """OpenAPI for LeadFeatureSerializer: its geometry is the property's Point (not a Lead field)."""

    target_class = LeadFeatureSerializer
    priority = 1

    def map_geo_feature_model_serializer(self, serializer, base_schema):
        meta = type("Meta", (serializer.Meta,), {"model": Property})
        return super().map_geo_feature_model_serializer(
            SimpleNamespace(fields=serializer.fields, Meta=meta), base_schema
        )
