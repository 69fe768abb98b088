"""An incremental comps run (leads.comps_memo) gives every subject what a full run gives, after every kind of
change a night brings: days passing (sales aging across the tiers' months), subjects new, gone, moved or
resized, sales recorded, deleted, re-priced, moved or no longer at arm's length; and it searches few subjects
when little changed."""

import copy
import datetime
import random
from decimal import Decimal

import pytest

from leads.comps import CompParams
from leads.comps_memo import forget_other_keys
from leads.models import CompsMemo, CompsMemoSale, CompsMemoSubject
from tests.leads.test_comps_sql import AS_OF, generated_county, sql_pass

pytestmark = [pytest.mark.postgis, pytest.mark.django_db]

MEMO = "Orange"


class Night:
    """One county's subjects and sales, its stored results (what the leads hold) and its memo."""

    def __init__(self, seed):
        self.subjects, self.sales = generated_county(seed, subjects=150, sales=1200)
        self.params = CompParams()
        self.as_of = AS_OF
        self.stored = {}
        self.rng = random.Random(seed)

    def run(self, *, days=0, full=False, incremental=False):
        """Run as of `days` later; `incremental`: as if the last full run was today (no weekly full run)."""
        self.as_of += datetime.timedelta(days=days)
        if incremental:
            CompsMemo.objects.filter(key=MEMO).update(full_on=self.as_of)
        results, done = sql_pass(self.subjects, self.sales, self.params, as_of=self.as_of, memo=MEMO, full=full)
        self.stored = {key: value for key, value in {**self.stored, **results}.items() if key in self.ids()}
        expected, _ = sql_pass(self.subjects, self.sales, self.params, as_of=self.as_of)
        assert self.stored == expected
        assert not (incremental and done.full)
        return done

    def ids(self):
        return {row["id"] for row in self.subjects}

    def kept_sale_ids(self):
        return sorted({sale_id for value in self.stored.values() for sale_id in value[4]})


def test_a_first_run_is_full_and_a_quiet_next_day_searches_only_what_aged():
    night = Night(1)
    first = night.run()
    assert (first.full, first.searched, first.results) == (True, 150, 150)
    assert CompsMemoSubject.objects.filter(key=MEMO).count() == 150
    kept = dict(CompsMemoSubject.objects.filter(key=MEMO).values_list("lead_id", "kept"))
    assert kept == {subject_id: list(value[4]) for subject_id, value in night.stored.items()}
    next_day = night.run(days=1)
    assert next_day.full is False
    # The subjects holding a comp that crossed 12 or 24 months (the county has many sales exactly on those days).
    assert 0 < next_day.searched < 75
    assert next_day.results == next_day.searched  # the trend did not move: the others are not touched
    again = night.run()  # the same day again: nothing to search
    assert (again.searched, again.results) == (0, 0)


@pytest.mark.parametrize("days", [1, 17, 45, 200])
def test_days_passing_give_what_a_full_run_gives(days):
    night = Night(2)
    night.run()
    searched = [night.run(days=days, incremental=True).searched for _ in range(3)]
    assert max(searched) < 150


def test_changed_subjects_are_searched_again():
    night = Night(3)
    night.run()
    rows = night.subjects
    rows[0]["lon"] += 0.004  # moved
    rows[1]["living_sqft"] = (rows[1]["living_sqft"] or 1000) + 400  # resized
    rows[2]["property_type"] = "condo" if rows[2]["property_type"] != "condo" else "sfr"
    rows[3]["beds"] = None
    rows[4]["parcel_id"] = night.sales[0]["parcel_id"]  # now the parcel of a sale: its own sale is no comp
    del rows[5]  # a lead merged away
    new = copy.deepcopy(rows[10])
    new["id"] = 1000
    rows.append(new)
    done = night.run(days=1)
    assert done.searched >= 6
    assert done.subjects == 150
    assert set(CompsMemoSubject.objects.filter(key=MEMO).values_list("lead_id", flat=True)) == night.ids()


def test_recorded_deleted_and_changed_sales_give_what_a_full_run_gives():
    night = Night(4)
    night.run()
    kept = night.kept_sale_ids()
    by_id = {row["id"]: row for row in night.sales}
    subject = night.subjects[7]
    for n in range(4):  # deeds recorded today, next to a subject
        night.sales.append(
            {
                **copy.deepcopy(by_id[kept[4]]),
                "id": 5000 + n,
                "lon": subject["lon"],
                "lat": subject["lat"],
                "property_type": subject["property_type"],
                "living_sqft": subject["living_sqft"],
                "beds": subject["beds"],
                "sale_date": night.as_of,
                "price": Decimal(400_000 + n),
                "is_arms_length": True,
                "is_distressed": False,
                "recorded_on": night.as_of + datetime.timedelta(days=1),
            }
        )
    done = night.run(days=1)
    assert done.full is False and 0 < done.searched < 150
    assert done.results == done.searched  # deeds recorded this month enter the trend next month
    by_id[kept[0]]["price"] = by_id[kept[0]]["price"] * 2  # re-priced
    by_id[kept[1]]["is_arms_length"] = False  # found to be a family transfer
    by_id[kept[2]]["lon"] += 0.5  # geocoded again, 30 miles off
    night.sales.remove(by_id[kept[3]])  # deleted
    done = night.run(days=1)
    assert done.full is False and 0 < done.searched < 150
    # Older sales changed: their months' trend moved, and the comps of those months are adjusted again.
    assert done.searched < done.results < 150
    night.run()  # a quiet run after it changes nothing
    next_month = night.run(days=31, incremental=True)  # a new month: every lead with comps is adjusted again
    with_comps = sum(1 for value in night.stored.values() if value[4])
    assert next_month.searched < 150 and next_month.results >= with_comps
    assert sorted(CompsMemoSale.objects.filter(key=MEMO).values_list("sale_id", flat=True)) == sorted(
        row["id"] for row in night.sales
        if row["is_arms_length"] and not row["is_distressed"] and (row["price"] or 0) > 0
        and night.as_of - datetime.timedelta(days=800) <= row["sale_date"] <= night.as_of
        and row["sale_date"] >= datetime.date(night.as_of.year - 2, night.as_of.month, night.as_of.day)
    )  # fmt: skip


def test_other_parameters_an_earlier_day_or_a_week_make_a_full_run():
    night = Night(5)
    night.run()
    assert night.run(days=1).full is False
    night.params = CompParams(min_comps=2)
    assert night.run().full is True
    assert night.run(days=-1).full is True
    assert night.run(days=6).full is False
    assert night.run(days=1).full is True  # a week after the last full run
    assert night.run(full=True).full is True
    assert CompsMemo.objects.get(key=MEMO).full_on == night.as_of


def test_the_memo_of_a_county_without_leads_is_forgotten():
    for key in (MEMO, "Lake"):
        CompsMemo.objects.create(key=key, as_of=AS_OF, params={}, trend={}, full_on=AS_OF)
        CompsMemoSubject.objects.create(key=key, lead_id=1, inputs="", tier=0, kept=[7])
        CompsMemoSale.objects.create(key=key, sale_id=7, inputs="", sale_date=AS_OF)
    forget_other_keys(keep=[MEMO])
    for model in (CompsMemo, CompsMemoSubject, CompsMemoSale):
        assert list(model.objects.values_list("key", flat=True)) == [MEMO]
