"""Benchmark: the web map's PMTiles archive of the demo snapshot at NRW scale (50,000 sites).

Usage: python bench/tiles.py [--sites 50000] [--seed 42] [--data DIR] [--reuse]
Builds the demo snapshot (or, with --reuse, reads the live one in DIR) and prints the PMTiles
build time, the archive size, tiles and bytes per zoom, the bytes a browser fetches to show all of
NRW at z5–z8 (tiles + the first 16 KiB + metadata + the leaf directories they need), and checks
that no site is dropped: every site in site_points (by fid) at z5 and in sites at z12.
Target (DESIGN §5.3 task): the PMTiles build ≤ 60 s (≤ 30 s better) on 2 cores.
"""

from __future__ import annotations

import argparse
import gzip
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# The project root, not bench/, comes first: `api` is the package, not bench/api.py.
sys.path[0] = str(Path(__file__).resolve().parents[1])

import pandas as pd
import pyarrow.parquet as pq
from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import deserialize_directory, find_tile, zxy_to_tileid

from bench._measure import Stages
from geo.access import public_mask
from layers.build import build
from layers.store import Store
from layers.tiles import write_pmtiles


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def _fields(msg: bytes):
    """(field number, wire type, value) of a protobuf message; value is bytes or an int."""
    i = 0
    while i < len(msg):
        key, i = _varint(msg, i)
        f, w = key >> 3, key & 7
        if w == 2:
            n, i = _varint(msg, i)
            yield f, w, msg[i : i + n]
            i += n
        elif w == 0:
            v, i = _varint(msg, i)
            yield f, w, v
        elif w == 5:
            yield f, w, msg[i : i + 4]
            i += 4
        elif w == 1:
            yield f, w, msg[i : i + 8]
            i += 8
        else:
            raise ValueError(f"wire type {w}")


def site_ids(tile: bytes, layer: str, key: str = "site_id") -> list[Any]:
    """The ``key`` value (string or integer) of every feature of ``layer`` in an MVT tile (a
    minimal decoder)."""
    out: list[Any] = []
    for f, _w, lay in _fields(tile):
        if f != 3:
            continue
        name, keys, values, feats = None, [], [], []
        for lf, _lw, v in _fields(lay):
            if lf == 1:
                name = v.decode()
            elif lf == 3:
                keys.append(v.decode())
            elif lf == 4:
                s = [(vf, x) for vf, _vw, x in _fields(v) if vf in (1, 4, 5, 6)]
                vf, x = s[0] if s else (0, None)
                values.append(x.decode() if vf == 1 else (x >> 1) ^ -(x & 1) if vf == 6 else x)
            elif lf == 2:
                feats.append(v)
        if name != layer:
            continue
        k = keys.index(key)
        for feat in feats:
            for ff, _fw, tags in _fields(feat):
                if ff == 2:
                    t, i, pairs = [], 0, []
                    while i < len(tags):
                        x, i = _varint(tags, i)
                        t.append(x)
                    pairs = list(zip(t[::2], t[1::2], strict=True))
                    out += [values[vi] for ki, vi in pairs if ki == k]
    return out


def view_bytes(path: Path, zoom: int) -> tuple[int, int, int]:
    """(tiles, tile bytes, directory + metadata bytes) a browser fetches for all tiles of a zoom."""
    with open(path, "rb") as f:
        r = Reader(MmapSource(f))
        h = r.header()
        root = deserialize_directory(r.get_bytes(h["root_offset"], h["root_length"]))
        n = size = 0
        leaves: set[tuple[int, int]] = set()
        for (z, x, y), data in all_tiles(r.get_bytes):
            if z != zoom:
                continue
            n += 1
            size += len(data)
            e = find_tile(root, zxy_to_tileid(z, x, y))
            if e is not None and e.run_length == 0:
                leaves.add((e.offset, e.length))
        first = max(16384, h["root_offset"] + h["root_length"])
        return n, size, first + h["metadata_length"] + sum(length for _o, length in leaves)


