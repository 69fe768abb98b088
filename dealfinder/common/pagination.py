"""Cursor pagination for the API's big lists: stable under inserts, no COUNT(*)."""

from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response


class StableCursorPagination(CursorPagination):
    """Cursor pages over a unique, non-null key.

    The view's `cursor_orderings` maps `?ordering=` values to orderings whose first field is
    non-null and whose last is unique (e.g. `{"-score": ("-total", "-id")}`); the first entry is
    the default. Other values are rejected, since a cursor cannot walk a nullable column.
    """

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = ("-id",)

    def get_ordering(self, request, queryset, view):
        choices = getattr(view, "cursor_orderings", None)
        if not choices:
            return self.ordering
        requested = request.query_params.get("ordering")
        if not requested:
            return next(iter(choices.values()))
        if requested not in choices:
            raise ValidationError({"ordering": [f"Choose one of: {', '.join(choices)}."]})
        return choices[requested]


def ordering_parameter(choices: dict) -> OpenApiParameter:
    """Documents a view's `cursor_orderings` as the `ordering` query parameter."""
    return OpenApiParameter("ordering", str, enum=list(choices), description=f"Default {next(iter(choices))}")


class GeoJsonCursorPagination(StableCursorPagination):
    """The same cursor pages, shaped as a GeoJSON FeatureCollection with `next`/`previous` links."""

    def get_paginated_response(self, data):
        return Response(
            {
                "type": "FeatureCollection",
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "features": data["features"],
            }
        )

    def get_paginated_response_schema(self, schema):
        """`schema` is the FeatureCollection; the page adds the cursor links to it."""
        links = super().get_paginated_response_schema(schema)["properties"]
        page = {"type": "object", "properties": {"next": links["next"], "previous": links["previous"]}}
        return {"allOf": [schema, page]}
