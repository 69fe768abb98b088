import pytest

from properties import models as m
from properties.dedupe import DedupeSummary, property_dedupe
from properties.ingest.base import Page, RawRecord
from properties.ingest.loader import ingest_source
from tests.factories import (
    CodeViolationFactory,
    DataSourceFactory,
    PropertyFactory,
    PropertySourceFactory,
    TaxSaleFactory,
)

pytestmark = pytest.mark.django_db


def test_same_parcel_from_two_sources_in_two_forms_is_one_property():
    tax = DataSourceFactory(
        dataset="tax_sales", parcel_format="orange_fl", field_mapping={"preset": "orange_fl_tax_sales"}
    )
    code = DataSourceFactory(
        dataset="code_violations", parcel_format="orange_fl", field_mapping={"preset": "orlando_code_violations"}
    )
    ingest_source(
        source=tax,
        reader=[Page(1, [RawRecord("1", {"USER_PARCEL": "13-23-32-7600-00-070", "USER_TDA_NUM": "2023-4348"})])],
    )
    ingest_source(source=code, reader=[Page(1, [RawRecord("a", {"parcel_id": "322313760000070", "apno": "CE1"})])])
    prop = m.Property.objects.get()
    assert (prop.tax_sales.count(), prop.code_violations.count(), prop.sources.count()) == (1, 1, 2)


def test_same_address_and_zip_merge_into_survivor_with_children_and_provenance():
    survivor = PropertyFactory(street="12 MAIN ST", address_normalized="12 MAIN ST, ORLANDO, FL 32801", owner_name="A")
    dup = PropertyFactory(street="12 MAIN ST", address_normalized="12 MAIN ST, ORLANDO, FL 32801", owner_name="")
    other_zip = PropertyFactory(street="12 MAIN ST", address_normalized="12 MAIN ST, ORLANDO, FL 32801", zip="32803")
    no_street = [PropertyFactory(street="", address_normalized="", zip="32801") for _ in range(2)]
    TaxSaleFactory(property=dup)
    CodeViolationFactory(property=dup)
    PropertySourceFactory(property=dup)
    earlier = PropertyFactory(is_active=False, merged_into=dup)

    summary = property_dedupe()
    assert summary == DedupeSummary(groups=1, merged=1, moved=3)
    dup.refresh_from_db()
    earlier.refresh_from_db()
    assert (dup.is_active, dup.merged_into, earlier.merged_into) == (False, survivor, survivor)
    assert (survivor.tax_sales.count(), survivor.code_violations.count(), survivor.source_records.count()) == (1, 1, 1)
    assert m.Property.objects.filter(is_active=True).count() == 4
    assert other_zip.is_active and all(p.is_active for p in no_street)
    assert property_dedupe() == DedupeSummary()
