"""The model factories (factory-boy) of every app, for every test package: `from tests.factories import LeadFactory`.
Scenes built from them (a lead at a point, buyers by zip, area or radius) are in tests/scenes.py. DataSourceFactory
makes disabled sources (ingesting one raises SourceDisabled): a test that ingests says `enabled=True`."""

import datetime
import uuid

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.utils import timezone
from factory.django import DjangoModelFactory

from buyers import models as bm
from dealfinder.ops import models as om
from dealfinder.ops.roles import ACQUISITIONS, roles_setup
from leads import models as lm
from properties import models as pm
from sync import models as sm

# --- properties
# Downtown Orlando; factories spread points around it.
ORLANDO = (-81.3789, 28.5384)


def square(center=ORLANDO, half=0.05) -> MultiPolygon:
    x, y = center
    ring = [(x + dx * half, y + dy * half) for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1))]
    return MultiPolygon(Polygon(ring), srid=4326)


def point_near(n: int) -> Point:
    return Point(ORLANDO[0] + (n % 50) * 0.002, ORLANDO[1] + (n // 50 % 50) * 0.002, srid=4326)


class DataSourceFactory(DjangoModelFactory):
    class Meta:
        model = pm.DataSource
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Source {n}")
    slug = factory.Sequence(lambda n: f"source-{n}")
    kind = pm.DataSource.Kind.ARCGIS
    dataset = pm.DataSource.Dataset.PARCELS
    url = factory.Sequence(lambda n: f"https://gis.example.test/arcgis/rest/services/Layer{n}/FeatureServer/0")
    field_mapping = factory.LazyFunction(lambda: {"parcel_id": "PARCEL"})
    county = "Orange"


class IngestionRunFactory(DjangoModelFactory):
    class Meta:
        model = pm.IngestionRun

    source = factory.SubFactory(DataSourceFactory)
    source_label = factory.LazyAttribute(lambda o: o.source.name)
    dataset = factory.LazyAttribute(lambda o: o.source.dataset)
    status = pm.IngestionRun.Status.SUCCESS
    processed = 10
    inserted = 10


class PropertyFactory(DjangoModelFactory):
    class Meta:
        model = pm.Property

    parcel_id = factory.Sequence(lambda n: f"2922288850{n:05d}")
    parcel_id_raw = factory.LazyAttribute(lambda o: o.parcel_id)
    county = "Orange"
    street = factory.Sequence(lambda n: f"{100 + n} MAIN ST")
    city = "ORLANDO"
    state = "FL"
    zip = "32801"
    address_raw = factory.LazyAttribute(lambda o: f"{o.street}, {o.city}, {o.state} {o.zip}")
    address_normalized = factory.LazyAttribute(lambda o: f"{o.street}, {o.city}, {o.state} {o.zip}")
    location = factory.Sequence(point_near)
    owner_name = factory.Faker("name")
    owner_mailing_address = factory.LazyAttribute(lambda o: o.address_normalized)
    property_type = pm.PropertyType.SFR
    beds = 3
    baths = 2
    living_sqft = 1500
    lot_sqft = 7000
    year_built = 1985


class OwnerInputFactory(DjangoModelFactory):
    class Meta:
        model = pm.OwnerInput

    property = factory.SubFactory(PropertyFactory)
    digest = factory.Sequence(lambda n: f"{n:032x}")
    block = factory.Sequence(lambda n: f"{n + 1:032x}")


class OwnerFactory(DjangoModelFactory):
    """An owner row as `owners_resolve` writes it (tests that need resolution itself call `owners_resolve`)."""

    class Meta:
        model = pm.Owner
        skip_postgeneration_save = True

    key = factory.Sequence(lambda n: f"person:OWNER|N{n}||@PO BOX {n}|32801")
    digest = factory.Sequence(lambda n: f"{n:032x}")
    kind = "individual"
    display_name = factory.Sequence(lambda n: f"Owner N{n}")
    people = factory.Sequence(lambda n: [{"last": "OWNER", "first": f"N{n}", "middle": "", "suffix": ""}])
    mailing_street = factory.Sequence(lambda n: f"PO BOX {n}")
    mailing_city = "ORLANDO"
    mailing_state = "FL"
    mailing_zip = "32801"

    @factory.post_generation
    def properties(self, create, extracted, **kwargs):
        """`OwnerFactory(properties=[...])`: those parcels are its own, and it counts them."""
        if create and extracted:
            pm.Property.objects.filter(pk__in=[p.pk for p in extracted]).update(owner=self)
            self.property_count = len(extracted)
            self.save(update_fields=["property_count"])


class PropertySourceFactory(DjangoModelFactory):
    class Meta:
        model = pm.PropertySource

    property = factory.SubFactory(PropertyFactory)
    source = factory.SubFactory(DataSourceFactory)
    external_id = factory.Sequence(str)


class TaxSaleFactory(DjangoModelFactory):
    class Meta:
        model = pm.TaxSale

    property = factory.SubFactory(PropertyFactory)
    source = factory.SubFactory(DataSourceFactory, dataset=pm.DataSource.Dataset.TAX_SALES)
    external_id = factory.Sequence(lambda n: f"TS{n}")
    tda_number = factory.Sequence(lambda n: f"2023-{4000 + n}")
    sale_date = factory.Faker("date_between", start_date="+5d", end_date="+60d")
    deed_status = "Active"
    opening_bid = 12500
    raw = factory.LazyAttribute(lambda o: {"USER_TDA_NUM": o.tda_number})


class ForeclosureFactory(DjangoModelFactory):
    class Meta:
        model = pm.Foreclosure

    property = factory.SubFactory(PropertyFactory)
    source = factory.SubFactory(DataSourceFactory, dataset=pm.DataSource.Dataset.FORECLOSURES)
    external_id = factory.Sequence(lambda n: f"FC{n}")
    case_number = factory.Sequence(lambda n: f"2024-CA-{n:06d}-O")
    borrower = factory.Faker("name")
    lender = "First National Bank"
    status = "Scheduled"
    default_amount = 85000
    filing_date = factory.Faker("date_between", start_date="-120d", end_date="-10d")
    auction_date = factory.Faker("date_between", start_date="+10d", end_date="+90d")


class ValuationFactory(DjangoModelFactory):
    class Meta:
        model = pm.Valuation

    property = factory.SubFactory(PropertyFactory)
    source = factory.SubFactory(DataSourceFactory, dataset=pm.DataSource.Dataset.VALUATIONS)
    external_id = factory.Sequence(lambda n: f"VAL{n}")
    tax_year = 2026
    market_value = 250000
    assessed_value = 210000
    taxable_value = 200000
    annual_taxes = 4200
    last_sale_price = 120000
    last_sale_date = factory.Faker("date_between", start_date="-20y", end_date="-5y")
    equity_percent = 52
    tax_rate = "0.02100"


class TaxDelinquencyFactory(DjangoModelFactory):
    class Meta:
        model = pm.TaxDelinquency

    property = factory.SubFactory(PropertyFactory)
    source = factory.SubFactory(DataSourceFactory, dataset=pm.DataSource.Dataset.TAX_DELINQUENCIES)
    external_id = factory.Sequence(lambda n: f"DELQ{n}")
    tax_year = 2024
    amount_owed = 1850
    is_open = True


class CodeViolationFactory(DjangoModelFactory):
    class Meta:
        model = pm.CodeViolation

    property = factory.SubFactory(PropertyFactory)
    source = factory.SubFactory(DataSourceFactory, dataset=pm.DataSource.Dataset.CODE_VIOLATIONS)
    case_number = factory.Sequence(lambda n: f"CE{n:07d}")
    external_id = factory.LazyAttribute(lambda o: o.case_number)
    violation_type = "Overgrown lot"
    status = "Open"
    opened_at = factory.Faker("date_between", start_date="-200d", end_date="-1d")
    location = factory.LazyAttribute(lambda o: o.property.location)


class ListingFactory(DjangoModelFactory):
    class Meta:
        model = pm.Listing

    property = factory.SubFactory(PropertyFactory)
    source = factory.SubFactory(DataSourceFactory, dataset=pm.DataSource.Dataset.LISTINGS, kind="file")
    external_id = factory.Sequence(lambda n: f"MLS{n:07d}")
    list_price = 199000
    status = pm.Listing.Status.ACTIVE
    days_on_market = 45
    listed_at = factory.Faker("date_between", start_date="-90d", end_date="-1d")
    url = factory.LazyAttribute(lambda o: f"https://listings.example.test/{o.external_id}")


class PriceChangeFactory(DjangoModelFactory):
    class Meta:
        model = pm.PriceChange

    listing = factory.SubFactory(ListingFactory)
    old_price = 215000
    new_price = 199000
    changed_at = factory.Faker("date_time_between", start_date="-30d", end_date="now", tzinfo=datetime.UTC)


class GeocodeCacheFactory(DjangoModelFactory):
    class Meta:
        model = pm.GeocodeCache

    address_key = factory.Sequence(lambda n: f"{n} ELM ST, ORLANDO, FL 32801")
    status = "Match"
    location = factory.Sequence(point_near)


class QualityReportFactory(DjangoModelFactory):
    class Meta:
        model = pm.QualityReport

    status = pm.QualityReport.Status.WARNING
    counts = factory.LazyFunction(lambda: {"properties": 10})
    findings = factory.LazyFunction(
        lambda: [{"check": "no_point", "severity": "warning", "count": 2, "message": "2 properties have no point"}]
    )
    warnings = 1


# --- leads


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"broker{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.test")
    password = factory.django.Password("correct horse battery staple")


class BrokerFactory(UserFactory):
    """An active staff user in a role (Acquisitions unless `role=` says otherwise): someone leads can be
    assigned to. Creates the role groups when they do not exist yet."""

    class Meta:
        skip_postgeneration_save = True  # the role is a group membership: nothing on the row to save again

    is_staff = True

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if not create:
            return
        name = extracted or ACQUISITIONS
        if not Group.objects.filter(name=name).exists():
            roles_setup()
        self.groups.add(Group.objects.get(name=name))


class LeadFactory(DjangoModelFactory):
    class Meta:
        model = lm.Lead

    property = factory.SubFactory(PropertyFactory)
    distress = 30
    value = 20
    location_score = 10
    urgency = 10
    total = 70
    tier = "B"
    stack_count = 2
    reasons = factory.LazyFunction(lambda: ["Tax-deed sale in 12 days (+10)", "Absentee owner (+5)"])
    scored_at = factory.Faker("date_time_between", start_date="-1d", end_date="now", tzinfo=datetime.UTC)
    arv = 250000
    repair_estimate = 30000
    mao = 135000


class LeadScoreHistoryFactory(DjangoModelFactory):
    class Meta:
        model = lm.LeadScoreHistory

    lead = factory.SubFactory(LeadFactory)
    snapshot_date = factory.Sequence(lambda n: datetime.date(2026, 1, 1) + datetime.timedelta(days=n))
    distress = factory.LazyAttribute(lambda o: o.lead.distress)
    value = factory.LazyAttribute(lambda o: o.lead.value)
    location_score = factory.LazyAttribute(lambda o: o.lead.location_score)
    urgency = factory.LazyAttribute(lambda o: o.lead.urgency)
    total = factory.LazyAttribute(lambda o: o.lead.total)
    tier = factory.LazyAttribute(lambda o: o.lead.tier)


class LeadTierDayFactory(DjangoModelFactory):
    class Meta:
        model = lm.LeadTierDay

    snapshot_date = factory.Sequence(lambda n: datetime.date(2026, 1, 1) + datetime.timedelta(days=n))
    tier = "A"
    leads = 3


class ScoringProfileFactory(DjangoModelFactory):
    class Meta:
        model = lm.ScoringProfile
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Profile {n}")
    is_active = False


class ActivityFactory(DjangoModelFactory):
    class Meta:
        model = lm.Activity

    lead = factory.SubFactory(LeadFactory)
    kind = lm.Activity.Kind.NOTE
    actor = factory.SubFactory(UserFactory)
    body = "Left a voicemail."


class AlertFactory(DjangoModelFactory):
    class Meta:
        model = lm.Alert

    lead = factory.SubFactory(LeadFactory)
    channel = lm.Alert.Channel.SLACK
    entered_on = factory.LazyFunction(datetime.date.today)
    batch = factory.LazyFunction(uuid.uuid4)
    status = lm.Alert.Status.SENT


class MapPointFactory(DjangoModelFactory):
    class Meta:
        model = lm.MapPoint

    lead = factory.SubFactory(LeadFactory)
    location = factory.LazyAttribute(lambda o: o.lead.property.location or Point(-81.3789, 28.5384, srid=4326))
    tier = factory.LazyAttribute(lambda o: o.lead.tier)
    total = factory.LazyAttribute(lambda o: o.lead.total)


class MapGridCellFactory(DjangoModelFactory):
    class Meta:
        model = lm.MapGridCell

    level = 12
    cx = factory.Sequence(lambda n: -3704 + n)
    cy = 1298
    tier = "A"
    n = 2
    sum_lon = -162.75
    sum_lat = 57.08


class MapPendingFactory(DjangoModelFactory):
    class Meta:
        model = lm.MapPending

    lead_id = factory.Sequence(lambda n: n + 1)


class CompsMemoFactory(DjangoModelFactory):
    class Meta:
        model = lm.CompsMemo

    key = factory.Sequence(lambda n: f"County {n}")
    as_of = datetime.date(2026, 3, 2)
    params = factory.LazyFunction(dict)
    full_on = datetime.date(2026, 3, 2)


class CompsMemoSubjectFactory(DjangoModelFactory):
    class Meta:
        model = lm.CompsMemoSubject

    key = "Orange"
    lead_id = factory.Sequence(lambda n: n + 1)
    inputs = "0" * 32
    tier = 0
    kept = factory.LazyFunction(lambda: [1, 2, 3])


class CompsMemoSaleFactory(DjangoModelFactory):
    class Meta:
        model = lm.CompsMemoSale

    key = "Orange"
    sale_id = factory.Sequence(lambda n: n + 1)
    inputs = "0" * 32
    sale_date = datetime.date(2026, 3, 1)


class MapGridStateFactory(DjangoModelFactory):
    class Meta:
        model = lm.MapGridState

    built_at = factory.LazyFunction(timezone.now)
    max_lead_id = None


# --- buyers


class BuyerFactory(DjangoModelFactory):
    class Meta:
        model = bm.Buyer

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    company = factory.Faker("company")
    email = factory.Sequence(lambda n: f"buyer{n}@example.test")
    phone = factory.Sequence(lambda n: f"+1407555{n:04d}")
    tags = factory.LazyFunction(lambda: ["cash-buyer"])
    min_price = 50000
    max_price = 300000
    property_types = factory.LazyFunction(lambda: ["sfr", "townhouse"])
    min_beds = 2
    target_area = factory.LazyFunction(lambda: square(ORLANDO, 0.05))
    target_zips = factory.LazyFunction(lambda: ["32801", "32805"])
    center = factory.LazyFunction(lambda: Point(*ORLANDO, srid=4326))
    radius_miles = 10
    strategies = factory.LazyFunction(lambda: ["flip"])
    cash_buyer = True
    proof_of_funds = True


class PropertyMatchFactory(DjangoModelFactory):
    class Meta:
        model = bm.PropertyMatch

    property = factory.SubFactory(PropertyFactory)
    buyer = factory.SubFactory(BuyerFactory)
    score = 85
    reasons = factory.LazyFunction(lambda: ["Inside the buyer's target area (+40)"])


class MatchingProfileFactory(DjangoModelFactory):
    class Meta:
        model = bm.MatchingProfile
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Matching {n}")
    is_active = False


# --- sync


class SyncLogFactory(DjangoModelFactory):
    class Meta:
        model = sm.SyncLog

    sync_type = sm.SyncLog.SyncType.LEAD_PUSH
    status = sm.SyncLog.Status.SUCCESS
    processed = 5
    succeeded = 5
    duration_seconds = 1.5


class ExternalLinkFactory(DjangoModelFactory):
    class Meta:
        model = sm.ExternalLink
        exclude = ("local",)

    local = factory.SubFactory(LeadFactory)
    content_type = factory.LazyAttribute(lambda o: ContentType.objects.get_for_model(o.local))
    object_id = factory.LazyAttribute(lambda o: o.local.pk)
    kind = sm.ExternalLink.Kind.CONTACT
    ghl_id = factory.Sequence(lambda n: f"ghlContact{n:06d}")
    last_hash = "0" * 64


class SyncConflictFactory(DjangoModelFactory):
    class Meta:
        model = sm.SyncConflict

    link = factory.SubFactory(ExternalLinkFactory)
    field = "status"
    local_value = "negotiating"
    remote_value = "contacted"


class WebhookEventFactory(DjangoModelFactory):
    class Meta:
        model = sm.WebhookEvent

    webhook_id = factory.Sequence(lambda n: f"wh-{n:08d}")
    event_type = "ContactUpdate"
    payload = factory.LazyFunction(lambda: {"type": "ContactUpdate", "id": "ghlContact000001"})
    signature_scheme = "ed25519"
    signature_valid = True
    status = sm.WebhookEvent.Status.PROCESSED


class PushClaimFactory(DjangoModelFactory):
    class Meta:
        model = sm.PushClaim

    lead = factory.SubFactory(LeadFactory)
    owner = factory.Sequence(lambda n: f"{n:032x}")


class DeferredMessageFactory(DjangoModelFactory):
    class Meta:
        model = sm.DeferredMessage

    lead = factory.SubFactory(LeadFactory)
    match = factory.SubFactory(PropertyMatchFactory, property=factory.SelfAttribute("..lead.property"))
    action = "sms"
    due_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(hours=8))
    reason = "quiet_hours"
    message = "Not now: quiet hours"


