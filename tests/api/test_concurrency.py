"""Scoring from many threads at once (uvicorn's thread pool): no error, results equal to serial."""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import orjson

from api.routes_scoring import score_body
from geo.query import RankingQuery


def _polygons(svc, n: int) -> list[bytes]:
    """Small squares (WGS84) around stored sites' representative points, as POST bodies."""
    sites = svc.sites.to_crs(4326)
    pts = sites.geometry.representative_point()
    out = []
    for k in np.linspace(0, len(sites) - 1, n).astype(int).tolist():
        x, y, d = float(pts.iloc[k].x), float(pts.iloc[k].y), 0.002 + 0.0001 * (k % 7)
        ring = [[x - d, y - d], [x + d, y - d], [x + d, y + d], [x - d, y + d], [x - d, y - d]]
        out.append(orjson.dumps({"type": "Polygon", "coordinates": [ring]}))
    return out


def test_sixteen_threads_score_like_one(svc):
    bodies = _polygons(svc, 40) * 10  # 400 calls
    serial = [score_body(svc, b, 20_000, RankingQuery.of()) for b in bodies[:40]]

    def one(i: int) -> dict:
        return score_body(svc, bodies[i], 20_000, RankingQuery.of("digital" if i % 2 else None))

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(one, range(len(bodies))))
    serial_digital = [score_body(svc, b, 20_000, RankingQuery.of("digital")) for b in bodies[:40]]
    for i, got in enumerate(results):
        want = (serial_digital if i % 2 else serial)[i % 40]
        assert got["score"] == want["score"]
        assert got["fibre_share"] == want["fibre_share"]
        assert got["mobile_5g_share"] == want["mobile_5g_share"]
        assert got["breakdown"] == want["breakdown"]


def test_grid_shares_from_sixteen_threads(svc):
    """The coverage extraction alone, 2,000 single-polygon calls on 16 threads."""
    from geo.indicators import GridShares

    grids = {k: v for k, v in svc.snap.coverage.items() if v.grid is not None}
    geoms = svc.sites.geometry.values[:50]
    want = [GridShares(geoms[i : i + 1], grids).result() for i in range(50)]

    def one(i: int) -> bool:
        got = GridShares(geoms[i % 50 : i % 50 + 1], grids).result()
        return all(np.array_equal(got[k][0], want[i % 50][k][0], equal_nan=True) for k in grids)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: races show up
    try:
        with ThreadPoolExecutor(16) as pool:
            assert all(pool.map(one, range(2000)))
    finally:
        sys.setswitchinterval(old)
