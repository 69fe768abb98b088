"""Concurrent admin use on SpatiaLite (the embedded default) never answers 500 "database is locked" (issue 16,
item 15).

Eight brokers save buyers in the admin at the same moment, from eight threads of one process with their own
connections to a file database, as a multi-threaded `runserver` or gunicorn with threads does. Each save is a
transaction that reads, then writes (the change form, the change itself, its LogEntry); SQLite's default deferred
transactions fail such an upgrade at once when another writer is in the way, whatever the busy timeout. The
settings make SQLite use WAL, a busy timeout and transactions that take the write lock when they begin.
"""

import json
import subprocess
import sys

import pytest
from django.conf import settings

from tests.factories import BuyerFactory, UserFactory
from tests.faults.conftest import ROOT, manage_env

pytestmark = [
    pytest.mark.skipif(settings.IS_POSTGIS, reason="SQLite's locking (PostgreSQL locks rows)"),
    pytest.mark.django_db(transaction=True),
]

WRITERS, SAVES = 8, 6

BROKERS = """
import json, sys, threading
import django
django.setup()
from django.test import Client
from django.contrib.auth import get_user_model
from buyers.models import Buyer

writers, saves = int(sys.argv[1]), int(sys.argv[2])
user = get_user_model().objects.get(username="boss")
buyers = list(Buyer.objects.order_by("pk").values_list("pk", "email"))
start, statuses = threading.Barrier(writers), []

def broker(n):
    client = Client(raise_request_exception=False)
    client.force_login(user)
    start.wait()
    for save in range(saves):
        pk, email = buyers[(n + save) % len(buyers)]
        data = {
            "email": email, "first_name": f"Writer{n}", "last_name": f"Save{save}", "tags": "[]",
            "property_types": "[]", "target_zips": "[]", "strategies": "[]", "notes": f"writer {n} save {save}",
            "source": "manual", "is_active": "on", "cash_buyer": "on",
            "matches-TOTAL_FORMS": "0", "matches-INITIAL_FORMS": "0",
            "matches-MIN_NUM_FORMS": "0", "matches-MAX_NUM_FORMS": "1000",
        }
        response = client.post(f"/admin/buyers/buyer/{pk}/change/", data)
        statuses.append(response.status_code)

threads = [threading.Thread(target=broker, args=(n,)) for n in range(writers)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps(statuses))
"""


def test_concurrent_admin_saves_all_succeed(outside_db):
    UserFactory(username="boss", is_staff=True, is_superuser=True)
    for n in range(WRITERS):
        BuyerFactory(email=f"buyer{n}@example.test", target_area=None, center=None, radius_miles=None)
    env = manage_env(outside_db.share(), DJANGO_SETTINGS_MODULE="dealfinder.settings", PYTHONPATH=str(ROOT))

    done = subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", BROKERS, str(WRITERS), str(SAVES)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    statuses = json.loads(done.stdout.strip().splitlines()[-1])
    assert "database is locked" not in done.stderr
    assert sorted(set(statuses)) == [302], f"{statuses.count(500)} of {len(statuses)} saves answered 500"
    notes = outside_db.query("SELECT COUNT(*) FROM buyers_buyer WHERE notes LIKE 'writer %'")
    assert notes == [(WRITERS,)]
    assert outside_db.query("SELECT COUNT(*) FROM django_admin_log") == [(WRITERS * SAVES,)]
