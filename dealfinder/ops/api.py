"""The leads API as the project serves it: leads.api.views.LeadViewSet plus `POST /api/v1/leads/{id}/rescore/`,
which scores with the buyers' demand (dealfinder.ops.scoring), something only the roof may hand leads."""

import django_filters as filters
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle

from buyers.models import PropertyMatch
from dealfinder.common.permissions import CommandRateThrottle
from dealfinder.ops.scoring import leads_score
from leads.api import views as leads_api
from leads.api.serializers import LeadSerializer
from leads.filtersets import LeadFilterSet


def _match_count():
    """A lead's matches (buyers.PropertyMatch of its property), as a subquery: no GROUP BY over the lead page."""
    matches = PropertyMatch.objects.filter(property_id=OuterRef("property_id")).order_by().values("property_id")
    return Coalesce(Subquery(matches.annotate(n=Count("id")).values("n")[:1], output_field=IntegerField()), 0)


class LeadMatchSerializer(LeadSerializer):
    match_count = serializers.IntegerField(read_only=True, help_text="Buyers matched to this lead (as vw_hot_deals)")

    class Meta(LeadSerializer.Meta):
        fields = (*LeadSerializer.Meta.fields, "match_count")
        read_only_fields = fields


class LeadMatchFilterSet(LeadFilterSet):
    min_matches = filters.NumberFilter(field_name="match_count", lookup_expr="gte", label="At least this many matches")
    max_matches = filters.NumberFilter(field_name="match_count", lookup_expr="lte", label="At most this many matches")


class LeadViewSet(leads_api.LeadViewSet):
    # No docstring of its own: the API schema keeps describing the leads with leads_api.LeadViewSet's.
    action_permissions = {**leads_api.LeadViewSet.action_permissions, "rescore": ["leads.change_lead"]}
    queryset = leads_api.LeadViewSet.queryset.annotate(match_count=_match_count())
    serializer_class = LeadMatchSerializer
    filterset_class = LeadMatchFilterSet

    @extend_schema(request=None, responses=LeadMatchSerializer, summary="Re-score this lead's parcel now")
    @action(detail=True, methods=["post"], throttle_classes=[UserRateThrottle, CommandRateThrottle])
    def rescore(self, request, pk=None):
        lead = self.get_object()
        leads_score(parcel_id=lead.property.parcel_id)
        return Response(self.get_serializer(self.get_object()).data)
