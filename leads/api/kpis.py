"""`GET /api/v1/kpis/`: issue 22's KPIs per list source and per signal stack, by the month the leads were created
(leads.kpis: one grouped query each, whatever the number of rows). `?month=YYYY-MM` keeps the leads created in
that month, `?since=YYYY-MM-DD` those created on or after that day (both in the broker's time zone)."""

import datetime

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from leads.kpis import kpis_by_signal_stack, kpis_by_source

# Leads and how they ended, and the list sources' costs.
KPI_PERMISSIONS = ("leads.view_lead", "leads.view_outcome", "properties.view_datasource")
FIRST_DAY, LAST_DAY = datetime.date(1900, 1, 1), datetime.date(2999, 12, 31)


class KpiPermission(BasePermission):
    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perms(KPI_PERMISSIONS))


def _in_range(day: datetime.date) -> datetime.date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise serializers.ValidationError(f"Give a date between {FIRST_DAY} and {LAST_DAY}.")
    return day


class KpiQuerySerializer(serializers.Serializer):
    month = serializers.CharField(
        required=False, help_text="YYYY-MM: only the leads created in that month (the broker's time zone)"
    )
    since = serializers.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        help_text="YYYY-MM-DD: only the leads created on or after that day (the broker's time zone)",
    )

    def validate_month(self, value: str) -> datetime.date:
        try:
            month = datetime.datetime.strptime(value, "%Y-%m").date()
        except ValueError:
            raise serializers.ValidationError("Give the month as YYYY-MM, e.g. 2026-01.") from None
        return _in_range(month)

    def validate_since(self, value: datetime.date) -> datetime.date:
        return _in_range(value)


class MonthField(serializers.CharField):
    """The start of a month (an aware datetime from TruncMonth) as YYYY-MM, in the broker's time zone."""

    def to_representation(self, value):
        return timezone.localtime(value).strftime("%Y-%m")


def _money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=None, decimal_places=2, **kwargs)


class KpiMeasuresSerializer(serializers.Serializer):
    month = MonthField(help_text="YYYY-MM: the month the leads were created")
    leads = serializers.IntegerField()
    contacted = serializers.IntegerField(help_text="Leads that left status new")
    appointments = serializers.IntegerField(help_text="Leads that reached negotiating or further")
    contracts = serializers.IntegerField(help_text="Leads with an under-contract or won outcome")
    closed = serializers.IntegerField(help_text="Leads with a won outcome")
    revenue = _money(help_text="The won outcomes' fees")
    days_to_contract = serializers.FloatField(
        allow_null=True, help_text="Mean days from the lead's creation to its first contract"
    )


class KpiStackRowSerializer(KpiMeasuresSerializer):
    stack = serializers.IntegerField(source="stack_count", help_text="Distinct distress signals the leads carry")


class KpiSourceRowSerializer(KpiMeasuresSerializer):
    source_id = serializers.IntegerField()
    source = serializers.CharField(help_text="The list source's name")
    cost = _money(allow_null=True, help_text="Cost per month plus cost per record x leads; null when none is set")
    cost_per_deal = _money(allow_null=True, help_text="cost / closed; null without a cost or a closed deal")


class KpisSerializer(serializers.Serializer):
    by_source = KpiSourceRowSerializer(many=True, help_text="Newest month first, then by source name")
    by_stack = KpiStackRowSerializer(many=True, help_text="Newest month first, then most signals first")


class KpiViewSet(viewsets.ViewSet):
    """KPIs by list source and by signal stack, by month: leads, contacted, appointments, contracts, closed,
    revenue, cost per deal (sources), days to contract. Needs leads.view_lead, leads.view_outcome and
    properties.view_datasource."""

    permission_classes = [KpiPermission]

    @extend_schema(
        parameters=[KpiQuerySerializer],
        responses={200: KpisSerializer, 400: OpenApiResponse(description="A month or day that is not YYYY-MM(-DD)")},
    )
    def list(self, request):
        query = KpiQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        window = {"month": query.validated_data.get("month"), "since": query.validated_data.get("since")}
        data = {"by_source": kpis_by_source(**window), "by_stack": kpis_by_signal_stack(**window)}
        return Response(KpisSerializer(data).data)
