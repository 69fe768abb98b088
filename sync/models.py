"""GoHighLevel sync bookkeeping: runs, id links, conflicts, webhooks."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone

from dealfinder.common.models import RunRecord
from sync import compliance


class SyncLog(RunRecord):
    COUNT_FIELDS = ("processed", "succeeded", "failed", "skipped")

    class SyncType(models.TextChoices):
        LEAD_PUSH = "lead_push", "Lead push"
        BUYER_PULL = "buyer_pull", "Buyer pull"
        WEBHOOK = "webhook", "Webhook"
        RECONCILE = "reconcile", "Reconcile"
        DEFERRED = "deferred", "Deferred messages"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCESS = "success", "Success"
        PARTIAL = "partial", "Partial"
        FAILED = "failed", "Failed"

    sync_type = models.CharField(max_length=16, choices=SyncType.choices)  # synclog_type_time_idx
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING, db_index=True)
    processed = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    duration_seconds = models.FloatField(null=True, blank=True)
    sync_run_id = models.CharField(
        max_length=32, blank=True, db_index=True, help_text="The id this run's log lines carry (sync_run_id)"
    )
    drift_found = models.PositiveIntegerField(
        default=0, help_text="Reconcile: records GoHighLevel changed that DealFinder had not heard of"
    )
    drift_applied = models.PositiveIntegerField(default=0, help_text="Reconcile: of those, applied locally")
    cursor = models.JSONField(
        default=dict, blank=True, help_text="Reconcile: where this run read up to (the next run starts there)"
    )

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"
        indexes = [models.Index(fields=["sync_type", "-started_at"], name="synclog_type_time_idx")]

    def __str__(self):
        return f"{self.get_sync_type_display()} @ {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class ExternalLink(models.Model):
    """A local object <-> its GoHighLevel id, with the hash of what was last pushed.

    A contact belongs to one owner (or, before owners, one lead). When GoHighLevel answers an upsert with a contact
    already linked to another object (its own duplicate rules merged them), the second object gets a
    `shared_contact` link to it: recorded for a broker's review, used for its opportunities, never pushed over."""

    class Kind(models.TextChoices):
        CONTACT = "contact", "Contact"
        OPPORTUNITY = "opportunity", "Opportunity"
        SHARED_CONTACT = "shared_contact", "Contact shared with another owner (review)"

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, db_index=False)  # see Meta
    object_id = models.PositiveBigIntegerField()
    local_object = GenericForeignKey("content_type", "object_id")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    ghl_id = models.CharField("GoHighLevel id", max_length=64)
    last_synced_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_hash = models.CharField(max_length=64, blank=True)
    remote_updated_at = models.DateTimeField(null=True, blank=True)
    remote_snapshot = models.JSONField(default=dict, blank=True, help_text="Fields as last seen in GoHighLevel")
    drift = models.JSONField(
        default=dict,
        blank=True,
        help_text="Read-back: field -> {sent, ghl}, what GoHighLevel kept differently from what was pushed",
    )
    drift_checked_at = models.DateTimeField(null=True, blank=True, help_text="When the last read-back ran")
    remote_deleted_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="When a reconcile found it deleted in GoHighLevel"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["content_type", "object_id", "kind"], name="externallink_one_per_object"),
            models.UniqueConstraint(
                fields=["kind", "ghl_id"], condition=~Q(kind="shared_contact"), name="externallink_unique_remote"
            ),
        ]

    def __str__(self):
        return f"{self.content_type.model} #{self.object_id} -> {self.kind} {self.ghl_id}"


class SyncConflict(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        KEPT_LOCAL = "kept_local", "Kept DealFinder value"
        TOOK_REMOTE = "took_remote", "Took GoHighLevel value"

    link = models.ForeignKey(ExternalLink, on_delete=models.CASCADE, related_name="conflicts")
    field = models.CharField(max_length=100)
    local_value = models.JSONField(null=True, blank=True)
    remote_value = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN, db_index=True)
    detected_at = models.DateTimeField(default=timezone.now, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        ordering = ["-detected_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["link", "field"], condition=models.Q(status="open"), name="syncconflict_one_open_per_field"
            )
        ]

    def __str__(self):
        return f"{self.link} {self.field} ({self.status})"


