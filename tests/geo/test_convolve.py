"""geo/convolve.py: grid sums within a radius, by hand on a tiny grid and against brute force."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.convolve import FEW_POINTS, disk_convolve, disk_kernel, grid_within, residents_within, sample_cells
from geo.grid import Coverage, GridSpec

TINY = np.arange(25, dtype=np.float32).reshape(5, 5)  # row 0 is the north: 0 1 2 3 4 / 5 6 7 8 9 / …


def _brute(
    grid: np.ndarray, x0: float, y1: float, res: float, x: np.ndarray, y: np.ndarray, r: float
) -> np.ndarray:
    """Sum of the cells whose centre lies within r of each point, one point at a time."""
    ny, nx = grid.shape
    cx = x0 + res * (np.arange(nx) + 0.5)
    cy = y1 - res * (np.arange(ny) + 0.5)
    g = np.nan_to_num(grid.astype(np.float64))
    out = []
    for px, py in zip(x, y, strict=True):  # a window around the disk, then every centre in it
        c = (cx >= px - r - res) & (cx <= px + r + res)
        w = (cy >= py - r - res) & (cy <= py + r + res)
        inside = (cx[c][None, :] - px) ** 2 + (cy[w][:, None] - py) ** 2 <= r * r
        out.append(g[np.ix_(w, c)][inside].sum())
    return np.array(out)


@pytest.mark.parametrize(
    ("x", "y", "r", "expected"),
    [
        (250.0, 250.0, 50.0, 12),  # the centre cell only
        (250.0, 250.0, 100.0, 12 + 7 + 17 + 11 + 13),  # its four neighbours at exactly 100 m count
        (250.0, 250.0, 150.0, 6 + 7 + 8 + 11 + 12 + 13 + 16 + 17 + 18),  # the 3 × 3 block (diagonal 141 m)
        (250.0, 250.0, 250.0, 300 - 0 - 4 - 20 - 24),  # all but the corners (212 m in, 283 m out)
        (0.0, 500.0, 100.0, 0),  # the north-west corner: cell 0 at 71 m holds 0
        (0.0, 500.0, 160.0, 0 + 1 + 5),  # cells 1 and 5 at 158 m
        (-100.0, 250.0, 150.0, 10),  # off the grid: cell 10 at exactly 150 m
        (-1000.0, 250.0, 150.0, 0),  # far off the grid
        (280.0, 230.0, 100.0, 12 + 13 + 17),  # a point off its cell's centre: 36, 73, 85 m
    ],
)
def test_by_hand_on_a_tiny_grid(x: float, y: float, r: float, expected: float) -> None:
    got = grid_within(TINY, 0.0, 500.0, 100.0, np.array([x]), np.array([y]), r)
    assert got[0] == expected
    assert _brute(TINY, 0.0, 500.0, 100.0, np.array([x]), np.array([y]), r)[0] == expected


def test_residents_within_reads_the_coverage_spec_and_km() -> None:
    spec = GridSpec(x0=0.0, y1=500.0, res=100.0, nx=5, ny=5)
    cov = Coverage("grid_100m", grid=TINY, spec=spec)
    got = residents_within(cov, np.array([250.0, 250.0]), np.array([250.0, 250.0]), 0.15)
    assert got.tolist() == [108.0, 108.0]
    assert residents_within(cov, np.array([]), np.array([]), 30.0).shape == (0,)
    with pytest.raises(ValueError, match="gridded"):
        residents_within(Coverage("kreis", units=pd.Series({"05111": 1.0})), np.zeros(1), np.zeros(1), 1.0)
    with pytest.raises(ValueError, match="positive"):
        residents_within(cov, np.zeros(1), np.zeros(1), 0.0)


def test_nan_cells_count_as_zero() -> None:
    g = TINY.copy()
    g[2, 2] = np.nan
    assert grid_within(g, 0.0, 500.0, 100.0, np.array([250.0]), np.array([250.0]), 150.0)[0] == 108 - 12


@pytest.mark.parametrize("radius", [730.0, 2_500.0, 5_000.0, 11_111.0])
def test_equals_brute_force_on_random_points(radius: float) -> None:
    rng = np.random.default_rng(5)
    ny, nx, res = 230, 260, 100.0
    g = (rng.random((ny, nx)) * (rng.random((ny, nx)) < 0.4) * 90).astype(np.float32)
    x0, y1 = 300_000.0, 5_700_000.0
    # inside, near the edges and off the grid
    x = rng.uniform(x0 - 3_000, x0 + nx * res + 3_000, 400)
    y = rng.uniform(y1 - ny * res - 3_000, y1 + 3_000, 400)
    got = grid_within(g, x0, y1, res, x, y, radius)
    want = _brute(g, x0, y1, res, x, y, radius)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-6)


def test_nrw_scale_sample_within_one_percent_and_fft_close() -> None:
    """The population grid's size (3,040 × 3,120 at 100 m), 30 km, a sample of points."""
    rng = np.random.default_rng(11)
    ny, nx, res = 3040, 3120, 100.0
    x0, y1 = 250_000.0, 5_851_000.0
    g = ((rng.random((ny, nx)) < 0.2) * 3).astype(np.float32)  # a thin rural background
    for ty, tx in rng.uniform([60, 60], [ny - 60, nx - 60], size=(60, 2)).astype(int):
        yy, xx = np.mgrid[-60:61, -60:61]  # towns with sharp edges, up to 6 km across
        g[ty - 60 : ty + 61, tx - 60 : tx + 61] += (np.hypot(yy, xx) < rng.uniform(5, 60)) * rng.uniform(
            20, 80
        )
    x = rng.uniform(x0 + 30_000, x0 + nx * res - 30_000, 40)
    y = rng.uniform(y1 - ny * res + 30_000, y1 - 30_000, 40)
    got = grid_within(g, x0, y1, res, x, y, 30_000.0)
    want = _brute(g, x0, y1, res, x, y, 30_000.0)
    np.testing.assert_allclose(got, want, rtol=1e-9)
    fft = sample_cells(disk_convolve(g, res, 30_000.0), x0, y1, res, x, y)
    assert np.abs(fft / want - 1).max() < 0.01


