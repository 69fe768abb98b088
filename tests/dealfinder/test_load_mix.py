"""The load test's request mix: weights, even coverage of variants, the sweep, admin filter links (pure)."""

from collections import Counter

import pytest

from dealfinder.ops.benchmark.load_mix import (
    ADMIN_CHANGELISTS,
    API_PATH,
    DEFAULT_WEIGHTS,
    MAP_PATH,
    Mix,
    MixSpec,
    Viewport,
    admin_filter_links,
    sweep_requests,
    viewports_for,
)

COUNTY = Viewport("county", (-81.6, 28.3, -81.0, 28.8), 10)
CITY = Viewport("city", (-81.40, 28.53, -81.38, 28.55), 14)


def spec(**overrides) -> MixSpec:
    values = {
        "viewports": [COUNTY, CITY],
        "map_filters": [("tier", (("tier", "A"), ("tier", "B"))), ("min_score", (("min_score", "60"),))],
        "api_variants": [("plain", ()), ("ordering", (("ordering", "-score"),))],
        "admin_filters": {
            "admin_leads": [(("tier__exact", "A"),), (("tier__exact", "B"),), (("status__exact", "new"),)]
        },
        "search_terms": {"admin_leads": ["292228885000001", "MAIN"]},
    }
    return MixSpec(**{**values, **overrides})


def draws(mix: Mix, n: int):
    return [mix.next_request() for _ in range(n)]


def test_kinds_follow_the_weights():
    requests = draws(Mix(spec(), seed=1), 20_000)
    counts = Counter(r.kind for r in requests)
    total = sum(DEFAULT_WEIGHTS.values())
    for kind, weight in DEFAULT_WEIGHTS.items():
        assert counts[kind] / len(requests) == pytest.approx(weight / total, abs=0.015), kind


def test_the_same_seed_gives_the_same_stream_and_another_seed_another():
    assert draws(Mix(spec(), seed=5), 200) == draws(Mix(spec(), seed=5), 200)
    assert draws(Mix(spec(), seed=5), 200) != draws(Mix(spec(), seed=6), 200)


def test_every_map_filter_and_viewport_is_asked_for_with_the_viewport_params():
    maps = [r for r in draws(Mix(spec(), seed=2), 3000) if r.kind == "map"]
    assert {r.variant for r in maps} == {f"{f}@{v}" for f in ("none", "tier", "min_score") for v in ("county", "city")}
    unfiltered = sum(r.variant.startswith("none@") for r in maps) / len(maps)
    assert unfiltered == pytest.approx(0.4, abs=0.05)
    first = next(r for r in maps if r.variant == "tier@city")
    assert first.path == MAP_PATH
    assert first.params == (
        ("tier", "A"),
        ("tier", "B"),
        ("in_bbox", "-81.40000,28.53000,-81.38000,28.55000"),
        ("zoom", "14"),
    )


def test_admin_changelists_cover_default_page_search_and_each_filter_link_evenly():
    mix = Mix(spec(weights={"admin_leads": 1}), seed=3)
    requests = draws(mix, 4000)
    assert {r.path for r in requests} == {ADMIN_CHANGELISTS["admin_leads"]}
    variants = Counter(r.variant for r in requests)
    assert set(variants) == {"default", "page", "search", "filter:tier__exact", "filter:status__exact"}
    assert variants["default"] / 4000 == pytest.approx(0.3, abs=0.03)
    # Round-robin: each of the three filter links as often as the others (within one turn).
    links = Counter(r.params for r in requests if r.variant.startswith("filter:"))
    assert len(links) == 3 and max(links.values()) - min(links.values()) <= 1
    terms = Counter(r.params for r in requests if r.variant == "search")
    assert set(terms) == {(("q", "292228885000001"),), (("q", "MAIN"),)}
    assert {r.params for r in requests if r.variant == "page"} == {(("p", "2"),)}


def test_a_changelist_without_discovered_filters_or_terms_asks_for_its_default_list():
    requests = draws(Mix(spec(weights={"admin_runs": 1}), seed=4), 300)
    assert {r.variant for r in requests} == {"default", "page"}


def test_brokers_start_their_round_robin_at_different_offsets():
    firsts = {Mix(spec(weights={"api": 1}), seed=9, offset=i).next_request().variant for i in range(2)}
    assert firsts == {"plain", "ordering"}


def test_the_api_follows_next_when_the_last_page_had_one():
    mix = Mix(spec(weights={"api": 1}), seed=5)
    assert all(r.variant != "next" for r in draws(mix, 100))
    mix.api_next = "/api/v1/leads/?page=3&tier=A"
    followed = [r for r in draws(mix, 400) if r.variant == "next"]
    assert len(followed) == pytest.approx(200, abs=40)
    assert followed[0].path == API_PATH and followed[0].params == (("page", "3"), ("tier", "A"))


