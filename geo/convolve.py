"""Sums of a grid within a radius of points: residents within 30 km of a site's centroid.

``residents_within(cov, x, y, radius_km)`` gives, for each point (EPSG:25832 metres), the sum of
the grid's cells whose **centre** lies within ``radius_km`` (straight line, inclusive) of the
point — exactly, not a resampled approximation. It is the measure of the ``workforce_30km``
indicator over the ``population`` layer (layers/population.py).

Method (exact, pure numpy): row-wise prefix sums. ``P[i, j]`` is the sum of row ``i``'s first
``j`` cells, so any run of cells in a row costs two look-ups. A disk of radius ``R`` cells is cut
into the central square of half-side ``R/√2`` (four look-ups in a summed-area table), the top and
bottom caps (one run per row) and the left and right caps (one run per column, from column prefix
sums). Every cell of the disk is in exactly one of the five parts: the square holds
``|dx|, |dy| ≤ R/√2``; the row caps ``|dy| > R/√2``; the column caps ``|dx| > R/√2`` (whose
``|dy|`` is then below ``R/√2``). At 30 km on a 100 m grid that is ~4·88 runs per point instead of
601 rows. The loop runs over the run offsets (a few hundred iterations), each vectorised over all
points, so memory stays at a few arrays of the points' length beside the prefix tables.

``disk_convolve(grid, res, radius_m)`` is the textbook alternative the issue names: the grid
convolved with the disk kernel by FFT (numpy.fft), sampled at each point's cell. It is
approximate (the disk is centred on the cell centre, not the point; float rounding of the FFT)
and slower at NRW scale; bench/workforce.py measures both.

Points off the grid still count the cells of their disk that lie on it. NaN cells count as 0.
"""

from __future__ import annotations

import math

import numpy as np

from geo.grid import Coverage

BLOCK = 16  # lines of prefix sums visited together (16 rows of 3,000 cells: 384 kB)


