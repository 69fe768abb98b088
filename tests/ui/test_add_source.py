"""Adding a county from its URL in a real browser: probe, review, create, then its page (no CSP violations)."""

import pytest
from django.contrib.auth.models import Group

from dealfinder.ops.roles import ADMIN, roles_setup
from properties.models import DataSource
from tests.factories import UserFactory
from tests.fakes.arcgis import FakeArcGISLayer
from tests.ui.test_admin_pages import csp_violations, watch_console
from tests.ui.test_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_add_a_county_from_its_layer_url(page, live_server, httpserver):
    roles_setup()
    user = UserFactory(username="broker", is_staff=True)
    user.groups.add(Group.objects.get(name=ADMIN))
    layer = FakeArcGISLayer.from_fixture(httpserver, "summit-oh-parcels")
    console = watch_console(page)
    log_in(page, live_server)

    page.goto(f"{live_server.url}/admin/properties/datasource/")
    page.click("#add-from-url")
    page.fill("#probe-form input[name=url]", layer.url)
    page.click("#probe-form input[name=_probe]")
    page.wait_for_selector("#probe-dry-run")

    assert "Dry run over 12 sample records: 12 would load, 12 with a point" in page.inner_text("#probe-dry-run")
    assert "OWNERNME1" in page.inner_text("#probe-proposal")
    page.fill("#create-form input[name=county]", "Summit")
    page.click("#create-form input[name=_create]")
    page.wait_for_selector(".messagelist .success")

    source = DataSource.objects.get()
    assert (source.name, source.enabled, source.county) == ("Tax Parcels", False, "Summit")
    assert "created (disabled: enable it when you have checked it)" in page.inner_text(".messagelist")
    assert csp_violations(console) == []
    assert page.js_errors == []
