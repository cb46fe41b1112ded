"""Benchmark: the snapshot diff (geo/diff.py) of two 50,000-site snapshots (issue 19 §2).

Usage: python bench/diff.py [--data DIR] [--sites 50000] [--repeat 3]
Builds the demo snapshot into DIR when it holds none, then derives a second one in memory from
the live snapshot's sites: 2 % removed, 2 % added (moved copies), 1 % re-keyed (same geometry,
new id), 5 % changed (area, planning category, fibre). Prints the time to read both sites layers
and the diff's own wall time (best of ``--repeat``). Target (issue 19): diff ≤ 1 s.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

# The project root, not bench/, comes first: `api` is the package, not bench/api.py.
sys.path[0] = str(Path(__file__).resolve().parents[1])

from geo.diff import diff_sites
from layers.build import build
from layers.changes import load_sites
from layers.store import Store


def derive(old: gpd.GeoDataFrame, seed: int = 0) -> gpd.GeoDataFrame:
    """A plausible later snapshot of ``old`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n = len(old)
    perm = rng.permutation(n)
    drop, rekey, change = np.split(perm[: int(n * 0.08)], [int(n * 0.02), int(n * 0.03)])
    new = old.copy()
    new.loc[new.index[rekey], "site_id"] = [f"rk-{i}" for i in range(len(rekey))]
    new.loc[new.index[change], "area_ha"] = new["area_ha"].to_numpy()[change] * 1.1
    new.loc[new.index[change[::2]], "planning_category"] = "GIB_Z"
    new.loc[new.index[change[1::2]], "fibre_share"] = 1.0
    added = old.iloc[rng.choice(n, int(n * 0.02), replace=False)].copy()
    added["site_id"] = [f"new-{i}" for i in range(len(added))]
    added["geometry"] = added.geometry.translate(700.0, 700.0)
    keep = np.setdiff1d(np.arange(n), drop)
    return gpd.GeoDataFrame(pd.concat([new.iloc[keep], added], ignore_index=True), crs=old.crs)


def main() -> int:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/nrw-bench-50k")
    ap.add_argument("--sites", type=int, default=50_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    store = Store(args.data)
    if store.current_id() is None:
        print(f"building the {args.sites:,}-site demo into {args.data} …")
        build(store, n_sites=args.sites, seed=42)
    sid = store.current_id()
    assert sid is not None
    t = time.perf_counter()
    old = load_sites(store, sid)
    read_s = time.perf_counter() - t
    new = derive(old)
    best = float("inf")
    for _ in range(args.repeat):
        t = time.perf_counter()
        d = diff_sites(old, new)
        best = min(best, time.perf_counter() - t)
    c = d.counts()
    print(f"sites: {len(old):,} -> {len(new):,}; {c}")
    print(f"read one sites layer: {read_s:.2f} s")
    print(f"diff: {best:.2f} s (best of {args.repeat}; target ≤ 1 s) {'OK' if best <= 1.0 else 'SLOW'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
