import datetime

import pytest

from buyers.models import Buyer
from leads.models import Lead
from sync.conflicts import merge_fields
from sync.models import ExternalLink, SyncConflict
from sync.push import ghl_push_leads
from tests.factories import BuyerFactory, ExternalLinkFactory, LeadFactory, SyncConflictFactory, UserFactory

OLD = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
NEW = datetime.datetime(2026, 2, 1, tzinfo=datetime.UTC)
BASE = {"phone": "1", "email": "a@x"}


@pytest.mark.parametrize(
    ("strategy", "local_at", "remote_at", "take", "conflicts"),
    [
        ("ghl_wins", NEW, OLD, {"phone": "3"}, {}),
        ("db_wins", OLD, NEW, {}, {}),
        ("newest_wins", OLD, NEW, {"phone": "3"}, {}),
        ("newest_wins", NEW, OLD, {}, {}),
        ("newest_wins", NEW, None, {}, {}),
        ("manual", OLD, NEW, {}, {"phone": ("2", "3")}),
    ],
)
def test_both_changed_follows_strategy(strategy, local_at, remote_at, take, conflicts):
    merge = merge_fields(
        base=BASE,
        local={"phone": "2", "email": "a@x"},
        remote={"phone": "3", "email": "a@x"},
        strategy=strategy,
        local_updated_at=local_at,
        remote_updated_at=remote_at,
    )
    assert (merge.take_remote, merge.conflicts) == (take, conflicts)
    assert merge.base == ({"phone": "1", "email": "a@x"} if strategy == "manual" else {"phone": "3", "email": "a@x"})


def test_one_sided_changes_never_conflict():
    merge = merge_fields(
        base=BASE, local={"phone": "2", "email": "a@x"}, remote={"phone": "1", "email": "b@x"}, strategy="manual"
    )
    assert (merge.take_remote, merge.conflicts, merge.base) == ({"email": "b@x"}, {}, {"phone": "1", "email": "b@x"})


def test_never_synced_field_takes_the_remote_value():
    merge = merge_fields(base={}, local={"phone": "2"}, remote={"phone": "3"}, strategy="db_wins")
    assert (merge.take_remote, merge.base) == ({"phone": "3"}, {"phone": "3"})


def test_unknown_strategy_is_refused():
    with pytest.raises(ValueError, match="Unknown conflict strategy 'latest'"):
        merge_fields(base={}, local={}, remote={}, strategy="latest")


@pytest.mark.django_db
def test_admin_take_gohighlevel_value_applies_it(admin_client):
    buyer = BuyerFactory(phone="+1407LOCAL", ghl_contact_id="b1")
    link = ExternalLinkFactory(local=buyer, kind="contact", ghl_id="b1", remote_snapshot={"phone": "+1407BASE"})
    conflict = SyncConflictFactory(link=link, field="phone", local_value="+1407LOCAL", remote_value="+1407REMOTE")
    response = admin_client.post(
        "/admin/sync/syncconflict/", {"action": "take_gohighlevel_value", "_selected_action": [conflict.pk]}
    )
    assert response.status_code == 302
    conflict.refresh_from_db()
    link.refresh_from_db()
    assert Buyer.objects.get(pk=buyer.pk).phone == "+1407REMOTE"
    assert (conflict.status, conflict.resolved_by.username) == ("took_remote", "admin")
    assert link.remote_snapshot == {"phone": "+1407REMOTE"}


@pytest.mark.django_db
def test_admin_keep_dealfinder_value_pushes_it_next_run(admin_client, fake_ghl, ghl):
    lead = LeadFactory(tier="A", status=Lead.Status.DEAD)
    ghl_push_leads(client=ghl)
    link = ExternalLink.objects.get(kind="opportunity")
    conflict = SyncConflictFactory(link=link, field="status", local_value="lost", remote_value="won")
    fake_ghl.calls.clear()
    Lead.objects.filter(pk=lead.pk).update(total=71)  # a local change while the conflict is open
    ghl_push_leads(client=ghl)
    assert [p for p in fake_ghl.paths() if "opportunities" in p] == []  # held back by the open conflict

    admin_client.post(
        "/admin/sync/syncconflict/", {"action": "keep_dealfinder_value", "_selected_action": [conflict.pk]}
    )
    fake_ghl.calls.clear()
    ghl_push_leads(client=ghl)

    assert fake_ghl.paths() == [f"PUT /opportunities/{link.ghl_id}"]
    assert fake_ghl.calls[0][2]["status"] == "lost"
    assert SyncConflict.objects.get().status == "kept_local"
    assert Lead.objects.get(pk=lead.pk).status == "dead"


@pytest.mark.django_db
def test_admin_take_gohighlevel_status_changes_the_lead(admin_client):
    lead = LeadFactory(status=Lead.Status.DEAD)
    link = ExternalLinkFactory(local=lead, kind="opportunity", ghl_id="op1", remote_snapshot={"status": "open"})
    conflict = SyncConflictFactory(link=link, field="status", local_value="lost", remote_value="won")
    admin_client.post(
        "/admin/sync/syncconflict/", {"action": "take_gohighlevel_value", "_selected_action": [conflict.pk]}
    )
    lead.refresh_from_db()
    assert lead.status == "closed_won"
    assert lead.activities.get().body == "Conflict resolved: took GoHighLevel value"


@pytest.mark.django_db
def test_sync_admin_pages_render(admin_client):
    SyncConflictFactory(resolved_by=UserFactory())
    for name in ("synclog", "externallink", "syncconflict", "webhookevent"):
        assert admin_client.get(f"/admin/sync/{name}/").status_code == 200
