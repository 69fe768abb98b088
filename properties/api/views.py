from django.db.models import Prefetch, ProtectedError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle

from dealfinder.common.pagination import GeoJsonCursorPagination, StableCursorPagination, ordering_parameter
from dealfinder.common.permissions import CommandRateThrottle, ManagerModelPermissions, RoleModelPermissions
from dealfinder.common.queue import QueueUnavailable
from properties.filtersets import DataSourceFilterSet, IngestionRunFilterSet, PropertyFilterSet
from properties.models import DataSource, IngestionRun, Listing, Property
from properties.selectors import datasource_health
from properties.services import SourceDisabled

from .serializers import (
    RECORD_PERMISSIONS,
    DataSourceSerializer,
    IngestionRunSerializer,
    IngestStartSerializer,
    PropertyFeatureSerializer,
    PropertySerializer,
    SourceHealthSerializer,
)
from .services import datasource_ingest_start


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class QueueUnreachable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "queue_unavailable"


PROPERTY_ORDERINGS = {"parcel_id": ("parcel_id",), "-updated_at": ("-updated_at", "-id"), "id": ("id",)}


@extend_schema_view(list=extend_schema(parameters=[ordering_parameter(PROPERTY_ORDERINGS)]))
class PropertyViewSet(viewsets.ReadOnlyModelViewSet):
    """Parcels with their tax sales, foreclosures, valuations, code violations and listings."""

    queryset = Property.objects.all()
    serializer_class = PropertySerializer
    permission_classes = [RoleModelPermissions]
    filterset_class = PropertyFilterSet
    pagination_class = StableCursorPagination
    cursor_orderings = PROPERTY_ORDERINGS
    record_prefetches = {
        "listings": Prefetch("listings", queryset=Listing.objects.prefetch_related("price_changes")),
    }

    def get_queryset(self):
        """Only the records the caller may view are read (the serializer leaves the others out)."""
        if self.action == "geojson":
            return Property.objects.all()
        user = self.request.user
        return Property.objects.prefetch_related(
            *(
                self.record_prefetches.get(name, name)
                for name, perm in RECORD_PERMISSIONS.items()
                if user.has_perm(perm)
            )
        )

    @extend_schema(
        summary="Properties as a GeoJSON FeatureCollection (same filters and cursor)",
        responses=PropertyFeatureSerializer(many=True),
        parameters=[ordering_parameter(PROPERTY_ORDERINGS)],
    )
    @action(
        detail=False,
        serializer_class=PropertyFeatureSerializer,
        pagination_class=GeoJsonCursorPagination,
    )
    def geojson(self, request):
        return self.list(request)


class DataSourceViewSet(viewsets.ModelViewSet):
    """Configured sources (Admin role only: reading needs `change_datasource`)."""

    queryset = DataSource.objects.all()
    serializer_class = DataSourceSerializer
    permission_classes = [ManagerModelPermissions]
    filterset_class = DataSourceFilterSet
    action_permissions = {
        "ingest": ["properties.change_datasource"],
        "health": ["properties.view_datasource", "properties.view_ingestionrun"],
    }

    def get_success_headers(self, data):
        return {}  # DRF would put the `url` field (the source's URL) in a Location header

    def perform_destroy(self, instance):
        try:
            instance.delete()
        except ProtectedError as exc:
            raise Conflict("Records ingested from this source still exist; disable it instead.") from exc

    @extend_schema(
        request=None,
        responses={202: IngestStartSerializer, 409: None, 503: None},
        summary="Start ingesting this source",
        description="`run` is the IngestionRun: with a Celery worker it is queued (status `running`, `task_id` set; "
        "poll /api/v1/ingestion-runs/{run.id}/), without a broker it has already run and is finished. "
        "409 when the source is disabled, 503 when the task queue cannot be reached (nothing was queued or recorded).",
    )
    @action(detail=True, methods=["post"], throttle_classes=[UserRateThrottle, CommandRateThrottle])
    def ingest(self, request, pk=None):
        try:
            started = datasource_ingest_start(source=self.get_object())
        except SourceDisabled as exc:
            raise Conflict(str(exc)) from exc
        except QueueUnavailable as exc:
            raise QueueUnreachable(str(exc)) from exc
        return Response(IngestStartSerializer(started).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        responses={200: SourceHealthSerializer},
        summary="This source's health over its latest runs",
        description="Per run, newest first: records in and stored, unplaced share, fill rate, sentinels and bad "
        "values per target field, and the schema drift since the run before.",
    )
    @action(detail=True, methods=["get"])
    def health(self, request, pk=None):
        source = self.get_object()
        return Response(SourceHealthSerializer(datasource_health(source=source).as_dict()).data)


class IngestionRunViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = IngestionRun.objects.all()
    serializer_class = IngestionRunSerializer
    permission_classes = [RoleModelPermissions]
    filterset_class = IngestionRunFilterSet
    pagination_class = StableCursorPagination
