"""Alerts: new Tier A leads (and data-quality errors) to Slack and an email digest.

Each channel is off until configured (settings.SLACK_WEBHOOK_URL, settings.ALERT_EMAIL_TO).
Every lead is announced at most once per entry into Tier A: an Alert row per (lead, channel,
kind, entered_on) records what went out. A failed send is recorded (status failed, error
text), never raised, and retried by the next run while the lead is still Tier A.
"""

import datetime
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpx
from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from dealfinder.common.logging import redact_secrets
from leads.models import Alert, Lead
from leads.selectors import lead_ids_new_tier_a
from properties.models import QualityReport

logger = logging.getLogger(__name__)

SLACK_MAX_LEADS = 20  # Slack allows 50 blocks per message; the rest are summarised
TOP_REASONS = 3


@dataclass
class AlertSummary:
    leads: int = 0
    sent: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code == 429 or exc.response.status_code >= 500
    return isinstance(exc, httpx.TransportError)


def slack_escape(text: str) -> str:
    """Text for Slack's mrkdwn: &, < and > escaped as Slack asks, so data (an address, a reason, an error) can
    neither make links or mentions (<!channel>, <https://evil|click>) nor break the message's own links."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _describe_failure(exc: BaseException) -> str:
    """Why a send failed, without the webhook URL (it is the credential; httpx puts it in its messages)."""
    if isinstance(exc, httpx.HTTPStatusError):
        response = exc.response
        text = f"{type(exc).__name__}: Slack answered {response.status_code} {response.reason_phrase}"
        return redact_secrets(f"{text}: {response.text[:200]}" if response.text else text)
    return redact_secrets(f"{type(exc).__name__}: {exc}")


def _post_slack(payload: dict) -> None:
    """POST to the incoming webhook; 429, 5xx and network errors are retried with short waits."""
    wait = float(getattr(settings, "ALERT_RETRY_WAIT_SECONDS", 1.0))
    retrying = Retrying(
        stop=stop_after_attempt(int(getattr(settings, "ALERT_RETRY_ATTEMPTS", 3))),
        wait=wait_exponential(multiplier=wait, max=wait * 8),
        retry=retry_if_exception(_retryable),
        reraise=True,
    )
    for attempt in retrying:
        with attempt:
            response = httpx.post(settings.SLACK_WEBHOOK_URL, json=payload, timeout=settings.HTTP_TIMEOUT_SECONDS)
            response.raise_for_status()


def _send(channel: str, *, subject: str, text: str, blocks: list[dict]) -> str:
    """Send on one channel; returns "" on success or the error text (logged, never raised)."""
    try:
        if channel == Alert.Channel.SLACK:
            _post_slack({"text": slack_escape(f"{subject}\n{text}"), "blocks": blocks})
        else:
            send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, list(settings.ALERT_EMAIL_TO))
    except Exception as exc:  # a failed alert must not break the pipeline
        error = _describe_failure(exc)[:2000]
        logger.warning("%s alert failed: %s", channel, error)
        return error
    return ""


def _channels() -> list[str]:
    return [
        channel
        for channel, configured in (
            (Alert.Channel.SLACK, settings.SLACK_WEBHOOK_URL),
            (Alert.Channel.EMAIL, settings.ALERT_EMAIL_TO),
        )
        if configured
    ]


def _admin_url(lead: Lead) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("admin:leads_lead_change", args=[lead.pk])


def _top_reasons(lead: Lead) -> list[str]:
    """The highest-scoring reasons (caps left out)."""
    awarded = [r for r in lead.reasons if r.endswith(")") and "(+" in r]
    return sorted(awarded, key=lambda r: -int(r.rsplit("(+", 1)[1].rstrip(")")))[:TOP_REASONS]


def _lead_address(lead: Lead) -> str:
    return lead.property.address_normalized or lead.property.address or lead.property.parcel_id


def _tier_a_message(leads: list[Lead]) -> tuple[str, str, list[dict]]:
    subject = f"DealFinder: {len(leads)} new Tier A lead{'s' if len(leads) != 1 else ''}"
    lines, blocks = [], [{"type": "header", "text": {"type": "plain_text", "text": subject}}]
    for lead in leads:
        reasons = _top_reasons(lead)
        lines.append(
            f"{_lead_address(lead)} - score {lead.total}\n  " + "\n  ".join(reasons) + f"\n  {_admin_url(lead)}"
        )
    for lead in leads[:SLACK_MAX_LEADS]:
        bullets = "".join(f"\n• {slack_escape(r)}" for r in _top_reasons(lead))
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"*<{_admin_url(lead)}|{slack_escape(_lead_address(lead))}>* score {lead.total}{bullets}",
                },
            }
        )
    if len(leads) > SLACK_MAX_LEADS:
        more = len(leads) - SLACK_MAX_LEADS
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"and {more} more in the admin"}]})
    return subject, "\n\n".join(lines), blocks


def _record(alerts: list[Alert], unique_fields: list[str]) -> None:
    Alert.objects.bulk_create(
        alerts,
        update_conflicts=True,
        unique_fields=unique_fields,
        update_fields=["status", "error", "batch", "created_at"],
    )


def _pending_tier_a(channel: str, *, lead_ids: Iterable[int], today: datetime.date) -> dict[int, datetime.date]:
    """lead id -> entered_on for today's new entries plus failed ones still Tier A, minus sent ones."""
    pending = dict(
        Alert.objects.filter(channel=channel, kind=Alert.Kind.NEW_TIER_A, status=Alert.Status.FAILED, lead__tier="A")
        .order_by("entered_on")
        .values_list("lead_id", "entered_on")
    )
    pending.update(dict.fromkeys(lead_ids, today))
    sent = Alert.objects.filter(
        channel=channel, kind=Alert.Kind.NEW_TIER_A, status=Alert.Status.SENT, lead_id__in=list(pending)
    ).values_list("lead_id", "entered_on")
    for lead_id, entered_on in sent:
        if pending.get(lead_id) == entered_on:
            del pending[lead_id]
    return pending


