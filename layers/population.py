"""The ``population`` layer: residents per grid cell, for the skilled-labour criterion (issue 21 §1).

A grid plug-in layer (``LayerSpec(kind="grid")``): every reader returns a ``PopulationGrid``, a
``geo.grid.Coverage`` whose ``grid`` holds residents per cell (float32, 0 where none, never NaN)
on a grid in EPSG:25832 that covers NRW's extent **plus 30 km on every side**, so that residents
just outside NRW count for a site near the border (``POP_GRID_100M``: 3,120 × 3,040 cells of
100 m; ``POP_GRID_1KM``: 312 × 304 cells of 1 km).

Format ``zensus-grid``: the official Zensus 2022 grid CSV of Destatis, ``;``-separated, UTF-8
(Windows-1252 accepted), one line per inhabited cell:

- 100 m: ``GITTER_ID_100m;x_mp_100m;y_mp_100m;Einwohner``
- 1 km: ``GITTER_ID_1km;x_mp_1km;y_mp_1km;Einwohner``

``x_mp``/``y_mp`` are the cell centres in EPSG:3035 (ETRS89-LAEA). ``Einwohner`` is the count; the
value ``–`` (en dash; ``-`` too) or an empty field marks a cell withheld for statistical secrecy:
it counts as 0 and the number of such cells is reported (``PopulationGrid.withheld``, in the
manifest's ``stats``). Files of 3–4 million lines are read in chunks of ``CHUNK`` lines with fixed
dtypes.

**Placing cells.** The 100 m (1 km) cells of EPSG:3035 and of EPSG:25832 are not aligned (the two
grids are offset and turned against each other by about 0.8° over NRW). Each source cell's
residents go, whole, into the target cell that contains its **transformed centre**; residents
are conserved exactly, and a target cell may receive two source cells while a neighbour receives
none: the local error is one cell (100 m), and a sum within 30 km can differ only by cells
whose centre lies within about one cell of the circle.

Refused, with the file, the line and the reason: another separator, other columns, coordinates
outside Germany (often another CRS, e.g. EPSG:25832 metres in the EPSG:3035 columns), coordinates
that are not the cell centres of the file's resolution, non-numeric or negative counts.

**NL/BE commuters are not in the grid**: the Zensus covers Germany only, so for sites near the
Dutch or Belgian border the workforce within 30 km is an undercount of the labour market.

Indicator (declared by the lead): ``workforce_30km`` (persons) = ``geo.convolve.residents_within(
coverage, x, y, 30.0)`` at the sites' centroids: residents in the cells whose centre lies within
30 km (straight line) of the centroid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo.crs import NRW_BOUNDS, transformer
from geo.grid import Coverage, GridSpec
from layers.errors import SourceError
from layers.io import require_file

LAYER = "population"
MARGIN_M = 30_000.0
CHUNK = 500_000  # lines read at once
MAX_LINES = 20  # line numbers listed per kind of problem
# Germany in EPSG:3035 (ETRS89-LAEA), rounded outwards: every Zensus cell centre lies inside
GERMANY_3035 = (4_000_000.0, 2_650_000.0, 4_700_000.0, 3_600_000.0)
WITHHELD = frozenset({"–", "-", ""})
LICENCE = "dl-de/by-2-0"
ATTRIBUTION = "© Statistisches Bundesamt (Destatis), Zensus 2022; modified (placed on a 25832 grid)"


def grid_spec(res: float) -> GridSpec:
    """NRW's extent plus 30 km on every side, in cells of ``res`` metres (EPSG:25832)."""
    x0, y0, x1, y1 = (
        NRW_BOUNDS[0] - MARGIN_M,
        NRW_BOUNDS[1] - MARGIN_M,
        NRW_BOUNDS[2] + MARGIN_M,
        NRW_BOUNDS[3] + MARGIN_M,
    )
    return GridSpec(x0=x0, y1=y1, res=res, nx=int(round((x1 - x0) / res)), ny=int(round((y1 - y0) / res)))


