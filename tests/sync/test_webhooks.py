import base64
import datetime
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from buyers.models import Buyer
from leads.models import Activity, Lead, Outcome
from sync.models import Consent, ExternalLink, SyncConflict, SyncLog, WebhookEvent
from sync.payloads import lead_opportunity_payload, payload_hash
from sync.webhooks import MAX_BODY_BYTES
from tests.factories import BuyerFactory, ExternalLinkFactory, LeadFactory
from tests.sync.fake_ghl import LOCATION_ID

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("webhook_keys")]

ROOT_DIR = Path(__file__).resolve().parents[2]
SAMPLES = ROOT_DIR / "tests" / "fixtures" / "gohighlevel" / "webhooks"
URL = "/sync/ghl/webhook/"


def sample(name: str, **changes) -> dict:
    """A recorded event, sent now, for this location (the recorded InboundMessage comes from another one)."""
    payload = json.loads((SAMPLES / f"{name}.json").read_text())
    payload["timestamp"] = timezone.now().isoformat().replace("+00:00", "Z")
    payload["locationId"] = LOCATION_ID
    return {**payload, **changes}


def deliver(client, payload: dict, *, key=None, scheme="ed25519", body: bytes | None = None):
    body = body if body is not None else json.dumps(payload).encode()
    headers = {}
    if scheme == "ed25519":
        headers["HTTP_X_GHL_SIGNATURE"] = base64.b64encode(key.sign(body)).decode()
    elif scheme == "rsa":
        headers["HTTP_X_WH_SIGNATURE"] = base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()
    return client.post(URL, data=body, content_type="application/json", **headers)


def _lead_link(kind: str, ghl_id: str, **fields) -> ExternalLink:
    lead = fields.pop("lead", None) or LeadFactory()
    return ExternalLinkFactory(local=lead, kind=kind, ghl_id=ghl_id, **fields)


def test_valid_ed25519_signature_is_stored_and_applied(client, ed_key):
    link = _lead_link("contact", "WFwVrSSjZ2CNHbZThQX2")
    response = deliver(client, sample("TaskComplete"), key=ed_key)
    assert response.status_code == 200
    assert response.json() == {"duplicate": False, "webhookId": "sample-TaskComplete-0001", "status": "processed"}
    event = WebhookEvent.objects.get()
    assert (event.event_type, event.signature_scheme, event.signature_valid, event.status) == (
        "TaskComplete",
        "ed25519",
        True,
        "processed",
    )
    activity = Activity.objects.get(lead_id=link.object_id)
    assert (activity.kind, activity.body) == ("task", "Task completed in GoHighLevel: test")
    log = SyncLog.objects.get()
    assert (log.sync_type, log.status, log.processed, log.succeeded) == ("webhook", "success", 1, 1)


def test_base64_raw_ed25519_key_is_accepted(client, ed_key, settings):
    raw = ed_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    settings.GHL_WEBHOOK_PUBLIC_KEY = base64.b64encode(raw).decode()
    assert deliver(client, sample("TaskComplete"), key=ed_key).status_code == 200


def test_legacy_rsa_signature_is_the_fallback(client, rsa_key):
    response = deliver(client, sample("InboundMessage"), key=rsa_key, scheme="rsa")
    assert response.status_code == 200
    assert WebhookEvent.objects.get().signature_scheme == "rsa"


def test_invalid_signature_is_rejected(client, ed_key):
    other = ed25519.Ed25519PrivateKey.generate()
    response = deliver(client, sample("TaskComplete"), key=other)
    assert (response.status_code, response.json()) == (401, {"error": "invalid signature"})
    assert deliver(client, sample("TaskComplete"), scheme="none").status_code == 401
    tampered = json.dumps(sample("TaskComplete")).encode()
    signature = base64.b64encode(ed_key.sign(tampered)).decode()
    response = client.post(
        URL, data=tampered.replace(b"test", b"evil"), content_type="application/json", HTTP_X_GHL_SIGNATURE=signature
    )
    assert response.status_code == 401
    assert list(WebhookEvent.objects.values_list("status", "signature_valid", "webhook_id").order_by().distinct()) == [
        ("rejected", False, None)
    ]
    assert not Activity.objects.exists()


def test_stale_timestamp_is_rejected(client, ed_key):
    old = (timezone.now() - datetime.timedelta(minutes=6)).isoformat()
    response = deliver(client, sample("TaskComplete", timestamp=old), key=ed_key)
    assert (response.status_code, response.json()) == (400, {"error": "stale or missing timestamp"})
    assert WebhookEvent.objects.get().error == "stale or missing timestamp"


def test_repeated_webhook_id_is_acknowledged_but_not_reapplied(client, ed_key):
    _lead_link("contact", "WFwVrSSjZ2CNHbZThQX2")
    payload = sample("TaskComplete")
    first = deliver(client, payload, key=ed_key)
    second = deliver(client, payload, key=ed_key)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == {"duplicate": True, "webhookId": "sample-TaskComplete-0001"}
    assert WebhookEvent.objects.count() == 1
    assert Activity.objects.count() == 1


