"""Forms of the admin's "Add source from URL": the URL to probe, then the source to create."""

from __future__ import annotations

import json

from django import forms

from properties.ingest.urls import ARCGIS, CKAN, FILE, SOCRATA
from properties.models import DataSource, ParcelFormat

KINDS = [("", "guess from the URL"), (ARCGIS, "ArcGIS layer"), (SOCRATA, "Socrata dataset"),
         (CKAN, "CKAN DataStore resource"), (FILE, "File (CSV / JSON / GeoJSON)")]  # fmt: skip
DATASETS = [("", "guess from the columns"), *DataSource.Dataset.choices]


class ProbeForm(forms.Form):
    url = forms.CharField(
        max_length=1000,
        label="URL",
        help_text="An ArcGIS layer or service (…/FeatureServer/0), a Socrata dataset page or API link, a CKAN resource"
        " page, or a CSV / GeoJSON download link (ArcGIS Hub links work).",
        widget=forms.URLInput(attrs={"size": 100}),
    )
    kind = forms.ChoiceField(choices=KINDS, required=False)
    dataset = forms.ChoiceField(choices=DATASETS, required=False)


class CreateForm(forms.Form):
    url = forms.CharField(max_length=1000, widget=forms.HiddenInput)
    kind = forms.ChoiceField(choices=KINDS[1:], widget=forms.HiddenInput)
    dataset = forms.ChoiceField(choices=DataSource.Dataset.choices)
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(max_length=100)
    field_mapping = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 18, "cols": 80, "class": "df-mapping"}),
        help_text="Edit as needed, then check it again against the sample before creating the source.",
    )
    parcel_format = forms.ChoiceField(choices=ParcelFormat.choices)
    county = forms.CharField(max_length=64, required=False)
    where = forms.CharField(max_length=1000, required=False, help_text="Only these records (optional)")
    incremental_field = forms.CharField(
        max_length=100, required=False, help_text="Socrata: pull only rows changed since the last run by this field"
    )
    enabled = forms.BooleanField(
        required=False, initial=False, help_text="Leave unticked to review the source before the nightly run reads it"
    )

    def clean_field_mapping(self) -> dict:
        try:
            value = json.loads(self.cleaned_data["field_mapping"])
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("Must be a JSON object: target field -> source field or expression.")
        return value
