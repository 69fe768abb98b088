"""The reporting views' SQL, for PostgreSQL and for SQLite/SpatiaLite, and the functions that drop and create them.

Each view is a list of (column, SQL expression) pairs and a FROM clause: the column names are the promise to
analysts (README, "Reporting views"), so adding a column is one pair here, one field in models.py and one line in
the README, and renaming or removing one is a breaking change. The SQL uses no spatial function (a BI tool opening
the SQLite file has no SpatiaLite loaded) and no function Django registers on its own connections only; where the
two databases differ (JSON lists, dates, "now") a small helper below writes each one's form.

Times are UTC: `vw_sync_statistics.day` is the UTC day (SQLite has no time zones).
"""

from dataclasses import dataclass

from django.db import connection as default_connection
from django.db.backends.base.base import BaseDatabaseWrapper

from leads.choices import CLOSED_STATUSES

HOT_SCORE = 90
RECENT_MATCH_DAYS = 7
UNSYNCED_TIERS = ("A", "B")


@dataclass(frozen=True)
class View:
    name: str
    columns: tuple[tuple[str, str], ...]  # (column name, SQL expression)
    body: str  # FROM ... [WHERE ...] [GROUP BY ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def sql(self) -> str:
        select = ",\n    ".join(f"{expression} AS {name}" for name, expression in self.columns)
        return f"CREATE VIEW {self.name} AS\nSELECT\n    {select}\n{self.body}"


