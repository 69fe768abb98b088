"""`/api/v1/owners/`: owners with their parcels, each parcel with its lead's tier and score (here, in leads, because
the lead is what a parcel's tier and score belong to)."""

from django.db.models import Prefetch
from rest_framework import serializers, viewsets

from dealfinder.common.pagination import StableCursorPagination
from dealfinder.common.permissions import PermittedFieldsMixin, RoleModelPermissions
from properties.filtersets import OwnerFilterSet
from properties.models import Owner, Property

OWNER_ORDERINGS = {
    "-property_count": ("-property_count", "-id"),
    "-distressed_count": ("-distressed_count", "-id"),
    "id": ("id",),
}


class OwnerParcelSerializer(serializers.ModelSerializer):
    address = serializers.CharField(read_only=True)
    lead_id = serializers.SerializerMethodField()
    lead_tier = serializers.SerializerMethodField()
    lead_score = serializers.SerializerMethodField()

    class Meta:
        model = Property
        fields = ("id", "parcel_id", "address", "city", "zip", "property_type", "owner_name", "is_absentee",
                  "lead_id", "lead_tier", "lead_score")  # fmt: skip

    def _lead(self, obj):
        return getattr(obj, "lead", None)

    def get_lead_id(self, obj) -> int | None:
        lead = self._lead(obj)
        return lead.pk if lead else None

    def get_lead_tier(self, obj) -> str | None:
        lead = self._lead(obj)
        return lead.tier if lead else None

    def get_lead_score(self, obj) -> int | None:
        lead = self._lead(obj)
        return lead.total if lead else None


class OwnerSerializer(PermittedFieldsMixin, serializers.ModelSerializer):
    """An owner: its name, kind and indicators, why its parcels were grouped, and the parcels."""

    field_permissions = {"mailing_address": "properties.view_owner_mailing"}
    mailing_address = serializers.CharField(read_only=True)
    parcels = OwnerParcelSerializer(many=True, read_only=True)

    class Meta:
        model = Owner
        fields = (
            "id", "display_name", "kind", "entity", "people", "mailing_address", "mailing_state", "property_count",
            "distressed_count", "is_corporate", "is_trust", "is_estate", "is_government", "is_bank",
            "is_out_of_state", "name_forms", "explanation", "parcels", "updated_at",
        )  # fmt: skip


class OwnerViewSet(viewsets.ReadOnlyModelViewSet):
    """Owners across their parcels. Filters: min_properties, max_properties, min_distressed, max_distressed,
    is_corporate, is_out_of_state, is_estate, kind, q (name or parcel id)."""

    queryset = Owner.objects.all()
    serializer_class = OwnerSerializer
    permission_classes = [RoleModelPermissions]
    filterset_class = OwnerFilterSet
    pagination_class = StableCursorPagination
    cursor_orderings = OWNER_ORDERINGS

    def get_queryset(self):
        parcels = Property.objects.filter(is_active=True).select_related("lead").order_by("parcel_id")
        return Owner.objects.prefetch_related(Prefetch("properties", queryset=parcels, to_attr="parcels"))
