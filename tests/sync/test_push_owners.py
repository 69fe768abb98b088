"""One GoHighLevel contact per owner, one opportunity per lead (issue 20), against the fake at the HTTP layer."""

import httpx
import pytest
from django.contrib.contenttypes.models import ContentType

from leads.models import Lead
from properties.models import Owner
from properties.owner_services import owners_resolve
from sync.models import ExternalLink
from sync.push import ghl_push_leads
from tests.factories import LeadFactory
from tests.sync.fake_ghl import FakeGHL

pytestmark = pytest.mark.django_db

BOX = "PO BOX 500, TAMPA, FL 33601"


class OneContactGHL(FakeGHL):
    """GoHighLevel as its official API's mock answers, and as a location whose duplicate rules see one person:
    every upsert answers the same contact (new the first time only)."""

    def handle(self, request: httpx.Request) -> httpx.Response:
        if (request.method, request.url.path) != ("POST", "/contacts/upsert") or not self.contacts:
            return super().handle(request)
        self.calls.append((request.method, request.url.path, None))
        contact = next(iter(self.contacts.values()))
        return httpx.Response(200, json={"new": False, "contact": contact, "traceId": "t2"})


@pytest.fixture
def one_contact_ghl(ghl_settings):
    import respx

    with respx.mock(assert_all_called=False) as router:
        fake = OneContactGHL(router)
        yield fake
    assert fake.violations == []


def _lead(name, mailing=BOX, tier="A", **kw):
    return LeadFactory(tier=tier, property__owner_name=name, property__owner_mailing_address=mailing, **kw)


def _link(obj, kind):
    return ExternalLink.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk, kind=kind
    ).first()


def test_every_upsert_answering_one_contact_completes_with_every_opportunity_created(one_contact_ghl, ghl):
    """Regression: this stopped at the second lead with an IntegrityError on externallink_unique_remote."""
    leads = [
        _lead("SMITH JOHN A"),
        _lead("John A. Smith"),  # the same owner's second parcel
        _lead("DOE JANE", "9 OAK AVE, ATLANTA, GA 30301"),
        _lead("ACME HOLDINGS LLC", "1 CORPORATE BLVD, WILMINGTON, DE 19801", tier="B"),
    ]
    owners_resolve()

    log = ghl_push_leads(client=ghl)

    assert (log.status, log.processed, log.succeeded, log.failed, log.skipped) == ("success", 4, 4, 0, 0)
    assert log.errors == []
    (contact_id,) = one_contact_ghl.contacts
    assert one_contact_ghl.paths().count("POST /contacts/upsert") == 3  # one per owner, not per lead
    assert sorted(o["contactId"] for o in one_contact_ghl.opportunities.values()) == [contact_id] * 4
    for lead in leads:
        assert _link(lead, "opportunity").ghl_id in one_contact_ghl.opportunities
    john, jane, acme = (Lead.objects.get(pk=lead.pk).property.owner for lead in leads[1:])
    assert _link(john, "contact").ghl_id == contact_id
    assert [_link(o, "shared_contact").ghl_id for o in (jane, acme)] == [contact_id, contact_id]
    assert "2 owners got a contact GoHighLevel had already linked to another owner" in log.message

    one_contact_ghl.calls.clear()
    again = ghl_push_leads(client=ghl)
    assert one_contact_ghl.calls == []
    assert (again.status, again.processed, again.succeeded, again.skipped) == ("success", 4, 0, 4)


def test_an_owners_second_property_reuses_its_contact(fake_ghl, ghl):
    first, second = _lead("SMITH JOHN A"), _lead("Smith, John A.", tier="B")
    owners_resolve()

    log = ghl_push_leads(client=ghl)

    owner = Owner.objects.get()
    contact = _link(owner, "contact")
    assert (log.status, log.succeeded, log.failed) == ("success", 2, 0)
    assert fake_ghl.paths().count("POST /contacts/upsert") == 1
    upsert = next(body for method, path, body in fake_ghl.calls if path == "/contacts/upsert")
    assert {k: upsert[k] for k in ("name", "firstName", "lastName", "address1", "city", "state", "postalCode")} == {
        "name": "John A Smith",
        "firstName": "John A",
        "lastName": "Smith",
        "address1": "PO BOX 500",
        "city": "TAMPA",
        "state": "FL",
        "postalCode": "33601",
    }
    assert fake_ghl.calls[2][2] == {"tags": ["dealfinder", "tier-a"]}  # the owner's best tier
    opportunities = {o["contactId"] for o in fake_ghl.opportunities.values()}
    assert (len(fake_ghl.opportunities), opportunities) == (2, {contact.ghl_id})
    assert _link(first, "contact") is None and _link(second, "contact") is None


