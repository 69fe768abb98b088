"""The parcel master and everything ingested about each parcel."""

from django.conf import settings
from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone

from dealfinder.common.models import RunRecord, TimeStampedModel
from properties.choices import ParcelFormat, PropertyType


class DataSource(TimeStampedModel):
    class Kind(models.TextChoices):
        ARCGIS = "arcgis", "ArcGIS REST layer"
        SOCRATA = "socrata", "Socrata dataset"
        CKAN = "ckan", "CKAN DataStore resource"
        FILE = "file", "File (CSV / JSON / GeoJSON)"

    class Dataset(models.TextChoices):
        PARCELS = "parcels", "Appraiser parcels"
        TAX_SALES = "tax_sales", "Tax-deed sales"
        FORECLOSURES = "foreclosures", "Foreclosures"
        CODE_VIOLATIONS = "code_violations", "Code violations"
        VALUATIONS = "valuations", "Valuations"
        TAX_DELINQUENCIES = "tax_delinquencies", "Tax delinquencies"
        LISTINGS = "listings", "Listings (MLS / Zillow / Realtor / CSV)"
        SALES = "sales", "Recorded sales (deeds)"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    dataset = models.CharField(max_length=32, choices=Dataset.choices)
    url = models.CharField(
        max_length=1000,
        help_text="Layer URL (…/FeatureServer/0), Socrata dataset URL, CKAN resource URL, or a file URL.",
    )
    where = models.CharField(
        max_length=1000,
        default="1=1",
        blank=True,
        help_text="Only these records: an ArcGIS where clause, a Socrata $where, a CKAN SQL condition",
    )
    field_mapping = models.JSONField(
        default=dict,
        blank=True,
        help_text='{"<target field>": "<source attribute>"} plus transforms; see README.',
    )
    parcel_format = models.CharField(
        max_length=16,
        choices=ParcelFormat.choices,
        default=ParcelFormat.CANONICAL,
        help_text="How parcel ids are normalized; for a source with stored parcels, change it with parcel_rekey",
    )
    county = models.CharField(max_length=64, blank=True)
    page_size = models.PositiveIntegerField(null=True, blank=True, help_text="Override the server's page size")
    enabled = models.BooleanField(default=False, db_index=True)
    incremental_field = models.CharField(
        max_length=100,
        blank=True,
        help_text="Socrata: pull only rows changed since the last successful run, by this field (:updated_at or a"
        " date column); blank = read everything every run",
    )
    notes = models.TextField(blank=True)
    # What the list costs, for the return per source (leads' KPIs): either or both, in dollars.
    cost_per_month = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, help_text="Subscription cost per month, if any"
    )
    cost_per_record = models.DecimalField(
        max_digits=10, decimal_places=4, null=True, blank=True, help_text="Cost per record bought, if any"
    )

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["dataset", "enabled"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(cost_per_month__gte=0) | Q(cost_per_month__isnull=True), name="datasource_cost_month_gte0"
            ),
            models.CheckConstraint(
                condition=Q(cost_per_record__gte=0) | Q(cost_per_record__isnull=True),
                name="datasource_cost_record_gte0",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        """http(s) URLs only, and in production no host resolving to a private address (SSRF)."""
        from dealfinder.common.validators import validate_source_url  # imports admin forms: not at model load

        super().clean()
        if self.url:
            try:
                validate_source_url(self.url)
            except ValidationError as exc:
                raise ValidationError({"url": exc.messages}) from None


class IngestionRun(RunRecord):
    COUNT_FIELDS = (
        "processed", "inserted", "updated", "unchanged", "failed", "stored", "unplaced", "duplicates", "pages",
        "pages_failed",
    )  # fmt: skip

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCESS = "success", "Success"
        PARTIAL = "partial", "Partial (some pages or rows failed)"
        FAILED = "failed", "Failed"

    # Indexed by (source, started_at) in Meta, as status by (status, ...): no index of their own.
    source = models.ForeignKey(
        DataSource, on_delete=models.CASCADE, related_name="runs", null=True, blank=True, db_index=False
    )
    source_label = models.CharField(max_length=200, blank=True, help_text="Source name or ad hoc URL")
    dataset = models.CharField(max_length=32, choices=DataSource.Dataset.choices, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    processed = models.PositiveIntegerField(default=0, help_text="Records in: every record read")
    inserted = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    stored = models.PositiveIntegerField(default=0, help_text="Records stored: inserted + updated + unchanged")
    unplaced = models.PositiveIntegerField(default=0, help_text="Stored records without a usable point")
    duplicates = models.PositiveIntegerField(
        default=0, help_text="Records skipped because an earlier record of the run had the same key"
    )
    pages = models.PositiveIntegerField(default=0)
    pages_failed = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(
        default=list, blank=True, help_text="First warnings (repeated keys, colliding parcel ids): record id and reason"
    )
    field_stats = models.JSONField(
        default=dict,
        blank=True,
        help_text='Per target field: {"filled", "blank", "sentinel", "bad", "examples"} over the records read',
    )
    schema = models.JSONField(default=dict, blank=True, help_text="The source's attributes and types at this run")
    schema_drift = models.JSONField(
        default=dict, blank=True, help_text="Attributes added, removed or retyped since the previous run"
    )
    incremental_since = models.DateTimeField(
        null=True, blank=True, help_text="Only records changed after this time were asked for (empty: everything)"
    )
    mapping_fingerprint = models.CharField(max_length=32, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life of the process running it (empty while queued)"
    )

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"
        indexes = [models.Index(fields=["source", "-started_at"]), models.Index(fields=["status", "-started_at"])]

    def __str__(self):
        return f"{self.source_label or self.source} @ {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class Owner(TimeStampedModel):
    """One person or company across its parcels: resolved from the parcels' owner names and mailing addresses by
    `properties.owner_services.owners_resolve` (rules in `properties/owners/`). The unit GoHighLevel calls a contact."""

    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", "Individual"
        JOINT = "joint", "Joint owners"
        COMPANY = "company", "Company"
        TRUST = "trust", "Trust"
        ESTATE = "estate", "Estate"
        GOVERNMENT = "government", "Public body"

    key = models.TextField(help_text="Name key @ mailing address key: the owner's identity while both hold")
    # digest (unique), kind and mailing state: indexed in Meta (see Property.parcel_id and Property.Meta.indexes)
    digest = models.CharField(max_length=32, editable=False, help_text="Hash of the key (upsert key)")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    display_name = models.CharField(max_length=255)
    canonical_name = models.CharField(max_length=255, blank=True)
    people = models.JSONField(default=list, blank=True, help_text="The people named: last, first, middle, suffix")
    entity = models.CharField(max_length=255, blank=True, help_text="Company, trust or public body name")
    mailing_street = models.CharField(max_length=200, blank=True)
    mailing_city = models.CharField(max_length=100, blank=True)
    mailing_state = models.CharField(max_length=32, blank=True)
    mailing_zip = models.CharField(max_length=10, blank=True)
    is_corporate = models.BooleanField(default=False, db_index=True)
    is_trust = models.BooleanField(default=False)
    is_estate = models.BooleanField(default=False, db_index=True, help_text="An estate, heirs or a deceased owner")
    is_government = models.BooleanField(default=False)
    is_bank = models.BooleanField(default=False)
    is_out_of_state = models.BooleanField(
        default=False, db_index=True, help_text="Mailing state differs from the state of one or more of its parcels"
    )
    name_forms = models.JSONField(default=list, blank=True, help_text="Every spelling seen, as received")
    explanation = models.JSONField(default=list, blank=True, help_text="Why these parcels are one owner")
    property_count = models.PositiveIntegerField(default=0)  # indexed descending in Meta, which serves both ways
    distressed_count = models.PositiveIntegerField(
        default=0, db_index=True, help_text="Parcels with an active tax sale, a foreclosure or an open violation"
    )

    class Meta:
        ordering = ["display_name", "pk"]
        constraints = [models.UniqueConstraint(fields=["digest"], name="owner_digest_unique")]
        indexes = [
            models.Index(fields=["kind"], name="owner_kind_idx"),
            models.Index(fields=["mailing_state"], name="owner_mailing_state_idx"),
            models.Index(fields=["-property_count"], name="owner_property_count_idx"),
            models.Index(fields=["canonical_name"], name="owner_canonical_idx"),  # the same name elsewhere
        ]

    def __str__(self):
        return self.display_name

    @property
    def mailing_address(self) -> str:
        tail = " ".join(p for p in (self.mailing_state, self.mailing_zip) if p)
        return ", ".join(p for p in (self.mailing_street, self.mailing_city, tail) if p)


class OwnerCorrection(models.Model):
    """A broker's correction to owner grouping (see `properties/owners/corrections.py`): never edited, newest wins,
    applied on every resolution so it survives re-ingest; stale once a parcel's owner name really changes."""

    class Kind(models.TextChoices):
        MERGE = "merge", "Merge: one owner"
        SPLIT = "split", "Split: different owners"
        ASSIGN = "assign", "Move parcel to the other's owner (or to an owner of its own)"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    record_id = models.CharField(max_length=64, help_text="Parcel id")
    name_key = models.CharField(max_length=255, editable=False, help_text="Its owner name's key when corrected")
    other_record_id = models.CharField(max_length=64, blank=True, help_text="The other parcel id (blank: own owner)")
    other_name_key = models.CharField(max_length=255, blank=True, editable=False)
    note = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, blank=True, editable=False, help_text="applied, stale or conflict")
    status_reason = models.CharField(max_length=255, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-pk"]

    def __str__(self):
        other = f" / {self.other_record_id}" if self.other_record_id else ""
        return f"#{self.pk} {self.kind} {self.record_id}{other}"


class Property(TimeStampedModel):
    """One row per parcel: the de-duplicated parcel master."""

    # Unique by a constraint in Meta, not unique=True, which on PostgreSQL adds a pattern-ops twin of the key for
    # LIKE 'prefix%' (as large as the key itself, written by every new parcel); the admin's search reads the trigram
    # and UPPER(parcel_id) indexes instead.
    parcel_id = models.CharField(max_length=64, help_text="Normalized parcel id")
    parcel_id_raw = models.CharField(max_length=64, blank=True, help_text="As the source wrote it")
    county = models.CharField(max_length=64, blank=True)  # county, state, zip, type: indexed in Meta
    address_raw = models.CharField(max_length=255, blank=True, help_text="Situs address as received")
    street = models.CharField(max_length=200, blank=True)
    unit = models.CharField(max_length=50, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    zip = models.CharField(max_length=10, blank=True)
    # Indexed with zip (property_address_zip_idx), which serves a lookup of the address alone too.
    address_normalized = models.CharField(max_length=255, blank=True, help_text="USPS Pub 28 form")
    location = models.PointField(srid=4326, null=True, blank=True, spatial_index=True)
    geocoded_at = models.DateTimeField(null=True, blank=True)
    owner_name = models.CharField(max_length=255, blank=True)
    owner_mailing_address = models.CharField(max_length=255, blank=True)
    owner = models.ForeignKey(
        Owner, on_delete=models.SET_NULL, null=True, blank=True, related_name="properties", help_text="Resolved owner"
    )
    # Indexed where true (property_absentee_idx); the false two thirds of a county are never looked up by index.
    is_absentee = models.BooleanField(default=False, help_text="Mailing address differs from situs")
    is_vacant = models.BooleanField(default=False, db_index=True)
    property_type = models.CharField(max_length=16, choices=PropertyType.choices, default=PropertyType.OTHER)
    beds = models.PositiveSmallIntegerField(null=True, blank=True)
    baths = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    living_sqft = models.PositiveIntegerField(null=True, blank=True)
    lot_sqft = models.PositiveIntegerField(null=True, blank=True)
    year_built = models.PositiveSmallIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True, help_text="Unticked = soft-deleted")  # property_active_type_idx
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="merged",
        help_text="Set when dedupe merged this duplicate into another property; its records land there",
    )
    content_hash = models.CharField(max_length=64, blank=True, editable=False)
    sources = models.ManyToManyField(DataSource, through="PropertySource", related_name="properties", blank=True)

    class Meta:
        verbose_name_plural = "properties"
        ordering = ["parcel_id"]
        # Owners' mailing addresses are for reaching owners (Acquisitions), not for every role that sees parcels.
        permissions = [("view_owner_mailing", "Can view owners' mailing addresses")]
        indexes = [
            # Equality filters (admin, API, comps by county). Declared here, not by db_index=True, which on PostgreSQL
            # adds a second, pattern-ops index to a text column for LIKE 'prefix%', and nothing asks that of these:
            # each extra index is written by every insert of a parcel and every update that cannot be HOT.
            models.Index(fields=["county"], name="property_county_idx"),
            models.Index(fields=["state"], name="property_state_idx"),
            models.Index(fields=["zip"], name="property_zip_idx"),
            models.Index(fields=["property_type"], name="property_type_idx"),
            models.Index(fields=["address_normalized", "zip"], name="property_address_zip_idx"),
            models.Index(fields=["is_active", "property_type"], name="property_active_type_idx"),
            # The admin search box's exact parcel id (`=parcel_id`: UPPER(parcel_id) = UPPER(term)); the
            # substring fields have a trigram index on PostgreSQL (migrations/0012).
            models.Index(Upper("parcel_id"), name="property_parcel_upper_idx"),
            # The absentee owners' parcels, for the map's absentee filter (a third of a county): read from this
            # small index, not from a scan of the whole table (at 1M the filter at county zoom 410-454 -> 288-312 ms).
            models.Index(fields=["id"], condition=Q(is_absentee=True), name="property_absentee_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["parcel_id"], name="property_parcel_id_unique"),
            models.CheckConstraint(
                condition=Q(year_built__isnull=True) | Q(year_built__gte=1700, year_built__lte=2100),
                name="property_year_built_plausible",
            ),
            models.CheckConstraint(condition=Q(baths__isnull=True) | Q(baths__gte=0), name="property_baths_nonneg"),
        ]

    def __str__(self):
        return f"{self.address_normalized or self.street or self.parcel_id} ({self.parcel_id})"

    @property
    def address(self) -> str:
        line = " ".join(p for p in (self.street, self.unit) if p)
        tail = " ".join(p for p in (self.state, self.zip) if p)
        return ", ".join(p for p in (line, self.city, tail) if p)


class OwnerInput(models.Model):
    """What owner resolution last read of an active parcel and the block it resolved in (properties.owner_services):
    a night resolves again only the blocks of what changed. Apart from the wide parcel table, whose many indexes
    every rewrite of its rows would pay for."""

    property = models.OneToOneField(Property, on_delete=models.CASCADE, related_name="owner_input")
    digest = models.CharField(max_length=32, help_text="Of the owner name, mailing address and state read")
    block = models.CharField(max_length=32, blank=True, help_text="Of its block; blank: no owner (name unknown)")


class PropertySource(models.Model):
    """Provenance: which source lists which parcel, under which record id.

    A full fetch stamps `last_seen_at` on every record it lists, once a day: the table's one nightly rewrite of all
    its rows. So it has no index of its own (nothing searches by it; a record's row is found by its key) and its
    pages keep room (fillfactor, migration 0015): the stamp is then a heap-only update, no index entry written. The
    keys have no single-column indexes either: the composite ones below lead with them.
    """

    property = models.ForeignKey(
        Property, on_delete=models.CASCADE, related_name="source_records", db_index=False
    )  # (property, source) index
    source = models.ForeignKey(
        DataSource, on_delete=models.CASCADE, related_name="property_records", db_index=False
    )  # the unique (source, external_id) and the (source, record_hash) index
    external_id = models.CharField(max_length=128)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    record_hash = models.CharField(
        max_length=32, blank=True, editable=False, help_text="The record as last received, so re-ingests skip it"
    )
    field_flags = models.CharField(
        max_length=100,
        blank=True,
        editable=False,
        help_text="How each mapped field (and the point) read last time, so a skipped record still counts in the "
        "run's field stats",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="propertysource_unique_source_record")
        ]
        indexes = [
            models.Index(fields=["property", "source"]),
            models.Index(fields=["source", "record_hash"], name="propertysource_record_hash_idx"),
        ]

    def __str__(self):
        return f"{self.source} #{self.external_id}"


class SourceRecord(TimeStampedModel):
    """Shared shape of everything ingested about a parcel from one source."""

    # Each record model is unique on (source, its key): that index serves the source alone too.
    source = models.ForeignKey(DataSource, on_delete=models.PROTECT, related_name="+", db_index=False)
    external_id = models.CharField(max_length=128, help_text="The record's id in its source")
    raw = models.JSONField(default=dict, blank=True)
    content_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        abstract = True


class TaxSale(SourceRecord):
    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="tax_sales")
    tda_number = models.CharField("TDA number", max_length=32, blank=True, db_index=True)
    sale_date = models.DateField(null=True, blank=True, db_index=True)
    deed_status = models.CharField(max_length=100, blank=True, db_index=True)
    opening_bid = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    source_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-sale_date"]
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="taxsale_unique_source_record")]

    def __str__(self):
        return f"TDA {self.tda_number or self.external_id}"


