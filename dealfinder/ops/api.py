"""The leads API as the project serves it: leads.api.views.LeadViewSet plus `POST /api/v1/leads/{id}/rescore/`,
which scores with the buyers' demand (dealfinder.ops.scoring), something only the roof may hand leads."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle

from dealfinder.common.permissions import CommandRateThrottle
from dealfinder.ops.scoring import leads_score
from leads.api import views as leads_api
from leads.api.serializers import LeadSerializer


class LeadViewSet(leads_api.LeadViewSet):
    # No docstring of its own: the API schema keeps describing the leads with leads_api.LeadViewSet's.
    action_permissions = {"rescore": ["leads.change_lead"]}

    @extend_schema(request=None, responses=LeadSerializer, summary="Re-score this lead's parcel now")
    @action(detail=True, methods=["post"], throttle_classes=[UserRateThrottle, CommandRateThrottle])
    def rescore(self, request, pk=None):
        lead = self.get_object()
        leads_score(parcel_id=lead.property.parcel_id)
        return Response(self.get_serializer(self.get_object()).data)
