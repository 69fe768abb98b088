import httpx
import pytest
from django.contrib.gis.geos import Point

from properties.geocode import (
    CensusGeocoder,
    GeocodeResult,
    GeocodeSummary,
    geocode_address_key,
    parse_batch_answer,
    property_geocode_missing,
)
from properties.models import GeocodeCache, Property
from tests.factories import PropertyFactory
from tests.fakes.census import ANSWERS, FakeCensusGeocoder

CHURCH = ("1012 W CHURCH ST", "ORLANDO", "FL", "32805")
BLOSSOM = ("4455 S ORANGE BLOSSOM TRL", "ORLANDO", "FL", "32839")
UNDERHILL = ("2301 LAKE UNDERHILL RD", "ORLANDO", "FL", "32803")
NOWHERE = ("99999 NOWHERE BLVD", "ORLANDO", "FL", "32801")
TIED = ("100 MAIN ST", "ORLANDO", "FL", "32801")
HIAWASSEE = ("718 N HIAWASSEE RD", "ORLANDO", "FL", "32818")


def unplaced(address, **fields) -> Property:
    street, city, state, zip_code = address
    return PropertyFactory(street=street, city=city, state=state, zip=zip_code, location=None, **fields)


# --- client ------------------------------------------------------------------------------
def test_parse_batch_answer_reads_the_real_format():
    results = {r.id: r for r in parse_batch_answer(ANSWERS.read_text())}

    assert results["1"] == GeocodeResult(
        id="1",
        status="Match",
        location=Point(-81.39063427145428, 28.541094786314064, srid=4326),
        matched_address="1012 W CHURCH ST, ORLANDO, FL, 32805",
    )
    assert results["4"] == GeocodeResult(id="4", status="No_Match")
    assert results["5"] == GeocodeResult(id="5", status="Tie")


def test_a_garbled_match_row_is_left_unanswered():
    text = '"1","1 A ST, X, FL, 32801","Match","Exact","1 A ST","bad"\n"2","2 B ST, X, FL, 32801","No_Match"\n'

    assert [r.id for r in parse_batch_answer(text)] == ["2"]


def test_geocode_batch_joins_the_out_of_order_answer_on_id(fake_census_geocoder):
    rows = [("a", *CHURCH), ("b", *NOWHERE), ("c", *BLOSSOM), ("d", *TIED)]

    results = CensusGeocoder(retry_wait=0).geocode_batch(rows)

    assert [row[0] for row in fake_census_geocoder.uploads[0]] == ["a", "b", "c", "d"]
    assert {k: (r.status, r.location and r.location.coords) for k, r in results.items()} == {
        "a": ("Match", (-81.39063427145428, 28.541094786314064)),
        "b": ("No_Match", None),
        "c": ("Match", (-81.40352218843605, 28.49960934515201)),
        "d": ("Tie", None),
    }
    assert fake_census_geocoder.uploads[0][0] == ["a", *CHURCH]
    assert fake_census_geocoder.benchmarks == ["Public_AR_Current"]


def test_geocode_batch_splits_uploads_at_the_batch_limit(fake_census_geocoder):
    rows = [(str(n), *address) for n, address in enumerate([CHURCH, BLOSSOM, UNDERHILL, NOWHERE, TIED])]

    results = CensusGeocoder(batch_limit=2, retry_wait=0).geocode_batch(rows)

    assert [len(upload) for upload in fake_census_geocoder.uploads] == [2, 2, 1]
    assert sorted(results) == ["0", "1", "2", "3", "4"]


def test_the_batch_limit_never_exceeds_the_census_maximum():
    assert CensusGeocoder(batch_limit=50_000).batch_limit == 10_000


def test_a_503_is_retried(httpserver, settings):
    fake = FakeCensusGeocoder(httpserver, fail_statuses=[503])

    results = CensusGeocoder(url=fake.url, retry_wait=0).geocode_batch([("1", *CHURCH)])

    assert results["1"].status == "Match"
    assert fake.requests == 1  # the one upload that got an answer, after the 503


def test_a_400_is_not_retried(httpserver):
    fake = FakeCensusGeocoder(httpserver, fail_statuses=[400, 400])

    with pytest.raises(httpx.HTTPStatusError):
        CensusGeocoder(url=fake.url, retry_wait=0).geocode_batch([("1", *CHURCH)])

    assert fake.fail_statuses == [400]  # one answered, one left: no retry


@pytest.mark.parametrize(
    ("parts", "key"),
    [
        (("1012 W. Church St", "Orlando", "fl", "32805-1234"), "1012 W CHURCH ST, ORLANDO, FL 32805"),
        (("  1012  W CHURCH ST ", "ORLANDO ", "FL", "32805"), "1012 W CHURCH ST, ORLANDO, FL 32805"),
        (("12 Oak Ln #4", "Winter Park", "FL", ""), "12 OAK LN 4, WINTER PARK, FL "),
    ],
)
def test_geocode_address_key(parts, key):
    street, city, state, zip_code = parts

    assert geocode_address_key(street=street, city=city, state=state, zip=zip_code) == key


