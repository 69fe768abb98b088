"""The broker map: the page, its viewport GeoJSON, and the draw-to-select export and assign actions."""

import json

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon, Polygon
from django.forms.utils import flatatt
from django.http import HttpResponseBadRequest, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from dealfinder.common.csv_safe import csv_response
from dealfinder.common.geo_validators import check_lon_lat

from .assignees import ASSIGNEE_REFUSED, lead_assignees
from .filtersets import LeadFilterSet
from .grid import cell_range, grid_cells, grid_level, grid_points_cells, map_grid_is_fresh
from .models import Lead
from .services import lead_bulk_assign
from .ui_selectors import (
    CLUSTER_BELOW_ZOOM,
    DENSE_CELLS_BELOW_ZOOM,
    DENSE_POINTS,
    INDEX_CELL_FILTERS,
    INDEX_POINT_FILTERS,
    MAX_POINTS,
    lead_export_rows,
    lead_list_in_shape,
    lead_map_cells,
    lead_map_points,
    lead_map_points_indexed,
)

# The filters the map shows (all from LeadFilterSet), with short labels for the sidebar.
MAP_FILTERS = {
    "tier": "Tier",
    "status": "Status",
    "distress": "Distress",
    "min_stack": "Stacked signals at least",
    "min_score": "Score at least",
    "max_score": "Score at most",
    "min_price": "List price at least",
    "max_price": "List price at most",
    "min_arv": "ARV at least",
    "max_arv": "ARV at most",
    "min_mao": "MAO at least",
    "max_mao": "MAO at most",
    "assigned_to": "Assigned to",
    "has_matches": "Has buyer matches",
}
CHECKBOX_FILTERS = ("tier", "status", "distress")
MAX_SHAPE_VERTICES = 2000
view_leads = permission_required("leads.view_lead", raise_exception=True)


class ShapeField(forms.CharField):
    """A drawn selection as GeoJSON or WKT (WGS84) -> a valid Polygon or MultiPolygon."""

    def clean(self, value):
        value = super().clean(value)
        try:
            shape = GEOSGeometry(value, srid=4326)
        except (GEOSException, ValueError, TypeError) as exc:
            raise forms.ValidationError("shape must be a GeoJSON or WKT polygon") from exc
        too_big = isinstance(shape, Polygon | MultiPolygon) and shape.num_coords > MAX_SHAPE_VERTICES
        if too_big or not isinstance(shape, Polygon | MultiPolygon):
            raise forms.ValidationError(f"shape must be a valid polygon of at most {MAX_SHAPE_VERTICES} vertices")
        check_lon_lat(shape, what="the shape")  # before GEOS looks at it further: 1e308 aborts its WKT writer
        if not shape.valid:
            raise forms.ValidationError(f"shape must be a valid polygon of at most {MAX_SHAPE_VERTICES} vertices")
        shape.srid = 4326
        return shape


class SelectionForm(forms.Form):
    shape = ShapeField()


class AssignForm(SelectionForm):
    assignee = forms.ModelChoiceField(queryset=lead_assignees(), error_messages={"invalid_choice": ASSIGNEE_REFUSED})


class ViewportForm(forms.Form):
    zoom = forms.IntegerField(min_value=0, max_value=22)


def _filtered(request, data) -> LeadFilterSet:
    return LeadFilterSet(data, queryset=Lead.objects.all(), request=request)


def _errors(*forms_) -> JsonResponse:
    errors = {}
    for form in forms_:
        errors.update(form.errors)
    return JsonResponse({"errors": errors}, status=400)


@login_required
@view_leads
@require_GET
def lead_map(request):
    """The map page: filters built from LeadFilterSet, the viewport loaded from `lead_map_geojson`."""
    form = _filtered(request, request.GET or None).form
    for name, label in MAP_FILTERS.items():
        form.fields[name].label = label
    for name in CHECKBOX_FILTERS:
        form.fields[name].widget = forms.CheckboxSelectMultiple(choices=form.fields[name].choices)
    config = {"geojsonUrl": reverse("leads:map-geojson"), "assignUrl": reverse("leads:map-assign")}
    return render(
        request,
        "leads/map.html",
        {
            "filters": [form[name] for name in MAP_FILTERS],
            "assign_form": AssignForm() if request.user.has_perm("leads.change_lead") else None,
            "config": config,
        },
    )


