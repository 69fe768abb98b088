"""The lead and buyer admin pages in a real browser: sparkline, small maps drawn by static JS under the CSP."""

import datetime

import pytest
from django.contrib.gis.geos import Point

from dealfinder.ops.roles import ACQUISITIONS, DISPOSITIONS
from tests.factories import (
    ORLANDO,
    ActivityFactory,
    BrokerFactory,
    BuyerFactory,
    LeadFactory,
    LeadScoreHistoryFactory,
    PropertyFactory,
    PropertyMatchFactory,
    square,
)
from tests.ui.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch_console(page) -> list[str]:
    """Console errors (a CSP violation is reported there, not as a page error)."""
    messages: list[str] = []
    page.on("console", lambda msg: messages.append(msg.text) if msg.type == "error" else None)
    return messages


def csp_violations(messages: list[str]) -> list[str]:
    return [m for m in messages if "Content Security Policy" in m]


def test_lead_page_draws_the_sparkline_and_the_small_map(page, live_server):
    BrokerFactory(username="broker", role=ACQUISITIONS)
    lead = LeadFactory(property=PropertyFactory(location=Point(*ORLANDO, srid=4326)), tier="A", total=82)
    start = datetime.date(2026, 1, 1)
    for n in range(30):
        LeadScoreHistoryFactory(lead=lead, snapshot_date=start + datetime.timedelta(days=n), total=50 + n, tier="B")
    ActivityFactory(lead=lead, body="Left a voicemail.")
    PropertyMatchFactory(property=lead.property, buyer=BuyerFactory(first_name="Casey", last_name="Cash"))
    console = watch_console(page)

    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/admin/leads/lead/{lead.pk}/change/")
    sparkline = page.locator("svg#score-sparkline")
    sparkline.wait_for()
    assert sparkline.locator("circle.snapshot").count() == 30
    assert sparkline.locator("polyline.total").count() == 1
    assert "30 snapshots from 2026-01-01 to 2026-01-30: 50 (Tier B)" in page.locator(".score-sparkline").inner_text()

    page.wait_for_selector("#lead-minimap[data-map-state=ready]")
    marker = page.locator("#lead-minimap .leaflet-marker-icon.lead-marker.tier-A")
    marker.wait_for()
    assert marker.is_visible()
    # Tile requests leave the live server and are aborted by the fixture; the tile elements are there.
    page.wait_for_selector("#lead-minimap img.leaflet-tile", state="attached")
    assert page.locator("table.lead-matches").inner_text().count("Casey Cash") == 1
    assert "Left a voicemail." in page.content()
    assert page.js_errors == []
    assert csp_violations(console) == []


def test_buyer_page_draws_the_buy_box(page, live_server):
    BrokerFactory(username="broker", role=DISPOSITIONS)
    buyer = BuyerFactory(target_area=square(center=ORLANDO, half=0.05), center=Point(*ORLANDO, srid=4326))
    console = watch_console(page)

    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/admin/buyers/buyer/{buyer.pk}/change/")
    page.wait_for_selector("#buyer-buybox-map[data-map-state=ready]")
    shapes = page.locator("#buyer-buybox-map path.leaflet-interactive")  # the target area and the radius circle
    shapes.first.wait_for()
    assert shapes.count() == 2
    assert page.locator("#buyer-buybox-map .leaflet-marker-icon").count() == 1  # the center
    assert page.js_errors == []
    assert csp_violations(console) == []
