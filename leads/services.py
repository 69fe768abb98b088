"""Lead services: set-based scoring with a daily history snapshot, and the broker workflow."""

import contextlib
import datetime
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Case, OuterRef, Q, QuerySet, Subquery, TextField, Value, When
from django.db.models.functions import Cast
from django.utils import timezone

from dealfinder.common.bulk import bulk_upsert, copy_to_stage
from dealfinder.common.collector import collector_paused
from dealfinder.common.generations import change_generation_bump
from dealfinder.common.lookups import any_of_sql
from dealfinder.common.prefetch import WriteBehind, prefetch_possible, prefetched
from leads.assignees import lead_assignee_check
from leads.choices import OUTCOME_STATUSES, TIERS
from leads.deals import DealParams, deal_numbers
from leads.grid import map_grid_update, map_points_sync
from leads.models import Activity, Lead, LeadScoreHistory, Outcome, ScoringProfile
from leads.scoring import ScoringParams, score
from leads.selectors import PropertyFacts, property_facts_chunks
from leads.tier_days import lead_tier_days_refresh

WRITE_BATCH = 1000
STAGE_TABLE = "leads_score_stage"  # PostgreSQL: a temporary table per connection
PROFILE_COLUMNS = (
    "distress_cap",
    "value_cap",
    "location_cap",
    "urgency_cap",
    "tier_a_min",
    "tier_b_min",
    "tier_c_min",
    "arv_percent",
    "assignment_fee",
)
HISTORY_FIELDS = ("distress", "value", "location_score", "urgency", "total", "tier", "stack_count", "signals")
LEAD_FIELDS = (*HISTORY_FIELDS, "reasons", "arv", "repair_estimate", "mao")
REASONS = LEAD_FIELDS.index("reasons")
STORED_FIELDS = tuple("reasons_json" if name == "reasons" else name for name in LEAD_FIELDS)  # as _chunk_leads reads


@dataclass
class ScoreSummary:
    scored: int = 0
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    history_written: int = 0
    tiers: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TIERS, 0))
    new_tier_a: list[int] = field(default_factory=list)
    merged: int = 0  # leads of merged (duplicate) properties folded into their survivor's lead

    def __str__(self):
        tiers = " ".join(f"{t}={n}" for t, n in self.tiers.items())
        merged = f"; leads of merged parcels folded {self.merged}" if self.merged else ""
        return (
            f"scored {self.scored}: created {self.created}, changed {self.changed}, unchanged {self.unchanged}; "
            f"tiers {tiers}; new tier A {len(self.new_tier_a)}; history rows written {self.history_written}{merged}"
        )


def scoringprofile_get_active() -> ScoringProfile:
    """The active profile; a "Default" one with the model's defaults is created if none is active."""
    profile = ScoringProfile.objects.filter(is_active=True).first()
    if profile is None:
        profile, _ = ScoringProfile.objects.update_or_create(name="Default", defaults={"is_active": True})
    return profile


def scoring_params_for(*, profile: ScoringProfile) -> tuple[ScoringParams, DealParams]:
    values = {**(profile.parameters or {}), **{name: getattr(profile, name) for name in PROFILE_COLUMNS}}
    return ScoringParams.from_mapping(values), DealParams.from_mapping(values)


