"""Users and groups in admin: the Admin role manages users within the three roles and never escalates.

Only superusers set `is_superuser`, `user_permissions` or groups outside the roles, edit groups, or touch a
superuser's account; an Admin assigns only roles whose permissions it holds itself.
"""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client

from dealfinder.ops.roles import ACQUISITIONS, ADMIN, DISPOSITIONS, roles_setup
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "correct horse battery staple"


@pytest.fixture
def groups(db):
    roles_setup()
    return {g.name: g for g in Group.objects.all()}


def staff_in(role: str | None, **fields):
    user = UserFactory(is_staff=True, **fields)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def admin_role(groups):
    return staff_in(ADMIN, username="office-admin")


@pytest.fixture
def client_of(admin_role):
    client = Client()
    client.force_login(admin_role)
    return client


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root", "root@example.test", PASSWORD)


@pytest.fixture
def powers(groups):
    """A group outside the three roles that grants everything (e.g. made by a superuser for IT)."""
    group = Group.objects.create(name="Superpowers")
    group.permissions.set(Permission.objects.all())
    return group


def change_form(user, **overrides) -> dict:
    data = {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": user.email,
        "is_active": "on",
        "is_staff": "on",
        "groups": [g.pk for g in user.groups.all()],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-05",
        "date_joined_1": "09:00:00",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_an_admin_cannot_make_itself_superuser_or_grant_itself_permissions(client_of, admin_role):
    every = list(Permission.objects.values_list("pk", flat=True))
    response = client_of.post(
        f"/admin/auth/user/{admin_role.pk}/change/",
        change_form(admin_role, is_superuser="on", user_permissions=every),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    admin_role.refresh_from_db()
    assert admin_role.is_superuser is False
    assert admin_role.user_permissions.count() == 0
    page = client_of.get(f"/admin/auth/user/{admin_role.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page
    assert 'name="user_permissions"' not in page


def test_an_admin_cannot_make_another_user_superuser(client_of, groups):
    broker = staff_in(ACQUISITIONS)
    client_of.post(f"/admin/auth/user/{broker.pk}/change/", change_form(broker, is_superuser="on"))
    broker.refresh_from_db()
    assert broker.is_superuser is False


def test_an_admin_assigns_the_three_roles_but_no_other_group(client_of, groups, powers):
    broker = staff_in(ACQUISITIONS)
    response = client_of.post(
        f"/admin/auth/user/{broker.pk}/change/",
        change_form(broker, groups=[groups[DISPOSITIONS].pk, groups[ADMIN].pk]),
    )
    assert response.status_code == 302
    assert set(broker.groups.values_list("name", flat=True)) == {DISPOSITIONS, ADMIN}
    response = client_of.post(f"/admin/auth/user/{broker.pk}/change/", change_form(broker, groups=[powers.pk]))
    assert response.status_code == 200
    assert "Select a valid choice." in str(response.context["adminform"].form.errors["groups"])
    assert powers not in broker.groups.all()


def test_an_admin_cannot_assign_a_role_it_does_not_hold_all_of():
    """Groups "above their own": a non-superuser with user rights but only Acquisitions' permissions cannot hand out
    Admin or Dispositions (whose permissions it lacks)."""
    roles_setup()
    manager = staff_in(ACQUISITIONS)
    manager.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user", "add_user"]))
    broker = staff_in(ACQUISITIONS)
    client = Client()
    client.force_login(manager)
    response = client.post(
        f"/admin/auth/user/{broker.pk}/change/", change_form(broker, groups=[Group.objects.get(name=ADMIN).pk])
    )
    assert response.status_code == 200
    assert set(broker.groups.values_list("name", flat=True)) == {ACQUISITIONS}


def test_superusers_and_users_outside_the_roles_are_not_the_admins_to_manage(client_of, root, powers):
    it_staff = staff_in(None, username="it-staff")
    it_staff.groups.add(powers)
    direct = staff_in(None, username="direct-perms")
    direct.user_permissions.add(Permission.objects.get(codename="delete_buyer"))
    broker = staff_in(ACQUISITIONS, username="broker-acq")
    listed = client_of.get("/admin/auth/user/").context["cl"].result_list
    assert {u.username for u in listed} == {"office-admin", "broker-acq"}
    for user in (root, it_staff, direct):
        assert client_of.get(f"/admin/auth/user/{user.pk}/change/").status_code == 302  # "doesn't exist"
        response = client_of.post(f"/admin/auth/user/{user.pk}/password/", {"password1": "x", "password2": "x"})
        assert response.status_code == 404
        response = client_of.post(f"/admin/auth/user/{user.pk}/change/", change_form(user, is_active=None))
        user.refresh_from_db()
        assert user.is_active is True
    root.refresh_from_db()
    assert root.check_password(PASSWORD)
    assert client_of.get(f"/admin/auth/user/{broker.pk}/change/").status_code == 200


def test_the_add_form_cannot_create_a_superuser(client_of):
    response = client_of.post(
        "/admin/auth/user/add/",
        {
            "username": "newbie",
            "password1": "A long enough passphrase 42",
            "password2": "A long enough passphrase 42",
            "usable_password": "true",
            "is_superuser": "on",
            "is_staff": "on",
            "user_permissions": list(Permission.objects.values_list("pk", flat=True)),
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    assert (user.is_superuser, user.user_permissions.count()) == (False, 0)


def test_bulk_actions_never_reach_a_superuser(groups, root):
    manager = staff_in(ADMIN)
    manager.user_permissions.add(Permission.objects.get(codename="delete_user"))
    victim = staff_in(ACQUISITIONS)
    client = Client()
    client.force_login(manager)
    response = client.post(
        "/admin/auth/user/",
        {"action": "delete_selected", "_selected_action": [root.pk, victim.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert User.objects.filter(pk=root.pk).exists()
    assert not User.objects.filter(pk=victim.pk).exists()


def test_an_admin_cannot_edit_groups_even_when_given_change_group(client_of, admin_role, groups):
    admin_role.user_permissions.add(*Permission.objects.filter(codename__in=["change_group", "add_group"]))
    group = groups[DISPOSITIONS]
    every = list(Permission.objects.values_list("pk", flat=True))
    response = client_of.post(f"/admin/auth/group/{group.pk}/change/", {"name": group.name, "permissions": every})
    assert response.status_code == 403
    assert client_of.post("/admin/auth/group/add/", {"name": "Mine", "permissions": every}).status_code == 403
    assert not Group.objects.filter(name="Mine").exists()
    assert group.permissions.count() < len(every)
    assert client_of.get(f"/admin/auth/group/{group.pk}/change/").status_code == 200  # still readable


def test_a_superuser_still_manages_everything(root, groups, powers):
    client = Client()
    client.force_login(root)
    broker = staff_in(ACQUISITIONS)
    response = client.post(
        f"/admin/auth/user/{broker.pk}/change/",
        change_form(broker, is_superuser="on", groups=[powers.pk]),
    )
    assert response.status_code == 302
    broker.refresh_from_db()
    assert broker.is_superuser and list(broker.groups.all()) == [powers]
