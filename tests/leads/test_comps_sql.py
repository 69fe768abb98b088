"""The set-based comps (leads.comps_sql, PostgreSQL + PostGIS) equal the pure rules (leads.comps) on generated
counties: every subject's ARV, band, confidence and ranked comps, under the default and other parameters."""

import datetime
import random
from decimal import Decimal

import pytest
from django.db import connection, transaction

from leads.comps import CompParams, CompSale, Subject, comps_and_arv
from leads.comps_sql import arv_rows, comps_arv_all
from leads.comps_trend import county_trend

pytestmark = [pytest.mark.postgis, pytest.mark.django_db]

AS_OF = datetime.date(2026, 3, 2)
TYPES = ("sfr", "sfr", "sfr", "condo", "townhouse", "other")
CENTER = (-81.38, 28.54)


def generated_county(seed: int, *, subjects: int, sales: int):
    """Subjects and sales scattered over about 3 x 3 miles, with every kind of gap and edge the rules meet."""
    rng = random.Random(seed)

    def point():
        return CENTER[0] + rng.uniform(-0.025, 0.025), CENTER[1] + rng.uniform(-0.022, 0.022)

    spots = [point() for _ in range(40)]  # shared spots: ties in distance
    sale_rows = []
    for sale_id in range(1, sales + 1):
        lon, lat = rng.choice(spots) if rng.random() < 0.1 else point()
        if rng.random() < 0.03:
            lon = lat = None
        days = rng.randint(-20, 1000)
        sale_date = AS_OF - datetime.timedelta(days=days)
        if rng.random() < 0.03:
            sale_date = AS_OF.replace(year=AS_OF.year - rng.choice((1, 2)))  # exactly 12 / 24 months before
        sqft = rng.choice((None, 0, *range(700, 3200, 37)))
        trend = 1 + 0.004 * (1000 - days) / 30
        price = None if rng.random() < 0.03 else Decimal(round((sqft or 1500) * rng.uniform(120, 260) * trend))
        sale_rows.append(
            {
                "id": sale_id,
                "parcel_id": f"P{rng.randint(1, sales)}",
                "lon": lon,
                "lat": lat,
                "sale_date": sale_date,
                "price": price,
                "living_sqft": sqft,
                "beds": rng.choice((None, 1, 2, 3, 3, 4, 5)),
                "property_type": rng.choice(TYPES),
                "is_arms_length": rng.random() > 0.15,
                "is_distressed": rng.random() < 0.08,
                "recorded_on": rng.choice((None, sale_date + datetime.timedelta(days=rng.randint(0, 40)))),
            }
        )
    subject_rows = []
    for subject_id in range(1, subjects + 1):
        lon, lat = rng.choice(spots) if rng.random() < 0.1 else point()
        subject_rows.append(
            {
                "id": subject_id,
                "lon": lon,
                "lat": lat,
                "property_type": rng.choice(TYPES),
                "living_sqft": rng.choice((None, *range(800, 2800, 53))),
                "beds": rng.choice((None, 2, 3, 4)),
                "parcel_id": rng.choice(("", f"P{rng.randint(1, sales)}")),
            }
        )
    return subject_rows, sale_rows


def pure_results(subject_rows, sale_rows, params):
    sales = [CompSale(sale_id=r["id"], **{k: v for k, v in r.items() if k != "id"}) for r in sale_rows]
    trend = county_trend(sales, as_of=AS_OF, params=params)
    out = {}
    for r in subject_rows:
        subject = Subject(as_of=AS_OF, **{k: v for k, v in r.items() if k != "id"})
        result = comps_and_arv(subject, sales, trend=trend, params=params)
        out[r["id"]] = (
            result.arv,
            result.low,
            result.high,
            result.confidence,
            tuple(c.sale.sale_id for c in result.comps),
        )
    return out


def sql_results(subject_rows, sale_rows, params):
    results, done = sql_pass(subject_rows, sale_rows, params)
    assert (done.subjects, done.searched, done.results, done.full) == (len(subject_rows),) * 3 + (True,)
    return results


