"""Sums of a grid within a radius of points: residents within 30 km of a site's centroid.

``residents_within(cov, x, y, radius_km)`` gives, for each point (EPSG:25832 metres), the sum of
the grid's cells whose **centre** lies within ``radius_km`` (straight line, inclusive) of the
point — exactly, not a resampled approximation. It is the measure of the ``workforce_30km``
indicator over the ``population`` layer (layers/population.py).

Method (exact, pure numpy): prefix sums. With the sums of each row's (column's) first ``j``
cells, any run of cells along a row (column) costs two look-ups. A disk of radius ``R`` cells is
cut into the central square of half-side ``R/√2`` (four look-ups in a summed-area table), the
top and bottom caps (one run per row) and the left and right caps (one run per column). Every
cell of the disk is in exactly one part: the square holds ``|dx|, |dy| ≤ R/√2``, the row caps
``|dy| > R/√2`` and the column caps ``|dx| > R/√2`` (whose ``|dy|`` is then below ``R/√2``). At
30 km on a 100 m grid that is ~4·88 runs per point instead of 601 rows, and no fewer can do:
each line the circle crosses needs a look-up at its end.

Making it fast: on each side a point's cap holds ``⌊R − R/√2⌋`` lines or one more, so the caps
of a chunk of ``CHUNK`` points (sorted by line, so their look-ups share a band of the table) are
one dense (points, 2 sides, 87 lines) block with no mask; the one more line is a small masked
step. The tables are padded as far as some disk reaches beyond the grid, so no run end is
clipped (none are padded for sites inside NRW: the grid is NRW + 30 km). Whole counts (the
residents) go into int32 tables — exact, and half the memory of float64 — when their total fits;
other grids use float64 tables. Column prefix sums and the summed-area table are built row by row
(numpy adds whole rows at once, twice as fast as ``cumsum`` along axis 0). One thread: with the
rows and the columns on two threads, the many short numpy calls waited for the GIL and a loaded
machine took 1.2–1.9 s where one thread took 0.7–0.8 s. Memory: three int32 tables of the grid's
size (≈ 115 MB for NRW + 30 km at 100 m) and arrays of a chunk's size.

``disk_convolve(grid, res, radius_m)`` is the textbook alternative the issue names: the grid
convolved with the disk kernel by FFT (numpy.fft), sampled at each point's cell. It is
approximate (the disk is centred on the cell centre, not the point; float rounding of the FFT)
and slower at NRW scale; bench/workforce.py measures both.

Points off the grid still count the cells of their disk that lie on it. NaN cells count as 0.

Measured by bench/workforce.py (50,000 demo-like site centroids, the 3,120 × 3,040 grid of NRW +
30 km at 100 m, 30 km; this shared 2-core machine at load 7–13, so CPU seconds are the steadier
figure): exact ``residents_within`` ≈ 0.38–0.43 s CPU (0.34–0.9 s wall; the earlier blocked caps
on float64 tables: 0.59–0.71 s CPU), equal to a brute-force sum on 300 sites and identical to the
earlier method at all 50,000 demo sites; FFT ``disk_convolve`` + ``sample_cells`` ≈ 0.65 s CPU
and up to 1.05 % off the exact count at some sites (the cell-centre shift near dense edges), i.e.
outside ±1 %. The issue's 0.3 s is not reached on one core of this machine; in a build the
measure runs in a forked worker beside the vector indicators (geo/sites.py ``GenericMeasures``).
"""

from __future__ import annotations

import math

import numpy as np

from geo.grid import Coverage

FEW_POINTS = 8  # up to this many points, each disk is summed directly (``_disks``)
CHUNK = 512  # points whose caps are computed together: (512, 2, 87) arrays stay in cache


def _prefix_rows(g: np.ndarray, dtype: type, pad: tuple[int, int, int, int]) -> np.ndarray:
    """Row prefix sums, padded: ``t[p0 + i, q0 + j]`` is the sum of ``g[i, :j]`` for any ``j``
    in ``[−q0, nx + q1]`` (0 before the row, the row's total after it) and 0 on padded rows."""
    (ny, nx), (p0, p1, q0, q1) = g.shape, pad
    t = np.zeros((p0 + ny + p1, q0 + nx + 1 + q1), dtype)
    np.cumsum(g, axis=1, dtype=dtype, out=t[p0 : p0 + ny, q0 + 1 : q0 + 1 + nx])
    if q1:
        t[p0 : p0 + ny, q0 + 1 + nx :] = t[p0 : p0 + ny, q0 + nx : q0 + nx + 1]
    return t


