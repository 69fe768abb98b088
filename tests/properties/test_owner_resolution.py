"""Owner resolution: parcels grouped into owners by name key and mailing address, conservatively, with reasons.
Pure: no database."""

import random

import pytest

from properties.normalize import normalize_address
from properties.owners import MailingAddress, OwnerKind, OwnerRecord, Unresolved, carry_over, resolve_owners

MAIN = MailingAddress("123 N MAIN ST", "ORLANDO", "FL", "32801")
OAK = MailingAddress("9 OAK AVE", "TAMPA", "FL", "33602")
AGENT = MailingAddress("1200 S PINE ISLAND RD STE 250", "PLANTATION", "FL", "33324")  # a registered agent's
ATLANTA = MailingAddress("PO BOX 55", "ATLANTA", "GA", "30301")


def records(*rows):
    """OwnerRecords from (record_id, owner name, mailing) rows; parcels in Florida."""
    return [OwnerRecord(rid, name, mailing, "FL") for rid, name, mailing in rows]


def groups(resolution):
    return sorted(owner.record_ids for owner in resolution.owners)


def owner_of(resolution, record_id):
    return next(o for o in resolution.owners if record_id in o.record_ids)


def test_issue_20_done_when_three_spellings_at_one_address_are_one_owner_and_john_b_elsewhere_is_not():
    result = resolve_owners(
        records(
            ("P1", "SMITH JOHN A", MAIN),
            ("P2", "John A. Smith", MAIN),
            ("P3", "SMITH, JOHN A", MAIN),
            ("P4", "SMITH JOHN B", OAK),
        )
    )
    assert groups(result) == [("P1", "P2", "P3"), ("P4",)]
    john_a = owner_of(result, "P1")
    assert john_a.key == "person:SMITH|JOHN|A|@123 N MAIN ST|32801"
    assert (john_a.kind, john_a.display_name, john_a.property_count) == (OwnerKind.INDIVIDUAL, "John A Smith", 3)
    assert john_a.mailing == MAIN
    assert john_a.name_forms == ("John A. Smith", "SMITH JOHN A", "SMITH, JOHN A")
    assert john_a.explanation == (
        "3 records as \"SMITH, JOHN A\" at 123 N MAIN ST, ORLANDO, FL 32801 (written 'John A. Smith', 'SMITH JOHN A').",
    )
    assert owner_of(result, "P4").key == "person:SMITH|JOHN|B|@9 OAK AVE|33602"
    assert result.owner_key_of("P2") == john_a.key
    assert result.unresolved == () and result.corrections == ()


def test_john_b_at_the_same_address_is_not_joined_either():
    result = resolve_owners(records(("P1", "SMITH JOHN A", MAIN), ("P2", "SMITH JOHN B", MAIN)))
    assert groups(result) == [("P1",), ("P2",)]


def test_a_missing_middle_initial_joins_the_one_full_name_at_the_same_address():
    result = resolve_owners(
        records(("P1", "SMITH JOHN A", MAIN), ("P2", "SMITH JOHN", MAIN), ("P3", "John Smith", MAIN))
    )
    assert groups(result) == [("P1", "P2", "P3")]
    owner = result.owners[0]
    assert owner.key == "person:SMITH|JOHN|A|@123 N MAIN ST|32801"  # the most complete name names the owner
    assert owner.explanation == (
        "1 record as \"SMITH, JOHN A\" at 123 N MAIN ST, ORLANDO, FL 32801 (written 'SMITH JOHN A').",
        "2 records as \"SMITH, JOHN\" at 123 N MAIN ST, ORLANDO, FL 32801 (written 'John Smith', 'SMITH JOHN').",
        '"SMITH, JOHN" joined "SMITH, JOHN A" at the same mailing address: a less complete form of that name '
        "(a middle name, designator or trustee left out), and the only name there it fits.",
    )


def test_a_missing_middle_initial_that_fits_two_people_joins_neither_and_says_so():
    result = resolve_owners(
        records(("P1", "SMITH JOHN A", MAIN), ("P2", "SMITH JOHN B", MAIN), ("P3", "SMITH JOHN", MAIN))
    )
    assert groups(result) == [("P1",), ("P2",), ("P3",)]
    assert '"SMITH, JOHN" was not joined: at this mailing address it could be "SMITH, JOHN A" or "SMITH, JOHN B".' in (
        owner_of(result, "P3").explanation
    )


