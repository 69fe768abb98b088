"""Every admin page renders for a superuser, and changelists do not run a query per row."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories as buyer_factories
from tests import factories as lead_factories
from tests import factories as property_factories
from tests import factories as sync_factories

pytestmark = pytest.mark.django_db

FACTORY_MODULES = (property_factories, lead_factories, buyer_factories, sync_factories)


def factory_for(model):
    for module in FACTORY_MODULES:
        for value in vars(module).values():
            if getattr(getattr(value, "_meta", None), "model", None) is model:
                return value
    return None


def registered_models():
    own_apps = {"properties", "leads", "buyers", "sync"}
    return sorted(
        (m for m in admin.site._registry if m._meta.app_label in own_apps),
        key=lambda m: m._meta.label,
    )


def test_every_domain_model_has_admin_and_factory():
    from django.apps import apps

    for app in ("properties", "leads", "buyers", "sync"):
        for model in apps.get_app_config(app).get_models():
            assert model in admin.site._registry, f"{model._meta.label} has no admin"
            assert factory_for(model), f"{model._meta.label} has no factory"


def changelist_queries(client, model) -> int:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


@pytest.mark.parametrize("model", registered_models(), ids=lambda m: m._meta.label)
def test_changelist_query_count_does_not_grow_with_rows(admin_client, model):
    factory = factory_for(model)
    factory.create_batch(2)
    few = changelist_queries(admin_client, model)
    factory.create_batch(8)
    many = changelist_queries(admin_client, model)
    assert many == few, f"{model._meta.label}: {few} queries for 2 rows, {many} for 10"


@pytest.mark.parametrize("model", registered_models(), ids=lambda m: m._meta.label)
def test_change_and_add_pages_render(admin_client, model):
    obj = factory_for(model)()
    opts = model._meta
    change = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    assert change.status_code == 200
    add = admin_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    model_admin = admin.site._registry[model]
    assert add.status_code == (200 if model_admin.has_add_permission(_request_for(admin_client)) else 403)


def _request_for(client):
    from django.contrib.auth import get_user_model
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = get_user_model().objects.get(username="admin")
    return request


def test_admin_search_on_properties(admin_client):
    property_factories.PropertyFactory(parcel_id="322313760000070", street="13 LAKE ST")
    property_factories.PropertyFactory()
    response = admin_client.get(reverse("admin:properties_property_changelist"), {"q": "322313760000070"})
    assert response.status_code == 200
    assert "322313760000070" in response.content.decode()
    assert response.context["cl"].result_count == 1