def test_oversized_body_is_refused(client, ed_key):
    payload = sample("InboundMessage", body="x" * (256 * 1024))
    assert deliver(client, payload, key=ed_key).status_code == 413
    assert client.get(URL).status_code == 405


def test_a_body_over_the_limit_is_refused_before_parsing_or_signature_checks(client, ed_key):
    body = b"{" + b" " * MAX_BODY_BYTES + b"}"  # valid JSON, validly signed, one byte too long... and more
    response = deliver(client, {}, key=ed_key, body=body)
    assert (response.status_code, response.json()) == (413, {"error": "payload too large"})
    assert (WebhookEvent.objects.count(), SyncLog.objects.count()) == (0, 0)


def test_a_body_at_the_limit_is_read_and_checked(client, ed_key):
    payload = sample("InboundMessage")
    text = json.dumps(payload)
    body = (text[:-1] + " " * (MAX_BODY_BYTES - len(text)) + "}").encode()
    assert len(body) == MAX_BODY_BYTES
    response = deliver(client, payload, key=ed_key, body=body)
    assert response.status_code == 200
    assert WebhookEvent.objects.get().signature_scheme == "ed25519"


def test_a_body_longer_than_its_declared_length_is_cut_there(client, ed_key):
    """The server only hands over Content-Length bytes: a longer body no longer matches its signature."""
    body = json.dumps(sample("InboundMessage")).encode()
    signature = base64.b64encode(ed_key.sign(body)).decode()
    response = client.generic(
        "POST", URL, body, content_type="application/json", HTTP_X_GHL_SIGNATURE=signature, CONTENT_LENGTH="10"
    )
    assert response.status_code == 401


def test_opportunity_won_in_ghl_closes_the_lead(client, ed_key):
    lead = LeadFactory(status=Lead.Status.NEGOTIATING)
    link = _lead_link(
        "opportunity",
        "wWhVuzqpRuOA1ZVWi4FC",
        lead=lead,
        remote_snapshot={"status": "open"},
        last_hash=payload_hash(lead_opportunity_payload(lead)),
    )
    deliver(client, sample("OpportunityStatusUpdate", status="won"), key=ed_key)
    lead.refresh_from_db()
    assert lead.status == "closed_won"
    change = Activity.objects.get(lead=lead, kind="status_change")
    assert (change.from_value, change.to_value, change.body) == (
        "negotiating",
        "closed_won",
        "GoHighLevel opportunity marked won",
    )
    link.refresh_from_db()
    assert link.remote_snapshot == {"status": "won"}
    assert link.last_hash == payload_hash(lead_opportunity_payload(lead))  # nothing to push back
    # the won deal is an outcome, from GoHighLevel, dated today
    assert list(Outcome.objects.values_list("lead_id", "kind", "source", "occurred_on")) == [
        (lead.pk, "closed_won", "ghl", timezone.localdate())
    ]


@pytest.mark.parametrize(
    ("strategy", "lead_age", "expected_status", "conflicts"),
    [
        ("ghl_wins", datetime.timedelta(0), "closed_won", 0),
        ("db_wins", datetime.timedelta(days=1), "dead", 0),
        ("newest_wins", datetime.timedelta(days=1), "closed_won", 0),
        ("newest_wins", -datetime.timedelta(days=1), "dead", 0),
        ("manual", datetime.timedelta(days=1), "dead", 1),
    ],
)
def test_status_changed_on_both_sides_follows_the_strategy(
    client, ed_key, settings, strategy, lead_age, expected_status, conflicts
):
    settings.GHL_CONFLICT_STRATEGY = strategy
    lead = LeadFactory(status=Lead.Status.DEAD)  # DealFinder: lost since the last push (open)
    Lead.objects.filter(pk=lead.pk).update(updated_at=timezone.now() - lead_age)
    _lead_link("opportunity", "wWhVuzqpRuOA1ZVWi4FC", lead=lead, remote_snapshot={"status": "open"})

    deliver(client, sample("OpportunityStatusUpdate", status="won"), key=ed_key)

    lead.refresh_from_db()
    assert lead.status == expected_status
    assert (
        list(SyncConflict.objects.values_list("field", "local_value", "remote_value"))
        == [("status", "lost", "won")] * conflicts
    )


def test_stage_update_inbound_message_and_unknown_contact(client, ed_key):
    lead = LeadFactory()
    _lead_link("opportunity", "wWhVuzqpRuOA1ZVWi4FC", lead=lead)
    _lead_link("contact", "cI08i1Bls3iTB9bKgFJh", lead=lead)
    deliver(client, sample("OpportunityStageUpdate"), key=ed_key)
    deliver(client, sample("InboundMessage"), key=ed_key)
    deliver(client, sample("TaskComplete"), key=ed_key)  # contact not linked to any lead
    assert list(Activity.objects.order_by("pk").values_list("kind", "body")) == [
        ("sync", "GoHighLevel opportunity moved to a new stage"),
        ("sms", "Inbound SMS: This is a test message"),
    ]
    assert list(WebhookEvent.objects.order_by("pk").values_list("event_type", "status")) == [
        ("OpportunityStageUpdate", "processed"),
        ("InboundMessage", "processed"),
        ("TaskComplete", "ignored"),
    ]


