"""`/api/v1/outcomes/`: how leads ended (list, record with fee or reason), and `/api/v1/backtests/`: stored
backtest runs with their `backtest --json` document (the latest at `/api/v1/backtests/latest/`)."""

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from dealfinder.common.pagination import StableCursorPagination
from dealfinder.common.permissions import RoleModelPermissions
from leads.backtest_runs import backtest_latest
from leads.models import BacktestRun, Lead, Outcome
from leads.outcomes import outcome_record


class OutcomeSerializer(serializers.ModelSerializer):
    lead = serializers.PrimaryKeyRelatedField(queryset=Lead.objects.all())
    occurred_on = serializers.DateField(required=False, help_text="Default: today (the broker's time zone)")

    class Meta:
        model = Outcome
        fields = ("id", "lead", "kind", "occurred_on", "contract_date", "fee", "reason", "note", "source", "created_at")
        read_only_fields = ("id", "source", "created_at")
        validators = []  # one per lead, kind and day: recording it again fills in its details instead

    def create(self, validated_data):
        try:
            return outcome_record(
                lead=validated_data["lead"],
                kind=validated_data["kind"],
                source=Outcome.Source.API,
                occurred_on=validated_data.get("occurred_on"),
                contract_date=validated_data.get("contract_date"),
                fee=validated_data.get("fee"),
                reason=validated_data.get("reason", ""),
                note=validated_data.get("note", ""),
                actor=self.context["request"].user,
            )
        except ValueError as exc:
            raise serializers.ValidationError({"detail": str(exc)}) from None


class OutcomeViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Outcomes: a lead reaching under contract, closed (won) or dead records one by itself (admin, API status
    change, GoHighLevel); POST one to add the fee (won) or the reason (dead), which also moves the lead's status."""

    queryset = Outcome.objects.all()
    serializer_class = OutcomeSerializer
    permission_classes = [RoleModelPermissions]
    pagination_class = StableCursorPagination
    cursor_orderings = {"-occurred_on": ("-occurred_on", "-id"), "occurred_on": ("occurred_on", "id")}
    filterset_fields = ("lead", "kind", "reason", "source")


class BacktestRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = BacktestRun
        fields = ("id", "created_at", "since", "profile", "outcomes", "active_auc", "proposed_auc", "document")


class BacktestRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Stored backtests (run them with `manage.py backtest` or from the admin page)."""

    queryset = BacktestRun.objects.all()
    serializer_class = BacktestRunSerializer
    permission_classes = [RoleModelPermissions]
    pagination_class = StableCursorPagination
    cursor_orderings = {"-created_at": ("-created_at", "-id")}

    @extend_schema(summary="The latest backtest run")
    @action(detail=False)
    def latest(self, request):
        run = backtest_latest()
        if run is None:
            raise Http404("No backtest has run yet: run `manage.py backtest` or use the admin page.")
        return Response(self.get_serializer(run).data)
