from django.urls import path

from . import views

app_name = "leads"

urlpatterns = [
    path("map/", views.lead_map, name="map"),
    path("map/leads.geojson", views.lead_map_geojson, name="map-geojson"),
    path("map/export.csv", views.lead_map_export, name="map-export"),
    path("map/assign/", views.lead_map_assign, name="map-assign"),
]
