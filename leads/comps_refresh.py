"""Every lead's comps and ARV at once (the nightly "comps" step and `manage.py comps --all`).

On PostgreSQL + PostGIS, per county, leads/comps_sql.py builds every lead's result in one set-based pass and
one UPDATE ... FROM writes the leads whose comps changed. Elsewhere (SpatiaLite, small installs) each county's
sales are read once and leads/comps.py runs per lead in Python. Then the deal numbers of the leads whose comps
changed take the comps' ARV: MAO = ARV x the profile's percentage - repairs - assignment fee (leads.deals; the
nightly scoring keeps it so).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Case, DecimalField, ExpressionWrapper, F, Value, When
from django.db.models.functions import Greatest, Round
from django.utils import timezone

from dealfinder.common.admin_filters import distinct_values
from dealfinder.common.lookups import AnyOf
from leads.comps import CompParams, comps_and_arv
from leads.comps_memo import forget_other_keys
from leads.comps_selectors import comp_params_for, county_sales, subject_for
from leads.comps_sql import RESULT_TABLE, comps_arv_all
from leads.comps_trend import county_trend
from leads.grid import map_points_sync
from leads.models import Lead
from leads.services import scoringprofile_get_active
from properties.models import Property, Sale

# A county's leads, how many were searched, how many more had their kept comps adjusted to a moved trend, and the
# ids of those whose comps changed.
Refreshed = tuple[int, int, int, list[int]]
# Leads taking their comps' ARV per statement (one array on PostgreSQL; SQLite's limit on parameters elsewhere).
TAKING_BATCH = 10_000
COMPS_FIELDS = ("comps_arv", "comps_low", "comps_high", "comps_confidence", "comps_count", "comps_sale_ids")


@dataclass
class CompsSummary:
    leads: int = 0
    searched: int = 0  # leads whose comps were searched (not kept from the last run)
    adjusted: int = 0  # leads whose kept comps were adjusted to a moved trend
    changed: int = 0
    with_arv: int = 0

    def __str__(self):
        return (
            f"comps for {self.leads} leads ({self.searched} searched, {self.adjusted} adjusted):"
            f" {self.with_arv} with an ARV, {self.changed} changed"
        )


def _counties() -> list[str]:
    """Every county with properties (by an index skip scan on PostgreSQL; one without leads has no subjects)."""
    return distinct_values(Property, "county")


def _refresh_postgis(*, county: str, as_of: datetime.date, params: CompParams, now, full: bool) -> Refreshed:
    lead, prop, sale = Lead._meta.db_table, Property._meta.db_table, Sale._meta.db_table
    subjects_sql = (
        f"SELECT l.id, ST_X(p.location) AS lon, ST_Y(p.location) AS lat, p.property_type, p.living_sqft, p.beds,"  # noqa: S608
        f" p.parcel_id FROM {lead} l JOIN {prop} p ON p.id = l.property_id WHERE p.county = %s"
    )
    sales_sql = (
        f"SELECT s.id, p.parcel_id, ST_X(p.location) AS lon, ST_Y(p.location) AS lat, s.sale_date,"  # noqa: S608
        f" s.sale_price AS price, p.living_sqft, p.beds, p.property_type, s.is_arms_length, s.is_distressed,"
        f" s.recording_date AS recorded_on"
        f" FROM {sale} s JOIN {prop} p ON p.id = s.property_id WHERE p.county = %s AND s.sale_date IS NOT NULL"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        done = comps_arv_all(
            cursor=cursor,
            subjects_sql=subjects_sql,
            subjects_params=[county],
            sales_sql=sales_sql,
            sales_params=[county],
            as_of=as_of,
            params=params,
            memo=county,
            full=full,
        )
        cursor.execute(
            f"UPDATE {lead} l SET comps_arv = r.arv, comps_low = r.low, comps_high = r.high,"  # noqa: S608
            " comps_confidence = r.confidence, comps_count = r.comps, comps_sale_ids = to_jsonb(r.sale_ids),"
            f" comps_at = %s FROM {RESULT_TABLE} r WHERE r.subject_id = l.id AND (l.comps_arv, l.comps_low,"
            " l.comps_high, l.comps_confidence, l.comps_count, l.comps_sale_ids) IS DISTINCT FROM"
            " (r.arv, r.low, r.high, r.confidence, r.comps::smallint, to_jsonb(r.sale_ids)) RETURNING l.id",
            [now],
        )
        return done.subjects, done.searched, done.results - done.searched, [lead_id for (lead_id,) in cursor.fetchall()]


def _refresh_python(*, county: str, as_of: datetime.date, params: CompParams, now, full: bool) -> Refreshed:
    sales = county_sales(county=county, as_of=as_of, params=params)
    trend = county_trend(sales, as_of=as_of, params=params)
    leads = list(
        Lead.objects.filter(property__county=county).select_related("property").only("property", *COMPS_FIELDS)
    )
    changed = []
    for lead in leads:
        result = comps_and_arv(subject_for(prop=lead.property, as_of=as_of), sales, trend=trend, params=params)
        values = (
            result.arv,
            result.low,
            result.high,
            result.confidence,
            len(result.comps),
            [c.sale.sale_id for c in result.comps],
        )
        if tuple(getattr(lead, name) for name in COMPS_FIELDS) != values:
            for name, value in zip(COMPS_FIELDS, values, strict=True):
                setattr(lead, name, value)
            lead.comps_at = now
            changed.append(lead)
    Lead.objects.bulk_update(changed, [*COMPS_FIELDS, "comps_at"], batch_size=1000)
    return len(leads), len(leads), 0, [lead.id for lead in changed]


def leads_comps_refresh(*, as_of: datetime.date | None = None, full: bool = False) -> CompsSummary:
    """Refresh every lead's comps and ARV as of `as_of` (today) by the active profile; leads whose comps changed
    take the comps' ARV into their deal numbers. On PostGIS only the leads whose comps can have changed since the
    last run are searched again (leads.comps_memo), unless `full`."""
    as_of = as_of or timezone.localdate()
    profile = scoringprofile_get_active()
    params = comp_params_for(profile=profile)
    now = timezone.now()
    refresh = _refresh_postgis if connection.vendor == "postgresql" else _refresh_python
    summary = CompsSummary()
    changed_ids = []
    counties = _counties()
    if connection.vendor == "postgresql":
        forget_other_keys(keep=counties)  # a county without leads now: its memo would only go stale
    for county in counties:
        total, searched, adjusted, changed = refresh(county=county, as_of=as_of, params=params, now=now, full=full)
        summary.leads += total
        summary.searched += searched
        summary.adjusted += adjusted
        summary.changed += len(changed)
        changed_ids += changed
    fee, percent = profile.assignment_fee, profile.arv_percent
    money = DecimalField(max_digits=14, decimal_places=2)
    share = Value(percent / 100, output_field=money)
    mao = Greatest(
        Round(ExpressionWrapper(F("comps_arv") * share - F("repair_estimate") - Value(fee), output_field=money)),
        Value(Decimal(0), output_field=money),
        output_field=money,
    )
    with transaction.atomic():
        for start in range(0, len(changed_ids), TAKING_BATCH):
            taking = Lead.objects.filter(AnyOf(F("id"), changed_ids[start : start + TAKING_BATCH]))
            taking = taking.filter(comps_arv__isnull=False)
            taking.update(arv=F("comps_arv"), mao=Case(When(repair_estimate__isnull=True, then=None), default=mao))
        map_points_sync(lead_ids=changed_ids)  # the map's ARV and MAO filters
    summary.with_arv = Lead.objects.filter(comps_arv__isnull=False).count()
    return summary
