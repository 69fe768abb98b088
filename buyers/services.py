"""Writes for buyers and matches."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from decimal import Decimal

from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.db import transaction
from django.utils import timezone

from .matching import MatchWeights, score_match
from .models import Buyer, PropertyMatch
from .selectors import buyer_buy_box, buyer_match_candidates, matching_weights

BATCH_SIZE = 2000


@dataclass
class MatchSummary:
    buyers: int = 0
    candidates: int = 0
    kept: int = 0
    created: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0

    def add(self, other: "MatchSummary") -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def __str__(self):
        return ", ".join(f"{f.name} {getattr(self, f.name)}" for f in fields(self))


def _chunks(items: list, size: int = BATCH_SIZE) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@transaction.atomic
def _matches_write(*, buyer: Buyer, upserts: list[PropertyMatch], stale: list[int]) -> None:
    if upserts:
        PropertyMatch.objects.bulk_create(
            upserts,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=["property", "buyer"],
            update_fields=["score", "reasons", "updated_at"],
        )
    for chunk in _chunks(stale):
        PropertyMatch.objects.filter(buyer=buyer, property_id__in=chunk).delete()


def buyer_matches_refresh(*, buyer: Buyer, weights: MatchWeights) -> MatchSummary:
    """Score the buyer's candidates; upsert the kept matches whose score/reasons changed, delete the rest."""
    box = buyer_buy_box(buyer=buyer)
    candidates = buyer_match_candidates(buyer=buyer, weights=weights)
    kept = {}
    for candidate in candidates:
        result = score_match(candidate, box, weights)
        if result.keep:
            kept[candidate.property_id] = (result.score, result.reasons)
    existing = {
        pid: (score, reasons)
        for pid, score, reasons in PropertyMatch.objects.filter(buyer=buyer).values_list(
            "property_id", "score", "reasons"
        )
    }
    changed = [pid for pid, value in kept.items() if existing.get(pid) != value]
    stale = [pid for pid in existing if pid not in kept]
    created = sum(1 for pid in changed if pid not in existing)
    if changed or stale:
        upserts = [
            PropertyMatch(property_id=pid, buyer=buyer, score=kept[pid][0], reasons=kept[pid][1]) for pid in changed
        ]
        _matches_write(buyer=buyer, upserts=upserts, stale=stale)
    return MatchSummary(
        buyers=1,
        candidates=len(candidates),
        kept=len(kept),
        created=created,
        updated=len(changed) - created,
        removed=len(stale),
        unchanged=len(kept) - len(changed),
    )


def matches_refresh_all(
    *, buyer_ids: Iterable[int] | None = None, progress: Callable[[int, int], None] | None = None
) -> MatchSummary:
    """Refresh the matches of every active buyer (or of `buyer_ids`); inactive buyers lose theirs.

    `progress(done, total)` is called after each buyer. Re-running without data changes writes nothing.
    """
    weights = matching_weights()
    buyers = Buyer.objects.all()
    if buyer_ids is not None:
        buyers = buyers.filter(pk__in=list(buyer_ids))
    summary = MatchSummary()
    summary.removed, _ = PropertyMatch.objects.filter(buyer__in=buyers.filter(is_active=False)).delete()
    active = list(buyers.filter(is_active=True).order_by("pk"))
    for done, buyer in enumerate(active, start=1):
        summary.add(buyer_matches_refresh(buyer=buyer, weights=weights))
        if progress:
            progress(done, len(active))
    return summary


def matches_mark_contacted(*, match_ids: Iterable[int]) -> int:
    """Stamp contacted_at on the matches not yet contacted; returns how many were stamped."""
    return PropertyMatch.objects.filter(pk__in=list(match_ids), contacted_at__isnull=True).update(
        contacted_at=timezone.now()
    )


def _area(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox((min_lon, min_lat, max_lon, max_lat)), srid=4326)