def _snapshot_history(*, property_ids: list[int], today: datetime.date, now: datetime.datetime) -> int:
    """Copy these properties' lead scores into today's history in one INSERT ... SELECT ... ON CONFLICT;
    rows already equal are left alone. Returns how many history rows were written."""
    if not property_ids:
        return 0
    history, lead = LeadScoreHistory._meta.db_table, Lead._meta.db_table
    columns = ", ".join(HISTORY_FIELDS)
    among, among_params = any_of_sql(property_ids)
    updates = ", ".join(f"{name} = excluded.{name}" for name in (*HISTORY_FIELDS, "updated_at"))
    old = ", ".join(f"{history}.{name}" for name in HISTORY_FIELDS)
    new = ", ".join(f"excluded.{name}" for name in HISTORY_FIELDS)
    # Only identifiers from the models are interpolated; every value is a parameter.
    sql = (
        f"INSERT INTO {history} (lead_id, snapshot_date, {columns}, created_at, updated_at) "  # noqa: S608
        f"SELECT id, %s, {columns}, %s, %s FROM {lead} WHERE property_id {among} "
        f"ON CONFLICT (lead_id, snapshot_date) DO UPDATE SET {updates} WHERE ({old}) <> ({new})"
    )
    ops = connection.ops
    stamp = ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(sql, [ops.adapt_datefield_value(today), stamp, stamp, *among_params])
        return cursor.rowcount


def _chunk_leads(facts: list[PropertyFacts], *, today: datetime.date) -> dict[int, tuple]:
    """The chunk's leads by property id: (id, previous day's tier, LEAD_FIELDS values, whether today's snapshot
    holds the lead's HISTORY_FIELDS values, the ARV from comps), in one query. The reasons come as their JSON
    text, not decoded."""
    in_range = {"property_id__gte": facts[0].property_id, "property_id__lte": facts[-1].property_id}
    history = LeadScoreHistory.objects.filter(lead=OuterRef("pk")).order_by("-snapshot_date")
    previous_tier = history.filter(snapshot_date__lt=today).values("tier")[:1]
    # Whether today's snapshot holds the lead's values: read off the lead's latest snapshot up to today, one probe
    # of the (lead, date) key per lead. Not "WHERE snapshot_date = today": while a run writes today's rows their
    # statistics say there are none, and that condition was planned on the date index, a scan of all of today's
    # rows per lead (46 s for a chunk of 5,000 leads half-way through a new day's run at 1,000,000).
    today_same = Q(snapshot_date=today, **{name: OuterRef(name) for name in HISTORY_FIELDS})
    snapshot = history.filter(snapshot_date__lte=today).values(
        same=Case(When(today_same, then=Value(True)), default=Value(False))
    )[:1]
    rows = (
        Lead.objects.filter(**in_range)
        .order_by()
        .annotate(
            previous_tier=Subquery(previous_tier),
            snapshot=Subquery(snapshot),
            reasons_json=Cast("reasons", TextField()),
        )
        .values_list("property_id", "id", "previous_tier", *STORED_FIELDS, "snapshot", "comps_arv")
    )
    return {row[0]: (row[1], row[2], row[3:-2], bool(row[-2]), row[-1]) for row in rows}


