"""Cash buyers, their buy boxes, and property-buyer matches."""

import re
from decimal import Decimal

from django.conf import settings
from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.db.models import F, Q

from dealfinder.common.geo_validators import check_area, check_lon_lat
from dealfinder.common.models import TimeStampedModel, score_range_check
from properties.models import Property, PropertyType

STRATEGIES = ("flip", "rental", "brrrr")
ZIP = re.compile(r"^\d{5}$")
MILES_PER_DEGREE_LATITUDE = 69.05


def validate_target_area(value) -> None:
    """At most BUYBOX_MAX_VERTICES vertices, valid, WGS 84, at most BUYBOX_MAX_SPAN_DEGREES wide and tall."""
    check_area(
        value,
        what="the target area",
        max_vertices=settings.BUYBOX_MAX_VERTICES,
        max_span_degrees=settings.BUYBOX_MAX_SPAN_DEGREES,
    )


def validate_center(value) -> None:
    check_lon_lat(value, what="the centre")


def max_radius_miles() -> Decimal:
    """A circle as wide as the widest target area allowed (BUYBOX_MAX_SPAN_DEGREES)."""
    return Decimal(settings.BUYBOX_MAX_SPAN_DEGREES * MILES_PER_DEGREE_LATITUDE / 2).quantize(Decimal("1"))


def validate_radius_miles(value) -> None:
    if value is not None and value > max_radius_miles():
        raise ValidationError(
            f"A radius of {value} miles is too wide; at most {max_radius_miles()} miles (use zips or several buyers "
            "for a wider market).",
            code="too_wide",
        )


class Buyer(TimeStampedModel):
    class Source(models.TextChoices):
        GHL = "ghl", "GoHighLevel"
        MANUAL = "manual", "Manual"
        IMPORT = "import", "Import"

    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    company = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True, db_index=True)
    phone = models.CharField(max_length=32, blank=True, db_index=True)
    sms_opt_in = models.BooleanField("SMS opt-in", default=False)
    dnd = models.BooleanField("do not disturb", default=False, help_text="Never message (set from GoHighLevel)")
    tags = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True, db_index=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL, db_index=True)
    ghl_contact_id = models.CharField("GoHighLevel contact id", max_length=64, null=True, blank=True, unique=True)
    owner = models.ForeignKey(
        "properties.Owner",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="buyers",
        help_text="The owner record of this buyer's own parcels (their portfolio), when linked",
    )

    # Buy box
    min_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    max_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    property_types = models.JSONField(default=list, blank=True, help_text='e.g. ["sfr", "multi"]')
    min_beds = models.PositiveSmallIntegerField(null=True, blank=True)
    min_baths = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    min_year_built = models.PositiveSmallIntegerField(null=True, blank=True)
    max_year_built = models.PositiveSmallIntegerField(null=True, blank=True)
    target_area = models.MultiPolygonField(
        srid=4326, null=True, blank=True, spatial_index=True, validators=[validate_target_area]
    )
    target_zips = models.JSONField(default=list, blank=True, help_text='e.g. ["32805", "32808"]')
    center = models.PointField(srid=4326, null=True, blank=True, validators=[validate_center])
    radius_miles = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True, validators=[validate_radius_miles]
    )
    strategies = models.JSONField(default=list, blank=True, help_text="flip, rental, brrrr")
    cash_buyer = models.BooleanField(default=True)
    proof_of_funds = models.BooleanField(default=False)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_price__isnull=True) | Q(max_price__isnull=True) | Q(min_price__lte=F("max_price")),
                name="buyer_price_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(radius_miles__isnull=True) | Q(radius_miles__gt=0), name="buyer_radius_positive"
            ),
            models.CheckConstraint(
                condition=Q(min_year_built__isnull=True)
                | Q(max_year_built__isnull=True)
                | Q(min_year_built__lte=F("max_year_built")),
                name="buyer_year_range_ordered",
            ),
        ]

    def __str__(self):
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return name or self.company or self.email or f"Buyer {self.pk}"

    def clean(self):
        """The list fields hold short strings from their vocabularies (the API checks the same)."""
        from dealfinder.common.validators import validate_string_list  # imports admin forms: not at model load

        super().clean()
        errors = {}
        for name, choices in (
            ("tags", None),
            ("property_types", PropertyType.choices),
            ("target_zips", None),
            ("strategies", STRATEGIES),
        ):
            try:
                validate_string_list(getattr(self, name), choices=choices)
            except ValidationError as exc:
                errors[name] = exc.messages
        if "target_zips" not in errors and not all(ZIP.match(z) for z in self.target_zips):
            errors["target_zips"] = ["Zips are 5 digits, e.g. 32805."]
        if errors:
            raise ValidationError(errors)


