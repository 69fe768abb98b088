import base64
import datetime
import json

import httpx
import pytest
import respx

from sync.lob import LobClient
from sync.lob_records import Address, LobAuthError, LobError, LobInputError, recipient_name
from tests.sync.recorded import lob

BASE = "https://lob.test/v1"
NOW = 1_741_000_000.0
OWNER = Address(line1="4807 SUNNYBROOK DR", city="ORLANDO", state="FL", zip_code="32808-3944", name="SMITH JOHN A")
RETURN = Address(
    line1="1 S Orange Ave Ste 200", city="Orlando", state="FL", zip_code="32801", company="Acme Home Buyers"
)


class FakeTime:
    """A clock that moves only when the client sleeps (and records each sleep)."""

    def __init__(self):
        self.now = NOW
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time():
    return FakeTime()


@pytest.fixture
def sleeps(fake_time):
    return fake_time.sleeps


@pytest.fixture
def client(fake_time):
    key = "test_0dc8d51e0acffcb1880e0f19c79b2f5b0cc"
    return LobClient(BASE, key, timeout=5, first_wait=0, sleep=fake_time.sleep, clock=lambda: fake_time.now)


def sent_json(route, index=0):
    return json.loads(route.calls[index].request.content)


@respx.mock
def test_verification_posts_json_with_the_key_as_basic_auth_user(client):
    route = respx.post(f"{BASE}/us_verifications").respond(200, json=lob("us_verification_deliverable.json"))
    found = client.verify_us_address(line1=" 4807 Sunnybrook Dr ", city="Orlando", state="FL", zip_code="32808")

    request = route.calls[0].request
    assert sent_json(route) == {
        "primary_line": "4807 Sunnybrook Dr",
        "city": "Orlando",
        "state": "FL",
        "zip_code": "32808",
    }
    expected = base64.b64encode(b"test_0dc8d51e0acffcb1880e0f19c79b2f5b0cc:").decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert request.headers["Content-Type"] == "application/json"
    assert (found.id, found.deliverability, found.mailable, found.notes) == (
        "us_ver_7f2a4c19d0b3e8",
        "deliverable",
        True,
        [],
    )
    assert (found.county, found.address_type, found.record_type, found.vacant) == (
        "ORANGE",
        "residential",
        "street",
        False,
    )
    assert (found.confidence_score, found.confidence_level) == (100, "high")
    assert found.address(name="SMITH JOHN A") == OWNER
    assert client.test_mode is True


@respx.mock
def test_undeliverable_address_is_not_mailable_and_says_why(client):
    respx.post(f"{BASE}/us_verifications").respond(200, json=lob("us_verification_undeliverable.json"))
    found = client.verify_us_address(line1="9999 Nowhere Rd", zip_code="32808")
    assert (found.deliverability, found.mailable) == ("undeliverable", False)
    assert found.notes == ["USPS cannot deliver to this address"]
    assert found.vacant is None  # Lob did not say


@respx.mock
def test_unit_problems_stay_mailable_with_notes(client):
    respx.post(f"{BASE}/us_verifications").respond(200, json=lob("us_verification_missing_unit.json"))
    found = client.verify_us_address(line1="100 S Eola Dr", city="Orlando", state="FL")
    assert (found.deliverability, found.mailable) == ("deliverable_missing_unit", True)
    assert found.notes == [
        "the building needs a unit number the address lacks; the piece may not reach the owner",
        "USPS lists the address as vacant",
    ]


@respx.mock
def test_an_answer_without_deliverability_is_not_mailable(client):
    respx.post(f"{BASE}/us_verifications").respond(200, json={"id": "us_ver_x", "object": "us_verification"})
    found = client.verify_us_address(line1="1 Main St", zip_code="32801")
    assert (found.mailable, found.notes) == (False, ["Lob returned no deliverability (a test_ key verifies nothing)"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"line1": " ", "zip_code": "32801"}, "address line 1 is empty"),
        ({"line1": "1 Main St", "zip_code": "3280"}, "the ZIP code must be 12345 or 12345-6789, not '3280'"),
        ({"line1": "1 Main St", "city": "Orlando"}, "a ZIP code, or a city and a state, is required"),
    ],
)
@respx.mock
def test_verification_input_is_checked_before_anything_is_sent(client, kwargs, message):
    route = respx.post(f"{BASE}/us_verifications")
    with pytest.raises(LobInputError, match=message):
        client.verify_us_address(**kwargs)
    assert route.call_count == 0