class WebhookEvent(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        REJECTED = "rejected", "Rejected"
        FAILED = "failed", "Failed"

    webhook_id = models.CharField(max_length=100, null=True, blank=True, unique=True)
    event_type = models.CharField(max_length=64, blank=True, db_index=True)
    payload = models.JSONField(default=dict, blank=True, help_text="The event, for signed events that were stored")
    body_excerpt = models.TextField(
        blank=True, help_text="The first bytes of a rejected body (its payload is not kept); pruned after a while"
    )
    client_ip = models.CharField(max_length=64, blank=True, help_text="Who delivered it")
    signature_scheme = models.CharField(max_length=16, blank=True, help_text="ed25519, rsa or none")
    signature_valid = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.event_type or 'webhook'} {self.webhook_id or ''}".strip()


class PushClaim(models.Model):
    """A lead being pushed to GoHighLevel: the row is the lock (one per lead), taken by one push run for a batch and
    removed when the batch is done, so two workers never create two contacts for one lead. A claim older than
    PUSH_CLAIM_TIMEOUT belongs to a run that was killed and is taken over."""

    lead = models.OneToOneField("leads.Lead", on_delete=models.CASCADE, primary_key=True, related_name="+")
    owner = models.CharField(max_length=32, help_text="The push run holding it")
    claimed_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self):
        return f"lead {self.lead_id} claimed by {self.owner}"


class Consent(models.Model):
    """What one contact (a buyer, later an owner: any model, by generic key) allows on one channel: the merge of
    GoHighLevel's DND flags, replies (STOP/START), local opt-ins/outs and the do-not-contact list
    (sync.compliance.merge_consents). Written by sync.consent, read by the compliance gate before every message."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, db_index=False)  # see Meta
    object_id = models.PositiveBigIntegerField()
    contact = GenericForeignKey("content_type", "object_id")
    channel = models.CharField(max_length=16, choices=[(c.value, c.value) for c in compliance.Channel])
    status = models.CharField(max_length=16, choices=[(s.value, s.value) for s in compliance.Status], db_index=True)
    source = models.CharField(max_length=32, blank=True, help_text="ghl_dnd, reply, local, do_not_contact, ...")
    detail = models.CharField(max_length=300, blank=True)
    permanent = models.BooleanField(default=False, help_text="A refusal nothing later lifts")
    at = models.DateTimeField(null=True, blank=True, help_text="When the deciding event happened")
    evidence = models.JSONField(default=dict, blank=True, help_text="The payload or message it came from")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["content_type", "object_id", "channel"], name="consent_one_per_channel")
        ]

    def __str__(self):
        return f"{self.content_type.model} #{self.object_id} {self.channel}: {self.status}"


class DoNotContact(models.Model):
    """Never contact this phone or email, on any channel (a broker's list; a match refuses every message)."""

    phone_digits = models.CharField(max_length=15, blank=True, db_index=True, help_text="Digits only, no +1")
    email = models.CharField(max_length=254, blank=True, db_index=True, help_text="Lower case")
    reason = models.CharField(max_length=300, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "do-not-contact entry"
        verbose_name_plural = "do-not-contact list"
        constraints = [
            models.CheckConstraint(condition=~models.Q(phone_digits="", email=""), name="donotcontact_phone_or_email")
        ]

    def __str__(self):
        return self.email or self.phone_digits


from sync.deferred_models import DeferredMessage  # noqa: E402, F401
from sync.mail_models import MailCampaign, MailOptOut, MailPiece, MailVerification  # noqa: E402, F401
from sync.skiptrace_models import (  # noqa: E402, F401
    LeadContactPoint,
    LeadSkipTrace,
    PermissibleUseAcknowledgement,
    SkipTraceCall,
)
