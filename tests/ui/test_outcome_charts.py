"""Issue 22's charts in Debian's Chromium: the dashboard's return by source, conversion by tier and lift per signal,
and the backtest page's, drawn from the demo county with planted outcomes. Screenshots go to test-artifacts/."""

import pytest
from django.contrib.auth.models import Group

from dealfinder.ops.backtest import backtest_run
from dealfinder.ops.demo_outcomes import SIGNAL, demo_outcomes_plant
from dealfinder.ops.management.commands.demo import Command as Demo
from dealfinder.ops.roles import ADMIN, roles_setup
from tests.factories import UserFactory
from tests.ui.conftest import ARTIFACTS
from tests.ui.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def backtested():
    roles_setup()
    broker = UserFactory(username="broker", is_staff=True)
    broker.groups.add(Group.objects.get(name=ADMIN))
    for _, step in Demo().sample_steps():
        step()
    demo_outcomes_plant()
    return backtest_run()


def bars(page, chart_id: str) -> int:
    """How many bars of the chart have a drawn width in the page (laid out by the browser)."""
    return page.evaluate(
        "id => [...document.querySelectorAll(`#${id} rect`)].filter(r => r.getBoundingClientRect().width > 0).length",
        chart_id,
    )


def test_dashboard_and_backtest_charts_render(page, live_server, backtested):
    base = live_server.url
    log_in(page, base)
    page.locator("#chart-sources").scroll_into_view_if_needed()
    assert bars(page, "chart-sources") == 6  # the sample county's six list sources (recorded deeds included)
    converted_tiers = sum(1 for row in backtested.document["by_tier"].values() if row["rate"])
    assert converted_tiers >= 2 and bars(page, "chart-dashboard-tiers") == converted_tiers  # a bar per converting tier
    assert bars(page, "chart-dashboard-lifts") >= 5
    titles = page.locator("#chart-dashboard-lifts title").all_text_contents()
    assert any(t.startswith("Absentee owner: lift ") for t in titles), titles
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "outcome-charts-dashboard.png"), full_page=True)

    page.goto(f"{base}/admin/leads/backtestrun/{backtested.pk}/change/")
    assert bars(page, "chart-tier-rates") == converted_tiers
    assert bars(page, "chart-lifts") >= 5
    assert page.locator(f'#bt-weights tr[data-signal="{SIGNAL}"]').count() == 1
    assert page.locator("#activate-proposal").is_visible()
    page.screenshot(path=str(ARTIFACTS / "outcome-charts-backtest.png"), full_page=True)
    assert page.js_errors == []
