"""The load test's accounts and request mix, built from the county's data; every request it makes answers 200."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client

from dealfinder.models import ApiToken
from dealfinder.ops.benchmark.load_mix import ADMIN_CHANGELISTS, MixSpec, admin_filter_links, sweep_requests
from dealfinder.ops.benchmark.load_setup import (
    USERNAME_PREFIX,
    load_brokers_delete,
    load_brokers_ensure,
    load_mix_build,
    map_filter_variants,
)
from dealfinder.roles import ADMIN
from leads.filtersets import DISTRESS_CHOICES
from leads.views import MAP_FILTERS

# percentile_disc (the filter thresholds at the county's medians) is PostgreSQL's.
pytestmark = [pytest.mark.postgis, pytest.mark.django_db]


def test_brokers_are_admin_role_staff_with_a_production_hashed_password_and_a_token():
    logins = load_brokers_ensure(count=3)

    users = get_user_model().objects.filter(username__startswith=USERNAME_PREFIX).order_by("username")
    assert [u.username for u in users] == ["load-broker-001", "load-broker-002", "load-broker-003"]
    assert [login.username for login in logins] == [u.username for u in users]
    for user, login in zip(users, logins, strict=True):
        assert (user.is_staff, user.is_superuser, user.is_active) == (True, False, True)
        assert list(user.groups.values_list("name", flat=True)) == [ADMIN]
        assert user.password.startswith("pbkdf2_sha256$")
        assert PBKDF2PasswordHasher().verify(login.password, user.password)
        assert login.token.startswith("dfapi_") and ApiToken.objects.filter(user=user).count() == 1


def test_ensuring_again_converges_with_new_secrets_and_deleting_removes_accounts_and_tokens():
    first = load_brokers_ensure(count=2)

    again = load_brokers_ensure(count=2)

    assert [a.username for a in again] == [f.username for f in first]
    assert all(a.password != f.password and a.token != f.token for a, f in zip(again, first, strict=True))
    assert get_user_model().objects.filter(username__startswith=USERNAME_PREFIX).count() == 2
    assert ApiToken.objects.count() == 2  # the first tokens are gone
    assert load_brokers_delete() >= 2
    assert not get_user_model().objects.filter(username__startswith=USERNAME_PREFIX).exists()
    assert ApiToken.objects.count() == 0


def test_every_map_filter_gets_a_value_from_the_data(load_county):
    variants = dict(map_filter_variants())

    assert {name.split(":")[0] for name in variants} == set(MAP_FILTERS)
    assert {name for name in variants if name.startswith("distress:")} == {f"distress:{k}" for k, _ in DISTRESS_CHOICES}
    assert variants["assigned_to"] == (("assigned_to", str(load_county.holder.pk)),)  # someone who holds leads
    arvs = sorted(lead.arv for lead in load_county.leads)
    assert variants["min_arv"] == (("min_arv", str(int(arvs[19]))),)  # the lower median
    assert variants["tier"] == (("tier", "A"), ("tier", "B"))


def test_the_mix_reads_viewports_and_search_terms_from_the_county(load_county):
    spec = load_mix_build()

    labels = [v.label for v in spec.viewports]
    assert labels.count("county") == 5 and labels.count("city") == 12
    xs = [lead.property.location.x for lead in load_county.leads]
    assert spec.viewports[0].bbox[0] == pytest.approx(min(xs)) and spec.viewports[0].bbox[2] == pytest.approx(max(xs))
    best = max(load_county.leads, key=lambda lead: (lead.total, -lead.pk))
    assert spec.search_terms["admin_properties"][:2] == [best.property.parcel_id, "MAIN"]
    assert spec.search_terms["admin_runs"] == ["Orange"]
    assert len(spec.search_terms["admin_matches"]) == 2 and spec.search_terms["admin_buyers"]
    assert MixSpec.from_json(spec.to_json()) == spec


def test_an_empty_county_gives_a_mix_without_the_map(db):
    spec = load_mix_build(weights={"dashboard": 1, "admin_leads": 1})
    assert spec.viewports == [] and spec.search_terms["admin_leads"] == []
    with pytest.raises(ValueError, match="needs at least one viewport"):
        load_mix_build()


def test_every_request_of_the_sweep_answers_200_to_a_load_broker(load_county):
    """Each changelist offers filter links (found in the page as the load process finds them), and every map
    filter, API variant, changelist filter and search answers 200 to the load's own account."""
    login = load_brokers_ensure(count=1)[0]
    client = Client()
    client.force_login(get_user_model().objects.get(username=login.username))
    spec = load_mix_build()
    for kind, path in ADMIN_CHANGELISTS.items():
        page = client.get(path)
        assert page.status_code == 200, path
        spec.admin_filters[kind] = admin_filter_links(page.content.decode())
        assert spec.admin_filters[kind], f"no filter links found on {path}"

    requests = sweep_requests(spec)

    assert {r.kind for r in requests} == set(spec.weights)
    for request in requests:
        headers = {"HTTP_AUTHORIZATION": f"Token {login.token}"} if request.api else {}
        response = client.get(request.path, list(request.params), **headers)
        assert response.status_code == 200, (request, response.content[:300])
