import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import JSONField
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from dealfinder.common.admin import CountedRecordsAdmin, LargeChangelistAdmin, ReadOnlyAdmin, admin_link
from dealfinder.common.admin_counts import BoundedCountPaginator
from dealfinder.common.admin_filters import IndexedRelatedOnlyFieldListFilter
from dealfinder.common.json_limits import JSON_FORMFIELD_OVERRIDES
from dealfinder.common.queue import QueueUnavailable

from .assignees import ASSIGNEE_REFUSED, lead_assignees
from .backtest_runs import BacktestError, backtest_proposal_activate, backtest_run_create
from .backtest_views import backtest_report_context
from .comps_selectors import lead_comps
from .filtersets import DISTRESS_CHOICES
from .grid import map_points_sync
from .models import (
    Activity,
    Alert,
    BacktestRun,
    CompsMemo,
    CompsMemoSale,
    CompsMemoSubject,
    Lead,
    LeadScoreHistory,
    LeadTierDay,
    MapGridCell,
    MapGridState,
    MapPending,
    MapPoint,
    Outcome,
    ScoringProfile,
)
from .outcomes import outcome_record
from .services import (
    PROFILE_COLUMNS,
    lead_bulk_assign,
    lead_bulk_change_status,
    scoringprofile_activate,
)
from .ui_selectors import SPARKLINE_SNAPSHOTS, lead_score_history, lead_top_matches, sparkline_layout
from .views import lead_export_response, minimap_attrs

TOP_MATCHES = 10


