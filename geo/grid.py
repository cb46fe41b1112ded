"""The analysis grid and coverage layers.

The grid is EPSG:25832 with 100 m cells aligned to whole hundreds of metres, covering NRW's extent:
2,520 columns × 2,440 rows (6.15 M cells, 3.41 M inside NRW). Row 0 is the northern edge.
Coverage shares are float32 in [0, 1]; NaN is "no data". Municipal or Kreis statistics are kept
as a table per unit (``Coverage.units``) and spread exactly over each site's overlap with the unit
(see geo/indicators.py), which equals giving every cell of the unit the unit's share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.crs import NRW_BOUNDS

RESOLUTIONS = ("grid_100m", "grid_1km", "municipal", "kreis")


@dataclass(frozen=True)
class GridSpec:
    """A north-up grid: west edge ``x0``, north edge ``y1``, square cells of ``res`` metres."""

    x0: float = NRW_BOUNDS[0]
    y1: float = NRW_BOUNDS[3]
    res: float = 100.0
    nx: int = int((NRW_BOUNDS[2] - NRW_BOUNDS[0]) // 100)
    ny: int = int((NRW_BOUNDS[3] - NRW_BOUNDS[1]) // 100)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Return (xmin, ymin, xmax, ymax) of the grid."""
        return (self.x0, self.y1 - self.ny * self.res, self.x0 + self.nx * self.res, self.y1)

    @property
    def shape(self) -> tuple[int, int]:
        """Return (rows, columns)."""
        return (self.ny, self.nx)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Return 1-D arrays of column centre x and row centre y."""
        xs = self.x0 + self.res * (np.arange(self.nx) + 0.5)
        ys = self.y1 - self.res * (np.arange(self.ny) + 0.5)
        return xs, ys

    def cell_of(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (row, col, inside) for points; ``inside`` is False off the grid."""
        col = np.floor((np.asarray(x) - self.x0) / self.res).astype(np.int64)
        row = np.floor((self.y1 - np.asarray(y)) / self.res).astype(np.int64)
        inside = (col >= 0) & (col < self.nx) & (row >= 0) & (row < self.ny)
        return row, col, inside


NRW_GRID = GridSpec()


@dataclass
class Coverage:
    """A coverage layer (fibre or 5G): a 100 m grid of shares, or shares per municipality/Kreis."""

    resolution: str
    grid: np.ndarray | None = None
    units: pd.Series | None = None
    spec: GridSpec = NRW_GRID

    def __post_init__(self) -> None:
        if self.resolution not in RESOLUTIONS:
            raise ValueError(f"resolution must be one of {RESOLUTIONS}, not {self.resolution!r}")
        if (self.grid is None) == (self.units is None):
            raise ValueError("a Coverage holds either a grid or a table of units, not both")
        if self.grid is not None and self.grid.shape != self.spec.shape:
            raise ValueError(f"grid shape {self.grid.shape} does not match {self.spec.shape}")

    def stats(self) -> dict[str, float | None]:
        """Summary for the manifest: count of values, their mean and the share of no-data."""
        if self.grid is not None:
            values = self.grid.ravel()
        else:
            assert self.units is not None  # __post_init__: a grid or units
            values = self.units.to_numpy(float)
        valid = np.isfinite(values)
        return {
            "values": int(valid.sum()),
            "mean": round(float(values[valid].mean()), 4) if valid.any() else None,
            "nodata": int((~valid).sum()),
        }


def grid_from_points(
    x: np.ndarray, y: np.ndarray, values: np.ndarray, spec: GridSpec = NRW_GRID
) -> tuple[np.ndarray, int]:
    """Place point values (cell centres of a source grid) into the grid; later points win.

    Returns the float32 grid (NaN where no point fell) and the number of points off the grid.
    """
    grid = np.full(spec.shape, np.nan, dtype=np.float32)
    row, col, inside = spec.cell_of(x, y)
    grid[row[inside], col[inside]] = np.asarray(values, dtype=np.float32)[inside]
    return grid, int((~inside).sum())
