import datetime

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType

from buyers.models import PropertyMatch
from leads.models import Activity, Lead
from sync.models import ExternalLink, SyncLog
from sync.push import ghl_push_leads
from tests.factories import BuyerFactory, LeadFactory, PropertyMatchFactory
from tests.sync.clock import office_hours
from tests.sync.fake_ghl import FIELD_ID

pytestmark = pytest.mark.django_db

LEAD_REQUESTS = [
    "GET /locations/ve9EPM428h8vShlRW1KT/customFields",
    "POST /contacts/upsert",
    "POST /contacts/{contact}/tags",
    "POST /opportunities/",
]


def _links(lead, kind):
    return ExternalLink.objects.get(content_type=ContentType.objects.get_for_model(Lead), object_id=lead.pk, kind=kind)


def test_push_creates_contact_and_opportunity_then_skips_unchanged(fake_ghl, ghl):
    lead = LeadFactory(tier="A", total=82, arv=250000, mao=135000, property__owner_name="JANE OWNER")
    LeadFactory(tier="C", total=45)  # below the default tier B

    log = ghl_push_leads(client=ghl)

    contact = _links(lead, "contact")
    assert fake_ghl.paths() == [p.format(contact=contact.ghl_id) for p in LEAD_REQUESTS]
    upsert = fake_ghl.calls[1][2]
    assert upsert["locationId"] == "ve9EPM428h8vShlRW1KT"
    assert upsert["name"] == "JANE OWNER"
    assert upsert["customFields"] == [
        {"id": FIELD_ID["contact.dealfinder_score"], "key": "contact.dealfinder_score", "field_value": "82"},
        {"id": FIELD_ID["contact.dealfinder_tier"], "key": "contact.dealfinder_tier", "field_value": "A"},
        {"id": FIELD_ID["contact.dealfinder_arv"], "key": "contact.dealfinder_arv", "field_value": "250000.00"},
        {"id": FIELD_ID["contact.dealfinder_mao"], "key": "contact.dealfinder_mao", "field_value": "135000.00"},
        {
            "id": FIELD_ID["contact.dealfinder_parcel"],
            "key": "contact.dealfinder_parcel",
            "field_value": lead.property.parcel_id,
        },
    ]
    assert fake_ghl.calls[2][2] == {"tags": ["dealfinder", "tier-a"]}
    opportunity = fake_ghl.calls[3][2]
    assert {k: opportunity[k] for k in ("pipelineId", "pipelineStageId", "status", "contactId", "monetaryValue")} == {
        "pipelineId": "VDm7RPYC2GLUvdpKmBfC",
        "pipelineStageId": "7915dedc-8f18-44d5-8bc3-77c04e994a10",
        "status": "open",
        "contactId": contact.ghl_id,
        "monetaryValue": 135000.0,
    }
    assert _links(lead, "opportunity").ghl_id in fake_ghl.opportunities
    assert (log.status, log.processed, log.succeeded, log.failed, log.skipped) == ("success", 1, 1, 0, 0)
    assert Activity.objects.filter(lead=lead, kind="sync").count() == 1

    fake_ghl.calls.clear()
    again = ghl_push_leads(client=ghl)
    assert fake_ghl.calls == []
    assert (again.status, again.processed, again.succeeded, again.skipped) == ("success", 1, 0, 1)


def test_changed_lead_updates_contact_and_opportunity_in_place(fake_ghl, ghl):
    lead = LeadFactory(tier="B", total=65)
    ghl_push_leads(client=ghl)
    contact, opportunity = _links(lead, "contact"), _links(lead, "opportunity")
    fake_ghl.calls.clear()

    Lead.objects.filter(pk=lead.pk).update(status=Lead.Status.CLOSED_WON, total=66)
    log = ghl_push_leads(client=ghl)

    assert fake_ghl.paths() == [
        "GET /locations/ve9EPM428h8vShlRW1KT/customFields",
        f"PUT /contacts/{contact.ghl_id}",
        f"POST /contacts/{contact.ghl_id}/tags",
        f"PUT /opportunities/{opportunity.ghl_id}",
    ]
    assert fake_ghl.calls[3][2]["status"] == "won"
    assert "locationId" not in fake_ghl.calls[1][2]
    assert len(fake_ghl.opportunities) == 1
    assert (log.processed, log.succeeded) == (1, 1)


