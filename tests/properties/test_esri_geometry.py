"""Esri and GeoJSON geometry to WGS84 points (properties/ingest/esri_geometry.py), alone and through a layer."""

import json

import pytest
from django.contrib.gis.gdal import CoordTransform, SpatialReference
from django.contrib.gis.geos import GEOSGeometry, Point

from properties.ingest.esri_geometry import coord_transform, esri_point
from tests.fakes.arcgis import FakeArcGISLayer, load_arcgis_fixture
from tests.properties.test_arcgis import read

KENT_WKT = load_arcgis_fixture("kent-mi-parcels-query")["spatialReference"]


def test_wkt_state_plane_coordinates_are_transformed_to_lon_lat():
    origin = Point(13123359.58005249, 0)  # false easting, latitude of origin of Michigan South (ft)

    origin.transform(coord_transform(KENT_WKT))

    assert origin.x == pytest.approx(-84.366667, abs=1e-6)
    assert origin.y == pytest.approx(41.5, abs=1e-6)


def test_a_layer_answering_in_wkt_state_plane_gives_wgs84_points_inside_each_parcel(httpserver):
    answer = load_arcgis_fixture("kent-mi-parcels-query")
    layer = FakeArcGISLayer(
        httpserver,
        answer["features"],
        fields=answer["fields"],
        geometry_type="esriGeometryPolygon",
        spatial_reference=answer["spatialReference"],
    )

    records = read(layer.url)[0].records

    to_wgs84 = CoordTransform(SpatialReference(KENT_WKT["wkt"]), SpatialReference(4326))
    assert [r.external_id for r in records] == ["1", "2", "3"]
    for record, feature in zip(records, answer["features"], strict=True):
        parcel = GEOSGeometry(json.dumps({"type": "Polygon", "coordinates": feature["geometry"]["rings"]}))
        parcel.transform(to_wgs84)
        assert record.geometry.srid == 4326
        assert parcel.contains(record.geometry)
        assert -85.9 < record.geometry.x < -85.7  # Grant, Kent County MI
        assert 43.2 < record.geometry.y < 43.4
    # values are passed on as the server sent them (the mapping layer trims)
    assert records[0].attributes["OWNERNAME1"] == "NIECE JERMEY J & SARAH R           "
    assert records[0].attributes["PROPADDRESSSTATE_ZIPCODE"] == "MI49327     "


@pytest.mark.parametrize("spatial_reference", [{"wkid": 102729, "latestWkid": 2272}, {"wkid": 102729}, {"wkid": 2272}])
def test_esri_and_epsg_wkids_are_transformed(spatial_reference):
    lon, lat = -76.320967, 40.2323465  # an address point in Lancaster County PA
    projected = Point(lon, lat, srid=4326)
    projected.transform(2272)

    point = esri_point({"x": projected.x, "y": projected.y}, coord_transform(spatial_reference))

    assert point.srid == 4326
    assert point.x == pytest.approx(lon, abs=1e-7)
    assert point.y == pytest.approx(lat, abs=1e-7)


def test_wgs84_or_missing_spatial_reference_needs_no_transform():
    assert coord_transform({"wkid": 4326, "latestWkid": 4326}) is None
    assert coord_transform({"wkid": 102100, "latestWkid": 4326}) is None
    assert coord_transform(None) is None


def test_a_concave_polygon_becomes_a_point_on_its_surface():
    # A "U": its centroid lies in the notch, outside the polygon.
    rings = [[[0, 0], [0, 3], [1, 3], [1, 1], [2, 1], [2, 3], [3, 3], [3, 0], [0, 0]]]
    polygon = GEOSGeometry(json.dumps({"type": "Polygon", "coordinates": rings}))

    point = esri_point({"rings": rings})

    assert not polygon.contains(polygon.centroid)
    assert polygon.contains(point)


def test_a_polygon_with_a_hole_gets_a_point_outside_the_hole():
    outer = [[0, 0], [0, 10], [10, 10], [10, 0], [0, 0]]  # clockwise: an esri outer ring
    hole = [[1, 1], [9, 1], [9, 9], [1, 9], [1, 1]]  # counter-clockwise: an esri hole
    polygon = GEOSGeometry(json.dumps({"type": "Polygon", "coordinates": [outer, hole]}))

    point = esri_point({"rings": [outer, hole]})

    assert polygon.contains(point)


def test_multipoints_and_polylines_become_a_point_on_them():
    multipoint = esri_point({"points": [[-81.37, 28.53], [-81.36, 28.54]]})
    line = esri_point({"paths": [[[-81.37, 28.53], [-81.36, 28.53], [-81.36, 28.54]]]})

    assert multipoint.coords in {(-81.37, 28.53), (-81.36, 28.54)}
    assert GEOSGeometry("LINESTRING (-81.37 28.53, -81.36 28.53, -81.36 28.54)").distance(line) < 1e-9


@pytest.mark.parametrize("geometry", [None, {}, {"x": None, "y": None}, {"x": "NaN", "y": "NaN"}, {"rings": []}])
def test_null_or_empty_geometry_is_none(geometry):
    assert esri_point(geometry) is None


def test_points_drop_z():
    assert esri_point({"x": -81.37, "y": 28.53, "z": 31.5}).coords == (-81.37, 28.53)
