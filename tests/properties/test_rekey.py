"""A change of parcel-id format moves stored parcels in place and never merges what was distinct."""

import pytest
from django.core.management import CommandError, call_command
from django.forms import modelform_factory

from properties import models as m
from properties.admin import DataSourceForm
from properties.ingest.base import Page, RawRecord
from properties.ingest.loader import ingest_source
from properties.rekey import parcel_rekey_apply, parcel_rekey_plan
from tests.factories import DataSourceFactory, LeadFactory, PropertyFactory

pytestmark = pytest.mark.django_db

MAPPING = {"parcel_id": "PIN", "street": "SITUS", "tax_year": "YEAR", "market_value": "MKT"}


def records(*pins):
    return [Page(1, [RawRecord(str(i), {"PIN": p, "SITUS": f"{i} ELM ST", "YEAR": 2025, "MKT": 100000 + i})
                     for i, p in enumerate(pins, 1)])]  # fmt: skip


@pytest.fixture
def plain_source():
    source = DataSourceFactory(slug="city-parcels", dataset="parcels", parcel_format="plain", field_mapping=MAPPING)
    ingest_source(source=source, reader=records("221-52", "41 3 25"))
    return source


def test_rekey_renames_in_place_keeps_records_and_leads_and_the_next_ingest_converges(plain_source):
    lead = LeadFactory(property=m.Property.objects.get(parcel_id="22152"))
    plan = parcel_rekey_plan(sources=[plain_source], parcel_format="canonical")
    assert sorted(plan.renames.values()) == [("22152", "221-52"), ("41325", "41-3-25")]
    assert not plan.blocked
    assert parcel_rekey_apply(plan=plan) == 2
    renamed = m.Property.objects.get(parcel_id="221-52")
    assert renamed.pk == lead.property_id
    assert list(renamed.valuations.values_list("external_id", flat=True)) == ["221-52:2025"]
    assert sorted(m.PropertySource.objects.values_list("external_id", flat=True)) == ["221-52:2025", "41-3-25:2025"]
    plain_source.refresh_from_db()
    assert plain_source.parcel_format == "canonical"

    run = ingest_source(source=plain_source, reader=records("221-52", "41 3 25", "2215-2"))
    assert (run.status, run.inserted, run.updated) == ("success", 1, 2)  # re-read under the new format, no copies
    assert sorted(m.Property.objects.values_list("parcel_id", flat=True)) == ["221-52", "2215-2", "41-3-25"]
    assert m.Valuation.objects.count() == 3


def test_a_format_that_would_merge_distinct_parcels_is_refused():
    source = DataSourceFactory(slug="cook", dataset="parcels", field_mapping=MAPPING)  # canonical
    ingest_source(source=source, reader=records("221-52", "2215-2"))
    plan = parcel_rekey_plan(sources=[source], parcel_format="plain")
    assert plan.blocked
    assert plan.collisions == ["2215-2 and 221-52 would both become 22152"]
    with pytest.raises(ValueError, match="would merge distinct parcels"):
        parcel_rekey_apply(plan=plan)
    assert sorted(m.Property.objects.values_list("parcel_id", flat=True)) == ["221-52", "2215-2"]


def test_an_id_another_property_holds_is_refused(plain_source):
    PropertyFactory(parcel_id="221-52")
    plan = parcel_rekey_plan(sources=[plain_source], parcel_format="canonical")
    assert plan.collisions[0].startswith("221-52 already belongs to another property")


def test_sources_listing_the_same_parcels_in_another_format_move_together(plain_source):
    sales = DataSourceFactory(
        slug="city-tax-sales",
        dataset="tax_sales",
        parcel_format="plain",
        field_mapping={"parcel_id": "PIN", "tda_number": "TDA"},
    )
    ingest_source(source=sales, reader=[Page(1, [RawRecord("1", {"PIN": "221-52", "TDA": "T-1"})])])
    alone = parcel_rekey_plan(sources=[plain_source], parcel_format="canonical")
    assert alone.others == ["city-tax-sales (plain)"]
    together = parcel_rekey_plan(sources=[plain_source, sales], parcel_format="canonical")
    assert not together.blocked
    parcel_rekey_apply(plan=together)
    assert m.TaxSale.objects.get().property.parcel_id == "221-52"


def test_command_is_a_dry_run_until_apply(plain_source, capsys):
    call_command("parcel_rekey", "city-parcels", "--format", "canonical")
    out = capsys.readouterr().out
    assert "city-parcels -> canonical: 2 parcel ids change, 0 stay" in out
    assert "  22152 -> 221-52" in out
    assert "dry run: nothing was changed (add --apply)" in out
    assert m.Property.objects.filter(parcel_id="22152").exists()
    call_command("parcel_rekey", "city-parcels", "--format", "canonical", "--apply")
    assert "renamed 2 parcels" in capsys.readouterr().out
    assert m.Property.objects.filter(parcel_id="221-52").exists()
    with pytest.raises(CommandError, match="no data source with slug nope"):
        call_command("parcel_rekey", "nope", "--format", "canonical")


def test_admin_refuses_a_format_edit_on_a_source_with_stored_parcels(plain_source):
    form_class = modelform_factory(m.DataSource, form=DataSourceForm, fields="__all__")
    data = {**{f: getattr(plain_source, f) for f in ("name", "slug", "kind", "dataset", "url", "where", "county")},
            "field_mapping": '{"parcel_id": "PIN"}', "parcel_format": "canonical", "notes": ""}  # fmt: skip
    form = form_class(data=data, instance=plain_source)
    assert not form.is_valid()
    assert form.errors["parcel_format"][0].startswith("this source has parcels stored under the plain format")
    assert "python manage.py parcel_rekey city-parcels --format canonical" in form.errors["parcel_format"][0]
    fresh = DataSourceFactory(slug="fresh", parcel_format="plain")
    form = form_class(data={**data, "slug": "fresh"}, instance=fresh)
    assert form.is_valid(), form.errors
