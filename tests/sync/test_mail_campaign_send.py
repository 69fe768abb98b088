"""The mail campaign service against recorded Lob answers (respx): skips with reasons, dry run, drip, webhooks."""

import datetime
import hashlib
import hmac
import json
import time

import httpx
import pytest
import respx
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from leads.models import Activity, Lead
from sync.compliance import Action, Channel, ConsentEvent, Reason, Source
from sync.consent import consent_events_record, outbound_check, recipient_for_lead_owner
from sync.mail import mail_campaign_create, mail_campaign_send, mailing_address
from sync.mail_models import MailCampaign, MailOptOut, MailPiece, MailVerification
from sync.models import WebhookEvent
from tests.factories import ForeclosureFactory, LeadFactory, OwnerFactory, PropertyFactory
from tests.sync.recorded import lob

pytestmark = pytest.mark.django_db
BASE = "https://lob.test/v1"


@pytest.fixture
def lob_settings(settings):
    settings.LOB_API_BASE_URL = BASE
    settings.LOB_API_KEY = "test_recorded"
    settings.LOB_WEBHOOK_SECRET = "whsec"
    settings.MAIL_UNIT_COSTS = "postcard_4x6=0.63"


@pytest.fixture
def campaign(lob_settings):
    return mail_campaign_create(name="Tier A and B", tiers=["A", "B"])


def test_create_slugifies_the_name_and_refuses_a_duplicate(lob_settings):
    call_command("mail_campaign_create", "--name", "Summer Drip 2026!", "--tiers", "a,b")
    campaign = MailCampaign.objects.get()
    assert (campaign.slug, campaign.audience, campaign.piece_kind) == (
        "summer-drip-2026",
        {"tier": ["A", "B"], "status": ["new"]},
        "postcard_4x6",
    )
    with pytest.raises(CommandError, match="exists already"):
        call_command("mail_campaign_create", "--name", "Summer Drip 2026", "--tiers", "A")
    call_command("mail_campaign_create", "--name", "Summer", "--slug", "own-slug", "--tiers", "A", "--kind", "letter")
    assert MailCampaign.objects.get(slug="own-slug").piece_kind == "letter"
    with pytest.raises(CommandError, match="tiers are letters"):
        call_command("mail_campaign_create", "--name", "X", "--tiers", "E")


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("123 MAIN ST, ORLANDO, FL 32801", ("123 MAIN ST", "ORLANDO", "FL", "32801")),
        ("PO BOX 12, APT 4, WINTER PARK FL 32789-1234", ("PO BOX 12, APT 4", "WINTER PARK", "FL", "32789-1234")),
        ("  9 ELM RD ,  Columbus , oh  43004 ", ("9 ELM RD", "Columbus", "OH", "43004")),
    ],
)
def test_mailing_address_parts(text, parts):
    got = mailing_address(text)
    assert (got["line1"], got["city"], got["state"], got["zip_code"]) == parts


@pytest.mark.parametrize("text", ["", "123 MAIN ST", "123 MAIN ST, ORLANDO, FLORIDA", "LONDON W1 UK"])
def test_mailing_address_unreadable(text):
    assert mailing_address(text) is None


