from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets

from buyers.filtersets import BuyerFilterSet, PropertyMatchFilterSet
from buyers.models import Buyer, PropertyMatch
from dealfinder.common.pagination import StableCursorPagination
from dealfinder.common.permissions import RoleModelPermissions

from .serializers import BuyerSerializer, PropertyMatchSerializer


class BuyerViewSet(viewsets.ModelViewSet):
    """Cash buyers with their buy boxes."""

    queryset = Buyer.objects.all()
    serializer_class = BuyerSerializer
    permission_classes = [RoleModelPermissions]
    filterset_class = BuyerFilterSet


@extend_schema(methods=["PATCH"], description="Only `contacted_at` can be changed.")
class PropertyMatchViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    """Property-buyer matches, best first per pair; PATCH `contacted_at` to record outreach."""

    queryset = PropertyMatch.objects.select_related("property", "buyer")
    serializer_class = PropertyMatchSerializer
    permission_classes = [RoleModelPermissions]
    filterset_class = PropertyMatchFilterSet
    pagination_class = StableCursorPagination
    http_method_names = ["get", "patch", "head", "options"]
