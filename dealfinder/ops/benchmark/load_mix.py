"""What a simulated broker asks for: request kinds, their weights and variants (pure: no Django, no I/O).

Kinds: `dashboard` (`/`), `map` (`/map/leads.geojson`: every map filter at county and city viewports), `api`
(`/api/v1/leads/`: plain, orderings, a tier, following `next`), and one kind per admin changelist (properties,
leads, buyers, matches, ingestion runs: the default list, page 2, the search box, every link of the filter
sidebar as the page itself offers it). A kind's `variant` names what varied (`tier@county`, `filter:status`,
`search`), so slow filters show up on their own in the report.

`Mix` draws a broker's next request: the kind by weight, then within the kind round-robin over its variants
(from an offset per broker), so a run covers every variant evenly; `sweep_requests` lists each variant once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

DASHBOARD_PATH = "/"
MAP_PATH = "/map/leads.geojson"
API_PATH = "/api/v1/leads/"
ADMIN_CHANGELISTS = {
    "admin_properties": "/admin/properties/property/",
    "admin_leads": "/admin/leads/lead/",
    "admin_buyers": "/admin/buyers/buyer/",
    "admin_matches": "/admin/buyers/propertymatch/",
    "admin_runs": "/admin/properties/ingestionrun/",
}
# A morning in a brokerage: the map and the lead list most, the dashboard on arrival, integrations on the API.
DEFAULT_WEIGHTS = {
    "dashboard": 10,
    "map": 30,
    "api": 15,
    "admin_leads": 15,
    "admin_properties": 10,
    "admin_matches": 8,
    "admin_buyers": 6,
    "admin_runs": 6,
}
KINDS = tuple(DEFAULT_WEIGHTS)
MAP_UNFILTERED_SHARE = 0.4  # the map opens without filters; then brokers filter
API_FOLLOW_NEXT_SHARE = 0.5  # an integration pages on through `next` half of the time
# Within an admin changelist: the default list, page 2, a search, a filter-sidebar link.
ADMIN_SHARES = (("default", 0.3), ("page", 0.15), ("search", 0.2), ("filter", 0.35))

Params = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Request:
    kind: str
    variant: str
    path: str
    params: Params = ()

    @property
    def api(self) -> bool:
        return self.kind == "api"


@dataclass(frozen=True)
class Viewport:
    label: str  # "county" (cells) or "city" (points)
    bbox: tuple[float, float, float, float]  # min_lon, min_lat, max_lon, max_lat
    zoom: int

    def params(self) -> Params:
        return (("in_bbox", ",".join(f"{v:.5f}" for v in self.bbox)), ("zoom", str(self.zoom)))


@dataclass
class MixSpec:
    """Everything the mix draws from, as plain data (it crosses to the load process as JSON).

    `map_filters`: (filter name, query pairs) for each filter the map offers; `api_variants` likewise for the
    lead list API; `admin_filters`: per admin kind, the query pairs of each filter-sidebar link (filled in by
    the load process from the changelist pages themselves); `search_terms`: per admin kind, what a broker types.
    """

    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    viewports: list[Viewport] = field(default_factory=list)
    map_filters: list[tuple[str, Params]] = field(default_factory=list)
    api_variants: list[tuple[str, Params]] = field(default_factory=list)
    admin_filters: dict[str, list[Params]] = field(default_factory=dict)
    search_terms: dict[str, list[str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "weights": self.weights,
            "viewports": [[v.label, list(v.bbox), v.zoom] for v in self.viewports],
            "map_filters": [[name, [list(p) for p in params]] for name, params in self.map_filters],
            "api_variants": [[name, [list(p) for p in params]] for name, params in self.api_variants],
            "admin_filters": {k: [[list(p) for p in params] for params in v] for k, v in self.admin_filters.items()},
            "search_terms": self.search_terms,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MixSpec:
        def params(pairs) -> Params:
            return tuple((str(k), str(v)) for k, v in pairs)

        return cls(
            weights={k: float(v) for k, v in data["weights"].items()},
            viewports=[Viewport(label, tuple(bbox), int(zoom)) for label, bbox, zoom in data["viewports"]],
            map_filters=[(name, params(p)) for name, p in data["map_filters"]],
            api_variants=[(name, params(p)) for name, p in data["api_variants"]],
            admin_filters={k: [params(p) for p in v] for k, v in data["admin_filters"].items()},
            search_terms={k: list(v) for k, v in data["search_terms"].items()},
        )

    def check(self) -> None:
        """Refuse a mix that cannot run: unknown kinds, no weight, a map without viewports."""
        unknown = set(self.weights) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown request kinds: {', '.join(sorted(unknown))} (known: {', '.join(KINDS)})")
        if any(w < 0 for w in self.weights.values()) or not any(self.weights.values()):
            raise ValueError("request weights must be >= 0 and at least one must be positive")
        if self.weights.get("map") and not self.viewports:
            raise ValueError("the map kind needs at least one viewport (the county has no located leads?)")


def _map_request(name: str, params: Params, viewport: Viewport) -> Request:
    return Request("map", f"{name}@{viewport.label}", MAP_PATH, params + viewport.params())


def _admin_request(kind: str, variant: str, params: Params) -> Request:
    return Request(kind, variant, ADMIN_CHANGELISTS[kind], params)


def filter_variant(params: Params) -> str:
    """`filter:<parameter names>`: every value of one sidebar filter shares a variant."""
    return "filter:" + "&".join(sorted({name for name, _ in params}))


class Mix:
    """One broker's stream of requests (deterministic for a seed)."""

    def __init__(self, spec: MixSpec, *, seed: int, offset: int = 0):
        spec.check()
        self.spec = spec
        self.rng = random.Random(seed)  # noqa: S311 - a traffic mix, not security
        self.kinds = [k for k in KINDS if spec.weights.get(k)]
        self.weights = [spec.weights[k] for k in self.kinds]
        self.offset = offset
        self.turns: dict[str, int] = {}
        self.api_next: str | None = None  # path + query of the last API page's `next`, set by the broker

    def _turn(self, key: str, items: list) -> Any:
        """Round-robin over `items`, starting at this broker's offset."""
        n = self.turns.get(key, 0)
        self.turns[key] = n + 1
        return items[(self.offset + n) % len(items)]

    def next_request(self) -> Request:
        kind = self.rng.choices(self.kinds, weights=self.weights)[0]
        if kind == "dashboard":
            return Request(kind, "default", DASHBOARD_PATH)
        if kind == "map":
            viewport = self.rng.choice(self.spec.viewports)
            if not self.spec.map_filters or self.rng.random() < MAP_UNFILTERED_SHARE:
                return _map_request("none", (), viewport)
            name, params = self._turn("map", self.spec.map_filters)
            return _map_request(name, params, viewport)
        if kind == "api":
            if self.api_next and self.rng.random() < API_FOLLOW_NEXT_SHARE:
                path, _, query = self.api_next.partition("?")
                return Request(kind, "next", path, tuple(parse_qsl(query)))
            if not self.spec.api_variants:
                return Request(kind, "plain", API_PATH)
            name, params = self._turn("api", self.spec.api_variants)
            return Request(kind, name, API_PATH, params)
        return self._admin(kind)

    def _admin(self, kind: str) -> Request:
        choice = _admin_choice(self.rng.random())
        filters, terms = self.spec.admin_filters.get(kind), self.spec.search_terms.get(kind)
        if choice == "filter" and filters:
            params = self._turn(kind, filters)
            return _admin_request(kind, filter_variant(params), params)
        if choice == "search" and terms:
            return _admin_request(kind, "search", (("q", self._turn(f"{kind}:q", terms)),))
        if choice == "page":
            return _admin_request(kind, "page", (("p", "2"),))
        return _admin_request(kind, "default", ())