def test_a_very_long_address_key_still_fits_its_column():
    key = geocode_address_key(street="X" * 300, city="Y", state="FL", zip="32801")

    assert len(key) == 255


# --- service -----------------------------------------------------------------------------
@pytest.mark.django_db
def test_geocoding_is_off_unless_enabled(fake_census_geocoder, settings):
    settings.GEOCODER_ENABLED = False
    unplaced(CHURCH)

    assert property_geocode_missing() == GeocodeSummary(skipped=True)
    assert fake_census_geocoder.requests == 0


@pytest.mark.django_db
def test_properties_without_a_point_are_geocoded_once_and_cached(fake_census_geocoder):
    church = unplaced(CHURCH)
    church_again = unplaced(("1012 W. Church St", "Orlando", "FL", "32805"))  # same address, other spelling
    blossom = unplaced(BLOSSOM)
    nowhere = unplaced(NOWHERE)
    tied = unplaced(TIED)
    unplaced(UNDERHILL, is_active=False)
    placed = PropertyFactory(street=HIAWASSEE[0], location=Point(-81.0, 28.0, srid=4326))
    unplaced(("", "ORLANDO", "FL", "32801"))  # no street: nothing to geocode

    first = property_geocode_missing(geocoder=CensusGeocoder(retry_wait=0))

    assert first == GeocodeSummary(looked_up=5, cached_hits=0, sent=4, matched=3, no_match=1, tie=1, failed=0)
    assert fake_census_geocoder.requests == 1
    assert sorted(row[1] for row in fake_census_geocoder.uploads[0]) == sorted(
        [CHURCH[0], BLOSSOM[0], NOWHERE[0], TIED[0]]
    )
    for prop in (church, church_again, blossom, nowhere, tied, placed):
        prop.refresh_from_db()
    assert church.location.coords == (-81.39063427145428, 28.541094786314064)
    assert church_again.location.coords == church.location.coords
    assert blossom.location.coords == (-81.40352218843605, 28.49960934515201)
    assert (nowhere.location, tied.location, nowhere.geocoded_at) == (None, None, None)
    assert church.geocoded_at is not None
    assert placed.location.coords == (-81.0, 28.0)
    assert dict(GeocodeCache.objects.values_list("address_key", "status")) == {
        "1012 W CHURCH ST, ORLANDO, FL 32805": "Match",
        "4455 S ORANGE BLOSSOM TRL, ORLANDO, FL 32839": "Match",
        "99999 NOWHERE BLVD, ORLANDO, FL 32801": "No_Match",
        "100 MAIN ST, ORLANDO, FL 32801": "Tie",
    }

    second = property_geocode_missing(geocoder=CensusGeocoder(retry_wait=0))

    assert second == GeocodeSummary(looked_up=2, cached_hits=2, sent=0, matched=0, no_match=1, tie=1, failed=0)
    assert fake_census_geocoder.requests == 1  # misses and ties come from the cache too
    assert GeocodeCache.objects.count() == 4


@pytest.mark.django_db
def test_a_cached_match_places_a_new_property_without_a_request(fake_census_geocoder):
    unplaced(CHURCH)
    property_geocode_missing(geocoder=CensusGeocoder(retry_wait=0))
    newcomer = unplaced(CHURCH, parcel_id="NEW-PARCEL-1")

    summary = property_geocode_missing(geocoder=CensusGeocoder(retry_wait=0))

    newcomer.refresh_from_db()
    assert (summary.looked_up, summary.cached_hits, summary.matched, summary.sent) == (1, 1, 1, 0)
    assert newcomer.location.coords == (-81.39063427145428, 28.541094786314064)
    assert fake_census_geocoder.requests == 1


@pytest.mark.django_db
def test_batches_and_limit(fake_census_geocoder):
    for address in (CHURCH, BLOSSOM, UNDERHILL, HIAWASSEE, NOWHERE):
        unplaced(address)

    summary = property_geocode_missing(limit=4, batch_size=2, geocoder=CensusGeocoder(retry_wait=0))

    assert (summary.looked_up, summary.sent, summary.matched) == (4, 4, 4)
    assert [len(upload) for upload in fake_census_geocoder.uploads] == [2, 2]
    assert Property.objects.filter(location__isnull=True).count() == 1


@pytest.mark.django_db
def test_a_failed_batch_is_counted_not_cached_and_retried_next_run(httpserver, settings):
    fake = FakeCensusGeocoder(httpserver, fail_statuses=[500] * 4)
    settings.GEOCODER_ENABLED, settings.GEOCODER_URL = True, fake.url
    unplaced(CHURCH)
    unplaced(NOWHERE)

    failed = property_geocode_missing(geocoder=CensusGeocoder(retry_wait=0))
    retried = property_geocode_missing(geocoder=CensusGeocoder(retry_wait=0))

    assert failed == GeocodeSummary(looked_up=2, sent=2, failed=2)
    assert retried == GeocodeSummary(looked_up=2, sent=2, matched=1, no_match=1)
    assert fake.requests == 1
    assert GeocodeCache.objects.count() == 2
