"""Benchmark: the land-constraint and grid measures over the demo layers (issue 21 §2, §4).

Usage: python bench/constraints.py [--sites 50000] [--seed 1]
Generates the SYNTHETIC demo layers (substations, natura2000, floodplains) and ``--sites``
candidate-like rectangles (5–60 ha) at random places in NRW, then times ``Nearest`` (substation
distance and voltage), ``CoveredShare`` (protected and floodplain shares) and ``covering_names``,
and prints the shares of sites touched. Asserts nothing about time; issue 21's budget is 0.6 s for
all new indicators in bench/score.py's 50,000-site batch.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import shapely

sys.path[0] = str(Path(__file__).resolve().parents[1])

from geo.constraints import covering_names
from geo.measures import CoveredShare, Nearest
from layers import demo_constraints, substations
from layers.municipalities import boundaries


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    muni = boundaries()
    rng = np.random.default_rng(args.seed)
    t = time.perf_counter()
    layers = {
        "substations": substations.demo(rng, muni),
        "natura2000": demo_constraints.demo_natura2000(rng, muni),
        "floodplains": demo_constraints.demo_floodplains(rng, muni),
    }
    print(
        f"demo layers: {time.perf_counter() - t:.2f} s; "
        + ", ".join(f"{k} {len(v)}" for k, v in layers.items())
    )
    nrw = shapely.union_all(muni.geometry.values)
    x0, y0, x1, y1 = muni.total_bounds
    x, y = rng.uniform(x0, x1, args.sites * 2), rng.uniform(y0, y1, args.sites * 2)
    keep = shapely.contains_xy(nrw, x, y)
    x, y = x[keep][: args.sites], y[keep][: args.sites]
    w = np.sqrt(rng.uniform(5e4, 6e5, len(x)))
    h = w * rng.uniform(0.5, 2.0, len(x))
    sites = shapely.box(x - w / 2, y - h / 2, x + w / 2, y + h / 2)
    print(f"sites: {len(sites)}")

    t = time.perf_counter()
    km, kv = Nearest(layer="substations", attribute="voltage_kv").compute(sites, layers["substations"])
    print(
        f"substation_distance_km: {time.perf_counter() - t:.3f} s; median {np.median(km):.1f} km, "
        f"p90 {np.percentile(km, 90):.1f} km; nearest 110/220/380 kV: "
        + "/".join(str(int((kv == v).sum())) for v in (110, 220, 380))
    )
    for name, column in (("natura2000", "protected_share"), ("floodplains", "floodplain_share")):
        t = time.perf_counter()
        (share,) = CoveredShare(layer=name).compute(sites, layers[name])
        dt = time.perf_counter() - t
        t = time.perf_counter()
        names = covering_names(sites, layers[name], "name")
        dn = time.perf_counter() - t
        touched, whole = 100 * (share > 0).mean(), 100 * (share >= 1).mean()
        print(
            f"{column}: {dt:.3f} s (covering_names {dn:.3f} s); sites touched {touched:.1f} %, "
            f"partly {touched - whole:.1f} %, wholly {whole:.1f} %; named {sum(1 for n in names if n)}"
        )


if __name__ == "__main__":
    main()
