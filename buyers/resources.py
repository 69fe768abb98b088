"""CSV and XLSX import/export of buyers (django-import-export): lists comma-separated, geometries as WKT."""

import tablib
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Polygon
from import_export import resources, widgets
from import_export.formats import base_formats

from dealfinder.common.csv_safe import safe_row

from .models import Buyer


def _safe_dataset(dataset: tablib.Dataset) -> tablib.Dataset:
    """The export with every cell through dealfinder.common.csv_safe (the library's own ESCAPE_FORMULAE setting only
    strips a leading "=": it neither keeps the text nor covers +, -, @, tab and CR)."""
    return tablib.Dataset(*(safe_row(row) for row in dataset), headers=dataset.headers, title=dataset.title)


class SafeCSV(base_formats.CSV):
    def export_data(self, dataset, **kwargs):
        return super().export_data(_safe_dataset(dataset), **kwargs)


class SafeXLSX(base_formats.XLSX):
    def export_data(self, dataset, **kwargs):
        return super().export_data(_safe_dataset(dataset), **kwargs)


# CSV and XLSX only: no YAML (aliases can expand a small file into gigabytes), JSON, TSV or HTML.
IMPORT_FORMATS = [base_formats.CSV, base_formats.XLSX]
EXPORT_FORMATS = [SafeCSV, SafeXLSX]


class CommaListWidget(widgets.Widget):
    """["sfr", "multi"] <-> "sfr, multi"."""

    def clean(self, value, row=None, **kwargs):
        return [part.strip() for part in str(value or "").split(",") if part.strip()]

    def render(self, value, obj=None, **kwargs):
        return ", ".join(str(v) for v in value or [])


class WKTWidget(widgets.Widget):
    """A geometry <-> WKT in lon/lat (SRID 4326); a POLYGON is accepted for a MULTIPOLYGON field."""

    def __init__(self, multi: bool = False):
        self.multi = multi
        super().__init__()

    def clean(self, value, row=None, **kwargs):
        if not str(value or "").strip():
            return None
        geom = GEOSGeometry(str(value).strip(), srid=4326)
        if self.multi and isinstance(geom, Polygon):
            geom = MultiPolygon(geom, srid=4326)
        return geom

    def render(self, value, obj=None, **kwargs):
        return value.wkt if value is not None else ""


class BuyerResource(resources.ModelResource):
    """Rows are keyed by email: importing updates the buyer with that email or creates one (source "import")."""

    tags = resources.Field(attribute="tags", column_name="tags", widget=CommaListWidget())
    property_types = resources.Field(attribute="property_types", column_name="property_types", widget=CommaListWidget())
    target_zips = resources.Field(attribute="target_zips", column_name="target_zips", widget=CommaListWidget())
    strategies = resources.Field(attribute="strategies", column_name="strategies", widget=CommaListWidget())
    target_area = resources.Field(attribute="target_area", column_name="target_area", widget=WKTWidget(multi=True))
    center = resources.Field(attribute="center", column_name="center", widget=WKTWidget())

    class Meta:
        model = Buyer
        import_id_fields = ("email",)
        fields = (
            "email",
            "first_name",
            "last_name",
            "company",
            "phone",
            "sms_opt_in",
            "tags",
            "is_active",
            "min_price",
            "max_price",
            "property_types",
            "min_beds",
            "min_baths",
            "min_year_built",
            "max_year_built",
            "target_zips",
            "target_area",
            "center",
            "radius_miles",
            "strategies",
            "cash_buyer",
            "proof_of_funds",
            "notes",
        )
        export_order = fields
        skip_unchanged = True
        report_skipped = True
        # Each row is validated as the admin validates a buyer (Buyer.full_clean): list vocabularies, zips, and the
        # buy box's geometry (vertices, WGS 84, validity, span) and radius. A bad row is reported, nothing written.
        clean_model_instances = True

    def before_import_row(self, row, **kwargs):
        if not str(row.get("email") or "").strip():
            raise ValueError("email is required: it identifies the buyer")

    def before_save_instance(self, instance, row, **kwargs):
        if instance.pk is None:
            instance.source = Buyer.Source.IMPORT