@respx.mock
def test_postcard_create_sends_the_spec_body_and_the_idempotency_key(client):
    route = respx.post(f"{BASE}/postcards").respond(200, json=lob("postcard.json"))
    piece = client.postcard_create(
        to=OWNER,
        from_=RETURN,
        front="<html><body>We buy houses</body></html>",
        back="<html><body>Call us</body></html>",
        size="4x6",
        idempotency_key="dealfinder-mail-3-1042-1",
        metadata={"campaign": "spring-tier-a", "lead": 1042, "touch": 1},
    )

    assert route.calls[0].request.headers["Idempotency-Key"] == "dealfinder-mail-3-1042-1"
    assert sent_json(route) == {
        "to": {
            "name": "SMITH JOHN A",
            "address_line1": "4807 SUNNYBROOK DR",
            "address_city": "ORLANDO",
            "address_state": "FL",
            "address_zip": "32808-3944",
        },
        "from": {
            "company": "Acme Home Buyers",
            "address_line1": "1 S Orange Ave Ste 200",
            "address_city": "Orlando",
            "address_state": "FL",
            "address_zip": "32801",
        },
        "front": "<html><body>We buy houses</body></html>",
        "back": "<html><body>Call us</body></html>",
        "size": "4x6",
        "mail_type": "usps_first_class",
        "use_type": "marketing",
        "metadata": {"campaign": "spring-tier-a", "lead": "1042", "touch": "1"},
    }
    assert (piece.id, piece.kind, piece.size, piece.status) == ("psc_5e1f0c7a9b3d2e48", "postcard", "4x6", "processed")
    assert piece.expected_delivery_date == datetime.date(2025, 3, 10)
    assert piece.send_date == datetime.datetime(2025, 3, 3, 14, 7, 11, 482000, tzinfo=datetime.UTC)
    assert piece.metadata == {"campaign": "spring-tier-a", "lead": "1042", "touch": "1"}
    assert piece.tracking_events == ()


@respx.mock
def test_letter_create_sends_color_sides_and_placement(client):
    route = respx.post(f"{BASE}/letters").respond(200, json=lob("letter.json"))
    piece = client.letter_create(
        to=OWNER, from_=RETURN, file="<html><p>Dear owner</p></html>", idempotency_key="k-1", mail_type="usps_standard"
    )
    body = sent_json(route)
    assert {k: body[k] for k in ("file", "color", "double_sided", "address_placement", "mail_type", "use_type")} == {
        "file": "<html><p>Dear owner</p></html>",
        "color": False,
        "double_sided": True,
        "address_placement": "top_first_page",
        "mail_type": "usps_standard",
        "use_type": "marketing",
    }
    assert body["from"]["company"] == "Acme Home Buyers"
    assert (piece.id, piece.kind, piece.expected_delivery_date) == (
        "ltr_8d2e7f1a0b9c3d45",
        "letter",
        datetime.date(2025, 3, 11),
    )


