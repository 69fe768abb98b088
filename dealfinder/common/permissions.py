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


# --- Fields that need a model permission -------------------------------------------------------------------

PERMISSION_NOTE = "Left out unless the caller may view it"


class PermittedFieldsMixin:
    """For serializers that nest another model's data: `field_permissions = {"field": "app_label.codename"}`.

    A field whose permission the request's user lacks is left out of the answer, as admin leaves out the inline
    or field. While drf-spectacular builds the schema (or without a request) every field stays; the schema
    marks these optional (`schema_optional_permitted_fields`).
    """

    field_permissions: dict[str, str] = {}

    def get_fields(self):
        fields = super().get_fields()
        schema = getattr(self.context.get("view"), "swagger_fake_view", False)
        user = None if schema else getattr(self.context.get("request"), "user", None)
        for name, perm in self.field_permissions.items():
            if name not in fields:
                continue
            if user is not None and not user.has_perm(perm):
                del fields[name]
            else:
                fields[name].help_text = f"{PERMISSION_NOTE} ({perm})."
        return fields


def schema_optional_permitted_fields(result, generator, request, public):
    """drf-spectacular post-processing hook: PermittedFieldsMixin's fields are not `required` in any schema."""

    def walk(schema):
        properties = schema.get("properties", {})
        if "required" in schema:
            schema["required"] = [
                name
                for name in schema["required"]
                if not properties.get(name, {}).get("description", "").startswith(PERMISSION_NOTE)
            ]
            if not schema["required"]:
                del schema["required"]
        for value in properties.values():
            if isinstance(value, dict):
                walk(value)

    for component in result.get("components", {}).get("schemas", {}).values():
        walk(component)
    return result
