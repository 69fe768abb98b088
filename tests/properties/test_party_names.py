"""Rule tests of properties.party_names (pure: no database)."""

import pytest

from properties.party_names import PartyKind, party_key, party_kind, split_parties, surnames


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("SMITH JOHN A", PartyKind.INDIVIDUAL),
        ("John A. Smith", PartyKind.INDIVIDUAL),
        ("ESTATE OF JOHN SMITH", PartyKind.INDIVIDUAL),
        ("ACME HOMES, L.L.C.", PartyKind.COMPANY),
        ("Sunshine Holdings Inc", PartyKind.COMPANY),
        ("ORANGE COUNTY HOLDINGS LLC", PartyKind.COMPANY),
        ("BLUE OAK PROPERTIES", PartyKind.COMPANY),
        ("SMITH FAMILY TRUST", PartyKind.TRUST),
        ("JONES MARY TR", PartyKind.TRUST),
        ("WELLS FARGO BANK N.A.", PartyKind.LENDER),
        ("FEDERAL NATIONAL MORTGAGE ASSOCIATION", PartyKind.LENDER),
        ("SECRETARY OF HOUSING AND URBAN DEVELOPMENT", PartyKind.LENDER),
        ("DEUTSCHE BANK NATIONAL TRUST COMPANY AS TRUSTEE FOR XYZ 2006-1", PartyKind.LENDER),
        ("CITY OF ORLANDO", PartyKind.GOVERNMENT),
        ("PHILADELPHIA LAND BANK", PartyKind.GOVERNMENT),
        ("", PartyKind.INDIVIDUAL),
    ],
)
def test_party_kind(name, kind):
    assert party_kind(name) is kind


def test_split_parties_splits_people_but_never_a_company():
    assert split_parties("SMITH JOHN A & SMITH MARY") == ["SMITH JOHN A", "SMITH MARY"]
    assert split_parties("JONES PAUL AND JONES ANN; LEE KIM") == ["JONES PAUL", "JONES ANN", "LEE KIM"]
    assert split_parties("SMITH & SONS LLC") == ["SMITH & SONS LLC"]
    assert split_parties("  ") == []
    assert split_parties(None) == []


@pytest.mark.parametrize(
    ("name", "order", "expected"),
    [
        ("SMITH JOHN A", "last_first", {"SMITH"}),
        ("SMITH JOHN A JR ETUX", "last_first", {"SMITH"}),
        ("Smith, John A", "first_last", {"SMITH"}),  # a comma always means LAST, FIRST
        ("John A. Smith", "first_last", {"SMITH"}),
        ("John A. Smith", "either", {"JOHN", "SMITH"}),
        ("DE LA CRUZ MARIA", "last_first", {"DE LA CRUZ"}),
        ("MARIA VAN DYKE", "first_last", {"VAN DYKE"}),
        ("SMITH FAMILY TRUST", "last_first", {"SMITH"}),
        ("ESTATE OF JOHN SMITH", "last_first", {"SMITH"}),  # natural order after ESTATE OF
        ("MARY", "last_first", set()),  # a lone given name ("SMITH JOHN & MARY") is no surname
        ("ACME HOMES LLC", "last_first", set()),  # companies have no surname
        ("WELLS FARGO BANK NA", "either", set()),
    ],
)
def test_surnames(name, order, expected):
    assert surnames(name, order) == expected


def test_surnames_rejects_an_unknown_order():
    with pytest.raises(ValueError, match="unknown name order 'last'"):
        surnames("SMITH JOHN", "last")


@pytest.mark.parametrize(
    "spelling", ["Acme Homes, L.L.C.", "ACME HOMES LLC", "The Acme Homes Limited Liability Company", "acme homes llc"]
)
def test_party_key_gives_one_key_to_one_company(spelling):
    assert party_key(spelling) == "ACME HOMES LLC"


def test_party_key_keeps_different_parties_apart():
    assert party_key("ACME HOMES LLC") != party_key("ACME HOMES 2 LLC")
    assert party_key("SMITH JOHN A") != party_key("SMITH JOHN B")
    assert party_key("Smith & Sons Co") == party_key("SMITH AND SONS COMPANY") == "SMITH AND SONS CO"
    assert party_key("JONES MARY ETAL") == "JONES MARY"
