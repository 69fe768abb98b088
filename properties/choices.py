"""The parcel master's vocabulary, shared by ingest, onboarding, matching and the API: property types and the
county parcel-id formats."""

from django.db import models


class PropertyType(models.TextChoices):
    SFR = "sfr", "Single-family"
    MULTI = "multi", "Multi-family"
    CONDO = "condo", "Condo"
    TOWNHOUSE = "townhouse", "Townhouse"
    MOBILE = "mobile", "Mobile home"
    LAND = "land", "Vacant land"
    COMMERCIAL = "commercial", "Commercial"
    OTHER = "other", "Other / unknown"


class ParcelFormat(models.TextChoices):
    CANONICAL = "canonical", "Canonical (uppercase; separators kept, each run of them as one '-')"
    PLAIN = "plain", "Plain (separators deleted: only where they carry no meaning; 221-52 and 2215-2 would merge)"
    ORANGE_FL = "orange_fl", "Orange County FL (display S-T-R form to API R-T-S form)"
    COOK_IL = "cook_il", "Cook County IL (PIN as 14 digits)"