def _write_leads(writes: list[tuple], *, now: datetime.datetime) -> dict[int, int]:
    """Write (lead id or None, property id, LEAD_FIELDS values with the reasons as JSON, the reasons) rows: changed
    leads are updated in place, new ones inserted (status, assignee and notes are never touched by scoring).
    Returns the new leads' ids by property id.

    On PostgreSQL the rows travel by COPY into a temporary staging table and land in one UPDATE ... FROM (changed
    leads, by id) and one INSERT ... SELECT ... ON CONFLICT (new leads); elsewhere through bulk_upsert.
    """
    if not writes:
        return {}
    if connection.vendor != "postgresql":
        objs = [
            Lead(property_id=pid, scored_at=now, **{**dict(zip(LEAD_FIELDS, values, strict=True)), "reasons": reasons})
            for _, pid, values, reasons in writes
        ]
        for start in range(0, len(objs), WRITE_BATCH):
            bulk_upsert(
                Lead,
                objs[start : start + WRITE_BATCH],
                unique_fields=["property"],
                update_fields=[*LEAD_FIELDS, "scored_at", "updated_at"],
            )
        return {obj.property_id: obj.pk for obj, (lead_id, *_) in zip(objs, writes, strict=True) if lead_id is None}
    lead, stage = Lead._meta.db_table, STAGE_TABLE
    columns = ", ".join(LEAD_FIELDS)
    updates = sum(lead_id is not None for lead_id, *_ in writes)
    inserts = len(writes) - updates
    stamp = timezone.now()
    with connection.cursor() as cursor:
        rows = ((lead_id, pid, *values) for lead_id, pid, values, _ in writes)
        copy_to_stage(cursor, table=lead, stage=stage, columns=f"id, property_id, {columns}", rows=rows)
        new_ids = {}
        if updates:
            assign = ", ".join(f"{name} = s.{name}" for name in LEAD_FIELDS)
            cursor.execute(
                f"UPDATE {lead} AS l SET {assign}, scored_at = %s, updated_at = %s "  # noqa: S608
                f"FROM {stage} AS s WHERE s.id IS NOT NULL AND l.id = s.id AND l.property_id BETWEEN %s AND %s",
                [now, stamp, writes[0][1], writes[-1][1]],  # the range keeps the join to the chunk's leads
            )
        if inserts:
            defaults = {name: Lead._meta.get_field(name).get_default() for name in ("status", "notes")}
            excluded = ", ".join(f"{name} = EXCLUDED.{name}" for name in (*LEAD_FIELDS, "scored_at", "updated_at"))
            cursor.execute(
                f"INSERT INTO {lead} (property_id, {columns}, status, notes, scored_at, created_at, updated_at) "  # noqa: S608
                f"SELECT property_id, {columns}, %s, %s, %s, %s, %s FROM {stage} WHERE id IS NULL ORDER BY property_id "
                f"ON CONFLICT (property_id) DO UPDATE SET {excluded} RETURNING property_id, id",
                [defaults["status"], defaults["notes"], now, stamp, stamp],
            )
            new_ids = dict(cursor.fetchall())
    return new_ids


@dataclass
class _ChunkPlan:
    """What scoring one chunk decided, before anything is written."""

    writes: list[tuple]  # (lead id or None for a new lead, property id, LEAD_FIELDS values, reasons)
    new_tier_a: list[tuple[int | None, int]]  # (lead id or None, property id)
    snapshot: list[int]  # property ids whose snapshot today is missing or differs


def _plan_chunk(
    facts: list[PropertyFacts],
    *,
    today: datetime.date,
    params: ScoringParams,
    deal_params: DealParams,
    summary: ScoreSummary,
    leads: dict[int, tuple] | None = None,
) -> _ChunkPlan:
    """Score a chunk against its stored leads (_chunk_leads, read here unless given)."""
    if leads is None:
        leads = _chunk_leads(facts, today=today)
    writes: list[tuple] = []  # (lead id or None for a new lead, property id, LEAD_FIELDS values, reasons)
    new_tier_a: list[tuple[int | None, int]] = []  # (lead id or None, property id)
    snapshot: list[int] = []  # property ids whose snapshot today is missing or differs
    tiers, year, history_width, dumps, loads = summary.tiers, today.year, len(HISTORY_FIELDS), json.dumps, json.loads
    created = changed = 0
    for fact in facts:
        signals, pid = fact.signals, fact.property_id
        result = score(signals, params)
        existing = leads.get(pid)
        deal = deal_numbers(
            comps_arv=None if existing is None else existing[4],
            market_value=signals.market_value,
            list_price=signals.list_price,
            living_sqft=fact.living_sqft,
            year_built=fact.year_built,
            current_year=year,
            params=deal_params,
        )
        reasons = result.reasons
        values = (  # LEAD_FIELDS, the reasons as JSON text
            result.distress,
            result.value,
            result.location_score,
            result.urgency,
            result.total,
            result.tier,
            result.stack_count,
            " ".join(sorted(result.signals)),
            dumps(reasons),
            deal.arv,
            deal.repair_estimate,
            deal.mao,
        )
        if existing is None:
            created += 1
            writes.append((None, pid, values, reasons))
            snapshot.append(pid)
            lead_id = previous_tier = None
        else:
            lead_id, previous_tier, stored, snapped, _ = existing
            # The same JSON text is the same reasons; a different text (another encoding) is decoded to compare.
            if stored != values and (
                stored[:REASONS] != values[:REASONS]
                or stored[REASONS + 1 :] != values[REASONS + 1 :]
                or loads(stored[REASONS]) != reasons
            ):
                changed += 1
                writes.append((lead_id, pid, values, reasons))
                snapped = snapped and stored[:history_width] == values[:history_width]
            if not snapped:
                snapshot.append(pid)
        tiers[result.tier] += 1
        if result.tier == "A" and previous_tier != "A":
            new_tier_a.append((lead_id, pid))
    summary.scored += len(facts)
    summary.created += created
    summary.changed += changed
    return _ChunkPlan(writes, new_tier_a, snapshot)


