"""Map data for the web UI (DESIGN §5.3), written once per snapshot at publish time.

``map.pmtiles``: one PMTiles v3 archive of gzip-compressed Mapbox Vector Tiles, EPSG:3857 tiling,
z5–z14. Its layers (the names and properties are a contract the web map relies on):

================== ====== ========== ==========================================================
layer              zooms  geometry   properties
================== ====== ========== ==========================================================
site_points        5–9    point      fid (integer: the site's position among the public sites)
sites              10–14  polygon    site_id (string), kind, planning_category, area_ha
municipalities     5–14   polygon    ags, name, kreis_ags (+ fibre_share, mobile_5g_share when
                                     that coverage is a municipal or Kreis statistic)
municipality_labels 5–14  point      ags, name
kreise             5–14   polygon    kreis_ags, kreis_name (municipalities dissolved by Kreis)
kreis_labels       5–14   point      kreis_ags, kreis_name
hydrogen           5–14   line       segment_id, name, kind, commissioning_year (integer),
                                     geometry_quality
lep_sites          5–14   polygon    area_id, name
motorway_junctions 5–14   point      junction_id, name, ref
rail_stations      5–14   point      eva_nr, name, traffic, long_distance
rail_freight       5–14   point      terminal_id, name, type (representative point of an area)
ports              5–14   point      port_id, name (representative point of the port area)
airports           5–14   point      airport_id, name, iata, commercial
================== ====== ========== ==========================================================

Points are representative points (inside the polygon). The points carry only ``fid``, the site's
position among the snapshot's public sites (``/api/sites/table`` has the same ``fid`` per row):
50,000 unique ``site_id`` strings made up two thirds of the first view's tile, and the browser
reads every one of them on its worker and again on its main thread. The map uses ``promoteId``
``fid`` for the points and ``site_id`` for the polygons, with feature-state; ``area_ha`` is rounded to 0.01 ha
(display and styling; the exact figures come from the API). Sites marked ``public = false`` are
left out, and no other site property reaches the tiles.

How it is built: GDAL's PMTiles/MVT driver (in pyogrio's wheels) writes one layer per dataset, so
each layer (at NRW scale: each layer and zoom) is written to its own temporary archive — in two
forked worker processes when there is enough work — with the driver's tile-size and feature-count
limits lifted so that no feature is dropped. The archives are then merged: an MVT tile is a
protobuf ``Tile`` whose only field is the repeated ``layers``, so the concatenated (decompressed)
bytes of the same z/x/y from several archives are one valid multi-layer tile. The PyPI ``pmtiles``
package reads the parts and writes the result.

Coverage overlays (fibre, 5G): a 100 m grid becomes a small indexed PNG per layer — 300 m block
means, resampled onto a Web Mercator-aligned raster so that its four corners (WGS84, for a
MapLibre ``image`` source) place it exactly — coloured in ten classes of the colour-blind-safe
viridis ramp with alpha, no data transparent. Municipal or Kreis statistics are not rasterised:
their share is written as a property (``fibre_share``, ``mobile_5g_share``) on the
``municipalities`` tile layer (for Kreis statistics each municipality carries its Kreis' share),
which is exact, costs a few bytes and needs no second geometry; the manifest says which way each
layer is drawn.
"""

from __future__ import annotations

import contextlib
import ctypes
import gzip
import json
import mmap
import os
import signal
import struct
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
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

from geo.access import public_mask
from geo.crs import transformer
from geo.grid import Coverage
from layers.io import sha256

Progress = Callable[[str], None]

