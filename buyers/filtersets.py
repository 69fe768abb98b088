"""FilterSets for buyers and property-buyer matches."""

import django_filters as filters
from django.db.models import Q

from properties.filtersets import IdFilter, SinceFilter

from .models import Buyer, PropertyMatch


class BuyerFilterSet(filters.FilterSet):
    q = filters.CharFilter(method="filter_q", label="Name, company, email or phone")
    is_active = filters.BooleanFilter()
    source = filters.ChoiceFilter(choices=Buyer.Source.choices)
    cash_buyer = filters.BooleanFilter()
    proof_of_funds = filters.BooleanFilter()
    sms_opt_in = filters.BooleanFilter()
    updated_since = SinceFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Buyer
        fields = ()

    def filter_q(self, qs, name, value):
        value = value.strip()
        if not value:
            return qs
        return qs.filter(
            Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
            | Q(company__icontains=value)
            | Q(email__icontains=value)
            | Q(phone__icontains=value)
        )


class PropertyMatchFilterSet(filters.FilterSet):
    buyer = IdFilter(field_name="buyer_id")
    property = IdFilter(field_name="property_id")
    lead = IdFilter(field_name="property__lead__id", label="Lead id")
    min_score = filters.NumberFilter(field_name="score", lookup_expr="gte")
    contacted = filters.BooleanFilter(field_name="contacted_at", lookup_expr="isnull", exclude=True)
    updated_since = SinceFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = PropertyMatch
        fields = ()
