"""A broker's merge / split / move corrections applied on top of automatic owner grouping: deterministic, and
reproduced by every re-ingest while the parcels keep their owner names. Pure: no database."""

import pytest

from properties.owners import (
    Assign,
    CorrectionOutcome,
    MailingAddress,
    Merge,
    OwnerRecord,
    RecordRef,
    Split,
    parse_owner_name,
    resolve_owners,
)

MAIN = MailingAddress("123 N MAIN ST", "ORLANDO", "FL", "32801")
OAK = MailingAddress("9 OAK AVE", "TAMPA", "FL", "33602")


def records(*rows):
    return [OwnerRecord(rid, name, mailing, "FL") for rid, name, mailing in rows]


def ref(record_id, owner_name):
    """What the admin stores: the parcel and the key of its owner name when the broker acted."""
    return RecordRef(record_id, parse_owner_name(owner_name).key)


def groups(resolution):
    return sorted(owner.record_ids for owner in resolution.owners)


def owner_of(resolution, record_id):
    return next(o for o in resolution.owners if record_id in o.record_ids)


def test_merge_survives_reingest_with_new_spellings_and_new_parcels_follow():
    merge = Merge(1, ref("P1", "SMITH JOHN A"), ref("P2", "SMITH JOHN A"), "moved; same person")
    first = resolve_owners(records(("P1", "SMITH JOHN A", MAIN), ("P2", "SMITH JOHN A", OAK)), corrections=[merge])
    assert groups(first) == [("P1", "P2")]
    assert first.corrections == (
        CorrectionOutcome(1, "applied", "Correction #1: records P1 and P2 are one owner (moved; same person)."),
    )
    # re-ingest: the source now spells the names differently and a third parcel of the same man appears at OAK
    again = resolve_owners(
        records(("P1", "John A. Smith", MAIN), ("P2", "SMITH, JOHN A", OAK), ("P3", "SMITH JOHN A", OAK)),
        corrections=[merge],
    )
    assert groups(again) == [("P1", "P2", "P3")]
    assert "Correction #1: records P1 and P2 are one owner (moved; same person)." in again.owners[0].explanation


def test_split_of_two_people_with_one_name_at_one_address():
    rows = records(("P1", "SMITH JOHN", MAIN), ("P2", "SMITH JOHN", MAIN), ("P3", "SMITH JOHN", MAIN))
    assert groups(resolve_owners(rows)) == [("P1", "P2", "P3")]
    split = Split(7, ref("P1", "SMITH JOHN"), ref("P3", "SMITH JOHN"), "father and son")
    result = resolve_owners(rows, corrections=[split])
    assert groups(result) == [("P1", "P2"), ("P3",)]  # the unnamed P2 follows the first remaining link
    assert [o.key for o in result.owners] == [
        "person:SMITH|JOHN||@123 N MAIN ST|32801",
        "person:SMITH|JOHN||@123 N MAIN ST|32801#P3",  # one name, one address, two owners: keys stay unique
    ]
    assert owner_of(result, "P3").explanation[-2:] == (
        "Kept apart by correction #7: same owner name and mailing address.",
        "Correction #7: records P1 and P3 are different owners (father and son).",
    )
    assert resolve_owners(list(reversed(rows)), corrections=[split]) == result  # a re-ingest reproduces it


def test_split_undoes_an_automatic_join_of_a_less_complete_name():
    rows = records(("P1", "SMITH JOHN A", MAIN), ("P2", "SMITH JOHN", MAIN))
    result = resolve_owners(rows, corrections=[Split(3, ref("P2", "SMITH JOHN"), ref("P1", "SMITH JOHN A"))])
    assert groups(result) == [("P1",), ("P2",)]
    assert any(
        line.startswith('Kept apart by correction #3: "SMITH, JOHN" joined') for line in result.owners[0].explanation
    )


def test_assign_moves_one_parcel_and_leaves_its_namesakes():
    rows = records(("P1", "SMITH JOHN", MAIN), ("P2", "SMITH JOHN", MAIN), ("P3", "JONES MARY", OAK))
    move = Assign(4, ref("P2", "SMITH JOHN"), owner_of=ref("P3", "JONES MARY"), note="her rental, old deed")
    result = resolve_owners(rows, corrections=[move])
    assert groups(result) == [("P1",), ("P2", "P3")]
    assert owner_of(result, "P2").name.key == "person:JONES|MARY||"  # one parcel each: the first key names it
    alone = resolve_owners(rows, corrections=[Assign(5, ref("P2", "SMITH JOHN"))])
    assert groups(alone) == [("P1",), ("P2",), ("P3",)]
    assert "Correction #5: record P2 is an owner of its own." in owner_of(alone, "P2").explanation


