"""`manage.py demo --no-serve` runs the sample county through the real pipeline, twice without duplicates."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count
from django.test import Client

from buyers.models import Buyer, PropertyMatch
from leads.models import Lead, LeadScoreHistory
from properties.models import CodeViolation, IngestionRun, Listing, Property, TaxSale

pytestmark = pytest.mark.django_db(transaction=True)


def snapshot():
    return {
        model.__name__: model.objects.count()
        for model in (Property, TaxSale, CodeViolation, Listing, Lead, LeadScoreHistory, Buyer, PropertyMatch)
    }


def test_demo_loads_the_sample_county_and_is_idempotent(capsys):
    call_command("demo", "--no-serve", "--password", "demo-pass-1")
    first = snapshot()
    out = capsys.readouterr().out
    assert "DealFinder is ready: http://127.0.0.1:8000/" in out
    assert "password: demo-pass-1" in out
    demo = get_user_model().objects.get(username="demo")
    assert demo.check_password("demo-pass-1")
    assert list(demo.groups.values_list("name", flat=True)) == ["Admin"]  # so leads can be assigned to it

    assert first["Property"] >= 250
    assert Lead.objects.count() == Property.objects.filter(is_active=True).count()
    assert set(IngestionRun.objects.values_list("status", flat=True)) == {"success"}
    tiers = dict(Lead.objects.values_list("tier").annotate(n=Count("id")))
    assert set(tiers) == {"A", "B", "C", "D"}, tiers
    assert first["Buyer"] >= 10 and first["PropertyMatch"] > 0

    call_command("demo", "--no-serve", "--password", "demo-pass-2")
    assert snapshot() == first
    second_runs = IngestionRun.objects.order_by("-started_at")[:5]
    assert [run.inserted + run.updated for run in second_runs] == [0] * 5
    login = Client().post("/admin/login/", {"username": "demo", "password": "demo-pass-2"})
    assert login.status_code == 302  # through the real login (and its lockout check)
