"""Owners resolved at ingest (the enrich step), stored, explained, and corrected in a way re-ingest keeps."""

import shutil

import pytest

from properties import models as m
from properties.owner_services import owner_correction_add, owners_recount, owners_resolve
from properties.services import datasource_ingest, properties_enrich
from tests.factories import CodeViolationFactory, DataSourceFactory, PropertyFactory, TaxSaleFactory

pytestmark = pytest.mark.django_db

FIXTURE = "tests/fixtures/files/owner_portfolio.csv"


def _ingest(path):
    source = DataSourceFactory(
        kind="file", dataset="parcels", url=str(path), field_mapping={"preset": "generic_csv"}, enabled=True,
        parcel_format="plain",
    )  # fmt: skip
    datasource_ingest(source_id=source.pk)
    return source


def _groups():
    rows = m.Property.objects.order_by("parcel_id").values_list("parcel_id", "owner__display_name")
    return dict(rows)


def test_three_spellings_at_one_mailing_address_are_one_owner_and_the_others_stay_apart():
    _ingest(FIXTURE)
    summary = properties_enrich().owners

    groups = _groups()
    assert groups == {
        "OW1": "John A Smith",
        "OW2": "John A Smith",
        "OW3": "John A Smith",
        "OW4": "John B Smith",
        "OW5": "Mary Smith",
        "OW6": "Acme Holdings LLC",
        "OW7": "Acme Holdings LLC",
        "OW8": groups["OW8"],
        "OW9": None,
    }
    owners = {o.display_name: o for o in m.Owner.objects.all()}
    john = m.Property.objects.get(parcel_id="OW1").owner
    assert john.property_count == 3
    assert sorted(john.name_forms) == ["John A. Smith", "SMITH JOHN A", "SMITH, JOHN A"]
    assert (john.kind, john.is_corporate, john.is_out_of_state, john.is_estate) == ("individual", False, False, False)
    assert (john.mailing_street, john.mailing_city, john.mailing_state, john.mailing_zip) == (
        "PO BOX 500", "TAMPA", "FL", "33601",
    )  # fmt: skip
    assert any("3 records" in line for line in john.explanation)
    assert owners["John B Smith"].property_count == 1
    assert owners["John B Smith"].is_out_of_state is True  # mails to Georgia for a Florida parcel
    acme = owners["Acme Holdings LLC"]
    assert (acme.kind, acme.is_corporate, acme.is_out_of_state, acme.property_count) == ("company", True, True, 2)
    estate = m.Property.objects.get(parcel_id="OW8").owner
    assert estate.is_estate is True and estate.pk != john.pk  # one person in two capacities is not merged
    assert m.Owner.objects.count() == 5
    assert (summary.owners, summary.written, summary.parcels_changed, summary.unresolved) == (5, 5, 8, 1)


def test_resolving_twice_writes_nothing_the_second_time():
    _ingest(FIXTURE)
    owners_resolve()
    before = list(m.Owner.objects.order_by("pk").values_list("pk", "digest", "updated_at"))

    again = owners_resolve()

    assert (again.written, again.renamed, again.parcels_changed) == (0, 0, 0)
    assert list(m.Owner.objects.order_by("pk").values_list("pk", "digest", "updated_at")) == before


def test_distressed_count_follows_distress_records():
    one = PropertyFactory(owner_name="DOE JANE", owner_mailing_address="PO BOX 7, ORLANDO, FL 32801")
    two = PropertyFactory(owner_name="Jane Doe", owner_mailing_address="PO BOX 7, ORLANDO, FL 32801")
    TaxSaleFactory(property=one)
    CodeViolationFactory(property=two, closed_at=None)
    owners_resolve()
    owner = m.Owner.objects.get()
    assert (owner.property_count, owner.distressed_count) == (2, 2)

    m.CodeViolation.objects.update(closed_at="2026-01-01", opened_at="2025-01-01")
    owners_resolve()
    owner.refresh_from_db()
    assert (owner.property_count, owner.distressed_count) == (2, 1)


def test_a_merge_and_a_split_survive_re_ingest_in_another_spelling(tmp_path):
    path = tmp_path / "parcels.csv"
    shutil.copy(FIXTURE, path)
    _ingest(path)
    owners_resolve()
    owner_correction_add(kind="merge", record_id="OW1", other_record_id="OW8", note="the estate is his")
    owner_correction_add(kind="assign", record_id="OW7", note="a different Acme")
    merged = m.Property.objects.get(parcel_id="OW1").owner_id
    assert m.Property.objects.get(parcel_id="OW8").owner_id == merged
    assert m.Property.objects.get(parcel_id="OW7").owner_id != m.Property.objects.get(parcel_id="OW6").owner_id

    # The county re-exports with other spellings of the same names: the corrections still hold, on the same rows.
    text = (
        path.read_text()
        .replace("SMITH JOHN A,", "Smith John A.,")
        .replace('"Acme Holdings, L.L.C."', "ACME HOLDINGS LLC")
    )
    path.write_text(text)
    _ingest(path)
    owners_resolve()

    assert m.Property.objects.get(parcel_id="OW8").owner_id == merged
    assert m.Property.objects.get(parcel_id="OW1").owner_id == merged
    assert m.Property.objects.get(parcel_id="OW7").owner_id != m.Property.objects.get(parcel_id="OW6").owner_id
    assert set(m.OwnerCorrection.objects.values_list("status", flat=True)) == {"applied"}
    assert any("the estate is his" in line for line in m.Owner.objects.get(pk=merged).explanation)


