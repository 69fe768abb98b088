"""REST API tokens: issued hashed (django-rest-knox), sent as `Authorization: Token <t>` or `Bearer <t>`.

A token is shown once, when `api_token_create` issues it; the database keeps only its SHA-512 digest and first
characters. Each use stamps `last_used_at` (at most once a minute per token, so reads stay reads).
"""

import datetime

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox import auth
from rest_framework import exceptions

from dealfinder.ops.models import ApiToken

LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def api_token_create(*, user, expires_days: int | None = None, description: str = "") -> tuple[ApiToken, str]:
    """Issue a token for `user`; returns the row and the token, which exists nowhere else from now on."""
    expiry = datetime.timedelta(days=expires_days) if expires_days else None
    return ApiToken.objects.create(user=user, expiry=expiry, description=description)


def api_token_touch(*, token: ApiToken) -> None:
    """Record that `token` was just used (skipped when it was already recorded within the last minute)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


class TokenAuthentication(auth.TokenAuthentication):
    """knox's hashed tokens as `Authorization: Token <t>`; expired tokens are refused (and deleted)."""

    def authenticate_credentials(self, token):
        try:
            token.decode("utf-8")
        except UnicodeDecodeError:  # knox would answer 500
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        user, api_token = super().authenticate_credentials(token)
        api_token_touch(token=api_token)
        return user, api_token


class BearerTokenAuthentication(TokenAuthentication):
    """The same tokens as `Authorization: Bearer <t>`, for HTTP clients that only speak Bearer."""

    def authenticate_header(self, request):
        return "Bearer"


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>`: issue one with `python manage.py create_api_token USERNAME`.",
        }


class BearerScheme(OpenApiAuthenticationExtension):
    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "The same token as `Bearer <token>`."}
