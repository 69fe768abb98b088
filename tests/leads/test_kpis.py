"""Issue 22's KPIs by signal stack and by list source, on a small dataset with known answers."""

import datetime
from decimal import Decimal

import pytest

from dealfinder.ops.roles import ADMIN, roles_setup
from leads.kpis import kpis_by_signal_stack, kpis_by_source
from leads.models import Lead, Outcome
from tests.factories import BrokerFactory, DataSourceFactory, LeadFactory, PropertySourceFactory

pytestmark = pytest.mark.django_db

JAN, FEB = datetime.date(2026, 1, 1), datetime.date(2026, 2, 1)


def lead(created: datetime.date, stack: int, status: str, source=None):
    made = LeadFactory(stack_count=stack, status=status)
    noon = datetime.datetime.combine(created, datetime.time(12), tzinfo=datetime.UTC)
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
    response = client.get("/")
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
