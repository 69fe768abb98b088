"""Assignees are active staff users in a broker role, in admin, on the map and in the API alike.

Anyone else (a superuser outside the roles, an inactive or non-staff user, a user in no role or only in a group
that cannot see leads) is never offered and is refused with a clear error when sent anyway.
"""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.gis.geos import Point, Polygon
from django.test import Client
from rest_framework.test import APIClient

from dealfinder.ops.roles import ACQUISITIONS, ADMIN, DISPOSITIONS, roles_setup
from leads.models import Activity, Lead
from tests.factories import LeadFactory, PropertyFactory, UserFactory

pytestmark = pytest.mark.django_db

REFUSED = "Leads can only be assigned to active staff users in a broker role."
SQUARE = Polygon.from_bbox((-81.5, 28.4, -81.2, 28.7)).geojson


def member(role, **fields):
    user = UserFactory(**{"is_staff": True, **fields})
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def people(db):
    roles_setup()
    outsiders = Group.objects.create(name="Book-keeping")
    outsiders.permissions.set(Permission.objects.filter(codename="view_buyer"))
    bookkeeper = member(None, username="bookkeeper")
    bookkeeper.groups.add(outsiders)
    return {
        "acq": member(ACQUISITIONS, username="acq"),
        "dispo": member(DISPOSITIONS, username="dispo"),
        "admin": member(ADMIN, username="admin"),
        # Not assignable:
        "root": UserFactory(username="root", is_staff=True, is_superuser=True),
        "gone": member(ACQUISITIONS, username="gone", is_active=False),
        "nonstaff": member(ACQUISITIONS, username="nonstaff", is_staff=False),
        "norole": member(None, username="norole"),
        "bookkeeper": bookkeeper,
    }


ASSIGNABLE = {"acq", "dispo", "admin"}


@pytest.fixture
def lead(db):
    return LeadFactory(property=PropertyFactory(location=Point(-81.38, 28.54, srid=4326)), tier="A", total=90)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_map_offers_only_assignees_in_its_filter_and_assign_form(people):
    page = logged_in(people["acq"]).get("/map/")
    filter_choices = {label for value, label in page.context["filters"][12].field.choices if value}
    assert page.context["filters"][12].name == "assigned_to"
    assert filter_choices == ASSIGNABLE
    assign_choices = {label for value, label in page.context["assign_form"].fields["assignee"].choices if value}
    assert assign_choices == ASSIGNABLE


@pytest.mark.parametrize("who", ["root", "gone", "nonstaff", "norole", "bookkeeper"])
def test_the_map_refuses_other_assignees_with_a_clear_400(people, lead, who):
    response = logged_in(people["acq"]).post("/map/assign/", {"shape": SQUARE, "assignee": people[who].pk})
    assert response.status_code == 400
    assert response.json() == {"errors": {"assignee": [REFUSED]}}
    lead.refresh_from_db()
    assert lead.assigned_to is None
    assert not Activity.objects.exists()


def test_the_map_assigns_to_every_role(people, lead):
    for who in sorted(ASSIGNABLE):
        response = logged_in(people["acq"]).post("/map/assign/", {"shape": SQUARE, "assignee": people[who].pk})
        assert response.json() == {"assigned": 1, "assignee": who}


@pytest.mark.parametrize("who", ["root", "gone", "nonstaff", "norole", "bookkeeper"])
def test_the_api_refuses_other_assignees_with_a_clear_400(people, lead, who):
    api = APIClient()
    api.force_authenticate(people["acq"])
    response = api.patch(f"/api/v1/leads/{lead.pk}/", {"assigned_to": people[who].pk}, format="json")
    assert response.status_code == 400
    assert response.json() == {"assigned_to": [REFUSED]}
    assert Lead.objects.get(pk=lead.pk).assigned_to is None


def test_the_api_assigns_to_an_assignee_and_filters_by_assignees_only(people, lead):
    api = APIClient()
    api.force_authenticate(people["acq"])
    response = api.patch(f"/api/v1/leads/{lead.pk}/", {"assigned_to": people["dispo"].pk}, format="json")
    assert response.status_code == 200
    assert response.json()["assigned_to_username"] == "dispo"
    assert [r["id"] for r in api.get("/api/v1/leads/", {"assigned_to": people["dispo"].pk}).json()["results"]] == [
        lead.pk
    ]
    assert api.get("/api/v1/leads/", {"assigned_to": people["root"].pk}).status_code == 400


def test_the_admin_assign_action_offers_and_accepts_only_assignees(people, lead):
    client = logged_in(people["acq"])
    page = client.get("/admin/leads/lead/")
    choices = {label for value, label in page.context["action_form"].fields["assignee"].choices if value}
    assert choices == ASSIGNABLE
    response = client.post(
        "/admin/leads/lead/",
        {"action": "assign", "_selected_action": [lead.pk], "assignee": people["root"].pk, "index": "0"},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [REFUSED]
    lead.refresh_from_db()
    assert lead.assigned_to is None


def test_the_lead_change_form_offers_and_accepts_only_assignees(people, lead):
    client = logged_in(people["acq"])
    url = f"/admin/leads/lead/{lead.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    field = page.context["adminform"].form.fields["assigned_to"]
    assert {label for value, label in field.choices if value} == ASSIGNABLE
    data = {
        "property": lead.property_id,
        "status": "new",
        "assigned_to": people["root"].pk,
        "notes": "",
        "next_action_at_0": "",
        "next_action_at_1": "",
        "activities-TOTAL_FORMS": "0",
        "activities-INITIAL_FORMS": "0",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["assigned_to"] == [REFUSED]
    response = client.post(url, {**data, "assigned_to": people["admin"].pk})
    assert response.status_code == 302, response.context["adminform"].form.errors
    lead.refresh_from_db()
    assert lead.assigned_to == people["admin"]


def test_the_admin_assignee_filter_lists_who_holds_leads(people, lead):
    """The changelist filter lists users who hold leads (an ex-colleague's leads stay findable), not every user."""
    lead.assigned_to = people["gone"]
    lead.save()
    page = logged_in(people["acq"]).get("/admin/leads/lead/")
    spec = next(f for f in page.context["cl"].filter_specs if getattr(f, "field_path", "") == "assigned_to")
    assert [label for _, label in spec.lookup_choices] == ["gone"]
