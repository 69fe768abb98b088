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
