"""geo.neighbours.nearest_k against a brute-force geopandas distance computation."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.neighbours import nearest_k


def brute_force(sites: np.ndarray, layer: gpd.GeoDataFrame, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Every site × feature distance with geopandas; ties to the feature that comes first."""
    d = np.array([layer.distance(s).to_numpy() for s in sites]).reshape(len(sites), len(layer))
    order = np.argsort(d, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(d, order, axis=1) / 1000.0


def random_sites(rng: np.random.Generator, n: int) -> np.ndarray:
    x, y = rng.uniform(300_000, 500_000, n), rng.uniform(5_600_000, 5_800_000, n)
    w, h = rng.uniform(50, 2_000, n), rng.uniform(50, 2_000, n)
    return np.asarray(shapely.box(x, y, x + w, y + h))


def points(rng: np.random.Generator, m: int) -> gpd.GeoDataFrame:
    x, y = rng.uniform(290_000, 510_000, m), rng.uniform(5_590_000, 5_810_000, m)
    return gpd.GeoDataFrame({"v": np.arange(m)}, geometry=shapely.points(x, y), crs=25832)


@pytest.mark.parametrize("k", [1, 3, 5])
def test_matches_brute_force_for_points(k):
    rng = np.random.default_rng(k)
    sites, layer = random_sites(rng, 400), points(rng, 300)
    idx, km = nearest_k(sites, layer, k)
    want_idx, want_km = brute_force(sites, layer, k)
    assert idx.shape == km.shape == (400, k)
    np.testing.assert_array_equal(idx, want_idx)
    np.testing.assert_allclose(km, want_km, rtol=0, atol=1e-9)
    assert (np.diff(km, axis=1) >= 0).all()


def test_matches_brute_force_for_polygons_and_a_site_inside_one():
    rng = np.random.default_rng(11)
    layer = points(rng, 60)
    layer.geometry = layer.buffer(rng.uniform(100, 3_000, 60))
    sites = random_sites(rng, 200)
    sites[0] = shapely.box(*shapely.bounds(layer.geometry.values[5]))  # covers feature 5
    idx, km = nearest_k(sites, layer, 3)
    want_idx, want_km = brute_force(sites, layer, 3)
    np.testing.assert_array_equal(idx, want_idx)
    np.testing.assert_allclose(km, want_km, atol=1e-9)
    assert km[0, 0] == 0.0


def test_ties_go_to_the_feature_that_comes_first():
    layer = gpd.GeoDataFrame(
        geometry=shapely.points([[0, 1000], [1000, 0], [0, -1000], [-1000, 0]]), crs=25832
    )
    idx, km = nearest_k(np.array([shapely.Point(0, 0)]), layer, 3)
    assert idx.tolist() == [[0, 1, 2]] and km.tolist() == [[1.0, 1.0, 1.0]]


def test_duplicate_locations_are_separate_features():
    layer = gpd.GeoDataFrame(geometry=shapely.points([[5000, 0], [100, 0], [100, 0]]), crs=25832)
    idx, km = nearest_k(np.array([shapely.Point(0, 0)]), layer, 3)
    assert idx.tolist() == [[1, 2, 0]] and km.tolist() == [[0.1, 0.1, 5.0]]


def test_fewer_features_than_k_are_padded():
    layer = gpd.GeoDataFrame(geometry=shapely.points([[3000, 4000], [0, 1000]]), crs=25832)
    sites = np.array([shapely.Point(0, 0), shapely.box(-10, -10, 10, 10)])
    idx, km = nearest_k(sites, layer, 3)
    assert idx.tolist() == [[1, 0, -1], [1, 0, -1]]
    assert km[0, :2].tolist() == [1.0, 5.0] and np.isnan(km[:, 2]).all()
    assert km[1, 0] == pytest.approx(0.99)


def test_no_features_or_no_sites():
    empty = gpd.GeoDataFrame(geometry=shapely.points(np.empty((0, 2))), crs=25832)
    idx, km = nearest_k(np.array([shapely.Point(0, 0)]), empty, 3)
    assert idx.tolist() == [[-1, -1, -1]] and np.isnan(km).all()
    idx, km = nearest_k(np.array([], dtype=object), points(np.random.default_rng(0), 5), 3)
    assert idx.shape == km.shape == (0, 3)


def test_k_must_be_positive():
    with pytest.raises(ValueError, match="k must be at least 1"):
        nearest_k(np.array([shapely.Point(0, 0)]), points(np.random.default_rng(0), 5), 0)


def test_positions_not_index_labels():
    layer = points(np.random.default_rng(3), 20).set_index(np.arange(100, 120))
    sites = random_sites(np.random.default_rng(4), 30)
    idx, _ = nearest_k(sites, layer, 3)
    want, _ = brute_force(sites, layer, 3)
    np.testing.assert_array_equal(idx, want)
    assert idx.max() < 20