class ConsentFactory(DjangoModelFactory):
    class Meta:
        model = sm.Consent
        exclude = ("subject",)

    subject = factory.SubFactory(LeadFactory)
    content_type = factory.LazyAttribute(lambda o: ContentType.objects.get_for_model(o.subject))
    object_id = factory.LazyAttribute(lambda o: o.subject.pk)
    channel = "sms"
    status = "granted"
    source = "local"


class DoNotContactFactory(DjangoModelFactory):
    class Meta:
        model = sm.DoNotContact

    phone_digits = factory.Sequence(lambda n: f"407555{n:04d}")


# --- direct mail and skip tracing (issue 25)


class MailCampaignFactory(DjangoModelFactory):
    class Meta:
        model = sm.MailCampaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    slug = factory.Sequence(lambda n: f"campaign-{n}")
    audience = factory.LazyFunction(lambda: {"tier": ["A", "B"], "status": ["new"]})
    front_html = "<html><body><h1>We buy {{ property_address }}</h1></body></html>"
    back_html = "<html><body><p>Dear {{ owner_name }}, call us.</p></body></html>"


class MailPieceFactory(DjangoModelFactory):
    class Meta:
        model = sm.MailPiece

    campaign = factory.SubFactory(MailCampaignFactory)
    lead = factory.SubFactory(LeadFactory)
    touch = 1
    idempotency_key = factory.Sequence(lambda n: f"dealfinder-mail-test-{n}-1")
    status = sm.MailPiece.Status.SENT
    lob_id = factory.Sequence(lambda n: f"psc_{n:020x}")