def test_a_correction_goes_stale_when_the_parcel_is_sold():
    a = PropertyFactory(owner_name="SMITH JOHN A", owner_mailing_address="PO BOX 1, TAMPA, FL 33601")
    b = PropertyFactory(owner_name="SMITH JOHN A", owner_mailing_address="9 OAK AVE, ATLANTA, GA 30301")
    correction = owner_correction_add(kind="merge", record_id=a.parcel_id, other_record_id=b.parcel_id)
    assert correction.status == "applied"
    assert m.Owner.objects.filter(property_count=2).count() == 1

    m.Property.objects.filter(pk=b.pk).update(owner_name="NEW BUYER LLC")
    owners_resolve()

    correction.refresh_from_db()
    assert correction.status == "stale"
    assert m.Property.objects.get(pk=a.pk).owner_id != m.Property.objects.get(pk=b.pk).owner_id


def test_a_correction_naming_an_unknown_parcel_is_refused():
    PropertyFactory(parcel_id="P1")
    with pytest.raises(ValueError, match="No parcel with id NOPE"):
        owner_correction_add(kind="merge", record_id="P1", other_record_id="NOPE")
    with pytest.raises(ValueError, match="names two parcels"):
        owner_correction_add(kind="split", record_id="P1")
    assert m.OwnerCorrection.objects.count() == 0


def test_a_re_keyed_owner_keeps_its_row():
    PropertyFactory(parcel_id="R1", owner_name="SMITH JOHN", owner_mailing_address="PO BOX 1, TAMPA, FL 33601")
    owners_resolve()
    row = m.Owner.objects.get()
    PropertyFactory(parcel_id="R2", owner_name="SMITH JOHN ALAN", owner_mailing_address="PO BOX 1, TAMPA, FL 33601")

    summary = owners_resolve()

    assert summary.renamed == 1
    owner = m.Owner.objects.get()
    assert (owner.pk, owner.property_count) == (row.pk, 2)
    assert owner.key != row.key


def test_the_command_resolves_and_says_what_it_did():
    from io import StringIO

    from django.core.management import call_command

    PropertyFactory(owner_name="SMITH JOHN A", owner_mailing_address="PO BOX 1, TAMPA, FL 33601")
    PropertyFactory(owner_name="John A. Smith", owner_mailing_address="PO BOX 1, TAMPA, FL 33601")
    out = StringIO()
    call_command("resolve_owners", stdout=out)
    assert out.getvalue() == "1 owners (1 written, 0 re-keyed), 2 parcels re-assigned, 0 without a known owner\n"


def _owner_rows():
    return {
        digest: (pk, updated_at, count)
        for pk, digest, updated_at, count in m.Owner.objects.values_list("pk", "digest", "updated_at", "property_count")
    }


def test_a_night_with_one_sale_writes_only_the_owners_it_changes():
    _ingest(FIXTURE)
    owners_resolve()
    before = _owner_rows()
    john_b = m.Property.objects.get(parcel_id="OW4").owner

    # OW4 (John B Smith, alone at his Atlanta address) is sold to Mary Smith, who mails from Tampa.
    m.Property.objects.filter(parcel_id="OW4").update(
        owner_name="SMITH MARY", owner_mailing_address="PO BOX 500, TAMPA, FL 33601"
    )
    summary = owners_resolve()

    after = _owner_rows()
    mary = m.Property.objects.get(parcel_id="OW5").owner
    assert m.Property.objects.get(parcel_id="OW4").owner_id == mary.pk
    assert (summary.written, summary.renamed, summary.parcels_changed) == (1, 0, 1)
    # Only Mary's row was rewritten (her explanation now says 2 records); John B keeps his row, now without parcels.
    changed = {digest for digest in before if after[digest][1] != before[digest][1]}
    assert changed == {mary.digest}
    assert set(after) == set(before)
    assert after[mary.digest][2] == 2
    assert after[john_b.digest][2] == 0
    assert mary.explanation[0] == "2 records as \"SMITH, MARY\" at PO BOX 500, TAMPA, FL 33601 (written 'SMITH MARY')."

    again = owners_resolve()
    assert (again.written, again.renamed, again.parcels_changed) == (0, 0, 0)
    assert _owner_rows() == after


def test_recount_reports_each_count_it_changed():
    one = PropertyFactory(owner_name="DOE JANE", owner_mailing_address="PO BOX 7, ORLANDO, FL 32801")
    PropertyFactory(owner_name="Jane Doe", owner_mailing_address="PO BOX 7, ORLANDO, FL 32801")
    owners_resolve()
    assert owners_recount() == 0

    TaxSaleFactory(property=one)
    m.Owner.objects.update(property_count=5)
    assert owners_recount() == 2  # property_count back to 2, distressed_count up to 1: one owner, two counts
    owner = m.Owner.objects.get()
    assert (owner.property_count, owner.distressed_count) == (2, 1)
    assert owners_recount() == 0
