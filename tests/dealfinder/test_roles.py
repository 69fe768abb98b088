import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from dealfinder.ops.roles import ACQUISITIONS, ADMIN, DISPOSITIONS, roles_setup
from tests.factories import BrokerFactory

pytestmark = pytest.mark.django_db


def test_roles_grant_what_each_team_needs():
    roles_setup()
    acquisitions, dispositions, admin = (
        BrokerFactory(role=ACQUISITIONS),
        BrokerFactory(role=DISPOSITIONS),
        BrokerFactory(role=ADMIN),
    )
    assert acquisitions.has_perms(["leads.change_lead", "properties.change_property", "leads.add_activity"])
    assert not acquisitions.has_perm("buyers.view_buyer")
    assert not acquisitions.has_perm("properties.change_datasource")
    assert acquisitions.has_perms(["leads.view_leadscorehistory", "leads.view_alert"])
    assert not acquisitions.has_perm("leads.delete_leadscorehistory")
    assert not acquisitions.has_perm("leads.delete_alert")
    assert admin.has_perm("leads.delete_leadscorehistory")
    assert dispositions.has_perms(["buyers.change_buyer", "buyers.change_propertymatch", "leads.view_lead"])
    assert not dispositions.has_perm("leads.change_lead")
    assert not dispositions.has_perm("sync.view_synclog")
    assert admin.has_perms(["sync.change_syncconflict", "properties.change_datasource", "buyers.delete_buyer"])
    assert not admin.is_superuser


def test_setup_roles_is_idempotent(capsys):
    call_command("setup_roles")
    first = {g.name: g.permissions.count() for g in Group.objects.all()}
    call_command("setup_roles")
    assert {g.name: g.permissions.count() for g in Group.objects.all()} == first
    assert set(first) == {ACQUISITIONS, DISPOSITIONS, ADMIN}
    assert "Acquisitions:" in capsys.readouterr().out
