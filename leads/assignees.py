"""Who may be assigned leads: active staff users in a broker role (admin, map and API offer and accept only them).

A broker role is a group that may view leads: Acquisitions, Dispositions and Admin all may, and only superusers
make other groups. Superusers outside the roles, inactive or non-staff users are never assignees.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef, QuerySet

ASSIGNEE_REFUSED = "Leads can only be assigned to active staff users in a broker role."


def lead_assignees() -> QuerySet:
    """The users leads may be assigned to, by username (one query; lazy, so safe at import time)."""
    user_model = get_user_model()
    roles = Group.objects.filter(permissions__content_type__app_label="leads", permissions__codename="view_lead")
    in_role = user_model.groups.through.objects.filter(user_id=OuterRef("pk"), group__in=roles)
    return user_model.objects.filter(Exists(in_role), is_active=True, is_staff=True).order_by("username")


def lead_assignee_check(user) -> None:
    """Raise ValueError(ASSIGNEE_REFUSED) unless `user` is None (unassign) or an assignee."""
    if user is not None and not lead_assignees().filter(pk=user.pk).exists():
        raise ValueError(ASSIGNEE_REFUSED)