@respx.mock
def test_send_skips_opted_out_dnc_undeliverable_and_unreadable_with_reasons(campaign):
    good = LeadFactory(tier="A", property=PropertyFactory(owner_mailing_address="1 GOOD ST, ORLANDO, FL 32801"))
    bad = LeadFactory(tier="A", property=PropertyFactory(owner_mailing_address="9 NOWHERE RD, ORLANDO, FL 32801"))
    opted = LeadFactory(tier="B")
    dnc = LeadFactory(tier="B")
    unreadable = LeadFactory(tier="B", property=PropertyFactory(owner_mailing_address="SOMEWHERE"))
    contacted = LeadFactory(tier="A", status=Lead.Status.CONTACTED)
    MailOptOut.objects.create(lead=opted, reason="asked by phone")
    MailOptOut.objects.create(lead=dnc, do_not_contact=True)

    def verify(request):
        body = json.loads(request.content)
        name = (
            "us_verification_undeliverable.json"
            if "NOWHERE" in body["primary_line"]
            else "us_verification_deliverable.json"
        )
        return httpx.Response(200, json=lob(name))

    verifications = respx.post(f"{BASE}/us_verifications").mock(side_effect=verify)
    postcards = respx.post(f"{BASE}/postcards").respond(200, json=lob("postcard.json"))

    report = mail_campaign_send(campaign=campaign)

    assert report.sent == 1 and report.failed == []
    reasons = dict(report.skipped)
    assert reasons[opted.id] == "the owner opted out of mail"
    assert reasons[dnc.id] == "the owner is on the do-not-contact list"
    assert reasons[bad.id].startswith("the mailing address is undeliverable")
    assert reasons[unreadable.id] == "the mailing address 'SOMEWHERE' cannot be read"
    assert contacted.id not in reasons  # the audience is new leads only
    assert verifications.call_count == 2 and postcards.call_count == 1
    sent = json.loads(postcards.calls[0].request.content)
    assert postcards.calls[0].request.headers["Idempotency-Key"] == f"dealfinder-mail-{campaign.id}-{good.id}-1"
    assert sent["metadata"] == {"campaign": campaign.slug, "lead": str(good.id), "touch": "1"}
    assert MailVerification.objects.get(address_key="9 NOWHERE RD, ORLANDO, FL 32801").mailable is False
    recorded = Activity.objects.filter(body__startswith=f"Mail {campaign.slug}: not mailed")
    assert sorted(recorded.values_list("lead_id", flat=True)) == sorted([bad.id, opted.id, dnc.id, unreadable.id])

    report = mail_campaign_send(campaign=campaign)  # the same day again: nothing new, no duplicate timeline entries
    assert report.sent == 0
    assert verifications.call_count == 2 and postcards.call_count == 1  # addresses are verified once
    assert recorded.count() == 4


@respx.mock
def test_dry_run_prints_audience_cost_and_skips_and_calls_nobody(campaign):
    LeadFactory.create_batch(3, tier="A")
    opted = LeadFactory(tier="B")
    MailOptOut.objects.create(lead=opted)
    out = _call("mail_campaign_send", campaign.slug, "--dry-run")
    assert "audience 4 leads; would mail 3 pieces" in out
    assert "3 x postcard_4x6   at $0.63 = $1.89" in out
    assert "3 x verification   price unknown" in out
    assert "estimated total unknown: set a price for verification" in out
    assert f"lead {opted.id}: the owner opted out of mail" in out
    assert not respx.calls
    assert MailPiece.objects.count() == Activity.objects.count() == 0


@respx.mock
def test_the_drip_sends_touch_two_21_days_later_and_stops_once_contacted(campaign):
    lead = LeadFactory(tier="A")
    respx.post(f"{BASE}/us_verifications").respond(200, json=lob("us_verification_deliverable.json"))
    postcards = respx.post(f"{BASE}/postcards").respond(200, json=lob("postcard.json"))
    day0 = datetime.date(2026, 3, 2)
    assert mail_campaign_send(campaign=campaign, today=day0).sent == 1
    MailPiece.objects.update(sent_on=day0)
    assert mail_campaign_send(campaign=campaign, today=day0 + datetime.timedelta(days=20)).sent == 0
    assert mail_campaign_send(campaign=campaign, today=day0 + datetime.timedelta(days=21)).sent == 1
    assert list(MailPiece.objects.order_by("touch").values_list("touch", flat=True)) == [1, 2]
    assert postcards.calls[1].request.headers["Idempotency-Key"].endswith(f"-{lead.id}-2")
    Lead.objects.filter(id=lead.id).update(status=Lead.Status.CONTACTED)
    campaign.audience = {"tier": ["A"]}
    campaign.save()
    report = mail_campaign_send(campaign=campaign, today=day0 + datetime.timedelta(days=60))
    assert report.sent == 0
    assert dict(report.skipped)[lead.id] == "the lead is contacted: the drip mails new leads only"


