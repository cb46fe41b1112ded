"""The k nearest features of a layer to each site, for a detail panel ("the three nearest
installations with their sector and excess heat", issue 21 §3).

Distances are straight lines in EPSG:25832 from the site's geometry (its edge; 0 inside a
feature), as the ``Nearest`` measure measures them; a site given as a point gets point distances.
Pure computation: no file or network I/O.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo.nearest import anchors

CHUNK = 4096  # sites per block of the site × feature bound matrix


def nearest_k(
    site_geoms: np.ndarray, layer_gdf: gpd.GeoDataFrame, k: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest features of ``layer_gdf`` to each site, nearest first.

    Returns ``(indices, distances_km)``, both of shape ``(n_sites, k)``: positions of the
    features in ``layer_gdf`` (0-based rows, not its index labels) and their distances in km.
    Where the layer has fewer than ``k`` features the row is padded with -1 and NaN. Ties go to
    the feature that comes first in the layer.

    Exact, by bounds: ``p`` is a point inside the site and ``r`` a radius around it that covers
    the site (``geo.nearest.anchors``). For any feature f, ``d(p, f) - r <= d(site, f) <=
    d(p, f) <= d(p, q_f)`` with ``q_f`` a point on f. So the k-th smallest ``d(p, q_f)`` bounds the
    k-th nearest distance from above, and only features within that bound + r of ``p`` can be
    among the k nearest: those few candidate pairs get an exact GEOS distance.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    sites = np.asarray(site_geoms, dtype=object)
    targets = np.asarray(layer_gdf.geometry.values, dtype=object)
    n, m = len(sites), len(targets)
    indices = np.full((n, k), -1, dtype=np.int64)
    km = np.full((n, k), np.nan)
    if not n or not m:
        return indices, km
    kk = min(k, m)
    p, radius = anchors(sites)
    q = shapely.point_on_surface(targets)
    qx, qy = shapely.get_x(q), shapely.get_y(q)
    px, py = shapely.get_x(p), shapely.get_y(p)
    bound = np.empty(n)
    for lo in range(0, n, CHUNK):
        dx = px[lo : lo + CHUNK, None] - qx[None, :]
        dy = py[lo : lo + CHUNK, None] - qy[None, :]
        d2 = dx * dx
        d2 += dy * dy
        bound[lo : lo + CHUNK] = np.sqrt(np.partition(d2, kk - 1, axis=1)[:, kk - 1])
    tree = shapely.STRtree(targets)
    # a little slack so that rounding in the bound never drops a feature at exactly that distance
    s_idx, t_idx = tree.query(p, predicate="dwithin", distance=bound + radius + 1e-6 * (1.0 + bound))
    dist = shapely.distance(sites[s_idx], targets[t_idx])
    order = np.lexsort((t_idx, dist, s_idx))  # by site, then distance, then feature position
    s_idx, t_idx, dist = s_idx[order], t_idx[order], dist[order]
    first = np.searchsorted(s_idx, np.arange(n))
    rank = np.arange(len(s_idx)) - first[s_idx]
    take = rank < kk
    indices[s_idx[take], rank[take]] = t_idx[take]
    km[s_idx[take], rank[take]] = dist[take] / 1000.0
    return indices, km