class Foreclosure(SourceRecord):
    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="foreclosures")
    case_number = models.CharField(max_length=64, blank=True, db_index=True)
    borrower = models.CharField(max_length=255, blank=True)
    lender = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=64, blank=True, db_index=True)
    default_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    opening_bid = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    filing_date = models.DateField(null=True, blank=True, db_index=True)
    auction_date = models.DateField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-filing_date"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="foreclosure_unique_source_record")
        ]

    def __str__(self):
        return f"Foreclosure {self.case_number or self.external_id}"


class Valuation(SourceRecord):
    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="valuations")
    tax_year = models.PositiveSmallIntegerField(null=True, blank=True)
    market_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    assessed_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    taxable_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    annual_taxes = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    last_sale_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    last_sale_date = models.DateField(null=True, blank=True)
    equity_percent = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True, help_text="Derived at ingest"
    )
    tax_rate = models.DecimalField(
        max_digits=7, decimal_places=5, null=True, blank=True, help_text="annual taxes / taxable value"
    )
    tax_delinquent = models.BooleanField(default=False, db_index=True)
    delinquent_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["-tax_year"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="valuation_unique_source_record"),
            models.CheckConstraint(
                condition=Q(market_value__isnull=True) | Q(market_value__gte=0), name="valuation_market_nonneg"
            ),
        ]

    def __str__(self):
        return f"Valuation {self.tax_year or ''} {self.market_value or ''}".strip()


