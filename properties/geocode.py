"""US Census batch geocoder client, and the cached service that places properties without a point.

The batch endpoint takes a CSV upload (`id,street,city,state,zip`, at most 10,000 rows) and
answers CSV rows in its own order: `id, input address, Match|No_Match|Tie, match type,
matched address, "lon,lat", tiger line id, side`. Every answer (matches and misses alike)
is kept in GeocodeCache under a normalized address key, so an address is geocoded once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import httpx
from django.conf import settings
from django.contrib.gis.geos import Point
from django.utils import timezone

from properties.ingest.http import RETRY_WAIT, describe_error, http_client, send
from properties.models import GeocodeCache, Property

logger = logging.getLogger(__name__)

CENSUS_BATCH_LIMIT = 10_000
MATCH, NO_MATCH, TIE = "Match", "No_Match", "Tie"
WRITE_BATCH = 1000


@dataclass(frozen=True)
class GeocodeResult:
    id: str
    status: str  # Match, No_Match or Tie
    location: Point | None = None  # SRID 4326, only for Match
    matched_address: str = ""


@dataclass
class GeocodeSummary:
    looked_up: int = 0  # properties considered
    cached_hits: int = 0  # ... answered from GeocodeCache without a request
    sent: int = 0  # distinct addresses sent to the geocoder
    matched: int = 0
    no_match: int = 0
    tie: int = 0
    failed: int = 0  # properties whose batch failed or got no answer (retried on the next run)
    skipped: bool = False  # GEOCODER_ENABLED is off

    def __str__(self) -> str:
        if self.skipped:
            return "geocoding skipped (GEOCODER_ENABLED is off)"
        return (
            f"looked up {self.looked_up}: {self.cached_hits} from cache, {self.sent} addresses sent; "
            f"matched {self.matched}, no match {self.no_match}, tie {self.tie}, failed {self.failed}"
        )


class CensusGeocoder:
    """Client for the Census `locations/addressbatch` endpoint."""

    def __init__(
        self,
        url: str | None = None,
        benchmark: str | None = None,
        http: httpx.Client | None = None,
        *,
        batch_limit: int = CENSUS_BATCH_LIMIT,
        retry_wait: float = RETRY_WAIT,
    ):
        self.url = url or settings.GEOCODER_URL
        self.benchmark = benchmark or settings.GEOCODER_BENCHMARK
        self.http = http
        self.batch_limit = min(batch_limit, CENSUS_BATCH_LIMIT)
        self.retry_wait = retry_wait

    def geocode_batch(self, rows: Sequence[tuple[str, str, str, str, str]]) -> dict[str, GeocodeResult]:
        """(id, street, city, state, zip) rows -> results by id; raises httpx.HTTPError when a request fails."""
        client = self.http or http_client()
        try:
            results: dict[str, GeocodeResult] = {}
            for start in range(0, len(rows), self.batch_limit):
                results.update(self._request(client, rows[start : start + self.batch_limit]))
            return results
        finally:
            if client is not self.http:
                client.close()

    def _request(self, client: httpx.Client, rows: Sequence[tuple]) -> dict[str, GeocodeResult]:
        upload = io.StringIO()
        csv.writer(upload, lineterminator="\n").writerows([str(v or "") for v in row] for row in rows)
        response = send(
            client,
            "POST",
            self.url,
            retry_wait=self.retry_wait,
            data={"benchmark": self.benchmark},
            files={"addressFile": ("addresses.csv", upload.getvalue().encode(), "text/csv")},
        )
        return {result.id: result for result in parse_batch_answer(response.text)}


def parse_batch_answer(text: str) -> Iterator[GeocodeResult]:
    for row in csv.reader(io.StringIO(text)):
        if len(row) < 3 or row[0].strip().lower() == "id":
            continue
        status = row[2].strip()
        location = None
        if status == MATCH:
            try:
                lon, lat = (float(v) for v in row[5].split(","))
            except (IndexError, ValueError):  # a garbled row counts as unanswered
                continue
            location = Point(lon, lat, srid=4326)
        yield GeocodeResult(
            id=row[0].strip(), status=status, location=location, matched_address=row[4].strip() if location else ""
        )


def geocode_address_key(*, street: str, city: str, state: str, zip: str) -> str:
    """The cache key of an address: uppercased, punctuation and extra spaces removed, 5-digit zip."""

    def clean(value: str) -> str:
        return " ".join(re.sub(r"[.,#]", " ", value or "").upper().split())

    key = f"{clean(street)}, {clean(city)}, {clean(state)} {(zip or '').strip()[:5]}"
    if len(key) > 255:
        key = f"{key[:190]}#{hashlib.sha256(key.encode()).hexdigest()}"
    return key


def property_geocode_missing(
    *, limit: int | None = None, batch_size: int = CENSUS_BATCH_LIMIT, geocoder: CensusGeocoder | None = None
) -> GeocodeSummary:
    """Place active properties that have an address but no point: cache first, then the Census geocoder."""
    summary = GeocodeSummary()
    if not settings.GEOCODER_ENABLED:
        summary.skipped = True
        return summary
    geocoder = geocoder or CensusGeocoder()
    pending = Property.objects.filter(is_active=True, location__isnull=True).exclude(street="").order_by("pk")
    last_pk = 0
    while limit is None or summary.looked_up < limit:
        size = batch_size if limit is None else min(batch_size, limit - summary.looked_up)
        batch = list(pending.filter(pk__gt=last_pk).only("pk", "street", "city", "state", "zip")[:size])
        if not batch:
            break
        last_pk = batch[-1].pk
        _geocode_properties(batch, geocoder, summary)
    return summary


def _geocode_properties(properties: list[Property], geocoder: CensusGeocoder, summary: GeocodeSummary) -> None:
    keys = {p.pk: geocode_address_key(street=p.street, city=p.city, state=p.state, zip=p.zip) for p in properties}
    answers = {c.address_key: c for c in GeocodeCache.objects.filter(address_key__in=set(keys.values()))}
    cached = set(answers)
    missing: dict[str, Property] = {}  # one property per address
    for prop in properties:
        if keys[prop.pk] not in answers:
            missing.setdefault(keys[prop.pk], prop)
    if missing:
        ordered = list(missing.items())
        rows = [(str(n), p.street, p.city, p.state, p.zip) for n, (_key, p) in enumerate(ordered)]
        try:
            results = geocoder.geocode_batch(rows)
        except httpx.HTTPError as exc:
            logger.warning("Census geocoder failed for %d addresses: %s", len(rows), describe_error(exc))
            results = {}
        summary.sent += len(rows)
        fresh = [
            GeocodeCache(address_key=key, status=r.status, location=r.location, matched_address=r.matched_address)
            for n, (key, _p) in enumerate(ordered)
            if (r := results.get(str(n))) and r.status in (MATCH, NO_MATCH, TIE)
        ]
        GeocodeCache.objects.bulk_create(fresh, ignore_conflicts=True, batch_size=WRITE_BATCH)
        answers.update((c.address_key, c) for c in fresh)

    now = timezone.now()
    placed = []
    for prop in properties:
        summary.looked_up += 1
        answer = answers.get(keys[prop.pk])
        if answer is None:
            summary.failed += 1
            continue
        summary.cached_hits += keys[prop.pk] in cached
        summary.matched += answer.status == MATCH
        summary.no_match += answer.status == NO_MATCH
        summary.tie += answer.status == TIE
        if answer.location is not None:
            prop.location, prop.geocoded_at, prop.updated_at = answer.location, now, now
            placed.append(prop)
    Property.objects.bulk_update(placed, ["location", "geocoded_at", "updated_at"], batch_size=WRITE_BATCH)