class LeadActionForm(ActionForm):
    """Extra inputs next to the changelist's action menu, used by the bulk actions."""

    status = forms.ChoiceField(choices=[("", "status…"), *Lead.Status.choices], required=False)
    # Any user id parses here; the assign action refuses non-assignees with the reason (a choice error on this
    # form would only read "No action selected"). The menu offers assignees only.
    assignee = forms.ModelChoiceField(queryset=get_user_model().objects.all(), required=False)
    note = forms.CharField(required=False, widget=forms.TextInput(attrs={"placeholder": "note"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", "assignee…"), *((u.pk, str(u)) for u in lead_assignees())]


class MAOFilter(admin.SimpleListFilter):
    title = "MAO"
    parameter_name = "mao"
    BANDS = {
        "none": ("No MAO", None, None),
        "0": ("$0 (no deal)", 0, 0),
        "lt50": ("Up to $50k", 0.01, 50_000),
        "50-100": ("$50k-$100k", 50_000.01, 100_000),
        "100-200": ("$100k-$200k", 100_000.01, 200_000),
        "gt200": ("Over $200k", 200_000.01, None),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _, _) in self.BANDS.items()]

    def queryset(self, request, queryset):
        if self.value() not in self.BANDS:
            return queryset
        if self.value() == "none":
            return queryset.filter(mao__isnull=True)
        _, low, high = self.BANDS[self.value()]
        queryset = queryset.filter(mao__gte=low)
        return queryset if high is None else queryset.filter(mao__lte=high)


class ActivityInline(admin.TabularInline):
    model = Activity
    extra = 0
    fields = ("created_at", "kind", "actor", "from_value", "to_value", "body")
    readonly_fields = ("created_at", "actor", "from_value", "to_value")
    ordering = ("-created_at",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")  # the read-only actor column, no N+1


class StackCountFilter(admin.SimpleListFilter):
    """Stacked distress signals, fixed choices: the default filter lists the distinct values (a full scan)."""

    title = "stack count"
    parameter_name = "stack_count"

    def lookups(self, request, model_admin):
        return [(str(n), str(n)) for n in range(len(DISTRESS_CHOICES) + 1)]

    def queryset(self, request, queryset):
        value = self.value()
        return queryset.filter(stack_count=int(value)) if value in dict(self.lookup_choices) else queryset


@admin.register(Lead)
class LeadAdmin(LargeChangelistAdmin, CountedRecordsAdmin):
    list_display = (
        "property_link",
        "address",
        "zip",
        "total",
        "tier",
        "stack_count",
        "status",
        "assigned_to",
        "mao",
        "scored_at",
    )
    # Users who hold leads (a departed colleague's leads stay findable), not every account.
    list_filter = (
        "tier",
        "status",
        StackCountFilter,
        MAOFilter,
        ("created_at", admin.DateFieldListFilter),
        ("assigned_to", IndexedRelatedOnlyFieldListFilter),
        "property__property_type",
    )
    search_fields = ("=property__parcel_id", "property__address_normalized", "property__owner_name", "property__zip")
    list_select_related = ("property", "assigned_to")
    autocomplete_fields = ("property",)
    ordering = ("-total", "id")
    show_full_result_count = False
    paginator = BoundedCountPaginator
    exclude = ("reasons",)
    readonly_fields = (
        "distress",
        "value",
        "location_score",
        "urgency",
        "total",
        "tier",
        "stack_count",
        "score_breakdown",
        "score_history",
        "location_map",
        "top_matches",
        "buyers_link",
        "scored_at",
        "arv",
        "repair_estimate",
        "mao",
        "comps_table",
        "created_at",
        "updated_at",
    )
    inlines = (ActivityInline,)
    action_form = LeadActionForm
    # "rescore" is inserted after "assign" by dealfinder.ops.admin (it scores with the buyers' demand).
    actions = ("change_status", "assign", "export_csv")

    class Media:
        css = {"all": ("leaflet/leaflet.css", "leads/admin.css")}
        js = ("leaflet/leaflet.js", "leads/minimap.js")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        map_points_sync(lead_ids=[obj.pk])  # status and assignee edited here: the map index's copies follow

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assigned_to":
            kwargs["queryset"] = lead_assignees()
            kwargs["error_messages"] = {"invalid_choice": ASSIGNEE_REFUSED}
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="buyers")
    def buyers_link(self, obj):
        # By URL name: leads never imports the buyers app.
        url = reverse("admin:buyers_propertymatch_changelist") + f"?property__id__exact={obj.property_id}"
        return format_html('<a href="{}">Matching buyers, ranked by score</a>', url)

    @admin.display(description="score breakdown")
    def score_breakdown(self, obj):
        components = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td></tr>",
            (
                ("Distress", obj.distress),
                ("Value", obj.value),
                ("Location", obj.location_score),
                ("Urgency", obj.urgency),
                ("Total", f"{obj.total} (Tier {obj.tier})"),
            ),
        )
        reasons = format_html_join("", "<li>{}</li>", ((r,) for r in obj.reasons))
        return format_html("<table>{}</table><ul>{}</ul>", components, reasons)

    @admin.display(description=f"score history (last {SPARKLINE_SNAPSHOTS} snapshots)")
    def score_history(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        spark = sparkline_layout(history=lead_score_history(lead_id=obj.pk))
        return render_to_string("admin/leads/lead/score_sparkline.html", {"spark": spark})

    @admin.display(description="location")
    def location_map(self, obj):
        point = obj.property.location if obj is not None and obj.pk else None
        if point is None:
            return "No point for this property yet (not geocoded)."
        comps = self._comps(obj).comps
        points = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [c.sale.lon, c.sale.lat]},
                   "properties": {"parcel_id": c.sale.parcel_id}} for c in comps if c.sale.lon is not None]  # fmt: skip
        geojson = json.dumps({"type": "FeatureCollection", "features": points}) if points else None
        attrs = minimap_attrs(
            lat=point.y, lon=point.x, tier=obj.tier, label=obj.property.address_normalized, geojson=geojson
        )
        return format_html('<div class="df-minimap" id="lead-minimap"{}></div>', attrs)

    def _comps(self, obj):
        """The lead's comps as of today, computed once per page (the table and the minimap's comp points)."""
        if getattr(obj, "_comps_result", None) is None:
            obj._comps_result = lead_comps(lead=obj)
        return obj._comps_result

    @admin.display(description="comps and ARV (recorded sales)")
    def comps_table(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        result = self._comps(obj)
        if result.arv is None:
            notes = " ".join(result.notes) or "No arms-length sales of this type nearby."
            return format_html("No ARV from comps. {}", notes)
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>${}</td><td>{}</td><td>{}</td></tr>",
            (
                (c.sale.parcel_id, f"{c.distance_miles:.2f} mi", c.sale.sale_date, f"{c.sale.price:,.0f}",
                 f"${c.price_per_sqft:,.0f}" if c.price_per_sqft else "-", c.why)
                for c in result.comps
            ),
        )  # fmt: skip
        head = f"ARV ${result.arv:,} (${result.low:,} - ${result.high:,}), {result.confidence} confidence"
        return format_html(
            "<p>{}</p><table><tr><th>parcel</th><th>distance</th><th>sold</th><th>price</th><th>$/sqft</th>"
            "<th>why kept</th></tr>{}</table>",
            head,
            rows,
        )

    @admin.display(description=f"top {TOP_MATCHES} buyer matches")
    def top_matches(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        matches, more = lead_top_matches(lead=obj, limit=TOP_MATCHES)
        return render_to_string("admin/leads/lead/top_matches.html", {"matches": matches, "more": more})

    @admin.action(description="Export selected to CSV", permissions=["view"])
    def export_csv(self, request, queryset):
        """The map's CSV (same columns, same writer), streamed: fine for a whole filtered changelist."""
        return lead_export_response(leads=queryset)

    @admin.action(description="Set status (chosen below) on selected leads", permissions=["change"])
    def change_status(self, request, queryset):
        status = request.POST.get("status")
        if status not in Lead.Status.values:
            self.message_user(request, "Choose a status next to the action menu.", messages.ERROR)
            return
        note = request.POST.get("note", "")
        changed = lead_bulk_change_status(leads=queryset, status=status, actor=request.user, note=note)
        self.message_user(request, f"Status set to {Lead.Status(status).label} on {changed} leads.")

    @admin.action(description="Assign selected leads to (chosen below)", permissions=["change"])
    def assign(self, request, queryset):
        form = LeadActionForm(request.POST)
        form.fields["action"].choices = self.get_action_choices(request)
        if not form.is_valid() or form.cleaned_data["assignee"] is None:
            self.message_user(request, "Choose an assignee next to the action menu.", messages.ERROR)
            return
        user = form.cleaned_data["assignee"]
        try:
            changed = lead_bulk_assign(leads=queryset, user=user, actor=request.user, note=form.cleaned_data["note"])
        except ValueError as exc:  # not an assignee (leads.assignees)
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, f"Assigned {changed} leads to {user.get_username()}.")

    @admin.display(description="parcel", ordering="property__parcel_id")
    def property_link(self, obj):
        return admin_link(obj.property, obj.property.parcel_id)

    @admin.display(description="address", ordering="property__address_normalized")
    def address(self, obj):
        return obj.property.address_normalized or obj.property.street

    @admin.display(description="zip", ordering="property__zip")
    def zip(self, obj):
        return obj.property.zip


