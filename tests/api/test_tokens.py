"""API tokens: issued hashed (django-rest-knox), shown once, listed and revoked in admin, never shown there."""

import datetime
import importlib
import io
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from dealfinder.ops.api_tokens import api_token_create
from dealfinder.ops.models import ApiToken
from dealfinder.ops.roles import ACQUISITIONS, ADMIN
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def issue(*args) -> tuple[str, list[str]]:
    out = io.StringIO()
    call_command("create_api_token", *args, stdout=out)
    lines = out.getvalue().splitlines()
    return lines[-1], lines


def api(header: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    return client


def column_values() -> set[str]:
    """Every text value stored in the token table, whatever the column."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiToken._meta.db_table}")  # noqa: S608
        return {str(v) for row in cursor.fetchall() for v in row}


def test_the_command_prints_the_token_last_and_stores_only_its_hash(user_in):
    user = user_in(ACQUISITIONS)
    token, lines = issue(user.username)
    assert lines[0] == f"API token for {user.username}, valid with no expiry. It is not stored; copy it now:"
    assert token.startswith("dfapi_") and len(token) == 6 + 64
    assert token not in column_values()
    assert not [v for v in column_values() if len(v) > 20 and v in token]  # no long piece of it either
    row = ApiToken.objects.get(user=user)
    assert row.expiry is None
    assert api(f"Token {token}").get("/api/v1/leads/").status_code == 200
    assert api(f"Bearer {token}").get("/api/v1/leads/").status_code == 200
    assert api(f"Token {token[:-1]}x").get("/api/v1/leads/").status_code == 401


def test_expires_sets_an_expiry_and_an_expired_token_is_refused(user_in):
    user = user_in(ACQUISITIONS)
    token, lines = issue(user.username, "--expires", "30", "--description", "Zapier")
    row = ApiToken.objects.get(user=user)
    assert abs(row.expiry - (timezone.now() + datetime.timedelta(days=30))) < datetime.timedelta(minutes=1)
    assert row.description == "Zapier"
    assert lines[0].startswith(f"API token for {user.username}, valid until {row.expiry:%Y-%m-%d}")
    ApiToken.objects.filter(pk=row.pk).update(expiry=timezone.now() - datetime.timedelta(seconds=1))
    assert api(f"Token {token}").get("/api/v1/leads/").status_code == 401
    assert not ApiToken.objects.filter(pk=row.pk).exists()  # knox deletes it


def test_the_command_refuses_unknown_or_inactive_users_and_bad_days():
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        issue("ghost")
    UserFactory(username="gone", is_active=False)
    with pytest.raises(CommandError, match="'gone' is inactive"):
        issue("gone")
    UserFactory(username="here")
    with pytest.raises(CommandError, match="--expires takes a number of days, 1 or more"):
        issue("here", "--expires", "0")
    assert not ApiToken.objects.exists()


def test_use_is_recorded_at_most_once_a_minute(user_in):
    row, token = api_token_create(user=user_in(ACQUISITIONS))
    client = api(f"Token {token}")
    client.get("/api/v1/leads/")
    first = ApiToken.objects.get(pk=row.pk).last_used_at
    assert timezone.now() - first < datetime.timedelta(seconds=30)
    client.get("/api/v1/leads/")
    assert ApiToken.objects.get(pk=row.pk).last_used_at == first
    ApiToken.objects.filter(pk=row.pk).update(last_used_at=first - datetime.timedelta(minutes=5))
    client.get("/api/v1/leads/")
    assert ApiToken.objects.get(pk=row.pk).last_used_at > first


@pytest.mark.parametrize(
    "header", ["Token \u00e9\u00ff", "Bearer \u00e9", f"Token {'a' * 5000}", "Token two words", "Bearer", "Token"]
)
def test_malformed_tokens_are_401_never_500(db, header):
    response = api(header).get("/api/v1/leads/")
    assert response.status_code == 401


def test_a_deactivated_users_token_is_refused(user_in):
    user = user_in(ACQUISITIONS)
    _, token = api_token_create(user=user)
    user.is_active = False
    user.save()
    assert api(f"Token {token}").get("/api/v1/leads/").status_code == 401


@pytest.fixture
def admin_client(user_in):
    user = user_in(ADMIN)
    user.is_staff = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def test_admin_lists_tokens_without_showing_them_and_revokes_them(admin_client, user_in):
    row, token = api_token_create(user=user_in(ACQUISITIONS), expires_days=7, description="CRM bridge")
    page = admin_client.get("/admin/dealfinder/apitoken/")
    assert page.status_code == 200
    html = page.content.decode()
    for shown in ("api-acquisitions", "CRM bridge", f"{row.token_key[:10]}…"):
        assert shown in html
    assert token not in html  # (the row's key is the token's SHA-512 digest, which gives no way back to it)
    assert page.context["cl"].list_display == [
        "action_checkbox",
        "token_start",
        "user",
        "description",
        "created",
        "expiry",
        "last_used_at",
    ]
    change = admin_client.get(f"/admin/dealfinder/apitoken/{row.pk}/change/").content.decode()
    assert token not in change
    assert admin_client.get("/admin/dealfinder/apitoken/add/").status_code == 403
    response = admin_client.post(
        "/admin/dealfinder/apitoken/", {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
    )
    assert response.status_code == 302
    assert not ApiToken.objects.exists()
    assert api(f"Token {token}").get("/api/v1/leads/").status_code == 401


def test_other_roles_cannot_see_tokens(user_in):
    for role in (ACQUISITIONS,):
        user = user_in(role)
        user.is_staff = True
        user.save()
        client = Client()
        client.force_login(user)
        assert client.get("/admin/dealfinder/apitoken/").status_code == 403


def test_legacy_plain_text_tokens_keep_working_hashed_for_90_days_then_the_table_is_gone(user_in):
    """The upgrade path from rest_framework.authtoken (keys kept in plain text, readable in admin)."""
    user = user_in(ACQUISITIONS)
    key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"  # the shape DRF gave its keys: 40 hex characters
    created = datetime.datetime(2025, 6, 1, 12, tzinfo=datetime.UTC)
    stamp = "timestamp with time zone" if connection.vendor == "postgresql" else "datetime"  # as DRF created it
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created {stamp}, user_id integer)")
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, '2025-06-01 12:00:00', %s)", [key, user.pk])
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) VALUES ('authtoken', '0001_initial', %s)",
            ["2025-01-01 00:00:00"],
        )
    migration = importlib.import_module("dealfinder.ops.migrations.0002_api_tokens")
    migration.hash_legacy_tokens(apps, SimpleNamespace(connection=connection))

    assert "authtoken_token" not in connection.introspection.table_names()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM django_migrations WHERE app = 'authtoken'")
        assert cursor.fetchone() == (0,)
    row = ApiToken.objects.get(user=user)
    assert key not in column_values()
    assert row.created == created
    assert abs(row.expiry - (timezone.now() + datetime.timedelta(days=90))) < datetime.timedelta(minutes=1)
    assert row.description.startswith("Migrated from the old plain-text token; replace it before ")
    assert api(f"Token {key}").get("/api/v1/leads/").status_code == 200


def test_the_schema_documents_both_header_forms(acq):
    schemes = acq.get("/api/schema/", HTTP_ACCEPT="application/json").json()["components"]["securitySchemes"]
    assert schemes["tokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Token <token>`: issue one with `python manage.py create_api_token USERNAME`.",
    }
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "The same token as `Bearer <token>`.",
    }


def test_admin_group_holds_token_rights_but_not_issuing(roles):
    perms = set(
        Group.objects.get(name=ADMIN)
        .permissions.filter(content_type__model="apitoken")
        .values_list("codename", flat=True)
    )
    assert perms == {"view_apitoken", "delete_apitoken"}
