"""The one FilterSet for leads: the API, the map and the dashboard all filter through it."""

import django_filters as filters
from django.db.models import Exists, F, OuterRef, Q

from properties.filtersets import BBoxFilter, IdFilter, NearFilter, SinceFilter, property_search, radius_miles_filter
from properties.models import (
    CodeViolation,
    Foreclosure,
    Listing,
    PriceChange,
    Property,
    PropertySource,
    PropertyType,
    TaxDelinquency,
    TaxSale,
)

from .assignees import lead_assignees
from .models import TIER_CHOICES, Lead

DISTRESS_CHOICES = [
    ("tax_sale", "Tax-deed sale"),
    ("foreclosure", "Foreclosure"),
    ("code_violation", "Open code violation"),
    ("tax_delinquent", "Tax delinquent"),
    ("absentee", "Absentee owner"),
    ("vacant", "Vacant"),
    ("price_reduction", "Price reduction"),
]


def distress_condition(kind: str) -> Q:
    """A condition on Lead rows that is true when the lead's property carries the signal."""
    prop = OuterRef("property_id")
    subqueries = {
        "tax_sale": TaxSale.objects.filter(property_id=prop),
        "foreclosure": Foreclosure.objects.filter(property_id=prop),
        "code_violation": CodeViolation.objects.filter(property_id=prop, closed_at__isnull=True),
        "tax_delinquent": TaxDelinquency.objects.filter(property_id=prop, is_open=True),
        "price_reduction": PriceChange.objects.filter(listing__property_id=prop, new_price__lt=F("old_price")),
    }
    if kind == "absentee":
        return Q(property__is_absentee=True)
    if kind == "vacant":
        return Q(property__is_vacant=True)
    return Q(Exists(subqueries[kind]))


class LeadFilterSet(filters.FilterSet):
    q = filters.CharFilter(method="filter_q", label="Parcel, address or owner")
    tier = filters.MultipleChoiceFilter(choices=TIER_CHOICES)
    status = filters.MultipleChoiceFilter(choices=Lead.Status.choices)
    min_score = filters.NumberFilter(field_name="total", lookup_expr="gte")
    max_score = filters.NumberFilter(field_name="total", lookup_expr="lte")
    min_stack = filters.NumberFilter(field_name="stack_count", lookup_expr="gte")
    distress = filters.MultipleChoiceFilter(choices=DISTRESS_CHOICES, method="filter_distress")
    min_arv = filters.NumberFilter(field_name="arv", lookup_expr="gte")
    max_arv = filters.NumberFilter(field_name="arv", lookup_expr="lte")
    min_mao = filters.NumberFilter(field_name="mao", lookup_expr="gte")
    max_mao = filters.NumberFilter(field_name="mao", lookup_expr="lte")
    min_price = filters.NumberFilter(method="filter_price", label="Active list price at least")
    max_price = filters.NumberFilter(method="filter_price", label="Active list price at most")
    assigned_to = filters.ModelChoiceFilter(queryset=lead_assignees(), label="Assigned to (active staff in a role)")
    unassigned = filters.BooleanFilter(field_name="assigned_to", lookup_expr="isnull")
    has_matches = filters.BooleanFilter(method="filter_has_matches")
    source = IdFilter(method="filter_source", label="Listed by data source (id)")
    zip = filters.CharFilter(field_name="property__zip")
    owner = filters.NumberFilter(field_name="property__owner", label="Owner id (its parcels' leads)", min_value=1)
    min_owner_properties = filters.NumberFilter(
        field_name="property__owner__property_count", lookup_expr="gte", label="Owner holds at least N parcels"
    )
    property_type = filters.MultipleChoiceFilter(field_name="property__property_type", choices=PropertyType.choices)
    in_bbox = BBoxFilter(field_name="property__location", label="min_lon,min_lat,max_lon,max_lat")
    near = NearFilter(field_name="property__location", label="lon,lat (with radius_miles)")
    radius_miles = radius_miles_filter()
    updated_since = SinceFilter(field_name="updated_at", lookup_expr="gte")
    ordering = filters.OrderingFilter(
        fields=(("total", "score"), "scored_at", "mao", "arv", "stack_count", "updated_at", "next_action_at")
    )

    class Meta:
        model = Lead
        fields = ()

    def filter_q(self, qs, name, value):
        value = value.strip()
        return qs.filter(property_search(value, prefix="property__")) if value else qs

    def filter_distress(self, qs, name, values):
        for kind in values:
            qs = qs.filter(distress_condition(kind))
        return qs

    def filter_price(self, qs, name, value):
        lookup = "gte" if name == "min_price" else "lte"
        listings = Listing.objects.filter(
            property_id=OuterRef("property_id"), status=Listing.Status.ACTIVE, **{f"list_price__{lookup}": value}
        )
        return qs.filter(Exists(listings))

    def filter_has_matches(self, qs, name, value):
        if value is None:
            return qs
        # Reverse lookup by name: properties never import the buyers app.
        matched = Property.objects.filter(pk=OuterRef("property_id"), matches__isnull=False)
        return qs.filter(Exists(matched)) if value else qs.exclude(Exists(matched))

    def filter_source(self, qs, name, value):
        return qs.filter(Exists(PropertySource.objects.filter(property_id=OuterRef("property_id"), source_id=value)))