def sql_pass(subject_rows, sale_rows, params, *, as_of=AS_OF, memo=None, full=False):
    """comps_arv_all over these rows: RESULT_TABLE's rows by subject id, and the pass's counts."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS test_subject, test_sale")  # a test's transaction never commits
        cursor.execute(
            "CREATE TEMPORARY TABLE test_subject (id bigint, lon float8, lat float8, property_type text,"
            " living_sqft int, beds int, parcel_id text) ON COMMIT DROP"
        )
        cursor.execute(
            "CREATE TEMPORARY TABLE test_sale (id bigint, parcel_id text, lon float8, lat float8, sale_date date,"
            " price numeric, living_sqft int, beds int, property_type text, is_arms_length bool,"
            " is_distressed bool, recorded_on date) ON COMMIT DROP"
        )
        cursor.executemany(
            "INSERT INTO test_subject VALUES (%s, %s, %s, %s, %s, %s, %s)", [tuple(r.values()) for r in subject_rows]
        )
        cursor.executemany(
            "INSERT INTO test_sale VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [tuple(r.values()) for r in sale_rows],
        )
        done = comps_arv_all(
            cursor=cursor,
            subjects_sql="SELECT * FROM test_subject",
            sales_sql="SELECT * FROM test_sale WHERE sale_date >= %s",
            sales_params=[datetime.date(2000, 1, 1)],
            as_of=as_of,
            params=params,
            memo=memo,
            full=full,
        )
        cursor.execute("SELECT relname FROM pg_class WHERE relname LIKE 'comps\\_%%' AND relkind = 'r'")
        assert [name for (name,) in cursor.fetchall()] == ["comps_arv"]  # the work tables are dropped
        results = {r.subject_id: (r.arv, r.low, r.high, r.confidence, r.sale_ids) for r in arv_rows(cursor=cursor)}
        return results, done


@pytest.mark.parametrize(
    ("seed", "params"),
    [
        (1, CompParams()),
        (2, CompParams(include_distressed=True, min_comps=2, max_comps=4, trend_min_sales=3)),
        (3, CompParams(tiers=((0.25, 6), (0.5, 12), (1.5, 36)), size_tolerance=0.3, beds_tolerance=0, band=(0.1, 0.9))),
        (4, CompParams(trend_min_sales=100_000)),  # a flat trend
    ],
)
def test_sql_equals_the_pure_rules_on_a_generated_county(seed, params):
    subject_rows, sale_rows = generated_county(seed, subjects=150, sales=1200)
    expected = pure_results(subject_rows, sale_rows, params)
    got = sql_results(subject_rows, sale_rows, params)
    assert got == expected
    with_arv = [v for v in expected.values() if v[0] is not None]
    assert len(with_arv) > 40  # the county gives most subjects comps: the comparison means something
    assert {v[3] for v in with_arv} >= {"low", "medium"}


def test_a_subject_without_location_or_type_gets_a_row_without_arv():
    subjects = [
        {"id": 1, "lon": None, "lat": None, "property_type": "sfr", "living_sqft": 1500, "beds": 3, "parcel_id": ""},
        {"id": 2, "lon": -81.38, "lat": 28.54, "property_type": "other", "living_sqft": 1500, "beds": 3,
         "parcel_id": ""},
    ]  # fmt: skip
    sale = {
        "id": 1,
        "parcel_id": "P1",
        "lon": -81.38,
        "lat": 28.54,
        "sale_date": AS_OF,
        "price": Decimal("300000"),
        "living_sqft": 1500,
        "beds": 3,
        "property_type": "other",
        "is_arms_length": True,
        "is_distressed": False,
        "recorded_on": None,
    }
    assert sql_results(subjects, [sale], CompParams()) == {
        1: (None, None, None, "none", ()),
        2: (None, None, None, "none", ()),
    }


def test_a_thin_month_borrows_the_earlier_of_two_equally_near_months():
    """Sales only 25 months ago ($100/sqft) and last month ($200/sqft, the latest the trend reads): the comps'
    month, 13 months ago, is six months from both months that have a value and takes the earlier one's, so its
    comps are worth twice as much."""

    def row(sale_id, day, per_sqft, property_type):
        return {
            "id": sale_id,
            "parcel_id": f"P{sale_id}",
            "lon": CENTER[0] + 0.001 * (sale_id % 3),
            "lat": CENTER[1],
            "sale_date": day,
            "price": Decimal(per_sqft * 1500),
            "living_sqft": 1500,
            "beds": 3,
            "property_type": property_type,
            "is_arms_length": True,
            "is_distressed": False,
            "recorded_on": None,
        }

    sales = [row(i, datetime.date(2024, 2, 10), 100, "condo") for i in range(1, 11)]
    sales += [row(i, datetime.date(2026, 2, 1), 200, "condo") for i in range(11, 21)]
    sales += [row(i, datetime.date(2025, 2, 15), 200, "sfr") for i in range(21, 24)]
    subjects = [{"id": 1, "lon": CENTER[0], "lat": CENTER[1], "property_type": "sfr", "living_sqft": 1500, "beds": 3,
                 "parcel_id": ""}]  # fmt: skip
    expected = {1: (Decimal("600000"), Decimal("600000"), Decimal("600000"), "medium", (21, 22, 23))}
    assert pure_results(subjects, sales, CompParams()) == expected
    assert sql_results(subjects, sales, CompParams()) == expected
