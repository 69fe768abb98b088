"""FilterSets for properties, data sources and ingestion runs, plus the shared spatial filters."""

import datetime
import math

import django_filters as filters
from django import forms
from django.contrib.gis.geos import Point, Polygon
from django.contrib.gis.measure import D
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django_filters.fields import IsoDateTimeField

from .models import DataSource, IngestionRun, Owner, Property, PropertySource, PropertyType

EARTH_RADIUS_MILES = 3958.8
DEFAULT_RADIUS_MILES = 1
MAX_ID = 2**63 - 1


def property_search(value: str, *, prefix: str = "") -> Q:
    """Parcel id (as typed or normalized), address or owner; `prefix` reaches a property from another model."""
    return (
        Q(**{f"{prefix}parcel_id": value.upper().replace("-", "")})
        | Q(**{f"{prefix}parcel_id_raw": value})
        | Q(**{f"{prefix}address_normalized__icontains": value})
        | Q(**{f"{prefix}owner_name__icontains": value})
    )


class IdFilter(filters.NumberFilter):
    """A row id: a whole number the database can hold (anything else is a 400, not an overflow)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=MAX_ID, **kwargs)


def lon_lat_box_ok(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> bool:
    """True for an ordered WGS84 box. Also keeps NaN and huge numbers away from GEOS, whose WKT
    writer (used for SpatiaLite queries) aborts the whole process on coordinates like 1e308."""
    return -180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 datetime, converted to UTC (PostgreSQL refuses offsets beyond 15:59)."""

    def to_python(self, value):
        value = super().to_python(value)
        try:
            return value.astimezone(datetime.UTC) if value is not None else None
        except OverflowError as exc:
            raise ValidationError("Datetime out of range.") from exc


class SinceFilter(filters.IsoDateTimeFilter):
    """`updated_since`: rows changed at or after this ISO 8601 time (incremental pulls)."""

    field_class = UtcIsoDateTimeField


class BBoxField(forms.CharField):
    """`min_lon,min_lat,max_lon,max_lat` (WGS84) -> a Polygon."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        try:
            coords = [float(part) for part in value.split(",")]
        except ValueError:
            coords = []
        if len(coords) != 4 or not lon_lat_box_ok(*coords) or coords[0] == coords[2] or coords[1] == coords[3]:
            raise ValidationError("in_bbox must be min_lon,min_lat,max_lon,max_lat")
        return Polygon.from_bbox(coords)


class BBoxFilter(filters.Filter):
    field_class = BBoxField

    def filter(self, qs, value):
        if value is None:
            return qs
        value.srid = 4326
        return qs.filter(**{f"{self.field_name}__intersects": value})


class PointField(forms.CharField):
    """`lon,lat` (WGS84) -> a Point."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        try:
            lon, lat = (float(part) for part in value.split(","))
        except ValueError:
            lon = lat = math.nan
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ValidationError("near must be lon,lat")
        return Point(lon, lat, srid=4326)


class NearFilter(filters.Filter):
    """Rows within `radius_miles` (a sibling filter, default 1) of the point; the bbox lets the index help."""

    field_class = PointField

    def filter(self, qs, value):
        if value is None:
            return qs
        miles = float(self.parent.form.cleaned_data.get("radius_miles") or DEFAULT_RADIUS_MILES)
        dlat = math.degrees(miles / EARTH_RADIUS_MILES) * 1.01
        dlon = dlat / max(math.cos(math.radians(min(abs(value.y) + dlat, 89.9))), 0.01)
        box = Polygon.from_bbox((value.x - dlon, value.y - dlat, value.x + dlon, value.y + dlat))
        box.srid = 4326
        return qs.filter(
            **{f"{self.field_name}__intersects": box, f"{self.field_name}__distance_lte": (value, D(mi=miles))}
        )


def radius_miles_filter() -> filters.NumberFilter:
    """The radius for `near`; filtering happens in NearFilter."""
    return filters.NumberFilter(
        method=lambda qs, name, value: qs,
        min_value=0.01,
        max_value=500,
        label=f"Radius in miles for `near` (default {DEFAULT_RADIUS_MILES})",
    )


class PropertyFilterSet(filters.FilterSet):
    q = filters.CharFilter(method="filter_q", label="Parcel, address or owner")
    county = filters.CharFilter(field_name="county", lookup_expr="iexact")
    zip = filters.CharFilter()
    property_type = filters.MultipleChoiceFilter(choices=PropertyType.choices)
    is_absentee = filters.BooleanFilter()
    is_vacant = filters.BooleanFilter()
    is_active = filters.BooleanFilter()
    min_beds = filters.NumberFilter(field_name="beds", lookup_expr="gte")
    source = IdFilter(method="filter_source", label="Listed by data source (id)")
    in_bbox = BBoxFilter(field_name="location", label="min_lon,min_lat,max_lon,max_lat")
    near = NearFilter(field_name="location", label="lon,lat (with radius_miles)")
    radius_miles = radius_miles_filter()
    updated_since = SinceFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Property
        fields = ()

    def filter_q(self, qs, name, value):
        value = value.strip()
        return qs.filter(property_search(value)) if value else qs

    def filter_source(self, qs, name, value):
        return qs.filter(Exists(PropertySource.objects.filter(property_id=OuterRef("pk"), source_id=value)))


class DataSourceFilterSet(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=DataSource.Kind.choices)
    dataset = filters.ChoiceFilter(choices=DataSource.Dataset.choices)
    enabled = filters.BooleanFilter()
    updated_since = SinceFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = DataSource
        fields = ()


class IngestionRunFilterSet(filters.FilterSet):
    source = filters.ModelChoiceFilter(queryset=DataSource.objects.all())
    status = filters.MultipleChoiceFilter(choices=IngestionRun.Status.choices)
    dataset = filters.ChoiceFilter(choices=DataSource.Dataset.choices)
    updated_since = SinceFilter(method="filter_updated_since", label="Started or finished since")

    class Meta:
        model = IngestionRun
        fields = ()

    def filter_updated_since(self, qs, name, value):
        return qs.filter(Q(started_at__gte=value) | Q(finished_at__gte=value))


class OwnerFilterSet(filters.FilterSet):
    """Owners by portfolio size, distress and indicators; `q` searches names and parcel ids."""

    min_properties = filters.NumberFilter(field_name="property_count", lookup_expr="gte", min_value=0)
    max_properties = filters.NumberFilter(field_name="property_count", lookup_expr="lte", min_value=0)
    min_distressed = filters.NumberFilter(field_name="distressed_count", lookup_expr="gte", min_value=0)
    max_distressed = filters.NumberFilter(field_name="distressed_count", lookup_expr="lte", min_value=0)
    is_corporate = filters.BooleanFilter()
    is_out_of_state = filters.BooleanFilter()
    is_estate = filters.BooleanFilter()
    kind = filters.ChoiceFilter(choices=Owner.Kind.choices)
    q = filters.CharFilter(method="search", label="Name or parcel id")

    class Meta:
        model = Owner
        fields = ()

    def search(self, queryset, name, value):
        parcels = Property.objects.filter(owner=OuterRef("pk"), parcel_id=value.upper().replace("-", ""))
        return queryset.filter(Q(display_name__icontains=value) | Q(entity__icontains=value) | Exists(parcels))
