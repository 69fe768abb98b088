import factory
from django.contrib.contenttypes.models import ContentType
from factory.django import DjangoModelFactory

from sync import models
from tests.leads.factories import LeadFactory


class SyncLogFactory(DjangoModelFactory):
    class Meta:
        model = models.SyncLog

    sync_type = models.SyncLog.SyncType.LEAD_PUSH
    status = models.SyncLog.Status.SUCCESS
    processed = 5
    succeeded = 5
    duration_seconds = 1.5


class ExternalLinkFactory(DjangoModelFactory):
    class Meta:
        model = models.ExternalLink
        exclude = ("local",)

    local = factory.SubFactory(LeadFactory)
    content_type = factory.LazyAttribute(lambda o: ContentType.objects.get_for_model(o.local))
    object_id = factory.LazyAttribute(lambda o: o.local.pk)
    kind = models.ExternalLink.Kind.CONTACT
    ghl_id = factory.Sequence(lambda n: f"ghlContact{n:06d}")
    last_hash = "0" * 64


class SyncConflictFactory(DjangoModelFactory):
    class Meta:
        model = models.SyncConflict

    link = factory.SubFactory(ExternalLinkFactory)
    field = "status"
    local_value = "negotiating"
    remote_value = "contacted"


class WebhookEventFactory(DjangoModelFactory):
    class Meta:
        model = models.WebhookEvent

    webhook_id = factory.Sequence(lambda n: f"wh-{n:08d}")
    event_type = "ContactUpdate"
    payload = factory.LazyFunction(lambda: {"type": "ContactUpdate", "id": "ghlContact000001"})
    signature_scheme = "ed25519"
    signature_valid = True
    status = models.WebhookEvent.Status.PROCESSED


class PushClaimFactory(DjangoModelFactory):
    class Meta:
        model = models.PushClaim

    lead = factory.SubFactory(LeadFactory)
    owner = factory.Sequence(lambda n: f"{n:032x}")