def _admin_choice(draw: float) -> str:
    """The ADMIN_SHARES entry a uniform draw in [0, 1) falls in."""
    share = 0.0
    for choice, weight in ADMIN_SHARES:
        share += weight
        if draw < share:
            return choice
    return ADMIN_SHARES[-1][0]


def sweep_requests(spec: MixSpec) -> list[Request]:
    """Every variant once (for the kinds with a weight): each map filter at a county and a city viewport, each
    API variant, and per changelist the default list, page 2, every filter link and every search term."""
    kinds = {k for k, w in spec.weights.items() if w}
    out: list[Request] = []
    if "dashboard" in kinds:
        out.append(Request("dashboard", "default", DASHBOARD_PATH))
    if "map" in kinds:
        views = {v.label: v for v in reversed(spec.viewports)}  # the first viewport of each label
        for name, params in [("none", ()), *spec.map_filters]:
            out.extend(_map_request(name, params, view) for view in views.values())
    if "api" in kinds:
        out.extend(Request("api", name, API_PATH, params) for name, params in spec.api_variants or [("plain", ())])
    for kind in ADMIN_CHANGELISTS:
        if kind not in kinds:
            continue
        out.append(_admin_request(kind, "default", ()))
        out.append(_admin_request(kind, "page", (("p", "2"),)))
        out.extend(_admin_request(kind, filter_variant(p), p) for p in spec.admin_filters.get(kind, []))
        out.extend(_admin_request(kind, "search", (("q", t),)) for t in spec.search_terms.get(kind, []))
    return out