def test_a_missing_middle_initial_at_another_address_is_not_joined():
    result = resolve_owners(records(("P1", "SMITH JOHN A", MAIN), ("P2", "SMITH JOHN", OAK)))
    assert groups(result) == [("P1",), ("P2",)]


def test_an_initial_joins_the_one_middle_name_it_abbreviates():
    result = resolve_owners(records(("P1", "SMITH JOHN ALAN", MAIN), ("P2", "SMITH JOHN A", MAIN)))
    assert groups(result) == [("P1", "P2")]
    both = resolve_owners(
        records(("P1", "SMITH JOHN ALAN", MAIN), ("P2", "SMITH JOHN A", MAIN), ("P3", "SMITH JOHN ANDREW", MAIN))
    )
    assert groups(both) == [("P1",), ("P2",), ("P3",)]


@pytest.mark.parametrize(
    ("a", "b", "same_address"),
    [
        ("SMITH JOHN A", "SMITH JOHN A JR", True),  # father and son
        ("SMITH JOHN", "SMITH JOHN JR", True),
        ("SMITH JOHN A JR", "SMITH JOHN A SR", True),
        ("SMITH JOHN A", "SMITH MARY B", True),  # a shared surname
        ("SMITH JOHN A", "SMITH JOHN A & MARY B", True),
        ("SMITH JOHN A", "SMITH JOHN A TR", True),  # one person in two capacities: a broker merges
        ("SMITH JOHN A", "EST OF JOHN A SMITH", True),
        ("SMITH JOHN A TR", "JOHN A SMITH REVOCABLE TRUST", True),
        ("ACME HOLDINGS LLC", "ACME PROPERTIES LLC", True),  # two LLCs at one registered agent
        ("ACME HOLDINGS LLC", "ACME HOLDINGS INC", True),
        ("SMITH JOHN", "SMITH J", True),
        ("SMITH ROBERT", "SMITH BOB", True),
        ("SMITH JOHN A", "SMITH JOHN A", False),  # the same name at two addresses
        ("ACME HOLDINGS LLC", "ACME HOLDINGS LLC", False),
    ],
)
def test_never_merged_automatically(a, b, same_address):
    result = resolve_owners(records(("P1", a, AGENT), ("P2", b, AGENT if same_address else OAK)))
    assert groups(result) == [("P1",), ("P2",)]


def test_company_spellings_merge_and_a_bare_name_joins_the_one_company_it_fits():
    rows = [("P1", "ACME HOLDINGS LLC", AGENT), ("P2", "Acme Holdings, L.L.C.", AGENT),
            ("P3", "ACME HOLDINGS LIMITED LIABILITY COMPANY", AGENT), ("P4", "ACME HOLDINGS", AGENT),
            ("P5", "ZENITH CAPITAL LLC", AGENT)]  # fmt: skip
    result = resolve_owners(records(*rows))
    assert groups(result) == [("P1", "P2", "P3", "P4"), ("P5",)]
    acme = owner_of(result, "P1")
    assert (acme.key, acme.display_name, acme.is_corporate) == (
        "company:ACME HOLDINGS LLC@1200 S PINE ISLAND RD STE 250|33324",
        "Acme Holdings LLC",
        True,
    )
    two = resolve_owners(records(*rows, ("P6", "ACME HOLDINGS INC", AGENT)))
    assert groups(two) == [("P1", "P2", "P3"), ("P4",), ("P5",), ("P6",)]


def test_a_trust_named_without_its_trustee_joins_the_one_trust_of_that_name_at_the_address():
    result = resolve_owners(
        records(
            ("P1", "SMITH JOHN A TR OF THE SMITH FAMILY TRUST", MAIN),
            ("P2", "SMITH FAMILY TRUST", MAIN),
            ("P3", "SMITH FAMILY TR DTD 5/1/1999", MAIN),
            ("P4", "SMITH JOHN A TR", MAIN),  # a trustee of some unnamed trust: not the family trust
        )
    )
    assert groups(result) == [("P1", "P2", "P3"), ("P4",)]
    assert owner_of(result, "P1").display_name == "Smith Family Trust (John A Smith, trustee)"


