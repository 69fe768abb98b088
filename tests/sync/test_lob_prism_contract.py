"""The Lob client against Stoplight Prism serving Lob's official OpenAPI (tests/fixtures/lob/lob-api.yml).

Prism runs with `--errors`: a request the spec refuses (a missing required field, a name over 40 characters, no
basic auth) is answered with an error and recorded as rejected, so these tests pass only when every request the
client makes is one the spec accepts.
"""

from decimal import Decimal

import httpx
import pytest

from sync.drip import idempotency_key
from sync.lob import LobClient
from sync.lob_records import Address, LobError, recipient_name
from sync.mail_pieces import MergeValues, PieceKind, offer_range, render_piece
from tests.sync.prism import PRISM, SKIP_REASON, PrismTransport, prism_mock
from tests.sync.recorded import LOB

pytestmark = pytest.mark.skipif(not PRISM.exists(), reason=SKIP_REASON)

FRONT = "<html><body><h1>{{ owner_name }}, we want to buy {{ property_address }}</h1></body></html>"
BACK = "<html><body><p>Cash offer {{ offer_range }}. Call {{ sender_name }} at {{ sender_phone }}.</p></body></html>"
LETTER = "<html><body><p>Dear {{ owner_name }},</p><p>{{ offer_range }}</p><p>{{ return_address }}</p></body></html>"
RETURN = Address(
    line1="1 S Orange Ave Ste 200", city="Orlando", state="FL", zip_code="32801", company="Acme Home Buyers"
)


@pytest.fixture(scope="module")
def prism_port():
    with prism_mock(LOB / "lob-api.yml") as port:
        yield port


@pytest.fixture
def prism(prism_port):
    transport = PrismTransport(prism_port)
    client = LobClient(
        "http://lob.invalid", "test_contract", timeout=10, http=httpx.Client(transport=transport), attempts=1
    )
    return client, transport


def test_prism_refuses_a_request_the_spec_does_not_accept(prism):
    """The guard itself: a postcard without `use_type` (and `to.name` over 40 characters) is refused."""
    client, transport = prism
    body = {
        "to": {"name": "X" * 41, "address_line1": "1 MAIN ST", "address_city": "ORLANDO", "address_state": "FL"},
        "front": "<p>a</p>",
        "back": "<p>b</p>",
    }
    with pytest.raises(LobError) as caught:
        client._request("POST", "/postcards", json=body, headers={"Idempotency-Key": "guard"})
    assert caught.value.status_code == 422
    assert transport.sent == ["POST /postcards"]
    assert len(transport.rejected) == 1


def test_prism_refuses_a_request_without_the_api_key(prism_port):
    response = httpx.post(f"http://127.0.0.1:{prism_port}/us_verifications", json={"address": "1 Main St 32801"})
    assert response.status_code == 401


def test_a_campaign_send_makes_only_requests_the_spec_accepts(prism):
    client, transport = prism
    verification = client.verify_us_address(line1="4807 Sunnybrook Dr", city="Orlando", state="FL", zip_code="32808")
    assert verification.mailable
    owner = "SMITH JOHN A & SMITH MARY B <REVOCABLE TRUST> {{x}}"
    to = verification.address(name=recipient_name(owner))
    values = MergeValues(
        owner_name=owner,
        property_address="4807 SUNNYBROOK DR",
        offer=offer_range(Decimal("135000")),
        return_address="Acme Home Buyers\n1 S Orange Ave Ste 200\nOrlando, FL 32801",
        sender_name="Alex",
        sender_phone="(407) 555-0100",
    ).fields()

    pieces = []
    for touch, kind in enumerate((PieceKind.POSTCARD_4X6, PieceKind.POSTCARD_6X9), start=1):
        sides = render_piece(kind, {"front": FRONT, "back": BACK}, values)
        pieces.append(
            client.postcard_create(
                to=to,
                from_=RETURN,
                front=sides["front"],
                back=sides["back"],
                size=kind.lob_size,
                idempotency_key=idempotency_key(campaign_id=3, lead_id=1042, touch=touch),
                metadata={"campaign": "spring-tier-a", "lead": "1042", "touch": str(touch)},
            )
        )
    letter = render_piece(PieceKind.LETTER, {"file": LETTER}, values)
    pieces.append(
        client.letter_create(
            to=to,
            from_=RETURN,
            file=letter["file"],
            idempotency_key=idempotency_key(campaign_id=4, lead_id=1042, touch=1),
            color=True,
            metadata={"campaign": "probate-letters", "lead": "1042", "touch": "1"},
        )
    )
    for piece in pieces:
        assert client.piece_get(piece.id).id == piece.id
        assert client.piece_cancel(piece.id) is True

    assert transport.rejected == []
    assert [p.kind for p in pieces] == ["postcard", "postcard", "letter"]
    assert sorted(set(transport.sent)) == [
        "DELETE /letters/ltr_4868c3b754655f90",
        "DELETE /postcards/psc_208e45e48d271294",
        "GET /letters/ltr_4868c3b754655f90",
        "GET /postcards/psc_208e45e48d271294",
        "POST /letters",
        "POST /postcards",
        "POST /us_verifications",
    ]
