"""The CRM record for a property: score, status, deal numbers, history, alerts."""

from dataclasses import fields
from decimal import Decimal

from django.conf import settings
from django.contrib.gis.db import models as gis_models
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from dealfinder.common.models import TimeStampedModel, score_range_check
from leads.choices import OUTCOME_STATUSES, TIERS, LeadStatus, tier_check
from leads.deals import DealParams
from leads.scoring import ScoringParams, parameter_errors
from properties.models import Property, QualityReport

TIER_CHOICES = [(t, f"Tier {t}") for t in TIERS]
SCORE_FIELDS = ("distress", "value", "location_score", "urgency", "total")
SIGNALS_HELP = "The signals the score awarded points for, as the scoring profile names them, space-separated"


class Lead(TimeStampedModel):
    Status = LeadStatus

    property = models.OneToOneField(Property, on_delete=models.CASCADE, related_name="lead")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)  # lead_status_total_idx
    updated_at = models.DateTimeField(auto_now=True)  # indexed with id: lead_updated_id_idx
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="leads"
    )
    next_action_at = models.DateTimeField(null=True, blank=True, db_index=True)
    notes = models.TextField(blank=True)

    distress = models.PositiveSmallIntegerField(default=0)
    value = models.PositiveSmallIntegerField(default=0)
    location_score = models.PositiveSmallIntegerField("location", default=0)
    urgency = models.PositiveSmallIntegerField(default=0)
    total = models.PositiveSmallIntegerField("score", default=0)
    tier = models.CharField(max_length=1, choices=TIER_CHOICES, default="D")
    reasons = models.JSONField(default=list, blank=True, help_text="One sentence per awarded point")
    stack_count = models.PositiveSmallIntegerField(default=0, help_text="Distinct distress signals")
    signals = models.CharField(max_length=500, blank=True, default="", help_text=SIGNALS_HELP)
    scored_at = models.DateTimeField(null=True, blank=True)

    arv = models.DecimalField("ARV", max_digits=14, decimal_places=2, null=True, blank=True)
    repair_estimate = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    mao = models.DecimalField("MAO", max_digits=14, decimal_places=2, null=True, blank=True)
    # Comps from recorded sales (leads.comps), refreshed nightly; the deal numbers take comps_arv before the
    # appraiser's value.
    comps_arv = models.DecimalField(
        "ARV from comps", max_digits=14, decimal_places=2, null=True, blank=True, editable=False
    )
    comps_low = models.DecimalField(
        "ARV band low", max_digits=14, decimal_places=2, null=True, blank=True, editable=False
    )
    comps_high = models.DecimalField(
        "ARV band high", max_digits=14, decimal_places=2, null=True, blank=True, editable=False
    )
    comps_confidence = models.CharField(
        max_length=8, blank=True, db_default="", editable=False, help_text="high, medium, low, none"
    )
    comps_count = models.PositiveSmallIntegerField(default=0, db_default=0, editable=False)
    comps_sale_ids = models.JSONField(
        default=list, db_default=[], blank=True, editable=False, help_text="The comps' Sale ids, closest first"
    )
    comps_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-total", "id"]
        indexes = [
            models.Index(fields=["-total", "id"], name="lead_total_idx"),
            # The API's score orderings walk (total, id) both ways: (-total, -id) read backward, with no sort.
            models.Index(fields=["total", "id"], name="lead_total_id_idx"),
            # A filter on tier, status or stack count in the lead order (the admin changelist's sidebar): the rows
            # of one value already in (-total, id) order. With a filter on only lead_total_idx the planner walks
            # the score order and skips the rows of other values: 21,000 of them for stack count 0 at 100k leads
            # (every signal-less lead scores low), ten times that at 1M.
            models.Index(fields=["tier", "-total", "id"], name="lead_tier_total_idx"),
            models.Index(fields=["status", "-total", "id"], name="lead_status_total_idx"),
            models.Index(fields=["stack_count", "-total", "id"], name="lead_stack_total_idx"),
            # Keyset pages order by (column, id): with id in the index, many equal values (a few stack counts, one
            # updated_at for every lead a rescore wrote) are read in order instead of sorted.
            models.Index(fields=["stack_count", "id"], name="lead_stack_id_idx"),
            models.Index(fields=["updated_at", "id"], name="lead_updated_id_idx"),
            models.Index(fields=["mao"], name="lead_mao_idx"),
        ]
        constraints = [
            *(score_range_check(f) for f in SCORE_FIELDS),
            tier_check(),
        ]

    def __str__(self):
        return f"Lead {self.property} [{self.tier} {self.total}]"


