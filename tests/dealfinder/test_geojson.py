from django.contrib.gis.geos import Point, Polygon
from rest_framework_gis.fields import GeometryField

from dealfinder.common.geojson import PointGeometryField


def test_points_are_written_as_the_parent_writes_them():
    fast, parent = PointGeometryField(), GeometryField()
    for point in (Point(-81.3789, 28.5384, srid=4326), Point(-81.123456, 28.654321, srid=4326), Point(0, 0)):
        assert fast.to_representation(point) == parent.to_representation(point)
    assert fast.to_representation(Point(-81.3789, 28.5384)) == {"type": "Point", "coordinates": [-81.3789, 28.5384]}


def test_other_geometries_and_empty_values_go_the_parents_way():
    fast = PointGeometryField()
    square = Polygon.from_bbox((0, 0, 1, 1))
    assert fast.to_representation(square) == GeometryField().to_representation(square)
    assert fast.to_representation(Point()) == {"type": "Point", "coordinates": []}
    assert fast.to_representation(None) is None
    assert PointGeometryField(precision=2).to_representation(Point(1.234, 5.678))["coordinates"] == (1.23, 5.68)