def alerts_send_new_tier_a(
    *, lead_ids: Iterable[int] | None = None, today: datetime.date | None = None
) -> AlertSummary:
    """Announce new Tier A leads (default: today's snapshots that were not A before) once per entry."""
    today = today or timezone.localdate()
    lead_ids = list(lead_ids_new_tier_a(today=today) if lead_ids is None else lead_ids)
    summary = AlertSummary(leads=len(lead_ids))
    for channel in _channels():
        pending = _pending_tier_a(channel, lead_ids=lead_ids, today=today)
        if not pending:
            continue
        leads = list(Lead.objects.filter(id__in=list(pending)).select_related("property").order_by("-total", "id"))
        subject, text, blocks = _tier_a_message(leads)
        error = _send(channel, subject=subject, text=text, blocks=blocks)
        status = Alert.Status.FAILED if error else Alert.Status.SENT
        batch, now = uuid.uuid4(), timezone.now()
        _record(
            [
                Alert(
                    lead=lead,
                    channel=channel,
                    kind=Alert.Kind.NEW_TIER_A,
                    entered_on=pending[lead.pk],
                    batch=batch,
                    status=status,
                    error=error,
                    created_at=now,
                )
                for lead in leads
            ],
            ["lead", "channel", "kind", "entered_on"],
        )
        (summary.failed if error else summary.sent)[channel] = len(leads)
        if error:
            summary.errors.append(f"{channel}: {error}")
    return summary


def alerts_send_quality_errors(*, report: QualityReport) -> AlertSummary:
    """Announce a quality report's errors once per channel (a failed send is retried next call)."""
    summary = AlertSummary()
    errors = [f for f in report.findings if f["severity"] == "error"]
    if not errors:
        return summary
    sent = set(Alert.objects.filter(quality_report=report, status=Alert.Status.SENT).values_list("channel", flat=True))
    subject = f"DealFinder data quality: {len(errors)} error{'s' if len(errors) != 1 else ''}"
    text = "\n".join(f"{f['check']}: {f['message']}" for f in errors)
    link = settings.SITE_URL.rstrip("/") + reverse("admin:properties_qualityreport_change", args=[report.pk])
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": subject}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "".join(f"• {slack_escape(line)}\n" for line in text.splitlines())},
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{link}|Open the report>"}]},
    ]
    for channel in _channels():
        if channel in sent:
            continue
        error = _send(channel, subject=subject, text=f"{text}\n{link}", blocks=blocks)
        _record(
            [
                Alert(
                    quality_report=report,
                    channel=channel,
                    kind=Alert.Kind.QUALITY_ERRORS,
                    entered_on=timezone.localdate(report.created_at),
                    batch=uuid.uuid4(),
                    status=Alert.Status.FAILED if error else Alert.Status.SENT,
                    error=error,
                    created_at=timezone.now(),
                )
            ],
            ["quality_report", "channel"],
        )
        (summary.failed if error else summary.sent)[channel] = 1
        if error:
            summary.errors.append(f"{channel}: {error}")
    return summary


def alerts_send_text(*, subject: str, body: str) -> AlertSummary:
    """A plain operational message (e.g. a failed pipeline run) on every configured channel; not recorded."""
    summary = AlertSummary()
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": subject[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": slack_escape(body)[:3000]}},
    ]
    for channel in _channels():
        error = _send(channel, subject=subject, text=body, blocks=blocks)
        (summary.failed if error else summary.sent)[channel] = 1
        if error:
            summary.errors.append(f"{channel}: {error}")
    return summary
