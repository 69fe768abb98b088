"""Admin login throttling: per (client IP, username) and per IP, without checking the password once throttled."""

import pytest
from django.core.cache import cache

from dealfinder.security import client_ip

PASSWORD = "correct horse battery staple"
LOGIN = "/admin/login/"
THROTTLED = "Too many failed login attempts. Try again in 15 minutes."
INVALID = (
    "Please enter the correct username and password for a staff account. Note that both fields may be case-sensitive."
)


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    settings.LOGIN_FAILURES_PER_USER = 5
    settings.LOGIN_FAILURES_PER_IP = 20
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 900
    settings.TRUSTED_PROXY_COUNT = 0
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("broker", password=PASSWORD, is_staff=True)


def attempt(client, username, password, ip="203.0.113.7", **headers):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip, **headers)


def errors(response) -> list[str]:
    return response.context["form"].non_field_errors()


@pytest.mark.django_db
def test_five_failures_lock_the_pair_even_for_the_right_password(client, staff):
    for _ in range(5):
        response = attempt(client, "broker", "wrong")
        assert (response.status_code, errors(response)) == (200, [INVALID])
    response = attempt(client, "broker", PASSWORD)
    assert response.status_code == 429
    assert errors(response) == [THROTTLED]
    assert THROTTLED in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_other_clients_and_other_usernames_are_not_locked(client, staff, django_user_model):
    django_user_model.objects.create_user("closer", password=PASSWORD, is_staff=True)
    for _ in range(5):
        attempt(client, "broker", "wrong")
    assert attempt(client, "broker", PASSWORD, ip="198.51.100.9").status_code == 302  # another address
    client.logout()
    assert attempt(client, "closer", PASSWORD).status_code == 302  # same address, another username


@pytest.mark.django_db
def test_a_success_resets_the_pair(client, staff):
    for _ in range(4):
        attempt(client, "broker", "wrong")
    assert attempt(client, "broker", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert attempt(client, "broker", "wrong").status_code == 200
    assert attempt(client, "broker", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_an_address_guessing_many_usernames_is_locked(client, staff):
    for n in range(20):
        assert attempt(client, f"user{n}", "wrong").status_code == 200
    response = attempt(client, "broker", PASSWORD)
    assert (response.status_code, errors(response)) == (429, [THROTTLED])


@pytest.mark.django_db
def test_the_username_is_matched_case_and_space_insensitively(client, staff):
    for name in ("broker", "BROKER", " Broker", "broker ", "bRoKeR"):
        attempt(client, name, "wrong")
    assert attempt(client, "broker", PASSWORD).status_code == 429


@pytest.mark.django_db
def test_throttled_attempts_answer_429_until_the_window_ends(client, staff, settings):
    settings.LOGIN_FAILURES_PER_USER = 2
    for _ in range(2):
        attempt(client, "broker", "wrong")
    for _ in range(3):
        assert attempt(client, "broker", "wrong").status_code == 429
    cache.clear()  # the window ends
    assert attempt(client, "broker", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_behind_a_trusted_proxy_the_forwarded_address_counts(client, staff, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(5):  # the proxy (REMOTE_ADDR) is the same; the clients differ
        attempt(client, "broker", "wrong", ip="10.0.0.2", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert attempt(client, "broker", PASSWORD, ip="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.50").status_code == 302


def test_client_ip_takes_the_entry_the_trusted_proxies_appended(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.5, 10.0.0.1")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"  # a client can write X-Forwarded-For: ignored unless trusted
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "203.0.113.5"
    settings.TRUSTED_PROXY_COUNT = 4  # fewer entries than proxies: the socket address
    assert client_ip(request) == "10.0.0.2"