@login_required
@view_leads
@require_GET
def lead_map_geojson(request):
    """Leads in `in_bbox` as a FeatureCollection: points at zoom >= 13, grid cells below (and at zoom 13
    when the map index counts more than DENSE_POINTS leads in view).

    Requests whose filters the map index carries (leads.grid.INDEX_FILTERS) read it when it is fresh: its
    per-tier cell counts when unfiltered or tier-filtered, its narrow points otherwise (every filter the map
    page offers). Other LeadFilterSet filters (search, zip, property type...), SpatiaLite and a stale index
    read the live tables with the same cell arithmetic.
    """
    filterset, viewport = _filtered(request, request.GET), ViewportForm(request.GET)
    if not (filterset.is_valid() and viewport.is_valid()):
        return _errors(filterset.form, viewport)
    cleaned = filterset.form.cleaned_data
    bbox = cleaned.get("in_bbox")
    if bbox is None:
        return JsonResponse({"errors": {"in_bbox": ["in_bbox is required"]}}, status=400)
    zoom = viewport.cleaned_data["zoom"]
    active = {name for name, value in cleaned.items() if name != "in_bbox" and value not in (None, "", [], ())}
    indexed = active <= INDEX_POINT_FILTERS and map_grid_is_fresh()
    index_filters = {name: cleaned[name] for name in active}
    cells = cell_range(level=grid_level(zoom=zoom, bbox=bbox.extent), bbox=bbox.extent)
    rows = None
    if indexed and zoom < DENSE_CELLS_BELOW_ZOOM and active <= INDEX_CELL_FILTERS:
        # At the first points zoom a dense city view stays cells: 500 of 40,000 points say little.
        rows = grid_cells(cells=cells, tiers=cleaned.get("tier"))
        if zoom >= CLUSTER_BELOW_ZOOM and sum(row["n"] for row in rows) <= DENSE_POINTS:
            rows = None
    if zoom >= CLUSTER_BELOW_ZOOM and rows is None:
        if indexed:
            points, truncated, count = lead_map_points_indexed(bbox=bbox, filters=index_filters, limit=MAX_POINTS)
        else:
            points, truncated = lead_map_points(leads=filterset.qs, limit=MAX_POINTS)
            count = filterset.qs.filter(property__location__isnull=False).count() if truncated else len(points)
        features = [_point_feature(row) for row in points]
        kind = "points"
    else:
        if rows is None and indexed:
            rows = grid_points_cells(cells=cells, filters=index_filters)
        elif rows is None:
            # The same filters without the viewport; lead_map_cells takes the whole cells it touches.
            data = request.GET.copy()
            data.pop("in_bbox")
            rows = lead_map_cells(leads=_filtered(request, data).qs, cells=cells)
        features = [_cell_feature(row) for row in rows]
        count, truncated, kind = sum(row["n"] for row in rows), False, "cells"
    return JsonResponse(
        {
            "type": "FeatureCollection",
            "kind": kind,
            "count": count,
            "truncated": truncated,
            "urls": _admin_url_templates() if kind == "points" else {},
            "features": features,
        }
    )


def _admin_url_templates() -> dict[str, str]:
    """Admin change URLs with an {id} placeholder (one reverse() per request, not per feature)."""
    return {
        key: reverse(f"admin:{name}_change", args=[0]).replace("/0/", "/{id}/")
        for key, name in (("lead", "leads_lead"), ("property", "properties_property"))
    }


def _point_feature(row: dict) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(row["lon"], 6), round(row["lat"], 6)]},
        "properties": {
            "id": row["id"],
            "property_id": row["property_id"],
            "tier": row["tier"],
            "score": row["total"],
            "status": row["status"],
            "stack": row["stack_count"],
            "address": row["property__address_normalized"] or row["property__parcel_id"],
            "reasons": (row["reasons"] or [])[:3],
            "arv": None if row["arv"] is None else float(row["arv"]),
            "mao": None if row["mao"] is None else float(row["mao"]),
        },
    }


def _cell_feature(row: dict) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [round(row["lon"], 6), round(row["lat"], 6)]},
        "properties": {"count": row["n"], "tiers": {t: row[f"tier_{t}"] for t in "ABCD"}},
    }


def _selection(request, form_class):
    """(form, leads inside the drawn shape that pass the filters) or (form, None) when invalid."""
    form, filterset = form_class(request.POST), _filtered(request, request.POST)
    if not (form.is_valid() and filterset.is_valid()):
        return form, filterset, None
    return form, filterset, lead_list_in_shape(leads=filterset.qs, shape=form.cleaned_data["shape"])


@login_required
@view_leads
@require_POST
def lead_map_export(request):
    """CSV of the filtered leads inside the drawn polygon (a circle arrives as a polygon)."""
    form, filterset, leads = _selection(request, SelectionForm)
    if leads is None:
        return HttpResponseBadRequest(json.dumps({**form.errors, **filterset.form.errors}))
    return lead_export_response(leads=leads)


def lead_export_response(*, leads) -> StreamingHttpResponse:
    """The leads CSV (lead_export_rows: one column list for the map and the admin), streamed through the one
    formula-safe writer (dealfinder.common.csv_safe)."""
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return csv_response(lead_export_rows(leads=leads), filename=f"leads-{stamp}.csv", streaming=True)


@login_required
@permission_required("leads.change_lead", raise_exception=True)
@require_POST
def lead_map_assign(request):
    """Assign the filtered leads inside the drawn polygon to a user; one Activity per changed lead."""
    form, filterset, leads = _selection(request, AssignForm)
    if leads is None:
        return _errors(form, filterset.form)
    changed = lead_bulk_assign(leads=leads, user=form.cleaned_data["assignee"], actor=request.user, note="From the map")
    return JsonResponse({"assigned": changed, "assignee": form.cleaned_data["assignee"].get_username()})


def minimap_attrs(**data) -> str:
    """data-* attributes (escaped) for a read-only map drawn by static/leads/minimap.js: the configured
    tile layer plus the given values (lat, lon, tier, label, geojson, radius_m...); None values are left out."""
    _, url, options = settings.LEAFLET_CONFIG["TILES"][0]
    attrs = {"tiles": url, "attribution": options.get("attribution", ""), "max-zoom": options.get("maxZoom", 19)}
    attrs.update({k.replace("_", "-"): v for k, v in data.items() if v is not None})
    return flatatt({f"data-{k}": str(v) for k, v in attrs.items()})