POP_GRID_100M = grid_spec(100.0)
POP_GRID_1KM = grid_spec(1000.0)
LAYOUTS = {  # resolution label -> (the file's columns, cell size in m, target grid)
    "grid_100m": (("GITTER_ID_100m", "x_mp_100m", "y_mp_100m", "Einwohner"), 100.0, POP_GRID_100M),
    "grid_1km": (("GITTER_ID_1km", "x_mp_1km", "y_mp_1km", "Einwohner"), 1000.0, POP_GRID_1KM),
}


@dataclass
class PopulationGrid(Coverage):
    """Residents per cell (float32, never NaN) and how the source cells were placed."""

    withheld: int = 0  # cells on the grid withheld for secrecy (counted as 0)
    cells: int = 0  # source cells placed on the grid
    outside: int = 0  # source cells whose centre lies off the grid (not NRW + 30 km)

    @property
    def attrs(self) -> dict[str, int]:
        """The reader's report, which the build adds to the layer's manifest entry."""
        return {"cells_withheld": self.withheld, "cells_placed": self.cells, "cells_outside": self.outside}

    def stats(self) -> dict[str, float | None]:
        """The manifest's summary: residents in total, cells placed, withheld and off the grid."""
        assert self.grid is not None  # a population layer is always a grid
        return {
            "values": int(np.count_nonzero(self.grid)),
            "residents": float(round(float(self.grid.sum(dtype=np.float64)), 1)),
            "cells": self.cells,
            "withheld": self.withheld,
            "outside": self.outside,
            "nodata": 0,
        }


def _header(path: Path) -> tuple[str, list[str]]:
    """The file's encoding and header fields; refuses another separator."""
    with open(path, "rb") as f:
        raw = f.readline(4096)
    try:
        encoding, head = "utf-8-sig", raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        encoding, head = "cp1252", raw.decode("cp1252")
    head = head.rstrip("\r\n")
    if ";" not in head:
        sep = next((name for s, name in ((",", "comma"), ("\t", "tab")) if s in head), None)
        found = f"the header is separated by {sep}" if sep else "the header has no ';'"
        raise SourceError(LAYER, path, f"line 1: {found}; a Zensus grid CSV is ';'-separated: {head[:80]!r}")
    return encoding, [c.strip() for c in head.split(";")]


def _layout(path: Path, fields: list[str]) -> str:
    for name, (cols, _, _) in LAYOUTS.items():
        if all(c in fields for c in cols):
            return name
    expect = " or ".join(";".join(c) for c, _, _ in LAYOUTS.values())
    shown = ";".join(fields)[:120]
    raise SourceError(LAYER, path, f"line 1: columns {shown!r} are not a Zensus grid; expected {expect}")


class _Problems:
    """Bad lines by kind: how many, the first MAX_LINES line numbers and one (truncated) value."""

    def __init__(self) -> None:
        self.count: dict[str, int] = {}
        self.lines: dict[str, list[int]] = {}
        self.sample: dict[str, str] = {}

    def __bool__(self) -> bool:
        return bool(self.count)

    def note(self, kind: str, bad: np.ndarray, first_line: int, values: Callable[[int], str]) -> None:
        """Record the rows where ``bad`` is true; ``first_line`` is the line of the chunk's row 0;
        ``values(i)`` gives row i's offending value (the first one is shown, truncated).
        """
        if not bad.any():
            return
        where = np.flatnonzero(bad)
        self.count[kind] = self.count.get(kind, 0) + len(where)
        lines = self.lines.setdefault(kind, [])
        lines.extend(int(i) + first_line for i in where[: max(0, MAX_LINES - len(lines))])
        self.sample.setdefault(kind, values(int(where[0]))[:20])

    def text(self) -> list[str]:
        """One problem per kind, with its first lines, how many more, and an example value."""
        out = []
        for kind, n in self.count.items():
            lines = ", ".join(map(str, self.lines[kind]))
            more = f" (+{n - len(self.lines[kind])} more)" if n > len(self.lines[kind]) else ""
            out.append(f"{n} line(s) with {kind}: line {lines}{more}, e.g. {self.sample[kind]!r}")
        return out


