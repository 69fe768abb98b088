"""What DealFinder sends to GoHighLevel and reads back (sync/payloads.py): pure functions, no database."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from sync.ghl import Contact
from sync.payloads import (
    BUY_BOX_PARSERS,
    BUYER_CUSTOM_FIELDS,
    LEAD_CUSTOM_FIELDS,
    buyer_apply,
    buyer_fields_from_contact,
    lead_contact_payload,
    lead_opportunity_payload,
    lead_status_from_opportunity,
    payload_hash,
)

PROPERTY = SimpleNamespace(
    owner_name="JANE OWNER", address_normalized="100 MAIN ST, ORLANDO, FL 32801", parcel_id="292228885000001",
    street="100 MAIN ST", unit="", city="ORLANDO", state="FL", zip="32801",
)  # fmt: skip


def lead(**fields):
    values = {"property": PROPERTY, "total": 82, "tier": "A", "arv": Decimal("250000"), "mao": Decimal("135000")}
    return SimpleNamespace(**{**values, "status": "new", **fields})


def test_a_lead_becomes_its_owner_contact_with_custom_values_and_tier_tags():
    assert lead_contact_payload(lead()) == {
        "body": {
            "name": "JANE OWNER",
            "address1": "100 MAIN ST",
            "city": "ORLANDO",
            "state": "FL",
            "postalCode": "32801",
            "country": "US",
            "source": "DealFinder",
        },
        "custom": {
            LEAD_CUSTOM_FIELDS["score"]: "82",
            LEAD_CUSTOM_FIELDS["tier"]: "A",
            LEAD_CUSTOM_FIELDS["arv"]: "250000.00",
            LEAD_CUSTOM_FIELDS["mao"]: "135000.00",
            LEAD_CUSTOM_FIELDS["parcel"]: "292228885000001",
        },
        "tags": ["dealfinder", "tier-a"],
    }


@pytest.mark.parametrize(("status", "expected"), [("new", "open"), ("closed_won", "won"), ("dead", "lost")])
def test_the_opportunity_carries_the_lead_status_and_its_mao(status, expected):
    assert lead_opportunity_payload(lead(status=status)) == {
        "name": "100 MAIN ST, ORLANDO, FL 32801 (Tier A, score 82)",
        "status": expected,
        "monetaryValue": 135000.0,
    }
    assert lead_opportunity_payload(lead(mao=None, arv=None))["monetaryValue"] == 0


def test_the_payload_hash_ignores_key_order_and_sees_any_change():
    assert payload_hash({"a": 1, "b": [1, 2]}) == payload_hash({"b": [1, 2], "a": 1})
    assert payload_hash({"a": 1}) != payload_hash({"a": 2})


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("min_price", "60,000", "60000.00"),
        ("max_price", "$250000.5", "250000.50"),
        ("max_price", "call me", None),
        ("max_price", "Infinity", None),
        ("min_beds", "3", 3),
        ("min_beds", "3.5", 3),
        ("min_beds", "1,000", 1000),
        ("min_beds", "NaN", None),
        ("property_types", "SFR, Condo,,", ["condo", "sfr"]),
        ("target_zips", ["32801", " 32805 ", ""], ["32801", "32805"]),
    ],
)
def test_buy_box_custom_fields_are_read_with_the_one_number_parser(name, raw, expected):
    assert BUY_BOX_PARSERS[name](raw) == expected


def test_a_contact_becomes_buyer_values_with_its_buy_box():
    field_ids = {f"id-{name}": key for name, key in BUYER_CUSTOM_FIELDS.items()}
    contact = Contact(
        id="c1", first_name="Ann", last_name="Cash", email="ANN@Example.test", tags=["buyer", "vip", "buyer"],
        custom_fields={"id-min_price": "60,000", "id-min_beds": "3", "id-target_zips": "32801,32805", "id-x": "?"},
    )  # fmt: skip

    values = buyer_fields_from_contact(contact, field_ids, buyer_tag="buyer")

    assert values == {
        "first_name": "Ann",
        "last_name": "Cash",
        "company": "",
        "email": "ann@example.test",
        "phone": "",
        "tags": ["buyer", "vip"],
        "dnd": False,
        "is_active": True,
        "min_price": "60000.00",
        "min_beds": 3,
        "target_zips": ["32801", "32805"],
    }
    buyer = SimpleNamespace()
    buyer_apply(buyer, {"min_price": "60000.00", "max_price": None, "min_beds": 3})
    assert vars(buyer) == {"min_price": Decimal("60000.00"), "max_price": None, "min_beds": 3}


@pytest.mark.parametrize(
    ("remote", "current", "expected"),
    [("won", "negotiating", "closed_won"), ("abandoned", "new", "dead"), ("open", "dead", "follow_up"),
     ("open", "contacted", "contacted")],
)  # fmt: skip
def test_an_opportunity_status_sets_the_lead_status(remote, current, expected):
    assert lead_status_from_opportunity(remote, current) == expected


def _point(kind, value, *, phone_type="", dnc=None, tcpa=None, rank=None, source="batchdata"):
    return SimpleNamespace(kind=kind, value=value, phone_type=phone_type, dnc=dnc, tcpa=tcpa, rank=rank, source=source)


def test_contact_channels_pick_a_mobile_not_on_dnc_or_tcpa_and_a_brokers_email():
    from sync.payloads import contact_channels

    points = [
        _point("phone", "(407) 555-0100", source="broker"),  # type unknown
        _point("phone", "4075550101", phone_type="mobile", dnc=True, rank=1),
        _point("phone", "4075550102", phone_type="mobile", tcpa=True, rank=2),
        _point("phone", "4075550103", phone_type="landline", dnc=False, rank=1),
        _point("phone", "1-407-555-0104", phone_type="mobile", dnc=False, rank=4),
        _point("phone", "4075550105", phone_type="mobile", dnc=False, rank=3),
        _point("email", "traced@example.com", rank=1),
        _point("email", " broker@example.com ", source="broker"),
    ]
    assert contact_channels(points) == {"phone": "+14075550105", "email": "broker@example.com"}
    assert contact_channels(points[:4]) == {"phone": "+14075550100"}  # a broker's before a traced landline
    assert contact_channels(points[1:3]) == {}  # only DNC / TCPA phones: no phone at all
    assert contact_channels([]) == {}
    body = lead_contact_payload(lead(), points)["body"]
    assert (body["phone"], body["email"]) == ("+14075550105", "broker@example.com")