class TaxDelinquency(SourceRecord):
    """Taxes owed on a parcel: a standing distress record. It counts until its source says it is paid, abated,
    cancelled or closed (is_open False), or until its source stops listing it (the scoring profile's rule)."""

    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="tax_delinquencies")
    tax_year = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The year the taxes are owed for")
    amount_owed = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    status = models.CharField(max_length=64, blank=True, help_text="As the source wrote it")
    delinquent_since = models.DateField(null=True, blank=True)
    resolved_at = models.DateField(null=True, blank=True, help_text="When the source says it was paid or closed")
    is_open = models.BooleanField(default=True, db_index=True, help_text="Still owed, as far as the source says")

    class Meta:
        verbose_name_plural = "tax delinquencies"
        ordering = ["-tax_year"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="taxdelinquency_unique_source_record")
        ]

    def __str__(self):
        return f"Taxes owed {self.tax_year or ''} {self.amount_owed or ''}".strip()


class CodeViolation(SourceRecord):
    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="code_violations")
    case_number = models.CharField(max_length=64)
    violation_type = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=64, blank=True, db_index=True)
    opened_at = models.DateField(null=True, blank=True, db_index=True)
    closed_at = models.DateField(null=True, blank=True)
    location = models.PointField(srid=4326, null=True, blank=True, spatial_index=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "case_number"], name="codeviolation_unique_source_case"),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(opened_at__isnull=True) | Q(closed_at__gte=F("opened_at")),
                name="codeviolation_closed_after_opened",
            ),
        ]

    def __str__(self):
        return f"Case {self.case_number}"


