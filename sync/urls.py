from django.urls import path

from sync import views

app_name = "sync"

urlpatterns = [
    path("ghl/webhook/", views.ghl_webhook, name="ghl-webhook"),
    path("health/", views.health, name="health"),
    path("lob/webhook/", views.lob_webhook, name="lob-webhook"),
]
