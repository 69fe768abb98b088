import json

import httpx
import pytest
import respx
from django.core import mail

from leads.alerts import alerts_send_new_tier_a, alerts_send_text
from leads.models import Alert, Lead
from leads.services import leads_score_all
from tests import factories as pf
from tests.factories import LeadFactory
from tests.leads.conftest import TODAY, days, hot_property

pytestmark = pytest.mark.django_db

WEBHOOK = "https://hooks.slack.test/services/T0000/B0000/XXXXXXXX"
# What Slack's incoming webhooks answer (text/plain bodies).
SLACK_OK = httpx.Response(200, text="ok")
SLACK_RATE_LIMITED = httpx.Response(429, text="rate_limited", headers={"Retry-After": "1"})
SLACK_DOWN = httpx.Response(500, text="internal_error")


@pytest.fixture
def channels(settings):
    settings.SLACK_WEBHOOK_URL = WEBHOOK
    settings.ALERT_EMAIL_TO = ["deals@example.test"]
    settings.ALERT_RETRY_WAIT_SECONDS = 0
    settings.SITE_URL = "https://dealfinder.example.test/"


@pytest.fixture
def hot(db):
    prop = hot_property(parcel_id="HOT", street="12 ELM ST")
    pf.PropertyFactory(parcel_id="CLEAN")
    leads_score_all(today=TODAY)
    return Lead.objects.get(property=prop)


def expected_text(lead):
    return (
        "12 ELM ST, ORLANDO, FL 32801 - score 75\n"
        "  Active tax-deed sale (+16)\n"
        "  Foreclosure auction scheduled (+16)\n"
        "  Equity 52% (+15)\n"
        f"  https://dealfinder.example.test/admin/leads/lead/{lead.pk}/change/"
    )


def alerts():
    return sorted(Alert.objects.values_list("lead_id", "channel", "kind", "entered_on", "status", "error"))


@respx.mock(assert_all_called=True)
def test_new_tier_a_goes_out_once_per_channel(respx_mock, channels, hot):
    route = respx_mock.post(WEBHOOK).mock(return_value=SLACK_OK)

    summary = alerts_send_new_tier_a(today=TODAY)

    assert (summary.leads, summary.sent, summary.failed, summary.errors) == (1, {"slack": 1, "email": 1}, {}, [])
    assert route.call_count == 1
    assert json.loads(route.calls[0].request.content) == {
        "text": "DealFinder: 1 new Tier A lead\n" + expected_text(hot),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "DealFinder: 1 new Tier A lead"}},
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"*<https://dealfinder.example.test/admin/leads/lead/{hot.pk}/change/|"
                    "12 ELM ST, ORLANDO, FL 32801>* score 75\n• Active tax-deed sale (+16)"
                    "\n• Foreclosure auction scheduled (+16)\n• Equity 52% (+15)",
                },
            },
        ],
    }
    assert len(mail.outbox) == 1
    assert (mail.outbox[0].subject, mail.outbox[0].to) == ("DealFinder: 1 new Tier A lead", ["deals@example.test"])
    assert mail.outbox[0].body == expected_text(hot)
    assert alerts() == [
        (hot.pk, "email", "new_tier_a", TODAY, "sent", ""),
        (hot.pk, "slack", "new_tier_a", TODAY, "sent", ""),
    ]

    # Same day again (also after a re-score): nothing goes out twice.
    leads_score_all(today=TODAY)
    again = alerts_send_new_tier_a(today=TODAY)
    assert (again.leads, again.sent, again.failed) == (1, {}, {})
    assert route.call_count == 1
    assert len(mail.outbox) == 1
    assert Alert.objects.count() == 2


