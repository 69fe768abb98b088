"""Daylight-saving changes in the project's TIME_ZONE (America/New_York): 2026-03-08 02:00 -> 03:00 and
2026-11-01 02:00 -> 01:00.

- The score snapshot is dated with the local date, not the UTC date.
- Re-scoring within the repeated hour (01:00-02:00 twice on 2026-11-01) keeps one snapshot per lead per day.
- The beat schedules `setup_periodic_tasks` creates fire once per local day (the 02:00 run on the spring-forward
  day runs at 03:00, not never and not twice), and hourly ones never twice for the
  repeated hour.
"""

import datetime as dt
import itertools
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from leads.models import LeadScoreHistory
from leads.services import leads_score_all
from tests.factories import PropertyFactory, ScoringProfileFactory
from tests.leads.conftest import hot_property

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
UTC = dt.UTC


@pytest.fixture(autouse=True)
def _new_york(settings):
    assert settings.TIME_ZONE == "America/New_York"  # the project default these dates are chosen for


@pytest.fixture
def clock(monkeypatch):
    """Sets Django's clock (timezone.now / localdate) to a given aware instant."""

    def set_to(instant: dt.datetime):
        monkeypatch.setattr(timezone, "now", lambda: instant)

    return set_to


@pytest.fixture
def scored_county(db):
    ScoringProfileFactory(name="DST", is_active=True)
    hot_property(parcel_id="HOT")
    PropertyFactory(parcel_id="PLAIN")


@pytest.mark.parametrize(
    ("utc_instant", "local_date"),
    [
        ("2026-03-08T04:30:00", "2026-03-07"),  # 23:30 EST on the 7th: the UTC date is already the 8th
        ("2026-03-08T06:59:00", "2026-03-08"),  # 01:59 EST, a minute before the clocks jump
        ("2026-03-08T07:00:00", "2026-03-08"),  # 03:00 EDT
        ("2026-11-01T03:30:00", "2026-10-31"),  # 23:30 EDT on the 31st
        ("2026-11-01T05:30:00", "2026-11-01"),  # 01:30 EDT (first pass)
        ("2026-11-01T06:30:00", "2026-11-01"),  # 01:30 EST (second pass)
        ("2026-11-02T04:30:00", "2026-11-01"),  # 23:30 EST on the 1st: the UTC date is already the 2nd
    ],
)
def test_snapshot_date_is_the_local_date(scored_county, clock, utc_instant, local_date):
    clock(dt.datetime.fromisoformat(utc_instant).replace(tzinfo=UTC))

    leads_score_all()

    dates = set(LeadScoreHistory.objects.values_list("snapshot_date", flat=True))
    assert dates == {dt.date.fromisoformat(local_date)}
    assert LeadScoreHistory.objects.count() == 2


def test_rescoring_in_the_repeated_hour_keeps_one_snapshot_per_lead(scored_county, clock):
    first_pass = dt.datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK)  # fold=0: EDT, 05:30 UTC
    second_pass = first_pass.replace(fold=1)  # EST, 06:30 UTC: the same wall clock an hour later
    assert second_pass.astimezone(UTC) - first_pass.astimezone(UTC) == dt.timedelta(hours=1)

    clock(first_pass.astimezone(UTC))
    first = leads_score_all()
    snapshots = list(LeadScoreHistory.objects.order_by("id").values_list("id", "lead_id", "snapshot_date", "total"))
    clock(second_pass.astimezone(UTC))
    second = leads_score_all()

    assert (first.history_written, second.history_written) == (2, 0)
    assert list(LeadScoreHistory.objects.order_by("id").values_list("id", "lead_id", "snapshot_date", "total")) == (
        snapshots
    )
    assert {s[2] for s in snapshots} == {dt.date(2026, 11, 1)}


def beat_runs(task: PeriodicTask, *, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """Replays celery beat minute by minute against the task's real crontab (as the DatabaseScheduler loads it)."""
    schedule = task.crontab.schedule
    now = [start.astimezone(UTC)]  # step in real (UTC) minutes: wall-clock arithmetic would skip the DST gap
    schedule.nowfun = lambda: now[0].astimezone(schedule.tz)
    last_run, runs = start, []
    while now[0] < end.astimezone(UTC):
        due, _ = schedule.is_due(last_run)
        if due:
            runs.append(now[0])
            last_run = now[0]
        now[0] += dt.timedelta(minutes=1)
    return runs


@pytest.mark.parametrize(
    ("days", "hourly_runs", "hourly_gaps"),
    [
        # Spring forward: 23 elapsed hours, 23 runs.
        (("2026-03-07", "2026-03-08", "2026-03-09"), (24, 23, 24), {1}),
        # Fall back: 25 elapsed hours but 24 runs: celery's crontab matches the wall clock once, so the repeated
        # 01:00 hour is not run twice (one 2-hour gap). Harmless for the hourly pull / 15-minute push: each run
        # catches up on everything since the last one.
        (("2026-10-31", "2026-11-01", "2026-11-02"), (24, 24, 24), {1, 2}),
    ],
)
def test_beat_schedules_fire_once_per_local_day_across_dst(db, days, hourly_runs, hourly_gaps):
    call_command("setup_periodic_tasks", stdout=None)
    tasks = {task.name: task for task in PeriodicTask.objects.select_related("crontab")}
    assert {task.crontab.timezone.key for task in tasks.values()} == {settings.TIME_ZONE}
    start = dt.datetime.fromisoformat(days[0]).replace(tzinfo=NEW_YORK) - dt.timedelta(minutes=5)  # beat is up
    end = (dt.datetime.fromisoformat(days[-1]) + dt.timedelta(days=1)).replace(tzinfo=NEW_YORK)

    def per_local_day(name):
        runs = beat_runs(tasks[name], start=start, end=end)
        return Counter(run.astimezone(NEW_YORK).date().isoformat() for run in runs), runs

    for name, local_time in (("DealFinder: nightly pipeline", "02:00"), ("DealFinder: data-quality check", "06:00")):
        counts, runs = per_local_day(name)
        assert counts == dict.fromkeys(days, 1), name
        assert [run.astimezone(NEW_YORK).strftime("%H:%M") for run in runs] == [
            # 02:00 does not exist on the spring-forward day: the run happens at 03:00, once.
            "03:00" if (local_time == "02:00" and day == "2026-03-08") else local_time
            for day in days
        ], name

    counts, runs = per_local_day("DealFinder: GoHighLevel buyer pull")
    assert [counts[day] for day in days] == list(hourly_runs)  # never doubled
    assert {b - a for a, b in itertools.pairwise(runs)} == {dt.timedelta(hours=h) for h in hourly_gaps}