class LeadScoreHistory(models.Model):
    """One snapshot per lead per day; re-scoring the same day updates it."""

    # A snapshot a day per lead (a hundred thousand rows a night at 100,000 leads): the unique (lead, day) and
    # (day, tier) indexes serve the lead alone and the day alone too, so neither has another index to write.
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="history", db_index=False)
    snapshot_date = models.DateField()
    distress = models.PositiveSmallIntegerField(default=0)
    value = models.PositiveSmallIntegerField(default=0)
    location_score = models.PositiveSmallIntegerField(default=0)
    urgency = models.PositiveSmallIntegerField(default=0)
    total = models.PositiveSmallIntegerField(default=0)
    tier = models.CharField(max_length=1, choices=TIER_CHOICES, default="D")
    stack_count = models.PositiveSmallIntegerField(default=0)
    # What the backtest reads: the signals the lead had on that day (rebuilding them later would leak).
    signals = models.CharField(max_length=500, blank=True, default="", help_text=SIGNALS_HELP)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "lead score history"
        ordering = ["-snapshot_date"]
        get_latest_by = "snapshot_date"
        constraints = [
            models.UniqueConstraint(fields=["lead", "snapshot_date"], name="leadscorehistory_unique_per_day"),
            *(score_range_check(f) for f in SCORE_FIELDS),
            tier_check(),
        ]
        indexes = [models.Index(fields=["snapshot_date", "tier"], name="history_date_tier_idx")]

    def __str__(self):
        return f"{self.lead_id} {self.snapshot_date}: {self.tier} {self.total}"


class LeadTierDay(models.Model):
    """How many leads each tier held in one day's score history: the dashboard's tier trend without a scan of
    the history (a row per lead per day). Kept by the writes that change the history (leads.tier_days)."""

    snapshot_date = models.DateField()
    tier = models.CharField(max_length=1, choices=TIER_CHOICES)
    leads = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["snapshot_date", "tier"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot_date", "tier"], name="leadtierday_unique"),
            tier_check(),
        ]

    def __str__(self):
        return f"{self.snapshot_date} {self.tier}: {self.leads}"


class ScoringProfile(TimeStampedModel):
    """Weights, tier thresholds and rule parameters; exactly one is active."""

    name = models.CharField(max_length=100, unique=True)
    is_active = models.BooleanField(default=False)
    distress_cap = models.PositiveSmallIntegerField(default=40)
    value_cap = models.PositiveSmallIntegerField(default=30)
    location_cap = models.PositiveSmallIntegerField(default=15)
    urgency_cap = models.PositiveSmallIntegerField(default=15)
    tier_a_min = models.PositiveSmallIntegerField(default=75)
    tier_b_min = models.PositiveSmallIntegerField(default=60)
    tier_c_min = models.PositiveSmallIntegerField(default=40)
    arv_percent = models.DecimalField("MAO % of ARV", max_digits=5, decimal_places=2, default=Decimal("70.00"))
    assignment_fee = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("10000.00"))
    parameters = models.JSONField(default=dict, blank=True, help_text="Rule parameters (points, windows, repair costs)")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="scoringprofile_one_active"
            ),
            models.CheckConstraint(
                condition=Q(tier_a_min__gt=F("tier_b_min"), tier_b_min__gt=F("tier_c_min")),
                name="scoringprofile_tiers_ordered",
            ),
            models.CheckConstraint(
                condition=Q(arv_percent__gt=0, arv_percent__lte=100), name="scoringprofile_arv_percent_range"
            ),
            score_range_check("tier_a_min"),
        ]

    def __str__(self):
        return f"{self.name}{' (active)' if self.is_active else ''}"

    def clean(self):
        super().clean()
        columns = {f.name for f in self._meta.concrete_fields}
        defaults = {
            f.name: f.default for params in (ScoringParams, DealParams) for f in fields(params) if f.name not in columns
        }
        errors = parameter_errors(self.parameters, defaults=defaults)
        if errors:
            raise ValidationError({"parameters": [f"{key}: {why}" for key, why in errors.items()]})


