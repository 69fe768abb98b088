import pytest
from django.conf import settings
from django.urls import reverse

from leads.models import Activity, Lead, ScoringProfile
from leads.services import (
    lead_assign,
    lead_bulk_assign,
    lead_bulk_change_status,
    lead_change_status,
    scoringprofile_activate,
)
from tests.factories import BrokerFactory, LeadFactory, ScoringProfileFactory

pytestmark = pytest.mark.django_db


def timeline(lead):
    return list(lead.activities.order_by("id").values_list("kind", "actor__username", "from_value", "to_value", "body"))


def test_status_change_records_who_from_and_to(broker):
    lead = LeadFactory()
    lead_change_status(lead=lead, status="contacted", actor=broker, note="Spoke to the owner")
    lead_change_status(lead=lead, status="contacted", actor=broker)  # no change, no activity
    lead_change_status(lead=lead, status="negotiating", actor=broker)

    lead.refresh_from_db()
    assert lead.status == "negotiating"
    assert timeline(lead) == [
        ("status_change", "alice", "new", "contacted", "Spoke to the owner"),
        ("status_change", "alice", "contacted", "negotiating", ""),
    ]


def test_unknown_status_is_refused(broker):
    lead = LeadFactory()
    with pytest.raises(ValueError, match="Unknown lead status 'won'"):
        lead_change_status(lead=lead, status="won", actor=broker)
    assert Activity.objects.count() == 0


def test_assignment_records_previous_and_new_assignee(broker):
    bob = BrokerFactory(username="bob")
    lead = LeadFactory()
    lead_assign(lead=lead, user=broker, actor=broker)
    lead_assign(lead=lead, user=bob, actor=broker, note="Bob knows the area")
    lead_assign(lead=lead, user=None, actor=bob)

    lead.refresh_from_db()
    assert lead.assigned_to is None
    assert timeline(lead) == [
        ("assignment", "alice", "", "alice", ""),
        ("assignment", "alice", "alice", "bob", "Bob knows the area"),
        ("assignment", "bob", "bob", "", ""),
    ]


@pytest.mark.parametrize("size", [3, 12])
def test_bulk_status_change_is_set_based(broker, django_assert_num_queries, size):
    LeadFactory.create_batch(size)
    already = LeadFactory(status="contacted")
    # savepoint, select, insert activities, update, release; on PostGIS the map index's copies too (its state
    # looked at, one UPDATE)
    with django_assert_num_queries(5 + 2 * settings.IS_POSTGIS):
        changed = lead_bulk_change_status(leads=Lead.objects.all(), status="contacted", actor=broker, note="Mailer")
    assert changed == size
    assert Lead.objects.filter(status="contacted").count() == size + 1
    assert Activity.objects.count() == size
    assert not already.activities.exists()
    assert set(Activity.objects.values_list("from_value", "to_value", "body")) == {("new", "contacted", "Mailer")}


def test_bulk_assign_skips_leads_already_assigned_to_the_user(broker):
    mine = LeadFactory(assigned_to=broker)
    others = LeadFactory.create_batch(2)
    assert lead_bulk_assign(leads=Lead.objects.all(), user=broker, actor=broker) == 2
    assert not mine.activities.exists()
    assert [timeline(lead) for lead in others] == [[("assignment", "alice", "", "alice", "")]] * 2


def test_activating_a_profile_deactivates_the_others(db):
    old = ScoringProfileFactory(name="Old", is_active=True)
    new = scoringprofile_activate(profile=ScoringProfileFactory(name="New"))
    assert list(ScoringProfile.objects.filter(is_active=True)) == [new]
    old.refresh_from_db()
    assert not old.is_active


# --- admin -------------------------------------------------------------------------------------


def changelist_post(client, action, leads, **extra):
    return client.post(
        reverse("admin:leads_lead_changelist"),
        {"action": action, "_selected_action": [lead.pk for lead in leads], "index": 0, **extra},
        follow=True,
    )


def test_admin_bulk_status_and_assign_actions(admin_client):
    closer = BrokerFactory(username="closer")
    leads = LeadFactory.create_batch(2)
    untouched = LeadFactory()

    response = changelist_post(admin_client, "change_status", leads, status="follow_up", note="Call Monday")
    assert "Status set to Follow-up on 2 leads." in response.content.decode()
    response = changelist_post(admin_client, "assign", leads, assignee=closer.pk)
    assert "Assigned 2 leads to closer." in response.content.decode()

    assert (
        list(Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("status", "assigned_to"))
        == [("follow_up", closer.pk)] * 2
    )
    assert [timeline(lead) for lead in leads] == [
        [
            ("status_change", "admin", "new", "follow_up", "Call Monday"),
            ("assignment", "admin", "", "closer", ""),
        ]
    ] * 2
    assert not untouched.activities.exists()


def test_admin_actions_without_a_choice_change_nothing(admin_client):
    lead = LeadFactory()
    assert "Choose a status" in changelist_post(admin_client, "change_status", [lead]).content.decode()
    assert "Choose an assignee" in changelist_post(admin_client, "assign", [lead]).content.decode()
    assert Activity.objects.count() == 0


def test_admin_rescore_selected(admin_client, county):
    from leads.services import leads_score_all

    leads_score_all()
    hot = Lead.objects.get(property=county["hot"])
    Lead.objects.filter(pk=hot.pk).update(total=1, tier="D")
    response = changelist_post(admin_client, "rescore", [hot])
    assert "Rescored 1 leads: 1 changed." in response.content.decode()
    hot.refresh_from_db()
    assert hot.total != 1


def test_admin_change_page_shows_the_score_breakdown(admin_client):
    lead = LeadFactory()
    page = admin_client.get(reverse("admin:leads_lead_change", args=[lead.pk])).content.decode()
    assert "<tr><th>Distress</th><td>30</td></tr>" in page
    assert "<tr><th>Total</th><td>70 (Tier B)</td></tr>" in page
    assert "<li>Tax-deed sale in 12 days (+10)</li><li>Absentee owner (+5)</li>" in page


def test_admin_mao_filter(admin_client):
    LeadFactory(mao=0)
    LeadFactory(mao=None)
    cheap = LeadFactory(mao=45000)
    response = admin_client.get(reverse("admin:leads_lead_changelist"), {"mao": "lt50"})
    assert list(response.context["cl"].queryset) == [cheap]


def test_admin_profile_is_editable_and_activated_by_action(admin_client):
    old = ScoringProfileFactory(name="Old", is_active=True)
    new = ScoringProfileFactory(name="New")
    data = {
        "name": "New",
        "distress_cap": 40,
        "value_cap": 30,
        "location_cap": 15,
        "urgency_cap": 15,
        "tier_a_min": 80,
        "tier_b_min": 60,
        "tier_c_min": 40,
        "arv_percent": "65.00",
        "assignment_fee": "5000.00",
        "parameters": '{"target_zips": ["32801"]}',
    }
    response = admin_client.post(reverse("admin:leads_scoringprofile_change", args=[new.pk]), data)
    assert response.status_code == 302
    response = admin_client.post(
        reverse("admin:leads_scoringprofile_changelist"),
        {"action": "activate", "_selected_action": [new.pk], "index": 0},
        follow=True,
    )
    assert "New is now the active scoring profile; rescore to apply it." in response.content.decode()
    assert list(ScoringProfile.objects.filter(is_active=True).values_list("name", "tier_a_min", "parameters")) == [
        ("New", 80, {"target_zips": ["32801"]})
    ]
    old.refresh_from_db()
    assert not old.is_active
