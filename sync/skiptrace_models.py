"""Skip tracing bookkeeping: who acknowledged permissible use, each billable call, each owner's trace, its contacts.

A trace is of an owner (issue 20's Owner, across its parcels) and asks by one of its leads' property; a lead whose
parcel has no resolved owner is traced on its own. Phones and emails live on the owner (or on such a lead)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class PermissibleUseAcknowledgement(models.Model):
    """A user's statement that traced data is used for a permissible purpose (DPPA/GLBA); required before tracing."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(
        max_length=200, default="Contacting property owners about buying their property (DPPA/GLBA permissible use)"
    )
    acknowledged_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.user} on {self.acknowledged_at:%Y-%m-%d}"


class SkipTraceCall(models.Model):
    """One billable API call to the provider (up to its batch size of properties)."""

    provider = models.CharField(max_length=32)
    requests = models.PositiveIntegerField(default=0)
    hits = models.PositiveIntegerField(default=0)
    no_hits = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    error = models.TextField(blank=True, help_text="Why the whole call failed (nothing billed)")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.provider} call {self.pk}: {self.hits}/{self.requests} hits"


class LeadSkipTrace(models.Model):
    """What one call answered for one owner, asked by one of its leads' property (`lead`); `owner` is blank only
    for a lead whose parcel has no resolved owner. The skip-trace window counts per owner."""

    lead = models.ForeignKey(
        "leads.Lead",
        on_delete=models.CASCADE,
        related_name="skip_traces",
        help_text="The lead whose property was asked",
        db_index=False,  # skiptrace_lead_time_idx, as the owner's below
    )
    owner = models.ForeignKey(
        "properties.Owner",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="skip_traces",
        help_text="The owner traced (blank: the lead's parcel had no resolved owner)",
        db_index=False,
    )
    call = models.ForeignKey(SkipTraceCall, on_delete=models.CASCADE, related_name="traces")
    status = models.CharField(max_length=16)  # sync.skiptrace.base.TraceStatus
    persons = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    traced_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-traced_at"]
        indexes = [
            models.Index(fields=["lead", "-traced_at"], name="skiptrace_lead_time_idx"),
            models.Index(fields=["owner", "-traced_at"], name="skiptrace_owner_time_idx"),
        ]

    def __str__(self):
        return f"owner {self.owner_id}: {self.status}" if self.owner_id else f"lead {self.lead_id}: {self.status}"


class LeadContactPoint(models.Model):
    """A phone or email of an owner: entered by a broker, or added by a trace (which never overwrites). It belongs to
    the Owner; to the lead itself only while the lead's parcel has no resolved owner (readers take both)."""

    class Kind(models.TextChoices):
        PHONE = "phone", "Phone"
        EMAIL = "email", "Email"

    # Each is the first column of a unique constraint below, whose index serves it alone.
    owner = models.ForeignKey(
        "properties.Owner",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="contact_points",
        db_index=False,
    )
    lead = models.ForeignKey(
        "leads.Lead",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="contact_points",
        help_text="Only for a lead whose parcel has no resolved owner",
        db_index=False,
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    value = models.CharField(max_length=254, help_text="10 digits for a US phone; an email as given")
    phone_type = models.CharField(max_length=16, blank=True)
    dnc = models.BooleanField(null=True, blank=True, help_text="On the Do Not Call registry (as the provider said)")
    tcpa = models.BooleanField(null=True, blank=True, help_text="Flagged for TCPA: never call or text without consent")
    rank = models.PositiveSmallIntegerField(null=True, blank=True)
    source = models.CharField(max_length=32, default="broker", help_text="broker, or the skip-trace provider")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lead", "kind", "value"], name="contactpoint_lead_value_uniq"),
            models.UniqueConstraint(fields=["owner", "kind", "value"], name="contactpoint_owner_value_uniq"),
            models.CheckConstraint(
                condition=models.Q(owner__isnull=False, lead__isnull=True)
                | models.Q(owner__isnull=True, lead__isnull=False),
                name="contactpoint_owner_or_lead",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.value}"

    def clean(self):
        if self.owner_id is None and self.lead_id is None:
            raise ValidationError("Give the owner (or, for a parcel without a resolved owner, the lead).")
        if self.owner_id is not None and self.lead_id is not None:
            raise ValidationError("Give the owner or the lead, not both: a phone or email belongs to the owner.")
        if self.lead_id is not None and self.lead.property.owner_id is not None:
            raise ValidationError(
                {"lead": f"This lead's parcel belongs to owner {self.lead.property.owner}: enter it on the owner."}
            )
