"""Writing ``map.pmtiles``: the layers written in parts with GDAL, then merged into one archive.

How it is built: GDAL's PMTiles/MVT driver (in pyogrio's wheels) writes one layer per dataset, so
each layer (at NRW scale: each layer and zoom) is written to its own temporary archive — in two
forked worker processes when there is enough work — with the driver's tile-size and feature-count
limits lifted so that no feature is dropped. The archives are then merged: an MVT tile is a
protobuf ``Tile`` whose only field is the repeated ``layers``, so the concatenated (decompressed)
bytes of the same z/x/y from several archives are one valid multi-layer tile. The PyPI ``pmtiles``
package reads the parts and writes the result.

The forked workers come from the project's pool helper (``geo/pool.py``); the layers reach them
copy-on-write, not pickled.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import mmap
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pmtiles.tile import (
    Compression,
    TileType,
    deserialize_directory,
    deserialize_header,
    tileid_to_zxy,
)
from pmtiles.writer import Writer

from geo.pool import ForkPool, usable_cores
from layers.tiles_spec import CENTER_ZOOM, LAYER_ORDER, SPECS, Progress

# GDAL's MVT writer drops features or coarsens geometry above these (defaults 500 kB, 200,000
# features per tile); 50,000 site points in one z5 tile must all stay.
GDAL_LIMITS = {"MAX_SIZE": 2_000_000_000, "MAX_FEATURES": 2_000_000_000}
# The boundaries are simplified by 4 tile units (half a pixel of a 512-px tile, 4,096 units):
# the z6 tile of NRW's municipalities shrinks from 169,000 to 21,500 coordinates (188 to 40 kB),
# which the browser parses, and SwiftShader draws, on every frame. Sites keep every vertex.
SIMPLIFY = {"municipalities": 4, "kreise": 4}
PARALLEL_MIN_SITES = 1_000  # below this (and without municipalities) the layers are written in-process
PARALLEL_MIN_MUNICIPALITIES = 100


def _jobs(data: dict[str, gpd.GeoDataFrame], split: bool) -> list[tuple[str, int, int]]:
    """(layer, minzoom, maxzoom) parts; with ``split``, the site layers one zoom per part.

    The parts are ordered by expected cost, largest first, so that two workers finish together.
    The cost model (in units of ~70 µs, measured with GDAL 3.12): a feature per zoom costs 1
    (a point 0.45), z13 1.6 and z14 2.2; a boundary layer over all of NRW's tiles costs 30,000
    plus 0.7 per vertex (synthetic municipalities ≈ 2 s, the real DVG ones ≈ 7 s).
    """

    def zoom_cost(z: int) -> float:
        return 1.0 + max(0, z - 12) * 0.6

    jobs: list[tuple[float, str, int, int]] = []
    for name in sorted(data, key=LAYER_ORDER.__getitem__):
        spec = SPECS[name]
        gdf = data[name]
        per_feature = 0.45 if spec.geometry == "Point" else 1.0
        if split and name in ("sites", "site_points"):
            for z in range(spec.minzoom, spec.maxzoom + 1):
                jobs.append((len(gdf) * per_feature * zoom_cost(z), name, z, z))
            continue
        cost = len(gdf) * per_feature * sum(zoom_cost(z) for z in range(spec.minzoom, spec.maxzoom + 1))
        if name in ("municipalities", "kreise"):
            cost += 30_000 + 0.7 * float(shapely.get_num_coordinates(gdf.geometry.values).sum())
        jobs.append((cost, name, spec.minzoom, spec.maxzoom))
    jobs.sort(key=lambda j: -j[0])
    return [(name, z0, z1) for _cost, name, z0, z1 in jobs]


def _write_part(
    data: Mapping[str, gpd.GeoDataFrame], job: tuple[str, int, int, str]
) -> tuple[str, int, int, str, float]:
    """Write one layer of ``data`` over a zoom range into its own PMTiles file with GDAL."""
    name, z0, z1, path = job
    t = time.perf_counter()
    Path(path).unlink(missing_ok=True)  # the driver cannot add a layer to an existing archive
    pyogrio.write_dataframe(
        data[name],
        path,
        driver="PMTiles",
        layer=name,
        dataset_options={
            "MINZOOM": z0,
            "MAXZOOM": z1,
            "NAME": name,
            **GDAL_LIMITS,
            **({"SIMPLIFICATION": SIMPLIFY[name]} if name in SIMPLIFY else {}),
        },
    )
    return name, z0, z1, path, time.perf_counter() - t


def write_parts(
    data: dict[str, gpd.GeoDataFrame], tmp: Path, say: Progress
) -> list[tuple[str, int, int, str, float]]:
    """Write the parts of ``data`` (see ``_jobs``) to archives in ``tmp``, as they finish.

    Returns (layer, minzoom, maxzoom, path, seconds) per part.
    """
    n_sites = len(data.get("sites", ()))
    workers = usable_cores()
    parallel = workers >= 2 and (
        n_sites >= PARALLEL_MIN_SITES or len(data.get("municipalities", ())) >= PARALLEL_MIN_MUNICIPALITIES
    )
    jobs = [
        (name, z0, z1, str(tmp / f"{i:02d}-{name}-{z0}-{z1}.pmtiles"))
        for i, (name, z0, z1) in enumerate(_jobs(data, split=n_sites >= 10 * PARALLEL_MIN_SITES))
    ]
    done: list[tuple[str, int, int, str, float]] = []
    if parallel and len(jobs) > 1:
        # (GDAL keeps its own encoding threads: with one thread per worker z13/z14 take twice as long.)
        with ForkPool(_write_part, data, workers) as pool:
            for part in pool.imap(jobs, ordered=False):
                done.append(part)
                say(f"tiles: {part[0]} z{part[1]}–{part[2]} written ({part[4]:.1f} s)")
    else:
        for job in jobs:
            part = _write_part(data, job)
            done.append(part)
            say(f"tiles: {part[0]} z{part[1]}–{part[2]} written ({part[4]:.1f} s)")
    return done


# -- merging --------------------------------------------------------------------------------
def _tile_entries(
    get: Callable[[int, int], bytes], header: Mapping[str, Any]
) -> Iterator[tuple[int, int, int]]:
    """(tile id, offset in the tile data, length) of every addressed tile of an archive."""

    def walk(offset: int, length: int) -> Iterator[tuple[int, int, int]]:
        for e in deserialize_directory(get(offset, length)):
            if e.run_length == 0:
                yield from walk(header["leaf_directory_offset"] + e.offset, e.length)
            else:
                for i in range(e.run_length):
                    yield e.tile_id + i, e.offset, e.length

    yield from walk(header["root_offset"], header["root_length"])


@contextlib.contextmanager
def _mapped(path: str) -> Iterator[Callable[[int, int], bytes]]:
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        yield lambda offset, length: mm[offset : offset + length]


def merge_parts(
    parts: list[tuple[str, int, int, str, float]],
    out: Path,
    metadata: dict[str, Any],
    bounds: tuple[float, float, float, float],
) -> dict[str, Any]:
    """Merge single-layer archives into one; return tile counts and bytes per zoom."""
    tiles: dict[int, list[tuple[int, bytes]]] = {}
    layer_meta: dict[str, dict[str, Any]] = {}
    for name, _z0, _z1, path, _s in parts:
        with _mapped(path) as get:
            header = deserialize_header(get(0, 127))
            if header["tile_entries_count"] == 0:
                continue
            if (
                header["internal_compression"] != Compression.GZIP
                or header["tile_compression"] != Compression.GZIP
                or header["tile_type"] != TileType.MVT
            ):
                raise RuntimeError(f"unexpected PMTiles encoding from GDAL for layer {name}")
            meta = json.loads(gzip.decompress(get(header["metadata_offset"], header["metadata_length"])))
            for vl in meta.get("vector_layers", []):
                have = layer_meta.setdefault(
                    vl["id"], {"fields": {}, "minzoom": vl["minzoom"], "maxzoom": vl["maxzoom"]}
                )
                have["fields"].update(vl.get("fields", {}))
                have["minzoom"] = min(have["minzoom"], vl["minzoom"])
                have["maxzoom"] = max(have["maxzoom"], vl["maxzoom"])
            base = header["tile_data_offset"]
            rank = LAYER_ORDER[name]
            for tile_id, offset, length in _tile_entries(get, header):
                tiles.setdefault(tile_id, []).append((rank, get(base + offset, length)))
    if not tiles:
        raise RuntimeError("no layer has features to tile")
    metadata["vector_layers"] = [
        {
            "id": name,
            "description": SPECS[name].description,
            "minzoom": layer_meta[name]["minzoom"],
            "maxzoom": layer_meta[name]["maxzoom"],
            "fields": layer_meta[name]["fields"],
        }
        for name in sorted(layer_meta, key=LAYER_ORDER.__getitem__)
    ]
    per_zoom: dict[int, dict[str, int]] = {}
    w, s, e, n = bounds
    out_header: dict[str, Any] = {  # finalize() fills in the rest of pmtiles' HeaderDict
        "tile_type": TileType.MVT,
        "tile_compression": Compression.GZIP,
        "min_lon_e7": int(np.floor(w * 1e7)),
        "min_lat_e7": int(np.floor(s * 1e7)),
        "max_lon_e7": int(np.ceil(e * 1e7)),
        "max_lat_e7": int(np.ceil(n * 1e7)),
        "center_zoom": CENTER_ZOOM,
        "center_lon_e7": int(round((w + e) / 2 * 1e7)),
        "center_lat_e7": int(round((s + n) / 2 * 1e7)),
    }

    def combine(ids: list[int]) -> list[bytes]:  # zlib releases the GIL: two threads, two cores
        out = []
        for tile_id in ids:
            chunks = tiles[tile_id]
            if len(chunks) == 1:
                out.append(chunks[0][1])  # already a gzip-compressed single-layer tile
            else:
                chunks.sort(key=lambda c: c[0])
                raw = b"".join(gzip.decompress(c[1]) for c in chunks)
                out.append(gzip.compress(raw, compresslevel=6, mtime=0))
        return out

    ids = sorted(tiles)
    batches = [ids[i : i + 512] for i in range(0, len(ids), 512)]
    with open(out, "wb") as f, ThreadPoolExecutor(usable_cores()) as pool:
        writer = Writer(f)
        for batch, blobs in zip(batches, pool.map(combine, batches), strict=True):
            for tile_id, data in zip(batch, blobs, strict=True):
                writer.write_tile(tile_id, data)
                z = tileid_to_zxy(tile_id)[0]
                pz = per_zoom.setdefault(z, {"tiles": 0, "bytes": 0})
                pz["tiles"] += 1
                pz["bytes"] += len(data)
        writer.finalize(out_header, metadata)
    return {"tiles_per_zoom": {str(z): per_zoom[z] for z in sorted(per_zoom)}}
