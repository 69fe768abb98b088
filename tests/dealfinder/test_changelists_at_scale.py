"""The five big changelists (issue 26): a fixed number of queries whatever the rows, with the search box and
every sidebar filter, and counts bounded (exact up to a limit, the planner's estimate beyond, said so)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dealfinder.common.admin_counts import BoundedCountPaginator
from dealfinder.ops.benchmark.load_mix import ADMIN_CHANGELISTS, admin_filter_links
from tests.factories import (
    BrokerFactory,
    BuyerFactory,
    IngestionRunFactory,
    LeadFactory,
    PropertyMatchFactory,
)

pytestmark = pytest.mark.django_db


def _rows(n: int) -> None:
    holder = BrokerFactory()
    for i in range(n):
        lead = LeadFactory(tier="ABCD"[i % 4], stack_count=i % 3, assigned_to=holder if i % 2 else None)
        PropertyMatchFactory(property=lead.property, buyer=BuyerFactory())
        IngestionRunFactory()


def _queries(client, path: str, params=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params or {})
    assert response.status_code == 200, (path, params, response.status_code)
    return len(captured.captured_queries)


def _every_page(client) -> dict[str, int]:
    """Queries per page: each changelist's default list, a search and every filter link its sidebar offers."""
    counts = {}
    for kind, path in ADMIN_CHANGELISTS.items():
        counts[kind] = _queries(client, path)
        counts[f"{kind} search"] = _queries(client, path, {"q": "zzz"})
        for params in admin_filter_links(client.get(path).content.decode()):
            counts[f"{kind} {params}"] = _queries(client, path, dict(params))
    return counts


def test_changelists_run_the_same_queries_for_3_rows_and_for_12(admin_client):
    _rows(3)
    few = _every_page(admin_client)
    _rows(9)
    many = _every_page(admin_client)
    assert {k: many.get(k) for k in few} == few  # no query per row, per filter value or per page size
    assert {k: few[k] for k in ADMIN_CHANGELISTS} == {
        "admin_properties": 6,  # no date hierarchy (its min/max and distinct dates scanned the table)
        "admin_leads": 7,  # the assignee filter's keys by an index skip scan, then their users
        "admin_buyers": 4,
        "admin_matches": 4,
        "admin_runs": 7,
    }


def _result_count(html: str) -> str:
    text = re.search(r'<p class="paginator">(.*?)</p>', html, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", "", text).split())


def test_counts_are_exact_up_to_the_limit(admin_client, monkeypatch):
    monkeypatch.setattr(BoundedCountPaginator, "exact_limit", 5)
    LeadFactory.create_batch(5)
    text = _result_count(admin_client.get(ADMIN_CHANGELISTS["admin_leads"]).content.decode())
    assert text == "5 leads"


@pytest.mark.postgis
def test_beyond_the_limit_the_count_is_the_planner_s_estimate_and_the_page_says_so(admin_client, monkeypatch):
    monkeypatch.setattr(BoundedCountPaginator, "exact_limit", 5)
    LeadFactory.create_batch(7)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead")
    text = _result_count(admin_client.get(ADMIN_CHANGELISTS["admin_leads"]).content.decode())
    assert re.fullmatch(r"about \d+ leads \(estimated\)", text), text
    assert int(text.split()[1]) >= 6  # never fewer than the rows it counted


def test_spatialite_counts_exactly_beyond_the_limit(admin_client, monkeypatch, settings):
    if settings.IS_POSTGIS:
        pytest.skip("SpatiaLite's behaviour")
    monkeypatch.setattr(BoundedCountPaginator, "exact_limit", 5)
    LeadFactory.create_batch(7)
    text = _result_count(admin_client.get(ADMIN_CHANGELISTS["admin_leads"]).content.decode())
    assert text == "7 leads"


def test_the_stack_count_filter_offers_fixed_values_and_filters(admin_client):
    LeadFactory(stack_count=2)
    LeadFactory(stack_count=0)
    page = admin_client.get(ADMIN_CHANGELISTS["admin_leads"], {"stack_count": "2"})
    assert page.context["cl"].result_count == 1
    bogus = admin_client.get(ADMIN_CHANGELISTS["admin_leads"], {"stack_count": "x"})
    assert bogus.context["cl"].result_count == 2