class MailVerificationFactory(DjangoModelFactory):
    class Meta:
        model = sm.MailVerification

    address_key = factory.Sequence(lambda n: f"{100 + n} MAIN ST, ORLANDO, FL 32801")
    deliverability = "deliverable"
    mailable = True


class MailOptOutFactory(DjangoModelFactory):
    class Meta:
        model = sm.MailOptOut

    lead = factory.SubFactory(LeadFactory)


class PermissibleUseAcknowledgementFactory(DjangoModelFactory):
    class Meta:
        model = sm.PermissibleUseAcknowledgement

    user = factory.SubFactory(UserFactory)


class SkipTraceCallFactory(DjangoModelFactory):
    class Meta:
        model = sm.SkipTraceCall

    provider = "batchdata"
    requests = 1


class LeadSkipTraceFactory(DjangoModelFactory):
    class Meta:
        model = sm.LeadSkipTrace

    lead = factory.SubFactory(LeadFactory)
    call = factory.SubFactory(SkipTraceCallFactory)
    status = "hit"


class LeadContactPointFactory(DjangoModelFactory):
    class Meta:
        model = sm.LeadContactPoint

    lead = factory.SubFactory(LeadFactory)
    kind = "phone"
    value = factory.Sequence(lambda n: f"40755501{n % 100:02d}")


