"""The pipeline stage per lead (issue 20 item 4): a lead whose status changed has its opportunity moved to the
stage mapped for its new status on the next push (one update each, won/lost set), an unchanged lead sends nothing."""

import pytest
from django.contrib.contenttypes.models import ContentType

from leads.models import Lead
from leads.services import lead_change_status
from sync.models import ExternalLink
from sync.push import ghl_push_leads
from sync.resolve import lead_set_status_from_ghl
from sync.runs import STAGE_SENT
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db
FIRST = "7915dedc-8f18-44d5-8bc3-77c04e994a10"  # GHL_PIPELINE_STAGE_ID in ghl_settings
STAGES = {
    "contacted": "stage-contacted",
    "negotiating": "stage-negotiating",
    "under_contract": "stage-under-contract",
    "closed_won": "stage-closed",
    "dead": "stage-dead",
}


@pytest.fixture
def stages(ghl_settings):
    ghl_settings.GHL_PIPELINE_STAGES = dict(STAGES)
    return ghl_settings.GHL_PIPELINE_STAGES


def _opportunity(lead) -> ExternalLink:
    return ExternalLink.objects.get(
        content_type=ContentType.objects.get_for_model(Lead), object_id=lead.pk, kind="opportunity"
    )


def _move(lead, status):
    lead_change_status(lead=lead, status=status, actor=None)


def test_a_status_change_moves_the_opportunity_one_request_each_and_unchanged_leads_send_nothing(fake_ghl, ghl, stages):
    a = LeadFactory(tier="A", total=80, mao=100000, property__owner_name="ANN ONE")
    b = LeadFactory(tier="A", total=80, mao=100000, property__owner_name="BOB TWO")
    ghl_push_leads(client=ghl)
    opportunity_a, opportunity_b = _opportunity(a).ghl_id, _opportunity(b).ghl_id
    assert {o["pipelineStageId"] for o in fake_ghl.opportunities.values()} == {FIRST}  # "new" is not mapped
    steps = [
        ("contacted", "stage-contacted", "open"),
        ("negotiating", "stage-negotiating", "open"),
        ("under_contract", "stage-under-contract", "open"),
        ("closed_won", "stage-closed", "won"),
    ]
    for status, stage, remote_status in steps:
        _move(a, status)
        fake_ghl.calls.clear()

        log = ghl_push_leads(client=ghl)

        assert fake_ghl.calls == [
            (
                "PUT",
                f"/opportunities/{opportunity_a}",
                {
                    "name": f"{a.property.address_normalized} (Tier A, score 80)",
                    "status": remote_status,
                    "monetaryValue": 100000.0,
                    "pipelineId": "VDm7RPYC2GLUvdpKmBfC",
                    "pipelineStageId": stage,
                },
            )
        ]
        assert (log.succeeded, log.skipped, log.failed) == (1, 1, 0)
        assert fake_ghl.opportunities[opportunity_a]["pipelineStageId"] == stage
        assert _opportunity(a).remote_snapshot[STAGE_SENT] == stage

    _move(b, "dead")
    fake_ghl.calls.clear()
    ghl_push_leads(client=ghl)
    assert [(m, p, body["status"], body["pipelineStageId"]) for m, p, body in fake_ghl.calls] == [
        ("PUT", f"/opportunities/{opportunity_b}", "lost", "stage-dead")
    ]

    fake_ghl.calls.clear()
    log = ghl_push_leads(client=ghl)
    assert fake_ghl.calls == [] and (log.succeeded, log.skipped) == (0, 2)


def test_an_update_for_another_reason_leaves_the_stage_where_it_is(fake_ghl, ghl, stages):
    lead = LeadFactory(tier="A", total=80, mao=90000, property__owner_name="ANN ONE")
    ghl_push_leads(client=ghl)
    Lead.objects.filter(pk=lead.pk).update(total=90)  # the opportunity's name changes, its status does not
    fake_ghl.calls.clear()

    ghl_push_leads(client=ghl)

    assert [c for c in fake_ghl.calls if c[1].startswith("/opportunities")] == [
        (
            "PUT",
            f"/opportunities/{_opportunity(lead).ghl_id}",
            {
                "name": f"{lead.property.address_normalized} (Tier A, score 90)",
                "status": "open",
                "monetaryValue": float(lead.mao),
                "pipelineId": "VDm7RPYC2GLUvdpKmBfC",
            },  # no pipelineStageId: a broker's move in GoHighLevel stays
        )
    ]


def test_a_status_set_from_ghl_moves_nothing_back(fake_ghl, ghl, stages):
    lead = LeadFactory(tier="A", property__owner_name="ANN ONE")
    ghl_push_leads(client=ghl)
    lead_set_status_from_ghl(lead=Lead.objects.get(pk=lead.pk), status="closed_won", note="won in GoHighLevel")
    fake_ghl.calls.clear()

    log = ghl_push_leads(client=ghl)

    assert fake_ghl.calls == [] and log.skipped == 1


def test_opportunities_created_before_stages_moved_are_taken_as_in_the_first_stage(fake_ghl, ghl, stages):
    new, contacted = LeadFactory(tier="A"), LeadFactory(tier="A")
    ghl_push_leads(client=ghl)
    for lead in (new, contacted):  # links as the push before this change left them: no stage recorded
        link = _opportunity(lead)
        link.remote_snapshot = {"status": "open"}
        link.save(update_fields=["remote_snapshot"])
    Lead.objects.filter(pk=contacted.pk).update(status="contacted")
    fake_ghl.calls.clear()

    ghl_push_leads(client=ghl)

    assert [(m, p, body["pipelineStageId"]) for m, p, body in fake_ghl.calls] == [
        ("PUT", f"/opportunities/{_opportunity(contacted).ghl_id}", "stage-contacted")
    ]


def test_a_status_missing_from_the_mapping_is_named_in_the_log(fake_ghl, ghl, stages):
    stages["closed"] = "stage-x"
    LeadFactory(tier="A")

    log = ghl_push_leads(client=ghl)

    assert "GHL_PIPELINE_STAGES names no lead status closed" in log.message