class Listing(SourceRecord):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PENDING = "pending", "Pending"
        SOLD = "sold", "Sold"
        OFF_MARKET = "off_market", "Off market"

    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="listings")
    list_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    days_on_market = models.PositiveIntegerField(null=True, blank=True)
    listed_at = models.DateField(null=True, blank=True)
    url = models.URLField(max_length=500, blank=True)

    class Meta:
        ordering = ["-listed_at"]
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="listing_unique_source_record")]

    def __str__(self):
        return f"Listing {self.external_id} {self.list_price or ''}".strip()


class Sale(SourceRecord):
    """A recorded transfer of one parcel: one row per (document, parcel), so a deed over three parcels is three
    rows sharing `document_id`. The arms-length flags (properties.sales_rules) are derived after each ingest
    (sale_assess_source) and stored beside the raw deed type, so comps and buyer discovery filter on columns."""

    # sale_property_date_idx (property, sale_date) serves the property alone too.
    property = models.ForeignKey(Property, on_delete=models.CASCADE, related_name="sales", db_index=False)
    document_id = models.CharField(max_length=64, db_index=True, help_text="The recorder's document number")
    sale_date = models.DateField(null=True, blank=True, db_index=True, help_text="Deed (contract) date")
    recording_date = models.DateField(null=True, blank=True)
    sale_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    deed_type = models.CharField(max_length=100, blank=True, help_text="As the recorder wrote it")
    grantor = models.CharField(max_length=500, blank=True, help_text="Seller(s), as recorded")
    grantee = models.CharField(max_length=500, blank=True, help_text="Buyer(s), as recorded")
    mortgage_amount = models.DecimalField(
        max_digits=14, decimal_places=2, null=True, blank=True, help_text="Blank: the county publishes none"
    )
    # Derived by sales_rules (never mapped): what kind of deed, and why the sale is or is not arms-length.
    deed_kind = models.CharField(max_length=16, blank=True, db_index=True)
    parcel_count = models.PositiveSmallIntegerField(default=1, help_text="Parcels on the same document")
    is_arms_length = models.BooleanField(default=False)
    is_distressed = models.BooleanField(default=False)
    is_purchase = models.BooleanField(default=False)
    flags = models.JSONField(default=list, blank=True, help_text="[{code, reason}] from the arms-length rules")
    rules_hash = models.CharField(max_length=32, blank=True, editable=False)

    class Meta:
        ordering = ["-sale_date", "-id"]
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="sale_unique_source_record")]
        indexes = [
            models.Index(fields=["is_arms_length", "is_distressed", "sale_date"], name="sale_market_date_idx"),
            models.Index(fields=["property", "sale_date"], name="sale_property_date_idx"),
        ]

    def __str__(self):
        return f"Sale {self.document_id} {self.sale_date or ''}".strip()


