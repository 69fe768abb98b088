"""A broker's day in a real browser: log in, dashboard, map, filter, popup, admin, select and assign.

Waits are selectors and Playwright's expect(), never wait_for_function: its string predicates are
eval'd in the page, which the Content-Security-Policy (no 'unsafe-eval') rightly refuses.
"""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from dealfinder.ops.roles import ACQUISITIONS, roles_setup
from leads.models import Activity
from tests.factories import LeadFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
TIERS = ["A"] * 8 + ["B"] * 8 + ["C"] * 7 + ["D"] * 7  # the fixture county: 30 leads
SCORES = {"A": 85, "B": 65, "C": 45, "D": 20}


@pytest.fixture
def county():
    roles_setup()
    broker = UserFactory(username="broker", is_staff=True)
    broker.groups.add(Group.objects.get(name=ACQUISITIONS))
    leads = [LeadFactory(tier=tier, total=SCORES[tier] + i % 5) for i, tier in enumerate(TIERS)]
    return broker, leads


def log_in(page, base_url):
    page.goto(base_url + "/")
    assert page.url == base_url + "/admin/login/?next=/"
    page.fill("#id_username", "broker")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(base_url + "/")


def lead_count(page) -> str:
    return page.locator("#lead-count").inner_text()


def test_broker_finds_a_tier_a_lead_on_the_map_and_opens_it(page, live_server, county):
    _, leads = county
    base = live_server.url
    log_in(page, base)
    assert page.locator("h1").inner_text() == "Dashboard"
    assert page.locator("#tier-A-count").inner_text() == "8"

    page.click("header nav >> text=Map")
    page.wait_for_url(base + "/map/")
    page.wait_for_selector("#lead-count[data-count='30']")
    assert lead_count(page) == "30 leads"
    assert page.locator(".grid-cluster").count() >= 1  # zoom 10: server-side grid clusters

    page.check("input[name=tier][value=A]")
    page.wait_for_selector("#lead-count[data-count='8']")
    assert lead_count(page) == "8 leads"
    assert page.url == base + "/map/?tier=A"  # a shareable link to this view

    target = max((lead for lead in leads if lead.tier == "A"), key=lambda lead: (lead.total, -lead.pk))
    point = target.property.location
    page.evaluate(f"window.dealMap.setView([{point.y}, {point.x}], 18)")
    marker = page.locator(f".lead-marker.tier-A[title='{target.property.address_normalized}']")
    marker.click()
    popup = page.locator(".lead-popup")
    assert target.property.address_normalized in popup.inner_text()
    assert f"Score {target.total}" in popup.inner_text()
    popup.locator("a.lead-link").click()
    page.wait_for_url(re.compile(rf"/admin/leads/lead/{target.pk}/change/$"))
    assert page.locator("#nav-map").is_visible()  # the admin header links back to the map
    assert page.js_errors == []


def test_broker_draws_a_selection_then_exports_and_assigns_it(page, live_server, county):
    broker, _ = county
    base = live_server.url
    log_in(page, base)
    page.goto(base + "/map/")
    page.wait_for_selector("#lead-count[data-count='30']")
    assert page.locator(".leaflet-draw-draw-polygon").is_visible()  # leaflet.draw loaded
    # Drag a rectangle around the county with the draw tool.
    page.click(".leaflet-draw-draw-rectangle")
    box = page.locator("#leadmap").bounding_box()
    page.mouse.move(box["x"] + 100, box["y"] + 100)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 100, box["y"] + box["height"] - 100, steps=5)
    page.mouse.up()
    assert page.locator("#selection-status").inner_text() == "Shape drawn: export or assign the leads inside it."
    page.check("input[name=tier][value=B]")
    page.wait_for_selector("#lead-count[data-count='8']")  # the map reloaded: its clusters are the new ones
    with page.expect_download() as download:
        page.click("#export-csv")
    lines = Path(download.value.path()).read_text().strip().splitlines()
    assert len(lines) == 1 + 8
    assert lines[0].startswith("lead_id,parcel_id,address")

    # A circle (sent as a 64-sided polygon) dragged from the county's centre works the same way.
    centre = page.locator(".grid-cluster").first.bounding_box()
    x, y = centre["x"] + centre["width"] / 2, centre["y"] + centre["height"] / 2
    page.click(".leaflet-draw-draw-circle")
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 150, y, steps=5)
    page.mouse.up()
    with page.expect_download() as download:
        page.click("#export-csv")
    assert len(Path(download.value.path()).read_text().strip().splitlines()) == 1 + 8

    page.select_option("#id_assignee", label=broker.username)
    page.click("#assign")
    expect(page.locator("#selection-status")).to_have_text("8 leads assigned to broker.")
    assert Activity.objects.filter(kind=Activity.Kind.ASSIGNMENT, actor=broker).count() == 8
    assert page.js_errors == []
