"""The compliance gate's service (sync.consent): consent records, the do-not-contact list, the lead's facts, and
what lands on the lead's timeline."""

import datetime

import pytest

from buyers.models import PropertyMatch
from buyers.selectors import BLAST_HEADER
from leads.models import Activity, Lead
from sync.compliance import Action, Channel, ConsentEvent, Reason, Source
from sync.consent import (
    DIALER_HEADER,
    consent_events_record,
    matches_dialer_rows,
    outbound_check,
    phone_digits,
    recipient_for_buyer,
)
from sync.models import Consent, DoNotContact
from tests.factories import BuyerFactory, ForeclosureFactory, LeadFactory, PropertyMatchFactory

pytestmark = pytest.mark.django_db
NOON = datetime.datetime(2026, 3, 4, 17, 0, tzinfo=datetime.UTC)  # Wednesday 12:00 in Orlando


def test_an_opted_in_buyer_in_hours_may_be_texted_and_nothing_is_recorded_yet():
    lead = LeadFactory()
    decision = outbound_check(
        recipient=recipient_for_buyer(BuyerFactory(sms_opt_in=True)), action=Action.SMS, lead=lead, now=NOON
    )
    assert (decision.allowed, decision.reason, decision.zones) == (True, Reason.ALLOWED, ("America/New_York",))
    assert not Activity.objects.exists()


def test_the_do_not_contact_list_refuses_every_channel_by_phone_or_email():
    lead = LeadFactory()
    by_phone = BuyerFactory(sms_opt_in=True, phone="(407) 555-0142")
    by_email = BuyerFactory(email="Quiet@Example.test")
    DoNotContact.objects.create(phone_digits="4075550142", reason="asked on the phone")
    DoNotContact.objects.create(email="quiet@example.test")
    sms = outbound_check(recipient=recipient_for_buyer(by_phone), action=Action.SMS, lead=lead, now=NOON)
    mail = outbound_check(recipient=recipient_for_buyer(by_email), action=Action.EMAIL_BLAST, lead=lead, now=NOON)
    assert (sms.reason, mail.reason) == (Reason.DO_NOT_CONTACT, Reason.DO_NOT_CONTACT)
    assert "on the do-not-contact list: asked on the phone" in sms.message
    assert sorted(lead.activities.values_list("to_value", flat=True)) == ["refused: do_not_contact"] * 2


@pytest.mark.parametrize(
    ("status", "reason"), [(Lead.Status.DEAD, Reason.LEAD_DEAD), (Lead.Status.CLOSED_WON, Reason.LEAD_CLOSED)]
)
def test_no_message_about_a_dead_or_closed_lead(status, reason):
    lead = LeadFactory(status=status)
    decision = outbound_check(
        recipient=recipient_for_buyer(BuyerFactory(sms_opt_in=True)), action=Action.SMS, lead=lead, now=NOON
    )
    assert (decision.allowed, decision.reason) == (False, reason)


def test_no_message_about_a_property_whose_auction_has_passed():
    lead = LeadFactory()
    ForeclosureFactory(property=lead.property, auction_date=datetime.date(2026, 3, 3))
    decision = outbound_check(
        recipient=recipient_for_buyer(BuyerFactory(sms_opt_in=True)), action=Action.SMS, lead=lead, now=NOON
    )
    assert decision.reason == Reason.AUCTION_PASSED
    assert decision.message == "Not about this property: its auction date (2026-03-03) has passed"


def test_consent_events_merge_into_one_record_per_channel_and_repeat_without_change():
    buyer = BuyerFactory()
    stop = ConsentEvent(Channel.EMAIL, False, NOON, Source.REPLY, "replied 'unsubscribe'")
    assert consent_events_record(contact=buyer, events=[stop]) == 1
    assert consent_events_record(contact=buyer, events=[stop]) == 0
    older_opt_in = ConsentEvent(Channel.EMAIL, True, NOON - datetime.timedelta(days=1), Source.LOCAL, "web form")
    assert consent_events_record(contact=buyer, events=[older_opt_in]) == 0  # the newest event wins
    record = Consent.objects.get()
    assert (record.channel, record.status, record.detail) == ("email", "revoked", "replied 'unsubscribe'")
    decision = outbound_check(recipient=recipient_for_buyer(buyer), action=Action.EMAIL_BLAST, now=NOON)
    assert (decision.allowed, decision.reason) == (False, Reason.OPTED_OUT)
    assert not Activity.objects.exists()  # no lead: the caller keeps the decision