class PriceChange(models.Model):
    # Unique per (listing, time): that index serves the listing alone too.
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="price_changes", db_index=False)
    old_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    new_price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    changed_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-changed_at"]
        constraints = [models.UniqueConstraint(fields=["listing", "changed_at"], name="pricechange_unique_per_time")]

    def __str__(self):
        return f"{self.old_price} -> {self.new_price}"

    @property
    def is_reduction(self) -> bool:
        return self.old_price is not None and self.new_price is not None and self.new_price < self.old_price


class GeocodeCache(models.Model):
    """One answer per normalized address, so an address is never geocoded twice."""

    address_key = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=16, help_text="Match, No_Match or Tie")
    location = models.PointField(srid=4326, null=True, blank=True)
    matched_address = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.address_key}: {self.status}"


class QualityReport(models.Model):
    """The nightly data-quality check's findings."""

    class Status(models.TextChoices):
        OK = "ok", "OK"
        WARNING = "warning", "Warnings"
        ERROR = "error", "Errors"

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OK, db_index=True)
    counts = models.JSONField(default=dict, blank=True, help_text="Row counts per table")
    findings = models.JSONField(default=list, blank=True, help_text="[{check, severity, count, message, sample}]")
    warnings = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        get_latest_by = "created_at"

    def __str__(self):
        return f"Quality {self.created_at:%Y-%m-%d %H:%M}: {self.status}"
