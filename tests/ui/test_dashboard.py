import datetime
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dealfinder.ops.dashboard_figures import dashboard_figures_refresh, figures_keys
from dealfinder.ops.roles import ACQUISITIONS, ADMIN, DISPOSITIONS, roles_setup
from leads.outcomes import outcome_record
from leads.tier_days import lead_tier_days_refresh
from properties.models import IngestionRun
from sync.models import SyncLog
from tests.factories import (
    BrokerFactory,
    DataSourceFactory,
    ExternalLinkFactory,
    ForeclosureFactory,
    IngestionRunFactory,
    LeadFactory,
    LeadScoreHistoryFactory,
    PropertyMatchFactory,
    QualityReportFactory,
    SyncLogFactory,
    TaxSaleFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

OUTCOME_SECTIONS = ("return-by-source", "kpis-by-stack", "conversion-by-tier", "lift-per-signal")  # issue 22
SECTIONS = (
    "tiers",
    "hot-deals",
    "new-tier-a",
    "trend",
    "upcoming",
    "matches",
    "ingestion",
    "quality",
    "sync",
    *OUTCOME_SECTIONS,
)


@pytest.fixture
def admin_client(client):
    roles_setup()
    client.force_login(BrokerFactory(role=ADMIN))
    return client


def days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


def section_ids(html: str) -> set[str]:
    return set(re.findall(r'<section class="card[^"]*" id="([^"]+)"', html))


def populate(n_leads: int):
    """n leads (a quarter Tier A) plus one of everything the dashboard reads."""
    leads = [LeadFactory(tier="ABCD"[i % 4], total=95 - i % 4 * 20) for i in range(n_leads)]
    for lead in leads:
        LeadScoreHistoryFactory(lead=lead, snapshot_date=days(-1), tier="B")
        LeadScoreHistoryFactory(lead=lead, snapshot_date=days(0))
    source = DataSourceFactory(name="Tax deeds")
    IngestionRunFactory(source=source, finished_at=timezone.now())
    IngestionRunFactory(source=source, status=IngestionRun.Status.FAILED, message="HTTP 500")
    TaxSaleFactory(property=leads[0].property, sale_date=days(5))
    ForeclosureFactory(property=leads[-1].property, auction_date=days(3))
    PropertyMatchFactory(property=leads[0].property)
    QualityReportFactory()
    SyncLogFactory()
    SyncLogFactory(sync_type=SyncLog.SyncType.BUYER_PULL, status=SyncLog.Status.FAILED, message="401")
    ExternalLinkFactory(local=leads[0], last_synced_at=timezone.now() + datetime.timedelta(minutes=1))  # pushed
    return leads


def test_anonymous_lands_on_login_then_on_the_dashboard(client):
    roles_setup()
    response = client.get("/")
    assert (response.status_code, response.url) == (302, "/admin/login/?next=/")
    assert client.get(response.url).status_code == 200
    user = BrokerFactory(role=ACQUISITIONS)
    response = client.post(
        "/admin/login/?next=/", {"username": user.username, "password": "correct horse battery staple", "next": "/"}
    )
    assert (response.status_code, response.url) == (302, "/")
    assert client.get("/").status_code == 200


def test_a_user_without_a_role_is_refused(client):
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/").status_code == 403


@pytest.mark.parametrize(
    ("role", "sections"),
    [
        (
            ACQUISITIONS,
            {"tiers", "hot-deals", "new-tier-a", "trend", "upcoming", "ingestion", "quality", *OUTCOME_SECTIONS},
        ),
        (DISPOSITIONS, {"tiers", "hot-deals", "matches"}),
        (ADMIN, set(SECTIONS)),
    ],
)
def test_sections_follow_the_role(client, role, sections):
    roles_setup()
    client.force_login(BrokerFactory(role=role))
    html = client.get("/").content.decode()
    assert section_ids(html) == sections
    assert 'href="/map/"' in html


def test_dashboard_content(admin_client):
    leads = populate(8)
    old_a = LeadFactory(tier="A", total=91)  # Tier A yesterday and today: not new
    LeadScoreHistoryFactory(lead=old_a, snapshot_date=days(-1))
    LeadScoreHistoryFactory(lead=old_a, snapshot_date=days(0))
    TaxSaleFactory(sale_date=days(30))  # beyond 14 days
    lead_tier_days_refresh(dates=[days(-1), days(0)])  # as scoring does after writing the history
    response = admin_client.get("/")
    assert response.status_code == 200
    ctx = response.context
    assert ctx["summary"] == {
        "leads": 9,
        "hot": 3,
        "hot_unassigned": 3,
        "tier_A": 3,
        "tier_B": 2,
        "tier_C": 2,
        "tier_D": 2,
    }
    assert [lead.total for lead in ctx["hot_deals"]] == [95, 95, 91]
    assert {s.lead_id for s in ctx["new_tier_a"]} == {leads[0].pk, leads[4].pk}
    assert ctx["upcoming"]["counts"] == {"tax_sales": 1, "foreclosures": 1}
    sources = {s.name: s for s in ctx["ingestion"]["sources"]}
    assert (sources["Tax deeds"].recent_failures, sources["Tax deeds"].last_success is not None) == (1, True)
    assert {s.last_success for name, s in sources.items() if name != "Tax deeds"} == {None}
    assert [run.message for run in ctx["ingestion"]["failures"]] == ["HTTP 500"]
    assert [log.sync_type for log in ctx["sync"]["latest"]] == ["buyer_pull", "lead_push"]
    assert [log.message for log in ctx["sync"]["failures"]] == ["401"]
    # Tier A/B leads: 3 A + 2 B, one of them pushed to a GoHighLevel contact after its last change.
    assert ctx["sync"]["unsynced"] == 4
    assert len(ctx["matches"]) == 1
    assert ctx["quality"].warnings == 1
    # One rectangle per non-empty (day, tier): yesterday A and B, today A, B, C and D.
    assert len(ctx["trend"]["bars"]) == 2 + 4
    html = response.content.decode()
    assert html.count("<rect ") == 6
    assert 'id="unsynced-count">4<' in html


@pytest.mark.parametrize("n", [3, 30])
def test_dashboard_query_count_is_constant(admin_client, n, django_assert_num_queries):
    populate(n)
    admin_client.get("/")  # warm the session and the cached figures
    # session, user, 2 permission lookups; the figures' fingerprint 1 (their 5 queries, the lead counts, unsynced,
    # new Tier A and the KPIs by list source and signal stack, are cached: issue 26); hot deals 1, tier trend 1,
    # upcoming 4, matches 1, ingestion 2, quality 1, sync 2; outcomes (issue 22): latest backtest 1
    with django_assert_num_queries(18):
        assert admin_client.get("/").status_code == 200


def test_query_count_does_not_grow(admin_client):
    populate(3)
    with CaptureQueriesContext(connection) as small:
        admin_client.get("/")
    populate(30)
    with CaptureQueriesContext(connection) as large:
        admin_client.get("/")
    assert len(small.captured_queries) == len(large.captured_queries)


def test_dashboard_queries_do_not_grow_with_leads_or_history(admin_client):
    """A fixed number of queries (issue 26), and the history is read through the per-day counts only."""
    populate(8)
    lead_tier_days_refresh(dates=[days(-1), days(0)])
    with CaptureQueriesContext(connection) as few:
        admin_client.get("/")
    populate(8)
    for n in range(2, 30):
        LeadScoreHistoryFactory(lead=LeadFactory(tier="B", total=65), snapshot_date=days(-n), tier="B")
    lead_tier_days_refresh(dates=[days(-n) for n in range(-1, 30)])
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get("/")
    assert len(many.captured_queries) == len(few.captured_queries)
    # one bar per non-empty (day, tier): the 28 older days inside the 30-day window, populate's yesterday and today
    assert len(response.context["trend"]["bars"]) == 28 + 5


def test_counting_panels_are_cached_until_what_they_count_changes(admin_client, django_capture_on_commit_callbacks):
    """Issue 26: the lead counts, the unsynced count and the new Tier A leads are computed once per change, and a
    change of any kind (an update, a new lead, a push, a deletion in admin) shows on the very next view."""
    leads = populate(4)
    figures = ("leads", "tier_A", "tier_B")

    def dashboard():
        with CaptureQueriesContext(connection) as queries:
            ctx = admin_client.get("/").context
        summary = tuple(ctx["summary"][f] for f in figures)
        return summary, ctx["sync"]["unsynced"], len(queries.captured_queries)

    first = dashboard()
    assert first[:2] == ((4, 1, 1), 1)  # leads[0] (A) is pushed, leads[1] (B) is not
    again = dashboard()  # nothing changed: the same figures, from the cache (their five queries saved)
    assert again == (*first[:2], first[2] - 5)

    leads[2].tier = "A"  # C -> A, through the model as admin, the API and webhooks write
    leads[2].save()
    assert dashboard()[:2] == ((4, 2, 1), 2)

    LeadFactory(tier="B", total=70)
    assert dashboard()[:2] == ((5, 2, 2), 3)

    ExternalLinkFactory(local=leads[1], last_synced_at=timezone.now() + datetime.timedelta(minutes=1))
    assert dashboard()[:2] == ((5, 2, 2), 2)

    with django_capture_on_commit_callbacks(execute=True):  # the generation moves once the deletion is committed
        response = admin_client.post(
            "/admin/leads/lead/", {"action": "delete_selected", "_selected_action": [leads[2].pk], "post": "yes"}
        )
    assert response.status_code == 302
    assert dashboard()[:2] == ((4, 1, 2), 1)


def test_an_outcome_fee_filled_in_shows_on_the_next_view(admin_client, django_capture_on_commit_callbacks):
    """Outcomes carry no `updated_at`: completing one (its fee) bumps the change generation, so the cached KPIs
    follow at once."""
    lead = LeadFactory(tier="A", total=90, stack_count=2)
    outcome_record(lead=lead, kind="closed_won", source="admin")

    def revenue():
        return {
            row["stack_count"]: row["revenue"]
            for row in admin_client.get("/?kpi_month=all").context["outcomes"]["stacks"]
        }

    assert revenue() == {2: 0}
    with django_capture_on_commit_callbacks(execute=True):
        outcome_record(lead=lead, kind="closed_won", source="api", fee=Decimal("12500"))
    assert revenue() == {2: Decimal("12500")}


def test_while_one_request_computes_the_others_get_the_last_figures(admin_client):
    """Issue 26: after a change, one request at a time recomputes the counting panels; the others meanwhile get the
    figures computed last instead of each recomputing them (at a million leads they timed out while the chain ran)."""
    populate(4)
    assert admin_client.get("/").context["summary"]["leads"] == 4
    LeadFactory(tier="B", total=70)  # the key changes
    _, last, turn = figures_keys(timezone.localdate())
    cache.add(turn, 1, 60)  # another request is computing
    try:
        assert admin_client.get("/").context["summary"]["leads"] == 4  # the last figures, not computed again
    finally:
        cache.delete(turn)
    assert admin_client.get("/").context["summary"]["leads"] == 5  # the turn is free: computed, exact
    cache.delete(last)
    LeadFactory(tier="C", total=40)
    cache.add(turn, 1, 60)
    try:
        assert admin_client.get("/").context["summary"]["leads"] == 6  # nothing earlier to show: computed here
    finally:
        cache.delete(turn)


def test_the_nightly_chain_leaves_the_figures_ready_for_the_first_view(admin_client):
    """Issue 26: the chain's last step computes the counting panels, so the morning's first view reads them from
    the cache (about 15 s saved at a million leads) and they are exact."""
    populate(4)
    admin_client.get("/")  # the session
    LeadFactory(tier="B", total=70)  # the figures cached by that view are out of date
    with CaptureQueriesContext(connection) as cold:
        admin_client.get("/")
    LeadFactory(tier="C", total=40)
    assert dashboard_figures_refresh() == {"leads": 6, "kpi_sources": 0, "kpi_stacks": 1}  # one stack size
    with CaptureQueriesContext(connection) as warm:
        ctx = admin_client.get("/").context
    assert ctx["summary"]["leads"] == 6
    assert len(warm.captured_queries) == len(cold.captured_queries) - 5  # lead counts, unsynced, new A, two KPIs
