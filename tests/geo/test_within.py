"""geo/within.py (sums of point values within a radius) and the fast paths of the generic measures
(geo/measures.py ``covered_share``, the threaded measures of geo/sites.py), against direct
computations: every pair tested, the dissolved layer intersected."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import geo.sites as sites_mod
from geo import within
from geo.convolve import grid_within
from geo.grid import Coverage, GridSpec
from geo.measures import SiteCache, SumWithin, covered_share
from geo.within import band_height, points_within
from tests.geo.test_convolve import _brute

CRS = "EPSG:25832"


def direct(cx, cy, px, py, v, r):
    """Every (centre, point) pair tested as SumWithin tests it."""
    out = np.zeros(len(cx))
    for i, (x, y) in enumerate(zip(cx, cy, strict=True)):
        out[i] = v[(px - x) ** 2 + (py - y) ** 2 <= r * r].sum()
    return out


def test_by_hand_the_circle_is_inclusive():
    # 3-4-5 triangles scaled by 3,000: points at exactly 15 km count, 1 mm farther does not
    px = np.array([9_000.0, 9_000.0, -12_000.0, 0.0, 14_999.0, 0.0])
    py = np.array([12_000.0, 12_000.001, -9_000.0, 0.0, 0.0, -15_000.0])
    v = np.array([1.0, 10.0, 100.0, 1000.0, 10_000.0, 100_000.0])
    got = points_within(np.array([0.0]), np.array([0.0]), px, py, v, 15_000.0)
    assert got[0] == 1.0 + 100.0 + 1000.0 + 10_000.0 + 100_000.0


def test_counts_equal_every_pair_tested_on_clustered_points():
    rng = np.random.default_rng(3)
    towns = rng.uniform(300_000, 420_000, (40, 2))
    pts = towns[rng.integers(0, 40, 6_000)] + rng.normal(0, 3_000, (6_000, 2))
    pts = np.vstack([pts, rng.uniform(280_000, 440_000, (2_000, 2))])
    # points on a 500 m lattice and centres on a 100 m lattice: many exact distances, band and
    # cell edges (the margins must send each to the exact test)
    pts[:1000] = np.round(pts[:1000] / 500.0) * 500.0
    cx, cy = np.round(rng.uniform(300_000, 420_000, (2, 3_000)) / 100.0) * 100.0
    for r in (3_000.0, 10_000.0, 15_000.0):
        ones = np.ones(len(pts))
        got = points_within(cx, cy, pts[:, 0], pts[:, 1], ones, r)
        np.testing.assert_array_equal(got, direct(cx, cy, pts[:, 0], pts[:, 1], ones, r))


def test_sums_equal_a_direct_sum_to_float_rounding():
    rng = np.random.default_rng(8)
    px, py = rng.uniform(0, 100_000, (2, 5_000))
    v = rng.gamma(0.5, 4.0, 5_000)
    cx, cy = rng.uniform(-20_000, 120_000, (2, 2_000))  # some centres off the points' extent
    got = points_within(cx, cy, px, py, v, 15_000.0)
    np.testing.assert_allclose(got, direct(cx, cy, px, py, v, 15_000.0), rtol=1e-12, atol=1e-9)


def test_missing_centres_empty_layers_and_far_points_give_zero():
    got = points_within(
        np.array([np.nan, 0.0]), np.array([0.0, 0.0]), np.array([1.0]), np.array([1.0]), np.array([5.0]), 10.0
    )
    assert got.tolist() == [0.0, 5.0]
    assert (
        points_within(np.zeros(3), np.zeros(3), np.zeros(0), np.zeros(0), np.zeros(0), 10.0).tolist()
        == [0.0] * 3
    )
    far = points_within(np.zeros(2), np.zeros(2), np.array([1e6]), np.array([1e6]), np.array([1.0]), 10.0)
    assert far.tolist() == [0.0, 0.0]


def test_band_height_follows_the_density_within_bounds():
    assert band_height(15_000.0, within.BAND_COST / 1_000.0**2) == pytest.approx(1_000.0)
    assert band_height(15_000.0, 1.0) == 500.0  # dense: r/30
    assert band_height(15_000.0, 1e-12) == 30_000.0  # sparse: 2r


def test_sum_within_points_and_polygons_agree_with_dwithin():
    rng = np.random.default_rng(4)
    xy = rng.uniform(0, 50_000, (800, 2))
    plants = gpd.GeoDataFrame({"mw": rng.uniform(0, 20, 800)}, geometry=shapely.points(xy), crs=CRS)
    plants.loc[3, "mw"] = np.nan  # no value: counts 0
    sites = shapely.buffer(shapely.points(rng.uniform(0, 50_000, (300, 2))), 120.0)
    (got,) = SumWithin(layer="r", attribute="mw", radius_km=5).compute(sites, plants)
    c = shapely.centroid(sites)
    s, f = shapely.STRtree(plants.geometry.values).query(c, predicate="dwithin", distance=5_000.0)
    want = np.bincount(s, plants["mw"].fillna(0).to_numpy()[f], len(sites))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)


# -- covered_share ---------------------------------------------------------------------------------
def dissolved_share(sites, polygons):
    """The share of each site inside the dissolved layer, by plain overlay."""
    union = shapely.union_all(polygons)
    return np.clip(shapely.area(shapely.intersection(sites, union)) / shapely.area(sites), 0, 1)


def test_covered_share_equals_the_dissolved_overlay():
    rng = np.random.default_rng(6)
    # overlapping and adjacent polygons, one with a hole
    polys = list(shapely.buffer(shapely.points(rng.uniform(0, 20_000, (30, 2))), rng.uniform(300, 2_000, 30)))
    polys.append(shapely.box(-5_000, 0, -4_000, 1_000))  # away from the random circles
    polys.append(shapely.box(-4_000, 0, -3_000, 1_000))  # adjacent to the previous one
    polys.append(
        shapely.Polygon(
            [(5e3, 5e3), (9e3, 5e3), (9e3, 9e3), (5e3, 9e3)],
            [[(6e3, 6e3), (8e3, 6e3), (8e3, 8e3), (6e3, 8e3)]],
        )
    )
    polygons = np.array(polys, dtype=object)
    sites = list(
        shapely.box(*rng.uniform(0, 20_000, 2).repeat(2) + np.array([0, 0, 400, 300])) for _ in range(400)
    )
    sites += [
        shapely.box(-4_100, 100, -3_900, 300),  # across the two adjacent boxes: wholly covered
        shapely.box(-4_900, 100, -4_700, 300),  # inside one box
        shapely.box(31_500, 6_500, 32_000, 7_000),  # inside the hole
        shapely.box(50_000, 50_000, 50_100, 50_100),  # far away
    ]
    sites_a = np.array(sites, dtype=object)
    got = covered_share(sites_a, polygons)
    np.testing.assert_allclose(got, dissolved_share(sites_a, polygons), atol=1e-9)
    assert got[-4] == pytest.approx(1.0, abs=1e-12) and got[-3] == 1.0
    assert got[-2] == 0.0 and got[-1] == 0.0
    assert not shapely.is_prepared(polygons).any()  # the layer's geometries are left as they were
    assert covered_share(sites_a[:0], polygons).shape == (0,)
    assert covered_share(sites_a, polygons[:0]).tolist() == [0.0] * len(sites_a)


# -- grid_within: the whole-number (int32) and float paths ------------------------------------------------
def test_grid_within_on_whole_counts_equals_brute_force():
    rng = np.random.default_rng(9)
    g = (rng.poisson(3.0, (180, 200)) * (rng.random((180, 200)) < 0.5)).astype(np.float32)
    x0, y1, res = 300_000.0, 5_700_000.0, 100.0
    n = 1_200
    x = rng.uniform(x0 - 2_000, x0 + 200 * res + 2_000, n)
    y = rng.uniform(y1 - 180 * res - 2_000, y1 + 2_000, n)
    got = grid_within(g, x0, y1, res, x, y, 3_300.0)
    np.testing.assert_array_equal(got, _brute(g, x0, y1, res, x, y, 3_300.0))


def test_grid_within_counts_too_large_for_int32_sum_as_floats():
    g = np.full((40, 40), 3.0e6, dtype=np.float64)  # 4.8e9 in total: beyond int32
    x = np.array([2_000.0, 150.0])
    y = np.array([2_000.0, 3_950.0])
    got = grid_within(g, 0.0, 4_000.0, 100.0, x, y, 1_500.0)
    np.testing.assert_array_equal(got, _brute(g, 0.0, 4_000.0, 100.0, x, y, 1_500.0))


# -- the generic measures in a forked worker ---------------------------------------------------------------
def test_generic_measures_in_a_forked_worker_equal_one_by_one(monkeypatch):
    from layers.population import POP_GRID_1KM

    rng = np.random.default_rng(12)
    spec: GridSpec = POP_GRID_1KM
    x0, y0, x1, y1 = spec.bounds
    n = 300
    xy = rng.uniform([x0 + 40_000, y0 + 40_000], [x1 - 40_000, y1 - 40_000], (n, 2))
    geoms = np.asarray(shapely.buffer(shapely.points(xy), rng.uniform(100, 600, n)), dtype=object)
    pts = shapely.points(rng.uniform([x0, y0], [x1, y1], (2_000, 2)))
    layers = {
        "substations": gpd.GeoDataFrame(
            {"voltage_kv": rng.choice([110, 220, 380], 2_000)}, geometry=pts, crs=CRS
        ),
        "renewable_units": gpd.GeoDataFrame({"capacity_mw": rng.uniform(0, 5, 2_000)}, geometry=pts, crs=CRS),
        "industrial_heat": gpd.GeoDataFrame(
            {"excess_heat_gwh": rng.uniform(0, 50, 2_000)}, geometry=pts, crs=CRS
        ),
        "natura2000": gpd.GeoDataFrame(geometry=shapely.buffer(pts[:300], 5_000.0), crs=CRS),
        "floodplains": gpd.GeoDataFrame(geometry=shapely.buffer(pts[300:400], 3_000.0), crs=CRS),
    }
    grid = rng.poisson(40.0, spec.shape).astype(np.float32)
    coverage = {"population": Coverage("grid_1km", grid=grid, spec=spec)}
    out_seq = gpd.GeoDataFrame({"site_id": np.arange(n)}, geometry=geoms, crs=CRS)
    out_fork = out_seq.copy()
    labels: list[str] = []
    sites_mod.GenericMeasures(geoms, layers, coverage).store(out_seq, labels.append)
    monkeypatch.setattr(sites_mod, "FORKED_SITES", 1)
    forked = sites_mod.GenericMeasures(geoms, layers, coverage)
    assert forked._pool is not None  # a worker runs them
    forked.store(out_fork, labels.append)
    generic = [c for c in out_seq.columns if c not in ("site_id", "geometry")]
    assert {"workforce_30km", "renewables_mw_15km", "protected_share", "substation_distance_km"} <= set(
        generic
    )
    pd.testing.assert_frame_equal(out_seq[generic], out_fork[generic])
    assert labels[0].startswith("workforce: grid_sum_within") and labels[-1].startswith(
        "generic criteria (forked"
    )
    stopped = sites_mod.GenericMeasures(geoms, layers, coverage)
    stopped.terminate()  # on an error in the main process: the worker ends, nothing is left
    assert stopped._pool is None
    shared = SiteCache(geoms)
    assert shared.centres is shared.centres  # computed once