def _land_chunk(plan: _ChunkPlan, *, today: datetime.date, now: datetime.datetime) -> tuple[list[int], int]:
    """Write a chunk's plan: its leads, then today's snapshot of those that need one. (new Tier A lead ids, history
    rows written)."""
    new_ids = _write_leads(plan.writes, now=now)
    new_tier_a = [new_ids[pid] if lead_id is None else lead_id for lead_id, pid in plan.new_tier_a]
    return new_tier_a, _snapshot_history(property_ids=plan.snapshot, today=today, now=now)


FoldHandler = Callable[[dict[int, int]], None]


def leads_fold_merged(*, on_fold: FoldHandler | None = None) -> int:
    """Leads of properties that dedupe merged into a survivor follow it, so no duplicate stays on the map,
    in the lists or in matching. The survivor keeps its own lead if it has one, else the oldest merged lead
    moves onto it; the other merged leads hand their activities (the broker's notes, calls, status changes) to
    the kept lead and are deleted with their score history. `on_fold({folded lead id: kept lead id})` runs in the
    same transaction just before the folded leads are deleted: the layer above hands over what it keeps about
    them (sync: their GoHighLevel links, sync.links.external_links_hand_over). Returns how many leads moved or
    were folded."""
    merged = list(
        Lead.objects.filter(property__is_active=False, property__merged_into__isnull=False)
        .order_by("id")
        .values_list("id", "property__merged_into_id")
    )
    if not merged:
        return 0
    survivors = {pid for _, pid in merged}
    kept = dict(Lead.objects.filter(property_id__in=survivors).values_list("property_id", "id"))
    moves, folds = {}, {}  # lead id -> survivor property id / kept lead id
    for lead_id, survivor in merged:
        if survivor in kept:
            folds[lead_id] = kept[survivor]
        else:
            kept[survivor] = lead_id
            moves[lead_id] = survivor
    with transaction.atomic():
        if moves:
            new_property = Case(*(When(pk=lead_id, then=Value(pid)) for lead_id, pid in moves.items()))
            Lead.objects.filter(pk__in=moves).update(property_id=new_property, updated_at=timezone.now())
        if folds:
            new_lead = Case(*(When(lead_id=lead_id, then=Value(into)) for lead_id, into in folds.items()))
            Activity.objects.filter(lead_id__in=folds).update(lead_id=new_lead)
            if on_fold is not None:
                on_fold(folds)
            days = set(LeadScoreHistory.objects.filter(lead_id__in=folds).values_list("snapshot_date", flat=True))
            Lead.objects.filter(pk__in=folds).delete()
            lead_tier_days_refresh(dates=days)
            transaction.on_commit(change_generation_bump)
        map_grid_update(lead_ids=[*moves, *folds])  # moved leads take their new point, folded ones leave the map
    return len(moves) + len(folds)


