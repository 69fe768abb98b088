"""Messages to buyers the compliance gate refused only for the hour (quiet hours, a day a state allows none): kept
with the moment the contact's hours open, and sent then by sync.deferred, after asking the gate again."""

from django.db import models
from django.db.models import Q
from django.utils import timezone


class DeferredMessage(models.Model):
    class Action(models.TextChoices):  # the sync.compliance.Action values a push sends per match
        SMS = "sms", "SMS"
        WORKFLOW = "workflow", "Workflow enrolment"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the hours to open"
        SENT = "sent", "Sent"
        REFUSED = "refused", "Refused at send time"
        SUPERSEDED = "superseded", "Already sent by a push"

    match = models.ForeignKey("buyers.PropertyMatch", on_delete=models.CASCADE, related_name="+")
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=16, choices=Action.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    due_at = models.DateTimeField(help_text="When the contact's hours open (computed in the contact's time zone)")
    reason = models.CharField(max_length=32, help_text="Why the gate refused it for the hour")
    message = models.CharField(max_length=300, blank=True, help_text="The gate's words when it was deferred")
    outcome = models.CharField(max_length=300, blank=True, help_text="What happened at send time")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "due_at"], name="sync_deferred_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["match", "action"], condition=Q(status="pending"), name="sync_deferred_one_pending"
            )
        ]

    def __str__(self):
        return f"{self.get_action_display()} for match {self.match_id} due {self.due_at:%Y-%m-%d %H:%M} UTC"