def main() -> None:
    """Run the benchmark."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--data", help="data dir (default: a temporary one)")
    ap.add_argument("--reuse", action="store_true", help="use the live snapshot in --data")
    ap.add_argument(
        "--retile",
        type=int,
        default=1,
        help="rebuild the archive this many times from the stored snapshot, timed alone",
    )
    args = ap.parse_args()
    print(
        f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
        f"({os.cpu_count()} CPUs; other work on the machine slows every figure)"
    )
    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="nrw-bench-tiles-"))
    store = Store(data)
    if args.reuse and store.current_id():
        manifest = store.manifest()
        print(f"reusing snapshot {manifest['id']} in {data}")
    else:
        stages = Stages()
        stages("start")
        manifest = build(store, n_sites=args.sites, seed=args.seed, progress=stages)
        stages.finish()
        stages.print(f"demo build, {args.sites:,} sites -> {data}")
    t = manifest["tiles"]
    path = store.snapshots / manifest["id"] / t["file"]
    path_sites = store.snapshots / manifest["id"] / manifest["layers"]["sites"]["file"]
    stored = pd.read_parquet(
        path_sites, columns=[c for c in ("site_id", "public") if c in pq.read_schema(path_sites).names]
    )
    numbered = stored["site_id"][public_mask(stored)].tolist()  # the points' fid is the position here
    public = set(numbered)  # non-public sites stay out by design
    n_sites, n_all = len(public), len(stored)
    print(
        f"\nPMTiles build: {t['seconds']:.1f} s (target ≤ 60 s, ≤ 30 s better; "
        f"build stage 'tiles' incl. coverage overlays: {manifest['timings_s']['tiles']:.1f} s)"
    )
    if args.retile:
        snap = store.load()
        layers = {k: v for k, v in snap.layers.items() if k != "sites"}
        for i in range(args.retile):
            with tempfile.TemporaryDirectory(prefix="nrw-bench-retile-") as d:
                s0, c0 = (
                    resource.getrusage(resource.RUSAGE_SELF),
                    resource.getrusage(resource.RUSAGE_CHILDREN),
                )
                t0 = time.perf_counter()
                info = write_pmtiles(Path(d), layers, snap.layers["sites"], coverage=snap.coverage)
                wall = time.perf_counter() - t0
                s1, c1 = (
                    resource.getrusage(resource.RUSAGE_SELF),
                    resource.getrusage(resource.RUSAGE_CHILDREN),
                )
                cpu = sum(b.ru_utime + b.ru_stime - a.ru_utime - a.ru_stime for a, b in ((s0, s1), (c0, c1)))
                print(
                    f"PMTiles rebuild {i + 1}: {wall:.1f} s wall, {cpu:.1f} CPU-s "
                    f"(on an idle 2-core machine ≈ {cpu / 2:.1f} s at best), "
                    f"{info['size'] / 1e6:.1f} MB; load average now {os.getloadavg()[0]:.1f}"
                )
    print(
        f"archive: {t['size'] / 1e6:.1f} MB, {sum(v['tiles'] for v in t['tiles_per_zoom'].values()):,}"
        f" tiles, z{t['minzoom']}–z{t['maxzoom']}"
    )
    print(f"{'zoom':>4} {'tiles':>7} {'MB':>7} {'largest kB':>11}")
    sizes: dict[int, list[int]] = {}
    with open(path, "rb") as f:
        r = Reader(MmapSource(f))
        for (z, _x, _y), d in all_tiles(r.get_bytes):
            sizes.setdefault(z, []).append(len(d))
    for z in sorted(sizes):
        print(f"{z:>4} {len(sizes[z]):>7,} {sum(sizes[z]) / 1e6:>7.2f} {max(sizes[z]) / 1e3:>11.0f}")
    print("\nall of NRW in view (every tile of the zoom; a 1280×800 window at z8 shows about half):")
    for z in range(5, 9):
        n, size, meta = view_bytes(path, z)
        print(
            f"  z{z}: {n:>3} tiles, {size / 1e3:>6.0f} kB tiles + {meta / 1e3:.0f} kB header, "
            f"metadata and directories = {(size + meta) / 1e3:.0f} kB"
        )
    for name, o in manifest.get("coverage_overlays", {}).items():
        if o["kind"] == "image":
            print(f"coverage overlay {name}: {o['width']}×{o['height']} px, {o['size'] / 1e3:.0f} kB")
    # nothing dropped: every site at z5 (points) and z12 (polygons)
    t0 = time.perf_counter()
    found: dict[tuple[str, int], set[str]] = {("site_points", 5): set(), ("sites", 12): set()}
    with open(path, "rb") as f:
        r = Reader(MmapSource(f))
        for (z, _x, _y), d in all_tiles(r.get_bytes):
            for (layer, zz), ids in found.items():
                if z == zz:
                    if layer == "site_points":
                        ids.update(numbered[i] for i in site_ids(gzip.decompress(d), layer, "fid"))
                    else:
                        ids.update(site_ids(gzip.decompress(d), layer))
    for (layer, z), ids in found.items():
        print(
            f"{layer} at z{z}: {len(ids & public):,} of {n_sites:,} public sites"
            f"{'' if ids == public else '  <-- SITES MISSING OR EXTRA'}"
            f" ({n_all - n_sites:,} non-public sites left out by design)"
        )
    print(
        f"(checked in {time.perf_counter() - t0:.1f} s; snapshot {manifest['id']}; "
        f"{time.strftime('%Y-%m-%d %H:%M')})"
    )


if __name__ == "__main__":
    main()
