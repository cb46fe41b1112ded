"""Transport access criteria (issue 13): distances checked against geopandas.sjoin_nearest on the
demo, value functions by hand, the rail fallback and missing layers.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from geo.criteria import CRITERIA, DISTANCE_RAMPS, PROFILES
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


@pytest.mark.parametrize("name", ["motorway", "rail", "port", "airport"])
def test_distance_value_functions_by_hand(name):
    full, zero = DISTANCE_RAMPS[name]
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