# --- pipeline


class PipelineRunFactory(DjangoModelFactory):
    class Meta:
        model = om.PipelineRun

    job = "nightly"
    status = om.PipelineRun.Status.SUCCESS
    trigger = om.PipelineRun.Trigger.BEAT
    started_at = factory.LazyFunction(timezone.now)
    heartbeat_at = factory.LazyAttribute(lambda o: o.started_at)
    finished_at = factory.LazyAttribute(lambda o: o.started_at + timezone.timedelta(minutes=3))


class PipelineStepFactory(DjangoModelFactory):
    class Meta:
        model = om.PipelineStep

    run = factory.SubFactory(PipelineRunFactory)
    name = factory.Sequence(lambda n: f"step{n}")
    order = factory.Sequence(lambda n: n + 1)
    status = om.PipelineStep.Status.SUCCESS
    counts = factory.LazyFunction(lambda: {"processed": 10})
    attempts = 1
    started_at = factory.LazyAttribute(lambda o: o.run.started_at)
    finished_at = factory.LazyAttribute(lambda o: o.run.started_at + timezone.timedelta(seconds=20))


class OutcomeFactory(DjangoModelFactory):
    class Meta:
        model = lm.Outcome

    lead = factory.SubFactory(LeadFactory)
    kind = "closed_won"
    occurred_on = datetime.date(2026, 2, 1)
    source = "admin"