def _sample_buyers() -> list[dict]:
    area, zips, radius = "area", "zips", "radius"
    rows = [
        # (first, last, company, kind, where, min, max, types, min_beds, cash, pof, strategies)
        ("Maria", "Lopez", "Lake Eola Homes LLC", area, (-81.40, 28.52, -81.35, 28.56), 60_000, 250_000,
         ["sfr", "townhouse"], 2, True, True, ["flip"]),
        ("James", "Carter", "Parramore Rentals", zips, ["32805", "32808", "32811"], 40_000, 180_000,
         ["sfr", "multi"], 2, True, True, ["rental", "brrrr"]),
        ("Aisha", "Brown", "Conway Capital", radius, (-81.33, 28.50, 5), 80_000, 320_000,
         ["sfr"], 3, True, False, ["flip"]),
        ("Daniel", "Nguyen", "Pine Hills Holdings", area, (-81.48, 28.54, -81.42, 28.60), 30_000, 160_000,
         [], None, True, True, ["rental"]),
        ("Sofia", "Martinez", "", zips, ["32803", "32804", "32806", "32814"], 120_000, 450_000,
         ["sfr", "condo", "townhouse"], 2, True, True, ["flip"]),
        ("Robert", "Johnson", "RJ Property Group", radius, (-81.38, 28.54, 8), 50_000, 300_000,
         [], None, True, True, ["flip", "rental"]),
        ("Linda", "Williams", "Azalea Park Investors", area, (-81.32, 28.53, -81.26, 28.58), 70_000, 260_000,
         ["sfr", "multi"], 3, True, False, ["brrrr"]),
        ("Kevin", "Patel", "Southside Buyers", zips, ["32809", "32812", "32822", "32839"], 60_000, 240_000,
         ["sfr", "townhouse", "condo"], None, False, True, ["rental"]),
        ("Grace", "Kim", "Kim Family Trust", radius, (-81.45, 28.48, 6), 40_000, 220_000,
         ["sfr", "mobile"], 2, True, True, ["rental"]),
        ("Marcus", "Davis", "Colonialtown Flips", area, (-81.38, 28.55, -81.33, 28.59), 100_000, 380_000,
         ["sfr"], 3, True, True, ["flip"]),
        ("Elena", "Rossi", "Rossi Land Co", zips, ["32801", "32810", "32818", "32835"], 10_000, 150_000,
         ["land", "sfr", "mobile"], None, True, False, ["flip"]),
        ("Tyrone", "Hill", "Hill Capital Partners", radius, (-81.30, 28.60, 7), 90_000, 500_000,
         ["sfr", "multi", "townhouse"], 3, True, True, ["flip", "brrrr"]),
    ]  # fmt: skip
    out = []
    for n, (first, last, company, kind, where, low, high, types, beds, cash, pof, strategies) in enumerate(rows, 1):
        box = {
            "target_area": _area(*where) if kind == area else None,
            "target_zips": where if kind == zips else [],
            "center": Point(where[0], where[1], srid=4326) if kind == radius else None,
            "radius_miles": Decimal(where[2]) if kind == radius else None,
        }
        out.append(
            {
                "email": f"{first}.{last}@buyers.example".lower(),
                "first_name": first,
                "last_name": last,
                "company": company,
                "phone": f"+1407555{n:04d}",
                "sms_opt_in": n % 3 != 0,
                "tags": ["cash-buyer", "sample"],
                "min_price": Decimal(low),
                "max_price": Decimal(high),
                "property_types": types,
                "min_beds": beds,
                "strategies": strategies,
                "cash_buyer": cash,
                "proof_of_funds": pof,
                **box,
            }
        )
    return out


def buyers_create_samples() -> int:
    """Create the sample cash buyers around Orlando FL that are missing (by email); returns how many were created."""
    created = 0
    for data in _sample_buyers():
        email = data.pop("email")
        _, was_created = Buyer.objects.get_or_create(email=email, defaults=data)
        created += was_created
    return created
