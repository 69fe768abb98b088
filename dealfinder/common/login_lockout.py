"""Login lockouts: django-axes' database handler with a second limit per client address.

Axes locks a (client address, username) pair after AXES_FAILURE_LIMIT (LOGIN_FAILURES_PER_USER) failures. On
top, LOGIN_FAILURES_PER_IP failures from one address, whatever the usernames tried, lock that address, so
guessing one password across many usernames is stopped too. Both windows are AXES_COOLOFF_TIME after the last
failure. Attempts live in the database (admin > Access attempts), so every web process sees the same counts.
"""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db.models import Sum

USERNAME_MAX = AccessAttempt._meta.get_field("username").max_length


def login_username(request, credentials: dict | None = None) -> str | None:
    """The username an attempt counts against: trimmed and lower-cased, so "Broker " and "BROKER" are "broker",
    and cut to what an attempt row holds (AXES_USERNAME_CALLABLE)."""
    source = credentials if credentials else getattr(request, "data", request.POST)
    username = source.get(settings.AXES_USERNAME_FORM_FIELD)
    return username.strip().lower()[:USERNAME_MAX] if isinstance(username, str) else None


class LoginLockoutHandler(AxesDatabaseHandler):
    def address_failures(self, request) -> int:
        """Failed logins from the request's client address within the cool-off window, all usernames."""
        attempts = AccessAttempt.objects.filter(
            ip_address=request.axes_ip_address, attempt_time__gte=get_cool_off_threshold(request)
        )
        return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0

    def is_locked(self, request, credentials=None) -> bool:
        return (
            super().is_locked(request, credentials) or self.address_failures(request) >= settings.LOGIN_FAILURES_PER_IP
        )

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        """The failure that reaches the per-address limit is answered with the lockout page, as axes answers the
        one that reaches the per-username limit."""
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or request.axes_locked_out:
            return
        if self.address_failures(request) >= settings.LOGIN_FAILURES_PER_IP:
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes", request=request, username=credentials.get("username"), ip_address=request.axes_ip_address
            )
