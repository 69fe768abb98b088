"""`manage.py create_report_role NAME`: the BI tool's login reads the reporting views and nothing else."""

import secrets

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from dealfinder.ops.reports.sql import VIEW_NAMES, report_views_create
from tests.db import raw_connection
from tests.factories import ExternalLinkFactory, LeadFactory

pytestmark = [pytest.mark.postgis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def role(monkeypatch):
    name, password = f"bi_{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    monkeypatch.setenv("REPORT_DB_PASSWORD", password)
    yield name, password
    with connection.cursor() as cursor:
        cursor.execute(f'DROP OWNED BY "{name}"')
        cursor.execute(f'DROP ROLE IF EXISTS "{name}"')


def _connect(name, password):
    return raw_connection(user=name, password=password)


def test_report_role_reads_the_views_and_nothing_else(role):
    name, password = role
    lead = LeadFactory(total=95, tier="A")
    ExternalLinkFactory(local=LeadFactory(tier="A"))
    call_command("create_report_role", name)
    call_command("create_report_role", name)  # again: updates, no error
    report_views_create()  # recreated views (as after a migration) keep the role's grant
    with _connect(name, password) as bi:
        for view in VIEW_NAMES:
            bi.execute(f"SELECT * FROM {view}").fetchall()  # noqa: S608 (code constants)
        assert bi.execute("SELECT lead_id FROM vw_hot_deals").fetchall() == [(lead.pk,)]
        for table in ("auth_user", "dealfinder_apitoken", "sync_webhookevent", "sync_externallink", "leads_lead"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                bi.execute(f"SELECT 1 FROM {table} LIMIT 1")  # noqa: S608
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            bi.execute("CREATE TEMP TABLE x (id int)")


def test_report_role_needs_its_password_from_the_environment(monkeypatch):
    monkeypatch.delenv("REPORT_DB_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="REPORT_DB_PASSWORD"):
        call_command("create_report_role", "bi_nopassword")
