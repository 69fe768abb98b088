"""The sample county's recorded deeds (the demo's sales layer) give leads an ARV from comps and a discovered
cash buyer."""

import pytest

from buyers.discovered import discovered_buyers_refresh
from dealfinder.ops.scoring import leads_score
from leads.comps_refresh import leads_comps_refresh
from leads.models import Lead
from properties.models import Sale
from properties.sample import sample_county_ingest

pytestmark = pytest.mark.django_db


def test_the_sample_sales_layer_gives_comps_and_a_discovered_buyer():
    runs = sample_county_ingest()
    assert {run.source.slug: run.status for run in runs}["sample-sales"] == "success"
    assert Sale.objects.filter(is_arms_length=False).exists() and Sale.objects.filter(is_arms_length=True).exists()
    leads_score()
    summary = leads_comps_refresh()
    assert summary.with_arv > 0
    assert Lead.objects.filter(comps_arv__isnull=False).exclude(comps_confidence="none").count() == summary.with_arv
    found, _ = discovered_buyers_refresh()
    assert "SUNSHINE STATE HOMEBUYERS LLC" in [b.name for b in found]
