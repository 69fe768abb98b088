"""Issue 22's KPIs by signal stack and by list source, on a small dataset with known answers."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from dealfinder.ops.roles import ACQUISITIONS, ADMIN, DISPOSITIONS, roles_setup
from leads.kpis import kpis_by_signal_stack, kpis_by_source
from leads.models import Lead, Outcome
from properties.models import DataSource
from tests.factories import BrokerFactory, DataSourceFactory, LeadFactory, PropertySourceFactory

pytestmark = pytest.mark.django_db

JAN, FEB = datetime.date(2026, 1, 1), datetime.date(2026, 2, 1)


def lead(created: datetime.date, stack: int, status: str, source=None, at=datetime.time(12)):
    made = LeadFactory(stack_count=stack, status=status)
    noon = datetime.datetime.combine(created, at, tzinfo=datetime.UTC)
    Lead.objects.filter(pk=made.pk).update(created_at=noon)
    if source is not None:
        PropertySourceFactory(property=made.property, source=source)
        PropertySourceFactory(property=made.property, source=source)  # a second record of the same parcel
    return made


def outcome(made, kind: str, on: datetime.date, fee=None, contract_date=None):
    Outcome.objects.create(lead=made, kind=kind, occurred_on=on, fee=fee, contract_date=contract_date)


@pytest.fixture
def dataset():
    mail = DataSourceFactory(name="Mail list", slug="mail", cost_per_month=Decimal(100), cost_per_record=Decimal(2))
    deeds = DataSourceFactory(name="Deeds", slug="deeds")
    won = lead(datetime.date(2026, 1, 10), 3, "closed_won", mail)
    outcome(won, "under_contract", datetime.date(2026, 1, 20))
    outcome(won, "closed_won", datetime.date(2026, 2, 10), fee=Decimal(12000))
    lead(datetime.date(2026, 1, 11), 3, "new", mail)
    signed = lead(datetime.date(2026, 1, 12), 1, "under_contract", deeds)
    outcome(signed, "under_contract", datetime.date(2026, 1, 30), contract_date=datetime.date(2026, 1, 16))
    lead(datetime.date(2026, 1, 13), 1, "negotiating")
    dead = lead(datetime.date(2026, 2, 3), 1, "dead", deeds)
    outcome(dead, "dead", datetime.date(2026, 2, 15))
    lead(datetime.date(2026, 2, 4), 3, "contacted")


def row(month, stack, leads, contacted, appointments, contracts, closed, revenue, days):
    return {
        "month": month,
        "stack_count": stack,
        "leads": leads,
        "contacted": contacted,
        "appointments": appointments,
        "contracts": contracts,
        "closed": closed,
        "revenue": Decimal(revenue),
        "days_to_contract": days,
    }


def test_kpis_by_signal_stack(dataset, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = kpis_by_signal_stack()
    assert [r | {"month": r["month"].date()} for r in rows] == [  # months in the broker's time zone
        row(FEB, 3, 1, 1, 0, 0, 0, 0, None),
        row(FEB, 1, 1, 1, 0, 0, 0, 0, None),
        # the won lead's first contract is 10 days after it was created (not its closing, 31 days)
        row(JAN, 3, 2, 1, 1, 1, 1, 12000, 10.0),
        # the signed lead's contract date (4 days) counts, not the day its outcome was recorded
        row(JAN, 1, 2, 2, 2, 1, 0, 0, 4.0),
    ]


def test_kpis_by_source(dataset, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = kpis_by_source()
    pick = ("source", "leads", "contacted", "appointments", "contracts", "closed", "revenue", "days_to_contract")
    assert [{k: r[k] for k in pick} | {"cost": r["cost"], "cost_per_deal": r["cost_per_deal"]} for r in rows] == [
        {
            "source": "Deeds",
            "leads": 1,
            "contacted": 1,
            "appointments": 0,
            "contracts": 0,
            "closed": 0,
            "revenue": Decimal(0),
            "days_to_contract": None,
            "cost": None,
            "cost_per_deal": None,
        },
        {
            "source": "Deeds",
            "leads": 1,
            "contacted": 1,
            "appointments": 1,
            "contracts": 1,
            "closed": 0,
            "revenue": Decimal(0),
            "days_to_contract": 4.0,
            "cost": None,
            "cost_per_deal": None,
        },
        {
            "source": "Mail list",
            "leads": 2,
            "contacted": 1,
            "appointments": 1,
            "contracts": 1,
            "closed": 1,
            "revenue": Decimal(12000),
            "days_to_contract": 10.0,
            "cost": Decimal(104),
            "cost_per_deal": Decimal(104),
        },
    ]
    assert [r["month"].date() for r in rows] == [FEB, JAN, JAN]


def test_dashboard_shows_kpis_by_signal_stack(client, dataset):
    roles_setup()
    client.force_login(BrokerFactory(role=ADMIN))
    response = client.get("/", {"kpi_month": "all"})
    assert response.context["outcomes"]["stacks"] == [
        {
            "stack_count": 3,
            "leads": 3,
            "contacted": 2,
            "appointments": 1,
            "contracts": 1,
            "closed": 1,
            "revenue": Decimal(12000),
        },
        {
            "stack_count": 1,
            "leads": 3,
            "contacted": 3,
            "appointments": 2,
            "contracts": 1,
            "closed": 0,
            "revenue": Decimal(0),
        },
    ]
    html = response.content.decode()
    assert '<section class="card wide" id="kpis-by-stack">' in html
    assert (
        '<tr data-stack="3"><td>3</td><td class="num">3</td><td class="num">2</td><td class="num">1</td>'
        '<td class="num">1</td><td class="num">1</td><td class="num">$12000</td></tr>'
    ) in html


# --- A month or a first day (the API's filters) -------------------------------------------------------------------


def test_kpis_of_one_month_or_since_a_day(dataset, django_assert_num_queries):
    # 2026-02-01 03:00 UTC is still January 31 in the broker's time zone (America/New_York): a January lead.
    lead(datetime.date(2026, 2, 1), 1, "new", at=datetime.time(3))
    with django_assert_num_queries(2):
        january = kpis_by_signal_stack(month=datetime.date(2026, 1, 20))
        sources = kpis_by_source(month=JAN)
    assert [(r["month"].date(), r["stack_count"], r["leads"]) for r in january] == [(JAN, 3, 2), (JAN, 1, 3)]
    assert [(r["source"], r["leads"], r["closed"]) for r in sources] == [("Deeds", 1, 0), ("Mail list", 2, 1)]
    since = kpis_by_signal_stack(since=datetime.date(2026, 1, 12))
    assert [(r["month"].date(), r["stack_count"], r["leads"]) for r in since] == [
        (FEB, 3, 1),
        (FEB, 1, 1),
        (JAN, 1, 3),  # the leads of January 12, 13 and 31
    ]
    assert kpis_by_source(month=FEB, since=datetime.date(2026, 2, 4)) == []  # the Deeds lead came on February 3


# --- GET /api/v1/kpis/ --------------------------------------------------------------------------------------------


def api_as(role: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(BrokerFactory(role=role))
    return client


def test_kpis_api_of_one_month(dataset, django_assert_num_queries):
    client = api_as(ACQUISITIONS)
    with django_assert_num_queries(4):  # the user's and the role's permissions, one query per selector
        response = client.get("/api/v1/kpis/", {"month": "2026-01"})
    assert response.status_code == 200, response.content
    measures = ("leads", "contacted", "appointments", "contracts", "closed", "revenue", "days_to_contract")
    assert response.json() == {
        "by_source": [
            {
                "month": "2026-01",
                "source_id": DataSource.objects.get(slug="deeds").pk,
                "source": "Deeds",
                **dict(zip(measures, (1, 1, 1, 1, 0, "0.00", 4.0), strict=True)),
                "cost": None,
                "cost_per_deal": None,
            },
            {
                "month": "2026-01",
                "source_id": DataSource.objects.get(slug="mail").pk,
                "source": "Mail list",
                **dict(zip(measures, (2, 1, 1, 1, 1, "12000.00", 10.0), strict=True)),
                "cost": "104.00",
                "cost_per_deal": "104.00",
            },
        ],
        "by_stack": [
            {"month": "2026-01", "stack": 3, **dict(zip(measures, (2, 1, 1, 1, 1, "12000.00", 10.0), strict=True))},
            {"month": "2026-01", "stack": 1, **dict(zip(measures, (2, 2, 2, 1, 0, "0.00", 4.0), strict=True))},
        ],
    }


def test_kpis_api_every_month_and_since(dataset):
    client = api_as(ADMIN)
    body = client.get("/api/v1/kpis/").json()
    assert [(r["month"], r["source"], r["leads"]) for r in body["by_source"]] == [
        ("2026-02", "Deeds", 1),
        ("2026-01", "Deeds", 1),
        ("2026-01", "Mail list", 2),
    ]
    assert [(r["month"], r["stack"], r["leads"]) for r in body["by_stack"]] == [
        ("2026-02", 3, 1),
        ("2026-02", 1, 1),
        ("2026-01", 3, 2),
        ("2026-01", 1, 2),
    ]
    body = client.get("/api/v1/kpis/", {"since": "2026-02-01"}).json()
    assert [(r["month"], r["source"]) for r in body["by_source"]] == [("2026-02", "Deeds")]
    assert [(r["month"], r["stack"]) for r in body["by_stack"]] == [("2026-02", 3), ("2026-02", 1)]


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"month": "2026-13"}, {"month": ["Give the month as YYYY-MM, e.g. 2026-01."]}),
        ({"month": "January"}, {"month": ["Give the month as YYYY-MM, e.g. 2026-01."]}),
        ({"month": "9999-12"}, {"month": ["Give a date between 1900-01-01 and 2999-12-31."]}),
        ({"since": "2026-02-30"}, {"since": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}),
        ({"since": "0001-01-01"}, {"since": ["Give a date between 1900-01-01 and 2999-12-31."]}),
    ],
)
def test_kpis_api_refuses_a_bad_month_or_day(params, errors):
    response = api_as(ADMIN).get("/api/v1/kpis/", params)
    assert (response.status_code, response.json()) == (400, errors)


def test_kpis_api_needs_leads_and_outcomes():
    assert APIClient().get("/api/v1/kpis/").status_code == 401
    assert api_as(DISPOSITIONS).get("/api/v1/kpis/").status_code == 403  # leads, but not how they ended


# --- The dashboard's month ----------------------------------------------------------------------------------------


def test_dashboard_kpis_show_the_chosen_month(client, dataset):
    roles_setup()
    client.force_login(BrokerFactory(role=ADMIN))
    LeadFactory(stack_count=2, status="contacted")  # created now: the current month
    today = timezone.localdate()
    current = (today.strftime("%Y-%m"), today.strftime("%B %Y"))
    choices = [current, ("2026-02", "February 2026"), ("2026-01", "January 2026"), ("all", "All time")]

    def outcomes(**params):
        context = client.get("/", params).context["outcomes"]
        picked = (context["kpi_month"], context["kpi_month_label"], context["kpi_month_error"])
        stacks = [(r["stack_count"], r["leads"], r["closed"]) for r in context["stacks"]]
        return picked, stacks, [(r["source"], r["leads"], r["closed"]) for r in context["sources"]]

    # default: the current month (the new lead has no list source)
    assert outcomes() == ((*current, ""), [(2, 1, 0)], [])
    assert outcomes(kpi_month="2026-01") == (
        ("2026-01", "January 2026", ""),
        [(3, 2, 1), (1, 2, 0)],
        [("Mail list", 2, 1), ("Deeds", 1, 0)],
    )
    assert outcomes(kpi_month="all") == (
        ("all", "all time", ""),
        [(3, 3, 1), (2, 1, 0), (1, 3, 0)],
        [("Mail list", 2, 1), ("Deeds", 2, 0)],
    )
    for bad in ("2026-1", "0000-01", "2026-13"):
        assert outcomes(kpi_month=bad) == (
            (*current, f"“{bad}” is not a month (YYYY-MM): showing {current[1]}."),
            [(2, 1, 0)],
            [],
        )
    # every measure of the source card, the months summed (days to contract averaged over the contracts)
    card = (
        "source",
        "leads",
        "contacted",
        "contracts",
        "closed",
        "revenue",
        "cost",
        "cost_per_deal",
        "days_to_contract",
    )
    sources = client.get("/", {"kpi_month": "all"}).context["outcomes"]["sources"]
    assert [tuple(r[k] for k in card) for r in sources] == [
        ("Mail list", 2, 1, 1, 1, Decimal(12000), Decimal(104), Decimal(104), 10.0),
        ("Deeds", 2, 2, 1, 0, Decimal(0), None, None, 4.0),
    ]
    # a month without leads is shown empty, and offered as a choice
    assert outcomes(kpi_month="2025-06") == (("2025-06", "June 2025", ""), [], [])
    response = client.get("/", {"kpi_month": "2026-02"})
    assert response.context["outcomes"]["kpi_month_choices"] == choices
    html = response.content.decode()
    assert (
        f'<select name="kpi_month" id="kpi-month-select"><option value="{current[0]}">{current[1]}</option>'
        '<option value="2026-02" selected>February 2026</option><option value="2026-01">January 2026</option>'
        '<option value="all">All time</option></select>'
    ) in html
    assert '<h2>KPIs by signal stack <span class="muted">(February 2026)</span></h2>' in html
