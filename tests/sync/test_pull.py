from decimal import Decimal

import pytest

from buyers.models import Buyer
from sync.models import ExternalLink, SyncConflict
from sync.pull import ghl_pull_buyers
from tests.factories import BuyerFactory
from tests.sync.fake_ghl import FIELD_ID, contact_json

pytestmark = pytest.mark.django_db


def _buyer_contact(contact_id, **fields):
    return contact_json(contact_id, **{"tags": ["cash-buyer"], **fields})


@pytest.fixture
def remote_buyers(fake_ghl):
    fake_ghl.contacts["b1"] = _buyer_contact(
        "b1",
        firstName="Ann",
        lastName="Cash",
        email="ANN@Example.test",
        phone="+14075550101",
        customFields=[
            {"id": FIELD_ID["contact.buy_box_min_price"], "value": "60,000"},
            {"id": FIELD_ID["contact.buy_box_max_price"], "value": "250000"},
            {"id": FIELD_ID["contact.buy_box_min_beds"], "value": "3"},
            {"id": FIELD_ID["contact.buy_box_zips"], "value": "32805, 32801"},
            {"id": FIELD_ID["contact.buy_box_property_types"], "value": ["SFR", "multi"]},
            {"id": "unknownField000000001", "value": "ignored"},
        ],
    )
    fake_ghl.contacts["b2"] = _buyer_contact("b2", firstName="Bob", dnd=True, tags=["cash-buyer", "vip"])
    fake_ghl.contacts["s1"] = contact_json("s1", firstName="Seller", tags=["seller"])
    return fake_ghl


def test_pull_maps_contacts_to_buyers_and_is_idempotent(remote_buyers, ghl):
    log = ghl_pull_buyers(client=ghl)

    assert (log.status, log.processed, log.succeeded, log.skipped) == ("success", 2, 2, 0)
    ann = Buyer.objects.get(ghl_contact_id="b1")
    assert (ann.first_name, ann.last_name, ann.email, ann.phone, ann.source) == (
        "Ann",
        "Cash",
        "ann@example.test",
        "+14075550101",
        "ghl",
    )
    assert (ann.min_price, ann.max_price, ann.min_beds) == (Decimal("60000.00"), Decimal("250000.00"), 3)
    assert (ann.target_zips, ann.property_types, ann.tags) == (["32801", "32805"], ["multi", "sfr"], ["cash-buyer"])
    bob = Buyer.objects.get(ghl_contact_id="b2")
    assert (bob.dnd, bob.tags, bob.min_price, bob.is_active) == (True, ["cash-buyer", "vip"], None, True)
    assert ExternalLink.objects.filter(kind="contact").count() == 2
    before = list(Buyer.objects.order_by("pk").values_list("pk", "updated_at"))

    again = ghl_pull_buyers(client=ghl)
    assert (again.status, again.processed, again.succeeded, again.skipped) == ("success", 2, 0, 2)
    assert list(Buyer.objects.order_by("pk").values_list("pk", "updated_at")) == before
    assert remote_buyers.paths("POST") == ["POST /contacts/search"] * 2


def test_remote_change_is_taken_when_local_did_not_change(remote_buyers, ghl):
    ghl_pull_buyers(client=ghl)
    remote_buyers.contacts["b2"]["phone"] = "+14075550199"
    log = ghl_pull_buyers(client=ghl)
    assert (log.succeeded, log.skipped) == (1, 1)
    assert Buyer.objects.get(ghl_contact_id="b2").phone == "+14075550199"


def test_local_change_is_kept_when_remote_did_not_change(remote_buyers, ghl):
    ghl_pull_buyers(client=ghl)
    Buyer.objects.filter(ghl_contact_id="b2").update(phone="+14070000000")
    ghl_pull_buyers(client=ghl)
    assert Buyer.objects.get(ghl_contact_id="b2").phone == "+14070000000"


@pytest.mark.parametrize(
    ("strategy", "remote_updated", "expected_phone", "conflicts"),
    [
        ("ghl_wins", "2000-01-01T00:00:00.000Z", "+1407REMOTE", 0),
        ("db_wins", "2099-01-01T00:00:00.000Z", "+1407LOCAL", 0),
        ("newest_wins", "2099-01-01T00:00:00.000Z", "+1407REMOTE", 0),
        ("newest_wins", "2000-01-01T00:00:00.000Z", "+1407LOCAL", 0),
        ("manual", "2099-01-01T00:00:00.000Z", "+1407LOCAL", 1),
    ],
)
def test_both_sides_changed_follow_the_strategy(
    remote_buyers, ghl, settings, strategy, remote_updated, expected_phone, conflicts
):
    ghl_pull_buyers(client=ghl)
    settings.GHL_CONFLICT_STRATEGY = strategy
    Buyer.objects.filter(ghl_contact_id="b2").update(phone="+1407LOCAL")
    remote_buyers.contacts["b2"].update(phone="+1407REMOTE", dateUpdated=remote_updated)

    ghl_pull_buyers(client=ghl)
    ghl_pull_buyers(client=ghl)  # a second pull neither flips the value nor duplicates the conflict

    assert Buyer.objects.get(ghl_contact_id="b2").phone == expected_phone
    rows = list(SyncConflict.objects.values_list("field", "local_value", "remote_value", "status"))
    assert rows == [("phone", "+1407LOCAL", "+1407REMOTE", "open")] * conflicts


def test_a_buyer_entered_in_dealfinder_is_linked_by_email_not_duplicated(remote_buyers, ghl):
    typed_in = BuyerFactory(ghl_contact_id=None, email="ann@example.test", first_name="Annie", source="import")
    BuyerFactory(ghl_contact_id=None, email="Ann@Example.test", first_name="Later copy")  # the oldest one is linked

    log = ghl_pull_buyers(client=ghl)

    assert (log.status, log.processed) == ("success", 2)
    assert Buyer.objects.count() == 3  # Bob created; no second Ann
    typed_in.refresh_from_db()
    assert (typed_in.ghl_contact_id, typed_in.first_name, typed_in.source) == ("b1", "Ann", "import")
    assert Buyer.objects.get(first_name="Later copy").ghl_contact_id is None
    assert ghl_pull_buyers(client=ghl).skipped == 2  # converged


def test_existing_local_buyer_without_link_takes_ghl_values(remote_buyers, ghl):
    BuyerFactory(ghl_contact_id="b2", first_name="Old", phone="+1", tags=["x"])
    ghl_pull_buyers(client=ghl)
    bob = Buyer.objects.get(ghl_contact_id="b2")
    assert (bob.first_name, bob.tags) == ("Bob", ["cash-buyer", "vip"])


def test_pull_not_configured(settings):
    settings.GHL_LOCATION_ID = ""
    log = ghl_pull_buyers()
    assert (log.status, log.processed, log.message) == (
        "success",
        0,
        "GoHighLevel not configured (set GHL_API_TOKEN and GHL_LOCATION_ID)",
    )


def test_pull_failure_is_logged(fake_ghl, ghl):
    import httpx

    fake_ghl.fail_next = [httpx.Response(401, json={"statusCode": 401, "message": "Invalid token"})]
    log = ghl_pull_buyers(client=ghl)
    assert log.status == "failed"
    assert log.errors == [
        {"error": "GoHighLevel 401: Invalid token - check GHL_API_TOKEN (a Private Integration token of the location)"}
    ]
