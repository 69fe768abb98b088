"""The parts that keep the big changelists cheap (issue 26): filter values by an index skip scan, the match search
table by table, the checkbox column without a widget render, the property search's indexes."""

import pytest
from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.db import connection

from buyers.models import Buyer, PropertyMatch
from dealfinder.common.admin_filters import distinct_values
from dealfinder.common.admin_search import related_search, search_words
from dealfinder.ops.benchmark.load_mix import ADMIN_CHANGELISTS, admin_filter_links
from leads.models import Lead
from properties.models import IngestionRun, Property
from tests.factories import BrokerFactory, BuyerFactory, LeadFactory, PropertyFactory, PropertyMatchFactory

pytestmark = pytest.mark.django_db


def test_distinct_values_lists_each_value_once_in_order():
    for county, state in (("Osceola", "FL"), ("Cook", "IL"), ("Osceola", "FL"), ("Orange", "")):
        PropertyFactory(county=county, state=state)
    assert distinct_values(Property, "county") == ["Cook", "Orange", "Osceola"]
    assert distinct_values(Property, "state") == ["", "FL", "IL"]


def test_distinct_values_of_a_foreign_key_are_its_ids_and_none_only_when_asked():
    first, second = BrokerFactory(), BrokerFactory()
    LeadFactory(assigned_to=second)
    LeadFactory(assigned_to=first)
    LeadFactory(assigned_to=second)
    LeadFactory(assigned_to=None)
    assert distinct_values(Lead, "assigned_to") == sorted([first.pk, second.pk])
    assert distinct_values(Lead, "assigned_to", nulls=True) == [*sorted([first.pk, second.pk]), None]


def test_property_changelist_offers_the_counties_and_states_present_and_no_date_hierarchy(admin_client):
    PropertyFactory(county="Osceola", state="FL")
    PropertyFactory(county="Cook", state="IL")
    page = admin_client.get(ADMIN_CHANGELISTS["admin_properties"])
    links = admin_filter_links(page.content.decode())
    assert [p for p in links if p[0][0] in ("county", "state")] == [
        (("county", "Cook"),),
        (("county", "Osceola"),),
        (("state", "FL"),),
        (("state", "IL"),),
    ]
    assert page.context["cl"].date_hierarchy is None
    assert len([p for p in links if p[0][0] == "created_at__gte"]) == 4  # today, 7 days, this month, this year
    cook = admin_client.get(ADMIN_CHANGELISTS["admin_properties"], {"county": "Cook"})
    assert [p.county for p in cook.context["cl"].result_list] == ["Cook"]


def test_lead_assignee_filter_offers_only_users_holding_leads(admin_client):
    holder, _idle = BrokerFactory(), BrokerFactory()
    LeadFactory(assigned_to=holder)
    LeadFactory(assigned_to=None)
    links = admin_filter_links(admin_client.get(ADMIN_CHANGELISTS["admin_leads"]).content.decode())
    assert [p for p in links if p[0][0] == "assigned_to__id__exact"] == [(("assigned_to__id__exact", str(holder.pk)),)]


@pytest.fixture
def matches():
    smith = BuyerFactory(last_name="Smith", company="Lakeside Homes LLC")
    jones = BuyerFactory(last_name="Jones", company="Smithfield Capital")
    oak = PropertyFactory(parcel_id="292405000007210", address_normalized="12 OAK ST, ORLANDO, FL 32801")
    elm = PropertyFactory(parcel_id="292405000007211", address_normalized="40 ELM AVE, ORLANDO, FL 32801")
    return {
        "smith-oak": PropertyMatchFactory(buyer=smith, property=oak, score=90),
        "jones-oak": PropertyMatchFactory(buyer=jones, property=oak, score=80),
        "smith-elm": PropertyMatchFactory(buyer=smith, property=elm, score=70),
        "jones-elm": PropertyMatchFactory(buyer=jones, property=elm, score=60),
    }


SEARCH_FIELDS = admin.site.get_model_admin(PropertyMatch).search_fields


def _found(term: str, matches, **kwargs) -> list[str]:
    names = {m.pk: name for name, m in matches.items()}
    found = related_search(PropertyMatch.objects.order_by("-score"), SEARCH_FIELDS, term, **kwargs)
    return [names[pk] for pk in found.values_list("pk", flat=True)]


@pytest.mark.parametrize("limit", [2_000, 0])  # ids passed as values, and (more than `limit`) as a subquery
def test_match_search_finds_by_parcel_address_buyer_and_company_every_word(matches, limit):
    assert _found("292405000007210", matches, limit=limit) == ["smith-oak", "jones-oak"]  # exact parcel id
    assert _found("29240500000721", matches, limit=limit) == []  # not a parcel id's part
    assert _found("elm", matches, limit=limit) == ["smith-elm", "jones-elm"]  # in the address
    assert _found("smith", matches, limit=limit) == [
        "smith-oak",
        "jones-oak",
        "smith-elm",
        "jones-elm",
    ]  # name, company
    assert _found("jones oak", matches, limit=limit) == ["jones-oak"]  # every word
    assert _found("'40 ELM'", matches, limit=limit) == ["smith-elm", "jones-elm"]  # a quoted phrase
    assert _found("nowhere", matches, limit=limit) == []


def test_match_changelist_search_box(admin_client, matches):
    page = admin_client.get(ADMIN_CHANGELISTS["admin_matches"], {"q": "jones elm"})
    assert [m.pk for m in page.context["cl"].result_list] == [matches["jones-elm"].pk]


def test_search_words_split_as_the_admin_does():
    assert search_words("  oak 'main st'  \"x y\" ") == ["oak", "main st", "x y"]


def test_large_changelists_render_the_checkbox_django_renders_and_pages_of_50():
    match = PropertyMatchFactory()
    model_admin = admin.site.get_model_admin(PropertyMatch)
    assert model_admin.action_checkbox(match) == ModelAdmin.action_checkbox(model_admin, match)
    big = (Property, Lead, Buyer, PropertyMatch, IngestionRun)
    assert {m.__name__: admin.site.get_model_admin(m).list_per_page for m in big} == dict.fromkeys(
        [m.__name__ for m in big], 50
    )


def test_property_search_indexes(settings):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Property._meta.db_table)
    indexes = {name for name, c in constraints.items() if c["index"]}
    assert "property_parcel_upper_idx" in indexes
    assert ("property_search_trgm_idx" in indexes) == settings.IS_POSTGIS  # PostgreSQL only (pg_trgm)


def test_match_lead_tier_filter_offers_the_tiers_and_filters(admin_client):
    a_lead, d_lead = LeadFactory(tier="A"), LeadFactory(tier="D")
    a_match = PropertyMatchFactory(property=a_lead.property)
    PropertyMatchFactory(property=d_lead.property)
    PropertyMatchFactory()  # a property without a lead
    path = ADMIN_CHANGELISTS["admin_matches"]
    links = admin_filter_links(admin_client.get(path).content.decode())
    assert [p for p in links if p[0][0] == "lead_tier"] == [(("lead_tier", t),) for t in "ABCD"]
    page = admin_client.get(path, {"lead_tier": "A"})
    assert [m.pk for m in page.context["cl"].result_list] == [a_match.pk]
    assert page.context["cl"].result_count == 1
