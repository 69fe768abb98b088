"""Content-Security-Policy: the headers on each kind of page, and the pages working under it in Chromium."""

import os
import re
import threading

import pytest
from django.contrib.auth.models import Group

from dealfinder.ops.roles import ACQUISITIONS, roles_setup
from tests.factories import LeadFactory, UserFactory
from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS

PASSWORD = "correct horse battery staple"
BASE_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "https://tile.openstreetmap.org"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def policy(response) -> dict[str, list[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)


def inline_code(html: str) -> list[str]:
    """Opening tags of scripts that are neither external (src) nor data (json_script), and style= attributes."""
    scripts = [t for t in re.findall(r"<script\b[^>]*>", html) if "src=" not in t and "application/json" not in t]
    return scripts + re.findall(r"<[^>]+\sstyle=", html)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/", "/map/", "/admin/", "/admin/leads/lead/", "/api/v1/", "/admin/login/", "/healthz"]
)
def test_pages_without_inline_code_get_the_strict_policy(client, superuser, url):
    LeadFactory(tier="A")
    if url != "/admin/login/":
        client.force_login(superuser)
    response = client.get(url)
    assert response.status_code == 200
    assert policy(response) == BASE_POLICY
    assert inline_code(response.content.decode()) == []


@pytest.mark.django_db
def test_the_admin_map_widget_loader_runs_by_nonce(client, superuser):
    """django-leaflet's admin widget has its own inline script, which LeafletGeoAdmin gives the nonce."""
    client.force_login(superuser)
    response = client.get("/admin/properties/property/add/")
    directives = policy(response)
    nonce = directives.pop("script-src")
    assert nonce[0] == "'self'"
    assert re.fullmatch(r"'nonce-[A-Za-z0-9+/]{22}=='", nonce[1])
    assert len(nonce) == 2
    assert directives == {k: v for k, v in BASE_POLICY.items() if k != "script-src"}
    assert f'<script nonce="{nonce[1][7:-1]}">' in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_the_api_docs_load_local_assets_and_may_use_inline_styles(client, superuser, url):
    client.force_login(superuser)
    response = client.get(url)
    assert response.status_code == 200
    assert policy(response) == {
        **BASE_POLICY,
        "style-src": ["'self'", "'unsafe-inline'", "https://fonts.googleapis.com"],
        "font-src": ["'self'", "https://fonts.gstatic.com"],
        "img-src": [*BASE_POLICY["img-src"], "https://cdn.redoc.ly"],
        "worker-src": ["blob:"],
    }
    html = response.content.decode()
    assert "cdn.jsdelivr.net" not in html
    assert "/static/drf_spectacular_sidecar/" in html
    assert "<script>" not in html  # Swagger UI's init script is a separate request (split view)


@pytest.mark.django_db
def test_the_tile_server_is_allowed_as_an_image_source(client, superuser, settings):
    from dealfinder.settings import _origin

    assert _origin("https://{s}.tile.example.com/{z}/{x}/{y}.png") == "https://*.tile.example.com"
    assert _origin("http://tiles.local:8080/{z}/{x}/{y}.png") == "http://tiles.local:8080"
    assert _origin("/tiles/{z}/{x}/{y}.png") == ""


# --- in a real browser ------------------------------------------------------------------------
# Waits use selectors, not wait_for_function: Playwright evaluates a string predicate with eval(),
# which the policy (rightly) forbids. Each test drives its own Chromium from a thread of its own, so it
# never meets the session-wide sync Playwright of tests/ui (one per thread).


def in_browser(base_url: str, steps) -> list[str]:
    """Run steps(page) in a fresh Chromium (requests leaving the live server aborted); the CSP violations."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed")
    outcome: dict = {"violations": [], "errors": []}

    def run():
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                context.set_default_timeout(10_000)
                context.route(
                    re.compile(r"^(?!" + re.escape(base_url) + ")"), lambda route: route.abort("internetdisconnected")
                )
                page = context.new_page()
                page.on(
                    "console",
                    lambda msg: (
                        outcome["violations"].append(msg.text) if "Content Security Policy" in msg.text else None
                    ),
                )
                page.on("pageerror", lambda exc: outcome["errors"].append(str(exc)))
                steps(page)
                browser.close()
        except BaseException as exc:  # re-raised in the test's thread
            outcome["raised"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "raised" in outcome:
        raise outcome["raised"]
    assert outcome["errors"] == []
    return outcome["violations"]


def log_in(page, base: str, username: str, landing: str) -> None:
    page.goto(base + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(base + landing)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_dashboard_map_and_admin_work_under_the_policy(live_server):
    roles_setup()
    broker = UserFactory(username="broker", is_staff=True)
    broker.set_password(PASSWORD)
    broker.save()
    broker.groups.add(Group.objects.get(name=ACQUISITIONS))
    for tier in "AABBCD":
        LeadFactory(tier=tier)
    base = live_server.url

    def steps(page):
        log_in(page, base, "broker", "/admin/")
        page.goto(base + "/")
        assert page.locator("svg.bar path").count() == 4  # the tier bar: A, B, C, D
        page.goto(base + "/map/")
        page.wait_for_selector("#lead-count[data-count='6']")
        assert page.locator(".leaflet-draw-draw-polygon").is_visible()
        page.goto(base + "/admin/")
        assert page.locator("#site-name").inner_text() == "DealFinder"
        page.goto(base + "/admin/leads/lead/")
        assert page.locator("#result_list tbody tr").count() == 6

    assert in_browser(base, steps) == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_admin_map_widget_and_api_docs_work_under_the_policy(live_server, django_user_model):
    django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    base = live_server.url

    def steps(page):
        log_in(page, base, "root", "/admin/")
        page.goto(base + "/admin/properties/property/add/")
        page.wait_for_selector(".leaflet-container .leaflet-control-zoom")  # the widget's map initialised
        page.goto(base + "/api/docs/")
        page.wait_for_selector(".swagger-ui .info .title")
        assert "DealFinder API" in page.locator(".swagger-ui .info .title").inner_text()
        page.goto(base + "/api/redoc/")
        page.wait_for_selector("h1")
        assert "DealFinder API" in page.locator("h1").first.inner_text()

    assert in_browser(base, steps) == []
