"""The /api/v1/ router. Each app's API viewsets are registered here."""

from rest_framework.routers import DefaultRouter

from buyers.api.views import BuyerViewSet, PropertyMatchViewSet
from dealfinder.ops.api import LeadViewSet
from leads.api.kpis import KpiViewSet
from leads.api.outcomes import BacktestRunViewSet, OutcomeViewSet
from leads.api.owners import OwnerViewSet
from properties.api.views import DataSourceViewSet, IngestionRunViewSet, PropertyViewSet
from sync.api.views import LeadPushViewSet, SyncLogViewSet

router = DefaultRouter()
router.include_format_suffixes = False
# Before LeadViewSet: the API root lists one link per prefix and the last registration wins.
router.register("leads", LeadPushViewSet, basename="lead-push")
router.register("leads", LeadViewSet, basename="lead")
router.register("properties", PropertyViewSet, basename="property")
router.register("owners", OwnerViewSet, basename="owner")
router.register("buyers", BuyerViewSet, basename="buyer")
router.register("matches", PropertyMatchViewSet, basename="match")
router.register("data-sources", DataSourceViewSet, basename="datasource")
router.register("ingestion-runs", IngestionRunViewSet, basename="ingestionrun")
router.register("sync-logs", SyncLogViewSet, basename="synclog")
router.register("outcomes", OutcomeViewSet, basename="outcome")
router.register("backtests", BacktestRunViewSet, basename="backtestrun")
router.register("kpis", KpiViewSet, basename="kpis")

# The reporting views: GET /api/v1/reports/<name>/ (dealfinder/ops/reports).
from dealfinder.ops.reports.api import REPORT_VIEWSETS  # noqa: E402

for _name, _viewset in REPORT_VIEWSETS.items():
    router.register(f"reports/{_name}", _viewset, basename=f"report-{_name}")
