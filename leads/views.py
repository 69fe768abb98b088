"""The broker map: the page, its viewport GeoJSON, and the draw-to-select export and assign actions."""

import csv
import json

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.gis.geos import GEOSException, GEOSGeometry, MultiPolygon, Polygon
from django.http import HttpResponseBadRequest, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from .filtersets import LeadFilterSet
from .models import Lead
from .services import lead_bulk_assign
from .ui_selectors import (
    CLUSTER_BELOW_ZOOM,
    MAX_POINTS,
    grid_cell_size,
    lead_export_rows,
    lead_list_in_shape,
    lead_map_cells,
    lead_map_points,
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
        if not isinstance(shape, Polygon | MultiPolygon) or not shape.valid or shape.num_coords > MAX_SHAPE_VERTICES:
            raise forms.ValidationError(f"shape must be a valid polygon of at most {MAX_SHAPE_VERTICES} vertices")
        shape.srid = 4326
        return shape


class SelectionForm(forms.Form):
    shape = ShapeField()


class AssignForm(SelectionForm):
    assignee = forms.ModelChoiceField(queryset=get_user_model().objects.filter(is_active=True))


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
    """Leads in `in_bbox` as a FeatureCollection: points at zoom >= 13, SQL grid clusters below."""
    filterset, viewport = _filtered(request, request.GET), ViewportForm(request.GET)
    if not (filterset.is_valid() and viewport.is_valid()):
        return _errors(filterset.form, viewport)
    bbox = filterset.form.cleaned_data.get("in_bbox")
    if bbox is None:
        return JsonResponse({"errors": {"in_bbox": ["in_bbox is required"]}}, status=400)
    zoom = viewport.cleaned_data["zoom"]
    if zoom >= CLUSTER_BELOW_ZOOM:
        rows, truncated = lead_map_points(leads=filterset.qs, limit=MAX_POINTS)
        count = filterset.qs.filter(property__location__isnull=False).count() if truncated else len(rows)
        urls = {name: reverse(f"admin:{name}_change", args=[0]) for name in ("leads_lead", "properties_property")}
        features = [_point_feature(row, urls) for row in rows]
        kind = "points"
    else:
        cell = grid_cell_size(zoom=zoom, bbox=bbox.extent)
        cells = lead_map_cells(leads=filterset.qs, cell=cell)
        features = [_cell_feature(row) for row in cells]
        count, truncated, kind = sum(row["n"] for row in cells), False, "cells"
    return JsonResponse(
        {"type": "FeatureCollection", "kind": kind, "count": count, "truncated": truncated, "features": features}
    )


def _point_feature(row: dict, urls: dict[str, str]) -> dict:
    point = row["property__location"]
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [point.x, point.y]},
        "properties": {
            "id": row["id"],
            "tier": row["tier"],
            "score": row["total"],
            "status": row["status"],
            "stack": row["stack_count"],
            "address": row["property__address_normalized"] or row["property__parcel_id"],
            "reasons": (row["reasons"] or [])[:3],
            "arv": None if row["arv"] is None else float(row["arv"]),
            "mao": None if row["mao"] is None else float(row["mao"]),
            # Admin URLs built from one reverse() per request: ".../0/change/" with the id put in.
            "lead_url": urls["leads_lead"].replace("/0/", f"/{row['id']}/"),
            "property_url": urls["properties_property"].replace("/0/", f"/{row['property_id']}/"),
        },
    }


def _cell_feature(row: dict) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
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

    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in lead_export_rows(leads=leads)), content_type="text/csv"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="leads-{stamp}.csv"'
    return response


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