class Outcome(models.Model):
    """How a lead ended (or reached a contract): the ground truth the backtest checks the score against.

    Recorded whenever a lead's status becomes under contract, closed (won) or dead, from any door (admin, API,
    GoHighLevel opportunity won/lost); the fee and the reason are optional and can be filled in later. One row
    per lead, kind and day, so a replayed webhook or a repeated status change records nothing twice."""

    class Kind(models.TextChoices):  # the lead statuses that are outcomes (leads.choices.OUTCOME_STATUSES)
        UNDER_CONTRACT = LeadStatus.UNDER_CONTRACT.value, LeadStatus.UNDER_CONTRACT.label
        CLOSED_WON = LeadStatus.CLOSED_WON.value, LeadStatus.CLOSED_WON.label
        DEAD = LeadStatus.DEAD.value, LeadStatus.DEAD.label

    class Reason(models.TextChoices):
        NO_ANSWER = "no_answer", "No answer"
        NOT_MOTIVATED = "not_motivated", "Not motivated"
        PRICE = "price", "Price (could not agree)"
        LISTED = "listed", "Listed with an agent"
        SOLD_ELSEWHERE = "sold_elsewhere", "Sold elsewhere"
        REDEEMED = "redeemed", "Redeemed / caught up"
        BAD_DATA = "bad_data", "Bad data (wrong owner, no such property)"
        OTHER = "other", "Other"

    class Source(models.TextChoices):
        ADMIN = "admin", "Admin"
        API = "api", "API"
        GHL = "ghl", "GoHighLevel"
        IMPORT = "import", "Import"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="outcomes", db_index=False)  # see Meta
    kind = models.CharField(max_length=20, choices=Kind.choices, db_index=True)
    occurred_on = models.DateField(help_text="The day it happened (the broker's time zone)")
    contract_date = models.DateField(
        null=True, blank=True, help_text="When the contract was signed, if earlier than this outcome"
    )
    fee = models.DecimalField(
        "fee or profit", max_digits=12, decimal_places=2, null=True, blank=True, help_text="Won deals"
    )
    reason = models.CharField(max_length=20, choices=Reason.choices, blank=True, help_text="Dead leads")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.ADMIN)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurred_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["lead", "kind", "occurred_on"], name="outcome_once_per_lead_kind_day"),
            models.CheckConstraint(
                condition=Q(kind__in=[s.value for s in OUTCOME_STATUSES]), name="outcome_kind_valid"
            ),
            models.CheckConstraint(condition=Q(fee__isnull=True) | Q(fee__gte=0), name="outcome_fee_gte0"),
            models.CheckConstraint(
                condition=Q(contract_date__isnull=True) | Q(contract_date__lte=F("occurred_on")),
                name="outcome_contract_not_after",
            ),
        ]
        indexes = [models.Index(fields=["occurred_on", "kind"], name="outcome_date_kind_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.occurred_on} (lead {self.lead_id})"

    def clean(self):
        super().clean()
        if self.fee is not None and self.kind != LeadStatus.CLOSED_WON:
            raise ValidationError({"fee": "Only a closed (won) deal has a fee."})
        if self.reason and self.kind != LeadStatus.DEAD:
            raise ValidationError({"reason": "Only a dead lead has a reason."})


class BacktestRun(models.Model):
    """One backtest of the score against the outcomes (leads.backtest), kept with its JSON document so the
    admin page and the API show it without running again; its proposed profile can be activated from it."""

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    since = models.DateField(null=True, blank=True, help_text="Only outcomes on or after this day")
    profile = models.ForeignKey(
        ScoringProfile, on_delete=models.SET_NULL, null=True, related_name="+", help_text="The active profile tested"
    )
    outcomes = models.PositiveIntegerField(default=0)
    active_auc = models.FloatField(null=True, blank=True)
    proposed_auc = models.FloatField(null=True, blank=True)
    document = models.JSONField(default=dict, help_text="The `backtest --json` document")
    seconds = models.FloatField(default=0)
    activated_profile = models.ForeignKey(
        ScoringProfile, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Backtest #{self.pk} of {self.created_at:%Y-%m-%d %H:%M} ({self.outcomes} outcomes)"

    @property
    def fitted(self) -> bool:
        return (self.document.get("proposal") or {}).get("status") == "fitted"


class Activity(models.Model):
    """The lead's timeline: notes, calls, texts, status changes, syncs."""

    class Kind(models.TextChoices):
        NOTE = "note", "Note"
        CALL = "call", "Call"
        SMS = "sms", "SMS"
        EMAIL = "email", "Email"
        STATUS_CHANGE = "status_change", "Status change"
        ASSIGNMENT = "assignment", "Assignment"
        SYNC = "sync", "Sync"
        TASK = "task", "Task"
        SYSTEM = "system", "System"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="activities", db_index=False)  # see Meta
    kind = models.CharField(max_length=20, choices=Kind.choices, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    from_value = models.CharField(max_length=200, blank=True)
    to_value = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name_plural = "activities"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["lead", "-created_at"], name="activity_lead_time_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} on lead {self.lead_id}"


class Alert(models.Model):
    """One lead announced on one channel for one entry into a tier (never twice), or one
    quality report's errors announced on one channel."""

    class Channel(models.TextChoices):
        SLACK = "slack", "Slack"
        EMAIL = "email", "Email"

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    class Kind(models.TextChoices):
        NEW_TIER_A = "new_tier_a", "New Tier A lead"
        QUALITY_ERRORS = "quality_errors", "Data-quality errors"

    # Each is the first column of a unique constraint below, whose index serves it alone.
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="alerts", null=True, blank=True, db_index=False
    )
    quality_report = models.ForeignKey(
        QualityReport, on_delete=models.CASCADE, related_name="+", null=True, blank=True, db_index=False
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.NEW_TIER_A)
    entered_on = models.DateField(help_text="The day the lead entered the tier this alert is about")
    batch = models.UUIDField(db_index=True, help_text="Alerts sent in the same message share a batch")
    status = models.CharField(max_length=16, choices=Status.choices, db_index=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["lead", "channel", "kind", "entered_on"], name="alert_once_per_entry"),
            models.UniqueConstraint(fields=["quality_report", "channel"], name="alert_once_per_quality_report"),
            models.CheckConstraint(
                condition=Q(lead__isnull=False, quality_report__isnull=True)
                | Q(lead__isnull=True, quality_report__isnull=False),
                name="alert_about_lead_or_quality_report",
            ),
        ]

    def __str__(self):
        about = f"lead {self.lead_id}" if self.lead_id else f"quality report {self.quality_report_id}"
        return f"{self.kind} {self.channel} {about} ({self.status})"


class MapPoint(models.Model):
    """The map index: one narrow row per lead with a point, ordered by location on disk (PostGIS).

    Rebuilt by leads.grid.map_grid_refresh (after scoring). It carries every value a map filter reads
    (leads.grid.INDEX_FILTERS), so a filtered county view aggregates this narrow table instead of
    joining the wide lead and property tables: tier and score move cells (leads.grid.map_grid_update);
    the others are copies kept exact by their writers through leads.grid.map_points_sync (status and
    assignment changes, comps) and map_points_sync_matches (buyer matches). The map reads a lead's
    details from Lead itself.
    """

    lead = models.OneToOneField(
        Lead, on_delete=models.DO_NOTHING, primary_key=True, db_constraint=False, related_name="+"
    )
    location = gis_models.PointField(srid=4326, spatial_index=True)
    # The point's coordinates as plain floats: cells and centroids without a geometry function per row.
    lon = models.FloatField(default=0)
    lat = models.FloatField(default=0)
    tier = models.CharField(max_length=1)
    total = models.PositiveSmallIntegerField()
    # Copies of the lead's filterable values (see the docstring for who keeps them).
    property_id = models.BigIntegerField(null=True)
    status = models.CharField(max_length=20, blank=True, default="")
    stack_count = models.PositiveSmallIntegerField(default=0)
    arv = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    mao = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    assigned_to_id = models.IntegerField(null=True)
    has_matches = models.BooleanField(default=False)

    def __str__(self):
        return f"map point of lead {self.lead_id}"


class MapGridCell(models.Model):
    """Leads per map grid cell and tier, for every level 0..12 (cell = 90 / 2**level degrees).

    A level-L cell index is floor(floor(coord / cell12) / 2**(12 - L)), so cells nest exactly and
    the map endpoint reads at most 48 x 48 x 4 rows whatever the number of leads.
    """

    level = models.PositiveSmallIntegerField()
    cx = models.IntegerField()
    cy = models.IntegerField()
    tier = models.CharField(max_length=1)
    n = models.PositiveIntegerField()
    sum_lon = models.FloatField()
    sum_lat = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["level", "cx", "cy", "tier"], name="mapgridcell_unique")]

    def __str__(self):
        return f"level {self.level} cell ({self.cx}, {self.cy}) tier {self.tier}: {self.n}"


