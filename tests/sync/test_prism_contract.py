"""Push and pull against Stoplight Prism serving the official GoHighLevel OpenAPI files.

Prism validates every request (headers, query, body) against the spec it serves; a rejected request
(4xx with `sl-violations`) fails the test. One Prism per spec file, started once per session.
"""

import datetime
import json
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.contenttypes.models import ContentType

from buyers.models import PropertyMatch
from leads.models import Lead
from sync.ghl import GHLClient
from sync.models import ExternalLink, SyncLog
from sync.pull import ghl_pull_buyers
from sync.push import ghl_push_leads
from sync.reconcile import ghl_reconcile
from tests.factories import BuyerFactory, LeadFactory, PropertyMatchFactory
from tests.sync.fake_ghl import FIXTURES, LOCATION_ID, SPEC_FOR_PREFIX

PRISM = Path(django_settings.BASE_DIR) / "node_modules" / ".bin" / "prism"

pytestmark = pytest.mark.skipif(
    not PRISM.exists(), reason="Stoplight Prism is not installed (node_modules/.bin/prism): run `make setup` (npm ci)"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def prism_ports():
    processes, ports = [], {}
    for prefix, name in SPEC_FOR_PREFIX.items():
        ports[prefix] = _free_port()
        processes.append(
            subprocess.Popen(  # noqa: S603 - a fixed local binary and our own fixture files
                [
                    str(PRISM),
                    "mock",
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(ports[prefix]),
                    str(FIXTURES / "apps" / f"{name}.json"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    try:
        deadline = time.monotonic() + 180  # seconds on a loaded machine, a few on an idle one
        for port, process in zip(ports.values(), processes, strict=True):
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"Prism on port {port} did not start (exit code {process.poll()})")
                    time.sleep(0.1)
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


class PrismTransport(httpx.BaseTransport):
    """Sends each request to the Prism serving its spec; records requests and what Prism rejected."""

    def __init__(self, ports: dict[str, int]):
        self.ports = ports
        self.inner = httpx.HTTPTransport()
        self.sent: list[str] = []
        self.rejected: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        port = next(p for prefix, p in self.ports.items() if request.url.path.startswith(prefix))
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=port)
        response = self.inner.handle_request(request)
        response.read()
        self.sent.append(f"{request.method} {request.url.path}")
        violations = [
            v
            for v in json.loads(response.headers.get("sl-violations", "[]"))
            if v.get("location", [""])[0] == "request"
        ]
        if violations or response.status_code >= 400:
            self.rejected.append(f"{request.method} {request.url.path} -> {response.status_code}: {violations}")
        return response


@pytest.fixture
def prism(prism_ports, settings):
    settings.GHL_API_TOKEN = "pit-contract-test"
    settings.GHL_LOCATION_ID = LOCATION_ID
    settings.GHL_PIPELINE_ID = "VDm7RPYC2GLUvdpKmBfC"
    settings.GHL_PIPELINE_STAGE_ID = "7915dedc-8f18-44d5-8bc3-77c04e994a10"
    settings.GHL_WORKFLOW_ID = "wf000000000000000001"
    settings.GHL_READBACK_SAMPLE = 1
    transport = PrismTransport(prism_ports)
    client = GHLClient(
        "http://prism.invalid", "pit-contract-test", LOCATION_ID, timeout=10, http=httpx.Client(transport=transport)
    )
    return client, transport


def test_prism_rejects_an_invalid_request(prism):
    """The guard itself: a request breaking the spec is caught."""
    client, transport = prism
    with pytest.raises(Exception, match="422"):
        client._request("POST", "/contacts/upsert", json={"customFields": [{"key": "x", "field_value": 1}]})
    assert len(transport.rejected) == 1


@pytest.mark.django_db
@time_machine.travel(datetime.datetime(2026, 3, 4, 15, 0, tzinfo=datetime.UTC), tick=False)  # within the buyer's hours
def test_push_sends_only_requests_the_spec_accepts(prism):
    client, transport = prism
    lead = LeadFactory(tier="A", arv=250000, mao=135000)
    PropertyMatchFactory(property=lead.property, buyer=BuyerFactory(ghl_contact_id="buyerA", sms_opt_in=True))

    first = ghl_push_leads(client=client)
    Lead.objects.filter(pk=lead.pk).update(status=Lead.Status.DEAD, total=77)
    second = ghl_push_leads(client=client)

    assert transport.rejected == []
    assert (first.status, first.succeeded, second.status, second.succeeded) == ("success", 2, "success", 1)
    assert sorted(set(transport.sent)) == [
        "GET /contacts/seD4PfOuKoVMLkEZqohJ",
        "GET /locations/ve9EPM428h8vShlRW1KT/customFields",
        "POST /contacts/buyerA/tasks",
        "POST /contacts/buyerA/workflow/wf000000000000000001",
        "POST /contacts/seD4PfOuKoVMLkEZqohJ/tags",
        "POST /contacts/upsert",
        "POST /conversations/messages",
        "POST /opportunities/",
        "PUT /contacts/seD4PfOuKoVMLkEZqohJ",
        "PUT /opportunities/yWQobCRIhRguQtD2llvk",
    ]
    assert PropertyMatch.objects.filter(sms_sent_at__isnull=False, task_created_at__isnull=False).count() == 1


@pytest.mark.django_db
def test_pull_and_reads_send_only_requests_the_spec_accepts(prism):
    client, transport = prism
    log = ghl_pull_buyers(client=client)
    pipelines = client.pipelines()
    page = client.opportunity_search(pipeline_id="VDm7RPYC2GLUvdpKmBfC")
    assert transport.rejected == []
    assert log.status == "success"
    assert [p.id for p in pipelines] == ["aWdODOBVOlH1RUFKWQke"]
    assert [o.id for o in page.opportunities] == ["yWQobCRIhRguQtD2llvk"]
    assert transport.sent == [
        "GET /locations/ve9EPM428h8vShlRW1KT/customFields",
        "POST /contacts/search",
        "GET /opportunities/pipelines",
        "GET /opportunities/search",
    ]


@pytest.mark.django_db
def test_reconcile_sends_only_requests_the_spec_accepts_and_records_its_log(prism):
    client, transport = prism
    lead = LeadFactory(tier="A")
    for kind, ghl_id in ((ExternalLink.Kind.CONTACT, "seD4PfOuKoVMLkEZqohJ"), ("opportunity", "yWQobCRIhRguQtD2llvk")):
        ExternalLink.objects.create(
            content_type=ContentType.objects.get_for_model(lead), object_id=lead.pk, kind=kind, ghl_id=ghl_id
        )

    log = ghl_reconcile(client=client)

    assert transport.rejected == []
    assert transport.sent == [
        "GET /locations/ve9EPM428h8vShlRW1KT/customFields",
        "POST /contacts/search",  # changed since the last reconcile
        "GET /opportunities/search",
        "POST /contacts/search",  # do the linked contacts still exist
    ]
    assert (log.sync_type, log.status) == (SyncLog.SyncType.RECONCILE, "success")
    assert SyncLog.objects.filter(sync_type="reconcile").get() == log
    assert "contacts_until" in log.cursor