def test_the_sweep_asks_for_every_variant_once():
    requests = sweep_requests(spec())
    keys = [(r.kind, r.variant, r.params) for r in requests]
    assert len(keys) == len(set(keys))
    kinds = Counter(r.kind for r in requests)
    assert kinds["dashboard"] == 1 and kinds["api"] == 2
    assert kinds["map"] == 6  # (none, tier, min_score) x (county, city)
    assert kinds["admin_leads"] == 2 + 3 + 2  # default, page; three filter links; two search terms
    assert all(kinds[kind] == 2 for kind in ADMIN_CHANGELISTS if kind != "admin_leads")
    only_map = sweep_requests(spec(weights={"map": 1}))
    assert {r.kind for r in only_map} == {"map"}


def test_spec_round_trips_through_json():
    original = spec()
    assert MixSpec.from_json(original.to_json()) == original


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"maps": 1}, "unknown request kinds: maps"),
        ({"map": 0, "api": 0}, "at least one must be positive"),
        ({"api": -1, "map": 2}, "must be >= 0"),
    ],
)
def test_a_mix_that_cannot_run_is_refused(weights, message):
    with pytest.raises(ValueError, match=message):
        spec(weights=weights).check()


def test_a_map_without_viewports_is_refused_unless_the_map_has_no_weight():
    with pytest.raises(ValueError, match="needs at least one viewport"):
        Mix(spec(viewports=[]), seed=1)
    Mix(spec(viewports=[], weights={"dashboard": 1}), seed=1)


# The sidebar as Django 5.2's admin renders it (change_list.html + admin/filter.html), trimmed.
SIDEBAR = """
<div id="changelist-form"><a href="?o=2">sort</a></div>
<nav id="changelist-filter" aria-labelledby="changelist-filter-header">
  <h2 id="changelist-filter-header">Filter</h2>
  <h3><a href="?_facets=True">Show counts</a></h3>
  <div id="changelist-filter-extra-actions"><h3><a href="?">&#10006; Clear all filters</a></h3></div>
  <details data-filter-title="tier" open><summary>By tier</summary>
  <ul><li class="selected"><a href="?" title="All">All</a></li>
    <li><a href="?tier__exact=A" title="A">A</a></li><li><a href="?tier__exact=B">B</a></li></ul></details>
  <details data-filter-title="contacted at" open><summary>By contacted at</summary><ul>
<li><a href="?contacted_at__gte=2026-12-05+00%3A00%3A00-05%3A00&amp;contacted_at__lt=2026-12-06+00%3A00%3A00-05%3A00"
      >Today</a></li>
    <li><a href="?contacted_at__isnull=True">No date</a></li><br>
    <li><a href="?tier__exact=A">A again</a></li>
  </ul></details>
</nav>
<p class="paginator"><a href="?p=2">2</a></p>
<a href="/admin/leads/lead/add/">Add</a>
"""


def test_admin_filter_links_are_the_sidebar_filters_only():
    assert admin_filter_links(SIDEBAR) == [
        (("tier__exact", "A"),),
        (("tier__exact", "B"),),
        (("contacted_at__gte", "2026-12-05 00:00:00-05:00"), ("contacted_at__lt", "2026-12-06 00:00:00-05:00")),
        (("contacted_at__isnull", "True"),),
    ]
    assert admin_filter_links("<html><body><a href='?p=2'>2</a></body></html>") == []


def test_viewports_cover_the_county_its_quarters_and_city_blocks_around_the_centres():
    views = viewports_for(extent=(-81.6, 28.3, -81.0, 28.8), centers=[(-81.38, 28.54), (-81.2, 28.6)])
    county = [v for v in views if v.label == "county"]
    assert county[0] == Viewport("county", (-81.6, 28.3, -81.0, 28.8), 10)
    assert len(county) == 5 and all(v.zoom == 11 for v in county[1:])
    assert sorted(v.bbox for v in county[1:]) == sorted(
        [
            (-81.6, 28.3, -81.3, 28.55),
            (-81.6, 28.55, -81.3, 28.8),
            (-81.3, 28.3, -81.0, 28.55),
            (-81.3, 28.55, -81.0, 28.8),
        ]
    )
    city = [v for v in views if v.label == "city"]
    assert len(city) == 2 and all(13 <= v.zoom <= 15 for v in city)
    for view, (lon, lat) in zip(city, [(-81.38, 28.54), (-81.2, 28.6)], strict=True):
        min_lon, min_lat, max_lon, max_lat = view.bbox
        assert (min_lon + max_lon) / 2 == pytest.approx(lon) and (min_lat + max_lat) / 2 == pytest.approx(lat)
        assert max_lon - min_lon == pytest.approx(0.044 * 2 ** (13 - view.zoom))
