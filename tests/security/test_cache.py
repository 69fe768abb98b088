"""The production cache (Redis, the API throttles) fails open: an outage must not take logins or the API down."""

import uuid

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from django.core.cache import caches
from rest_framework.test import APIClient

from dealfinder.ops.roles import ACQUISITIONS, roles_setup
from tests.factories import LeadFactory, UserFactory

PASSWORD = "correct horse battery staple"


def redis_cache(settings, url: str) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "dealfinder.common.cache.FailOpenRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",  # parallel runs share the server
            "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1},
        }
    }


@pytest.fixture
def redis_down(settings):
    redis_cache(settings, "redis://127.0.0.1:1/0")  # nothing listens on port 1
    yield caches["default"]


def test_every_operation_answers_when_redis_is_down(redis_down, caplog):
    cache = redis_down
    assert cache.get("k") is None
    assert cache.get("k", "fallback") == "fallback"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.add("k", 1) is False
    assert cache.set("k", 1) is None
    assert cache.incr("k", 3) == 3
    assert cache.has_key("k") is False
    assert cache.delete("k") is False
    assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
    assert cache.touch("k") is False
    cache.delete_many(["a"])
    cache.clear()
    warnings = [r.getMessage() for r in caplog.records if r.name == "dealfinder.security"]
    assert len(warnings) == 12
    assert warnings[0].startswith("cache unavailable, get skipped: Error ")


@pytest.mark.django_db
def test_logins_and_the_api_work_while_redis_is_down(redis_down, client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    response = client.post("/admin/login/", {"username": "root", "password": "wrong"})
    assert response.status_code == 200
    response = client.post("/admin/login/", {"username": "root", "password": PASSWORD})
    assert response.status_code == 302
    api = APIClient()
    api.force_authenticate(user)
    assert api.get("/api/v1/leads/").status_code == 200  # the user throttle reads and writes the cache


@pytest.mark.django_db
@pytest.mark.skipif(not django_settings.CELERY_BROKER_URL, reason="needs the Redis from `make services`")
def test_api_throttles_count_in_the_real_redis(settings):
    """Two clients of one user (as two web processes would be) share one count: the 31st command is 429."""
    redis_cache(settings, django_settings.CELERY_BROKER_URL)  # a fresh key prefix: never clear() a shared server
    roles_setup()
    user = UserFactory()
    user.groups.add(Group.objects.get(name=ACQUISITIONS))
    url = f"/api/v1/leads/{LeadFactory().pk}/rescore/"
    first, second = APIClient(), APIClient()
    for api in (first, second):
        api.force_authenticate(user)
    statuses = [(first if n % 2 else second).post(url).status_code for n in range(31)]
    assert statuses == [200] * 30 + [429]


def test_production_puts_the_cache_next_to_the_broker_not_in_its_database():
    from dealfinder.settings import _next_redis_db

    assert _next_redis_db("redis://redis:6379/0") == "redis://redis:6379/1"
    assert _next_redis_db("redis://:secret@redis:6379/3") == "redis://:secret@redis:6379/4"
    assert _next_redis_db("redis://redis:6379") == "redis://redis:6379/1"
    assert _next_redis_db("redis://redis:6379/") == "redis://redis:6379/1"
    assert _next_redis_db("rediss://redis:6380/15") == "rediss://redis:6380/0"
