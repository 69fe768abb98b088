"""The three broker roles, as Django groups holding model permissions.

Admin, the map, the dashboard and the API all check ordinary model permissions
(`leads.view_lead`, `buyers.change_buyer`, ...), so a role is just the set of
permissions its group holds. `python manage.py setup_roles` creates or refreshes them.
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction

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
        # What the system records (runs, history, alerts, caches) is read-only to brokers: only Admin deletes.
        **dict.fromkeys(
            (
                "properties.ingestionrun",
                "properties.propertysource",
                "properties.geocodecache",
                "properties.qualityreport",
                "leads.leadscorehistory",
                "leads.alert",
                "leads.mapgridstate",
                "leads.mappoint",
                "leads.mapgridcell",
            ),
            ("view",),
        ),
    },
    DISPOSITIONS: {
        "buyers": ALL_ACTIONS,
        "properties.property": ("view",),
        "leads.lead": ("view",),
    },
    ADMIN: {
        "properties": ALL_ACTIONS,
        "leads": ALL_ACTIONS,
        "buyers": ALL_ACTIONS,
        "sync": ALL_ACTIONS,
        "dealfinder": ALL_ACTIONS,
        "django_celery_beat": ALL_ACTIONS,
        "authtoken": ALL_ACTIONS,
        "auth.user": ("view", "add", "change"),
        "auth.group": ("view",),
    },
}


def role_permissions(role: str):
    """The Permission rows a role grants (the most specific rule per model wins)."""
    rules = ROLES[role]
    granted = []
    for perm in Permission.objects.select_related("content_type"):
        ct = perm.content_type
        action = perm.codename.split("_", 1)[0]
        actions = rules.get(f"{ct.app_label}.{ct.model}", rules.get(ct.app_label, ()))
        if action in actions and perm.codename == f"{action}_{ct.model}":
            granted.append(perm)
    return granted


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