@respx.mock
def test_a_refused_piece_fails_that_lead_with_the_message_and_a_rerun_retries_it(campaign):
    lead = LeadFactory(tier="A")
    respx.post(f"{BASE}/us_verifications").respond(200, json=lob("us_verification_deliverable.json"))
    postcards = respx.post(f"{BASE}/postcards")
    postcards.side_effect = [
        httpx.Response(422, json=lob("error_422_name_too_long.json")),
        httpx.Response(200, json=lob("postcard.json")),
    ]
    with pytest.raises(CommandError, match="1 piece"):
        _call("mail_campaign_send", campaign.slug)
    piece = MailPiece.objects.get()
    assert piece.status == "failed" and piece.error
    _call("mail_campaign_send", campaign.slug)
    piece.refresh_from_db()
    assert (piece.status, piece.lob_id, piece.lead_id) == ("sent", lob("postcard.json")["id"], lead.id)
    assert (
        postcards.calls[0].request.headers["Idempotency-Key"] == postcards.calls[1].request.headers["Idempotency-Key"]
    )


@respx.mock
def test_a_bad_api_key_stops_the_run(campaign):
    LeadFactory(tier="A")
    respx.post(f"{BASE}/us_verifications").respond(401, json=lob("error_401.json"))
    with pytest.raises(CommandError, match="LOB_API_KEY"):
        _call("mail_campaign_send", campaign.slug)


def _call(*args) -> str:
    from io import StringIO

    out = StringIO()
    try:
        call_command(*args, stdout=out)
    finally:
        print(out.getvalue())
    return out.getvalue()


def _signed(client, body: bytes, secret="whsec", timestamp=None):  # noqa: S107 - a test secret
    timestamp = timestamp or str(int(time.time() * 1000))
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return client.post(
        reverse("sync:lob-webhook"),
        data=body,
        content_type="application/json",
        headers={"Lob-Signature": signature, "Lob-Signature-Timestamp": timestamp},
    )


@pytest.mark.parametrize(
    ("fixture", "status", "stamp"),
    [
        ("postcard_delivered.json", "delivered", "delivered_at"),
        ("letter_returned_to_sender.json", "returned", "returned_at"),
    ],
)
def test_lob_webhook_tracks_the_piece_on_the_timeline_once(client, campaign, fixture, status, stamp):
    event = lob(f"webhooks/{fixture}")
    piece = MailPiece.objects.create(
        campaign=campaign, lead=LeadFactory(), touch=1, idempotency_key="k", status="sent", lob_id=event["reference_id"]
    )
    body = json.dumps(event).encode()
    assert _signed(client, body).status_code == 200
    assert _signed(client, body).json() == {"status": "duplicate"}
    piece.refresh_from_db()
    assert piece.status == status and getattr(piece, stamp) is not None
    assert Activity.objects.filter(lead=piece.lead, body__startswith="Lob ").count() == 1
    assert WebhookEvent.objects.get().webhook_id == f"lob:{event['id']}"


def test_lob_webhook_refuses_bad_signatures_and_fails_closed(client, settings, lob_settings):
    body = json.dumps(lob("webhooks/postcard_delivered.json")).encode()
    assert _signed(client, body, secret="wrong").status_code == 401
    assert _signed(client, body, timestamp=str(int(time.time() - 3600))).status_code == 401
    assert _signed(client, b'{"object": "nope"}').status_code == 400
    settings.LOB_WEBHOOK_SECRET = ""
    assert _signed(client, body).status_code == 503
    assert WebhookEvent.objects.count() == 0


@respx.mock
def test_the_nightly_step_mails_the_due_touches_of_active_campaigns_only(campaign):
    from sync.mail import mail_campaigns_send_due

    LeadFactory(tier="A")
    mail_campaign_create(name="Paused", tiers=["A"])
    MailCampaign.objects.filter(slug="paused").update(active=False)
    respx.post(f"{BASE}/us_verifications").respond(200, json=lob("us_verification_deliverable.json"))
    respx.post(f"{BASE}/postcards").respond(200, json=lob("postcard.json"))
    assert mail_campaigns_send_due() == {"sent": 1, "failed": 0}
    assert list(MailPiece.objects.values_list("campaign__slug", flat=True)) == [campaign.slug]
    assert mail_campaigns_send_due() == {"sent": 0, "failed": 0}