@dataclass
class _Tally:
    """What a pass over the file found: residents per target cell and the counts of cells."""

    total: np.ndarray
    problems: _Problems
    withheld: int = 0
    cells: int = 0
    outside: int = 0
    rows: int = 0


def _numbers(
    tally: _Tally, chunk: pd.DataFrame, columns: tuple[str, ...], first: int
) -> tuple[np.ndarray, ...]:
    """The careful pass: columns read as text, every value that is not a number noted with its line."""
    _, x_col, y_col, n_col = columns
    xs, ys, ns = chunk[x_col].str.strip(), chunk[y_col].str.strip(), chunk[n_col].str.strip()
    x = pd.to_numeric(xs, errors="coerce").to_numpy(np.float64)
    y = pd.to_numeric(ys, errors="coerce").to_numpy(np.float64)
    secret = ns.isin(WITHHELD).to_numpy()
    n = pd.to_numeric(ns, errors="coerce").to_numpy(np.float64)
    bad_xy = ~(np.isfinite(x) & np.isfinite(y))
    tally.problems.note(
        "coordinates that are not numbers",
        bad_xy,
        first,
        lambda i: str(xs.iloc[i] if np.isnan(x[i]) else ys.iloc[i]),
    )
    bad_n = ~secret & ~np.isfinite(n)
    tally.problems.note(
        "counts that are not a number (withheld cells are '–' or empty)",
        bad_n,
        first,
        lambda i: str(ns.iloc[i]),
    )
    return x, y, np.where(bad_n, 0.0, n), secret


def _place(
    tally: _Tally,
    x: np.ndarray,
    y: np.ndarray,
    n: np.ndarray,
    secret: np.ndarray,
    first: int,
    resolution: str,
) -> None:
    """Check the cells' positions and counts and, while the file has no problem, place them."""
    _, size, spec = LAYOUTS[resolution]
    problems = tally.problems

    g = GERMANY_3035
    with np.errstate(invalid="ignore"):
        off = np.isfinite(x) & np.isfinite(y) & ((x < g[0]) | (x > g[2]) | (y < g[1]) | (y > g[3]))
        half = size / 2
        not_centre = ~off & ((np.mod(x - half, size) != 0) | (np.mod(y - half, size) != 0))
        not_centre &= np.isfinite(x) & np.isfinite(y)
        negative = ~secret & (n < 0)
    xy: Callable[[int], str] = lambda i: f"{x[i]:.0f} {y[i]:.0f}"  # noqa: E731
    problems.note("coordinates outside Germany in EPSG:3035 (another CRS?)", off, first, xy)
    problems.note(
        f"coordinates that are not {resolution[5:]} cell centres (…{int(half)})", not_centre, first, xy
    )
    problems.note("counts below 0", negative, first, lambda i: f"{n[i]:.6g}")
    if problems:
        return  # keep reading to list the problems of later lines, place nothing
    bx0, by0, bx1, by1 = _box_3035(spec)  # only cells near the grid are transformed
    near = np.flatnonzero((x >= bx0) & (x <= bx1) & (y >= by0) & (y <= by1))
    tx, ty = transformer(3035, 25832).transform(x[near], y[near])
    row, col, inside = spec.cell_of(tx, ty)
    take = near[inside]
    tally.outside += len(x) - len(take)
    tally.cells += len(take)
    tally.withheld += int(secret[take].sum())
    counts = np.where(secret[take], 0.0, n[take])
    tally.total += np.bincount(row[inside] * spec.nx + col[inside], counts, minlength=tally.total.size)


