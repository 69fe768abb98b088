"""Login lockouts (django-axes): per (client address, username) and per address, refused without checking the
password once locked, answered 429 with a clear page, shared by every web process through the database."""

import datetime

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from dealfinder.common.client_ip import client_ip

PASSWORD = "correct horse battery staple"
LOGIN = "/admin/login/"
LOCKED = "Too many failed login attempts. Try again in 15 minutes."
INVALID = (
    "Please enter the correct username and password for a staff account. Note that both fields may be case-sensitive."
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.LOGIN_FAILURES_PER_IP = 20
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
    settings.TRUSTED_PROXY_COUNT = 0


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("broker", password=PASSWORD, is_staff=True)


def attempt(client, username, password, ip="203.0.113.7", **headers):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip, **headers)


def errors(response) -> list[str]:
    return response.context["form"].non_field_errors()


def locked(response) -> bool:
    return response.status_code == 429 and LOCKED in response.content.decode()


def test_five_failures_lock_the_pair_even_for_the_right_password(client, staff):
    for _ in range(4):
        response = attempt(client, "broker", "wrong")
        assert (response.status_code, errors(response)) == (200, [INVALID])
    assert locked(attempt(client, "broker", "wrong"))  # the fifth failure
    response = attempt(client, "broker", PASSWORD)
    assert locked(response)
    assert "Access attempts" in response.content.decode()  # says how an administrator lifts it
    assert "_auth_user_id" not in client.session


def test_other_clients_and_other_usernames_are_not_locked(client, staff, django_user_model):
    django_user_model.objects.create_user("closer", password=PASSWORD, is_staff=True)
    for _ in range(5):
        attempt(client, "broker", "wrong")
    assert attempt(client, "broker", PASSWORD, ip="198.51.100.9").status_code == 302  # another address
    client.logout()
    assert attempt(client, "closer", PASSWORD).status_code == 302  # same address, another username


def test_a_success_resets_the_pair(client, staff):
    for _ in range(4):
        attempt(client, "broker", "wrong")
    assert attempt(client, "broker", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert attempt(client, "broker", "wrong").status_code == 200
    assert attempt(client, "broker", PASSWORD).status_code == 302


def test_an_address_guessing_many_usernames_is_locked(client, staff):
    for n in range(19):
        assert attempt(client, f"user{n}", "wrong").status_code == 200
    assert locked(attempt(client, "user19", "wrong"))  # the twentieth failure from this address
    assert locked(attempt(client, "broker", PASSWORD))
    assert attempt(Client(), "broker", PASSWORD, ip="198.51.100.9").status_code == 302  # others are not


def test_the_username_is_matched_case_and_space_insensitively(client, staff):
    for name in ("broker", "BROKER", " Broker", "broker ", "bRoKeR"):
        attempt(client, name, "wrong")
    assert locked(attempt(client, "broker", PASSWORD))


def test_a_lockout_ends_when_the_cool_off_has_passed_since_the_last_failure(client, staff):
    for _ in range(5):
        attempt(client, "broker", "wrong")
    for _ in range(3):  # retrying while locked does not extend the lockout
        assert locked(attempt(client, "broker", "wrong"))
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=15, seconds=1))
    assert attempt(client, "broker", PASSWORD).status_code == 302


def test_an_administrator_lifts_a_lockout_by_deleting_the_attempt(client, staff):
    for _ in range(5):
        attempt(client, "broker", "wrong")
    (row,) = AccessAttempt.objects.all()
    assert (row.username, row.ip_address, row.failures_since_start) == ("broker", "203.0.113.7", 5)
    assert "wrong" not in row.post_data  # the passwords tried are never stored
    row.delete()
    assert attempt(client, "broker", PASSWORD).status_code == 302


def test_behind_a_trusted_proxy_the_forwarded_address_counts(client, staff, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(5):  # the proxy (REMOTE_ADDR) is the same; the clients differ
        attempt(client, "broker", "wrong", ip="10.0.0.2", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert attempt(client, "broker", PASSWORD, ip="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.50").status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {f"198.51.100.{n}" for n in range(5)}


def test_a_forged_forwarded_address_is_not_trusted_without_proxies(client, staff):
    for n in range(5):  # X-Forwarded-For is the client's to write: ignored with TRUSTED_PROXY_COUNT=0
        attempt(client, "broker", "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert locked(attempt(client, "broker", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99"))


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


def test_client_ip_never_hands_on_something_that_is_not_an_address(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="<script>")) == "10.0.0.2"
    assert client_ip(rf.get("/", REMOTE_ADDR="", HTTP_X_FORWARDED_FOR="nonsense")) is None


def test_a_broken_forwarded_header_still_counts_failures(client, staff, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(5):
        attempt(client, "broker", "wrong", ip="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-address")
    assert locked(attempt(client, "broker", PASSWORD, ip="10.0.0.2", HTTP_X_FORWARDED_FOR="not-an-address"))


@pytest.mark.parametrize(
    ("username", "password"),
    [("x" * 300, "wrong"), ("a\x00b", "wrong"), ("broker", "p\x00w"), ("é" * 150, "x" * 10_000), ("", "")],
)
def test_hostile_login_forms_get_an_answer_never_a_500(client, staff, username, password):
    """A username longer than an attempt row holds is counted cut to its length (a 500 before this was caught)."""
    for _ in range(5):
        response = attempt(client, username, password, HTTP_USER_AGENT="u" * 2000)
        assert response.status_code in (200, 429)
    assert all(len(a.username or "") <= 255 for a in AccessAttempt.objects.all())
