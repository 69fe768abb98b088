"""Direct mail through Lob: campaigns, verified mailing addresses, mail pieces, local mail opt-outs."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from sync.drip import DEFAULT_TOUCH_DAYS, parse_touch_days
from sync.mail_pieces import PieceKind, template_problems

PIECE_KIND_CHOICES = [(kind.value, kind.label) for kind in PieceKind]


class MailCampaign(models.Model):
    """A drip of postcards or letters to the owners of a saved lead audience."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    active = models.BooleanField(default=True, help_text="Only active campaigns mail in the nightly run")
    audience = models.JSONField(
        default=dict,
        blank=True,
        help_text='A saved lead filter, as the lead API takes it: {"tier": ["A", "B"], "min_stack": 2, "zip": "32808"}',
    )
    piece_kind = models.CharField(max_length=16, choices=PIECE_KIND_CHOICES, default=PieceKind.POSTCARD_4X6.value)
    front_html = models.TextField("front (postcard)", blank=True)
    back_html = models.TextField("back (postcard)", blank=True)
    file_html = models.TextField("letter", blank=True)
    touch_days = models.CharField(
        max_length=100,
        default=",".join(map(str, DEFAULT_TOUCH_DAYS)),
        help_text="Days of each touch, the first on day 0: 0,21,42",
    )
    starts_on = models.DateField(null=True, blank=True)
    return_name = models.CharField(max_length=40, blank=True)
    return_company = models.CharField(max_length=40, blank=True)
    return_line1 = models.CharField(max_length=64, blank=True)
    return_line2 = models.CharField(max_length=64, blank=True)
    return_city = models.CharField(max_length=64, blank=True)
    return_state = models.CharField(max_length=2, blank=True)
    return_zip = models.CharField(max_length=10, blank=True)
    sender_name = models.CharField(max_length=100, blank=True)
    sender_phone = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def kind(self) -> PieceKind:
        return PieceKind(self.piece_kind)

    @property
    def templates(self) -> dict[str, str]:
        return {"front": self.front_html, "back": self.back_html, "file": self.file_html}

    @property
    def days(self) -> tuple[int, ...]:
        return parse_touch_days(self.touch_days)

    @property
    def return_address_text(self) -> str:
        last = f"{self.return_city}, {self.return_state} {self.return_zip}".strip(", ")
        lines = [self.return_company or self.return_name, self.return_line1, self.return_line2, last]
        return "\n".join(line for line in lines if line.strip())

    def clean(self):
        errors = {}
        try:
            parse_touch_days(self.touch_days)
        except ValueError as exc:
            errors["touch_days"] = str(exc)
        for side in self.kind.sides:
            problems = template_problems(self.templates[side])
            if problems:
                errors[f"{side}_html"] = problems
        if self.kind is PieceKind.LETTER and not self.return_line1:
            errors["return_line1"] = "a letter needs a return address"
        if errors:
            raise ValidationError(errors)


class MailVerification(models.Model):
    """One Lob US verification per mailing address (as recorded, upper-cased), so it is verified once."""

    address_key = models.CharField(max_length=255, unique=True)
    deliverability = models.CharField(max_length=40, blank=True)
    mailable = models.BooleanField(default=False)
    standardized = models.JSONField(default=dict, blank=True, help_text="The USPS-standardized address Lob answered")
    notes = models.TextField(blank=True)
    lob_id = models.CharField(max_length=64, blank=True)
    verified_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.address_key}: {self.deliverability}"


class MailPiece(models.Model):
    """One touch of a campaign to one lead: unique per (campaign, lead, touch), so a lead is mailed once per touch."""

    class Status(models.TextChoices):
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        MAILED = "mailed", "Mailed"
        IN_TRANSIT = "in_transit", "In transit"
        DELIVERED = "delivered", "Delivered"
        RETURNED = "returned", "Returned to sender"
        CANCELLED = "cancelled", "Cancelled"

    # Its unique constraint (campaign, lead, touch) leads with the campaign: no index of its own.
    campaign = models.ForeignKey(MailCampaign, on_delete=models.PROTECT, related_name="pieces", db_index=False)
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="mail_pieces")
    touch = models.PositiveSmallIntegerField()
    idempotency_key = models.CharField(max_length=256, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SENDING, db_index=True)
    lob_id = models.CharField(max_length=64, blank=True, db_index=True)
    expected_delivery_date = models.DateField(null=True, blank=True)
    cost = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True, help_text="From MAIL_UNIT_COSTS")
    error = models.TextField(blank=True)
    sent_on = models.DateField(default=timezone.localdate)
    delivered_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "lead", "touch"], name="mailpiece_campaign_lead_touch_uniq")
        ]

    def __str__(self):
        return f"{self.campaign} touch {self.touch} to lead {self.lead_id}"


class MailOptOut(models.Model):
    """A lead owner's local opt-out, mail only or do not contact at all; the consent gate (sync.consent) reads it as
    the owner's, for every channel it covers."""

    lead = models.OneToOneField("leads.Lead", on_delete=models.CASCADE, related_name="mail_opt_out")
    do_not_contact = models.BooleanField(default=False, help_text="No channel at all, not only mail")
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"lead {self.lead_id}: {'do not contact' if self.do_not_contact else 'no mail'}"
