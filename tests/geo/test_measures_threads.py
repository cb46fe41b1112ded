"""Measures run concurrently over the same layer (ad-hoc scores in the API's thread pool): they
must not change the layer's shared geometries. ``covered_share`` used to prepare and destroy the
layer's own polygons, and a concurrent call crashed the server (SIGSEGV) under load."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import shapely

from geo.measures import covered_share


def test_covered_share_from_many_threads_leaves_the_layer_unchanged_and_agrees():
    rng = np.random.default_rng(3)
    polygons = shapely.buffer(shapely.points(rng.uniform(0, 10_000, (300, 2))), 400.0)
    xy = rng.uniform(0, 10_000, (40, 2))
    sites = shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + 150, xy[:, 1] + 150)
    expected = covered_share(sites, polygons)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: covered_share(sites, polygons), range(200)))
    assert all(np.array_equal(r, expected) for r in results)
    assert not shapely.is_prepared(polygons).any()  # the shared geometries were never touched
    reference = shapely.area(shapely.intersection(sites, shapely.union_all(polygons))) / shapely.area(sites)
    assert np.allclose(expected, reference, atol=1e-9)
