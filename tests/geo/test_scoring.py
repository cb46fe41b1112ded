"""Scores, hard filters, breakdowns, ranks and rank stability (geo/scoring.py), checked by hand.

The indicator table has the columns ``compute_indicators`` produces; every expected score is
written out as ``100 · Σ w·v / Σ w`` over the criteria with data.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from geo.criteria import CRITERIA_ORDER
from geo.errors import InvalidParameter
from geo.filters import Filters, parse_list
from geo.scoring import Scorer, percentile
from tests.geo.builders import indicator_frame

NAN = float("nan")
H2_COLUMNS = ["_h2_km_2030", "_h2_year_2030", "_h2_km_2032", "_h2_year_2032"]


def h2(km_2030: float, km_2032: float | None = None, year_2032: float = 2027.0) -> dict:
    """Per-horizon hydrogen columns: nearest segment in service by 2030 and by 2032."""
    return {
        "_h2_km_2030": km_2030,
        "_h2_year_2030": NAN if math.isnan(km_2030) else 2027.0,
        "_h2_km_2032": km_2030 if km_2032 is None else km_2032,
        "_h2_year_2032": year_2032,
    }


SITES = {
    "a": {
        "area_ha": 50.0,
        "planning_category": "GIB",
        **h2(1.0),
        "fibre_share": 0.5,
        "mobile_5g_share": 0.25,
        "funding_region": "GRW_D",
    },
    "b": {
        "kind": "brownfield",
        "area_ha": 1.0,
        "planning_category": "BROWNFIELD",
        "is_brownfield": True,
        **h2(10.5),
        "fibre_share": NAN,
        "mobile_5g_share": 1.0,
        "funding_region": "none",
        "contamination": "confirmed",
    },
    # only a segment commissioned in 2031 is near: nothing in service by 2030
    "c": {
        "kind": "lep",
        "ags": "05562012",
        "area_ha": math.sqrt(50),
        "planning_category": "LEP",
        **h2(NAN, 0.5, 2031.0),
        "fibre_share": 1.0,
        "mobile_5g_share": 0.5,
        "funding_region": "GRW_C",
    },
    "d": {
        "ags": "05513000",
        "kreis_ags": "05513",
        "area_ha": 200.0,
        "planning_category": "GIB_Z",
        **h2(25.0),
        "fibre_share": 0.0,
        "mobile_5g_share": 0.0,
        "funding_region": "JTF",
    },
    "e": {
        "kind": "brownfield",
        "ags": "05513000",
        "kreis_ags": "05513",
        "area_ha": 60.0,
        "planning_category": "BROWNFIELD",
        "is_brownfield": True,
        **h2(3.0),
        "fibre_share": 0.8,
        "mobile_5g_share": 0.6,
        "funding_region": None,
        "contamination": "remediated",
    },
}
# v per criterion (area, planning, brownfield, h2, fibre, mobile_5g, funding) for `balanced`
# (area 1 → 50 ha, horizon 2032: the 2031 segment counts)
V_BALANCED = {
    "a": [1.0, 0.9, 0.0, 1.0, 0.5, 0.25, 0.5],
    "b": [0.0, 0.4, 1.0, 0.5, NAN, 1.0, 0.0],
    "c": [0.5, 1.0, 0.0, 1.0, 1.0, 0.5, 1.0],
    "d": [1.0, 0.6, 0.0, 0.0, 0.0, 0.0, 1.0],
    "e": [1.0, 0.4, 1.0, 0.8947, 0.8, 0.6, NAN],  # h2: 17/19 = 0.894736… kept to 4 decimals
}
SCORE_BALANCED = {
    "a": 100 * 4.15 / 7,
    "b": 100 * 2.9 / 6,
    "c": 100 * 5 / 7,
    "d": 100 * 2.6 / 7,
    "e": 100 * (3.8 + 0.8947) / 6,
}


def hand_score(v: list[float], w: list[float]) -> float:
    """The score by hand, with v kept to 4 decimals as the scorer keeps it."""
    ok = [(wi, round(vi, 4)) for wi, vi in zip(w, v, strict=True) if not math.isnan(vi)]
    return 100 * sum(wi * vi for wi, vi in ok) / sum(wi for wi, _ in ok)


@pytest.fixture
def scorer() -> Scorer:
    return Scorer(indicator_frame(SITES))


def scores(scorer: Scorer, r) -> dict[str, float]:
    return dict(zip(scorer.site_id, r.score, strict=True))


def test_balanced_score_is_the_weighted_mean_of_v_by_hand(scorer):
    r = scorer.rank()
    assert r.profile.name == "balanced"
    for sid, want in SCORE_BALANCED.items():
        assert hand_score(V_BALANCED[sid], [1] * 7) == pytest.approx(want)
    assert scores(scorer, r) == pytest.approx(SCORE_BALANCED)
    np.testing.assert_allclose(r.values[:, :7], [V_BALANCED[s] for s in SITES])
    assert np.isnan(r.values[:, 7:]).all()  # no transport data in this table: missing, not 0


def test_hydrogen_profile_score_by_hand_with_its_2030_horizon(scorer):
    w = [2, 1, 0.5, 4, 0.5, 0.5, 1]
    ln20 = math.log(100 / 5)  # area: min 5 ha, target 100 ha
    v = {
        "a": [math.log(50 / 5) / ln20, 0.9, 0, 1, 0.5, 0.25, 0.5],
        "b": [0, 0.4, 1, 0.5, NAN, 1, 0],
        "c": [math.log(math.sqrt(50) / 5) / ln20, 1, 0, 0, 1, 0.5, 1],  # 2031 segment: h2 0
        "d": [1, 0.6, 0, 0, 0, 0, 1],
        "e": [math.log(60 / 5) / ln20, 0.4, 1, 17 / 19, 0.8, 0.6, NAN],
    }
    r = scorer.rank("hydrogen")
    assert scores(scorer, r) == pytest.approx({s: hand_score(v[s], w) for s in SITES})


def test_weight_overrides_change_the_score_by_hand(scorer):
    r = scorer.rank(weights={"h2": 3, "fibre": 0})
    w = [1, 1, 1, 3, 0, 1, 1]
    assert scores(scorer, r) == pytest.approx({s: hand_score(V_BALANCED[s], w) for s in SITES})
    assert r.weights["h2"] == 3.0 and r.weights["fibre"] == 0.0


def test_missing_criterion_is_left_out_of_both_sums_never_counted_as_zero(scorer):
    r = scorer.rank()
    b = list(scorer.site_id).index("b")
    assert r.score[b] == pytest.approx(100 * 2.9 / 6)
    assert r.score[b] != pytest.approx(100 * 2.9 / 7)  # what counting fibre as 0 would give
    bd = scorer.breakdown(r, b)
    assert bd["fibre"] == {
        "indicator": {"fibre_share": None},
        "v": None,
        "weight": 1.0,
        "points": None,
        "missing": True,
    }
    # no transport, labour, energy or land-constraint data in this table
    transport = [
        "motorway",
        "rail",
        "port",
        "airport",
        "workforce",
        "grid",
        "renewables",
        "waste_heat",
        "protected",
        "floodplain",
        "availability",
    ]
    assert [c for c in CRITERIA_ORDER if bd[c]["missing"]] == ["fibre", *transport]
    e = list(scorer.site_id).index("e")
    assert [c for c in CRITERIA_ORDER if scorer.breakdown(r, e)[c]["missing"]] == ["funding", *transport]


@pytest.mark.parametrize("profile", ["balanced", "hydrogen", "digital", "large_scale"])
def test_breakdown_points_sum_to_the_score(scorer, profile):
    r = scorer.rank(profile, filters=Filters(min_area_ha=0))
    for row in range(scorer.n):
        bd = scorer.breakdown(r, row)
        assert list(bd) == list(CRITERIA_ORDER)
        points = sum(x["points"] for x in bd.values() if not x["missing"])
        assert points == pytest.approx(r.score[row], abs=0.01)
        for c, x in bd.items():
            assert x["weight"] == r.weights[c]
            if not x["missing"]:
                assert x["v"] == pytest.approx(r.values[row, CRITERIA_ORDER.index(c)], abs=1e-4)


def test_breakdown_shows_the_indicators_of_the_profile_horizon(scorer):
    c = list(scorer.site_id).index("c")
    bd = scorer.breakdown(scorer.rank("hydrogen"), c)
    assert bd["h2"]["indicator"] == {"h2_distance_km": None, "h2_commissioning_year": None}
    assert bd["h2"]["v"] == 0.0 and not bd["h2"]["missing"]
    bd = scorer.breakdown(scorer.rank("balanced"), c)
    assert bd["h2"]["indicator"] == {"h2_distance_km": 0.5, "h2_commissioning_year": 2031}
    assert bd["area"]["indicator"] == {"area_ha": pytest.approx(math.sqrt(50), abs=1e-6)}
    assert bd["planning"]["indicator"] == {"planning_category": "LEP"}


def test_sites_without_hydrogen_data_have_h2_missing_not_zero():
    df = indicator_frame(SITES).drop(columns=H2_COLUMNS)
    df["h2_distance_km"] = NAN
    df["h2_commissioning_year"] = NAN
    s = Scorer(df)
    r = s.rank()
    assert np.isnan(r.values[:, CRITERIA_ORDER.index("h2")]).all()
    v = {k: V_BALANCED[k][:3] + [NAN] + V_BALANCED[k][4:] for k in SITES}
    assert scores(s, r) == pytest.approx({k: hand_score(v[k], [1] * 7) for k in SITES})


# -- ranks ----------------------------------------------------------------------------------------
def test_ranks_are_1_to_n_best_first(scorer):
    r = scorer.rank()
    by_rank = sorted(SCORE_BALANCED, key=SCORE_BALANCED.get, reverse=True)
    assert by_rank == ["e", "c", "a", "b", "d"]
    assert list(scorer.site_id[r.order]) == by_rank
    assert dict(zip(scorer.site_id, r.rank, strict=True)) == {"e": 1, "c": 2, "a": 3, "b": 4, "d": 5}
    assert r.excluded == {}


def test_equal_scores_are_ranked_by_site_id():
    same = {"fibre_share": 0.3}
    s = Scorer(indicator_frame({"z": same, "y": same, "w": {"fibre_share": 0.9}, "x": same}))
    r = s.rank()
    assert list(s.site_id[r.order]) == ["w", "x", "y", "z"]
    assert dict(zip(s.site_id, r.rank, strict=True)) == {"w": 1, "x": 2, "y": 3, "z": 4}


# -- hard filters ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "profile,filters,excluded,kept",
    [
        ("balanced", Filters(min_area_ha=5), {"min_area_ha": 1}, "acde"),
        ("balanced", Filters(max_area_ha=55), {"max_area_ha": 2}, "abc"),
        ("balanced", Filters(max_h2_km=5), {"max_h2_km": 2}, "ace"),
        # with the 2030 horizon c has nothing in service: excluded as well
        ("hydrogen", Filters(max_h2_km=5), {"max_h2_km": 3}, "ae"),
        ("balanced", Filters(kind=("brownfield",)), {"kind": 3}, "be"),
        ("balanced", Filters(kind=("lep", "regional_plan")), {"kind": 2}, "acd"),
        ("balanced", Filters(ags=("05513000",)), {"ags": 3}, "de"),
        ("balanced", Filters(kreis=("05562",)), {"kreis": 2}, "abc"),
        # unknown fibre (b) never passes a minimum
        ("balanced", Filters(min_fibre=0.5), {"min_fibre": 2}, "ace"),
        ("balanced", Filters(min_5g=0.5), {"min_5g": 2}, "bce"),
        # contamination applies to brownfields only
        ("balanced", Filters(contamination=("none", "remediated")), {"contamination": 1}, "acde"),
        # counts go to the first filter a site fails
        ("balanced", Filters(min_area_ha=5, kind=("brownfield",)), {"min_area_ha": 1, "kind": 3}, "e"),
        # large_scale excludes below 50 ha by default; an explicit filter replaces the default
        ("large_scale", Filters(), {"min_area_ha": 2}, "ade"),
        ("large_scale", Filters(min_area_ha=0), {}, "abcde"),
    ],
)
def test_hard_filters_exclude_with_reason_and_count(scorer, profile, filters, excluded, kept):
    r = scorer.rank(profile, filters=filters)
    assert r.excluded == excluded
    included = {s for s, k in zip(scorer.site_id, r.rank, strict=True) if k > 0}
    assert included == set(kept)
    assert sorted(r.rank[r.rank > 0]) == list(range(1, len(kept) + 1))
    out = r.rank == 0
    assert np.isnan(r.score[out]).all() and not np.isnan(r.score[~out]).any()


def test_site_with_no_weighted_data_is_excluded_as_no_data(scorer):
    only_fibre = {c: 0 for c in CRITERIA_ORDER} | {"fibre": 1}
    r = scorer.rank(weights=only_fibre)
    assert r.excluded == {"no_data": 1}
    assert dict(zip(scorer.site_id, r.rank, strict=True))["b"] == 0
    assert scores(scorer, r) == pytest.approx(
        {"a": 50.0, "b": NAN, "c": 100.0, "d": 0.0, "e": 80.0}, nan_ok=True
    )


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"min_area_ha": -1}, "min_area_ha must be a finite number ≥ 0"),
        ({"max_h2_km": NAN}, "max_h2_km must be a finite number"),
        ({"max_area_ha": math.inf}, "max_area_ha must be a finite number"),
        ({"min_fibre": 1.5}, "min_fibre is a share between 0 and 1"),
        ({"min_5g": -0.1}, "min_5g must be a finite number ≥ 0"),
    ],
)
def test_bad_filters_raise_invalid_parameter(kwargs, message):
    with pytest.raises(InvalidParameter, match=message):
        Filters(**kwargs)


def test_ranking_does_not_change_the_sites(scorer):
    before = scorer.sites.copy()
    scorer.rank("hydrogen", weights={"h2": 9}, filters=Filters(min_area_ha=5), stability_top=2)
    assert scorer.sites.equals(before)


# -- rank stability -------------------------------------------------------------------------------
def stability(scorer: Scorer, r) -> dict[str, float]:
    return dict(zip(scorer.site_id, r.stability, strict=True))


@pytest.mark.parametrize("top,inside", [(1, "e"), (2, "ec"), (3, "eca"), (4, "ecab")])
def test_without_weight_noise_the_top_n_have_probability_1_and_the_rest_0(scorer, top, inside):
    r = scorer.rank(stability_top=top, spread=0.0, draws=20)
    assert stability(scorer, r) == {s: (1.0 if s in inside else 0.0) for s in SITES}
    assert r.stability_top == top
    assert r.stability_params == {"draws": 20, "spread": 0.0, "seed": 0, "top": top}


def test_a_site_far_ahead_stays_first_with_probability_1():
    best = {
        "area_ha": 50.0,
        "planning_category": "LEP",
        "is_brownfield": True,
        **h2(0.5),
        "fibre_share": 1.0,
        "mobile_5g_share": 1.0,
        "funding_region": "GRW_C",
    }
    s = Scorer(indicator_frame({"best": best, **SITES}))
    r = s.rank(stability_top=1, spread=0.5, draws=300, seed=7)
    assert stability(s, r)["best"] == 1.0
    assert r.stability.sum() == pytest.approx(1.0)


def test_stability_is_deterministic_for_a_seed_and_a_probability(scorer):
    r1 = scorer.rank(stability_top=2, spread=0.6, draws=500, seed=42)
    r2 = scorer.rank(stability_top=2, spread=0.6, draws=500, seed=42)
    np.testing.assert_array_equal(r1.stability, r2.stability)
    assert ((r1.stability >= 0) & (r1.stability <= 1)).all()
    assert r1.stability.sum() == pytest.approx(2.0)  # every draw has exactly two in the top 2
    # multiples of 1 / draws
    np.testing.assert_allclose(r1.stability * 500, np.round(r1.stability * 500), atol=1e-9)


def test_excluded_sites_have_stability_0_and_a_top_beyond_the_included_gives_1(scorer):
    r = scorer.rank(filters=Filters(min_area_ha=5), stability_top=10, spread=0.3, draws=50)
    assert stability(scorer, r) == {"a": 1.0, "b": 0.0, "c": 1.0, "d": 1.0, "e": 1.0}


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"draws": 0}, "draws must be between 1 and 2000"),
        ({"draws": 2001}, "draws must be between"),
        ({"spread": 1.0}, r"spread must be in \[0, 1\)"),
        ({"spread": -0.1}, "spread must be in"),
    ],
)
def test_bad_stability_parameters_raise_invalid_parameter(scorer, kwargs, message):
    with pytest.raises(InvalidParameter, match=message):
        scorer.rank(stability_top=2, **kwargs)


def test_without_weight_noise_stability_agrees_with_the_site_id_tie_break():
    same = {"fibre_share": 0.3}
    s = Scorer(indicator_frame({"b": same, "a": same, "c": same}))
    r = s.rank(stability_top=1, spread=0.0, draws=10)
    assert list(s.site_id[r.order]) == ["a", "b", "c"]
    assert stability(s, r) == {"a": 1.0, "b": 0.0, "c": 0.0}
    # identical sites stay tied under any weights: the tie-break holds in every draw
    r = s.rank(stability_top=2, spread=0.5, draws=50, seed=3)
    assert stability(s, r) == {"a": 1.0, "b": 1.0, "c": 0.0}


# -- helpers --------------------------------------------------------------------------------------
def test_percentile_is_the_share_scoring_at_or_below():
    scores_ = np.array([10.0, 20.0, NAN, 30.0, 40.0])
    assert percentile(scores_, 20.0) == 50.0
    assert percentile(scores_, 40.0) == 100.0
    assert percentile(scores_, 5.0) == 0.0
    assert math.isnan(percentile(np.array([NAN]), 1.0))


def test_parse_list_splits_commas_and_drops_blanks():
    assert parse_list(None) == ()
    assert parse_list("lep, brownfield,,") == ("lep", "brownfield")
    assert parse_list(["05562", "05513,05111"]) == ("05562", "05513", "05111")