@lru_cache(maxsize=4)
def _box_3035(spec: GridSpec) -> tuple[float, float, float, float]:
    """The grid's extent in EPSG:3035 (its densified outline transformed), 2 km wider."""
    x0, y0, x1, y1 = spec.bounds
    t = np.linspace(0.0, 1.0, 101)
    ex = np.concatenate([x0 + (x1 - x0) * t, np.full(101, x1), x1 - (x1 - x0) * t, np.full(101, x0)])
    ey = np.concatenate([np.full(101, y0), y0 + (y1 - y0) * t, np.full(101, y1), y1 - (y1 - y0) * t])
    bx, by = transformer(25832, 3035).transform(ex, ey)
    return (float(bx.min()) - 2000, float(by.min()) - 2000, float(bx.max()) + 2000, float(by.max()) + 2000)


def _read(path: Path, encoding: str, resolution: str, fast: bool) -> _Tally:
    """One pass over the file in chunks of CHUNK lines.

    ``fast``: the C parser reads the numbers (withheld counts as NaN) and raises on any other
    text; the caller then reads again with ``fast=False``, which reads text and names each line.
    """
    columns, _, spec = LAYOUTS[resolution]
    _, x_col, y_col, n_col = columns
    tally = _Tally(np.zeros(spec.nx * spec.ny), _Problems())
    kinds: dict[str, Any] = (
        {"dtype": np.float64, "na_values": {n_col: sorted(WITHHELD)}} if fast else {"dtype": str}
    )
    chunks = pd.read_csv(
        path,
        sep=";",
        usecols=[x_col, y_col, n_col],
        keep_default_na=False,
        encoding=encoding,
        chunksize=CHUNK,
        engine="c",
        **kinds,
    )
    for chunk in chunks:
        first = tally.rows + 2  # the line of the chunk's first row (line 1 is the header)
        tally.rows += len(chunk)
        if fast:
            x, y = chunk[x_col].to_numpy(np.float64), chunk[y_col].to_numpy(np.float64)
            n = chunk[n_col].to_numpy(np.float64)
            secret = np.isnan(n)
        else:
            x, y, n, secret = _numbers(tally, chunk, columns, first)
        _place(tally, x, y, n, secret, first, resolution)
    return tally


def _read_careful(path: Path, encoding: str, resolution: str) -> _Tally:
    try:
        try:
            return _read(path, encoding, resolution, fast=False)
        except UnicodeDecodeError:
            return _read(path, "cp1252", resolution, fast=False)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise SourceError(LAYER, path, f"cannot be read as a ';'-separated CSV: {str(exc)[:200]}") from None


def read_zensus_grid(path: Path, cfg: dict[str, Any]) -> PopulationGrid:
    """Read a Zensus 2022 grid CSV (100 m or 1 km) onto the EPSG:25832 grid of NRW + 30 km."""
    require_file(LAYER, path)
    encoding, fields = _header(path)
    resolution = _layout(path, fields)
    spec = LAYOUTS[resolution][2]
    try:
        try:
            tally = _read(path, encoding, resolution, fast=True)
        except UnicodeDecodeError:  # not UTF-8 after the header: the Windows code page of Excel
            encoding = "cp1252"
            tally = _read(path, encoding, resolution, fast=True)
    except (ValueError, TypeError):  # text where a number belongs (or a bad line): read again as text
        tally = _read_careful(path, encoding, resolution)
    if tally.problems:
        raise SourceError(LAYER, path, tally.problems.text())
    if not tally.rows:
        raise SourceError(LAYER, path, "the file has no data lines")
    if not tally.cells:
        raise SourceError(
            LAYER, path, f"none of the {tally.rows} cells lies within NRW + 30 km: check the file"
        )
    return PopulationGrid(
        resolution,
        grid=tally.total.reshape(spec.shape).astype(np.float32),
        spec=spec,
        withheld=tally.withheld,
        cells=tally.cells,
        outside=tally.outside,
    )
