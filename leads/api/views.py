from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from dealfinder.common.pagination import GeoJsonCursorPagination, StableCursorPagination, ordering_parameter
from dealfinder.common.permissions import RoleModelPermissions
from leads.comps_selectors import lead_comps
from leads.filtersets import LeadFilterSet
from leads.models import Lead

from .serializers import LeadFeatureSerializer, LeadSerializer, LeadUpdateSerializer

# Cursor orderings (LeadFilterSet's nullable orderings cannot be walked by a cursor).
LEAD_ORDERINGS = {
    "-score": ("-total", "-id"),
    "score": ("total", "id"),
    "-stack_count": ("-stack_count", "-id"),
    "stack_count": ("stack_count", "id"),
    "-updated_at": ("-updated_at", "-id"),
    "updated_at": ("updated_at", "id"),
}


# The columns a list page serializes (LeadSerializer and its LeadPropertySerializer): the wide ones a page never
# shows (comps and their sale ids, signals, the property's other facts) stay in the database. A field added
# to those serializers belongs here too (tests/api/test_query_counts.py fails on a deferred load per row).
_LEAD_COLUMNS = (
    "id status assigned_to next_action_at notes tier distress value location_score urgency total reasons stack_count "
    "scored_at arv repair_estimate mao created_at updated_at property"
)
_PROPERTY_COLUMNS = (
    "id parcel_id street unit city state zip county location owner_name is_absentee is_vacant property_type beds "
    "baths living_sqft year_built"
)
LIST_ONLY = (
    *_LEAD_COLUMNS.split(),
    "assigned_to__username",
    *(f"property__{name}" for name in _PROPERTY_COLUMNS.split()),
)


@extend_schema_view(list=extend_schema(parameters=[ordering_parameter(LEAD_ORDERINGS)]))
class LeadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Scored leads. Filters are the map's (LeadFilterSet); `ordering` accepts the cursor orderings only."""

    queryset = Lead.objects.select_related("property", "assigned_to")
    serializer_class = LeadSerializer
    permission_classes = [RoleModelPermissions]
    filterset_class = LeadFilterSet
    pagination_class = StableCursorPagination
    cursor_orderings = LEAD_ORDERINGS
    http_method_names = ["get", "post", "patch", "head", "options"]
    # Comps are other parcels' recorded sales: whoever reads them needs to see sales.
    action_permissions = {"comps": ["leads.view_lead", "properties.view_sale"]}

    def get_queryset(self):
        queryset = super().get_queryset()
        return queryset.only(*LIST_ONLY) if self.action == "list" else queryset

    @extend_schema(request=LeadUpdateSerializer, responses=LeadSerializer)
    def partial_update(self, request, *args, **kwargs):
        lead = self.get_object()
        update = LeadUpdateSerializer(lead, data=request.data, partial=True, context=self.get_serializer_context())
        update.is_valid(raise_exception=True)
        update.save()
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        summary="Leads as a GeoJSON FeatureCollection (same filters and cursor)",
        responses=LeadFeatureSerializer(many=True),
        parameters=[ordering_parameter(LEAD_ORDERINGS)],
    )
    @action(detail=False, serializer_class=LeadFeatureSerializer, pagination_class=GeoJsonCursorPagination)
    def geojson(self, request):
        return self.list(request)

    @extend_schema(
        summary="The lead's comps and ARV from recorded arms-length sales",
        description='`{"arv", "low", "high", "confidence", "comps": [...]}`; each comp with its distance, date, price,'
        " $/sqft, adjustments and why it was kept.",
        responses={200: dict},
    )
    @action(detail=True, pagination_class=None, filter_backends=[])
    def comps(self, request, pk=None):
        return Response(lead_comps(lead=self.get_object()).as_json())
