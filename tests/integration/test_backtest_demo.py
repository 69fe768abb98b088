"""Issue 22's "done when": on the demo county with outcomes planted so that absentee owners close far more often,
the backtest finds that signal's lift well above 1 (its interval excluding 1), the proposal weights it above the
active profile and ranks better out of fold, and activating the proposal moves tiers exactly as the comparison
said."""

from collections import Counter

import pytest
from django.urls import reverse

from dealfinder.ops.backtest import backtest_run
from dealfinder.ops.demo_outcomes import SIGNAL, demo_outcomes_plant
from dealfinder.ops.management.commands.demo import Command as Demo
from leads.models import BacktestRun, Lead, Outcome, ScoringProfile

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_with_outcomes():
    for _, step in Demo().sample_steps():
        step()
    counts = demo_outcomes_plant()
    assert counts["won"] >= 30 and counts["dead"] >= 30, counts
    return counts


def test_backtest_finds_the_planted_signal_and_activating_moves_tiers_as_compared(demo_with_outcomes, admin_client):
    assert demo_outcomes_plant() == {"won": 0, "dead": 0}  # planting again records nothing twice
    run = backtest_run()
    doc = run.document
    assert doc["outcomes"] == Outcome.objects.values("lead").distinct().count() == Lead.objects.count()
    assert doc["without_snapshot"] == 0
    planted = next(s for s in doc["signals"] if s["signal"] == SIGNAL)
    assert planted["lift"] > 3 and planted["ci_low"] > 1, planted
    assert doc["proposed_weights"][SIGNAL] > doc["active_weights"][SIGNAL]
    assert doc["proposed_auc"] > doc["active_auc"]
    assert set(doc["by_tier"]) == {"A", "B", "C", "D"}
    assert doc["tier_changes"]["changed"] > 0

    active = ScoringProfile.objects.get(is_active=True)
    response = admin_client.post(reverse("admin:leads_backtestrun_activate", args=[run.pk]))
    assert response.status_code == 302
    fitted = ScoringProfile.objects.get(is_active=True)
    assert fitted.pk != active.pk and fitted.name == f"{active.name} (fitted, backtest #{run.pk})"
    assert fitted.parameters[SIGNAL] == doc["proposed_weights"][SIGNAL]
    assert BacktestRun.objects.get(pk=run.pk).activated_profile == fitted
    # the rescore ran: the tiers are the ones the comparison predicted
    assert dict(Counter(Lead.objects.values_list("tier", flat=True))) == {
        tier: n for tier, n in doc["tier_changes"]["proposed_tiers"].items() if n
    }
    # a second activation of the same run is refused with the reason
    again = admin_client.post(reverse("admin:leads_backtestrun_activate", args=[run.pk]), follow=True)
    assert "already saved as" in again.content.decode()
    assert ScoringProfile.objects.filter(is_active=True).get() == fitted

    page = admin_client.get(reverse("admin:leads_backtestrun_change", args=[run.pk]))
    assert page.status_code == 200
    assert f'data-signal="{SIGNAL}"'.encode() in page.content