def leads_score_all(
    *,
    parcel_id: str | None = None,
    property_ids: Iterable[int] | QuerySet | None = None,
    today: datetime.date | None = None,
    buyer_demand_by_zip: Mapping[str, int] | None = None,
    on_fold: FoldHandler | None = None,
    progress: Callable[[int], None] | None = None,
) -> ScoreSummary:
    """Score every active property (or one parcel / some properties) and snapshot today's history.

    A constant number of queries per chunk of properties; leads whose numbers did not change are
    not written. `buyer_demand_by_zip` (zip -> active buyers wanting it; none when not given) feeds the location
    score: buyers own it, so the caller above passes it (dealfinder.ops.scoring.leads_score does, everywhere a
    score is computed).
    A full run first folds the leads of merged properties into their survivors (leads_fold_merged, `on_fold`).
    A partial rescore updates the map index for its leads; after a full one, leads.grid.map_grid_refresh
    rebuilds it (the pipeline's "map" step, the score command).
    """
    today = today or timezone.localdate()
    params, deal_params = scoring_params_for(profile=scoringprofile_get_active())
    summary = ScoreSummary()
    if parcel_id is None and property_ids is None:
        summary.merged = leads_fold_merged(on_fold=on_fold)
    now = timezone.now()
    chunks = property_facts_chunks(
        today=today,
        params=params,
        parcel_id=parcel_id,
        property_ids=property_ids,
        buyer_demand_by_zip=buyer_demand_by_zip,
    )
    with contextlib.ExitStack() as stack:
        stack.enter_context(collector_paused())
        full = parcel_id is None and property_ids is None  # one parcel or a few (a request) need no threads

        def land(plan: _ChunkPlan) -> None:
            with transaction.atomic(savepoint=False):  # its own on the writer's connection; inline, the caller's
                new_tier_a, history_written = _land_chunk(plan, today=today, now=now)
            summary.new_tier_a.extend(new_tier_a)  # the writer's fields; the scoring counts its own
            summary.history_written += history_written

        # A full rescore lands each chunk in its own transaction on a second connection, in a thread, while this one
        # reads and scores the next (where that connection sees this one's data: PostgreSQL, no transaction open).
        # Chunks are independent: each covers its own property id range, and nothing read for a later chunk depends
        # on an earlier chunk's writes. Otherwise each lands inline, in the chunk's transaction.
        writer = stack.enter_context(WriteBehind(land, threaded=full and prefetch_possible()))
        if writer.threaded:  # facts and stored leads read ahead on another connection while this one scores
            source = chunks
            reader = prefetched(lambda: ((facts, _chunk_leads(facts, today=today)) for facts in source))
            chunks = stack.enter_context(contextlib.closing(reader))  # an error here stops the reader at once
        for chunk in chunks:
            if writer.threaded:
                facts, leads = chunk
                plan = _plan_chunk(facts, today=today, params=params, deal_params=deal_params, summary=summary,
                                   leads=leads)  # fmt: skip
                writer.put(plan)
            else:
                facts = chunk
                with transaction.atomic():  # a chunk's reads and writes in one transaction
                    plan = _plan_chunk(facts, today=today, params=params, deal_params=deal_params, summary=summary)
                    writer.put(plan)
            if progress is not None:
                progress(len(facts))
    summary.unchanged = summary.scored - summary.created - summary.changed
    lead_tier_days_refresh(dates=[today])
    if parcel_id is not None or property_ids is not None:  # a partial rescore moves its own map points
        scored = Lead.objects.filter(property__parcel_id=parcel_id) if parcel_id else Lead.objects.all()
        if property_ids is not None:
            scored = scored.filter(property_id__in=property_ids)
        map_grid_update(lead_ids=list(scored.values_list("id", flat=True)))
    return summary


def _record_changes(
    *, leads: QuerySet, field_name: str, kind: str, new_value, label: str, actor, note: str
) -> list[int]:
    """One Activity per lead whose `field_name` differs from new_value, then one UPDATE; the changed leads' ids."""
    compare = {f"{field_name}__isnull": True} if new_value is None else {field_name: new_value}
    old_label = "assigned_to__username" if field_name == "assigned_to" else field_name
    with transaction.atomic():
        rows = list(leads.exclude(**compare).order_by().values_list("id", old_label))
        now = timezone.now()
        Activity.objects.bulk_create(
            [
                Activity(
                    lead_id=lead_id,
                    kind=kind,
                    actor=actor,
                    from_value=old or "",
                    to_value=label,
                    body=note,
                    created_at=now,
                )
                for lead_id, old in rows
            ],
            batch_size=WRITE_BATCH,
        )
        changed = [lead_id for lead_id, _ in rows]
        Lead.objects.filter(id__in=changed).update(**{field_name: new_value}, updated_at=now)
        map_points_sync(lead_ids=changed)  # the map filters on status and assignee read the index's copies
    return changed


