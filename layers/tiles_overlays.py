"""The coverage overlays of the web map (DESIGN §5.3): fibre and 5G as images or tile properties.

A 100 m grid becomes a small indexed PNG per layer — 300 m block means, resampled onto a Web
Mercator-aligned raster so that its four corners (WGS84, for a MapLibre ``image`` source) place it
exactly — coloured in ten classes of the colour-blind-safe viridis ramp with alpha, no data
transparent. Municipal or Kreis statistics are not rasterised: their share is written as a
property (``fibre_share``, ``mobile_5g_share``) on the ``municipalities`` tile layer (for Kreis
statistics each municipality carries its Kreis' share, see ``layers/tiles_spec.py``), which is
exact, costs a few bytes and needs no second geometry; the manifest says which way each layer is
drawn.
"""

from __future__ import annotations

import struct
import time
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from geo.crs import transformer
from geo.grid import Coverage
from geo.sites import SHARE_LAYERS
from layers.io import sha256
from layers.tiles_spec import COVERAGE_PROPERTY, TILES_FILE, Progress

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
        if name not in SHARE_LAYERS:  # grids of counts (population) are no share overlay
            continue
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
