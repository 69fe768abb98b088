from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle

from dealfinder.common.pagination import StableCursorPagination
from dealfinder.common.permissions import CommandRateThrottle, RoleModelPermissions
from leads.models import Lead
from sync.filtersets import SyncLogFilterSet
from sync.models import SyncLog
from sync.push import ghl_push_leads
from sync.runs import NOT_CONFIGURED, ghl_configured

from .serializers import SyncLogSerializer


class SyncLogViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = SyncLog.objects.all()
    serializer_class = SyncLogSerializer
    permission_classes = [RoleModelPermissions]
    filterset_class = SyncLogFilterSet
    pagination_class = StableCursorPagination


class LeadPushViewSet(viewsets.GenericViewSet):
    """POST /api/v1/leads/{id}/push/: lives here because only sync may import the GoHighLevel code."""

    queryset = Lead.objects.all()
    serializer_class = SyncLogSerializer
    permission_classes = [RoleModelPermissions]
    action_permissions = {"push": ["leads.change_lead"]}

    @extend_schema(
        request=None,
        responses={200: SyncLogSerializer, 409: OpenApiResponse(description=NOT_CONFIGURED)},
        summary="Push this lead (any tier) to GoHighLevel now",
        tags=["leads"],
    )
    @action(detail=True, methods=["post"], throttle_classes=[UserRateThrottle, CommandRateThrottle])
    def push(self, request, pk=None):
        lead = self.get_object()
        if not ghl_configured():
            return Response({"detail": NOT_CONFIGURED}, status=status.HTTP_409_CONFLICT)
        log = ghl_push_leads(lead_ids=[lead.pk], min_tier="D")
        return Response(SyncLogSerializer(log).data)