TILES_FILE = "map.pmtiles"
MINZOOM, MAXZOOM = 5, 14
POINTS_MAXZOOM = 9  # site_points up to here, site polygons from here + 1
CENTER_ZOOM = 7
# GDAL's MVT writer drops features or coarsens geometry above these (defaults 500 kB, 200,000
# features per tile); 50,000 site points in one z5 tile must all stay.
GDAL_LIMITS = {"MAX_SIZE": 2_000_000_000, "MAX_FEATURES": 2_000_000_000}
# The boundaries are simplified by 4 tile units (half a pixel of a 512-px tile, 4,096 units):
# the z6 tile of NRW's municipalities shrinks from 169,000 to 21,500 coordinates (188 to 40 kB),
# which the browser parses, and SwiftShader draws, on every frame. Sites keep every vertex.
SIMPLIFY = {"municipalities": 4, "kreise": 4}
PARALLEL_MIN_SITES = 1_000  # below this (and without municipalities) the layers are written in-process
PARALLEL_MIN_MUNICIPALITIES = 100
AREA_DECIMALS = 2
SHARE_DECIMALS = 3

COVERAGE_PROPERTY = {"fibre": "fibre_share", "mobile_5g": "mobile_5g_share"}
OVERLAY_PIXEL_M = 300  # ground size of an overlay pixel (3 × 3 grid cells)
OVERLAY_OPACITY = 0.7
# viridis in ten steps (colour-blind safe, perceptually uniform; as R's viridisLite::viridis(10))
VIRIDIS_10 = (
    "#440154",
    "#482878",
    "#3e4a89",
    "#31688e",
    "#26828e",
    "#1f9e89",
    "#35b779",
    "#6dcd59",
    "#b4de2c",
    "#fde725",
)
LEGEND_BREAKS = tuple(round(i / 10, 1) for i in range(11))


@dataclass(frozen=True)
class TileLayer:
    """A layer of the archive: name, zoom range, geometry type and the properties written."""

    name: str
    minzoom: int
    maxzoom: int
    geometry: str
    fields: tuple[str, ...]
    description: str


SITE_FIELDS = ("site_id", "kind", "planning_category", "area_ha")
POINT_FIELDS = ("fid",)
PROMOTE_ID = {"sites": "site_id", "site_points": "fid"}  # the feature-state key per layer
# Transport access (issue 13), drawn as points: (properties, description); the first is the id.
TRANSPORT_FIELDS: dict[str, tuple[tuple[str, ...], str]] = {
    "motorway_junctions": (("junction_id", "name", "ref"), "motorway junctions"),
    "rail_stations": (("eva_nr", "name", "traffic", "long_distance"), "railway stations (DB)"),
    "rail_freight": (("terminal_id", "name", "type"), "rail freight terminals"),
    "ports": (("port_id", "name"), "inland ports"),
    "airports": (("airport_id", "name", "iata", "commercial"), "airports and airfields"),
}
TILE_LAYERS: tuple[TileLayer, ...] = (
    TileLayer(
        "municipalities",
        MINZOOM,
        MAXZOOM,
        "Polygon",
        ("ags", "name", "kreis_ags"),
        "Gemeinden (AGS); fibre_share / mobile_5g_share where coverage is a unit statistic",
    ),
    TileLayer(
        "kreise",
        MINZOOM,
        MAXZOOM,
        "Polygon",
        ("kreis_ags", "kreis_name"),
        "Kreise and kreisfreie Städte (municipalities dissolved by kreis_ags)",
    ),
    TileLayer("lep_sites", MINZOOM, MAXZOOM, "Polygon", ("area_id", "name"), "LEP NRW large sites"),
    TileLayer(
        "hydrogen",
        MINZOOM,
        MAXZOOM,
        "LineString",
        ("segment_id", "name", "kind", "commissioning_year", "geometry_quality"),
        "Wasserstoff-Kernnetz segments",
    ),
    TileLayer("sites", POINTS_MAXZOOM + 1, MAXZOOM, "Polygon", SITE_FIELDS, "candidate sites (polygons)"),
    TileLayer(
        "site_points",
        MINZOOM,
        POINTS_MAXZOOM,
        "Point",
        POINT_FIELDS,
        "candidate sites (one representative point each, by fid)",
    ),
    TileLayer(
        "municipality_labels",
        MINZOOM,
        MAXZOOM,
        "Point",
        ("ags", "name"),
        "label points of the municipalities",
    ),
    TileLayer(
        "kreis_labels", MINZOOM, MAXZOOM, "Point", ("kreis_ags", "kreis_name"), "label points of the Kreise"
    ),
    *(
        TileLayer(name, MINZOOM, MAXZOOM, "Point", fields, description)
        for name, (fields, description) in TRANSPORT_FIELDS.items()
    ),
)
LAYER_ORDER = {spec.name: i for i, spec in enumerate(TILE_LAYERS)}
SPECS = {spec.name: spec for spec in TILE_LAYERS}