def test_disk_kernel_and_fft_at_cell_centres() -> None:
    k = disk_kernel(100.0, 150.0)
    assert k.shape == (3, 3) and k.sum() == 9
    assert disk_kernel(100.0, 100.0).sum() == 5
    rng = np.random.default_rng(2)
    g = rng.random((60, 70)).astype(np.float32)
    conv = disk_convolve(g, 100.0, 730.0)
    xs = 100.0 * (np.arange(70) + 0.5)
    ys = 6000.0 - 100.0 * (np.arange(60) + 0.5)
    px, py = np.meshgrid(xs, ys)
    want = _brute(g, 0.0, 6000.0, 100.0, px.ravel(), py.ravel(), 730.0).reshape(60, 70)
    np.testing.assert_allclose(conv, want, rtol=1e-4, atol=1e-3)
    assert np.isnan(sample_cells(conv, 0.0, 6000.0, 100.0, np.array([-5.0]), np.array([10.0])))[0]


@pytest.mark.parametrize("radius", [730.0, 5_000.0])
def test_few_points_summed_directly_equal_the_tables(radius: float) -> None:
    """Up to FEW_POINTS points (ad-hoc scoring) take the direct disk sums; the same points among
    many take the prefix tables; both equal brute force, in whole counts exactly."""
    rng = np.random.default_rng(9)
    ny, nx, res = 180, 210, 100.0
    g = rng.integers(0, 40, (ny, nx)).astype(np.float32)
    x0, y1 = 300_000.0, 5_700_000.0
    x = rng.uniform(x0 - 2_000, x0 + nx * res + 2_000, 200)
    y = rng.uniform(y1 - ny * res - 2_000, y1 + 2_000, 200)
    few = slice(0, FEW_POINTS)
    direct = grid_within(g, x0, y1, res, x[few], y[few], radius)
    tables = grid_within(g, x0, y1, res, x, y, radius)[few]
    want = _brute(g, x0, y1, res, x[few], y[few], radius)
    assert (want > 0).sum() >= FEW_POINTS // 2  # mostly points with cells in reach
    np.testing.assert_array_equal(direct, want)
    np.testing.assert_array_equal(tables, want)
