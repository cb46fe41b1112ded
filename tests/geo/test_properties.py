"""Properties (hypothesis): score bounds, monotonicity, weight scaling, CRS round trips.

Examples are bounded so that the file runs in a few seconds.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.criteria import CRITERIA, CRITERIA_ORDER, PROFILES
from geo.crs import NRW_BOUNDS, has_zone_prefix, transformer
from geo.scoring import Scorer
from tests.geo.builders import indicator_frame

FAST = settings(max_examples=60, deadline=None)
NAN = float("nan")

shares = st.floats(0.0, 1.0)
maybe_shares = st.one_of(shares, st.just(NAN))
# weights 0 or at least 1e-3 (subnormal weights would underflow when scaled)
C = len(CRITERIA_ORDER)
weights = st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 10.0)), min_size=C, max_size=C).filter(
    lambda w: sum(w) > 0
)
maybe_km = st.one_of(st.floats(0.0, 150.0), st.just(NAN))
profiles = st.sampled_from(sorted(PROFILES))
site = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["regional_plan", "brownfield", "lep"]),
        "area_ha": st.floats(0.01, 500.0),
        "planning_category": st.sampled_from(
            ["LEP", "LARGE_PROJECT", "GIB", "GIB_Z", "ASB_GE", "BROWNFIELD", None]
        ),
        "is_brownfield": st.booleans(),
        "_h2_km_2030": st.one_of(st.floats(0.0, 60.0), st.just(NAN)),
        "_h2_km_2032": st.floats(0.0, 60.0),
        "fibre_share": maybe_shares,
        "mobile_5g_share": maybe_shares,
        "funding_region": st.sampled_from(["GRW_C", "GRW_D", "JTF", "FIVE_SITES", "none", None]),
        "motorway_km": maybe_km,
        "rail_km": maybe_km,
        "port_km": maybe_km,
        "airport_km": maybe_km,
    }
)


def frame(sites: list[dict]) -> object:
    rows = {}
    for i, s in enumerate(sites):
        s = dict(s)
        # a 2027 segment (if any) and a 2031 one: by 2032 the nearer of the two
        by_2030 = np.nan_to_num(s["_h2_km_2030"], nan=np.inf)
        s["_h2_year_2030"] = NAN if np.isnan(s["_h2_km_2030"]) else 2027.0
        s["_h2_year_2032"] = 2027.0 if by_2030 <= s["_h2_km_2032"] else 2031.0
        s["_h2_km_2032"] = min(s["_h2_km_2032"], by_2030)
        rows[f"s{i:03d}"] = s
    return indicator_frame(rows)


def w_dict(w: list[float]) -> dict[str, float]:
    return dict(zip(CRITERIA_ORDER, w, strict=True))


def score_of(sites: list[dict], profile: str, w: list[float] | None = None) -> np.ndarray:
    scorer = Scorer(frame(sites))
    return scorer.rank(profile, weights=None if w is None else w_dict(w)).score


# -- score bounds ---------------------------------------------------------------------------------
@FAST
@given(v=st.lists(st.lists(maybe_shares, min_size=C, max_size=C), min_size=1, max_size=8), w=weights)
def test_combined_score_is_within_0_and_100(v, w):
    s = Scorer.combine(np.array(v, dtype=float), np.array(w))
    ok = ~np.isnan(s)
    assert ((s[ok] >= 0) & (s[ok] <= 100 + 1e-9)).all()
    # NaN only when no weighted criterion has data
    has_data = (~np.isnan(np.array(v)) & (np.array(w) > 0)).any(axis=1)
    assert (ok == has_data).all()


@FAST
@given(sites=st.lists(site, min_size=1, max_size=6), profile=profiles, w=weights)
def test_every_site_score_is_within_0_and_100(sites, profile, w):
    s = score_of(sites, profile, w)
    s = s[~np.isnan(s)]
    assert ((s >= 0) & (s <= 100 + 1e-9)).all()


# -- monotonicity ---------------------------------------------------------------------------------
@FAST
@given(a=st.floats(0.0, 100.0), b=st.floats(0.0, 100.0), profile=profiles)
def test_closer_pipeline_never_lowers_the_h2_value(a, b, profile):
    near, far = min(a, b), max(a, b)
    v = CRITERIA["h2"].value({"h2_distance_km": np.array([near, far, NAN])}, PROFILES[profile])
    assert v[0] >= v[1] >= v[2] == 0.0
    assert ((v >= 0) & (v <= 1)).all()


@FAST
@given(s=site, closer=st.floats(0.0, 1.0), profile=profiles, w=weights)
def test_moving_a_site_closer_to_the_pipeline_never_lowers_its_h2_points_or_score(s, closer, profile, w):
    moved = dict(s, _h2_km_2032=s["_h2_km_2032"] * closer, _h2_km_2030=s["_h2_km_2030"] * closer)
    scorer = Scorer(frame([s, moved]))
    r = scorer.rank(profile, weights=w_dict(w))
    h2 = CRITERIA_ORDER.index("h2")
    assert r.values[1, h2] >= r.values[0, h2]
    before, after = (scorer.breakdown(r, i)["h2"]["points"] for i in (0, 1))
    if not np.isnan(r.score).any():
        assert r.score[1] >= r.score[0] - 1e-9
        assert after >= before - 1e-3


@FAST
@given(s=site, fibre=st.floats(0.0, 1.0), g5=st.floats(0.0, 1.0), profile=profiles, w=weights)
def test_more_coverage_never_lowers_the_score(s, fibre, g5, profile, w):
    s = dict(
        s,
        fibre_share=np.nan_to_num(s["fibre_share"], nan=0.3),
        mobile_5g_share=np.nan_to_num(s["mobile_5g_share"], nan=0.3),
    )
    better = dict(s, fibre_share=max(s["fibre_share"], fibre), mobile_5g_share=max(s["mobile_5g_share"], g5))
    before, after = score_of([s, better], profile, w)
    if not (np.isnan(before) or np.isnan(after)):
        assert after >= before - 1e-9


# -- weight scaling -------------------------------------------------------------------------------
@FAST
@given(sites=st.lists(site, min_size=2, max_size=8), profile=profiles, w=weights, c=st.floats(1e-3, 1e3))
def test_scaling_all_weights_leaves_the_ranking_unchanged(sites, profile, w, c):
    scorer = Scorer(frame(sites))
    r1 = scorer.rank(profile, weights=w_dict(w))
    r2 = scorer.rank(profile, weights=w_dict([c * x for x in w]))
    np.testing.assert_allclose(r1.score, r2.score, rtol=1e-9, atol=1e-9)
    assert r1.excluded == r2.excluded
    # the same order, except that sites whose scores differ only by rounding may swap
    np.testing.assert_allclose(r1.score[r1.order], r2.score[r2.order], rtol=1e-9, atol=1e-9)
    included = r1.score[r1.order]
    for i in r1.order:
        if (np.abs(included - r1.score[i]) < 1e-9).sum() == 1:  # no near-tie
            assert r1.rank[i] == r2.rank[i]


# -- CRS ------------------------------------------------------------------------------------------
xs = st.floats(NRW_BOUNDS[0], NRW_BOUNDS[2])
ys = st.floats(NRW_BOUNDS[1], NRW_BOUNDS[3])


@settings(max_examples=200, deadline=None)
@given(x=xs, y=ys)
def test_crs_round_trip_25832_to_wgs84_and_back_within_1_mm(x, y):
    lon, lat = transformer(25832, 4326).transform(x, y)
    assert 5.0 < lon < 10.5 and 50.0 < lat < 53.0  # lon/lat order (always_xy)
    x2, y2 = transformer(4326, 25832).transform(lon, lat)
    assert abs(x2 - x) < 1e-3 and abs(y2 - y) < 1e-3


def test_transformers_are_built_once():
    assert transformer(25832, 4326) is transformer(25832, 4326)


@FAST
@given(lat=st.floats(50.3, 52.6), dlon=st.floats(0.0, 3.2))
def test_utm32_is_centred_on_9_degrees_east_and_symmetric_about_it(lat, dlon):
    # hand facts of UTM zone 32: false easting 500 000 m on the central meridian 9 °E, and
    # mirror symmetry about it
    to_utm = transformer(4326, 25832)
    xc, yc = to_utm.transform(9.0, lat)
    xw, yw = to_utm.transform(9.0 - dlon, lat)
    xe, ye = to_utm.transform(9.0 + dlon, lat)
    assert xc == pytest.approx(500_000.0, abs=1e-3)
    assert (xe - 500_000.0) == pytest.approx(500_000.0 - xw, abs=1e-3)
    assert ye == pytest.approx(yw, abs=1e-3)


@FAST
@given(x=st.lists(xs, min_size=1, max_size=20))
def test_has_zone_prefix_detects_32xxxxxx_eastings(x):
    plain = np.array(x)
    assert has_zone_prefix(plain + 32_000_000)
    assert not has_zone_prefix(plain)
    assert not has_zone_prefix(np.concatenate([plain, plain + 32_000_000]))
    assert has_zone_prefix(np.concatenate([plain + 32_000_000, [np.nan]]))


def test_has_zone_prefix_of_nothing_is_false():
    assert not has_zone_prefix(np.array([]))
    assert not has_zone_prefix(np.array([np.nan]))