# -- the tile layers ------------------------------------------------------------------------
def _wgs84(gdf: gpd.GeoDataFrame, columns: list[str], geometry: Any = None) -> gpd.GeoDataFrame:
    """Columns of ``gdf`` with its geometry (or ``geometry``, in EPSG:25832) in EPSG:4326."""
    geom = gdf.geometry.values if geometry is None else geometry
    out = gpd.GeoDataFrame(
        pd.DataFrame({c: gdf[c].to_numpy() for c in columns}),
        geometry=gpd.GeoSeries(geom, crs=gdf.crs).to_crs(4326).values,
        crs=4326,
    )
    keep = ~(out.geometry.isna() | out.geometry.is_empty).to_numpy()
    return out[keep].reset_index(drop=True)


_Frame = TypeVar("_Frame", bound=pd.DataFrame)


def _strings(df: _Frame, columns: tuple[str, ...]) -> _Frame:
    """Make ``columns`` plain Python strings (None where missing): OGR String fields."""
    for c in columns:
        if c in df.columns:
            df[c] = pd.Series([None if pd.isna(v) else str(v) for v in df[c]], index=df.index, dtype=object)
    return df


def _unit_shares(muni: gpd.GeoDataFrame, coverage: dict[str, Coverage] | None) -> dict[str, np.ndarray]:
    """Per municipality, the share of each coverage layer given as a municipal/Kreis statistic."""
    out: dict[str, np.ndarray] = {}
    for name, cov in (coverage or {}).items():
        if cov.units is None or name not in COVERAGE_PROPERTY:
            continue
        keys = muni["ags"] if cov.resolution == "municipal" else muni["kreis_ags"]
        units = pd.Series(cov.units.to_numpy(float), index=cov.units.index.astype(str))
        units = units[~units.index.duplicated()]
        out[COVERAGE_PROPERTY[name]] = np.round(keys.astype(str).map(units).to_numpy(float), SHARE_DECIMALS)
    return out