class MapPending(models.Model):
    """Leads whose status or assignee changed while the map index was being rebuilt: their points are copied
    when the rebuild ends (or by the next sync); until then the index is not fresh and the map reads live."""

    lead_id = models.BigIntegerField(primary_key=True)

    def __str__(self):
        return f"map point of lead {self.lead_id} pending"


class MapGridState(models.Model):
    """When the map index was built and the highest lead id it had (a newer lead makes it stale)."""

    built_at = models.DateTimeField()
    max_lead_id = models.BigIntegerField(null=True)
    points = models.PositiveIntegerField(default=0)
    cells = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)

    def __str__(self):
        return f"map index built {self.built_at:%Y-%m-%d %H:%M} ({self.points} points)"


class CompsMemo(models.Model):
    """What the last comps run of a county (or another memo key) saw, so the next one searches again only the
    subjects something changed for (leads.comps_memo; PostgreSQL + PostGIS). Its rows are a cache: deleting them
    makes the next run a full one."""

    key = models.CharField(max_length=100, primary_key=True)  # the county
    as_of = models.DateField()
    params = models.JSONField()  # the CompParams the run used: other parameters make the next run a full one
    trend = models.JSONField(default=dict)  # the county trend, {month number: value as text}: what moved is redone
    full_on = models.DateField()  # the as-of date of the last full run (a full run at least weekly)

    def __str__(self):
        return f"comps of {self.key} as of {self.as_of}"


class CompsMemoSubject(models.Model):
    """A subject (lead) as the last run searched its comps: md5 of its inputs, the tier its comps came from and
    its kept comps' sale ids, closest first."""

    key = models.CharField(max_length=100)
    lead_id = models.BigIntegerField()
    inputs = models.CharField(max_length=32)
    tier = models.SmallIntegerField(null=True)  # None: no comps (the widest tier)
    kept = models.JSONField(default=list)  # sale ids

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "lead_id"], name="compsmemosubject_unique")]

    def __str__(self):
        return f"comps memo of lead {self.lead_id}"


class CompsMemoSale(models.Model):
    """A market sale the last run could use as a comp: md5 of what the rules read of it (place, type, size, price,
    date, parcel) and its date."""

    key = models.CharField(max_length=100)
    sale_id = models.BigIntegerField()
    inputs = models.CharField(max_length=32)
    sale_date = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "sale_id"], name="compsmemosale_unique")]

    def __str__(self):
        return f"comps memo of sale {self.sale_id}"
