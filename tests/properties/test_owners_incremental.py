"""A night resolves again only the blocks of what changed (properties.owner_services): what it stores is what
resolving every parcel stores, night after night of sales, new mailing addresses, merges, deleted owners and
corrections added and taken back."""

import random

import pytest

from properties import models as m
from properties.owner_services import RESOLVER_VERSION, owner_correction_add, owner_corrections_delete, owners_resolve
from tests.factories import PropertyFactory

pytestmark = pytest.mark.django_db

NAMES = ["SMITH JOHN A", "John A. Smith", "SMITH JOHN", "SMITH JOHN B", "SMITH JOHN ALAN", "SMITH MARY",
         "SMITH JOHN A & MARY B", "ACME HOLDINGS LLC", "Acme Holdings, L.L.C.", "ACME HOLDINGS", "SMITH FAMILY TRUST",
         "SMITH JOHN A TR OF THE SMITH FAMILY TRUST", "EST OF JOHN A SMITH", "ORANGE COUNTY", "UNKNOWN",
         ""]  # fmt: skip
MAILING = ["PO BOX 1, TAMPA, FL 33601", "9 OAK AVE, ATLANTA, GA 30301", "123 N MAIN ST, ORLANDO, FL 32801", ""]
# Enough blocks that a night leaves most of them alone.
MANY = [*MAILING, *(f"PO BOX {n}, MIAMI, FL 33101" for n in range(2, 14))]


def _parcel(rng: random.Random, n: int) -> m.Property:
    return PropertyFactory(
        parcel_id=f"P{n:03d}",
        owner_name=rng.choice(NAMES),
        owner_mailing_address=rng.choice(MANY),
        state=rng.choice(["FL", "GA"]),
    )


def _stored():
    parcels = dict(m.Property.objects.filter(is_active=True).values_list("parcel_id", "owner__key"))
    rows = m.Owner.objects.filter(property_count__gt=0).values_list("digest", "explanation", "property_count")
    owners = {(digest, tuple(explanation), count) for digest, explanation, count in rows}
    return parcels, owners, list(m.OwnerCorrection.objects.order_by("pk").values_list("status", "status_reason"))


def _night(rng: random.Random, parcels: list[m.Property], n: int) -> None:
    """A few changes of every kind, written as ingest and dedupe write them (UPDATEs that stamp nothing)."""
    active = [p for p in parcels if m.Property.objects.filter(pk=p.pk, is_active=True).exists()]
    for p in rng.sample(active, 3):  # sold, or the county re-spells the name
        m.Property.objects.filter(pk=p.pk).update(owner_name=rng.choice(NAMES))
    for p in rng.sample(active, 2):  # a new mailing address
        m.Property.objects.filter(pk=p.pk).update(owner_mailing_address=rng.choice(MANY))
    gone, survivor = rng.sample(active, 2)  # merged by dedupe
    m.Property.objects.filter(pk=gone.pk).update(is_active=False, merged_into=survivor)
    parcels.append(_parcel(rng, n))
    if rng.random() < 0.5:  # an owner row deleted by hand
        m.Owner.objects.filter(pk=rng.choice(active).owner_id).delete()


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_night_after_night_the_blocks_of_what_changed_give_what_everything_gives(seed, monkeypatch):
    """Each night in chunks of a few records (whole blocks), then everything at once."""
    rng = random.Random(seed)
    parcels = [_parcel(rng, n) for n in range(60)]
    assert owners_resolve().resolved == 60  # nothing resolved before: every parcel
    for night in range(5):
        _night(rng, parcels, 60 + night)
        with monkeypatch.context() as small:
            small.setattr("properties.owner_services.CHUNK_RECORDS", 5)
            assert owners_resolve().resolved > 5  # in several chunks
            ids = list(m.Property.objects.filter(is_active=True).values_list("parcel_id", flat=True))
            if night % 2 == 0:  # resolves its blocks at once
                a, b = rng.sample(ids, 2)
                owner_correction_add(kind=rng.choice(["merge", "split", "assign"]), record_id=a, other_record_id=b)
            elif m.OwnerCorrection.objects.exists():
                first = m.OwnerCorrection.objects.order_by("pk").first()
                owner_corrections_delete(corrections=m.OwnerCorrection.objects.filter(pk=first.pk))
            tonight = owners_resolve()
        stored = _stored()

        everything = owners_resolve(everything=True)

        assert (everything.written, everything.renamed, everything.parcels_changed) == (0, 0, 0), f"night {night}"
        assert _stored() == stored
        assert (tonight.owners, tonight.unresolved) == (everything.owners, everything.unresolved)