@admin.register(LeadScoreHistory)
class LeadScoreHistoryAdmin(ReadOnlyAdmin):
    list_display = ("lead", "snapshot_date", "total", "tier", "distress", "value", "location_score", "urgency")
    list_filter = ("tier", "snapshot_date")
    list_select_related = ("lead__property",)
    search_fields = ("=lead__property__parcel_id",)
    date_hierarchy = "snapshot_date"


@admin.register(ScoringProfile)
class ScoringProfileAdmin(admin.ModelAdmin):
    formfield_overrides = {JSONField: JSON_FORMFIELD_OVERRIDES}
    list_display = ("name", "is_active", *PROFILE_COLUMNS)
    list_filter = ("is_active",)
    search_fields = ("name",)

    readonly_fields = ("is_active",)
    actions = ("activate",)

    @admin.action(description="Make the selected profile the active one", permissions=["change"])
    def activate(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one profile to activate.", messages.ERROR)
            return
        profile = scoringprofile_activate(profile=queryset.get())
        self.message_user(request, f"{profile.name} is now the active scoring profile; rescore to apply it.")


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("created_at", "lead", "kind", "actor", "from_value", "to_value")
    list_filter = ("kind",)
    list_select_related = ("lead__property", "actor")
    autocomplete_fields = ("lead", "actor")
    search_fields = ("=lead__property__parcel_id", "body")
    date_hierarchy = "created_at"


@admin.register(LeadTierDay)
class LeadTierDayAdmin(ReadOnlyAdmin):
    """The dashboard's per-day tier counts, kept by scoring (read-only)."""

    list_display = ("snapshot_date", "tier", "leads")
    list_filter = ("tier",)
    date_hierarchy = "snapshot_date"


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "lead", "quality_report", "channel", "kind", "entered_on", "status")
    list_filter = ("channel", "status", "kind")
    list_select_related = ("lead__property", "quality_report")
    search_fields = ("=lead__property__parcel_id", "error")
    date_hierarchy = "created_at"


# --- The map index (leads.grid): read-only, to see when it was built and what it holds ---------


@admin.register(MapGridState)
class MapGridStateAdmin(ReadOnlyAdmin):
    list_display = ("built_at", "max_lead_id", "points", "cells", "seconds")


@admin.register(MapPending)
class MapPendingAdmin(ReadOnlyAdmin):
    list_display = ("lead_id",)


@admin.register(MapPoint)
class MapPointAdmin(ReadOnlyAdmin):
    list_display = ("lead_id", "tier", "total")
    list_filter = ("tier",)
    ordering = ("-total", "lead_id")
    show_full_result_count = False


@admin.register(MapGridCell)
class MapGridCellAdmin(ReadOnlyAdmin):
    list_display = ("level", "cx", "cy", "tier", "n")
    list_filter = ("level", "tier")
    ordering = ("level", "cx", "cy", "tier")
    show_full_result_count = False


# --- The comps memo (leads.comps_memo): read-only, to see what the last run of each county saw ---------


@admin.register(CompsMemo)
class CompsMemoAdmin(ReadOnlyAdmin):
    list_display = ("key", "as_of", "full_on")