def test_joint_owners_with_and_without_middle_initials_join():
    result = resolve_owners(records(("P1", "SMITH JOHN A & MARY B", MAIN), ("P2", "JOHN & MARY SMITH", MAIN)))
    assert groups(result) == [("P1", "P2")]
    assert owner_of(result, "P1").kind == OwnerKind.JOINT


def test_without_a_mailing_address_people_stay_apart_and_organizations_group_by_name():
    result = resolve_owners(
        records(
            ("P1", "SMITH JOHN A", None),
            ("P2", "SMITH JOHN A", None),
            ("P3", "ORANGE COUNTY", None),
            ("P4", "ORANGE COUNTY", None),
            ("P5", "ACME HOLDINGS LLC", None),
            ("P6", "Acme Holdings LLC", MailingAddress("")),
        )
    )
    assert groups(result) == [("P1",), ("P2",), ("P3", "P4"), ("P5", "P6")]
    assert owner_of(result, "P1").key == "person:SMITH|JOHN|A|@record:P1"
    assert owner_of(result, "P1").mailing is None
    assert "No mailing address: a person's name alone does not group parcels." in owner_of(result, "P1").explanation
    assert owner_of(result, "P3").key == "government:ORANGE COUNTY@"


def test_unknown_and_withheld_names_are_not_owners():
    result = resolve_owners(
        records(
            ("P1", "", MAIN),
            ("P2", "UNKNOWN", MAIN),
            ("P3", "CONFIDENTIAL PER F.S. 119.07", MAIN),
            ("P4", "SMITH JOHN A", MAIN),
        )
    )
    assert groups(result) == [("P4",)]
    assert result.unresolved == (
        Unresolved("P1", "owner name is blank"),
        Unresolved("P2", "owner name says nothing about the owner ('UNKNOWN')"),
        Unresolved("P3", "owner name is withheld by the source ('CONFIDENTIAL PER F.S. 119.07')"),
    )
    assert result.owner_key_of("P2") is None


def test_out_of_state_is_per_parcel_and_flags_the_owner():
    result = resolve_owners(
        [
            OwnerRecord("P1", "ACME HOLDINGS LLC", ATLANTA, "FL"),
            OwnerRecord("P2", "ACME HOLDINGS LLC", ATLANTA, "GA"),
            OwnerRecord("P3", "ACME HOLDINGS LLC", ATLANTA, ""),  # the parcel's state unknown: not flagged
            OwnerRecord("P4", "SMITH JOHN A", MAIN, "fl"),
        ]
    )
    acme, smith = owner_of(result, "P1"), owner_of(result, "P4")
    assert (acme.out_of_state_record_ids, acme.is_out_of_state) == (("P1",), True)
    assert (smith.out_of_state_record_ids, smith.is_out_of_state) == ((), False)


def test_indicators_and_the_other_owners_of_the_same_name():
    result = resolve_owners(
        records(
            ("P1", "SMITH JOHN A DECD", MAIN),
            ("P2", "EST OF JOHN A SMITH", MAIN),
            ("P3", "SMITH JOHN A EST", OAK),
            ("P4", "FANNIE MAE", ATLANTA),
            ("P5", "WELLS FARGO BANK NA AS TRUSTEE", ATLANTA),
        )
    )
    estate = owner_of(result, "P1")
    assert (estate.record_ids, estate.kind, estate.is_estate, estate.display_name) == (
        ("P1", "P2"), OwnerKind.ESTATE, True, "Estate of John A Smith"
    )  # fmt: skip
    # The same name at OAK is another owner; the explanation does not say so (other blocks' news, which would
    # rewrite every owner of a common name): the owner page counts and links them.
    assert owner_of(result, "P3") != estate and not any("elsewhere" in line for line in estate.explanation)
    fannie, wells = owner_of(result, "P4"), owner_of(result, "P5")
    assert (fannie.is_government, fannie.is_bank, fannie.is_corporate) == (True, True, False)
    assert (wells.is_bank, wells.is_trust, wells.is_corporate, wells.kind) == (True, True, True, OwnerKind.COMPANY)


