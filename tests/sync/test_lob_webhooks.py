import datetime
import hashlib
import hmac
import json

import pytest

from sync.lob_webhooks import LobEventError, LobSignatureError, parse_event, verify_signature
from tests.sync.recorded import LOB

SECRET = "whsec_lob_test_8c1f"
NOW = 1_741_449_600.0  # 2025-03-08T16:00:00Z


def raw(name: str) -> bytes:
    return (LOB / "webhooks" / name).read_bytes()


def sign(body: bytes, timestamp: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def test_a_delivery_signed_by_lob_passes_with_a_millisecond_timestamp():
    body = raw("postcard_delivered.json")
    timestamp = str(int(NOW * 1000) - 4_000)
    verify_signature(body=body, signature=sign(body, timestamp), timestamp=timestamp, secrets=SECRET, now=NOW)


def test_seconds_timestamps_and_a_second_secret_are_accepted():
    body = raw("postcard_delivered.json")
    timestamp = str(int(NOW) - 30)
    signature = sign(body, timestamp, secret="whsec_live_2")
    verify_signature(body=body, signature=signature, timestamp=timestamp, secrets=[SECRET, "whsec_live_2"], now=NOW)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"body": b'{"id": "evt_forged"}'}, "does not match the body"),
        ({"secrets": "whsec_someone_else"}, "does not match the body"),
        ({"signature": ""}, "the Lob-Signature or Lob-Signature-Timestamp header is missing"),
        ({"timestamp": ""}, "the Lob-Signature or Lob-Signature-Timestamp header is missing"),
        ({"timestamp": "yesterday"}, "Lob-Signature-Timestamp is not a number: 'yesterday'"),
        ({"timestamp": str(int(NOW * 1000) - 6 * 60_000)}, "signed 360 s away from now"),
        ({"timestamp": str(int(NOW * 1000) + 6 * 60_000)}, "signed 360 s away from now"),
        ({"secrets": ["", " "]}, "no Lob webhook secret is configured"),
    ],
)
def test_forged_replayed_or_unsigned_deliveries_are_refused(change, message):
    body = raw("postcard_delivered.json")
    timestamp = str(int(NOW * 1000))
    kwargs = {"body": body, "signature": sign(body, timestamp), "timestamp": timestamp, "secrets": SECRET, "now": NOW}
    if change.get("timestamp"):
        kwargs["signature"] = sign(body, change["timestamp"])  # signed correctly, but at the wrong time
    with pytest.raises(LobSignatureError, match=message):
        verify_signature(**{**kwargs, **change})


def test_a_delivered_postcard_event_reports_the_delivered_scan():
    event = parse_event(raw("postcard_delivered.json"))
    assert (event.id, event.type, event.resource, event.piece_id) == (
        "evt_9a8b7c6d5e4f3a21",
        "postcard.delivered",
        "postcards",
        "psc_5e1f0c7a9b3d2e48",
    )
    assert (event.stage, event.delivered, event.returned) == ("delivered", True, False)
    assert (event.tracking_event.id, event.tracking_event.location) == ("evnt_3c4d5e6f7a8b9c0", "32808")
    assert event.piece.metadata == {"campaign": "spring-tier-a", "lead": "1042", "touch": "1"}
    assert event.summary == "Lob postcard psc_5e1f0c7a9b3d2e48: Delivered (ZIP 32808) on 2025-03-08"


def test_a_returned_letter_event_is_a_return():
    event = parse_event(json.loads(raw("letter_returned_to_sender.json")))
    assert (event.stage, event.delivered, event.returned) == ("returned_to_sender", False, True)
    assert event.tracking_event.name == "Returned to Sender"
    assert event.summary == "Lob letter ltr_8d2e7f1a0b9c3d45: Returned to Sender (ZIP 32805) on 2025-03-14"


def test_a_certified_letter_event_reports_its_certified_scan():
    event = parse_event(raw("letter_certified_delivered.json").decode())
    assert (event.stage, event.delivered) == ("certified_delivered", True)
    assert (event.tracking_event.type, event.tracking_event.details["event"]) == ("certified", "delivered")
    assert event.tracking_event.time == datetime.datetime(2025, 3, 9, 13, 41, tzinfo=datetime.UTC)


def test_an_event_without_a_scan_still_has_its_stage_and_summary():
    event = parse_event(raw("postcard_created.json"))
    assert (event.stage, event.tracking_event, event.delivered) == ("created", None, False)
    assert event.summary == "Lob postcard psc_5e1f0c7a9b3d2e48: created on 2025-03-03"


def test_a_scan_event_whose_piece_lacks_the_scan_has_no_tracking_event():
    payload = json.loads(raw("postcard_created.json"))
    payload["event_type"]["id"] = "postcard.in_transit"
    event = parse_event(payload)
    assert (event.stage, event.tracking_event) == ("in_transit", None)
    assert event.summary == "Lob postcard psc_5e1f0c7a9b3d2e48: in transit on 2025-03-03"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not json", "the body is not JSON"),
        (b"[]", "not a Lob event"),
        ({"id": "evt_1", "object": "postcard"}, "not a Lob event"),
        ({"id": "evt_1", "object": "event", "event_type": {"id": "created"}}, "event evt_1: no event type"),
    ],
)
def test_what_is_not_a_lob_event_is_refused_with_the_reason(payload, message):
    with pytest.raises(LobEventError, match=message):
        parse_event(payload)
