"""The admin's "Add source from URL": URL -> probe result (fields, proposed mapping, dry run, problems) -> a
DataSource, created disabled unless the user ticks "enabled". Only users who may add data sources get here."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import slugify

from properties.ingest.base import SourceError
from properties.models import DataSource

from .create import datasource_create_from_url
from .forms import CreateForm, ProbeForm
from .probe import ProbeResult, source_probe

TEMPLATE = "admin/properties/datasource/add_from_url.html"


def add_from_url_view(model_admin, request):
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": DataSource._meta,
        "title": "Add data source from URL",
        "probe_form": ProbeForm(),
    }
    if request.method != "POST":
        return TemplateResponse(request, TEMPLATE, context)
    if "_probe" in request.POST:
        form = ProbeForm(request.POST)
        context["probe_form"] = form
        if form.is_valid():
            result = _probe(form, url=form.cleaned_data["url"], kind=form.cleaned_data["kind"] or None,
                            dataset=form.cleaned_data["dataset"] or None)  # fmt: skip
            if result is not None:
                context.update(result=result, create_form=CreateForm(initial=_initial(result)))
        return TemplateResponse(request, TEMPLATE, context)
    form = CreateForm(request.POST)
    context["create_form"] = form
    if not form.is_valid():
        context["probe_form"] = ProbeForm(initial={"url": request.POST.get("url", "")})
        return TemplateResponse(request, TEMPLATE, context)
    data = dict(form.cleaned_data)  # add_error() below takes fields out of cleaned_data
    context["probe_form"] = ProbeForm(initial={"url": data["url"], "kind": data["kind"], "dataset": data["dataset"]})
    if "_create" in request.POST:
        try:
            source = datasource_create_from_url(**data)
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                visible = name in form.fields and not form.fields[name].widget.is_hidden
                form.add_error(name if visible else None, errors if visible else [f"{name}: {e}" for e in errors])
        else:
            model_admin.log_addition(request, source, [{"added": {}}])
            state = "enabled" if source.enabled else "disabled: enable it when you have checked it"
            messages.success(request, f"Data source “{source.name}” created ({state}).")
            return redirect(reverse("admin:properties_datasource_change", args=[source.pk]))
    context["result"] = _probe(
        form, url=data["url"], kind=data["kind"], dataset=data["dataset"], mapping=data["field_mapping"],
        parcel_format=data["parcel_format"],
    )  # fmt: skip
    return TemplateResponse(request, TEMPLATE, context)


def _probe(form, **options) -> ProbeResult | None:
    try:
        return source_probe(**options)
    except SourceError as exc:
        form.add_error("url" if "url" in form.fields and not form.fields["url"].widget.is_hidden else None, str(exc))
        return None


def _initial(result: ProbeResult) -> dict:
    name = str(result.sample.about.get("name") or "")[:200] or result.url.rsplit("/", 1)[-1][:200]
    return {
        "url": result.url,
        "kind": result.kind,
        "dataset": result.dataset,
        "name": name,
        "slug": slugify(name)[:100],
        "field_mapping": json.dumps(result.mapping, indent=2),
        "parcel_format": result.parcel_format,
        "incremental_field": result.sample.incremental_field,
        "enabled": False,
    }