def test_a_night_with_one_sale_resolves_only_the_blocks_it_touches():
    for n in range(5):
        PropertyFactory(parcel_id=f"T{n}", owner_name=f"TAMPA OWNER {n} LLC", owner_mailing_address=MAILING[0])
        PropertyFactory(parcel_id=f"A{n}", owner_name=f"ATLANTA OWNER {n} LLC", owner_mailing_address=MAILING[1])
        PropertyFactory(parcel_id=f"O{n}", owner_name=f"ORLANDO OWNER {n} LLC", owner_mailing_address=MAILING[2])
    owners_resolve()
    assert owners_resolve().resolved == 0  # nothing changed: nothing read again

    m.Property.objects.filter(parcel_id="T0").update(owner_name="NEW BUYER LLC", owner_mailing_address=MAILING[1])
    summary = owners_resolve()

    assert summary.resolved == 10  # the Tampa block it left and the Atlanta block it joined, not Orlando's
    assert (summary.renamed, summary.owners) == (1, 15)  # the row goes on under the buyer's key (continuity)
    assert m.Property.objects.get(parcel_id="T0").owner.display_name == "New Buyer LLC"


def test_a_parcel_merged_away_leaves_its_block_to_be_resolved_again():
    for n in range(3):
        PropertyFactory(parcel_id=f"D{n}", owner_name="DOE JANE", owner_mailing_address=MAILING[0])
    owners_resolve()
    m.Property.objects.filter(parcel_id="D2").update(
        is_active=False, merged_into=m.Property.objects.get(parcel_id="D0")
    )

    assert owners_resolve().resolved == 2
    owner = m.Property.objects.get(parcel_id="D0").owner
    assert owner.property_count == 2 and owner.explanation[0].startswith("2 records")
    assert not m.OwnerInput.objects.filter(property__parcel_id="D2").exists()  # resolved afresh if it comes back


def test_parcels_whose_owner_row_was_deleted_get_one_again():
    for n in range(2):
        PropertyFactory(parcel_id=f"X{n}", owner_name="DOE JANE", owner_mailing_address=MAILING[0])
    PropertyFactory(parcel_id="Y0", owner_name="ROE RICHARD", owner_mailing_address=MAILING[1])
    owners_resolve()
    m.Owner.objects.filter(display_name="Jane Doe").delete()  # the parcels' owner is set to NULL

    summary = owners_resolve()

    assert (summary.resolved, summary.parcels_changed, summary.unresolved) == (2, 2, 0)
    assert set(m.Property.objects.values_list("owner__property_count", flat=True)) == {2, 1}


def test_taking_a_correction_back_restores_the_automatic_grouping():
    PropertyFactory(parcel_id="M1", owner_name="SMITH JOHN A", owner_mailing_address=MAILING[0])
    PropertyFactory(parcel_id="M2", owner_name="SMITH JOHN A", owner_mailing_address=MAILING[1])
    correction = owner_correction_add(kind="merge", record_id="M1", other_record_id="M2")
    assert m.Owner.objects.filter(property_count=2).count() == 1

    assert owner_corrections_delete(corrections=m.OwnerCorrection.objects.filter(pk=correction.pk)) == 1

    assert not m.OwnerCorrection.objects.exists()
    owners = m.Property.objects.filter(parcel_id__in=["M1", "M2"]).values_list("owner__property_count", flat=True)
    assert sorted(owners) == [1, 1]


def test_a_new_resolver_version_resolves_every_parcel_again(monkeypatch):
    for n in range(3):
        PropertyFactory(parcel_id=f"V{n}", owner_name="SMITH MARY", owner_mailing_address=MAILING[n])
    owners_resolve()
    monkeypatch.setattr("properties.owner_services.RESOLVER_VERSION", RESOLVER_VERSION + 1)
    assert owners_resolve().resolved == 3
    assert owners_resolve().resolved == 0
