"""`mail_campaign_send` end to end against Stoplight Prism serving Lob's official spec (tests/fixtures/lob/lob-api.yml).

Prism runs with `--errors`, so a request the spec refuses fails its piece and the command; these tests pass only when
every request the send makes is one the spec accepts.
"""

import pytest
from django.core.management import call_command

from leads.models import Activity
from sync.mail_models import MailPiece
from tests.factories import LeadFactory
from tests.sync.prism import PRISM, SKIP_REASON, prism_mock
from tests.sync.recorded import LOB

pytestmark = [pytest.mark.django_db, pytest.mark.skipif(not PRISM.exists(), reason=SKIP_REASON)]


@pytest.fixture(scope="module")
def prism_port():
    with prism_mock(LOB / "lob-api.yml") as port:
        yield port


@pytest.fixture
def lob_at_prism(settings, prism_port):
    settings.LOB_API_BASE_URL = f"http://127.0.0.1:{prism_port}"
    settings.LOB_API_KEY = "test_contract"
    settings.MAIL_UNIT_COSTS = "postcard_4x6=0.63, letter=1.05, verification=0"


@pytest.mark.parametrize("kind", ["postcard", "letter"])
def test_send_mails_tier_a_and_b_once_per_touch_through_the_spec(lob_at_prism, kind, capsys):
    a, b = LeadFactory(tier="A"), LeadFactory(tier="B")
    LeadFactory(tier="C")
    call_command("mail_campaign_create", "--name", "Spring Yellow Letters", "--tiers", "A,B", "--kind", kind)
    if kind == "letter":
        from sync.mail_models import MailCampaign

        MailCampaign.objects.filter(slug="spring-yellow-letters").update(
            return_company="Acme Home Buyers",
            return_line1="1 S Orange Ave",
            return_city="Orlando",
            return_state="FL",
            return_zip="32801",
        )

    call_command("mail_campaign_send", "spring-yellow-letters")
    assert "mailed 2 pieces" in capsys.readouterr().out

    pieces = MailPiece.objects.order_by("lead_id")
    assert [(p.lead_id, p.touch, p.status) for p in pieces] == [(a.id, 1, "sent"), (b.id, 1, "sent")]
    assert all(p.lob_id and p.idempotency_key.endswith(f"-{p.lead_id}-1") for p in pieces)
    assert {str(p.cost) for p in pieces} == {"0.63" if kind == "postcard" else "1.05"}
    timeline = Activity.objects.filter(lead=a, body__contains="touch 1 sent as Lob").count()
    assert timeline == 1

    call_command("mail_campaign_send", "spring-yellow-letters")
    assert "mailed 0 pieces" in capsys.readouterr().out
    assert MailPiece.objects.count() == 2
