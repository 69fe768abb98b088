"""GeoJSON output for the API's point columns."""

from django.contrib.gis.geos import Point
from rest_framework_gis.fields import GeoJsonDict, GeometryField


class PointGeometryField(GeometryField):
    """rest_framework_gis' GeometryField, with points written straight from their coordinates.

    The parent exports each geometry through OGR's GeoJSON writer, twice per value: a third of the time of a
    100-lead API page (measured at 100,000 leads). Other geometries, transforms, rounding and bboxes go the
    parent's way.
    """

    def to_representation(self, value):
        if isinstance(value, Point) and not value.empty and not (self.transform or self.precision or self.auto_bbox):
            return GeoJsonDict((("type", "Point"), ("coordinates", list(value.coords))))
        return super().to_representation(value)
