"""Read-only models over the reporting views (managed = False: the views are created by sql.py, not by Django).

A field per view column, named as the column (tests/dealfinder/test_reports.py holds them equal). Each model names
the permissions a user needs to read it: those of the data underneath, so a role sees a report exactly when it may
see what the report is made of.
"""

from django.db import models

from leads.choices import LeadStatus
from leads.models import TIER_CHOICES


class ReportModel(models.Model):
    # Permissions on the underlying models a user must hold to read the view (admin and API).
    required_permissions: tuple[str, ...] = ()
    # The view's date column the API filters with `since` / `until` (None: the view has none).
    date_field: str | None = None

    class Meta:
        abstract = True


class AddressColumns(models.Model):
    parcel_id = models.CharField(max_length=64)
    address = models.CharField(max_length=300)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=2)
    zip = models.CharField(max_length=10)

    class Meta:
        abstract = True


class HotDeal(ReportModel, AddressColumns):
    required_permissions = ("leads.view_lead",)
    date_field = "scored_at"

    lead_id = models.BigIntegerField(primary_key=True)
    property_id = models.BigIntegerField()
    tier = models.CharField(max_length=1, choices=TIER_CHOICES)
    score = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=20, choices=LeadStatus.choices)
    stack_count = models.PositiveSmallIntegerField()
    reasons_summary = models.TextField()
    arv = models.DecimalField("ARV", max_digits=14, decimal_places=2, null=True)
    repair_estimate = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    mao = models.DecimalField("MAO", max_digits=14, decimal_places=2, null=True)
    match_count = models.PositiveIntegerField()
    assigned_to_id = models.IntegerField(null=True)
    scored_at = models.DateTimeField(null=True)
    updated_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "vw_hot_deals"
        ordering = ["-score", "lead_id"]
        verbose_name = "hot deal (report)"

    def __str__(self):
        return f"{self.address or self.parcel_id} [{self.tier} {self.score}]"


class UnsyncedProperty(ReportModel, AddressColumns):
    # What the sync has or has not recorded is the sync's data (its links), about leads.
    required_permissions = ("leads.view_lead", "sync.view_externallink")
    date_field = "changed_at"

    lead_id = models.BigIntegerField(primary_key=True)
    property_id = models.BigIntegerField()
    tier = models.CharField(max_length=1, choices=TIER_CHOICES)
    score = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=20, choices=LeadStatus.choices)
    changed_at = models.DateTimeField(help_text="The later of the lead's and its property's last change")
    ghl_contact_id = models.CharField("GoHighLevel contact id", max_length=64, null=True)
    last_synced_at = models.DateTimeField(null=True)
    reason = models.CharField(
        max_length=32, choices=[("never_synced", "Never synced"), ("changed_since_sync", "Changed since last sync")]
    )

    class Meta:
        managed = False
        db_table = "vw_unsynced_properties"
        ordering = ["-score", "lead_id"]
        verbose_name = "unsynced property (report)"
        verbose_name_plural = "unsynced properties (report)"

    def __str__(self):
        return f"{self.address or self.parcel_id} ({self.reason})"


class ActiveBuyer(ReportModel):
    required_permissions = ("buyers.view_buyer",)
    date_field = "last_matched_at"

    buyer_id = models.BigIntegerField(primary_key=True)
    name = models.CharField(max_length=201)
    company = models.CharField(max_length=200)
    email = models.CharField(max_length=254)
    phone = models.CharField(max_length=32)
    source = models.CharField(max_length=16)
    cash_buyer = models.BooleanField()
    proof_of_funds = models.BooleanField()
    min_price = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    max_price = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    property_types = models.TextField(help_text="Comma-separated")
    strategies = models.TextField(help_text="Comma-separated")
    min_beds = models.PositiveSmallIntegerField(null=True)
    min_baths = models.DecimalField(max_digits=4, decimal_places=1, null=True)
    min_year_built = models.PositiveSmallIntegerField(null=True)
    max_year_built = models.PositiveSmallIntegerField(null=True)
    target_zips = models.TextField(help_text="Comma-separated")
    has_target_area = models.BooleanField()
    radius_miles = models.DecimalField(max_digits=6, decimal_places=2, null=True)
    match_count = models.PositiveIntegerField()
    best_match_score = models.PositiveSmallIntegerField(null=True)
    last_matched_at = models.DateTimeField(null=True)

    class Meta:
        managed = False
        db_table = "vw_active_buyers"
        ordering = ["-match_count", "buyer_id"]
        verbose_name = "active buyer (report)"

    def __str__(self):
        return self.name or self.company or self.email or f"Buyer {self.buyer_id}"


class RecentMatch(ReportModel, AddressColumns):
    required_permissions = ("buyers.view_propertymatch", "leads.view_lead")
    date_field = "matched_at"

    match_id = models.BigIntegerField(primary_key=True)
    matched_at = models.DateTimeField()
    score = models.PositiveSmallIntegerField()
    reasons_summary = models.TextField()
    property_id = models.BigIntegerField()
    lead_id = models.BigIntegerField(null=True)
    lead_tier = models.CharField(max_length=1, null=True)
    lead_score = models.PositiveSmallIntegerField(null=True)
    lead_status = models.CharField(max_length=20, null=True)
    buyer_id = models.BigIntegerField()
    buyer_name = models.CharField(max_length=201)
    buyer_company = models.CharField(max_length=200)
    sms_sent_at = models.DateTimeField(null=True)
    workflow_triggered_at = models.DateTimeField(null=True)
    task_created_at = models.DateTimeField(null=True)

    class Meta:
        managed = False
        db_table = "vw_recent_matches"
        ordering = ["-matched_at", "-match_id"]
        verbose_name = "recent match (report)"
        verbose_name_plural = "recent matches (report)"

    def __str__(self):
        return f"{self.buyer_name} ~ {self.address or self.parcel_id} ({self.score})"


class SyncStatistic(ReportModel):
    required_permissions = ("sync.view_synclog",)
    date_field = "day"

    id = models.CharField(max_length=48, primary_key=True, help_text="day:sync_type")
    day = models.DateField(help_text="UTC day the runs started")
    sync_type = models.CharField(max_length=16)
    runs = models.PositiveIntegerField()
    failed_runs = models.PositiveIntegerField()
    processed = models.PositiveIntegerField()
    succeeded = models.PositiveIntegerField()
    failed = models.PositiveIntegerField()
    skipped = models.PositiveIntegerField()
    seconds = models.FloatField()

    class Meta:
        managed = False
        db_table = "vw_sync_statistics"
        ordering = ["-day", "sync_type"]
        verbose_name = "sync statistic (report)"

    def __str__(self):
        return f"{self.day} {self.sync_type}: {self.runs} runs"


# URL name (GET /api/v1/reports/<name>/) -> model
REPORTS: dict[str, type[ReportModel]] = {
    "hot_deals": HotDeal,
    "unsynced_properties": UnsyncedProperty,
    "active_buyers": ActiveBuyer,
    "recent_matches": RecentMatch,
    "sync_statistics": SyncStatistic,
}