def test_the_nightly_step_needs_no_lob_key_without_campaigns(settings):
    from sync.mail import mail_campaigns_send_due

    settings.LOB_API_KEY = ""
    assert mail_campaigns_send_due() == {"sent": 0, "failed": 0}


def test_campaign_admin_counts_pieces_returns_cost_and_outcomes(admin_client, lob_settings):
    from decimal import Decimal

    from tests.factories import MailCampaignFactory, MailPieceFactory

    campaign = MailCampaignFactory()
    MailPieceFactory(campaign=campaign, status="delivered", cost=Decimal("0.63"))
    MailPieceFactory(campaign=campaign, status="returned", cost=Decimal("0.63"))
    MailPieceFactory(campaign=campaign, status="sent", cost=Decimal("0.63"), lead=LeadFactory(status="under_contract"))
    MailPieceFactory(campaign=campaign, status="failed", cost=None, lead=LeadFactory(status="contacted"))
    from sync.mail_admin import MailCampaignAdmin

    row = MailCampaignAdmin(MailCampaign, None).get_queryset(None).get()
    assert (row.n_sent, row.n_delivered, row.n_returned, row.total_cost) == (3, 1, 1, Decimal("1.89"))
    assert (row.n_contacted, row.n_contracts) == (1, 1)
    assert admin_client.get(reverse("admin:sync_mailcampaign_changelist")).status_code == 200


@respx.mock
def test_send_asks_the_shared_consent_gate_owner_opt_out_do_not_contact_and_passed_auction(campaign):
    good = LeadFactory(tier="A", property=PropertyFactory(owner_mailing_address="1 GOOD ST, ORLANDO, FL 32801"))
    owner = OwnerFactory()
    opted = LeadFactory(tier="A", property=PropertyFactory(owner=owner))
    gone = LeadFactory(tier="B")
    ForeclosureFactory(property=gone.property, auction_date=datetime.date(2020, 1, 6))
    at = datetime.datetime(2026, 3, 4, 17, 0, tzinfo=datetime.UTC)
    consent_events_record(
        contact=owner, events=[ConsentEvent(Channel.MAIL, False, at, Source.LOCAL, "asked by letter")]
    )
    verifications = respx.post(f"{BASE}/us_verifications").respond(200, json=lob("us_verification_deliverable.json"))
    postcards = respx.post(f"{BASE}/postcards").respond(200, json=lob("postcard.json"))

    report = mail_campaign_send(campaign=campaign)

    assert (report.sent, report.failed) == (1, [])
    assert dict(report.skipped) == {
        opted.id: "the owner opted out of mail",
        gone.id: "Not about this property: its auction date (2020-01-06) has passed",
    }
    assert verifications.call_count == 1 and postcards.call_count == 1
    assert json.loads(postcards.calls[0].request.content)["metadata"]["lead"] == str(good.id)
    assert sorted(Activity.objects.filter(body__contains="not mailed").values_list("lead_id", "body")) == sorted(
        [
            (opted.id, f"Mail {campaign.slug}: not mailed: the owner opted out of mail"),
            (
                gone.id,
                f"Mail {campaign.slug}: not mailed: Not about this property: its auction date (2020-01-06) has passed",
            ),
        ]
    )


def test_a_mail_opt_out_is_honoured_by_the_gate_for_the_lead_owner_only():
    lead = LeadFactory()
    at = datetime.datetime(2026, 3, 4, 17, 0, tzinfo=datetime.UTC)
    MailOptOut.objects.create(lead=lead, do_not_contact=True, reason="asked by phone", created_at=at)
    owner = outbound_check(recipient=recipient_for_lead_owner(lead), action=Action.SMS, lead=lead)
    mail = outbound_check(recipient=recipient_for_lead_owner(LeadFactory()), action=Action.MAIL_PIECE, lead=None)
    assert (owner.allowed, owner.reason, owner.message) == (
        False,
        Reason.DO_NOT_CONTACT,
        "No texts: on the do-not-contact list: asked by phone (since 2026-03-04 17:00 UTC)",
    )
    assert (mail.allowed, mail.reason) == (True, Reason.ALLOWED)