def test_a_tier_change_replaces_the_tier_tag(fake_ghl, ghl):
    lead = LeadFactory(tier="A", total=80)
    ghl_push_leads(client=ghl)
    contact = _links(lead, "contact").ghl_id
    fake_ghl.contacts[contact]["tags"].append("called-twice")  # a broker's own tag stays
    fake_ghl.calls.clear()

    Lead.objects.filter(pk=lead.pk).update(tier="B", total=70)
    ghl_push_leads(client=ghl)

    assert fake_ghl.paths()[2:4] == [f"POST /contacts/{contact}/tags", f"DELETE /contacts/{contact}/tags"]
    assert fake_ghl.calls[3][2] == {"tags": ["tier-a"]}
    assert fake_ghl.contacts[contact]["tags"] == ["called-twice", "dealfinder", "tier-b"]


@pytest.mark.parametrize(("status", "expected"), [("dead", "lost"), ("negotiating", "open"), ("closed_won", "won")])
def test_opportunity_status_follows_the_lead(fake_ghl, ghl, status, expected):
    LeadFactory(tier="A", status=status)
    ghl_push_leads(client=ghl)
    assert [o["status"] for o in fake_ghl.opportunities.values()] == [expected]


def test_only_changed_part_is_pushed(fake_ghl, ghl):
    lead = LeadFactory(tier="A")
    ghl_push_leads(client=ghl)
    fake_ghl.calls.clear()
    Lead.objects.filter(pk=lead.pk).update(status=Lead.Status.DEAD)  # contact payload unchanged
    ghl_push_leads(client=ghl)
    assert fake_ghl.paths() == [f"PUT /opportunities/{_links(lead, 'opportunity').ghl_id}"]


def test_a_failure_leaves_the_lead_unsynced_and_the_next_run_retries(fake_ghl, ghl):
    import httpx

    lead = LeadFactory(tier="A")
    other = LeadFactory(tier="A")
    fake_ghl.fail_next = [
        httpx.Response(200, json={"customFields": []}),
        httpx.Response(400, json={"statusCode": 400, "message": "Bad Request"}),
    ]
    log = ghl_push_leads(client=ghl)
    assert (log.status, log.processed, log.succeeded, log.failed) == ("partial", 2, 1, 1)
    assert log.errors == [{"lead": lead.pk, "error": "GoHighLevel 400: Bad Request"}]
    assert not ExternalLink.objects.filter(object_id=lead.pk).exists()
    assert _links(other, "contact").last_hash

    fake_ghl.calls.clear()
    retry = ghl_push_leads(client=ghl)
    assert (retry.status, retry.succeeded, retry.skipped) == ("success", 1, 1)
    assert _links(lead, "opportunity")


def test_min_tier_and_lead_ids(fake_ghl, ghl, settings):
    a, b, c = LeadFactory(tier="A"), LeadFactory(tier="B"), LeadFactory(tier="C")
    assert ghl_push_leads(client=ghl, lead_ids=[a.pk, c.pk]).processed == 1
    settings.GHL_PUSH_MIN_TIER = "C"
    log = ghl_push_leads(client=ghl)
    assert (log.processed, log.succeeded, log.skipped) == (3, 2, 1)
    assert ghl_push_leads(client=ghl, min_tier="A").processed == 1
    assert {b.pk, c.pk} <= set(ExternalLink.objects.values_list("object_id", flat=True))


def test_not_configured_sends_nothing(settings):
    settings.GHL_API_TOKEN = ""
    LeadFactory(tier="A")
    log = ghl_push_leads()
    assert (log.status, log.processed, log.skipped, log.message) == (
        "success",
        0,
        1,
        "GoHighLevel not configured (set GHL_API_TOKEN and GHL_LOCATION_ID)",
    )


def test_without_pipeline_only_contacts_are_pushed(fake_ghl, ghl, settings):
    settings.GHL_PIPELINE_ID = ""
    LeadFactory(tier="A")
    log = ghl_push_leads(client=ghl)
    assert fake_ghl.opportunities == {}
    assert log.message == "no opportunities (GHL_PIPELINE_ID / GHL_PIPELINE_STAGE_ID not set)"


def test_401_aborts_the_run_as_failed(fake_ghl, ghl):
    import httpx

    LeadFactory(tier="A")
    fake_ghl.fail_next = [
        httpx.Response(401, json={"statusCode": 401, "message": "Invalid token", "error": "Unauthorized"})
    ]
    log = ghl_push_leads(client=ghl)
    assert log.status == SyncLog.Status.FAILED
    assert log.message.startswith("GoHighLevel 401: Invalid token - check GHL_API_TOKEN")
    assert len(fake_ghl.calls) == 1