def tile_layers(
    layers: dict[str, gpd.GeoDataFrame], sites: gpd.GeoDataFrame, coverage: dict[str, Coverage] | None = None
) -> dict[str, gpd.GeoDataFrame]:
    """The layers of the archive (see the module docstring), in EPSG:4326, without empty ones.

    ``layers`` and ``sites`` are the snapshot's layers in EPSG:25832.
    """
    out: dict[str, gpd.GeoDataFrame] = {}
    if sites is not None and len(sites):
        s = sites[public_mask(sites)]  # non-public sites never reach the public tiles
        s = s.assign(fid=np.arange(len(s)))  # before dropping empty geometries: the table's fid
        s = s[s.geometry.notna().to_numpy() & ~s.geometry.is_empty.to_numpy()]
        poly = _wgs84(s, list(SITE_FIELDS))
        poly["area_ha"] = poly["area_ha"].astype(float).round(AREA_DECIMALS)
        out["sites"] = _strings(poly, ("site_id", "kind", "planning_category"))
        out["site_points"] = _wgs84(s, list(POINT_FIELDS), shapely.point_on_surface(s.geometry.values))
    muni = layers.get("municipalities")
    if muni is not None and len(muni):
        m = _wgs84(muni, ["ags", "name", "kreis_ags"])
        for prop, values in _unit_shares(muni, coverage).items():
            m[prop] = values
        out["municipalities"] = _strings(m, ("ags", "name", "kreis_ags"))
        out["municipality_labels"] = _strings(
            _wgs84(muni, ["ags", "name"], shapely.point_on_surface(muni.geometry.values)), ("ags", "name")
        )
        kreise = _kreise(muni)
        out["kreise"] = _strings(_wgs84(kreise, ["kreis_ags", "kreis_name"]), ("kreis_ags", "kreis_name"))
        out["kreis_labels"] = _strings(
            _wgs84(kreise, ["kreis_ags", "kreis_name"], shapely.point_on_surface(kreise.geometry.values)),
            ("kreis_ags", "kreis_name"),
        )
    h2 = layers.get("hydrogen")
    if h2 is not None and len(h2):
        fields = list(SPECS["hydrogen"].fields)
        h = _wgs84(h2, fields)
        # call-overload: pandas-stubs have no pd.array overload for a float Series to "Int64"
        h["commissioning_year"] = pd.array(  # type: ignore[call-overload]
            pd.to_numeric(h["commissioning_year"], errors="coerce").round(), dtype="Int64"
        )
        out["hydrogen"] = _strings(h, ("segment_id", "name", "kind", "geometry_quality"))
    lep = layers.get("lep_sites")
    if lep is not None and len(lep):
        out["lep_sites"] = _strings(_wgs84(lep, ["area_id", "name"]), ("area_id", "name"))
    for name, (wanted, _) in TRANSPORT_FIELDS.items():
        gdf = layers.get(name)
        if gdf is not None and len(gdf):
            cols = [c for c in wanted if c in gdf.columns]
            pts = _wgs84(gdf, cols, shapely.point_on_surface(gdf.geometry.values))
            out[name] = _strings(pts, tuple(c for c in cols if pts[c].dtype == object))
    return {k: v for k, v in out.items() if len(v)}


