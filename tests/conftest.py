import pytest
from django.conf import settings

from dealfinder.celery import app as celery_app


def pytest_collection_modifyitems(config, items):
    if settings.IS_POSTGIS:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL/PostGIS (this run is on SpatiaLite)")
    for item in items:
        if "postgis" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _test_settings(settings):
    # Templates resolve {% static %} without a collectstatic manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache(settings):
    """Each test starts with an empty cache (throttle counters, dashboard figures). Tests run on the
    local-memory cache, never on a shared Redis, so clearing it cannot touch anything else."""
    from django.core.cache import cache

    assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache"), "tests must not run on a shared cache"
    cache.clear()


@pytest.fixture(autouse=True)
def _eager_celery():
    """Tasks run in-process unless a test asks for the real worker (marker `worker`)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def superuser_api(db):
    """An API client logged in as a superuser (for what is not about roles)."""
    from rest_framework.test import APIClient

    from tests.factories import UserFactory

    client = APIClient()
    client.force_authenticate(UserFactory(is_staff=True, is_superuser=True))
    return client
