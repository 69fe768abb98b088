import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from rest_framework.test import APIClient

from dealfinder.ops.api_tokens import api_token_create
from dealfinder.ops.roles import ACQUISITIONS, ADMIN, DISPOSITIONS, roles_setup
from tests.factories import UserFactory

ROLES = (ACQUISITIONS, DISPOSITIONS, ADMIN)


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Throttle counters live in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def roles(db):
    roles_setup()


@pytest.fixture
def user_in(roles):
    def make(role: str):
        user = UserFactory(username=f"api-{role.lower()}")
        user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def client_as(user_in):
    """An APIClient authenticating with the token of a user in `role` (None: anonymous)."""

    def make(role: str | None) -> APIClient:
        client = APIClient()
        if role is not None:
            _, token = api_token_create(user=user_in(role))
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client

    return make


@pytest.fixture
def acq(client_as):
    return client_as(ACQUISITIONS)


@pytest.fixture
def dispo(client_as):
    return client_as(DISPOSITIONS)


@pytest.fixture
def admin_api(client_as):
    return client_as(ADMIN)
