"""Benchmark: the indicator stage at 50,000, 200,000 and 1,000,000 sites, in process and on dask.

Usage: python bench/scale.py [--sizes 50000,200000,1000000] [--engines inproc,dask1,dask2,call]
                             [--work DIR] [--base 50000]

Inputs. 50,000 sites are the NRW demo (``nrw-sites build --demo --sites 50000``). Larger sizes
are SYNTHETIC: the whole 50,000-site NRW demo (every layer and grid) repeated as tiles side by
side (2 × 2 for 200,000, 5 × 4 for 1,000,000), each tile shifted by the 100 m grid's extent
(252 × 244 km) and given its own two-digit Land code in the AGS (NRW keeps ``05``), so a tile
looks to the code like another Land of the same density as NRW: the per-site work stays that of
NRW while the area grows (a Germany-like area, not denser sites). The population grid, wider than
the others, is merged where tiles overlap (cell-wise maximum).

Each (size, engine) runs in a fresh process that loads the prepared inputs (a pickle in
``--work``) and times ``derive_sites`` + the indicators: ``inproc`` = ``compute_indicators``
(with its forked helpers), ``daskN`` = ``layers.engine_dask.dask_indicators`` on a LocalCluster
of N worker processes (1 thread each). Memory: peak RSS of the main process during the stage
(sampled every 20 ms; also its RSS after loading the inputs, the baseline), of the in-process
engine's forked helpers (``RUSAGE_CHILDREN``: the largest ``ru_maxrss``; RSS counts the pages they
share copy-on-write with the main process) and of each dask worker process (``ru_maxrss``, read on
the workers at the end). CPU seconds beside each: on this shared 2-core machine the wall times
depend on the other load (printed), the CPU times much less. ``call``: the time of one
``compute_indicators`` call on a compact batch of 50, 500 and 5,000 sites against the full
context — what a partition costs whatever its size (trees and tables over the context layers),
and what each further site adds. The "50-site call" column of the other rows is such a call on
50 sites spread over the whole area.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parents[1])  # the project root, not bench/

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from bench._measure import Stages
from geo.grid import Coverage, GridSpec

TILES = {1: (1, 1), 4: (2, 2), 20: (5, 4)}  # tiles → (columns, rows)
LANDS = ["05"] + [f"{c:02d}" for c in range(1, 100) if c != 5]  # NRW's own code first


def _shift_layer(gdf: gpd.GeoDataFrame, dx: float, dy: float, land: str, tile: int) -> gpd.GeoDataFrame:
    out = gdf.copy()
    out["geometry"] = shapely.transform(np.asarray(gdf.geometry.values), lambda xy: xy + (dx, dy))
    for col in ("ags", "kreis_ags"):
        if col in out.columns:
            out[col] = [land + a[2:] if isinstance(a, str) else a for a in out[col]]
    if "area_id" in out.columns and tile:
        out["area_id"] = [f"t{tile}-{a}" for a in out["area_id"].astype(str)]
    return out


def _tile_grid(cov: Coverage, cols: int, rows: int, dx: float, dy: float) -> Coverage:
    assert cov.grid is not None
    s = cov.spec
    step_c, step_r = round(dx / s.res), round(dy / s.res)
    spec = GridSpec(s.x0, s.y1, s.res, s.nx + (cols - 1) * step_c, s.ny + (rows - 1) * step_r)
    grid = np.full(spec.shape, np.nan, dtype=cov.grid.dtype)
    for j in range(rows):
        for i in range(cols):
            win = grid[j * step_r : j * step_r + s.ny, i * step_c : i * step_c + s.nx]
            win[...] = np.fmax(win, cov.grid)
    return Coverage(cov.resolution, grid=grid, spec=spec)


def prepare(size: int, base: int, work: Path, seed: int = 42) -> Path:
    """Build (once) the inputs of ``size`` sites and pickle them; return the file."""
    from layers.build import _data_date, _ingest_demo, load_funding

    file = work / f"inputs-{size}.pkl"
    if file.exists():
        return file
    tiles = max(1, round(size / base))
    if tiles not in TILES:
        raise SystemExit(f"--sizes: {size} is not 1, 4 or 20 × --base {base}")
    cols, rows = TILES[tiles]
    t = time.perf_counter()
    layers, coverage, meta = _ingest_demo(base, seed, lambda _m: None)
    grid = coverage["fibre"].spec
    dx, dy = grid.nx * grid.res, grid.ny * grid.res
    if tiles > 1:
        parts: dict[str, list[gpd.GeoDataFrame]] = {name: [] for name in layers}
        for k in range(tiles):
            i, j = k % cols, k // cols
            for name, gdf in layers.items():
                parts[name].append(_shift_layer(gdf, i * dx, -j * dy, LANDS[k], k))
        layers = {
            name: gpd.GeoDataFrame(pd.concat(p, ignore_index=True), geometry="geometry", crs=p[0].crs)
            for name, p in parts.items()
        }
        coverage = {
            name: _tile_grid(cov, cols, rows, dx, dy) if cov.grid is not None else cov
            for name, cov in coverage.items()
        }
    inputs = {
        "layers": layers,
        "coverage": coverage,
        "funding": load_funding(),
        "data_date": _data_date(meta),
        "label": "NRW demo" if tiles == 1 else f"SYNTHETIC: {cols} × {rows} tiles of the NRW demo",
    }
    with file.open("wb") as f:
        pickle.dump(inputs, f, protocol=pickle.HIGHEST_PROTOCOL)
    print(f"prepared {size:,}: {inputs['label']} in {time.perf_counter() - t:.0f} s -> {file}", flush=True)
    return file


def call_costs(sites: gpd.GeoDataFrame, inputs: dict[str, Any]) -> dict[str, Any]:
    """``compute_indicators`` on compact batches (the 50, 500 and 5,000 sites nearest to one site,
    like a Hilbert partition) against the full context, with the whole set's extent as the dask
    engine passes it: a partition's time = a fixed part (the context) + a part per site."""
    from geo.sites import compute_indicators
    from layers.engine_dask import centre_extent

    geoms = np.asarray(sites.geometry.values, dtype=object)
    extent = centre_extent(geoms)
    c = shapely.centroid(geoms)
    order = np.argsort(shapely.distance(c, c[len(c) // 2]), kind="stable")
    out: dict[str, Any] = {"engine": "call", "sites": len(sites), "label": inputs["label"]}
    for n in (50, 500, 5_000):
        batch = sites.iloc[np.sort(order[:n])]
        t = time.perf_counter()
        compute_indicators(
            batch,
            inputs["layers"],
            inputs["coverage"],
            inputs["funding"],
            data_date=inputs["data_date"],
            extent=extent,
        )
        out[f"call_{n}_s"] = round(time.perf_counter() - t, 2)
    return out


def run(engine: str, file: Path) -> dict[str, Any]:
    """In a fresh process: load the inputs, time the indicator stage, measure peaks."""
    from geo.sites import compute_indicators, derive_sites

    with file.open("rb") as f:
        inputs = pickle.load(f)
    sampler = Stages()  # samples this process's RSS every 20 ms
    sampler("indicators")
    loaded = sampler.proc.memory_info().rss / 1e6
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    marks: dict[str, Any] = {}
    t0 = time.perf_counter()

    def say(msg: str) -> None:
        if "partitions on" in msg:
            marks["connected"] = time.perf_counter() - t0
            marks["partitions"] = int(msg.split(" sites in ")[1].split()[0])
        if "per worker: peak memory (MB) " in msg:
            mem, cpu = msg.split("(MB) ")[1].split("; CPU time (s) ")
            marks["workers"] = [int(v) for v in mem.split(", ")]
            marks["workers_cpu"] = [float(v) for v in cpu.split(", ")]

    sites = derive_sites(inputs["layers"])
    args = (sites, inputs["layers"], inputs["coverage"], inputs["funding"])
    if engine == "call":  # the cost of one compact partition, by its size
        return call_costs(sites, inputs)
    if engine == "inproc":
        out = compute_indicators(*args, data_date=inputs["data_date"])
    else:
        from layers.engine_dask import dask_indicators

        n = int(engine.removeprefix("dask"))
        out = dask_indicators(*args, data_date=inputs["data_date"], workers=n, progress=say)
    wall = time.perf_counter() - t0
    sampler.finish()
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    small = sites.iloc[:: max(1, len(sites) // 50)]  # the cost of one call on a tiny batch
    t = time.perf_counter()
    compute_indicators(
        small, inputs["layers"], inputs["coverage"], inputs["funding"], data_date=inputs["data_date"]
    )
    per_call = time.perf_counter() - t
    return {
        "engine": engine,
        "sites": len(out),
        "label": inputs["label"],
        "wall_s": round(wall, 2),
        "cluster_s": round(marks.get("connected", 0.0), 2),
        "partitions": int(marks.get("partitions", 1)),
        "main_loaded_mb": round(loaded),
        "main_peak_mb": round(sampler.all_peak / 1e6),
        "main_cpu_s": round(own.ru_utime + own.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 1),
        "helpers_peak_mb": round(kids.ru_maxrss / 1024),
        "helpers_cpu_s": round(kids.ru_utime + kids.ru_stime, 1),
        "workers_peak_mb": marks.get("workers", []),
        "workers_cpu_s": marks.get("workers_cpu", []),
        "call_50_sites_s": round(per_call, 2),
        "columns": out.shape[1],
    }


def main() -> None:
    """Run the benchmark."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="50000,200000,1000000")
    ap.add_argument("--engines", default="inproc,dask1,dask2,call", help="call: one partition's cost")
    ap.add_argument("--base", type=int, default=50_000, help="sites of one NRW tile")
    ap.add_argument("--work", help="folder for the prepared inputs (default: a temporary one)")
    ap.add_argument("--run", help=argparse.SUPPRESS)  # internal: one engine on one input file
    ap.add_argument("--input", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run:
        print("RESULT " + json.dumps(run(args.run, Path(args.input))), flush=True)
        return
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="nrw-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    for size in (int(s) for s in args.sizes.split(",")):
        file = prepare(size, args.base, work)
        for engine in args.engines.split(","):
            cmd = [sys.executable, __file__, "--run", engine, "--input", str(file)]
            env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
            done = subprocess.run(cmd, capture_output=True, text=True, env=env)
            lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
            if done.returncode or not lines:
                print(f"{size:,} {engine}: failed ({done.returncode})\n{done.stderr[-2000:]}", flush=True)
                continue
            row = json.loads(lines[-1][7:])
            row["load"] = round(os.getloadavg()[0], 1)
            print(json.dumps(row), flush=True)
            if engine == "call":
                calls.append(row)
            else:
                rows.append(row)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"\nindicator stage (derive_sites + indicators), {time.strftime('%Y-%m-%d %H:%M')}, "
        f"{os.cpu_count()} cores, load average now {load}"
    )
    head = f"{'sites':>10} {'engine':<7} {'wall s':>6} {'start s':>7} {'parts':>5} {'main MB':>7} "
    head += f"{'(in)':>5} {'CPU s':>6} {'helpers':>13} {'workers MB':>10} {'workers CPU s':>13} "
    head += f"{'50-site call':>12} load"
    print(head)
    for r in rows:
        mem = ", ".join(str(v) for v in r["workers_peak_mb"]) or "-"
        cpu = ", ".join(f"{v:.0f}" for v in r["workers_cpu_s"]) or "-"
        inproc = r["engine"] == "inproc"  # (for dask, the reaped children are the workers themselves)
        helpers = f"{r['helpers_peak_mb']} MB {r['helpers_cpu_s']:.0f} s" if inproc else "-"
        print(
            f"{r['sites']:>10,} {r['engine']:<7} {r['wall_s']:>6.1f} {r['cluster_s']:>7.1f} "
            f"{r['partitions']:>5} {r['main_peak_mb']:>7} {r['main_loaded_mb']:>5} {r['main_cpu_s']:>6.1f} "
            f"{helpers:>13} {mem:>10} {cpu:>13} {r['call_50_sites_s']:>11.2f}s {r['load']}"
        )
    print(
        "main MB: peak RSS of the main process during the stage ((in): after loading the inputs); "
        "helpers: the in-process engine's forked helpers (largest peak RSS, CPU summed); "
        "workers: each dask worker process (peak RSS, CPU); 50-site call: compute_indicators on "
        "50 of the sites against the full context (the fixed cost of one partition)"
    )
    for r in calls:
        print(
            f"{r['sites']:>10,} one compact partition of 50 / 500 / 5,000 sites: {r['call_50_s']:.2f} / "
            f"{r['call_500_s']:.2f} / {r['call_5000_s']:.2f} s (load {r['load']})"
        )
    print("inputs: " + "; ".join(sorted({f"{r['sites']:,}: {r['label']}" for r in rows + calls})))


if __name__ == "__main__":
    main()