@respx.mock(assert_all_called=True)
def test_failed_slack_is_recorded_and_retried_next_run(respx_mock, channels, hot):
    route = respx_mock.post(WEBHOOK).mock(side_effect=[SLACK_DOWN, SLACK_DOWN, SLACK_DOWN])

    summary = alerts_send_new_tier_a(today=TODAY)

    assert route.call_count == 3  # first try + 2 retries
    assert (summary.sent, summary.failed) == ({"email": 1}, {"slack": 1})
    error = "HTTPStatusError: Slack answered 500 Internal Server Error: internal_error"  # never the URL
    assert summary.errors == [f"slack: {error}"]
    assert alerts() == [
        (hot.pk, "email", "new_tier_a", TODAY, "sent", ""),
        (hot.pk, "slack", "new_tier_a", TODAY, "failed", error),
    ]

    # Next day: the lead is still A (not new), the failed Slack alert is retried, email is not resent.
    route.side_effect = [SLACK_OK]
    leads_score_all(today=days(1))
    retry = alerts_send_new_tier_a(today=days(1))
    assert (retry.leads, retry.sent, retry.failed) == (0, {"slack": 1}, {})
    assert route.call_count == 4
    assert len(mail.outbox) == 1
    assert alerts() == [
        (hot.pk, "email", "new_tier_a", TODAY, "sent", ""),
        (hot.pk, "slack", "new_tier_a", TODAY, "sent", ""),
    ]


@respx.mock(assert_all_called=True)
def test_rate_limited_slack_is_retried(respx_mock, channels, hot):
    route = respx_mock.post(WEBHOOK).mock(side_effect=[SLACK_RATE_LIMITED, SLACK_OK])
    assert alerts_send_new_tier_a(lead_ids=[hot.pk], today=TODAY).sent == {"slack": 1, "email": 1}
    assert route.call_count == 2


@respx.mock(assert_all_called=True)
def test_bad_webhook_is_not_retried(respx_mock, channels, hot):
    route = respx_mock.post(WEBHOOK).mock(return_value=httpx.Response(404, text="no_service"))
    assert alerts_send_new_tier_a(today=TODAY).failed == {"slack": 1}
    assert route.call_count == 1


def test_network_error_is_recorded(respx_mock, channels, hot, settings):
    settings.ALERT_EMAIL_TO = []
    respx_mock.post(WEBHOOK).mock(side_effect=httpx.ConnectTimeout("timed out"))
    summary = alerts_send_new_tier_a(today=TODAY)
    assert summary.errors == ["slack: ConnectTimeout: timed out"]
    assert alerts() == [(hot.pk, "slack", "new_tier_a", TODAY, "failed", "ConnectTimeout: timed out")]


@respx.mock(assert_all_mocked=True)
def test_channels_are_off_by_default(respx_mock, hot, settings):
    settings.SLACK_WEBHOOK_URL = ""
    settings.ALERT_EMAIL_TO = []
    summary = alerts_send_new_tier_a(today=TODAY)
    assert (summary.leads, summary.sent, summary.failed) == (1, {}, {})
    assert len(respx_mock.calls) == 0
    assert mail.outbox == []
    assert Alert.objects.count() == 0


def test_leaving_tier_a_and_coming_back_is_a_new_entry(respx_mock, channels, hot):
    route = respx_mock.post(WEBHOOK).mock(return_value=SLACK_OK)
    alerts_send_new_tier_a(today=TODAY)
    hot.property.code_violations.update(status="Closed")
    leads_score_all(today=days(1))
    assert alerts_send_new_tier_a(today=days(1)).leads == 0
    hot.property.code_violations.update(status="Open")
    leads_score_all(today=days(2))
    assert alerts_send_new_tier_a(today=days(2)).sent == {"slack": 1, "email": 1}
    assert route.call_count == 2
    assert list(Alert.objects.filter(channel="slack").order_by("entered_on").values_list("entered_on", flat=True)) == [
        TODAY,
        days(2),
    ]


def test_plain_text_alert_for_operations(respx_mock, channels, db):
    route = respx_mock.post(WEBHOOK).mock(return_value=SLACK_OK)
    summary = alerts_send_text(subject="DealFinder: nightly run #4 failed", body="score failed: boom")
    assert (summary.sent, summary.failed) == ({"slack": 1, "email": 1}, {})
    assert json.loads(route.calls[0].request.content) == {
        "text": "DealFinder: nightly run #4 failed\nscore failed: boom",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "DealFinder: nightly run #4 failed"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": "score failed: boom"}},
        ],
    }
    assert [(m.subject, m.body) for m in mail.outbox] == [("DealFinder: nightly run #4 failed", "score failed: boom")]
    assert Alert.objects.count() == 0