@pytest.mark.parametrize(
    ("to", "message"),
    [
        (Address("1 Main St", "Orlando", "FL", "32801"), "to address: a name or a company is required"),
        (
            Address("1 Main St", "Orlando", "FL", "32801", name="SMITH JOHN A AND SMITH MARY B REVOCABLE TRUST"),
            "to address: name is longer than 40 characters",
        ),
        (Address("1 Main St", "Orlando", "Florida", "32801", name="A"), "the state must be a two-letter code"),
        (Address("1 Main St", "Orlando", "FL", "328011234", name="A"), "the ZIP code must be 12345 or 12345-6789"),
        (Address("9" * 65, "Orlando", "FL", "32801", name="A"), "address line 1 is longer than 64 characters"),
        (Address("1 Main St", " ", "FL", "32801", name="A"), "the city is empty"),
    ],
)
@respx.mock
def test_addresses_lob_would_refuse_are_caught_before_sending(client, to, message):
    route = respx.post(f"{BASE}/postcards")
    with pytest.raises(LobInputError, match=message):
        client.postcard_create(to=to, from_=None, front="<p>a</p>", back="<p>b</p>", size="4x6", idempotency_key="k")
    assert route.call_count == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"front": "plain text"}, "front: Lob takes inline HTML here"),
        ({"back": "<p>" + "x" * 10_000 + "</p>"}, "back: 10,007 characters of HTML; Lob takes at most 10,000"),
        ({"size": "5x7"}, "postcard size must be one of 4x6, 6x9, 6x11"),
        ({"idempotency_key": ""}, "an idempotency key of 1 to 256 characters is required"),
        ({"idempotency_key": "k" * 257}, "an idempotency key of 1 to 256 characters is required"),
        ({"metadata": {"note": 'say "hi"'}}, "metadata 'note'"),
        ({"metadata": {f"k{i}": "v" for i in range(21)}}, "at most 20 metadata keys"),
        ({"mail_type": "usps_priority"}, "mail type must be one of"),
        ({"use_type": None}, "use type must be marketing or operational"),
    ],
)
@respx.mock
def test_piece_content_lob_would_refuse_is_caught_before_sending(client, change, message):
    route = respx.post(f"{BASE}/postcards")
    kwargs = {"to": OWNER, "from_": RETURN, "front": "<p>a</p>", "back": "<p>b</p>", "size": "6x9"}
    with pytest.raises(LobInputError, match=message):
        client.postcard_create(**{**kwargs, "idempotency_key": "k", **change})
    assert route.call_count == 0


@respx.mock
def test_piece_get_reads_tracking_events_and_cancel_deletes(client):
    respx.get(f"{BASE}/postcards/psc_5e1f0c7a9b3d2e48").respond(200, json=lob("postcard_tracked.json"))
    cancel = respx.delete(f"{BASE}/postcards/psc_5e1f0c7a9b3d2e48").respond(200, json=lob("postcard_deleted.json"))
    piece = client.piece_get("psc_5e1f0c7a9b3d2e48")
    assert [(e.name, e.location, e.time.date().isoformat()) for e in piece.tracking_events] == [
        ("In Transit", "32862", "2025-03-05"),
        ("In Local Area", "32808", "2025-03-07"),
        ("Delivered", "32808", "2025-03-08"),
    ]
    assert client.piece_cancel("psc_5e1f0c7a9b3d2e48") is True
    assert cancel.call_count == 1
    with pytest.raises(LobInputError, match="not a Lob postcard or letter id: 'adr_1'"):
        client.piece_get("adr_1")


@respx.mock
def test_letters_are_read_at_their_own_path(client):
    route = respx.get(f"{BASE}/letters/ltr_8d2e7f1a0b9c3d45").respond(200, json=lob("letter.json"))
    assert client.piece_get("ltr_8d2e7f1a0b9c3d45").kind == "letter"
    assert route.call_count == 1


@respx.mock
def test_429_is_retried_after_the_retry_after_it_asks_for(client, sleeps):
    route = respx.post(f"{BASE}/us_verifications").mock(
        side_effect=[
            httpx.Response(429, json=lob("error_429.json"), headers={"Retry-After": "2"}),
            httpx.Response(200, json=lob("us_verification_deliverable.json")),
        ]
    )
    assert client.verify_us_address(line1="1 Main St", zip_code="32801").mailable
    assert route.call_count == 2
    assert sleeps == [2.0]


@respx.mock
def test_429_without_retry_after_waits_for_the_rate_limit_reset(client, sleeps):
    limited = {"ratelimit-limit": "300", "ratelimit-remaining": "0", "ratelimit-reset": str(int(NOW) + 3)}
    route = respx.post(f"{BASE}/us_verifications").mock(
        side_effect=[
            httpx.Response(429, json=lob("error_429.json"), headers=limited),
            httpx.Response(200, json=lob("us_verification_deliverable.json")),
        ]
    )
    client.verify_us_address(line1="1 Main St", zip_code="32801")
    assert route.call_count == 2
    assert sleeps == [3.0]