def _prefix_cols(g: np.ndarray, dtype: type, pad: tuple[int, int, int, int]) -> np.ndarray:
    """Column prefix sums, padded: ``t[p0 + i, q0 + j]`` is the sum of ``g[:i, j]`` for any ``i``
    in ``[−p0, ny + p1]``; 0 on padded columns. Row by row: numpy adds whole rows at once."""
    (ny, nx), (p0, p1, q0, q1) = g.shape, pad
    t = np.zeros((p0 + ny + 1 + p1, q0 + nx + q1), dtype)
    inner = t[:, q0 : q0 + nx]
    for i in range(ny):
        np.add(inner[p0 + i], g[i], out=inner[p0 + i + 1])
    inner[p0 + ny + 1 :] = inner[p0 + ny]
    return t


def _square(
    rows: np.ndarray,
    pad: tuple[int, int, int, int],
    shape: tuple[int, int],
    u: np.ndarray,
    v: np.ndarray,
    a: float,
) -> np.ndarray:
    """Per point, the sum of the cells with ``|i − u| ≤ a`` and ``|j − v| ≤ a`` (summed-area table
    of the row prefix sums, built row by row)."""
    (p0, _, q0, _), (ny, nx) = pad, shape
    prefix = rows[p0 : p0 + ny, q0 : q0 + nx + 1]
    sat = np.zeros((ny + 1, nx + 1), rows.dtype)
    for i in range(ny):
        np.add(sat[i], prefix[i], out=sat[i + 1])
    i0 = np.clip(np.ceil(u - a), 0, ny).astype(np.intp)
    i1 = np.clip(np.floor(u + a) + 1, 0, ny).astype(np.intp)
    j0 = np.clip(np.ceil(v - a), 0, nx).astype(np.intp)
    j1 = np.clip(np.floor(v + a) + 1, 0, nx).astype(np.intp)
    i1, j1 = np.maximum(i1, i0), np.maximum(j1, j0)
    out: np.ndarray = sat[i1, j1].astype(np.float64) - sat[i0, j1] - sat[i1, j0] + sat[i0, j0]
    return out


def _caps(
    flat: np.ndarray,
    steps: tuple[int, int],
    base: int,
    across: np.ndarray,
    along: np.ndarray,
    a: float,
    r: float,
) -> np.ndarray:
    """Per point, the sum over the lines ``l`` with ``a < |l − across| ≤ r`` of the run of cells
    ``|j − along| ≤ √(r² − (l − across)²)``, from a padded prefix-sum table.

    ``flat`` is the table raveled: the prefix sum before cell ``j`` of line ``l`` is at
    ``base + l·steps[0] + j·steps[1]``, for every ``l`` and ``j`` a point's caps reach (the table
    is padded so). On each side a point's cap holds ``⌊r − a⌋`` or one more line: the first
    ``⌊r − a⌋`` lines of every point are one dense (points, 2 sides, lines) block, the one more
    line is added where it lies within ``r``. Points go in chunks of ``CHUNK``, sorted by line, so
    the look-ups of a chunk stay in a band of the table.
    """
    line_step, along_step = steps
    n = len(across)
    out = np.zeros(n, dtype=np.float64 if flat.dtype.kind == "f" else np.int64)
    if not n:
        return out
    order = np.argsort(across, kind="stable")
    lp, ap = across[order], along[order]
    first = np.stack([np.floor(lp + a) + 1.0, np.ceil(lp - a) - 1.0], axis=1)  # (n, 2): below, above
    d0 = np.abs(first - lp[:, None])  # distance to each cap's first line, in (a, a + 1]
    line0 = first.astype(np.intp) * line_step + base
    t0 = int(math.floor(r - a))
    t = np.arange(t0, dtype=np.float64)
    tl = np.stack([t, -t]).astype(np.intp) * line_step  # (2, t0): the lines below and above
    r2 = r * r
    # ceil(q − h) = k − trunc(k − q + h) and floor(q + h) = trunc(q + h + k) − k while the
    # truncated values are positive: k shifts every run end reached to the positive side
    k = float(math.ceil(np.abs(ap).max() + r) + 8)
    lo_tl, hi_tl = tl + int(k) * along_step, tl + (1 - int(k)) * along_step  # run [ceil, floor + 1)
    for s in range(0, n, CHUNK):
        q = ap[s : s + CHUNK]
        h = d0[s : s + CHUNK, :, None] + t  # (chunk, 2, t0): distance of each line
        h *= h
        np.subtract(r2, h, out=h)
        np.sqrt(h, out=h)  # half the run's length
        lo = (h + (k - q)[:, None, None]).astype(np.intp)
        hi = (h + (q + k)[:, None, None]).astype(np.intp)
        if along_step != 1:
            lo *= along_step
            hi *= along_step
        np.subtract(line0[s : s + CHUNK, :, None] + lo_tl, lo, out=lo)
        hi += line0[s : s + CHUNK, :, None] + hi_tl
        sums = (flat.take(hi) - flat.take(lo)).sum(axis=(1, 2))
        last = d0[s : s + CHUNK] + t0  # the one more line, where it lies within r
        inside = last <= r
        if inside.any():
            half = np.sqrt(np.maximum(r2 - last * last, 0.0))
            at = line0[s : s + CHUNK] + np.array([t0, -t0]) * line_step
            j0 = np.ceil(q[:, None] - half).astype(np.intp) * along_step + at
            j1 = (np.floor(q[:, None] + half).astype(np.intp) + 1) * along_step + at
            sums += ((flat.take(j1) - flat.take(j0)) * inside).sum(axis=1)
        out[order[s : s + CHUNK]] = sums
    return out