def test_contact_events_update_buyers(client, ed_key):
    buyer = BuyerFactory(ghl_contact_id="nmFmQEsNgz6AVpgLVUJ0", dnd=False, tags=["cash-buyer"])
    deliver(client, sample("ContactTagUpdate", tags=["cash-buyer", "vip"]), key=ed_key)
    buyer.refresh_from_db()
    assert (buyer.tags, buyer.dnd, buyer.first_name, buyer.is_active) == (["cash-buyer", "vip"], True, "John", True)
    deliver(client, sample("ContactUpdate", webhookId="wh-2", tags=["vip"]), key=ed_key)
    buyer.refresh_from_db()
    assert (buyer.tags, buyer.is_active) == (["vip"], False)


def test_a_contact_tagged_as_buyer_in_ghl_becomes_a_buyer(client, ed_key):
    deliver(client, sample("ContactTagUpdate", id="newBuyer0000000001", tags=["cash-buyer"]), key=ed_key)
    buyer = Buyer.objects.get(ghl_contact_id="newBuyer0000000001")
    assert (buyer.email, buyer.source) == ("johndeo@gmail.comm", "ghl")
    link = ExternalLink.objects.get(content_type=ContentType.objects.get_for_model(Buyer))
    assert link.ghl_id == "newBuyer0000000001"


def test_unsigned_json_problems_are_refused(client, ed_key):
    assert deliver(client, {}, key=ed_key, body=b"not json").json() == {"error": "body is not a JSON object"}
    payload = sample("TaskComplete")
    del payload["webhookId"]
    response = deliver(client, payload, key=ed_key)
    assert (response.status_code, response.json()) == (400, {"error": "missing webhookId"})
    assert list(WebhookEvent.objects.order_by("pk").values_list("status", "error")) == [
        ("rejected", "body is not a JSON object"),
        ("rejected", "missing webhookId"),
    ]


def test_contact_update_on_a_lead_contact_lands_on_its_timeline(client, ed_key):
    link = _lead_link("contact", "nmFmQEsNgz6AVpgLVUJ0", remote_snapshot={"name": "JOHN DEO", "tags": ["dealfinder"]})
    deliver(client, sample("ContactUpdate", tags=["dealfinder", "hot"]), key=ed_key)
    assert Activity.objects.get(lead_id=link.object_id).body == "GoHighLevel contact updated (tags: dealfinder, hot)"
    link.refresh_from_db()
    assert link.remote_snapshot == {"name": "JOHN DEO", "tags": ["dealfinder", "hot"]}
    assert not Buyer.objects.exists()


def test_the_endpoint_needs_no_csrf_token_or_login(ed_key):
    from django.test import Client

    response = deliver(Client(enforce_csrf_checks=True), sample("TaskComplete"), key=ed_key)
    assert response.status_code == 200


def test_a_dnd_update_becomes_the_buyers_consent_record(client, ed_key):
    buyer = BuyerFactory(ghl_contact_id="nmFmQEsNgz6AVpgLVUJ0", tags=["cash-buyer"])
    deliver(client, sample("ContactDndUpdate"), key=ed_key)
    records = {c.channel: (c.status, c.source, c.detail) for c in Consent.objects.filter(object_id=buyer.pk)}
    assert records == {"sms": ("revoked", "ghl_dnd", "GoHighLevel DND (SMS) active: Opted out by the contact")}
    assert WebhookEvent.objects.get().status == "processed"


def test_a_stop_reply_revokes_texts_calls_and_workflows_and_start_restores_them(client, ed_key):
    lead = LeadFactory()
    _lead_link("contact", "cI08i1Bls3iTB9bKgFJh", lead=lead)
    deliver(client, sample("InboundMessage", body="Stop", dateAdded="2026-02-01T10:00:00Z"), key=ed_key)
    revoked = dict(Consent.objects.filter(object_id=lead.pk).values_list("channel", "status"))
    assert revoked == {"sms": "revoked", "call": "revoked", "workflow": "revoked"}
    deliver(
        client,
        sample("InboundMessage", webhookId="wh-start", body="START", dateAdded="2026-02-02T10:00:00Z"),
        key=ed_key,
    )
    assert dict(Consent.objects.filter(object_id=lead.pk).values_list("channel", "status")) == {
        "sms": "granted",
        "call": "granted",
        "workflow": "granted",
    }


def test_a_long_reply_mentioning_stop_asks_a_broker_to_read_it(client, ed_key):
    lead = LeadFactory()
    _lead_link("contact", "cI08i1Bls3iTB9bKgFJh", lead=lead)
    body = "I cannot stop thinking about the price you offered, call me tomorrow"
    deliver(client, sample("InboundMessage", body=body), key=ed_key)
    assert not Consent.objects.exists()
    assert lead.activities.filter(kind="task", body__startswith="Read this reply").count() == 1
