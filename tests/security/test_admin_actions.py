"""Admin actions: every one declares `permissions=`, and a role with only `view` runs no changing action."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import Client, RequestFactory

from dealfinder.ops.roles import ACQUISITIONS, ADMIN, DISPOSITIONS, roles_setup
from tests.factories import (
    BuyerFactory,
    DataSourceFactory,
    IngestionRunFactory,
    LeadFactory,
    PropertyFactory,
    PropertyMatchFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# Every action of every registered ModelAdmin, by model, with the permission it needs on that model. An action
# that changes data needs "change" (or "delete"); exports and reads need "view". A new action fails
# `test_every_action_is_classified` until it is listed here with the permission it declares.
ACTIONS = {
    "properties.property": {"deactivate": "change", "reactivate": "change"},
    "properties.datasource": {"ingest_now": "change"},
    "properties.owner": {"merge_owners": "change", "split_parcels_off": "change"},
    "leads.lead": {
        "change_status": "change",
        "assign": "change",
        "rescore": "change",
        "export_csv": "view",
        "push_to_gohighlevel": "change",
    },
    "leads.scoringprofile": {"activate": "change"},
    "buyers.propertymatch": {"mark_contacted": "change", "export_blast_list": "view", "export_dialer_list": "view"},
    "buyers.discoveredbuyer": {"create_buyer": "create_buyer"},
    "sync.syncconflict": {"keep_dealfinder_value": "change", "take_gohighlevel_value": "change"},
    "django_celery_beat.periodictask": {
        "enable_tasks": "change",
        "disable_tasks": "change",
        "toggle_tasks": "change",
        "run_tasks": "change",
    },
    "axes.accessattempt": {"cleanup_expired_attempts": "delete"},
}

# Actions whose permission is not one on their own model: what `has_<name>_permission` checks instead.
CUSTOM_PERMISSIONS = {"create_buyer": "buyers.add_buyer"}


def model_admins():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label_lower)


def declared_actions(model_admin) -> dict:
    """name -> function of every action the admin can offer (base actions and any added per request)."""
    request = RequestFactory().get("/")
    request.user = UserFactory(is_superuser=True, is_staff=True)
    actions = {name: func for func, name, _ in model_admin._get_base_actions()}
    actions.update({name: func for name, (func, _, _) in model_admin.get_actions(request).items()})
    return actions


def test_every_admin_action_declares_permissions():
    missing = [
        f"{model._meta.label_lower}.{name}"
        for model, model_admin in model_admins()
        for name, func in declared_actions(model_admin).items()
        if not getattr(func, "allowed_permissions", None)
    ]
    assert missing == []


def test_every_action_is_classified():
    found = {}
    for model, model_admin in model_admins():
        for name, func in declared_actions(model_admin).items():
            if name == "delete_selected":
                assert tuple(func.allowed_permissions) == ("delete",)
                continue
            found.setdefault(model._meta.label_lower, {})[name] = "/".join(func.allowed_permissions)
    assert found == ACTIONS


@pytest.fixture
def as_role():
    roles_setup()

    def make(role):
        user = UserFactory(is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        client = Client()
        client.force_login(user)
        return client

    return make


def offered_actions(client, url) -> set[str]:
    page = client.get(url)
    form = page.context.get("action_form") if page.status_code == 200 else None
    return {name for name, _ in form.fields["action"].choices if name} if form else set()


def run_action(client, url, action, pks):
    return client.post(url, {"action": action, "_selected_action": [str(pk) for pk in pks], "index": "0"})


def test_dispositions_cannot_soft_delete_properties(as_role):
    prop = PropertyFactory(is_active=True)
    response = run_action(as_role(DISPOSITIONS), "/admin/properties/property/", "deactivate", [prop.pk])
    prop.refresh_from_db()
    assert prop.is_active is True
    assert response.status_code in (200, 302)
    assert offered_actions(as_role(DISPOSITIONS), "/admin/properties/property/") == set()
    assert offered_actions(as_role(ACQUISITIONS), "/admin/properties/property/") == {
        "deactivate",
        "reactivate",
        "delete_selected",
    }


def test_acquisitions_cannot_start_an_ingest(as_role):
    source = DataSourceFactory(enabled=True)
    before = IngestionRunFactory._meta.model.objects.count()
    run_action(as_role(ACQUISITIONS), "/admin/properties/datasource/", "ingest_now", [source.pk])
    assert IngestionRunFactory._meta.model.objects.count() == before


def test_dispositions_cannot_push_rescore_or_reassign_leads(as_role):
    lead = LeadFactory(status="new")
    client = as_role(DISPOSITIONS)
    for action in ("change_status", "assign", "rescore", "push_to_gohighlevel"):
        client.post(
            "/admin/leads/lead/",
            {"action": action, "_selected_action": [str(lead.pk)], "status": "dead", "index": "0"},
        )
    lead.refresh_from_db()
    assert lead.status == "new"


def test_view_only_roles_are_offered_only_view_actions(as_role):
    """Per role and model admin: the offered actions are exactly those whose declared permission it holds."""
    BuyerFactory()
    PropertyMatchFactory()
    for role in (ACQUISITIONS, DISPOSITIONS, ADMIN):
        client = as_role(role)
        user = UserFactory._meta.model.objects.get(pk=client.session["_auth_user_id"])
        for model, _ in model_admins():
            label = model._meta.label_lower
            if not user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}"):
                continue
            offered = offered_actions(client, f"/admin/{model._meta.app_label}/{model._meta.model_name}/")
            wanted = {
                name
                for name, perm in {**ACTIONS.get(label, {}), "delete_selected": "delete"}.items()
                if user.has_perm(
                    CUSTOM_PERMISSIONS.get(perm, f"{model._meta.app_label}.{perm}_{model._meta.model_name}")
                )
            }
            assert offered == wanted, (role, label)
