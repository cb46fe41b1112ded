"""Benchmark: exports and CRS items on the 50,000-site demo (issue 12's targets).

Usage: python bench/exports.py [--data DIR] [--sites 50000] [--workers N] [--n 20]

Builds the demo into DIR (a temporary one by default) unless DIR already holds a snapshot, then
measures, in this process, on the public view (as `nrw-sites export` and the public HTTP API):

1. all 396 municipalities × GeoPackage, CSV and GeoJSON (``export_many``; ``--workers``
   forked writers, default: the CPUs, at most 4), wall time;
2. one municipality's GeoPackage over HTTP (in-process ASGI client), p50 over ``--n``
   municipalities of median size;
3. all of NRW as GeoPackage over HTTP;
4. ``/api/collections/sites/items?limit=5000`` in EPSG:25832 against CRS84, p50 of ``--n`` pages
   each (no gzip: the serialisation is what differs).

Wall time and CPU time (this process and its children) are printed, and the machine's load:
on a shared machine the wall time includes waiting for a CPU. Targets are printed beside the
figures; nothing is asserted. Results also go to bench/results/exports.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path[0] = str(Path(__file__).resolve().parents[1])  # the project, not bench/, first

from api.exports import export_many  # noqa: E402
from api.service import Service  # noqa: E402
from api.views import public_snapshot  # noqa: E402
from layers.build import build  # noqa: E402
from layers.store import Store  # noqa: E402

TARGETS = {
    "all_396_gpkg_csv_geojson_s": 30.0,
    "one_municipality_gpkg_p50_ms": 150.0,
    "nrw_gpkg_s": 10.0,
    "items_25832_over_crs84": 1.2,
}
RESULTS = Path(__file__).resolve().parent / "results" / "exports.json"


def cpu() -> float:
    """CPU seconds of this process and its finished children."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds of one call, and its result."""
    w, c = time.perf_counter(), cpu()
    out = fn()
    return time.perf_counter() - w, cpu() - c, out


def load() -> str:
    """Load average and CPU pressure, to read the wall times by."""
    avg = " ".join(f"{x:.1f}" for x in os.getloadavg())
    try:
        psi = Path("/proc/pressure/cpu").read_text().split("\n")[0]
    except OSError:
        psi = "n/a"
    return f"load {avg} on {os.cpu_count()} CPUs; cpu pressure: {psi}"


def main() -> None:
    """Run the benchmark."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", help="data dir (built when it has no snapshot)")
    ap.add_argument("--sites", type=int, default=50_000)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--n", type=int, default=20)
    args = ap.parse_args()
    logging.disable(logging.INFO)
    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="nrw-bench-exports-"))
    store = Store(data)
    if store.current_id() is None:
        print(f"building the demo ({args.sites:,} sites) into {data} …", flush=True)
        build(store, n_sites=args.sites, seed=42)
    snap = public_snapshot(store.load())
    svc = Service(snap)
    print(f"snapshot {snap.id}: {len(svc.sites):,} public sites; {load()}")
    out: dict[str, Any] = {
        "snapshot": snap.id,
        "sites": len(svc.sites),
        "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }

    index = svc.areas
    w, c, _ = timed(lambda: index.rows(index.area("nrw", None)))  # the overlaps, built on first use
    print(f"site index (which municipalities each site overlaps): {w:.2f} s")
    areas = [index.area("municipality", a) for a in index.ags]
    with tempfile.TemporaryDirectory(prefix="nrw-bench-out-") as tmp:
        w, c, _ = timed(
            lambda: export_many(svc, areas, Path(tmp), None, ["gpkg", "csv", "geojson"], workers=args.workers)
        )
        files = len(list(Path(tmp).glob("*.*")))
    out["all_396_gpkg_csv_geojson_s"] = round(w, 2)
    out["all_396_cpu_s"] = round(c, 2)
    print(
        f"1. all 396 municipalities × GPKG, CSV, GeoJSON ({files} files): {w:.1f} s wall, "
        f"{c:.1f} s CPU (target ≤ {TARGETS['all_396_gpkg_csv_geojson_s']:g} s)"
    )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    from api.main import create_app
    from api.settings import Settings

    with TestClient(create_app(Settings(data=data))) as client:
        client.headers["accept-encoding"] = "identity"
        sizes = sorted((len(index.rows(a)[0]), a.key) for a in areas)
        mid = len(sizes) // 2
        sample = [k for _, k in sizes[mid - args.n // 2 : mid - args.n // 2 + args.n]]
        client.get(f"/api/exports/municipalities/{sample[0]}.gpkg")  # warm-up
        walls, cpus = [], []
        for ags in sample:
            w, c, r = timed(lambda a=ags: client.get(f"/api/exports/municipalities/{a}.gpkg"))
            assert r.status_code == 200
            walls.append(w)
            cpus.append(c)
        p50, c50 = statistics.median(walls) * 1e3, statistics.median(cpus) * 1e3
        out["one_municipality_gpkg_p50_ms"] = round(p50, 1)
        out["one_municipality_gpkg_cpu_p50_ms"] = round(c50, 1)
        out["one_municipality_sites_median"] = sizes[mid][0]
        print(
            f"2. one municipality GPKG over HTTP ({args.n} of median size, "
            f"{sizes[mid][0]} sites): p50 {p50:.0f} ms wall, {c50:.0f} ms CPU "
            f"(target ≤ {TARGETS['one_municipality_gpkg_p50_ms']:g} ms)"
        )

        w, c, r = timed(lambda: client.get("/api/exports/nrw.gpkg"))
        assert r.status_code == 200
        out["nrw_gpkg_s"] = round(w, 2)
        out["nrw_gpkg_cpu_s"] = round(c, 2)
        out["nrw_gpkg_mb"] = round(len(r.content) / 1e6, 1)
        print(
            f"3. all of NRW as GPKG over HTTP ({len(r.content) / 1e6:.0f} MB): {w:.1f} s wall, "
            f"{c:.1f} s CPU (target ≤ {TARGETS['nrw_gpkg_s']:g} s)"
        )

        times: dict[str, list[float]] = {"CRS84": [], "EPSG:25832": []}
        total = len(svc.sites)
        for k in range(args.n):
            off = (k * 5000) % max(total - 5000, 1)
            for crs in ("CRS84", "EPSG:25832"):  # interleaved: the same load for both
                q = "" if crs == "CRS84" else "&crs=EPSG:25832"
                w, _, r = timed(
                    lambda q=q, off=off: client.get(
                        f"/api/collections/sites/items?limit=5000&offset={off}{q}"
                    )
                )
                assert r.status_code == 200
                times[crs].append(w)
        a, b = (statistics.median(times[x]) * 1e3 for x in ("CRS84", "EPSG:25832"))
        out["items_crs84_p50_ms"], out["items_25832_p50_ms"] = round(a, 1), round(b, 1)
        out["items_25832_over_crs84"] = round(b / a, 2)
        print(
            f"4. items limit 5,000: CRS84 p50 {a:.0f} ms, EPSG:25832 p50 {b:.0f} ms: "
            f"{b / a:.2f}× (target ≤ {TARGETS['items_25832_over_crs84']:g}×)"
        )

    out["load"] = load()
    out["targets"] = TARGETS
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{load()}\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
