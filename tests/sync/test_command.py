import httpx
import pytest
from django.core.management import CommandError, call_command

from sync.models import SyncLog
from tests.factories import LeadFactory
from tests.sync.fake_ghl import contact_json

pytestmark = pytest.mark.django_db


def test_ghl_sync_runs_push_and_pull_and_prints_a_summary(fake_ghl, capsys):
    LeadFactory(tier="A")
    fake_ghl.contacts["b1"] = contact_json("b1", firstName="Ann", tags=["cash-buyer"])
    call_command("ghl_sync")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "lead_push: success - processed 1, succeeded 1, failed 0, skipped 0"
    assert out[1] == (
        "buyer_pull: success - processed 1, succeeded 1, failed 0, skipped 0 (1 created, 0 updated, 0 unchanged)"
    )
    assert list(SyncLog.objects.order_by("started_at").values_list("sync_type", flat=True)) == [
        "lead_push",
        "buyer_pull",
    ]


def test_ghl_sync_exits_non_zero_when_a_run_failed(fake_ghl, capsys):
    fake_ghl.fail_next = [httpx.Response(401, json={"statusCode": 401, "message": "Invalid token"})]
    with pytest.raises(CommandError, match="1 GoHighLevel run\\(s\\) failed"):
        call_command("ghl_sync", "--pull")
    assert capsys.readouterr().out.startswith("buyer_pull: failed - processed 0")


def test_ghl_sync_not_configured_is_a_quiet_success(settings, capsys):
    settings.GHL_API_TOKEN = ""
    call_command("ghl_sync", "--push")
    assert capsys.readouterr().out == (
        "lead_push: success - processed 0, succeeded 0, failed 0, skipped 0 "
        "(GoHighLevel not configured (set GHL_API_TOKEN and GHL_LOCATION_ID))\n"
    )
