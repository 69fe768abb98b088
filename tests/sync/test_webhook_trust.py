"""GoHighLevel webhooks at the trust boundary (issue 16, item 8).

A signed event for another location changes nothing; an event that fails to apply answers 500 so GoHighLevel
redelivers it, and the redelivery is applied; rejected bodies are kept truncated, pruned, and rate limited per
client address; the legacy RSA key comes from GHL_WEBHOOK_RSA_PUBLIC_KEY.
"""

import datetime
import json
import os
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from buyers.models import Buyer
from leads.models import Lead
from sync.models import ExternalLink, SyncLog, WebhookEvent
from tests.factories import BuyerFactory, ExternalLinkFactory, LeadFactory
from tests.sync.test_webhooks import ROOT_DIR, URL, deliver, sample

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("webhook_keys")]

BUYER_CONTACT = "newBuyer0000000001"


def test_a_signed_event_for_another_location_is_stored_as_ignored_and_changes_nothing(client, ed_key):
    payload = sample("ContactTagUpdate", id=BUYER_CONTACT, tags=["cash-buyer"], locationId="someOtherLocation01")

    response = deliver(client, payload, key=ed_key)

    assert (response.status_code, response.json()["status"]) == (200, "ignored")
    event = WebhookEvent.objects.get()
    assert (event.status, event.error) == ("ignored", "for location 'someOtherLocation01', not GHL_LOCATION_ID")
    assert not Buyer.objects.exists()
    assert not SyncLog.objects.exists()


def test_an_event_without_a_location_or_with_no_location_configured_is_ignored(client, ed_key, settings):
    payload = sample("ContactTagUpdate", id=BUYER_CONTACT, tags=["cash-buyer"])
    del payload["locationId"]
    assert deliver(client, payload, key=ed_key).json()["status"] == "ignored"
    settings.GHL_LOCATION_ID = ""
    deliver(client, sample("ContactTagUpdate", id=BUYER_CONTACT, tags=["cash-buyer"], webhookId="w2"), key=ed_key)
    assert list(WebhookEvent.objects.order_by("pk").values_list("status", "error")) == [
        ("ignored", "no locationId"),
        ("ignored", "GHL_LOCATION_ID is not set: events are not applied"),
    ]
    assert not Buyer.objects.exists()


def test_a_buyer_tag_on_a_contact_linked_to_a_lead_is_applied_with_a_shared_link(client, ed_key):
    """Regression (issue 20): a buyer who also owns a parcel used to fail on externallink_unique_remote."""
    ExternalLinkFactory(local=LeadFactory(), kind="contact", ghl_id=BUYER_CONTACT)
    payload = sample("ContactTagUpdate", id=BUYER_CONTACT, tags=["cash-buyer"])

    assert deliver(client, payload, key=ed_key).status_code == 200

    buyer = Buyer.objects.get(ghl_contact_id=BUYER_CONTACT)
    assert ExternalLink.objects.get(object_id=buyer.pk, kind="shared_contact").ghl_id == BUYER_CONTACT


def test_an_event_that_fails_answers_500_and_its_redelivery_is_applied(client, ed_key):
    # The contact is already linked to another buyer: storing it as this buyer's contact too breaks a unique link.
    # (A contact linked to an owner or a lead is not a failure: the buyer gets a shared_contact link, issue 20.)
    link = ExternalLinkFactory(local=BuyerFactory(ghl_contact_id="other"), kind="contact", ghl_id=BUYER_CONTACT)
    payload = sample("ContactTagUpdate", id=BUYER_CONTACT, tags=["cash-buyer"])

    first = deliver(client, payload, key=ed_key)

    assert first.status_code == 500
    assert first.json() == {
        "duplicate": False,
        "webhookId": payload["webhookId"],
        "status": "failed",
        "error": "could not be applied; it is applied again when GoHighLevel redelivers it",
    }
    event = WebhookEvent.objects.get()
    assert (event.status, event.error.split(":")[0]) == ("failed", "IntegrityError")
    assert not Buyer.objects.filter(ghl_contact_id=BUYER_CONTACT).exists()  # nothing half-applied

    link.delete()  # the cause is fixed; GoHighLevel redelivers the same signed body, minutes later
    WebhookEvent.objects.update(received_at=timezone.now() - datetime.timedelta(minutes=20))
    again = deliver(client, payload, key=ed_key)

    assert (again.status_code, again.json()["status"], again.json()["duplicate"]) == (200, "processed", False)
    assert Buyer.objects.filter(ghl_contact_id=BUYER_CONTACT).count() == 1
    assert WebhookEvent.objects.get().status == "processed"
    third = deliver(client, payload, key=ed_key)
    assert (third.status_code, third.json()) == (200, {"duplicate": True, "webhookId": payload["webhookId"]})
    assert Buyer.objects.count() == 2
    assert list(SyncLog.objects.order_by("pk").values_list("status", flat=True)) == ["failed", "success"]


