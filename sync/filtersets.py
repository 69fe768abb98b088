"""FilterSet for GoHighLevel sync logs."""

import django_filters as filters
from django.db.models import Q

from properties.filtersets import SinceFilter

from .models import SyncLog


class SyncLogFilterSet(filters.FilterSet):
    sync_type = filters.ChoiceFilter(choices=SyncLog.SyncType.choices)
    status = filters.MultipleChoiceFilter(choices=SyncLog.Status.choices)
    updated_since = SinceFilter(method="filter_updated_since", label="Started or finished since")

    class Meta:
        model = SyncLog
        fields = ()

    def filter_updated_since(self, qs, name, value):
        return qs.filter(Q(started_at__gte=value) | Q(finished_at__gte=value))
