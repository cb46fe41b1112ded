"""Benchmark of the industrial_heat layer: SumWithin 10 km and nearest_k over the real fact table.

    .venv/bin/python bench/waste_heat.py [--sites 50000]

Prints the time of the suggested indicator (``SumWithin(layer="industrial_heat",
attribute="excess_heat_gwh", radius_km=10)``) and of ``geo.neighbours.nearest_k`` (k = 3) for
random sites of 0.5–80 ha inside NRW's bounds. Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import shapely

import layers.waste_heat as wh
from geo.crs import NRW_BOUNDS
from geo.measures import SumWithin
from geo.neighbours import nearest_k


def main() -> None:
    """Run and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=50_000)
    n = parser.parse_args().sites
    rng = np.random.default_rng(0)
    x0, y0, x1, y1 = NRW_BOUNDS
    x, y = rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)
    side = np.sqrt(rng.uniform(5_000, 800_000, n))
    sites = np.asarray(shapely.box(x, y, x + side, y + side))
    t = time.perf_counter()
    layer = wh.read_facts()
    print(f"read_facts: {len(layer)} installations in {time.perf_counter() - t:.3f} s")
    measure = SumWithin(layer="industrial_heat", attribute="excess_heat_gwh", radius_km=10)
    for _ in range(2):
        t = time.perf_counter()
        heat = measure.compute(sites, layer)[0]
        took = time.perf_counter() - t
        print(f"SumWithin 10 km, {n} sites: {took:.3f} s (median {np.median(heat):.1f} GWh/a)")
    for _ in range(2):
        t = time.perf_counter()
        idx, km = nearest_k(sites, layer, 3)
        took = time.perf_counter() - t
        print(f"nearest_k k=3, {n} sites: {took:.3f} s (median 3rd nearest {np.nanmedian(km[:, 2]):.1f} km)")


if __name__ == "__main__":
    main()