def test_a_correction_goes_stale_when_the_parcel_changes_hands_and_grouping_returns_to_automatic():
    merge = Merge(1, ref("P1", "SMITH JOHN A"), ref("P2", "SMITH JOHN A"))
    sold = resolve_owners(records(("P1", "SMITH JOHN A", MAIN), ("P2", "ACME HOLDINGS LLC", OAK)), corrections=[merge])
    assert groups(sold) == [("P1",), ("P2",)]
    assert sold.corrections == (
        CorrectionOutcome(1, "stale", "the owner name on record P2 changed since the correction"),
    )
    gone = resolve_owners(records(("P1", "SMITH JOHN A", MAIN)), corrections=[merge])
    assert gone.corrections == (
        CorrectionOutcome(1, "stale", "record P2 is no longer in the data (or its owner name is unknown)"),
    )
    twice = resolve_owners(records(("P1", "SMITH JOHN A", MAIN)), corrections=[Split(2, merge.a, merge.a)])
    assert twice.corrections == (CorrectionOutcome(2, "stale", "names record P1 twice"),)


def test_the_newer_correction_wins_a_contradiction():
    rows = records(("P1", "SMITH JOHN A", MAIN), ("P2", "SMITH JOHN A", OAK))
    a, b = ref("P1", "SMITH JOHN A"), ref("P2", "SMITH JOHN A")
    split_then_merge = resolve_owners(rows, corrections=[Split(1, a, b), Merge(2, a, b)])
    assert groups(split_then_merge) == [("P1", "P2")]
    assert split_then_merge.corrections[0] == CorrectionOutcome(
        1, "conflict", "a newer correction puts these records together"
    )
    merge_then_split = resolve_owners(rows, corrections=[Merge(1, a, b), Split(2, a, b)])
    assert groups(merge_then_split) == [("P1",), ("P2",)]
    assert merge_then_split.corrections[0] == CorrectionOutcome(
        1, "conflict", "a newer correction keeps these owners apart"
    )
    moved_twice = resolve_owners(rows, corrections=[Assign(1, a, b), Assign(2, a)])
    assert moved_twice.corrections[0] == CorrectionOutcome(1, "conflict", "newer correction #2 placed this record")
    assert groups(moved_twice) == [("P1",), ("P2",)]


def test_a_merge_through_a_third_owner_respects_a_split():
    rows = records(("P1", "SMITH JOHN A", MAIN), ("P2", "SMITH JOHN A", OAK), ("P3", "SMITH J A", OAK))
    a, b, c = ref("P1", "SMITH JOHN A"), ref("P2", "SMITH JOHN A"), ref("P3", "SMITH J A")
    result = resolve_owners(rows, corrections=[Merge(1, a, c), Merge(2, b, c), Split(3, a, b)])
    assert groups(result) == [("P1",), ("P2", "P3")]
    assert [o.status for o in result.corrections] == ["conflict", "applied", "applied"]


@pytest.mark.parametrize("order", [[0, 1, 2], [2, 1, 0], [1, 2, 0]])
def test_corrections_apply_by_sequence_not_by_list_order(order):
    rows = records(("P1", "SMITH JOHN", MAIN), ("P2", "SMITH JOHN", MAIN), ("P3", "SMITH JOHN", OAK))
    p1, p2, p3 = ref("P1", "SMITH JOHN"), ref("P2", "SMITH JOHN"), ref("P3", "SMITH JOHN")
    corrections = [Split(1, p1, p2), Merge(2, p2, p3), Assign(3, p1, p3)]
    result = resolve_owners(rows, corrections=[corrections[i] for i in order])
    assert groups(result) == [("P1", "P2", "P3")]  # #3 (newest) joins P1 to P3's owner; #2 joined P2 to it: #1 loses
    assert [o.status for o in result.corrections] == ["conflict", "applied", "applied"]


def test_an_older_merge_does_not_pull_back_a_parcel_a_newer_correction_split_off():
    """Regression: Merge(1, 3) then Assign(3, own owner) left 3 merged: the older merge re-joined it."""
    from properties.owners import Assign, MailingAddress, Merge, OwnerRecord, RecordRef, resolve_owners

    box, oak = MailingAddress("PO BOX 1", zip="33601"), MailingAddress("9 OAK AVE", zip="30301")
    records = [OwnerRecord("1", "SMITH JOHN A", box), OwnerRecord("2", "SMITH JOHN A", box),
               OwnerRecord("3", "SMITH JOHN A", oak)]  # fmt: skip
    key = "person:SMITH|JOHN|A|"
    merge = Merge(1, RecordRef("1", key), RecordRef("3", key))
    split_off = Assign(2, RecordRef("3", key), None)

    resolution = resolve_owners(records, corrections=[merge, split_off])

    assert sorted(o.record_ids for o in resolution.owners) == [("1", "2"), ("3",)]
    assert [(o.seq, o.status) for o in resolution.corrections] == [(1, "conflict"), (2, "applied")]