def _kreise(muni: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Municipalities dissolved by ``kreis_ags`` (name: the first ``kreis_name`` of the Kreis)."""
    names = (
        muni["kreis_name"]
        if "kreis_name" in muni.columns
        else pd.Series([None] * len(muni), index=muni.index)
    )
    keys = muni["kreis_ags"].astype(str).to_numpy()
    geoms = shapely.make_valid(muni.geometry.values)
    order = np.argsort(keys, kind="stable")
    uniq, start = np.unique(keys[order], return_index=True)
    bounds = [*start[1:], len(order)]
    rows = []
    for k, a, b in zip(uniq, start, bounds, strict=True):
        idx = order[a:b]
        rows.append((k, names.iloc[idx[0]], shapely.union_all(geoms[idx])))
    return gpd.GeoDataFrame(
        pd.DataFrame({"kreis_ags": [r[0] for r in rows], "kreis_name": [r[1] for r in rows]}),
        geometry=[r[2] for r in rows],
        crs=muni.crs,
    )


# -- writing the parts with GDAL ------------------------------------------------------------
_JOB_DATA: dict[str, gpd.GeoDataFrame] = {}  # shared with forked workers (copy-on-write)


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


def _write_part(job: tuple[str, int, int, str]) -> tuple[str, int, int, str, float]:
    """Write one layer over a zoom range into its own PMTiles file with GDAL."""
    name, z0, z1, path = job
    t = time.perf_counter()
    Path(path).unlink(missing_ok=True)  # the driver cannot add a layer to an existing archive
    pyogrio.write_dataframe(
        _JOB_DATA[name],
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


def _init_worker() -> None:  # pragma: no cover - runs in the worker
    """Let a forked worker end with the build process if that is killed (Linux), not linger.

    (GDAL keeps its own encoding threads: with one thread per worker z13/z14 take twice as long.)
    """
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _workers() -> int:
    try:
        return max(1, min(2, len(os.sched_getaffinity(0))))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, min(2, os.cpu_count() or 1))


def _write_parts(
    data: dict[str, gpd.GeoDataFrame], tmp: Path, say: Progress
) -> list[tuple[str, int, int, str, float]]:
    n_sites = len(data.get("sites", ()))
    parallel = _workers() >= 2 and (
        n_sites >= PARALLEL_MIN_SITES or len(data.get("municipalities", ())) >= PARALLEL_MIN_MUNICIPALITIES
    )
    jobs = [
        (name, z0, z1, str(tmp / f"{i:02d}-{name}-{z0}-{z1}.pmtiles"))
        for i, (name, z0, z1) in enumerate(_jobs(data, split=n_sites >= 10 * PARALLEL_MIN_SITES))
    ]
    _JOB_DATA.clear()
    _JOB_DATA.update(data)
    done: list[tuple[str, int, int, str, float]] = []
    try:
        if parallel and len(jobs) > 1:
            import multiprocessing as mp

            with mp.get_context("fork").Pool(_workers(), initializer=_init_worker) as pool:
                for part in pool.imap_unordered(_write_part, jobs, chunksize=1):
                    done.append(part)
                    say(f"tiles: {part[0]} z{part[1]}–{part[2]} written ({part[4]:.1f} s)")
        else:
            for job in jobs:
                part = _write_part(job)
                done.append(part)
                say(f"tiles: {part[0]} z{part[1]}–{part[2]} written ({part[4]:.1f} s)")
    finally:
        _JOB_DATA.clear()
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


def _merge(
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
    with open(out, "wb") as f, ThreadPoolExecutor(_workers()) as pool:
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


def write_pmtiles(
    staging: Path,
    layers: dict[str, gpd.GeoDataFrame],
    sites: gpd.GeoDataFrame,
    progress: Progress | None = None,
    *,
    coverage: dict[str, Coverage] | None = None,
    attribution: str | None = None,
) -> dict[str, Any]:
    """Write ``map.pmtiles`` into ``staging`` (a snapshot's staging directory).

    ``layers`` and ``sites`` are in EPSG:25832. Returns the manifest entry: file, sha256, size,
    zooms, bounds, center, the layers with their zooms, properties and feature counts, tiles and
    bytes per zoom, and the seconds it took.
    """
    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    data = tile_layers(layers, sites, coverage)
    if not data:
        raise RuntimeError("no layer has features to tile")
    say(f"tiles: {len(data)} layers prepared in EPSG:4326 ({time.perf_counter() - t0:.1f} s)")
    bounds = _bounds(data)
    metadata: dict[str, Any] = {
        "name": "NRW Site Finder",
        "format": "pbf",
        "type": "overlay",
        "version": "2",
        "description": "Sites, municipalities, Kreise, hydrogen core network and LEP large sites "
        "of North Rhine-Westphalia",
        "minzoom": str(MINZOOM),
        "maxzoom": str(MAXZOOM),
        "bounds": ",".join(f"{v:.7f}" for v in bounds),
        "center": f"{(bounds[0] + bounds[2]) / 2:.7f},{(bounds[1] + bounds[3]) / 2:.7f},{CENTER_ZOOM}",
        "attribution": attribution or "",
    }
    out = staging / TILES_FILE
    with tempfile.TemporaryDirectory(prefix=".tiles-", dir=staging) as tmp:
        parts = _write_parts(data, Path(tmp), say)
        t = time.perf_counter()
        stats = _merge(parts, out, metadata, bounds)
        merge_s = time.perf_counter() - t
    size = out.stat().st_size
    seconds = round(time.perf_counter() - t0, 3)
    say(f"tiles: {TILES_FILE} {size / 1e6:.1f} MB, merged in {merge_s:.1f} s, {seconds:.1f} s in all")
    return {
        "file": TILES_FILE,
        "format": "PMTiles v3, MVT (gzip)",
        "crs": "EPSG:3857 tiles",
        "sha256": sha256(out),
        "size": size,
        "minzoom": MINZOOM,
        "maxzoom": MAXZOOM,
        "bounds": [round(v, 7) for v in bounds],
        "center": [round((bounds[0] + bounds[2]) / 2, 7), round((bounds[1] + bounds[3]) / 2, 7), CENTER_ZOOM],
        "layers": {
            name: {
                "minzoom": SPECS[name].minzoom,
                "maxzoom": SPECS[name].maxzoom,
                "geometry": SPECS[name].geometry,
                "count": len(gdf),
                "properties": [c for c in gdf.columns if c != "geometry"],
            }
            for name, gdf in sorted(data.items(), key=lambda kv: LAYER_ORDER[kv[0]])
        },
        "promote_id": PROMOTE_ID,
        "attribution": attribution or "",
        **stats,
        "seconds": seconds,
    }


def _bounds(data: dict[str, gpd.GeoDataFrame]) -> tuple[float, float, float, float]:
    """The area the map is about (transport points reach 10 km beyond NRW: not counted)."""
    core = [gdf for name, gdf in data.items() if name not in TRANSPORT_FIELDS] or list(data.values())
    b = np.array([gdf.total_bounds for gdf in core])
    return (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max()))


# -- coverage overlays ----------------------------------------------------------------------
def legend() -> dict[str, Any]:
    """Classes of the coverage overlays (and of the unit-share properties)."""
    return {
        "breaks": list(LEGEND_BREAKS),
        "colors": list(VIRIDIS_10),
        "opacity": OVERLAY_OPACITY,
        "nodata": "transparent",
        "ramp": "viridis, 10 classes (colour-blind safe)",
        "classes": "share in [breaks[i], breaks[i+1]); the last class includes 1.0",
    }


def _block_mean(grid: np.ndarray, k: int) -> np.ndarray:
    """Mean of the valid cells in k × k blocks (NaN where a block has none)."""
    ny, nx = grid.shape
    py, px = -ny % k, -nx % k
    g = np.pad(np.asarray(grid, dtype=np.float32), ((0, py), (0, px)), constant_values=np.nan)
    g = g.reshape(g.shape[0] // k, k, g.shape[1] // k, k)
    valid = np.isfinite(g)
    total = np.where(valid, g, 0).sum(axis=(1, 3), dtype=np.float64)
    count = valid.sum(axis=(1, 3))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _png(index: np.ndarray, palette: list[tuple[int, int, int]], alpha: list[int]) -> bytes:
    """An 8-bit indexed PNG (colour type 3) with a tRNS alpha per palette entry."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    h, w = index.shape
    raw = np.hstack([np.zeros((h, 1), np.uint8), index.astype(np.uint8)]).tobytes()
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 3, 0, 0, 0))
        + chunk(b"PLTE", bytes(v for rgb in palette for v in rgb))
        + chunk(b"tRNS", bytes(alpha))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def coverage_image(
    cov: Coverage, pixel_m: float = OVERLAY_PIXEL_M
) -> tuple[bytes, list[list[float]], tuple[int, int]]:
    """Render a 100 m coverage grid as an overlay PNG on a Web Mercator-aligned raster.

    Returns the PNG bytes, the four corners [top-left, top-right, bottom-right, bottom-left] as
    [lon, lat] (the ``coordinates`` of a MapLibre image source) and (width, height).
    """
    assert cov.grid is not None
    spec = cov.spec
    k = max(1, int(round(pixel_m / spec.res)))
    block = _block_mean(cov.grid, k)
    x0, y0, x1, y1 = spec.bounds
    # the grid's outline in Web Mercator (densified edges), and pixels of ~pixel_m on the ground
    t = np.linspace(0, 1, 65)
    ex = np.concatenate([x0 + (x1 - x0) * t, np.full(65, x1), x1 - (x1 - x0) * t, np.full(65, x0)])
    ey = np.concatenate([np.full(65, y0), y0 + (y1 - y0) * t, np.full(65, y1), y1 - (y1 - y0) * t])
    mx, my = transformer(25832, 3857).transform(ex, ey)
    mx0, mx1, my0, my1 = float(mx.min()), float(mx.max()), float(my.min()), float(my.max())
    _lon, lat_c = transformer(25832, 4326).transform((x0 + x1) / 2, (y0 + y1) / 2)
    step = pixel_m / np.cos(np.radians(lat_c))
    w = int(np.ceil((mx1 - mx0) / step))
    h = int(np.ceil((my1 - my0) / step))
    mx1, my0 = mx0 + w * step, my1 - h * step
    cx = mx0 + step * (np.arange(w) + 0.5)
    cy = my1 - step * (np.arange(h) + 0.5)
    gx, gy = np.meshgrid(cx, cy)
    ux, uy = transformer(3857, 25832).transform(gx.ravel(), gy.ravel())
    col = np.floor((np.asarray(ux) - x0) / (spec.res * k)).astype(np.int64)
    row = np.floor((y1 - np.asarray(uy)) / (spec.res * k)).astype(np.int64)
    inside = (col >= 0) & (col < block.shape[1]) & (row >= 0) & (row < block.shape[0])
    values = np.full(w * h, np.nan)
    values[inside] = block[row[inside], col[inside]]
    index = np.zeros(w * h, np.uint8)
    ok = np.isfinite(values)
    index[ok] = 1 + np.clip(np.floor(np.clip(values[ok], 0, 1) * 10), 0, 9).astype(np.uint8)
    palette = [(0, 0, 0)] + [(int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)) for c in VIRIDIS_10]
    alpha = [0] + [int(round(255 * OVERLAY_OPACITY))] * len(VIRIDIS_10)
    png = _png(index.reshape(h, w), palette, alpha)
    lon, lat = transformer(3857, 4326).transform([mx0, mx1, mx1, mx0], [my1, my1, my0, my0])
    corners = [[round(float(a), 7), round(float(b), 7)] for a, b in zip(lon, lat, strict=True)]
    return png, corners, (w, h)


