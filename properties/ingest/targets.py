"""What a mapping can fill in, per dataset: each target's field (its type, length and range are the model
field's, so a mapped value is coerced the way it is stored), and the key that identifies a dataset's record."""

from django.db import models as dj

from properties import models as m


def _f(model, name):
    return model._meta.get_field(name)


_COMMON = {
    "parcel_id": dj.CharField(max_length=64),
    "external_id": dj.CharField(max_length=128),
    "county": _f(m.Property, "county"),
    "street": dj.CharField(max_length=200),
    "unit": _f(m.Property, "unit"),
    "city": _f(m.Property, "city"),
    "state": dj.CharField(max_length=30),
    "zip": _f(m.Property, "zip"),
    "latitude": dj.FloatField(),
    "longitude": dj.FloatField(),
    "x": dj.FloatField(),
    "y": dj.FloatField(),
    "owner_name": _f(m.Property, "owner_name"),
    "owner_mailing_address": _f(m.Property, "owner_mailing_address"),
    "mailing_street": dj.CharField(max_length=200),
    "mailing_city": dj.CharField(max_length=100),
    "mailing_state": dj.CharField(max_length=30),
    "mailing_zip": dj.CharField(max_length=10),
    "property_type": dj.CharField(max_length=100),
    **{n: _f(m.Property, n) for n in ("beds", "baths", "living_sqft", "lot_sqft", "year_built", "is_vacant")},
}
_VALUATION = (
    "tax_year",
    "market_value",
    "assessed_value",
    "taxable_value",
    "annual_taxes",
    "last_sale_price",
    "last_sale_date",
    "tax_delinquent",
    "delinquent_amount",
)
_CHILD_TARGETS = {
    "parcels": {n: _f(m.Valuation, n) for n in _VALUATION},
    "valuations": {n: _f(m.Valuation, n) for n in _VALUATION},
    "tax_sales": {
        n: _f(m.TaxSale, n) for n in ("tda_number", "sale_date", "deed_status", "opening_bid", "source_updated_at")
    },
    "foreclosures": {
        n: _f(m.Foreclosure, n)
        for n in (
            "case_number",
            "borrower",
            "lender",
            "status",
            "default_amount",
            "opening_bid",
            "filing_date",
            "auction_date",
        )
    },
    "code_violations": {
        n: _f(m.CodeViolation, n) for n in ("case_number", "violation_type", "status", "opened_at", "closed_at")
    },
    "tax_delinquencies": {
        "tax_year": _f(m.TaxDelinquency, "tax_year"),
        "delinquent_amount": _f(m.TaxDelinquency, "amount_owed"),
        "tax_delinquent": _f(m.Valuation, "tax_delinquent"),
        **{n: _f(m.TaxDelinquency, n) for n in ("status", "delinquent_since", "resolved_at")},
    },
    "listings": {
        **{n: _f(m.Listing, n) for n in ("list_price", "days_on_market", "listed_at", "url")},
        "status": dj.CharField(max_length=100),
        "previous_price": _f(m.PriceChange, "old_price"),
        "price_change": _f(m.PriceChange, "old_price"),
        "price_changed_at": _f(m.PriceChange, "changed_at"),
    },
    "sales": {
        n: _f(m.Sale, n)
        for n in (
            "document_id",
            "sale_date",
            "recording_date",
            "sale_price",
            "deed_type",
            "grantor",
            "grantee",
            "mortgage_amount",
        )
    },
}
TARGETS: dict[str, dict[str, dj.Field]] = {ds: {**_COMMON, **child} for ds, child in _CHILD_TARGETS.items()}
KEY_TARGET = {
    "tax_sales": "tda_number",
    "foreclosures": "case_number",
    "code_violations": "case_number",
    "sales": "document_id",
}
