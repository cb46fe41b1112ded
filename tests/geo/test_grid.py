"""The analysis grid and coverage layers (geo/grid.py), checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.crs import NRW_BOUNDS
from geo.grid import NRW_GRID, Coverage, GridSpec, grid_from_points

SMALL = GridSpec(x0=350_000, y1=5_700_300, nx=4, ny=3)  # 400 m × 300 m, aligned to NRW_GRID


def test_nrw_grid_is_100m_cells_over_the_nrw_extent():
    assert NRW_GRID.res == 100.0
    assert NRW_GRID.shape == (2440, 2520)  # 244 km / 100 m rows, 252 km / 100 m columns
    assert NRW_GRID.bounds == NRW_BOUNDS


def test_cell_centres_and_cell_of_by_hand():
    xs, ys = SMALL.centres()
    assert xs.tolist() == [350_050, 350_150, 350_250, 350_350]
    assert ys.tolist() == [5_700_250, 5_700_150, 5_700_050]  # row 0 is the northern edge
    row, col, inside = SMALL.cell_of(
        np.array([350_000.0, 350_399.9, 350_400.0, 349_999.9]),
        np.array([5_700_300.0, 5_700_000.1, 5_700_150.0, 5_700_150]),
    )
    assert row.tolist()[:2] == [0, 2] and col.tolist()[:2] == [0, 3]
    assert inside.tolist() == [True, True, False, False]  # east and west of the grid


def test_grid_from_points_places_values_later_points_win_and_counts_the_rest():
    grid, off = grid_from_points(
        np.array([350_050, 350_350, 350_350, 360_000]),
        np.array([5_700_250, 5_700_050, 5_700_050, 5_700_050]),
        np.array([0.25, 0.5, 0.75, 1.0]),
        SMALL,
    )
    assert grid.dtype == np.float32 and off == 1
    want = np.full((3, 4), np.nan, dtype=np.float32)
    want[0, 0], want[2, 3] = 0.25, 0.75
    np.testing.assert_array_equal(grid, want)


def test_coverage_holds_a_grid_or_units_not_both_and_checks_the_shape():
    with pytest.raises(ValueError, match="resolution must be one of"):
        Coverage("county", units=pd.Series({"05562": 0.5}))
    with pytest.raises(ValueError, match="either a grid or a table"):
        Coverage("grid_100m")
    with pytest.raises(ValueError, match="either a grid or a table"):
        Coverage("grid_100m", grid=np.zeros((3, 4), np.float32), units=pd.Series({"05562": 0.5}), spec=SMALL)
    with pytest.raises(ValueError, match="does not match"):
        Coverage("grid_100m", grid=np.zeros((4, 3), np.float32), spec=SMALL)


def test_coverage_stats_count_values_mean_and_nodata():
    grid = np.array([[0.2, np.nan, 0.4, 0.6], [np.nan] * 4, [1.0, 0.0, np.nan, np.nan]], dtype=np.float32)
    assert Coverage("grid_100m", grid=grid, spec=SMALL).stats() == {"values": 5, "mean": 0.44, "nodata": 7}
    assert Coverage("kreis", units=pd.Series({"05562": np.nan})).stats() == {
        "values": 0,
        "mean": None,
        "nodata": 1,
    }