@admin.register(CompsMemoSubject)
class CompsMemoSubjectAdmin(ReadOnlyAdmin):
    list_display = ("key", "lead_id", "tier")
    list_filter = ("tier",)
    ordering = ("key", "lead_id")
    show_full_result_count = False


@admin.register(CompsMemoSale)
class CompsMemoSaleAdmin(ReadOnlyAdmin):
    list_display = ("key", "sale_id", "sale_date")
    ordering = ("key", "sale_id")
    show_full_result_count = False


# --- Outcomes and backtests ---------------------------------------------------------------------


@admin.register(Outcome)
class OutcomeAdmin(CountedRecordsAdmin):
    """Adding an outcome moves the lead to that status (leads.outcomes.outcome_record); a lead reaching under
    contract, closed (won) or dead from anywhere records one by itself, whose fee or reason is filled in here."""

    list_display = ("occurred_on", "lead", "kind", "fee", "reason", "source", "recorded_by")
    list_filter = ("kind", "reason", "source")
    list_select_related = ("lead__property", "recorded_by")
    autocomplete_fields = ("lead",)
    search_fields = ("=lead__property__parcel_id", "note")
    date_hierarchy = "occurred_on"
    fields = ("lead", "kind", "occurred_on", "contract_date", "fee", "reason", "note", "source", "recorded_by")
    readonly_fields = ("source", "recorded_by")

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "lead", "kind") if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        data = form.cleaned_data
        saved = outcome_record(
            lead=data["lead"],
            kind=data["kind"],
            source=Outcome.Source.ADMIN,
            occurred_on=data["occurred_on"],
            contract_date=data.get("contract_date"),
            fee=data.get("fee"),
            reason=data.get("reason") or "",
            note=data.get("note") or "",
            actor=request.user,
        )
        obj.pk = saved.pk


@admin.register(BacktestRun)
class BacktestRunAdmin(ReadOnlyAdmin):
    """The backtest page: each run's rates, lifts, calibration, both AUCs and weight sets, the leads that would
    change tier, and the "Activate proposal" button (only for users who may change scoring profiles)."""

    list_display = ("created_at", "outcomes", "active_auc", "proposed_auc", "since", "profile", "activated_profile")
    list_select_related = ("profile", "activated_profile")
    fields = ("created_at", "created_by", "since", "profile", "outcomes", "seconds", "activated_profile")
    readonly_fields = fields
    change_list_template = "admin/leads/backtestrun/change_list.html"
    change_form_template = "admin/leads/backtestrun/change_form.html"
    # The roof replaces both with versions that hand in the buyers' demand and rescore after activating
    # (dealfinder.ops.admin); these defaults score without demand and leave the rescore to the next run.
    run_backtest = staticmethod(backtest_run_create)
    activate_proposal = staticmethod(lambda *, run: (backtest_proposal_activate(run=run), "rescore to apply it"))

    def get_urls(self):
        return [
            path("run/", self.admin_site.admin_view(require_POST(self.run_view)), name="leads_backtestrun_run"),
            path(
                "<int:pk>/activate/",
                self.admin_site.admin_view(require_POST(self.activate_view)),
                name="leads_backtestrun_activate",
            ),
            *super().get_urls(),
        ]

    def run_view(self, request):
        if not request.user.has_perm("leads.add_backtestrun"):
            raise PermissionDenied
        try:
            run = self.run_backtest(actor=request.user)
        except QueueUnavailable as exc:
            self.message_user(request, f"Backtest not started: {exc}", messages.ERROR)
            return redirect("admin:leads_backtestrun_changelist")
        if run is None:  # queued for a worker (the roof's run_backtest with a broker)
            self.message_user(request, "Backtest queued: it appears in this list when the worker has run it.")
            return redirect("admin:leads_backtestrun_changelist")
        self.message_user(request, f"Backtest run on {run.outcomes} outcomes in {run.seconds:.1f} s.")
        return redirect("admin:leads_backtestrun_change", run.pk)

    def activate_view(self, request, pk):
        if not request.user.has_perm("leads.change_scoringprofile"):
            raise PermissionDenied
        run = get_object_or_404(BacktestRun.objects.select_related("profile", "activated_profile"), pk=pk)
        try:
            profile, after = self.activate_proposal(run=run)
        except BacktestError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(request, f"{profile.name} is now the active scoring profile; {after}.")
        return redirect("admin:leads_backtestrun_change", run.pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = self.get_object(request, object_id)
        if run is not None:
            extra_context = {
                **(extra_context or {}),
                **backtest_report_context(document=run.document),
                "run": run,
                "can_activate": run.fitted
                and run.activated_profile_id is None
                and request.user.has_perm("leads.change_scoringprofile"),
                "activate_url": reverse("admin:leads_backtestrun_activate", args=[run.pk]),
            }
        return super().change_view(request, object_id, form_url, extra_context)
