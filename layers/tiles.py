"""Map data for the web UI (DESIGN §5.3), written once per snapshot at publish time.

``write_map_data`` writes a snapshot's ``map.pmtiles`` (``write_pmtiles``) and its coverage
overlays, and returns their manifest entries. The work is split in three modules:

- ``layers/tiles_spec.py``: the archive's layers, zooms and properties (a contract the web map
  relies on) and the GeoDataFrames written for them;
- ``layers/tiles_write.py``: each layer written to its own archive with GDAL (in forked workers
  at NRW scale), then merged into one;
- ``layers/tiles_overlays.py``: the fibre and 5G coverage overlays and their legend.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from geo.grid import Coverage
from layers.io import sha256
from layers.tiles_overlays import write_coverage_overlays
from layers.tiles_spec import (
    CENTER_ZOOM,
    LAYER_ORDER,
    MAXZOOM,
    MINZOOM,
    PROMOTE_ID,
    SPECS,
    TILES_FILE,
    TRANSPORT_FIELDS,
    Progress,
    tile_layers,
)
from layers.tiles_write import merge_parts, write_parts


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
        parts = write_parts(data, Path(tmp), say)
        t = time.perf_counter()
        stats = merge_parts(parts, out, metadata, bounds)
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
