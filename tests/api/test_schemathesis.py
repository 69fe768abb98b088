"""Property-based API testing: every documented operation, fed schema-generated input, never answers 5xx."""

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from dealfinder.ops.api_tokens import api_token_create
from dealfinder.ops.roles import ADMIN
from dealfinder.wsgi import application
from tests.factories import (
    DataSourceFactory,
    IngestionRunFactory,
    LeadFactory,
    PropertyMatchFactory,
    SyncLogFactory,
    TaxSaleFactory,
)

pytestmark = pytest.mark.django_db

# Ingesting calls the source's URL, and generated data sources point anywhere; test_operations covers it.
SKIPPED = {("POST", "/api/v1/data-sources/{id}/ingest/")}
# Operations taking no input at all: there is nothing to make invalid (negative mode cannot generate a case).
NO_INPUT = {("GET", "/api/v1/backtests/latest/")}
OPERATIONS = sorted(
    (method.upper(), path)
    for path, methods in SchemaGenerator().get_schema(request=None, public=True)["paths"].items()
    for method in methods
    if (method.upper(), path) not in SKIPPED
)


@pytest.fixture
def keep_test_connection():
    """Like Django's test client: the raw WSGI app would otherwise close the test's DB connection per request."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def admin_headers(user_in, settings):
    settings.GHL_API_TOKEN = ""  # push answers 409 and never calls out
    for _ in range(3):
        match = PropertyMatchFactory(property=LeadFactory().property)
        TaxSaleFactory(property=match.property)
        IngestionRunFactory(source=DataSourceFactory(field_mapping={"no_such_field": "X"}))
        SyncLogFactory()
    _, token = api_token_create(user=user_in(ADMIN))
    return {"Authorization": f"Token {token}"}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_server_errors(keep_test_connection, admin_headers, method, path, mode):
    if mode == GenerationMode.NEGATIVE and (method, path) in NO_INPUT:
        pytest.skip("no input to make invalid")
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application, headers=admin_headers)
    operation = schema[path][method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
    def run(case):
        cache.clear()  # the per-user throttle must not turn the run into 429s
        case.call_and_validate(headers=admin_headers, checks=[not_a_server_error])

    run()