def _quoted(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _joined_list(vendor: str, column: str, separator: str) -> str:
    """A JSON list column as one text ('' for an empty list or a value that is not a list), in list order.
    (Column names and separators are code constants.)"""
    if vendor == "postgresql":
        typeof = "jsonb_typeof"
        agg, rows = f"string_agg(e.value, '{separator}' ORDER BY e.ord)", "jsonb_array_elements_text"
        source = f"{rows}({column}) WITH ORDINALITY AS e(value, ord)"
    else:
        typeof = "json_type"
        agg = f"group_concat(e.value, '{separator}')"
        source = f"(SELECT value FROM json_each({column}) ORDER BY key) e"  # noqa: S608
    return f"CASE WHEN {typeof}({column}) = 'array' THEN COALESCE((SELECT {agg} FROM {source}), '') ELSE '' END"  # noqa: S608


def _days_ago(vendor: str, days: int) -> str:
    if vendor == "postgresql":
        return f"CURRENT_TIMESTAMP - INTERVAL '{days} days'"
    # Django stores SQLite datetimes as UTC text 'YYYY-MM-DD HH:MM:SS.ffffff', which compares as text.
    return f"strftime('%Y-%m-%d %H:%M:%f', 'now', '-{days} days')"


def _utc_day(vendor: str, column: str) -> str:
    return f"CAST(timezone('UTC', {column}) AS date)" if vendor == "postgresql" else f"date({column})"


def _day_key(vendor: str, column: str) -> str:
    return f"to_char({column}, 'YYYY-MM-DD')" if vendor == "postgresql" else column


def _later(a: str, b: str) -> str:
    return f"CASE WHEN {a} >= {b} THEN {a} ELSE {b} END"


LEAD_CONTENT_TYPE = "(SELECT ct.id FROM django_content_type ct WHERE ct.app_label = 'leads' AND ct.model = 'lead')"
OWNER_CONTENT_TYPE = (
    "(SELECT ct.id FROM django_content_type ct WHERE ct.app_label = 'properties' AND ct.model = 'owner')"
)
ADDRESS_COLUMNS = (
    ("parcel_id", "p.parcel_id"),
    ("address", "p.address_normalized"),
    ("city", "p.city"),
    ("state", "p.state"),
    ("zip", "p.zip"),
)


def report_views(vendor: str) -> tuple[View, ...]:
    """The five views in this database's SQL (`vendor` is connection.vendor: "postgresql" or "sqlite")."""
    hot_deals = View(
        "vw_hot_deals",
        (
            ("lead_id", "l.id"),
            ("property_id", "l.property_id"),
            *ADDRESS_COLUMNS,
            ("tier", "l.tier"),
            ("score", "l.total"),
            ("status", "l.status"),
            ("stack_count", "l.stack_count"),
            ("reasons_summary", _joined_list(vendor, "l.reasons", "; ")),
            ("arv", "l.arv"),
            ("repair_estimate", "l.repair_estimate"),
            ("mao", "l.mao"),
            ("match_count", "(SELECT COUNT(*) FROM buyers_propertymatch m WHERE m.property_id = l.property_id)"),
            ("assigned_to_id", "l.assigned_to_id"),
            ("scored_at", "l.scored_at"),
            ("updated_at", "l.updated_at"),
        ),
        "FROM leads_lead l JOIN properties_property p ON p.id = l.property_id\n"
        f"WHERE l.total >= {HOT_SCORE} AND l.status NOT IN ({_quoted(CLOSED_STATUSES)})",
    )
    changed_at = _later("l.updated_at", "p.updated_at")
    unsynced = View(
        "vw_unsynced_properties",
        (
            ("lead_id", "l.id"),
            ("property_id", "l.property_id"),
            *ADDRESS_COLUMNS,
            ("tier", "l.tier"),
            ("score", "l.total"),
            ("status", "l.status"),
            ("changed_at", changed_at),
            ("ghl_contact_id", "el.ghl_id"),
            ("last_synced_at", "el.last_synced_at"),
            (
                "reason",
                "CASE WHEN el.id IS NULL OR el.last_synced_at IS NULL THEN 'never_synced' "
                "ELSE 'changed_since_sync' END",
            ),
        ),
        "FROM leads_lead l JOIN properties_property p ON p.id = l.property_id\n"
        # The lead's GoHighLevel contact is its owner's when the parcel has an owner (one contact per owner).
        "LEFT JOIN sync_externallink el ON el.kind = 'contact' AND (\n"
        f"  (p.owner_id IS NULL AND el.content_type_id = {LEAD_CONTENT_TYPE} AND el.object_id = l.id)\n"
        f"  OR (p.owner_id IS NOT NULL AND el.content_type_id = {OWNER_CONTENT_TYPE} AND el.object_id = p.owner_id))\n"
        f"WHERE l.tier IN ({_quoted(UNSYNCED_TIERS)}) "
        f"AND (el.id IS NULL OR el.last_synced_at IS NULL OR {changed_at} > el.last_synced_at)",
    )
    active_buyers = View(
        "vw_active_buyers",
        (
            ("buyer_id", "b.id"),
            ("name", "TRIM(b.first_name || ' ' || b.last_name)"),
            ("company", "b.company"),
            ("email", "b.email"),
            ("phone", "b.phone"),
            ("source", "b.source"),
            ("cash_buyer", "b.cash_buyer"),
            ("proof_of_funds", "b.proof_of_funds"),
            ("min_price", "b.min_price"),
            ("max_price", "b.max_price"),
            ("property_types", _joined_list(vendor, "b.property_types", ", ")),
            ("strategies", _joined_list(vendor, "b.strategies", ", ")),
            ("min_beds", "b.min_beds"),
            ("min_baths", "b.min_baths"),
            ("min_year_built", "b.min_year_built"),
            ("max_year_built", "b.max_year_built"),
            ("target_zips", _joined_list(vendor, "b.target_zips", ", ")),
            ("has_target_area", "(b.target_area IS NOT NULL)"),
            ("radius_miles", "b.radius_miles"),
            ("match_count", "COALESCE(m.match_count, 0)"),
            ("best_match_score", "m.best_match_score"),
            ("last_matched_at", "m.last_matched_at"),
        ),
        "FROM buyers_buyer b\n"
        "LEFT JOIN (SELECT buyer_id, COUNT(*) AS match_count, MAX(score) AS best_match_score, "
        "MAX(created_at) AS last_matched_at FROM buyers_propertymatch GROUP BY buyer_id) m ON m.buyer_id = b.id\n"
        "WHERE b.is_active",
    )
    recent_matches = View(
        "vw_recent_matches",
        (
            ("match_id", "m.id"),
            ("matched_at", "m.created_at"),
            ("score", "m.score"),
            ("reasons_summary", _joined_list(vendor, "m.reasons", "; ")),
            ("property_id", "m.property_id"),
            *ADDRESS_COLUMNS,
            ("lead_id", "l.id"),
            ("lead_tier", "l.tier"),
            ("lead_score", "l.total"),
            ("lead_status", "l.status"),
            ("buyer_id", "m.buyer_id"),
            ("buyer_name", "TRIM(b.first_name || ' ' || b.last_name)"),
            ("buyer_company", "b.company"),
            ("sms_sent_at", "m.sms_sent_at"),
            ("workflow_triggered_at", "m.workflow_triggered_at"),
            ("task_created_at", "m.task_created_at"),
        ),
        "FROM buyers_propertymatch m JOIN properties_property p ON p.id = m.property_id\n"
        "JOIN buyers_buyer b ON b.id = m.buyer_id LEFT JOIN leads_lead l ON l.property_id = m.property_id\n"
        f"WHERE m.created_at >= {_days_ago(vendor, RECENT_MATCH_DAYS)}",
    )
    sync_statistics = View(
        "vw_sync_statistics",
        (
            ("id", f"{_day_key(vendor, 's.day')} || ':' || s.sync_type"),
            ("day", "s.day"),
            ("sync_type", "s.sync_type"),
            ("runs", "s.runs"),
            ("failed_runs", "s.failed_runs"),
            ("processed", "s.processed"),
            ("succeeded", "s.succeeded"),
            ("failed", "s.failed"),
            ("skipped", "s.skipped"),
            ("seconds", "s.seconds"),
        ),
        f"FROM (SELECT {_utc_day(vendor, 'started_at')} AS day, sync_type, COUNT(*) AS runs, "
        "SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed_runs, SUM(processed) AS processed, "
        "SUM(succeeded) AS succeeded, SUM(failed) AS failed, SUM(skipped) AS skipped, "
        "COALESCE(SUM(duration_seconds), 0) AS seconds\n"
        f"FROM sync_synclog GROUP BY {_utc_day(vendor, 'started_at')}, sync_type) s",
    )
    return (hot_deals, unsynced, active_buyers, recent_matches, sync_statistics)


VIEW_NAMES = tuple(view.name for view in report_views("postgresql"))


def report_views_drop(*, connection: BaseDatabaseWrapper = default_connection) -> list[str]:
    """Drop the views (those present); returns the database roles that could read them (PostgreSQL), to grant
    again when they are created."""
    with connection.cursor() as cursor:
        grantees = _grantees(cursor) if connection.vendor == "postgresql" else []
        for name in reversed(VIEW_NAMES):
            cursor.execute(f"DROP VIEW IF EXISTS {name}")
    return grantees


def report_views_create(*, connection: BaseDatabaseWrapper = default_connection, grantees=()) -> None:
    """(Re)create the five views from the current schema; `grantees` may SELECT them again (PostgreSQL)."""
    grantees = [*grantees, *report_views_drop(connection=connection)]
    with connection.cursor() as cursor:
        for view in report_views(connection.vendor):
            cursor.execute(view.sql())
        for role in sorted(set(grantees)):
            cursor.execute(f"GRANT SELECT ON {', '.join(VIEW_NAMES)} TO {connection.ops.quote_name(role)}")


def _grantees(cursor) -> list[str]:
    cursor.execute(
        "SELECT DISTINCT grantee FROM information_schema.role_table_grants WHERE table_schema = current_schema() "
        "AND table_name = ANY(%s) AND privilege_type = 'SELECT' AND grantee <> current_user",
        [list(VIEW_NAMES)],
    )
    return [row[0] for row in cursor.fetchall()]