def test_a_long_list_is_summarised_in_slack_and_complete_in_email(respx_mock, channels, db):
    route = respx_mock.post(WEBHOOK).mock(return_value=SLACK_OK)
    leads = LeadFactory.create_batch(22, tier="A", total=80, reasons=["Active tax-deed sale (+16)"])

    summary = alerts_send_new_tier_a(lead_ids=[lead.pk for lead in leads], today=TODAY)

    assert summary.sent == {"slack": 22, "email": 22}
    blocks = json.loads(route.calls[0].request.content)["blocks"]
    assert [block["type"] for block in blocks] == ["header"] + ["section"] * 20 + ["context"]
    assert blocks[-1]["elements"][0]["text"] == "and 2 more in the admin"
    assert mail.outbox[0].subject == "DealFinder: 22 new Tier A leads"
    assert mail.outbox[0].body.count("score 80") == 22
    assert Alert.objects.filter(status="sent", entered_on=TODAY).count() == 44


@pytest.fixture
def console():
    """What the configured log handler (settings.LOGGING "console") writes, with its filters and formatter."""
    import io
    import logging

    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_the_webhook_url_never_reaches_the_logs_or_the_alert_rows(respx_mock, channels, hot, console, settings):
    """The incoming-webhook URL is the credential: httpx logs request URLs at INFO, and its errors carry them."""
    secret = "T0000/B0000/XXXXXXXX"
    route = respx_mock.post(WEBHOOK).mock(side_effect=[SLACK_DOWN, SLACK_DOWN, httpx.Response(404, text="no_service")])
    failed = alerts_send_new_tier_a(today=TODAY)
    route.side_effect = [SLACK_OK]
    leads_score_all(today=days(1))
    sent = alerts_send_new_tier_a(today=days(1))

    assert (failed.failed, sent.sent) == ({"slack": 1}, {"slack": 1})
    logged = console.getvalue()
    assert secret not in logged
    assert 'HTTP Request: POST https://hooks.slack.test/*** "HTTP/1.1 200 OK"' in logged
    assert "slack alert failed: HTTPStatusError: Slack answered 404 Not Found: no_service" in logged
    assert not [error for error in Alert.objects.values_list("error", flat=True) if secret in error]
    assert failed.errors == ["slack: HTTPStatusError: Slack answered 404 Not Found: no_service"]


def test_a_network_error_naming_the_url_is_redacted(respx_mock, channels, hot, console, settings):
    settings.ALERT_EMAIL_TO = []
    respx_mock.post(WEBHOOK).mock(side_effect=httpx.ConnectError(f"cannot reach {WEBHOOK}"))
    summary = alerts_send_new_tier_a(today=TODAY)
    assert summary.errors == ["slack: ConnectError: cannot reach https://hooks.slack.test/***"]
    assert "XXXXXXXX" not in console.getvalue()


def test_data_sent_to_slack_is_escaped(respx_mock, channels, db):
    """An address or error is data: it must not mention @channel, add links or break the lead's link."""
    route = respx_mock.post(WEBHOOK).mock(return_value=SLACK_OK)
    lead = LeadFactory(
        tier="A",
        total=90,
        reasons=["Owner <!channel> & co (+16)"],
        property__address_normalized="1 MAIN ST> <https://evil.example|CLICK>",
    )

    alerts_send_new_tier_a(lead_ids=[lead.pk], today=TODAY)
    alerts_send_text(subject="run failed", body="score failed: <!here> a > b & c")

    lead_block = json.loads(route.calls[0].request.content)["blocks"][1]["text"]["text"]
    assert lead_block == (
        f"*<https://dealfinder.example.test/admin/leads/lead/{lead.pk}/change/|"
        "1 MAIN ST&gt; &lt;https://evil.example|CLICK&gt;>* score 90\n• Owner &lt;!channel&gt; &amp; co (+16)"
    )
    text = json.loads(route.calls[1].request.content)
    assert text["blocks"][1]["text"]["text"] == "score failed: &lt;!here&gt; a &gt; b &amp; c"
    assert text["text"] == "run failed\nscore failed: &lt;!here&gt; a &gt; b &amp; c"
    assert mail.outbox[-1].body == "score failed: <!here> a > b & c"  # email is plain text: left as it is
