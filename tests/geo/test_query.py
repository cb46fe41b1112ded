"""The ranking query (geo/query.py), its cache, and the filter registry (geo/filters.py)."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from geo.criteria import CRITERIA_ORDER, PROFILES
from geo.errors import InvalidParameter
from geo.filters import FILTER_NAMES, FILTERS, NO_DATA, REASONS, Filters, FilterSpec, _registry, docs
from geo.query import Page, RankingCache, RankingQuery, Stability
from geo.sites import PUBLIC_COLUMNS


def test_defaults_are_the_profile_own_ranking():
    q = RankingQuery.of()
    assert q.profile == "balanced" and q.weights == () and q.filters == Filters()
    assert q.h2_year == PROFILES["balanced"].h2_horizon
    assert q.stability is None and q.page == Page(100, 0)
    assert q.is_default and q.key == q


def test_queries_with_the_same_effect_are_equal():
    own = PROFILES["hydrogen"]
    a = RankingQuery.of("hydrogen", {"h2": own.weights["h2"]}, h2_year=own.h2_horizon, limit=5, offset=10)
    b = RankingQuery.of("hydrogen")
    assert a.key == b.key and hash(a.key) == hash(b.key) and a.is_default
    assert a.page == Page(5, 10) and a != b  # the page is part of the query, not of its key
    assert RankingQuery.of(weights={"h2": 7, "area": 2}) == RankingQuery.of(weights={"area": 2.0, "h2": 7.0})
    assert RankingQuery.of(weights={"h2": 7}).weights == (("h2", 7.0),)
    assert not RankingQuery.of(weights={"h2": 7}).is_default
    f1 = Filters(kind="lep,brownfield,lep", min_area_ha=5)
    f2 = Filters(kind=["brownfield", "lep"], min_area_ha=5.0)
    assert f1 == f2 and hash(f1) == hash(f2) and f1.kind == ("brownfield", "lep")
    assert RankingQuery.of(filters=f1) == RankingQuery.of(filters=f2)
    assert Filters(kind=[], min_fibre=None) == Filters() and not Filters()


def test_effective_weights_and_profile_follow_the_query():
    q = RankingQuery.of("digital", {"h2": 9}, h2_year=2028)
    assert q.effective_weights() == {
        **{c: float(PROFILES["digital"].weights.get(c, 0)) for c in CRITERIA_ORDER},
        "h2": 9.0,
    }
    assert q.resolved_profile().h2_horizon == 2028 and q.resolved_profile().name == "digital"
    s = RankingQuery.of("digital", {"h2": 9}, Filters(kind="lep"), stability_top=3, limit=7).scores_only()
    assert s == RankingQuery.of("digital", {"h2": 9}, limit=100) and s.stability is None


def test_a_query_is_frozen():
    q = RankingQuery.of()
    with pytest.raises(AttributeError):
        q.profile = "digital"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        Filters().kind = ("lep",)  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"profile": "cheap"}, "unknown profile 'cheap'; profiles: balanced"),
        ({"weights": {"parking": 1}}, "unknown criterion 'parking'"),
        ({"weights": {"h2": -1}}, "weight of h2 must be finite and ≥ 0"),
        ({"weights": {"h2": "x"}}, "weight of h2 must be a number"),
        ({"weights": {"h2": math.inf}}, "weight of h2 must be finite"),
        ({"weights": dict.fromkeys(CRITERIA_ORDER, 0)}, "at least one weight must be greater than 0"),
        ({"h2_year": 2100}, "h2_year must be between 2025 and 2050"),
        ({"h2_year": "2030"}, "h2_year must be a whole year"),
        ({"h2_year": 2030.5}, "h2_year must be a whole year"),
        ({"stability_top": 0}, "stability must be a whole number ≥ 1"),
        ({"stability_top": 3, "draws": 0}, "draws must be between 1 and 2000"),
        ({"stability_top": 3, "draws": 2001}, "draws must be between 1 and 2000"),
        ({"stability_top": 3, "spread": 1.0}, r"spread must be in \[0, 1\)"),
        ({"stability_top": 3, "spread": math.nan}, r"spread must be in \[0, 1\)"),
        ({"stability_top": 3, "seed": -1}, "seed must be a whole number between 0 and"),
        ({"limit": -1}, "limit must be a whole number ≥ 0"),
        ({"offset": -5}, "offset must be a whole number ≥ 0"),
        ({"limit": 2.5}, "limit must be a whole number"),
    ],
)
def test_bad_queries_are_refused_with_a_clear_message(kwargs, message):
    with pytest.raises(InvalidParameter, match=message):
        RankingQuery.of(**kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"parking": 3}, "unknown filter; filters: min_area_ha, max_area_ha"),
        ({"min_area_ha": -1}, "min_area_ha must be a finite number ≥ 0"),
        ({"max_h2_km": math.nan}, "max_h2_km must be a finite number"),
        ({"max_area_ha": "big"}, "max_area_ha must be a finite number"),
        ({"max_area_ha": True}, "max_area_ha must be a finite number"),
        ({"min_5g": 1.5}, "min_5g is a share between 0 and 1"),
        ({"kind": "castle"}, "kind takes comma-separated values from: regional_plan, brownfield, lep"),
        ({"contamination": "some"}, "contamination takes comma-separated values from: none, suspected"),
        ({"ags": "0556200"}, "ags takes 8-digit keys, comma-separated"),
        ({"kreis": "05562,5562x"}, "kreis takes 5-digit keys, comma-separated"),
        ({"kreis": ",".join(f"{k:05d}" for k in range(501))}, "at most 500 values for kreis"),
        ({"kind": 3}, "kind takes a list of values"),
    ],
)
def test_bad_filters_are_refused_with_a_clear_message(kwargs, message):
    with pytest.raises(InvalidParameter, match=message):
        Filters(**kwargs)


def test_a_query_takes_filters_only_as_filters():
    with pytest.raises(InvalidParameter, match="filters must be Filters"):
        RankingQuery(profile="balanced", filters="min_area_ha=5")  # type: ignore[arg-type]


# -- the filter registry --------------------------------------------------------------------
def test_the_registry_declares_every_filter_once_in_reason_order():
    assert FILTER_NAMES == tuple(FILTERS) and REASONS == (*FILTER_NAMES, NO_DATA)
    assert [d["name"] for d in docs()] == list(FILTER_NAMES)
    for f in FILTERS.values():
        assert f.label_de and f.label_en and f.description
        assert f.column in PUBLIC_COLUMNS  # a column every stored site has (and the UI table)
        assert f.kind in ("min", "max", "any_of") and (f.is_list == (f.kind == "any_of"))
        assert not f.is_list or f.choices or f.pattern
    dup = FilterSpec("kind", "any_of", "kind", "a", "b", "c", choices=("x",))
    with pytest.raises(ValueError, match="declared twice"):
        _registry(dup, dup)


def test_a_missing_value_fails_min_max_and_any_of_but_passes_always_passes():
    col = np.array([1.0, np.nan, 3.0])
    assert FILTERS["min_area_ha"].keep(col, 1.0, 3).tolist() == [True, False, True]
    assert FILTERS["max_area_ha"].keep(col, 1.0, 3).tolist() == [True, False, False]
    kinds = np.array(["lep", None, "brownfield"], dtype=object)
    assert FILTERS["kind"].keep(kinds, ("lep",), 3).tolist() == [True, False, False]
    cont = np.array(["none", None, "confirmed", "not_applicable"], dtype=object)
    assert FILTERS["contamination"].keep(cont, ("none",), 4).tolist() == [True, True, False, True]
    # a table without the column (ad-hoc polygons have no contamination): only "always passes"
    assert FILTERS["contamination"].keep(None, ("none",), 2).tolist() == [True, True]
    assert FILTERS["min_fibre"].keep(None, 0.5, 2).tolist() == [False, False]


# -- the cache --------------------------------------------------------------------------------
class Counting:
    def __init__(self) -> None:
        self.calls: list[RankingQuery] = []

    def __call__(self, q: RankingQuery) -> object:
        self.calls.append(q)
        return object()


def test_the_cache_keys_rankings_by_the_query_without_its_page():
    compute = Counting()
    cache = RankingCache(compute, size=2)  # type: ignore[arg-type]
    a = cache.ranking(RankingQuery.of(limit=10))
    assert cache.ranking(RankingQuery.of(limit=50, offset=100)) is a
    assert cache.ranking(RankingQuery.of(weights={"h2": PROFILES["balanced"].weights["h2"]})) is a
    assert compute.calls == [RankingQuery.of()]  # computed once, for the key (page dropped)


def test_the_profiles_own_rankings_stay_and_the_others_are_least_recently_used():
    compute = Counting()
    cache = RankingCache(compute, size=2)  # type: ignore[arg-type]
    own = cache.ranking(RankingQuery.of("digital"))
    q1, q2, q3 = (RankingQuery.of(weights={"h2": k}) for k in (5, 6, 7))
    r1 = cache.ranking(q1)
    cache.ranking(q2)
    assert cache.ranking(q1) is r1  # used again: q2 is now the oldest
    cache.ranking(q3)  # evicts q2
    assert cache.ranking(q1) is r1 and len(compute.calls) == 4
    cache.ranking(q2)
    assert len(compute.calls) == 5
    assert cache.ranking(RankingQuery.of("digital")) is own  # never evicted


def test_pages_are_kept_for_the_profiles_own_rankings_only_and_bounded():
    cache = RankingCache(Counting(), pages=2)  # type: ignore[arg-type]
    rendered: list[int] = []

    def render(_: object) -> bytes:
        rendered.append(1)
        return b"%d" % len(rendered)

    q = RankingQuery.of(limit=10)
    assert cache.page(q, True, render) == b"1" and cache.page(q, True, render) == b"1"
    assert cache.page(q, False, render) == b"2"  # another variant (breakdown) is another page
    assert cache.page(RankingQuery.of(limit=10, offset=10), True, render) == b"3"
    assert cache.page(RankingQuery.of(limit=10, offset=10), True, render) == b"4"  # bound reached
    custom = RankingQuery.of(weights={"h2": 9})
    assert cache.page(custom, True, render) == b"5" and cache.page(custom, True, render) == b"6"


def test_the_cache_is_safe_from_many_threads():
    compute = Counting()
    cache = RankingCache(compute, size=4)  # type: ignore[arg-type]
    queries = [RankingQuery.of(weights={"h2": k % 6 + 1}, offset=k) for k in range(300)]
    out: list[object] = []

    def work(qs: list[RankingQuery]) -> None:
        out.extend(cache.ranking(q) for q in qs)

    threads = [threading.Thread(target=work, args=(queries[k::8],)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == 300


def test_stability_and_page_check_themselves():
    assert Stability(3).params() == {"draws": 200, "spread": 0.25, "seed": 0, "top": 3}
    assert Page(10, 5).of(100) == slice(5, 15) and Page(10, 500).of(100) == slice(100, 100)
    with pytest.raises(InvalidParameter):
        Stability(True)  # type: ignore[arg-type]
