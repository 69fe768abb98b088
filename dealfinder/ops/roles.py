"""The three broker roles, as Django groups holding model permissions.

Admin, the map, the dashboard and the API all check ordinary model permissions
(`leads.view_lead`, `buyers.change_buyer`, ...), so a role is just the set of
permissions its group holds. `python manage.py setup_roles` creates or refreshes them.
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet

ACQUISITIONS = "Acquisitions"
DISPOSITIONS = "Dispositions"
ADMIN = "Admin"

ALL_ACTIONS = ("view", "add", "change", "delete")

# role -> {app_label or "app_label.model": actions}
ROLES: dict[str, dict[str, tuple[str, ...]]] = {
    ACQUISITIONS: {
        "properties": ALL_ACTIONS,
        "leads": ALL_ACTIONS,
        "properties.datasource": ("view",),
        "leads.scoringprofile": ("view",),
        # Direct mail and skip tracing (issue 25): campaigns, opt-outs and owners' phones/emails are brokers' work.
        **dict.fromkeys(("sync.mailcampaign", "sync.mailoptout", "sync.leadcontactpoint"), ("view", "add", "change")),
        **dict.fromkeys(
            ("sync.mailpiece", "sync.mailverification", "sync.skiptracecall", "sync.leadskiptrace"), ("view",)
        ),
        "sync.permissibleuseacknowledgement": ("view", "add"),
        # Brokers run backtests; only Admin (change on scoring profiles) activates a proposal.
        "leads.backtestrun": ("view", "add"),
        # What the system records (runs, history, alerts, caches) is read-only to brokers: only Admin deletes.
        **dict.fromkeys(
            (
                "properties.ingestionrun",
                "properties.propertysource",
                "properties.geocodecache",
                "properties.ownerinput",
                "properties.qualityreport",
                "leads.leadscorehistory",
                "leads.leadtierday",
                "leads.alert",
                "leads.mapgridstate",
                "leads.mappoint",
                "leads.mapgridcell",
                "leads.mappending",
                "leads.compsmemo",
                "leads.compsmemosubject",
                "leads.compsmemosale",
            ),
            ("view",),
        ),
    },
    DISPOSITIONS: {
        "buyers": ALL_ACTIONS,
        "properties.property": ("view",),
        "properties.owner": ("view",),
        "leads.lead": ("view",),
    },
    ADMIN: {
        "properties": ALL_ACTIONS,
        "leads": ALL_ACTIONS,
        "buyers": ALL_ACTIONS,
        "sync": ALL_ACTIONS,
        "dealfinder": ALL_ACTIONS,
        "django_celery_beat": ALL_ACTIONS,
        # API tokens are issued by `create_api_token`; admin lists and revokes them, never shows one.
        "dealfinder.apitoken": ("view", "delete"),
        # The reporting views are read-only (who reads one is decided by the data underneath).
        **dict.fromkeys(
            (f"dealfinder.{m}" for m in ("hotdeal", "unsyncedproperty", "activebuyer", "recentmatch", "syncstatistic")),
            ("view",),
        ),
        # Login lockouts (django-axes): see them, and lift one by deleting its access attempt.
        "axes": ("view", "delete"),
        # Users within the three roles (see users_manageable_by); groups are the roles themselves.
        "auth.user": ("view", "add", "change"),
        "auth.group": ("view",),
    },
}
# Permissions beyond view/add/change/delete, as "app_label.codename".
ROLE_EXTRA_PERMISSIONS: dict[str, tuple[str, ...]] = {
    ACQUISITIONS: ("properties.view_owner_mailing",),
    DISPOSITIONS: (),
    ADMIN: ("properties.view_owner_mailing",),
}


def role_permissions(role: str):
    """The Permission rows a role grants (the most specific rule per model wins)."""
    rules = ROLES[role]
    granted = []
    for perm in Permission.objects.select_related("content_type"):
        ct = perm.content_type
        action = perm.codename.split("_", 1)[0]
        actions = rules.get(f"{ct.app_label}.{ct.model}", rules.get(ct.app_label, ()))
        if (action in actions and perm.codename == f"{action}_{ct.model}") or (
            f"{ct.app_label}.{perm.codename}" in ROLE_EXTRA_PERMISSIONS[role]
        ):
            granted.append(perm)
    return granted


def role_groups_assignable_by(user) -> QuerySet:
    """The groups `user` may give users in admin: for a superuser any group; for anyone else the role groups
    whose every permission `user` holds itself (so no one hands out more than they have)."""
    if user.is_superuser:
        return Group.objects.all()
    held = user.get_all_permissions()
    roles = Group.objects.filter(name__in=ROLES).prefetch_related("permissions__content_type")
    names = [g.name for g in roles if {f"{p.content_type.app_label}.{p.codename}" for p in g.permissions.all()} <= held]
    return Group.objects.filter(name__in=names)


def users_manageable_by(user, users: QuerySet) -> QuerySet:
    """The `users` a non-superuser may see and edit in admin: no superuser, nobody with permissions of their
    own, nobody in a group `user` may not assign. A superuser manages everyone."""
    if user.is_superuser:
        return users
    memberships = users.model.groups.through.objects.filter(user_id=OuterRef("pk"))
    direct = users.model.user_permissions.through.objects.filter(user_id=OuterRef("pk"))
    assignable = role_groups_assignable_by(user).values("pk")
    return (
        users.filter(is_superuser=False)
        .exclude(Exists(direct))
        .exclude(Exists(memberships.exclude(group_id__in=assignable)))
    )


@transaction.atomic
def roles_setup() -> dict[str, int]:
    """Create or refresh the role groups; returns permissions per role."""
    result = {}
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        perms = role_permissions(role)
        group.permissions.set(perms)
        result[role] = len(perms)
    return result


# --- The database role for BI tools (PostgreSQL) ---------------------------------------------------------------
REPORT_ROLE_ENV_VAR = "REPORT_DB_PASSWORD"


def report_role_setup(*, name: str, password: str, connection=None) -> list[str]:
    """Create or update a PostgreSQL LOGIN role that may SELECT the reporting views and nothing else (the views
    read the tables with their owner's rights; the role gets no right on any table). Read-only and with a statement
    timeout, so a dashboard left open cannot hold locks or run for ever. Returns the views granted."""
    from django.db import connection as default_connection
    from psycopg import sql

    from dealfinder.ops.reports.sql import VIEW_NAMES

    connection = connection or default_connection
    if connection.vendor != "postgresql":
        raise ValueError("Database roles exist on PostgreSQL only; on SQLite give the analyst a copy of the file.")
    if not password:
        raise ValueError(f"Give the role's password in the environment ({REPORT_ROLE_ENV_VAR}).")
    role = sql.Identifier(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
        verb = "ALTER" if cursor.fetchone() else "CREATE"
        statements = [
            sql.SQL(verb + " ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD {}").format(
                role, sql.Literal(password)
            ),
            sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(role),
            sql.SQL("ALTER ROLE {} SET statement_timeout = '60s'").format(role),
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                sql.Identifier(connection.settings_dict["NAME"]), role
            ),
            sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role),
            sql.SQL("GRANT SELECT ON {} TO {}").format(sql.SQL(", ").join(map(sql.Identifier, VIEW_NAMES)), role),
        ]
        for statement in statements:
            cursor.execute(statement.as_string(cursor.connection))
    return list(VIEW_NAMES)