def _tables(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row prefix sums, column prefix sums and the summed-area table (float64, zero-padded)."""
    g = np.nan_to_num(np.asarray(grid, dtype=np.float64), nan=0.0)
    ny, nx = g.shape
    rows = np.zeros((ny, nx + 1))
    np.cumsum(g, axis=1, out=rows[:, 1:])
    cols = np.zeros((nx, ny + 1))  # column prefix sums, stored column-major for locality
    np.cumsum(g.T, axis=1, out=cols[:, 1:])
    sat = np.zeros((ny + 1, nx + 1))
    np.cumsum(rows[:, :], axis=0, out=sat[1:, :])
    return rows, cols, sat


def _caps(table: np.ndarray, across: np.ndarray, along: np.ndarray, a: float, r: float) -> np.ndarray:
    """Per point, the sum over the lines ``l`` with ``a < |l - across| ≤ r`` of the run
    ``|j - along| ≤ √(r² − (l − across)²)`` of ``table`` (prefix sums along its second axis).

    Lines are visited in blocks of ``BLOCK`` (their prefix sums stay in cache); for each block only
    the points whose cap reaches it take part, vectorised over (line, point) pairs.
    """
    n_lines, n = table.shape[0], table.shape[1] - 1
    order = np.argsort(across, kind="stable")
    lp, ap = across[order], along[order]
    out = np.zeros(len(lp))
    flat = table.ravel()
    r2 = r * r
    for l0 in range(0, n_lines, BLOCK):
        lines = np.arange(l0, min(l0 + BLOCK, n_lines), dtype=np.float64)
        hi = float(lines[-1])
        # points below the block (l − p in (a, r]) and above it (p − l in (a, r])
        s0, e0 = np.searchsorted(lp, [l0 - r, hi - a], side="left")
        s1, e1 = np.searchsorted(lp, [l0 + a, hi + r], side="right")
        if s1 < e0:
            s1 = e0
        idx = np.r_[s0:e0, max(s1, e0) : e1]
        if not len(idx):
            continue
        d = lines[:, None] - lp[idx][None, :]
        ad = np.abs(d)
        ok = (ad > a) & (ad <= r)
        half = np.sqrt(np.maximum(r2 - d * d, 0.0))
        j0 = np.clip(np.ceil(ap[idx] - half), 0, n).astype(np.int64)
        j1 = np.clip(np.floor(ap[idx] + half) + 1, 0, n).astype(np.int64)
        base = (np.arange(l0, l0 + len(lines), dtype=np.int64) * (n + 1))[:, None]
        runs = np.where(ok & (j1 > j0), flat[base + j1] - flat[base + j0], 0.0)
        out[idx] += runs.sum(axis=0)
    result = np.empty_like(out)
    result[order] = out
    return result


def grid_within(
    grid: np.ndarray, x0: float, y1: float, res: float, x: np.ndarray, y: np.ndarray, radius_m: float
) -> np.ndarray:
    """Exact sum of the cells of a north-up grid whose centre lies within ``radius_m`` of each point."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if not len(x):
        return np.zeros(0)
    rows, cols, sat = _tables(grid)
    ny, nx = grid.shape
    r = radius_m / res
    v = (x - x0) / res - 0.5  # the point in cell units: column and row coordinates of centres
    u = (y1 - y) / res - 0.5
    a = r / math.sqrt(2.0)
    # the square |j - v| ≤ a, |i - u| ≤ a via the summed-area table
    i0 = np.clip(np.ceil(u - a), 0, ny).astype(np.int64)
    i1 = np.clip(np.floor(u + a) + 1, 0, ny).astype(np.int64)
    j0 = np.clip(np.ceil(v - a), 0, nx).astype(np.int64)
    j1 = np.clip(np.floor(v + a) + 1, 0, nx).astype(np.int64)
    full = (i1 > i0) & (j1 > j0)
    i1, j1 = np.maximum(i1, i0), np.maximum(j1, j0)
    out: np.ndarray = np.where(full, sat[i1, j1] - sat[i0, j1] - sat[i1, j0] + sat[i0, j0], 0.0)
    out += _caps(rows, u, v, a, r)  # top and bottom caps: one run per row
    out += _caps(cols, v, u, a, r)  # left and right caps: one run per column
    return out


def residents_within(cov: Coverage, x: np.ndarray, y: np.ndarray, radius_km: float) -> np.ndarray:
    """Residents in the cells whose centre lies within ``radius_km`` of each point (EPSG:25832).

    Exact (row/column prefix sums, see the module docstring); float64, one value per point.
    """
    if cov.grid is None:
        raise ValueError("residents_within needs a gridded Coverage (population per cell)")
    if radius_km <= 0:
        raise ValueError("radius_km must be positive")
    s = cov.spec
    return grid_within(cov.grid, s.x0, s.y1, s.res, x, y, radius_km * 1000.0)


def disk_kernel(res: float, radius_m: float) -> np.ndarray:
    """The 0/1 disk of cells whose centre lies within ``radius_m`` of the central cell's centre."""
    k = int(radius_m // res)
    d = np.arange(-k, k + 1) * res
    return (d[None, :] ** 2 + d[:, None] ** 2 <= radius_m**2).astype(np.float32)


def _fast_len(n: int) -> int:
    """The smallest 2^a·3^b·5^c ≥ n (sizes pocketfft handles fast)."""
    best = 1 << (n - 1).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            p = p35
            while p < n:
                p *= 2
            best = min(best, p)
            p35 *= 3
        p5 *= 5
    return best


def disk_convolve(grid: np.ndarray, res: float, radius_m: float) -> np.ndarray:
    """The grid convolved with the disk kernel by FFT: the sum within ``radius_m`` of each cell centre."""
    g = np.nan_to_num(np.asarray(grid, dtype=np.float32), nan=0.0)
    kern = disk_kernel(res, radius_m)
    k = kern.shape[0] // 2
    shape = (_fast_len(g.shape[0] + 2 * k), _fast_len(g.shape[1] + 2 * k))
    spec = np.fft.rfft2(g, s=shape)
    spec *= np.fft.rfft2(kern, s=shape)
    full = np.fft.irfft2(spec, s=shape)
    out: np.ndarray = full[k : k + g.shape[0], k : k + g.shape[1]]
    return out


def sample_cells(
    raster: np.ndarray, x0: float, y1: float, res: float, x: np.ndarray, y: np.ndarray
) -> np.ndarray:
    """The raster's value at each point's cell (NaN off the grid)."""
    col = np.floor((np.asarray(x) - x0) / res).astype(np.int64)
    row = np.floor((y1 - np.asarray(y)) / res).astype(np.int64)
    ok = (col >= 0) & (col < raster.shape[1]) & (row >= 0) & (row < raster.shape[0])
    out = np.full(len(col), np.nan)
    out[ok] = raster[row[ok], col[ok]]
    return out
