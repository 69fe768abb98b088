"""The reporting views (vw_*) answer what the ORM answers, on the demo data plus the cases it lacks, on PostgreSQL
and SpatiaLite; `migrate` recreates them; admin and `GET /api/v1/reports/<name>/` serve them under the roles."""

import datetime
from collections import defaultdict

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from buyers.models import Buyer, PropertyMatch
from dealfinder.ops.reports.models import REPORTS, ActiveBuyer, HotDeal, RecentMatch, SyncStatistic, UnsyncedProperty
from dealfinder.ops.reports.selectors import report_hot_deal_leads, report_recent_matches, report_unsynced_leads
from dealfinder.ops.reports.sql import VIEW_NAMES, report_views
from dealfinder.ops.roles import ACQUISITIONS, ADMIN, DISPOSITIONS
from leads.models import Lead
from sync.models import SyncLog
from tests.factories import (
    BrokerFactory,
    BuyerFactory,
    ExternalLinkFactory,
    LeadFactory,
    OwnerFactory,
    PropertyMatchFactory,
    SyncLogFactory,
)

NOW = timezone.now()


def _rows(view: str) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {view}")  # noqa: S608 (a code constant)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _extra_cases():
    """What the demo data has not: hot open and closed leads, stale and fresh GoHighLevel links, sync runs,
    an inactive buyer, an old match, reasons that are empty or not a list."""
    hot = LeadFactory(total=95, tier="A", reasons=["Tax-deed sale in 12 days (+10)", "Absentee owner; out of state"])
    LeadFactory(total=92, tier="A", status="dead")
    LeadFactory(total=90, tier="A", status="negotiating", reasons=[])
    LeadFactory(total=91, tier="A", reasons={"not": "a list"})
    buyer = BuyerFactory(first_name="Ana", last_name="Ruiz", property_types=["sfr", "multi"])
    PropertyMatchFactory(property=hot.property, buyer=buyer)
    old = PropertyMatchFactory(buyer=BuyerFactory(is_active=False))
    PropertyMatch.objects.filter(pk=old.pk).update(created_at=NOW - datetime.timedelta(days=8))
    fresh, stale = LeadFactory(tier="A"), LeadFactory(tier="B")
    ExternalLinkFactory(local=fresh, last_synced_at=timezone.now() + datetime.timedelta(hours=1))
    ExternalLinkFactory(local=stale, last_synced_at=NOW - datetime.timedelta(days=1))
    ExternalLinkFactory(local=LeadFactory(tier="B"), last_synced_at=None)
    for days, sync_type, status, seconds in (
        (0, "lead_push", "success", 1.5),
        (0, "lead_push", "failed", None),
        (0, "buyer_pull", "success", 2.0),
        (3, "lead_push", "partial", 4.25),
    ):
        SyncLogFactory(
            sync_type=sync_type, status=status, duration_seconds=seconds, started_at=NOW - datetime.timedelta(days=days)
        )
    return fresh, stale


@pytest.mark.django_db(transaction=True)
def test_views_answer_what_the_orm_and_the_dashboard_answer_on_the_demo_data():
    call_command("demo", "--no-serve", "--password", "demo-pass-1")
    fresh, stale = _extra_cases()
    call_command("migrate", verbosity=0)  # recreates the views after (here no) migrations: they still agree

    hot = {r["lead_id"]: r for r in _rows("vw_hot_deals")}
    expected = {lead.pk: lead for lead in report_hot_deal_leads()}
    assert set(hot) == set(expected) and len(hot) == 3
    for pk, lead in expected.items():
        assert (hot[pk]["score"], hot[pk]["match_count"], hot[pk]["reasons_summary"]) == (
            lead.total,
            lead.match_count,
            "; ".join(lead.reasons) if isinstance(lead.reasons, list) else "",
        )
    assert sorted(r["match_count"] for r in hot.values()) == [0, 0, 1]

    unsynced = {r["lead_id"]: r["reason"] for r in _rows("vw_unsynced_properties")}
    assert set(unsynced) == set(report_unsynced_leads().values_list("pk", flat=True))
    assert fresh.pk not in unsynced and unsynced[stale.pk] == "changed_since_sync"
    assert set(Lead.objects.filter(tier__in="AB").exclude(pk=fresh.pk).values_list("pk", flat=True)) == set(unsynced)

    buyers = {r["buyer_id"]: r for r in _rows("vw_active_buyers")}
    assert set(buyers) == set(Buyer.objects.filter(is_active=True).values_list("pk", flat=True))
    for buyer in Buyer.objects.filter(is_active=True):
        assert buyers[buyer.pk]["match_count"] == buyer.matches.count()
        assert buyers[buyer.pk]["property_types"] == ", ".join(buyer.property_types)
    assert next(r for r in buyers.values() if r["name"] == "Ana Ruiz")["property_types"] == "sfr, multi"

    recent = {r["match_id"] for r in _rows("vw_recent_matches")}
    assert recent == set(report_recent_matches().values_list("pk", flat=True))
    assert PropertyMatch.objects.count() == len(recent) + 1  # the 8-day-old one is left out

    totals = defaultdict(lambda: [0, 0, 0, 0.0])
    for log in SyncLog.objects.all():
        key = (log.started_at.astimezone(datetime.UTC).date(), log.sync_type)
        totals[key][0] += 1
        totals[key][1] += log.status == "failed"
        totals[key][2] += log.processed
        totals[key][3] += log.duration_seconds or 0
    stats = SyncStatistic.objects.all()
    assert {(s.day, s.sync_type): [s.runs, s.failed_runs, s.processed, s.seconds] for s in stats} == totals
    assert {s.id for s in stats} == {f"{day:%Y-%m-%d}:{kind}" for day, kind in totals}

    # The dashboard's figures are the views' figures.
    admin = BrokerFactory(role=ADMIN)
    client = APIClient()
    client.force_login(admin)
    page = client.get("/")
    assert page.context["sync"]["unsynced"] == len(unsynced)
    assert {lead.pk for lead in page.context["hot_deals"]} == set(hot)


