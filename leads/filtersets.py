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


def distress_condition(kind: str, *, through_relation: bool = True) -> Q:
    """A condition on Lead rows that is true when the lead's property carries the signal.

    Every condition reads the row's `property_id`, so it serves any row that holds one (the map index's points);
    `through_relation=False` asks the property table by id for the property's own flags (absentee, vacant)
    instead of following the `property` relation, which such rows do not have.
    """
    prop = OuterRef("property_id")
    subqueries = {
        "tax_sale": TaxSale.objects.filter(property_id=prop),
        "foreclosure": Foreclosure.objects.filter(property_id=prop),
        "code_violation": CodeViolation.objects.filter(property_id=prop, closed_at__isnull=True),
        "tax_delinquent": TaxDelinquency.objects.filter(property_id=prop, is_open=True),
        "price_reduction": PriceChange.objects.filter(listing__property_id=prop, new_price__lt=F("old_price")),
    }
    flags = {"absentee": "is_absentee", "vacant": "is_vacant"}
    if kind in flags and through_relation:
        return Q(**{f"property__{flags[kind]}": True})
    if kind in flags:
        return Q(Exists(Property.objects.filter(pk=prop, **{flags[kind]: True})))
    return Q(Exists(subqueries[kind]))


def price_condition(lookup: str, value) -> Q:
    """Rows (holding a `property_id`) whose property has an active listing priced `lookup` ("gte", "lte") value."""
    listings = Listing.objects.filter(
        property_id=OuterRef("property_id"), status=Listing.Status.ACTIVE, **{f"list_price__{lookup}": value}
    )
    return Q(Exists(listings))


class LeadFilterSet(filters.FilterSet):
    q = filters.CharFilter(method="filter_q", label="Parcel, address or owner")
    # distinct=False: these filter the lead's own columns (or its one property's), so no row repeats, and
    # django-filter's default DISTINCT would sort every matching lead (all columns) before the first row.
    tier = filters.MultipleChoiceFilter(choices=TIER_CHOICES, distinct=False)
    status = filters.MultipleChoiceFilter(choices=Lead.Status.choices, distinct=False)
    min_score = filters.NumberFilter(field_name="total", lookup_expr="gte")
    max_score = filters.NumberFilter(field_name="total", lookup_expr="lte")
    min_stack = filters.NumberFilter(field_name="stack_count", lookup_expr="gte")
    distress = filters.MultipleChoiceFilter(choices=DISTRESS_CHOICES, method="filter_distress", distinct=False)
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
    property_type = filters.MultipleChoiceFilter(
        field_name="property__property_type", choices=PropertyType.choices, distinct=False
    )
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
        return qs.filter(price_condition("gte" if name == "min_price" else "lte", value))

    def filter_has_matches(self, qs, name, value):
        if value is None:
            return qs
        # The match model through the reverse relation's name (leads never import the buyers app), asked by
        # property id alone: a semi-join on the matches' property index, without the property table.
        matches = Property._meta.get_field("matches").related_model
        matched = matches.objects.filter(property_id=OuterRef("property_id"))
        return qs.filter(Exists(matched)) if value else qs.exclude(Exists(matched))

    def filter_source(self, qs, name, value):
        return qs.filter(Exists(PropertySource.objects.filter(property_id=OuterRef("property_id"), source_id=value)))
