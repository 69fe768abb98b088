"""The database connection lost in the middle of an ingest (PostGIS: the backend is terminated by another
connection while the ArcGIS fake serves page 3 of 3, after pages 1 and 2 have landed).

Expected: the ingest stops with the database error and records the run as failed on a new connection, the pages
that landed are intact, nothing of page 3 is half-written, the advisory lock died with the session so the
next run is not blocked, and a re-run converges to exactly the rows of a clean run.
"""

import contextlib
import time

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from properties.models import IngestionRun, Property, PropertySource, TaxSale
from properties.services import INTERRUPTED, datasource_ingest
from tests.db import raw_connection
from tests.factories import DataSourceFactory
from tests.fakes.arcgis import FakeArcGISLayer, point_features

pytestmark = [pytest.mark.postgis, pytest.mark.django_db(transaction=True)]

FEATURES = 30
PAGE = 10
MAPPING = {"parcel_id": "PARCEL", "street": "SITUS"}


class BackendKillingLayer(FakeArcGISLayer):
    """Terminates the Django connection's backend (from its own connection) when page `kill_on_page` is asked
    for, once the pages before it have landed, then answers the page normally: the loader gets good data and a
    dead database. (The loader asks for pages ahead of writing them: the wait puts the loss between batches.)"""

    def __init__(self, *args, kill_on_page: int, backend_pid: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.kill_on_page, self.backend_pid, self.killed = kill_on_page, backend_pid, False

    def _failure(self, number, body):
        if number == self.kill_on_page and not self.killed:
            self.killed = True
            with raw_connection() as other:
                landed = (self.kill_on_page - 1) * PAGE
                deadline = time.monotonic() + 30
                while other.execute(f"SELECT count(*) FROM {Property._meta.db_table}").fetchone()[0] < landed:  # noqa: S608
                    assert time.monotonic() < deadline, f"pages before {number} never landed"
                    time.sleep(0.05)
                terminated = other.execute("SELECT pg_terminate_backend(%s)", [self.backend_pid]).fetchone()[0]
            assert terminated
        return super()._failure(number, body)


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def rows() -> list[tuple]:
    """What an ingest leaves, without ids and timestamps."""
    properties = Property.objects.order_by("parcel_id").values_list("parcel_id", "street", "location")
    return [(p, s, (round(loc.x, 6), round(loc.y, 6))) for p, s, loc in properties]


def source_for(layer):
    return DataSourceFactory(slug="killed", url=layer.url, field_mapping=MAPPING, page_size=PAGE, enabled=True)


def test_connection_lost_mid_ingest_keeps_landed_pages_and_a_rerun_converges(httpserver):
    layer = BackendKillingLayer(
        httpserver, point_features(FEATURES), max_record_count=PAGE, kill_on_page=3, backend_pid=backend_pid()
    )
    source = source_for(layer)

    recorded = datasource_ingest(source_id=source.pk)

    assert layer.killed
    connection.close()  # what the next request / task does: a new connection
    # Pages 1 and 2 landed in their own transactions; page 3 (whose batch never started writing) left nothing.
    assert Property.objects.count() == 2 * PAGE
    assert sorted(Property.objects.values_list("parcel_id", flat=True)) == [
        f"PARCEL-{n:05d}" for n in range(1, 2 * PAGE + 1)
    ]
    assert PropertySource.objects.filter(source=source).count() == 2 * PAGE
    interrupted = IngestionRun.objects.get(source=source)
    assert interrupted.pk == recorded.pk
    # Page 3 was read, not loaded.
    assert (interrupted.status, interrupted.inserted, interrupted.pages) == ("failed", 2 * PAGE, 3)
    assert interrupted.message.startswith("OperationalError: ")

    rerun = datasource_ingest(source_id=source.pk)  # the advisory lock died with the killed session

    assert (rerun.status, rerun.processed, rerun.inserted, rerun.unchanged) == ("success", FEATURES, PAGE, 2 * PAGE)
    converged = rows()
    assert len(converged) == FEATURES

    # A clean run of the same layer into an empty database gives the same rows.
    Property.objects.all().delete()
    clean_layer = FakeArcGISLayer(httpserver, point_features(FEATURES), max_record_count=PAGE)
    clean = datasource_ingest(
        source_id=DataSourceFactory(slug="clean", url=clean_layer.url, field_mapping=MAPPING, enabled=True).pk
    )
    assert (clean.status, clean.inserted) == ("success", FEATURES)
    assert rows() == converged


def test_the_next_run_closes_a_run_its_worker_left_running(httpserver):
    """A worker killed mid-run leaves its run 'running'; the next run, holding the source's lock, closes it."""
    layer = FakeArcGISLayer(httpserver, point_features(FEATURES), max_record_count=PAGE)
    source = source_for(layer)
    IngestionRun.objects.create(
        source=source, source_label=source.name, dataset=source.dataset, heartbeat_at=timezone.now()
    )

    datasource_ingest(source_id=source.pk)

    runs = IngestionRun.objects.filter(source=source).order_by("id")
    assert [(r.status, r.message) for r in runs] == [("failed", INTERRUPTED), ("success", "")]
    assert runs[0].finished_at is not None


KILL_ON_TDA = "2026-0025"  # a record of page 3


@pytest.fixture
def backend_dies_inside_the_batch():
    """A trigger that terminates its own backend while page 3's batch inserts its tax sales: the properties of
    that batch are already written in the same transaction, so the batch is caught half-way."""
    table = TaxSale._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION fault_kill_self() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF NEW.tda_number = '{KILL_ON_TDA}' THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF; "
            "RETURN NEW; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER fault_kill BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION fault_kill_self()"
        )
    yield
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER IF EXISTS fault_kill ON {table}")
        cursor.execute("DROP FUNCTION IF EXISTS fault_kill_self()")


def tax_sale_features():
    features = point_features(FEATURES)
    for feature in features:
        feature["attributes"]["TDA"] = f"2026-{feature['attributes']['OBJECTID']:04d}"
    return features


def test_connection_lost_inside_a_batch_leaves_nothing_of_that_batch(httpserver, backend_dies_inside_the_batch):
    layer = FakeArcGISLayer(httpserver, tax_sale_features(), max_record_count=PAGE)
    source = DataSourceFactory(
        slug="tax-sales",
        url=layer.url,
        dataset="tax_sales",
        field_mapping={**MAPPING, "tda_number": "TDA"},
        page_size=PAGE,
        enabled=True,
    )

    with contextlib.suppress(OperationalError, InterfaceError):
        datasource_ingest(source_id=source.pk)
    connection.close()

    # Pages 1-2 complete; page 3's properties, written before its tax sales in the same transaction, rolled back.
    assert Property.objects.count() == TaxSale.objects.count() == 2 * PAGE
    assert set(TaxSale.objects.values_list("property__parcel_id", flat=True)) == set(
        Property.objects.values_list("parcel_id", flat=True)
    )
    assert PropertySource.objects.filter(source=source).count() == 2 * PAGE
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER fault_kill ON {TaxSale._meta.db_table}")

    rerun = datasource_ingest(source_id=source.pk)

    assert (rerun.status, rerun.inserted, rerun.unchanged) == ("success", PAGE, 2 * PAGE)
    assert Property.objects.count() == TaxSale.objects.count() == FEATURES
    assert sorted(TaxSale.objects.values_list("tda_number", flat=True)) == [f"2026-{n:04d}" for n in range(1, 31)]