def test_models_have_the_views_columns():
    for view, model in zip(report_views(connection.vendor), REPORTS.values(), strict=True):
        assert model._meta.db_table == view.name
        assert sorted(f.column for f in model._meta.fields) == sorted(view.column_names)
    assert tuple(m._meta.db_table for m in REPORTS.values()) == VIEW_NAMES


@pytest.mark.django_db
def test_each_view_reads_through_its_model():
    _extra_cases()
    assert HotDeal.objects.count() == 3
    assert UnsyncedProperty.objects.filter(reason="never_synced").count() >= 1
    assert ActiveBuyer.objects.get(name="Ana Ruiz").match_count == 1
    assert RecentMatch.objects.count() == PropertyMatch.objects.count() - 1
    assert SyncStatistic.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_migrate_recreates_a_dropped_view():
    with connection.cursor() as cursor:
        cursor.execute("DROP VIEW vw_sync_statistics")
    call_command("migrate", verbosity=0)
    assert SyncStatistic.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (ACQUISITIONS, {"hot_deals"}),
        (DISPOSITIONS, {"hot_deals", "active_buyers", "recent_matches"}),
        (ADMIN, set(REPORTS)),
    ],
)
def test_api_serves_each_report_to_the_roles_that_see_its_data(role, allowed):
    _extra_cases()
    client = APIClient()
    client.force_login(BrokerFactory(role=role))
    for name in REPORTS:
        response = client.get(f"/api/v1/reports/{name}/")
        assert response.status_code == (200 if name in allowed else 403), (name, response.status_code)
        admin_page = client.get(f"/admin/dealfinder/{REPORTS[name]._meta.model_name}/")
        assert admin_page.status_code == (200 if name in allowed else 403), name
    assert APIClient().get("/api/v1/reports/hot_deals/").status_code == 401


@pytest.mark.django_db
def test_api_pages_and_filters_by_date(superuser_api):
    _extra_cases()
    body = superuser_api.get("/api/v1/reports/sync_statistics/").json()
    assert body["count"] == 3 and [r["sync_type"] for r in body["results"]][:2] == ["buyer_pull", "lead_push"]
    today = NOW.astimezone(datetime.UTC).date()
    since = superuser_api.get("/api/v1/reports/sync_statistics/", {"since": today.isoformat()}).json()
    assert {r["day"] for r in since["results"]} == {today.isoformat()}
    hot = superuser_api.get("/api/v1/reports/hot_deals/", {"since": (NOW + datetime.timedelta(days=1)).isoformat()})
    assert hot.json()["count"] == 0
    assert superuser_api.get("/api/v1/reports/sync_statistics/", {"since": "yesterday"}).status_code == 400


@pytest.mark.django_db
def test_lead_api_gives_each_lead_its_match_count_and_filters_by_it_and_by_score(superuser_api):
    matched, unmatched = LeadFactory(total=95), LeadFactory(total=40)
    PropertyMatchFactory.create_batch(2, property=matched.property)
    PropertyMatchFactory()  # another property's match
    rows = superuser_api.get("/api/v1/leads/").json()["results"]
    assert {r["id"]: r["match_count"] for r in rows} == {matched.pk: 2, unmatched.pk: 0}
    assert [r["id"] for r in superuser_api.get("/api/v1/leads/", {"min_matches": 1}).json()["results"]] == [matched.pk]
    assert [r["id"] for r in superuser_api.get("/api/v1/leads/", {"max_matches": 0}).json()["results"]] == [
        unmatched.pk
    ]
    in_range = superuser_api.get("/api/v1/leads/", {"min_score": 30, "max_score": 50}).json()["results"]
    assert [r["id"] for r in in_range] == [unmatched.pk]
    assert superuser_api.get(f"/api/v1/leads/{matched.pk}/").json()["match_count"] == 2


@pytest.mark.django_db
def test_a_lead_whose_owner_holds_the_contact_is_synced_by_the_owners_push():
    """One contact per owner: an owned parcel's lead counts as synced when its owner's contact was pushed after the
    lead changed; its old per-lead contact (left behind by the move to owners) no longer decides."""
    later = timezone.now() + datetime.timedelta(hours=1)
    owner = OwnerFactory()
    pushed, other = (LeadFactory(tier="A", property__owner=owner) for _ in range(2))
    ExternalLinkFactory(local=owner, last_synced_at=later)
    unpushed_owner = LeadFactory(tier="A", property__owner=OwnerFactory())
    ExternalLinkFactory(local=unpushed_owner, last_synced_at=later)  # the lead's own, pre-owner contact
    own_contact = LeadFactory(tier="B")
    ExternalLinkFactory(local=own_contact, last_synced_at=later)

    unsynced = {r["lead_id"]: r["reason"] for r in _rows("vw_unsynced_properties")}

    assert unsynced == {unpushed_owner.pk: "never_synced"}
    assert set(report_unsynced_leads().values_list("pk", flat=True)) == {unpushed_owner.pk}
    assert {pushed.pk, other.pk, own_contact.pk}.isdisjoint(unsynced)