def test_the_mailing_address_stored_by_ingest_reads_back_to_the_same_key():
    stored = normalize_address("123 North Main Street Apt 4", "Orlando", "fl", "32801-1234")
    from_line = MailingAddress.from_line(stored.normalized)
    assert from_line == MailingAddress("123 N MAIN ST APT 4", "ORLANDO", "FL", "32801")
    assert from_line.key == MailingAddress(" ".join((stored.street, stored.unit)), "Orlando", "FL", "32801").key
    assert MailingAddress.from_line("PO BOX 55, ATLANTA, GA 30301") == ATLANTA
    assert MailingAddress.from_line("SOMEWHERE UNPARSED") == MailingAddress("SOMEWHERE UNPARSED")
    assert MailingAddress.from_line("1 RUE DE RIVOLI, PARIS") == MailingAddress("1 RUE DE RIVOLI", "PARIS")
    assert MailingAddress.from_line("  ") is None
    assert MailingAddress("PO BOX 55", "ATLANTA", "GA").key == "PO BOX 55|ATLANTA|GA"  # no zip: city and state


def test_record_ids_must_be_unique():
    with pytest.raises(ValueError, match="record id 'P1' is given twice"):
        resolve_owners(records(("P1", "SMITH JOHN A", MAIN), ("P1", "SMITH JOHN A", OAK)))


def test_the_result_does_not_depend_on_the_order_of_the_records():
    rows = records(*[(f"P{i}", name, addr) for i, (name, addr) in enumerate([
        ("SMITH JOHN A", MAIN), ("SMITH JOHN", MAIN), ("SMITH JOHN ALAN", MAIN), ("John A. Smith", MAIN),
        ("SMITH JOHN B", OAK), ("SMITH JOHN", OAK), ("SMITH JOHN C", OAK), ("ACME HOLDINGS", AGENT),
        ("ACME HOLDINGS LLC", AGENT), ("UNKNOWN", AGENT), ("SMITH FAMILY TRUST", MAIN),
    ])])  # fmt: skip
    expected = resolve_owners(rows)
    for seed in range(5):
        shuffled = list(rows)
        random.Random(seed).shuffle(shuffled)
        assert resolve_owners(shuffled) == expected


def test_continuity_renames_an_owner_whose_key_changed():
    before = resolve_owners(records(("P1", "SMITH JOHN", MAIN), ("P2", "SMITH JOHN", MAIN)))
    previous = {r: o.key for o in before.owners for r in o.record_ids}
    after = resolve_owners(
        records(("P1", "SMITH JOHN", MAIN), ("P2", "SMITH JOHN", MAIN), ("P3", "SMITH JOHN ALAN", MAIN))
    )
    assert groups(after) == [("P1", "P2", "P3")]
    assert carry_over(previous, after.owners) == {
        "person:SMITH|JOHN|ALAN|@123 N MAIN ST|32801": "person:SMITH|JOHN||@123 N MAIN ST|32801"
    }
    assert carry_over(previous, before.owners) == {}  # nothing re-keyed


def test_continuity_after_a_merge_keeps_the_owner_with_most_parcels_and_leaves_the_other_to_fold():
    previous = {"P1": "a", "P2": "a", "P3": "b", "P4": "c"}
    merged = resolve_owners(records(("P1", "SMITH JOHN A", MAIN), ("P2", "SMITH JOHN A", MAIN),
                                    ("P3", "SMITH JOHN", MAIN), ("P4", "JONES MARY", OAK)))  # fmt: skip
    assert carry_over(previous, merged.owners) == {
        "person:SMITH|JOHN|A|@123 N MAIN ST|32801": "a",
        "person:JONES|MARY||@9 OAK AVE|33602": "c",
    }


@pytest.mark.parametrize("street", ["P.O. BOX 500", "P O BOX 500", "POST OFFICE BOX 500", "PO BX 500", "PO BOX #500"])
def test_po_box_spellings_left_by_ingest_are_one_mailing_address(street):
    """Regression: ingest stores "P.O. BOX 500" as the source wrote it, so the key must read it as "PO BOX 500"."""
    records = [
        OwnerRecord("1", "SMITH JOHN A", MailingAddress("PO BOX 500", "TAMPA", "FL", "33601")),
        OwnerRecord("2", "John A. Smith", MailingAddress(street, "TAMPA", "FL", "33601")),
    ]
    (owner,) = resolve_owners(records).owners
    assert owner.record_ids == ("1", "2")


def test_a_street_starting_with_box_is_not_a_po_box():
    assert MailingAddress("BOXWOOD LN", zip="33601").key == "BOXWOOD LN|33601"
    assert MailingAddress("12 BOX ELDER RD", zip="33601").key == "12 BOX ELDER RD|33601"
