"""Fixtures for the properties tests: fake outside systems served at the HTTP layer."""

import functools

import pytest

from tests.fakes.arcgis import FakeArcGISLayer
from tests.fakes.census import FakeCensusGeocoder
from tests.fakes.socrata import FakeSocrataDataset


@pytest.fixture
def fake_arcgis_layer(httpserver):
    """Factory: `fake_arcgis_layer(features, max_record_count=..., fail_pages=...)` -> FakeArcGISLayer."""
    return functools.partial(FakeArcGISLayer, httpserver)


@pytest.fixture
def fake_socrata_dataset(httpserver):
    """Factory: `fake_socrata_dataset(rows, fail_pages=...)` -> FakeSocrataDataset."""
    return functools.partial(FakeSocrataDataset, httpserver)


@pytest.fixture
def fake_census_geocoder(httpserver, settings):
    """A fake Census batch geocoder, switched on and pointed at by the settings."""
    fake = FakeCensusGeocoder(httpserver)
    settings.GEOCODER_ENABLED = True
    settings.GEOCODER_URL = fake.url
    return fake