def grid_within(
    grid: np.ndarray, x0: float, y1: float, res: float, x: np.ndarray, y: np.ndarray, radius_m: float
) -> np.ndarray:
    """Exact sum of the cells of a north-up grid whose centre lies within ``radius_m`` of each point.

    ``x0``/``y1`` are the grid's west and north edges, ``res`` its cell size (metres).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if not len(x):
        return np.zeros(0)
    # only the window of cells that can lie within the radius of some point (one ad-hoc polygon
    # reads ~600 × 600 cells, not the whole grid); cells outside it are farther than the radius
    rows, cols = grid.shape
    pad = radius_m + res
    r0 = int(np.clip(math.floor((y1 - (y.max() + pad)) / res), 0, rows))
    r1 = int(np.clip(math.ceil((y1 - (y.min() - pad)) / res), r0, rows))
    c0 = int(np.clip(math.floor((x.min() - pad - x0) / res), 0, cols))
    c1 = int(np.clip(math.ceil((x.max() + pad - x0) / res), c0, cols))
    x0, y1 = x0 + c0 * res, y1 - r0 * res
    g = np.asarray(grid[r0:r1, c0:c1])
    if g.dtype.kind == "f" and np.isnan(g).any():
        g = np.nan_to_num(g, nan=0.0)
    if len(x) <= FEW_POINTS:  # one ad-hoc polygon: its disk directly, no tables of the window
        return _disks(g, x0, y1, res, x, y, radius_m)
    ny, nx = g.shape
    r = radius_m / res
    a = r / math.sqrt(2.0)
    # the points in cell units (column and row coordinates of centres); a point farther off the
    # window than the radius counts nothing, and is moved to just beyond the radius
    v = np.clip((x - x0) / res - 0.5, -r - 1.0, nx + r + 1.0)
    u = np.clip((y1 - y) / res - 0.5, -r - 1.0, ny + r + 1.0)
    # tables padded as far as some disk reaches beyond the window (none for sites inside NRW)
    reach = (r - u.min(), u.max() + r - ny, r - v.min(), v.max() + r - nx)
    p0, p1, q0, q1 = (max(0, int(math.ceil(e))) + 2 for e in reach)
    padding = (p0, p1, q0, q1)
    # whole counts (residents) sum exactly in int32 tables, half the memory of float64
    counts = g.astype(np.int32)
    whole = bool((counts == g).all()) and float(np.abs(g).sum(dtype=np.float64)) < 2**31 - 1
    table, dtype = (counts, np.int32) if whole else (g, np.float64)

    def by_rows() -> np.ndarray:  # the square and the top and bottom caps: one run per row
        t = _prefix_rows(table, dtype, padding)
        width = q0 + nx + 1 + q1
        caps = _caps(t.ravel(), (width, 1), p0 * width + q0, u, v, a, r)
        out: np.ndarray = _square(t, padding, (ny, nx), u, v, a) + caps
        return out

    def by_columns() -> np.ndarray:  # the left and right caps: one run per column
        t = _prefix_cols(table, dtype, padding)
        width = q0 + nx + q1
        return _caps(t.ravel(), (1, width), p0 * width + q0, v, u, a, r).astype(np.float64)

    total: np.ndarray = by_rows() + by_columns()
    return total


def _disks(
    g: np.ndarray, x0: float, y1: float, res: float, x: np.ndarray, y: np.ndarray, radius_m: float
) -> np.ndarray:
    """Each point's disk summed cell by cell (centres within ``radius_m``, in metres): for a
    few points this beats building prefix tables of their window (~600 × 600 cells at 30 km)."""
    ny, nx = g.shape
    cx = x0 + res * (np.arange(nx) + 0.5)
    cy = y1 - res * (np.arange(ny) + 0.5)
    out = np.zeros(len(x))
    for i, (px, py) in enumerate(zip(x, y, strict=True)):
        c = np.flatnonzero(np.abs(cx - px) <= radius_m)
        w = np.flatnonzero(np.abs(cy - py) <= radius_m)
        if len(c) and len(w):
            inside = (cx[c][None, :] - px) ** 2 + (cy[w][:, None] - py) ** 2 <= radius_m * radius_m
            out[i] = g[w[0] : w[-1] + 1, c[0] : c[-1] + 1][inside].sum(dtype=np.float64)
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
