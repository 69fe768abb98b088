"""A record's point must be a WGS84 longitude/latitude: never metres or feet stored as degrees, never lost work."""

import pytest

from properties import models as m
from properties.ingest.base import RawRecord
from properties.ingest.mapping import FieldMapping
from properties.ingest.points import batch_points, implausible
from properties.services import datasource_ingest
from tests.factories import DataSourceFactory
from tests.fakes.arcgis import FakeArcGISLayer, load_arcgis_fixture

KENT = {
    "parcel_id": "PNUM",
    "owner_name": "OWNERNAME1",
    "street": "PROPERTYADDRESS",
    "city": "PROPADDRESSCITY",
    "state": "PROPADDRESSSTATE_ZIPCODE",
    "assessed_value": "SEVTRIBUNAL1",
    "taxable_value": "TAXABLETRIBUNAL1",
}


def kent_layer(httpserver, spatial_reference):
    answer = load_arcgis_fixture("kent-mi-parcels-query")
    return FakeArcGISLayer(
        httpserver,
        answer["features"],
        fields=answer["fields"],
        geometry_type="esriGeometryPolygon",
        spatial_reference=spatial_reference,
        name="kent-parcels",
    )


@pytest.mark.django_db
def test_a_page_in_projected_units_taken_for_degrees_never_overwrites_good_points(httpserver):
    answer = load_arcgis_fixture("kent-mi-parcels-query")
    layer = kent_layer(httpserver, answer["spatialReference"])
    source = DataSourceFactory(kind="arcgis", url=layer.url, dataset="parcels", field_mapping=KENT, enabled=True)
    first = datasource_ingest(source_id=source.pk)
    assert (first.status, first.stored, first.unplaced) == ("success", 3, 0)
    grant = m.Property.objects.get(parcel_id="41-01-06-100-009")
    assert (grant.owner_name, grant.street, grant.city, grant.state, grant.zip) == (
        "NIECE JERMEY J & SARAH R",
        "4660 22 MILE RD NW",
        "GRANT",
        "MI",  # from "MI49327     " in one column
        "49327",
    )
    placed = dict(m.Property.objects.values_list("parcel_id", "location"))
    assert all(-85.9 < p.x < -85.7 and 43.2 < p.y < 43.4 for p in placed.values())

    # The server now answers in state-plane feet without saying so (no spatialReference: read as WGS84).
    httpserver.clear()
    layer = kent_layer(httpserver, {"wkid": 4326})
    second = datasource_ingest(source_id=source.pk)
    assert (second.status, second.processed, second.updated, second.stored, second.unplaced) == ("success", 3, 0, 3, 3)
    location = second.field_stats["location"]
    assert (location["filled"], location["bad"]) == (0, 3)
    assert location["examples"][0].startswith("record 1: (1.27452e+07, 656397) is not a longitude/latitude")
    assert dict(m.Property.objects.values_list("parcel_id", "location")) == placed  # the good points stay


@pytest.mark.parametrize(
    ("xy", "problem"),
    [
        ((-81.38, 28.54), None),
        ((-9059456.1, 3320467.7), "(-9.05946e+06, 3.32047e+06) is not a longitude/latitude"),
        ((28.54, -181.0), "(28.54, -181) is not a longitude/latitude"),
        ((0.0, 0.0), "(0, 0) is no place (a blank point)"),
        ((float("nan"), 1.0), "coordinates are not numbers"),
    ],
)
def test_implausible_points(xy, problem):
    found = implausible(xy)
    assert found == problem if problem is None else found.startswith(problem)


def test_points_come_from_geometry_then_projected_xy_then_longitude_latitude():
    mapping = FieldMapping.from_config("parcels", {"parcel_id": "P", "x": "X", "y": "Y", "epsg": 2260})
    records = [RawRecord("1", {"P": "1", "X": 496438.84, "Y": 897109.13}), RawRecord("2", {"P": "2"})]
    rows = [mapping.apply(r) for r in records]
    first, second = batch_points(records, rows, mapping)
    assert first.xy == pytest.approx((-74.4843, 41.2962), abs=1e-5)
    assert (first.flag, second.xy, second.flag) == ("f", None, "b")
    lonlat = FieldMapping.from_config("parcels", {"parcel_id": "P", "longitude": "LON", "latitude": "LAT"})
    record = RawRecord("3", {"P": "3", "LON": "-81.38", "LAT": "0"})
    (placed,) = batch_points([record], [lonlat.apply(record)], lonlat)
    assert (placed.xy, placed.flag) == ((-81.38, 0.0), "f")
