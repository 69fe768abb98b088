"""API access: the roles' model permissions, and throttles."""

from rest_framework.permissions import DjangoModelPermissions
from rest_framework.throttling import UserRateThrottle

VIEW = ["%(app_label)s.view_%(model_name)s"]
CHANGE = ["%(app_label)s.change_%(model_name)s"]


class RoleModelPermissions(DjangoModelPermissions):
    """The model permissions of the user's role (groups); reading needs `view_<model>` too.

    A view may set `action_permissions = {"<action>": ["<app_label>.<codename>", ...]}` for its
    command actions (rescore, push, ingest). Anonymous requests fail authentication before this
    check, so they get 401 (TokenAuthentication supplies the WWW-Authenticate header).
    """

    perms_map = {**DjangoModelPermissions.perms_map, "GET": VIEW, "OPTIONS": VIEW, "HEAD": VIEW}

    def has_permission(self, request, view):
        required = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if required is None:
            return super().has_permission(request, view)
        return bool(request.user and request.user.is_authenticated and request.user.has_perms(required))


class ManagerModelPermissions(RoleModelPermissions):
    """Even reading needs `change_<model>`: for resources only the Admin role manages (data sources)."""

    perms_map = {**RoleModelPermissions.perms_map, "GET": CHANGE, "OPTIONS": CHANGE, "HEAD": CHANGE}


class CommandRateThrottle(UserRateThrottle):
    """A stricter per-user rate for command endpoints (rescore, push, ingest)."""

    scope = "commands"