class PropertyMatch(TimeStampedModel):
    # No single-column indexes on the keys: the unique pair (property, buyer) and the buyer's score index lead with
    # them, and each extra index slows the nightly upsert of hundreds of thousands of matches. A property's matches
    # are read through the unique pair (a property has a handful of matches: sorting them by score is free); a
    # (property, -score) index cost 12% of inserting the 207,772 matches of the 30,000-parcel benchmark copy.
    # No foreign-key constraints in the database either: a match is derived (every run rebuilds a buyer's matches
    # from the leads and the box), and the constraints' per-row checks doubled the insert of a first run (286,253
    # matches at 100,000 parcels: 6.5 s -> 3.2 s of database time). Deleting a property or buyer through Django
    # still deletes its matches (on_delete is Django's); a match whose property or buyer went some other way (or
    # during a run) is deleted by the next run (services.matches_refresh_all).
    property = models.ForeignKey(
        Property, on_delete=models.CASCADE, related_name="matches", db_index=False, db_constraint=False
    )
    buyer = models.ForeignKey(
        Buyer, on_delete=models.CASCADE, related_name="matches", db_index=False, db_constraint=False
    )
    # Not indexed: nothing lists or filters matches by creation (the admin and the dashboard order them by score or
    # id); every first run of a county inserts hundreds of thousands of matches.
    created_at = models.DateTimeField(auto_now_add=True)
    score = models.PositiveSmallIntegerField(default=0)
    reasons = models.JSONField(default=list, blank=True)
    contacted_at = models.DateTimeField(null=True, blank=True)
    sms_sent_at = models.DateTimeField("SMS sent", null=True, blank=True)
    workflow_triggered_at = models.DateTimeField(null=True, blank=True)
    task_created_at = models.DateTimeField(null=True, blank=True)
    fingerprint = models.CharField(
        max_length=32,
        blank=True,
        default="",
        editable=False,
        help_text="Hash of everything the score and reasons were computed from; unchanged inputs are not re-scored",
    )

    class Meta:
        verbose_name_plural = "property matches"
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["property", "buyer"], name="propertymatch_unique_pair"),
            score_range_check("score"),
        ]
        indexes = [
            models.Index(fields=["buyer", "-score"], name="match_buyer_score_idx"),
            # The admin changelist's default order (the first page reads 100 entries, not a sort of every match),
            # and its contacted / SMS-sent date filters (partial: only the few matches that have the date).
            models.Index(fields=["-score", "id"], name="match_score_id_idx"),
            models.Index(fields=["contacted_at"], name="match_contacted_idx", condition=Q(contacted_at__isnull=False)),
            models.Index(fields=["sms_sent_at"], name="match_sms_sent_idx", condition=Q(sms_sent_at__isnull=False)),
        ]

    def __str__(self):
        return f"{self.buyer} ~ {self.property} ({self.score})"


class MatchingProfile(TimeStampedModel):
    """Match weights and threshold, editable in admin; exactly one is active (defaults when none)."""

    name = models.CharField(max_length=100, unique=True)
    is_active = models.BooleanField(default=False)
    location_weight = models.PositiveSmallIntegerField(default=40)
    price_weight = models.PositiveSmallIntegerField(default=25)
    type_weight = models.PositiveSmallIntegerField(default=15)
    cash_weight = models.PositiveSmallIntegerField(default=10)
    proof_of_funds_weight = models.PositiveSmallIntegerField(default=10)
    threshold = models.PositiveSmallIntegerField(default=70, help_text="Matches scoring less are not kept")
    price_tolerance_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("10.00"),
        help_text="A price this far outside the buyer's range still earns half the price points",
    )
    max_matches_per_buyer = models.PositiveIntegerField(
        null=True,
        blank=True,
        default=200,
        help_text="Each buyer keeps only its best matches (score, then the lead's score); empty = no cap",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="matchingprofile_one_active"
            ),
            score_range_check("threshold"),
            models.CheckConstraint(
                condition=Q(price_tolerance_percent__gte=0, price_tolerance_percent__lte=100),
                name="matchingprofile_tolerance_range",
            ),
        ]

    def __str__(self):
        return f"{self.name}{' (active)' if self.is_active else ''}"


class DiscoveredBuyer(TimeStampedModel):
    """A cash buyer found in recorded purchases (buyers.discovery), refreshed by `manage.py discover_buyers`; linked
    to the Buyer it is (by name or GoHighLevel contact) or that "Create buyer" made from its buy box."""

    key = models.CharField(max_length=255, unique=True, help_text="The grantee's party key")
    name = models.CharField(max_length=500)
    kind = models.CharField(max_length=16)
    purchases = models.JSONField(default=list, blank=True, help_text="The purchases, as evidence")
    purchase_count = models.PositiveIntegerField(default=0, db_index=True)
    zips = models.JSONField(default=list, blank=True)
    min_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    max_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    property_types = models.JSONField(default=list, blank=True)
    style = models.CharField(max_length=16, help_text="flipper, holder or unknown")
    cash = models.BooleanField(null=True, help_text="Blank: the county publishes no mortgages")
    reasons = models.JSONField(default=list, blank=True)
    buy_box = models.JSONField(default=dict, blank=True, help_text="What Create buyer fills in")
    buyer = models.ForeignKey(Buyer, on_delete=models.SET_NULL, null=True, blank=True, related_name="discovered")

    class Meta:
        ordering = ["-purchase_count", "name"]

    def __str__(self):
        return self.name
