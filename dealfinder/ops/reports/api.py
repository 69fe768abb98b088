"""`GET /api/v1/reports/<name>/`: the reporting views, paginated, filterable by their date column (`since`,
`until`: ISO dates or times) and readable by the roles that may view the data underneath."""

import django_filters as filters
from django.db import models
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import BasePermission

from properties.filtersets import SinceFilter

from .models import REPORTS, ReportModel


class ReportPermission(BasePermission):
    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perms(view.queryset.model.required_permissions))


def _filterset(model: type[ReportModel]) -> type[filters.FilterSet]:
    attrs = {"Meta": type("Meta", (), {"model": model, "fields": ()})}
    if model.date_field:
        field = model._meta.get_field(model.date_field)
        kind = (
            filters.DateFilter
            if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField)
            else SinceFilter
        )
        attrs["since"] = kind(field_name=model.date_field, lookup_expr="gte", label=f"{model.date_field} on or after")
        attrs["until"] = kind(field_name=model.date_field, lookup_expr="lt", label=f"{model.date_field} before")
    return type(f"{model.__name__}FilterSet", (filters.FilterSet,), attrs)


def report_viewset(name: str, model: type[ReportModel]) -> type[viewsets.GenericViewSet]:
    serializer = type(
        f"{model.__name__}Serializer",
        (serializers.ModelSerializer,),
        {"Meta": type("Meta", (), {"model": model, "fields": "__all__"})},
    )
    return type(
        f"{model.__name__}ReportViewSet",
        (mixins.ListModelMixin, viewsets.GenericViewSet),
        {
            "__doc__": f"The `{model._meta.db_table}` reporting view ({', '.join(model.required_permissions)}).",
            "queryset": model.objects.all(),
            "serializer_class": serializer,
            "permission_classes": [ReportPermission],
            "filterset_class": _filterset(model),
        },
    )


REPORT_VIEWSETS = {name: report_viewset(name, model) for name, model in REPORTS.items()}