@respx.mock
def test_a_used_up_window_is_waited_out_before_the_next_request(client, sleeps):
    headers = {"X-Rate-Limit-Limit": "150", "X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": str(int(NOW) + 2)}
    respx.post(f"{BASE}/us_verifications").respond(200, json=lob("us_verification_deliverable.json"), headers=headers)
    client.verify_us_address(line1="1 Main St", zip_code="32801")
    assert sleeps == []
    client.verify_us_address(line1="1 Main St", zip_code="32801")
    assert sleeps == [2.0]


@respx.mock
def test_5xx_is_retried_then_raised_with_lobs_message(client, sleeps):
    route = respx.post(f"{BASE}/postcards").respond(
        500, json={"error": {"message": "Internal server error", "status_code": 500, "code": "internal_server_error"}}
    )
    with pytest.raises(LobError) as caught:
        client.postcard_create(to=OWNER, from_=None, front="<p>a</p>", back="<p>b</p>", size="4x6", idempotency_key="k")
    assert route.call_count == 5
    assert {call.request.headers["Idempotency-Key"] for call in route.calls} == {"k"}  # every retry is the same piece
    assert (caught.value.status_code, caught.value.code) == (500, "internal_server_error")
    assert str(caught.value) == "Lob HTTP 500: Internal server error (internal_server_error)"


@respx.mock
def test_network_errors_are_retried(client):
    route = respx.post(f"{BASE}/us_verifications").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json=lob("us_verification_deliverable.json"))]
    )
    assert client.verify_us_address(line1="1 Main St", zip_code="32801").id == "us_ver_7f2a4c19d0b3e8"
    assert route.call_count == 2


@respx.mock
def test_401_is_final_and_names_the_setting(client):
    route = respx.post(f"{BASE}/us_verifications").respond(401, json=lob("error_401.json"))
    with pytest.raises(LobAuthError, match="check LOB_API_KEY") as caught:
        client.verify_us_address(line1="1 Main St", zip_code="32801")
    assert route.call_count == 1
    assert caught.value.code == "unauthorized"


@respx.mock
def test_422_is_final_with_lobs_message_and_code(client):
    route = respx.post(f"{BASE}/postcards").respond(422, json=lob("error_422_name_too_long.json"))
    with pytest.raises(LobError) as caught:
        client.postcard_create(to=OWNER, from_=None, front="<p>a</p>", back="<p>b</p>", size="4x6", idempotency_key="k")
    assert route.call_count == 1
    assert (caught.value.status_code, caught.value.code, caught.value.retryable) == (422, "invalid", False)
    assert caught.value.message == "to.name length must be less than or equal to 40 characters long"


@respx.mock
def test_an_error_without_a_json_body_keeps_the_http_reason(client):
    respx.get(f"{BASE}/postcards/psc_1").respond(404, text="<html>gone</html>")
    with pytest.raises(LobError, match="Lob HTTP 404: Not Found"):
        client.piece_get("psc_1")


def test_a_client_without_a_key_refuses_to_start():
    with pytest.raises(LobInputError, match="LOB_API_KEY is not set"):
        LobClient(BASE, "", timeout=5)
    assert LobClient(BASE, "live_abc", timeout=5).test_mode is False


@pytest.mark.parametrize(
    ("name", "fitted"),
    [
        ("SMITH  JOHN A", "SMITH JOHN A"),
        ("SMITH JOHN A & SMITH MARY B REVOCABLE TRUST", "SMITH JOHN A & SMITH MARY B REVOCABLE"),
        ("SMITHJOHNANDMARYREVOCABLELIVINGTRUSTOFTWOTHOUSAND", "SMITHJOHNANDMARYREVOCABLELIVINGTRUSTOFTW"),
        ("ORANGE COUNTY PROPERTY HOLDINGS LLC AND", "ORANGE COUNTY PROPERTY HOLDINGS LLC AND"),
    ],
)
def test_recipient_name_fits_lobs_40_characters_at_a_word_boundary(name, fitted):
    assert recipient_name(name) == fitted
    assert len(fitted) <= 40