def test_a_rejected_body_is_kept_truncated_with_its_sender(client):
    body = json.dumps({"type": "ContactTagUpdate", "padding": "x" * 200_000}).encode()
    response = client.post(URL, data=body, content_type="application/json", REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 401
    event = WebhookEvent.objects.get()
    assert (event.status, event.payload, event.client_ip) == ("rejected", {}, "203.0.113.7")
    assert event.body_excerpt == body[:4096].decode()


def test_rejections_older_than_the_retention_are_pruned(client, ed_key, settings):
    settings.WEBHOOK_RETENTION_DAYS = 30
    old = timezone.now() - datetime.timedelta(days=31)
    WebhookEvent.objects.create(status="rejected", error="old", received_at=old)
    WebhookEvent.objects.create(status="rejected", error="recent", received_at=old + datetime.timedelta(days=2))
    WebhookEvent.objects.create(status="processed", webhook_id="kept", received_at=old)

    client.post(URL, data=b"{}", content_type="application/json")

    assert sorted(WebhookEvent.objects.values_list("error", flat=True)) == [
        "",
        "invalid or missing signature",
        "recent",
    ]


def test_rejected_deliveries_are_rate_limited_per_client_address(client, ed_key, settings):
    settings.WEBHOOK_REJECTIONS_PER_IP = 3
    for _ in range(3):
        assert (
            client.post(URL, data=b"{}", content_type="application/json", REMOTE_ADDR="198.51.100.1").status_code == 401
        )

    throttled = client.post(URL, data=b"{}", content_type="application/json", REMOTE_ADDR="198.51.100.1")
    signed = deliver(client, sample("TaskComplete"), key=ed_key)  # another address (127.0.0.1): unaffected

    assert (throttled.status_code, throttled.json()) == (429, {"error": "too many rejected deliveries"})
    assert throttled["Retry-After"] == str(settings.WEBHOOK_REJECTION_WINDOW_SECONDS)
    assert signed.status_code == 200
    assert WebhookEvent.objects.filter(status="rejected").count() == 3  # the throttled one is not stored


def test_the_rsa_key_is_read_from_the_environment():
    """GHL_WEBHOOK_RSA_PUBLIC_KEY as documented (it was never read: the published key was always used)."""
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    env = {**os.environ, "GHL_WEBHOOK_RSA_PUBLIC_KEY": pem, "DJANGO_SETTINGS_MODULE": "dealfinder.settings"}
    code = "import django; django.setup(); from django.conf import settings; print(settings.GHL_WEBHOOK_RSA_PUBLIC_KEY)"
    done = subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", code], cwd=ROOT_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.stdout.strip() == pem.strip(), done.stderr


def test_without_a_configured_rsa_key_the_published_one_verifies(client, rsa_key, settings):
    settings.GHL_WEBHOOK_RSA_PUBLIC_KEY = ""
    response = deliver(client, sample("TaskComplete"), key=rsa_key, scheme="rsa")  # our key is not GoHighLevel's
    assert response.status_code == 401


def test_lead_links_are_untouched_by_ignored_events(client, ed_key):
    lead = LeadFactory(status=Lead.Status.NEGOTIATING)
    ExternalLinkFactory(
        local=lead, kind="opportunity", ghl_id="wWhVuzqpRuOA1ZVWi4FC", remote_snapshot={"status": "open"}
    )
    deliver(client, sample("OpportunityStatusUpdate", status="won", locationId="someOtherLocation01"), key=ed_key)
    lead.refresh_from_db()
    assert lead.status == "negotiating"
    link = ExternalLink.objects.get(content_type=ContentType.objects.get_for_model(Lead))
    assert link.remote_snapshot == {"status": "open"}