# --- owners, recorded sales, discovered buyers, backtests


class OwnerCorrectionFactory(DjangoModelFactory):
    class Meta:
        model = pm.OwnerCorrection

    kind = pm.OwnerCorrection.Kind.SPLIT
    record_id = factory.Sequence(lambda n: f"PARCEL{n:06d}")
    name_key = "SMITH|JOHN|A"
    other_record_id = factory.Sequence(lambda n: f"PARCEL{n + 500000:06d}")


class SaleFactory(DjangoModelFactory):
    class Meta:
        model = pm.Sale

    property = factory.SubFactory(PropertyFactory)
    source = factory.SubFactory(DataSourceFactory, dataset=pm.DataSource.Dataset.SALES)
    external_id = factory.Sequence(lambda n: f"DOC{n}|{n}")
    document_id = factory.Sequence(lambda n: f"2024{n:07d}")
    sale_date = factory.Faker("date_between", start_date="-300d", end_date="-10d")
    sale_price = 250000
    deed_type = "WD"
    grantor = "SELLER JANE"
    grantee = "BLUE OAK HOMES LLC"


class DiscoveredBuyerFactory(DjangoModelFactory):
    class Meta:
        model = bm.DiscoveredBuyer

    key = factory.Sequence(lambda n: f"company:BUYER {n} LLC")
    name = factory.Sequence(lambda n: f"BUYER {n} LLC")
    kind = "company"
    purchase_count = 2
    zips = factory.LazyFunction(lambda: ["32805"])
    style = "flipper"


class BacktestRunFactory(DjangoModelFactory):
    class Meta:
        model = lm.BacktestRun

    outcomes = 60
    document = factory.LazyFunction(dict)
