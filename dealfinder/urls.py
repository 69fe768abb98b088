from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from dealfinder import views
from dealfinder.api_router import router

admin.site.site_header = "DealFinder"
admin.site.site_title = "DealFinder"
admin.site.index_title = "Leads, properties, buyers and sync"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("sync/", include("sync.urls")),
]
