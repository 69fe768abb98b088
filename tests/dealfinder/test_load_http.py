"""The load test for real: gunicorn with the production settings serving the test database, brokers over HTTP.

Heavier than most tests (gunicorn, collectstatic, a load child process; some 30 s here), so it runs a small
county with 4 clients for 2 seconds a run: it proves the harness works end to end and that nothing the mix
asks for fails, never how fast (timings are measured by `manage.py benchmark`, not asserted).
"""

import httpx
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from dealfinder.ops.benchmark.load import load_benchmark
from dealfinder.ops.benchmark.load_mix import KINDS, sweep_requests
from dealfinder.ops.benchmark.load_report import LOAD_TARGETS
from dealfinder.ops.benchmark.load_runner import BrokerLogin, LoadError, LoadPlan, load_run
from dealfinder.ops.benchmark.load_setup import USERNAME_PREFIX, load_brokers_ensure, load_mix_build
from dealfinder.ops.benchmark.load_web import GunicornServer
from leads.models import Lead
from leads.services import leads_score_all

# gunicorn's workers read what the test writes: committed data (transaction=True), on PostgreSQL.
pytestmark = [pytest.mark.postgis, pytest.mark.django_db(transaction=True)]
ISSUE_26_KEYS = set(LOAD_TARGETS) | {"load_rps", "load_during_pipeline_p95_ms", "web_peak_rss_mb"}


@pytest.fixture(autouse=True)
def _needs_redis():
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip('the production settings need Redis: CELERY_BROKER_URL is unset (eval "$(make -s services)")')


def test_brokers_over_http_every_kind_idle_and_while_a_rescore_runs_without_an_error(load_county):
    scored = []
    report = load_benchmark(
        clients=4, seconds=2, workers=2, out=lambda line: None, pipeline=lambda: scored.append(leads_score_all())
    )

    figures, detail = report["figures"], report["detail"]
    assert set(figures) >= ISSUE_26_KEYS
    assert figures["load_errors"] == 0 and figures["load_during_pipeline_errors"] == 0
    assert figures["load_rps"] > 0 and figures["load_p95_ms"] > 0 and figures["dashboard_p95_ms"] > 0
    assert figures["admin_p95_ms"] > 0 and figures["load_during_pipeline_p95_ms"] > 0
    for run in ("single", "crowd", "during_pipeline"):
        assert detail[run]["error_samples"] == [], detail[run]["error_samples"]
        assert detail[run]["logins"]["count"] == detail[run]["clients"]
        assert detail[run]["generator"]["cpu_seconds"] > 0
    assert (detail["single"]["clients"], detail["crowd"]["clients"]) == (1, 4)
    # Every kind was asked for by the crowd, with answers counted per kind and per variant.
    crowd = detail["crowd"]["phases"]["idle"]
    assert set(crowd["kinds"]) == set(KINDS)
    assert sum(k["count"] for k in crowd["kinds"].values()) == crowd["all"]["count"]
    assert sum(v["count"] for v in crowd["variants"].values()) == crowd["all"]["count"]
    # The sweep asked for every variant once (filters as each changelist's sidebar offers them), all 2xx.
    discovered = detail["single"]["admin_filters_discovered"]
    assert set(discovered) == {k for k in KINDS if k.startswith("admin_")} and all(discovered.values())
    spec = load_mix_build()
    spec.admin_filters = {kind: [(("f", str(i)),) for i in range(n)] for kind, n in discovered.items()}
    sweep = detail["single"]["phases"]["sweep"]
    assert sweep["all"]["count"] == len(sweep_requests(spec)) and sweep["all"]["errors"] == 0
    # The rescore ran while the brokers loaded the site, and the window is its own phase.
    assert len(scored) == 1 and scored[0].scored == Lead.objects.count() == 40
    assert detail["during_pipeline"]["pipeline"]["error"] is None
    assert detail["during_pipeline"]["phases"]["during_pipeline"]["all"]["count"] > 0
    # Both workers were sampled every second; the accounts are gone afterwards.
    memory = detail["crowd"]["web_memory"]
    assert len(memory["workers"]) == 2 and memory["samples"] >= 2
    assert 30 < figures["web_peak_rss_mb"] <= figures["web_total_peak_rss_mb"]
    assert detail["server"]["workers"] == 2
    assert not get_user_model().objects.filter(username__startswith=USERNAME_PREFIX).exists()


def test_the_served_site_keeps_production_security_and_a_refused_login_is_a_clear_error(load_county):
    logins = load_brokers_ensure(count=1)
    with GunicornServer(workers=1) as web:
        plain = httpx.get(f"{web.base_url}/admin/login/")
        proxied = httpx.get(f"{web.base_url}/admin/login/", headers={"X-Forwarded-Proto": "https"})
        missing = httpx.get(f"{web.base_url}/no-such-page/", headers={"X-Forwarded-Proto": "https"})
        anonymous = httpx.get(f"{web.base_url}/", headers={"X-Forwarded-Proto": "https"})

        https = web.base_url.replace("http://", "https://")
        assert (plain.status_code, plain.headers["location"]) == (301, f"{https}/admin/login/")
        assert proxied.status_code == 200 and "preload" in proxied.headers["strict-transport-security"]
        assert "; Secure" in proxied.headers["set-cookie"]
        assert missing.status_code == 404 and b"Traceback" not in missing.content  # DEBUG is off
        assert anonymous.status_code == 302 and anonymous.headers["location"].startswith("/admin/login/")

        wrong = BrokerLogin(logins[0].username, "not-the-password", logins[0].token)
        plan = LoadPlan(base_url=web.base_url, brokers=[wrong], mix=load_mix_build(), web_master_pid=web.master_pid)
        with pytest.raises(LoadError, match=r"load-broker-001: login answered 200 \(wrong password or locked out\?\)"):
            load_run(plan, seconds=1)