def test_the_dialer_list_keeps_only_buyers_the_gate_allows_with_their_calling_window(admin_client):
    lead = LeadFactory()
    allowed = PropertyMatchFactory(property=lead.property, buyer=BuyerFactory(phone="+14075550101"), score=90)
    listed = PropertyMatchFactory(property=lead.property, buyer=BuyerFactory(phone="+14075550102"), score=80)
    nowhere = PropertyMatchFactory(property=lead.property, buyer=BuyerFactory(phone=""), score=70)
    DoNotContact.objects.create(phone_digits="4075550102")

    rows, refused = matches_dialer_rows(match_ids=[allowed.pk, listed.pk, nowhere.pk], now=NOON)

    assert refused == 2
    assert [row[:2] + row[4:6] for row in rows] == [
        [
            str(allowed.buyer),
            "+14075550101",
            "federal (TCPA) 08:00-21:00 (47 CFR 64.1200(c)(1)); "
            "Florida 08:00-20:00 (Fla. Stat. 501.616(6)(a), as amended by 2021 SB 1120)",
            "America/New_York",
        ]
    ]
    assert sorted(lead.activities.values_list("to_value", flat=True)) == [
        "refused: do_not_contact",
        "refused: no_time_zone",
    ]
    response = admin_client.post(
        "/admin/buyers/propertymatch/",
        {"action": "export_dialer_list", "_selected_action": [allowed.pk, listed.pk]},
    )
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().splitlines()[0] == ",".join(DIALER_HEADER)


def test_the_blast_list_leaves_out_opted_out_listed_and_passed_auction_with_the_reasons(admin_client):
    lead = LeadFactory()
    gone = LeadFactory()
    ForeclosureFactory(property=gone.property, auction_date=datetime.date(2020, 1, 6))
    ok = PropertyMatchFactory(property=lead.property, buyer=BuyerFactory(email="ann@example.com"), score=90)
    no_email = PropertyMatchFactory(property=lead.property, buyer=BuyerFactory(email="bob@example.com"), score=80)
    listed = PropertyMatchFactory(property=lead.property, buyer=BuyerFactory(email="cy@example.com"), score=70)
    passed = PropertyMatchFactory(property=gone.property, buyer=BuyerFactory(email="di@example.com"), score=60)
    consent_events_record(
        contact=no_email.buyer,
        events=[ConsentEvent(Channel.EMAIL, False, NOON, Source.GHL_DND, "GoHighLevel DND for Email")],
    )
    DoNotContact.objects.create(email="cy@example.com", reason="asked us", created_at=NOON)

    response = admin_client.post(
        "/admin/buyers/propertymatch/",
        {"action": "export_blast_list", "_selected_action": [ok.pk, no_email.pk, listed.pk, passed.pk]},
    )

    assert response["Content-Disposition"] == 'attachment; filename="blast-list.csv"'
    lines = response.content.decode().splitlines()
    assert lines[0] == ",".join(BLAST_HEADER)
    assert [line.split(",")[2] for line in lines[1:]] == ["ann@example.com"]
    assert sorted(lead.activities.values_list("to_value", "body")) == [
        (
            "refused: do_not_contact",
            f"Not sent (email_blast to {listed.buyer}): No email: on the do-not-contact list: asked us"
            " (since 2026-03-04 17:00 UTC)",
        ),
        (
            "refused: opted_out",
            f"Not sent (email_blast to {no_email.buyer}): No email: GoHighLevel DND for Email"
            " (since 2026-03-04 17:00 UTC)",
        ),
    ]
    assert list(gone.activities.values_list("to_value", "body")) == [
        (
            "refused: auction_passed",
            f"Not sent (email_blast to {passed.buyer}): "
            "Not about this property: its auction date (2020-01-06) has passed",
        )
    ]


def test_the_batch_gate_asks_a_fixed_number_of_queries_whatever_the_list_length():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(n):
        lead = LeadFactory()
        ForeclosureFactory(property=lead.property)
        ids = [PropertyMatchFactory(property=lead.property, buyer=BuyerFactory()).pk for _ in range(n)]
        DoNotContact.objects.create(phone_digits=phone_digits(PropertyMatch.objects.get(pk=ids[0]).buyer.phone))
        with CaptureQueriesContext(connection) as queries:
            rows, refused = matches_dialer_rows(match_ids=ids, now=NOON)
        assert (len(rows), refused) == (n - 1, 1)
        return len(queries)

    assert count(2) == count(12)