def write_coverage_overlays(
    staging: Path, coverage: dict[str, Coverage], progress: Progress | None = None
) -> dict[str, Any]:
    """Write one overlay PNG per gridded coverage layer; describe every coverage layer.

    Returns per layer either ``kind: "image"`` (file, sha256, size, width, height, pixel_m,
    ``coordinates``) or ``kind: "tile_property"`` (the ``municipalities`` property that carries a
    municipal or Kreis statistic), each with its resolution and the legend.
    """
    say = progress or (lambda _m: None)
    out: dict[str, Any] = {}
    for name, cov in coverage.items():
        t = time.perf_counter()
        if cov.grid is not None:
            png, corners, (w, h) = coverage_image(cov)
            file = f"coverage_{name}.png"
            (staging / file).write_bytes(png)
            out[name] = {
                "kind": "image",
                "file": file,
                "sha256": sha256(staging / file),
                "size": len(png),
                "width": w,
                "height": h,
                "pixel_m": OVERLAY_PIXEL_M,
                "image_crs": "EPSG:3857",
                "coordinates": corners,
                "resolution": cov.resolution,
                "legend": legend(),
                "seconds": round(time.perf_counter() - t, 3),
            }
            say(f"coverage overlay: {file} {w}×{h} px, {len(png) / 1e3:.0f} kB")
        elif name in COVERAGE_PROPERTY:
            out[name] = {
                "kind": "tile_property",
                "tiles": TILES_FILE,
                "source_layer": "municipalities",
                "property": COVERAGE_PROPERTY[name],
                "resolution": cov.resolution,
                "legend": legend(),
            }
    return out


def write_map_data(
    staging: Path,
    layers: dict[str, gpd.GeoDataFrame],
    sites: gpd.GeoDataFrame,
    coverage: dict[str, Coverage],
    entries: dict[str, Any],
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The map data of a snapshot: ``{"tiles": ..., "coverage_overlays": ...}`` for its manifest.

    ``entries`` are the manifest's layer entries (their attributions go into the archive).
    """
    seen: list[str] = []
    for name in (
        "municipalities",
        "regional_plan",
        "brownfields",
        "lep_sites",
        "hydrogen",
        *TRANSPORT_FIELDS,
    ):
        a = (entries.get(name) or {}).get("attribution")
        if a and a not in seen:
            seen.append(a)
    tiles = write_pmtiles(staging, layers, sites, progress, coverage=coverage, attribution="; ".join(seen))
    return {"tiles": tiles, "coverage_overlays": write_coverage_overlays(staging, coverage, progress)}
