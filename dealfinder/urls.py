from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from dealfinder.api_router import router
from dealfinder.ops import views

admin.site.site_header = "DealFinder"
admin.site.site_title = "DealFinder"
admin.site.index_title = "Leads, properties, buyers and sync"
# Failed logins lock out per (client address, username) and per address: django-axes (dealfinder.common.login_lockout).

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("", include("leads.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")), name="api-docs"),
    path("api/redoc/", login_required(SpectacularRedocView.as_view(url_name="api-schema")), name="api-redoc"),
    path("sync/", include("sync.urls")),
]