@time_machine.travel(datetime.datetime(2026, 3, 4, 15, 0, tzinfo=datetime.UTC), tick=False)  # Wed 10:00 in Orlando
def test_match_actions_run_once_and_respect_opt_in_and_dnd(fake_ghl, ghl):
    lead = LeadFactory(tier="A")
    texted = PropertyMatchFactory(property=lead.property, buyer=BuyerFactory(ghl_contact_id="buyerA", sms_opt_in=True))
    no_opt_in = PropertyMatchFactory(property=lead.property, buyer=BuyerFactory(ghl_contact_id="buyerB"))
    dnd = PropertyMatchFactory(
        property=lead.property, buyer=BuyerFactory(ghl_contact_id="buyerC", sms_opt_in=True, dnd=True)
    )
    PropertyMatchFactory(property=lead.property, buyer=BuyerFactory(ghl_contact_id=None))  # not in GoHighLevel

    log = ghl_push_leads(client=ghl)

    actions = [p for p in fake_ghl.paths() if "buyer" in p or "conversations" in p]
    assert actions == [
        "POST /contacts/buyerA/workflow/wf000000000000000001",
        "POST /conversations/messages",
        "POST /contacts/buyerA/tasks",
        "POST /contacts/buyerB/tasks",  # the workflow texts (GHL_WORKFLOW_CHANNELS): B has no SMS opt-in
        "POST /contacts/buyerC/tasks",  # C is DND
    ]
    sms = next(body for method, path, body in fake_ghl.calls if path == "/conversations/messages")
    assert (sms["type"], sms["contactId"], sms["status"], sms["subType"]) == ("SMS", "buyerA", "pending", {})
    assert (log.processed, log.succeeded) == (4, 4)
    texted.refresh_from_db()
    assert texted.sms_sent_at and texted.workflow_triggered_at and texted.task_created_at
    for match in (no_opt_in, dnd):
        match.refresh_from_db()
        assert match.sms_sent_at is None and match.workflow_triggered_at is None and match.task_created_at is not None
    refusals = sorted(lead.activities.filter(to_value__startswith="refused").values_list("to_value", "body"))
    assert [to for to, _ in refusals] == ["refused: no_consent", "refused: opted_out"]
    assert "GoHighLevel: do not disturb (all channels)" in refusals[1][1]
    sent = sorted(lead.activities.filter(to_value="sent").values_list("body", flat=True))
    granted = "sms granted (local: opted in on the DealFinder record)"
    assert sent == [
        f"SMS to buyer {texted.buyer} (consent: {granted})",
        f"Workflow enrolment of buyer {texted.buyer} (consent: workflow unknown; {granted}; email unknown)",
    ]

    fake_ghl.calls.clear()
    again = ghl_push_leads(client=ghl)
    assert fake_ghl.calls == []
    assert (again.processed, again.skipped) == (3, 1)  # B's and C's workflows are asked again, refused again
    assert lead.activities.filter(to_value__startswith="refused").count() == 2  # and not recorded twice


@office_hours()
def test_a_failed_action_is_retried_alone(fake_ghl, ghl):
    import httpx

    lead = LeadFactory(tier="A")
    ghl_push_leads(client=ghl)
    match = PropertyMatchFactory(property=lead.property, buyer=BuyerFactory(ghl_contact_id="buyerA", sms_opt_in=True))
    fake_ghl.calls.clear()
    fake_ghl.fail_next = [
        httpx.Response(200, json={"succeded": True}),
        httpx.Response(400, json={"statusCode": 400, "message": "No phone"}),
    ]
    log = ghl_push_leads(client=ghl)
    assert (log.status, log.failed) == ("failed", 1)
    match.refresh_from_db()
    assert match.workflow_triggered_at is not None and match.sms_sent_at is None and match.task_created_at is None

    fake_ghl.calls.clear()
    ghl_push_leads(client=ghl)
    assert fake_ghl.paths() == ["POST /conversations/messages", "POST /contacts/buyerA/tasks"]
    assert PropertyMatch.objects.filter(pk=match.pk, sms_sent_at__isnull=False, task_created_at__isnull=False).exists()


def test_the_sync_log_stores_the_run_id_its_log_lines_carry(fake_ghl, ghl, caplog):
    from dealfinder.common.logging import RunContextFilter

    LeadFactory(tier="A")
    caplog.handler.addFilter(RunContextFilter())
    with caplog.at_level("INFO"):
        log = ghl_push_leads(client=ghl)
    second = ghl_push_leads(client=ghl)

    carried = {getattr(r, "sync_run_id", None) for r in caplog.records} - {None}
    assert carried == {log.sync_run_id}
    assert len(log.sync_run_id) == 12
    assert second.sync_run_id not in ("", log.sync_run_id)