def outcomes_record_for_status(
    *, lead_ids: Iterable[int], status: str, source: str, actor=None, on: datetime.date | None = None, note: str = ""
) -> int:
    """One Outcome per lead that just reached `status` (under contract, closed won, dead; other statuses record
    nothing), dated `on` (today in the broker's time zone). A lead already holding that outcome that day keeps it
    (a replayed change records nothing twice). Returns how many leads it was given."""
    if status not in OUTCOME_STATUSES:
        return 0
    on = on or timezone.localdate()
    rows = [
        Outcome(lead_id=lead_id, kind=status, occurred_on=on, source=source, recorded_by=actor, note=note)
        for lead_id in lead_ids
    ]
    return len(Outcome.objects.bulk_create(rows, batch_size=WRITE_BATCH, ignore_conflicts=True))


def lead_bulk_change_status(
    *,
    leads: QuerySet,
    status: str,
    actor,
    note: str = "",
    source: str = Outcome.Source.ADMIN,
    on: datetime.date | None = None,
) -> int:
    """Set the status of every lead in `leads`; returns how many changed (each gets an Activity). Leads reaching
    under contract, closed (won) or dead get an Outcome too, marked as coming from `source`, dated `on` (today
    unless an import says when it happened)."""
    if status not in Lead.Status.values:
        raise ValueError(f"Unknown lead status {status!r}")
    change = {"leads": leads, "field_name": "status", "kind": Activity.Kind.STATUS_CHANGE, "new_value": status}
    if status not in OUTCOME_STATUSES:
        return len(_record_changes(**change, label=status, actor=actor, note=note))
    with transaction.atomic():  # the status and its outcomes land together
        changed = _record_changes(**change, label=status, actor=actor, note=note)
        outcomes_record_for_status(lead_ids=changed, status=status, source=source, actor=actor, note=note, on=on)
    return len(changed)


def lead_bulk_assign(*, leads: QuerySet, user, actor, note: str = "") -> int:
    """Assign every lead in `leads` to `user` (None unassigns); returns how many changed.

    ValueError when `user` is not an assignee (leads.assignees); forms and serializers check it first.
    """
    lead_assignee_check(user)
    changed = _record_changes(
        leads=leads,
        field_name="assigned_to",
        kind=Activity.Kind.ASSIGNMENT,
        new_value=user,
        label=user.get_username() if user else "",
        actor=actor,
        note=note,
    )
    return len(changed)


def lead_change_status(
    *,
    lead: Lead,
    status: str,
    actor,
    note: str = "",
    source: str = Outcome.Source.ADMIN,
    on: datetime.date | None = None,
) -> Lead:
    lead_bulk_change_status(
        leads=Lead.objects.filter(pk=lead.pk), status=status, actor=actor, note=note, source=source, on=on
    )
    lead.status = status
    return lead


def lead_assign(*, lead: Lead, user, actor, note: str = "") -> Lead:
    lead_bulk_assign(leads=Lead.objects.filter(pk=lead.pk), user=user, actor=actor, note=note)
    lead.assigned_to = user
    return lead


def scoringprofile_activate(*, profile: ScoringProfile) -> ScoringProfile:
    """Save `profile` as the one active profile (the others are deactivated first)."""
    with transaction.atomic():
        ScoringProfile.objects.exclude(pk=profile.pk).filter(is_active=True).update(is_active=False)
        profile.is_active = True
        profile.save()
    return profile
