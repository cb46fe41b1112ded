"""Transport access criteria (issue 13): distances checked against geopandas.sjoin_nearest on the
demo, value functions by hand, the rail fallback and missing layers.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.criteria import CRITERIA, PROFILES
from geo.scoring import Scorer
from geo.sites import compute_indicators, derive_sites
from layers import demo


@pytest.fixture(scope="module")
def world():
    d = demo.generate(1200, seed=3)
    sites = compute_indicators(derive_sites(d.layers), d.layers, {}, None)
    return d.layers, sites


def _sjoin_km(sites: gpd.GeoDataFrame, targets: gpd.GeoDataFrame) -> np.ndarray:
    """Distance to the nearest target with a plain geopandas nearest join (an independent path)."""
    j = gpd.sjoin_nearest(sites[["site_id", "geometry"]], targets[["geometry"]], distance_col="d")
    return j.groupby(level=0)["d"].min().reindex(sites.index).to_numpy() / 1000.0


@pytest.mark.parametrize(
    "column, layer",
    [("motorway_km", "motorway_junctions"), ("port_km", "ports"), ("rail_km", "rail_freight")],
)
def test_distances_equal_a_nearest_join_to_1_m(world, column, layer):
    layers, sites = world
    assert len(sites) >= 1000
    want = _sjoin_km(sites, layers[layer])
    np.testing.assert_allclose(sites[column].to_numpy(float), want, atol=1e-3, rtol=0)


def test_airport_distance_counts_only_commercial_airports(world):
    layers, sites = world
    airports = layers["airports"]
    commercial = airports[airports["commercial"]]
    assert 0 < len(commercial) < len(airports)  # airfields are in the layer but do not count
    np.testing.assert_allclose(
        sites["airport_km"].to_numpy(float), _sjoin_km(sites, commercial), atol=1e-3, rtol=0
    )
    assert (sites["rail_target"] == "freight_terminal").all()


def test_rail_falls_back_to_long_distance_stations_and_says_so(world):
    layers, sites = world
    without = {k: v for k, v in layers.items() if k != "rail_freight"}
    got = compute_indicators(derive_sites(without), without, {}, None)
    fv = layers["rail_stations"][layers["rail_stations"]["long_distance"]]
    np.testing.assert_allclose(got["rail_km"].to_numpy(float), _sjoin_km(got, fv), atol=1e-3)
    assert (got["rail_target"] == "long_distance_station").all()


def test_missing_transport_layers_are_missing_not_zero(world):
    layers, _ = world
    bare = {
        k: v
        for k, v in layers.items()
        if k in ("municipalities", "regional_plan", "brownfields", "lep_sites", "hydrogen")
    }
    got = compute_indicators(derive_sites(bare), bare, {}, None)
    assert got[["motorway_km", "rail_km", "port_km", "airport_km"]].isna().all().all()
    r = Scorer(got).rank("logistics")
    res = Scorer(got).results(r, r.order[:1])[0]
    assert {"motorway", "rail", "port", "airport"} <= set(res.missing)
    assert res.criterion("motorway").points is None


@pytest.mark.parametrize(
    ("name", "full", "zero"), [("motorway", 2, 25), ("rail", 3, 30), ("port", 5, 50), ("airport", 20, 100)]
)
def test_distance_value_functions_by_hand(name, full, zero):
    """The ramps of DESIGN §3.3: 1 at ≤ full km, linear to 0 at ≥ zero km, NaN stays NaN."""
    km = np.array([0.0, full, (full + zero) / 2, zero, zero + 10, np.nan])
    v = CRITERIA[name].value({CRITERIA[name].indicators[0]: km}, PROFILES["balanced"])
    np.testing.assert_allclose(v[:5], [1.0, 1.0, 0.5, 0.0, 0.0], atol=1e-12)
    assert np.isnan(v[5])


def test_existing_profiles_change_little_and_logistics_differs(world):
    """The four small transport weights keep most of each profile's top 100 (figures printed)."""
    _, sites = world
    with_transport = Scorer(sites)
    without = Scorer(sites.drop(columns=["motorway_km", "rail_km", "port_km", "airport_km"]))
    kept = {}
    for name in ("balanced", "hydrogen", "digital", "large_scale"):
        a = set(with_transport.site_id[with_transport.rank(name).order[:100]])
        b = set(without.site_id[without.rank(name).order[:100]])
        kept[name] = len(a & b) / max(len(b), 1)
    print("share of the top 100 kept:", kept)
    assert all(k >= 0.6 for k in kept.values()), kept
    top_log = set(with_transport.site_id[with_transport.rank("logistics").order[:100]])
    top_bal = set(with_transport.site_id[with_transport.rank("balanced").order[:100]])
    assert len(top_log & top_bal) < 100


@pytest.mark.parametrize("kind", ["points", "polygons"])
@pytest.mark.parametrize("many", [False, True])
def test_nearest_km_equals_a_full_distance_matrix(kind, many):
    """Both candidate searches (a dense matrix for a few targets, trees for many) against every
    site × target distance, with sites inside, touching and far from area targets."""
    from geo.nearest import DENSE_TARGETS, nearest_km

    rng = np.random.default_rng(7)
    n_targets = DENSE_TARGETS + 40 if many else 12
    xy = rng.uniform(0, 50_000, (n_targets, 2))
    if kind == "points":
        targets = shapely.points(xy)
    else:  # concave L-shaped areas of very different sizes
        size = rng.uniform(50, 3_000, n_targets)
        targets = np.array(
            [
                shapely.Polygon(
                    [
                        (x, y),
                        (x + s, y),
                        (x + s, y + s / 3),
                        (x + s / 3, y + s / 3),
                        (x + s / 3, y + s),
                        (x, y + s),
                    ]
                )
                for (x, y), s in zip(xy, size, strict=True)
            ]
        )
    centres = np.vstack([rng.uniform(-5_000, 55_000, (400, 2)), xy[:5] + 10])  # 5 on a target
    sites = shapely.buffer(shapely.points(centres), rng.uniform(20, 800, len(centres)), quad_segs=4)
    km, which = nearest_km(sites, targets)
    full = shapely.distance(sites[:, None], targets[None, :])
    np.testing.assert_allclose(km, full.min(axis=1) / 1000.0, rtol=0, atol=1e-9)
    np.testing.assert_allclose(full[np.arange(len(sites)), which], full.min(axis=1), rtol=0, atol=1e-6)
    assert (km[-5:] == 0).all()


def test_large_batches_in_two_threads_equal_one(world):
    """From 10,000 sites the distances run in two halves on two threads: same numbers."""
    from geo.nearest import transport_distances

    layers, sites = world
    geoms = np.tile(sites.geometry.to_numpy(), 9)
    assert len(geoms) >= 10_000
    big = transport_distances(geoms, layers)
    small = transport_distances(sites.geometry.to_numpy(), layers)
    for col in ("motorway_km", "rail_km", "port_km", "airport_km"):
        np.testing.assert_array_equal(big[col], np.tile(small[col], 9))
    assert (big["rail_target"] == "freight_terminal").all()
