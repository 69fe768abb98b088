import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from dealfinder.ops import models


class PipelineRunFactory(DjangoModelFactory):
    class Meta:
        model = models.PipelineRun

    job = "nightly"
    status = models.PipelineRun.Status.SUCCESS
    trigger = models.PipelineRun.Trigger.BEAT
    started_at = factory.LazyFunction(timezone.now)
    heartbeat_at = factory.LazyAttribute(lambda o: o.started_at)
    finished_at = factory.LazyAttribute(lambda o: o.started_at + timezone.timedelta(minutes=3))


class PipelineStepFactory(DjangoModelFactory):
    class Meta:
        model = models.PipelineStep

    run = factory.SubFactory(PipelineRunFactory)
    name = factory.Sequence(lambda n: f"step{n}")
    order = factory.Sequence(lambda n: n + 1)
    status = models.PipelineStep.Status.SUCCESS
    counts = factory.LazyFunction(lambda: {"processed": 10})
    attempts = 1
    started_at = factory.LazyAttribute(lambda o: o.run.started_at)
    finished_at = factory.LazyAttribute(lambda o: o.run.started_at + timezone.timedelta(seconds=20))
