import datetime
import uuid

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.gis.geos import Point
from django.utils import timezone
from factory.django import DjangoModelFactory

from dealfinder.ops.roles import ACQUISITIONS, roles_setup
from leads import models
from tests.properties.factories import PropertyFactory


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
        model = models.Lead

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
        model = models.LeadScoreHistory

    lead = factory.SubFactory(LeadFactory)
    snapshot_date = factory.Sequence(lambda n: datetime.date(2026, 1, 1) + datetime.timedelta(days=n))
    distress = factory.LazyAttribute(lambda o: o.lead.distress)
    value = factory.LazyAttribute(lambda o: o.lead.value)
    location_score = factory.LazyAttribute(lambda o: o.lead.location_score)
    urgency = factory.LazyAttribute(lambda o: o.lead.urgency)
    total = factory.LazyAttribute(lambda o: o.lead.total)
    tier = factory.LazyAttribute(lambda o: o.lead.tier)


class ScoringProfileFactory(DjangoModelFactory):
    class Meta:
        model = models.ScoringProfile
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Profile {n}")
    is_active = False


class ActivityFactory(DjangoModelFactory):
    class Meta:
        model = models.Activity

    lead = factory.SubFactory(LeadFactory)
    kind = models.Activity.Kind.NOTE
    actor = factory.SubFactory(UserFactory)
    body = "Left a voicemail."


class AlertFactory(DjangoModelFactory):
    class Meta:
        model = models.Alert

    lead = factory.SubFactory(LeadFactory)
    channel = models.Alert.Channel.SLACK
    entered_on = factory.LazyFunction(datetime.date.today)
    batch = factory.LazyFunction(uuid.uuid4)
    status = models.Alert.Status.SENT


class MapPointFactory(DjangoModelFactory):
    class Meta:
        model = models.MapPoint

    lead = factory.SubFactory(LeadFactory)
    location = factory.LazyAttribute(lambda o: o.lead.property.location or Point(-81.3789, 28.5384, srid=4326))
    tier = factory.LazyAttribute(lambda o: o.lead.tier)
    total = factory.LazyAttribute(lambda o: o.lead.total)


class MapGridCellFactory(DjangoModelFactory):
    class Meta:
        model = models.MapGridCell

    level = 12
    cx = factory.Sequence(lambda n: -3704 + n)
    cy = 1298
    tier = "A"
    n = 2
    sum_lon = -162.75
    sum_lat = 57.08


class MapGridStateFactory(DjangoModelFactory):
    class Meta:
        model = models.MapGridState

    built_at = factory.LazyFunction(timezone.now)
    max_lead_id = None