def test_contacts_pushed_per_lead_before_owners_move_to_the_owner_without_a_second_contact(fake_ghl, ghl):
    first, second = _lead("SMITH JOHN A"), _lead("SMITH JOHN A")
    ghl_push_leads(client=ghl)  # before owners: one contact per lead
    old_first, old_second = _link(first, "contact").ghl_id, _link(second, "contact").ghl_id
    owners_resolve()
    fake_ghl.calls.clear()

    log = ghl_push_leads(client=ghl)

    owner = Owner.objects.get()
    assert _link(owner, "contact").ghl_id == old_first
    assert _link(first, "contact") is None
    assert _link(second, "contact").ghl_id == old_second  # left on its lead (webhooks still find it), unused
    assert "POST /contacts/upsert" not in fake_ghl.paths()
    assert f"PUT /contacts/{old_first}" in fake_ghl.paths()
    assert (log.status, log.failed) == ("success", 0)
    assert len(fake_ghl.contacts) == 2


class ScriptedGHL(FakeGHL):
    """The fake, with answers queued per request (method, path) that are given before the fake's own."""

    def __init__(self, router):
        super().__init__(router)
        self.scripted: dict[tuple[str, str], list[httpx.Response]] = {}

    def handle(self, request: httpx.Request) -> httpx.Response:
        queued = self.scripted.get((request.method, request.url.path))
        if queued:
            self.calls.append((request.method, request.url.path, None))
            return queued.pop(0)
        return super().handle(request)


@pytest.fixture
def scripted_ghl(ghl_settings):
    import respx

    with respx.mock(assert_all_called=False) as router:
        yield ScriptedGHL(router)


def test_unexpected_answers_fail_their_item_and_the_run_goes_on(scripted_ghl, ghl):
    leads = [_lead(f"OWNER{n} JANE", f"{n} OAK AVE, ATLANTA, GA 30301") for n in range(1, 5)]
    owners_resolve()
    taken = ExternalLink.objects.create(
        content_type=ContentType.objects.get_for_model(Lead), object_id=999999, kind="opportunity", ghl_id="opX"
    )
    opportunity = {"id": taken.ghl_id, "name": "x", "status": "open", "updatedAt": "2026-01-05T10:00:00Z"}
    scripted_ghl.scripted = {
        ("POST", "/contacts/upsert"): [httpx.Response(200, json=[{"unexpected": "a list"}])],  # lead 1
        # lead 2: an opportunity id GoHighLevel already gave another lead
        ("POST", "/opportunities/"): [httpx.Response(201, json={"opportunity": opportunity})],
    }

    log = ghl_push_leads(client=ghl)

    assert (log.status, log.processed, log.succeeded, log.failed) == ("partial", 4, 2, 2)
    assert [e["lead"] for e in log.errors] == [leads[0].pk, leads[1].pk]
    assert all(e["error"].startswith("unexpected answer from GoHighLevel") for e in log.errors)
    assert _link(leads[1], "opportunity") is None
    assert all(_link(lead, "opportunity") is not None for lead in leads[2:])
    assert ExternalLink.objects.get(ghl_id="opX").object_id == 999999  # the other lead's link is untouched

    again = ghl_push_leads(client=ghl)  # the failed ones go again and land

    assert (again.status, again.succeeded, again.failed) == ("success", 2, 0)


def test_buyers_pulled_from_ghl_who_own_parcels_are_linked_to_their_owner(fake_ghl, ghl, ghl_settings):
    from buyers.models import Buyer
    from sync.pull import ghl_pull_buyers

    _lead("SMITH JOHN A")
    _lead("ACME HOLDINGS LLC", "1 CORPORATE BLVD, WILMINGTON, DE 19801")
    _lead("SMITH JOHN A", "9 OAK AVE, ATLANTA, GA 30301")  # a namesake elsewhere
    owners_resolve()
    ghl_push_leads(client=ghl)
    john = Owner.objects.get(display_name="John A Smith", mailing_street="PO BOX 500")
    john_contact = _link(john, "contact").ghl_id
    fake_ghl.contacts[john_contact]["tags"].append("cash-buyer")  # the owner's contact is tagged a buyer there
    for n, (first, last, company) in enumerate(
        [("Ann", "Lee", "Acme Holdings, L.L.C."), ("John", "Smith", ""), ("Bo", "Ng", "Other Co LLC")]
    ):
        cid = f"buyer{n}"
        fake_ghl.contacts[cid] = {"id": cid, "firstName": first, "lastName": last, "companyName": company,
                                  "tags": ["cash-buyer"], "customFields": []}  # fmt: skip

    log = ghl_pull_buyers(client=ghl)

    owners = dict(Buyer.objects.values_list("ghl_contact_id", "owner__display_name"))
    assert owners == {
        john_contact: "John A Smith",  # the same contact
        "buyer0": "Acme Holdings LLC",  # the one company of that name
        "buyer1": None,  # a person's name alone links nothing
        "buyer2": None,
    }
    assert "2 buyers linked to the owner of their own parcels" in log.message