class _FilterLinks(HTMLParser):
    """The hrefs of the links inside the admin's filter sidebar (`<nav id="changelist-filter">`)."""

    def __init__(self):
        super().__init__()
        self.depth = 0  # > 0 while inside the sidebar
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.depth:
            self.depth += tag not in _VOID
            if tag == "a" and attrs.get("href"):
                self.links.append(attrs["href"])
        elif attrs.get("id") == "changelist-filter":
            self.depth = 1

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# Links in the sidebar that are not a filter: "All" and "Clear all filters" (`?`), and the facet counts toggle
# (`_facets`, counts for every filter on every page: a different page, not a filter).
_NOT_FILTERS = {"_facets"}


def admin_filter_links(html: str) -> list[Params]:
    """The query pairs of each filter a changelist page offers, in page order, without duplicates."""
    parser = _FilterLinks()
    parser.feed(html)
    seen, out = set(), []
    for href in parser.links:
        split = urlsplit(href)
        if split.scheme or split.netloc or (split.path and split.path != "."):
            continue  # not a link to this changelist
        params = tuple(parse_qsl(split.query, keep_blank_values=True))
        if not params or any(name in _NOT_FILTERS for name, _ in params) or params in seen:
            continue
        seen.add(params)
        out.append(params)
    return out


def viewports_for(
    *, extent: tuple[float, float, float, float], centers: list[tuple[float, float]], seed: int = 7
) -> list[Viewport]:
    """Map viewports a broker pans to: the whole county and its quarters at zoom 10-11 (cells), and city blocks at
    zoom 13-15 around `centers` (where the leads are; points)."""
    rng = random.Random(seed)  # noqa: S311 - viewports, not security
    min_lon, min_lat, max_lon, max_lat = extent
    mid_lon, mid_lat = (min_lon + max_lon) / 2, (min_lat + max_lat) / 2
    views = [Viewport("county", extent, 10)]
    for lon0, lon1 in ((min_lon, mid_lon), (mid_lon, max_lon)):
        for lat0, lat1 in ((min_lat, mid_lat), (mid_lat, max_lat)):
            views.append(Viewport("county", (lon0, lat0, lon1, lat1), 11))
    for lon, lat in centers:
        zoom = rng.choice((13, 14, 15))
        half_w, half_h = 0.022 * 2 ** (13 - zoom), 0.016 * 2 ** (13 - zoom)  # a laptop screen at that zoom
        views.append(Viewport("city", (lon - half_w, lat - half_h, lon + half_w, lat + half_h), zoom))
    return views
