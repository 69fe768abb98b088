"""GoHighLevel contact webhooks about an owner's contact (issue 20): one contact for several leads of one owner
(and another owner GoHighLevel merged into it, a shared_contact link). One exact test per event type."""

import datetime

import pytest
from django.contrib.contenttypes.models import ContentType

from leads.models import Activity, Lead
from properties.models import Owner
from sync.ghl import parse_datetime
from sync.models import Consent, WebhookEvent
from sync.push import ghl_push_leads
from tests.factories import ExternalLinkFactory, LeadFactory, OwnerFactory
from tests.sync.test_webhooks import deliver, sample

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("webhook_keys")]
CONTACT = "nmFmQEsNgz6AVpgLVUJ0"  # the id in the recorded contact events
OURS = ["dealfinder", "tier-a"]


@pytest.fixture
def owned():
    """Owner with three leads on contact CONTACT; a second owner (one lead) merged into it by GoHighLevel; an
    unrelated lead."""
    leads = [LeadFactory(tier="A"), LeadFactory(tier="B"), LeadFactory(tier="C")]
    owner = OwnerFactory(properties=[lead.property for lead in leads])
    merged_lead = LeadFactory(tier="B")
    merged = OwnerFactory(properties=[merged_lead.property])
    LeadFactory()
    snapshot = {"name": owner.display_name, "tags": OURS}
    link = ExternalLinkFactory(local=owner, kind="contact", ghl_id=CONTACT, remote_snapshot=snapshot)
    shared = ExternalLinkFactory(local=merged, kind="shared_contact", ghl_id=CONTACT, remote_snapshot=snapshot)
    return {
        "owner": owner,
        "leads": leads,
        "merged": merged,
        "merged_lead": merged_lead,
        "link": link,
        "shared": shared,
    }


def _timeline():
    return sorted(Activity.objects.filter(kind="sync").values_list("lead_id", "body"))


def _lead_ids(owned):
    return sorted([lead.pk for lead in owned["leads"]] + [owned["merged_lead"].pk])


def _applied(webhook_id: str) -> tuple[str, str]:
    event = WebhookEvent.objects.get(webhook_id=webhook_id)
    return event.status, event.error


def test_contact_update_updates_the_owners_links_and_their_leads_timelines(client, ed_key, owned):
    payload = sample("ContactUpdate", dnd=False, tags=[*OURS, "hot-seller"])

    response = deliver(client, payload, key=ed_key)

    assert response.status_code == 200
    assert _applied("sample-ContactUpdate-0001") == ("processed", "")
    at = parse_datetime(payload["timestamp"])
    for link in (owned["link"], owned["shared"]):
        link.refresh_from_db()
        assert link.remote_snapshot == {"name": owned["owner"].display_name, "tags": [*OURS, "hot-seller"]}
        assert link.remote_updated_at == at
        assert link.last_hash == "0" * 64  # nothing to push back
    body = "GoHighLevel contact updated (owner's contact; tags: dealfinder, tier-a, hot-seller)"
    assert _timeline() == [(pk, body) for pk in _lead_ids(owned)]
    assert not Consent.objects.exists()


def test_contact_tag_update_keeps_a_brokers_tag_through_the_next_push(client, ed_key, owned, fake_ghl, ghl):
    fake_ghl.contacts[CONTACT] = {"id": CONTACT, "tags": [*OURS, "hot-seller"]}
    payload = sample("ContactTagUpdate", tags=[*OURS, "hot-seller"])

    deliver(client, payload, key=ed_key)

    assert _applied("sample-ContactTagUpdate-0001") == ("processed", "")
    owned["link"].refresh_from_db()
    assert owned["link"].remote_snapshot["tags"] == [*OURS, "hot-seller"]
    body = "GoHighLevel tags updated (owner's contact; tags: dealfinder, tier-a, hot-seller)"
    assert _timeline() == [(pk, body) for pk in _lead_ids(owned)]

    # The owner's best lead drops to tier B: the next push swaps the tier tag and leaves the broker's alone.
    Lead.objects.filter(pk=owned["leads"][0].pk).update(tier="B")
    ghl_push_leads(client=ghl, lead_ids=[owned["leads"][0].pk])
    removed = [body for method, path, body in fake_ghl.calls if method == "DELETE"]
    assert removed == [{"tags": ["tier-a"]}]
    assert fake_ghl.contacts[CONTACT]["tags"] == ["dealfinder", "hot-seller", "tier-b"]


def test_contact_dnd_update_records_the_refusal_for_every_owner_of_the_contact(client, ed_key, owned):
    payload = sample("ContactDndUpdate", dnd=True, tags=OURS)

    deliver(client, payload, key=ed_key)

    assert _applied("sample-ContactDndUpdate-0001") == ("processed", "")
    owner_type = ContentType.objects.get_for_model(Owner)
    refusals = sorted(
        Consent.objects.filter(content_type=owner_type).values_list("object_id", "channel", "status", "source")
    )
    assert refusals == sorted(
        (owner.pk, channel, "revoked", "ghl_dnd")
        for owner in (owned["owner"], owned["merged"])
        for channel in ("sms", "call", "email", "workflow")
    )
    body = "GoHighLevel contact updated (owner's contact; tags: dealfinder, tier-a)"
    assert _timeline() == [(pk, body) for pk in _lead_ids(owned)]
    owned["link"].refresh_from_db()
    assert owned["link"].remote_updated_at == parse_datetime(payload["timestamp"])


def test_contact_create_of_the_owners_contact_updates_its_links(client, ed_key, owned):
    payload = sample("ContactCreate", dnd=False, tags=OURS)

    deliver(client, payload, key=ed_key)

    assert _applied("sample-ContactCreate-0001") == ("processed", "")
    owned["shared"].refresh_from_db()
    assert owned["shared"].remote_snapshot == {"name": owned["owner"].display_name, "tags": OURS}
    assert owned["shared"].remote_updated_at == parse_datetime(payload["timestamp"])
    body = "GoHighLevel contact created (owner's contact; tags: dealfinder, tier-a)"
    assert _timeline() == [(pk, body) for pk in _lead_ids(owned)]


def test_contact_delete_marks_the_owners_links_deleted_and_keeps_everything(client, ed_key, owned):
    before = datetime.datetime.now(datetime.UTC)

    deliver(client, sample("ContactDelete"), key=ed_key)

    assert _applied("sample-ContactDelete-0001") == ("processed", "")
    for link in (owned["link"], owned["shared"]):
        link.refresh_from_db()
        assert link.remote_deleted_at is not None and link.remote_deleted_at >= before
    assert Owner.objects.count() == 2 and Lead.objects.count() == 5
    body = f"GoHighLevel contact {CONTACT} was deleted in GoHighLevel; the lead is kept"
    assert _timeline() == [(pk, body) for pk in _lead_ids(owned)]

    deliver(client, sample("ContactDelete", webhookId="sample-ContactDelete-0002"), key=ed_key)  # again
    assert _applied("sample-ContactDelete-0002") == ("ignored", "no matching local record")
    assert len(_timeline()) == 4
