"""Fibre and 5G coverage readers: statistics per municipality/Kreis, or 100 m grids.

Formats:
- ``breitbandatlas-municipal``: Breitbandatlas CSV, ``AGS`` (8 digits) and a percent column chosen by
  ``column`` (default ``FTTH/B ≥ 1000 Mbit/s``). Output: shares per municipality.
- ``breitbandatlas-kreis``: Breitbandatlas mobile CSV, ``AGS`` (5 digits), ``Technologie``
  (``technology``, default ``5G2``), ``Flaechenart`` (``area_type``, default
  ``Gewerbliche Nutzfläche``), ``Verfügbarkeit`` (percent). Output: shares per Kreis.
- ``inspire-grid``: a table (CSV/xlsx) or OGR file of 100 m INSPIRE cells, EPSG:3035, ids like
  ``CRS3035RES100mN3202200E4042200`` (lower-left corner) in ``id_column``; ``value_column`` × ``scale``
  (default 0.01, i.e. percent) is the share. Cells are placed on the EPSG:25832 analysis grid by
  their centre (nearest-neighbour resampling).
- ``bnetza-grid``: BNetzA Mobilfunk-Monitoring GeoPackage, 100 m cells in EPSG:25832;
  ``value_column`` × ``scale`` is the share, or with ``threshold`` the share is 1 where the value
  reaches it (e.g. operators with 5G ≥ 1) and 0 elsewhere.

Output: ``geo.grid.Coverage`` (shares 0–1, NaN = no data).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo.crs import transformer
from geo.grid import Coverage, grid_from_points
from layers.errors import SourceError
from layers.io import number_format, parse_number, read_table, read_vector

ATTRIBUTION_BBA = "Breitbandatlas | Gigabit-Grundbuch (gigabitgrundbuch.bund.de); modified (shares per site)"
DEFAULTS = {
    "breitbandatlas-municipal": {
        "licence": "Breitbandatlas terms: free use with attribution",
        "attribution": ATTRIBUTION_BBA,
    },
    "breitbandatlas-kreis": {
        "licence": "Breitbandatlas terms: free use with attribution",
        "attribution": ATTRIBUTION_BBA,
    },
    "inspire-grid": {
        "licence": "Breitbandatlas terms: free use with attribution",
        "attribution": ATTRIBUTION_BBA,
    },
    "bnetza-grid": {"licence": "dl-de/by-2-0", "attribution": "© Bundesnetzagentur; modified"},
}
INSPIRE_ID = re.compile(r"CRS3035RES(\d+)mN(\d+)E(\d+)")


def _column(layer: str, path: Path, df: pd.DataFrame, name: str) -> pd.Series:
    """Return a column, or raise naming the columns that do exist."""
    if name not in df.columns:
        raise SourceError(
            layer,
            path,
            f"column '{name}' not found; columns are: "
            f"{', '.join(map(str, df.columns[:12]))}{' ...' if len(df.columns) > 12 else ''}",
        )
    return df[name]


def _shares(
    layer: str,
    path: Path,
    keys: pd.Series,
    raw: pd.Series,
    digits: int,
    lines: np.ndarray | None = None,
    number_format: str | None = None,
) -> pd.Series:
    """Validate keys (strings of ``digits`` digits) and percent values; return shares by key.

    ``lines`` gives each row's line number in the file (default: row + 2, after the header);
    ``number_format`` how the file writes numbers (``"de"``, ``"en"``; see io.parse_number).
    """
    problems: list[str] = []
    keys = keys.astype("string").str.strip()
    lines = np.arange(len(keys)) + 2 if lines is None else lines
    values = np.full(len(raw), np.nan)
    for i, (key, text) in enumerate(zip(keys, raw, strict=True)):
        line = f"line {lines[i]}"
        # comparison-overlap: pandas-stubs type a "string" Series' items as str; missing ones are NA
        if key is pd.NA or not re.fullmatch(rf"\d{{{digits}}}", str(key)):  # type: ignore[comparison-overlap]
            hint = " (leading zero lost? store AGS as text)" if str(key).isdigit() else ""
            problems.append(f"{line}: AGS {str(key)[:20]!r} is not a {digits}-digit key{hint}")
            continue
        try:
            values[i] = parse_number(text, number_format)
        except ValueError as exc:
            problems.append(f"{line}: value {exc}")
            continue
        if not np.isnan(values[i]) and not 0 <= values[i] <= 100:
            problems.append(f"{line}: value {str(text)[:20]!r} is not a percentage between 0 and 100")
    dup = (keys.duplicated(keep=False) & keys.notna()).to_numpy()
    if dup.any():
        problems.append(
            f"duplicate AGS {', '.join(sorted(set(keys[dup]))[:5])} on lines "
            f"{', '.join(str(n) for n in lines[dup][:10])}"
        )
    if not len(keys):
        problems.append("the file has no data rows")
    if problems:
        raise SourceError(layer, path, problems)
    return pd.Series(values / 100.0, index=keys.to_numpy(), name="share")


def read_breitbandatlas_municipal(layer: str, path: Path, cfg: dict[str, Any]) -> Coverage:
    """Read a Breitbandatlas municipal CSV: share = chosen percent column / 100 per AGS."""
    df = read_table(layer, path)
    column = cfg.get("column", "FTTH/B ≥ 1000 Mbit/s")
    shares = _shares(
        layer,
        path,
        _column(layer, path, df, "AGS"),
        _column(layer, path, df, column),
        8,
        number_format=number_format(cfg, df),
    )
    return Coverage("municipal", units=shares)


def read_breitbandatlas_kreis(layer: str, path: Path, cfg: dict[str, Any]) -> Coverage:
    """Read the Breitbandatlas Kreis mobile CSV for one technology and area type."""
    df = read_table(layer, path)
    tech = cfg.get("technology", "5G2")
    area = cfg.get("area_type", "Gewerbliche Nutzfläche")
    t = _column(layer, path, df, "Technologie").str.strip()
    a = _column(layer, path, df, "Flaechenart").str.strip()
    rows = df[(t == tech) & (a == area)]
    if rows.empty:
        raise SourceError(
            layer,
            path,
            f"no rows with Technologie = {tech!r} and Flaechenart = "
            f"{area!r}; technologies: {', '.join(sorted(t.dropna().unique()))}; "
            f"area types: {', '.join(sorted(a.dropna().unique()))}",
        )
    shares = _shares(
        layer,
        path,
        _column(layer, path, rows, "AGS"),
        _column(layer, path, rows, "Verfügbarkeit"),
        5,
        lines=rows.index.to_numpy() + 2,
        number_format=number_format(cfg, df),
    )
    return Coverage("kreis", units=shares)


def read_inspire_grid(layer: str, path: Path, cfg: dict[str, Any]) -> Coverage:
    """Read 100 m INSPIRE grid cells (EPSG:3035 ids) onto the EPSG:25832 analysis grid."""
    id_column = cfg.get("id_column", "id")
    value_column = cfg.get("value_column", "down_fn_hh_ftthb_1000")
    scale = float(cfg.get("scale", 0.01))
    if path.suffix.lower() in (".csv", ".txt", ".xlsx"):
        df = read_table(layer, path)
    else:
        df = pd.DataFrame(read_vector(layer, path, cfg.get("layer")).drop(columns="geometry"))
    ids = _column(layer, path, df, id_column).astype(str)
    parts = ids.str.extract(INSPIRE_ID)
    bad = parts[0].isna().to_numpy()
    if bad.any():
        lines = ", ".join(str(i + 2) for i in np.flatnonzero(bad)[:10])
        raise SourceError(layer, path, f"cell ids not like 'CRS3035RES100mN3202200E4042200' on lines {lines}")
    size = parts[0].astype(float).to_numpy()
    if np.any(size != 100):
        raise SourceError(
            layer, path, f"only 100 m cells are supported (found {', '.join(sorted(set(parts[0])))} m)"
        )
    fmt = number_format(cfg, df)
    try:
        values = _column(layer, path, df, value_column).map(lambda v: parse_number(v, fmt)).to_numpy() * scale
    except ValueError as exc:
        raise SourceError(layer, path, f"column {value_column!r}: {exc}") from None
    e = parts[2].astype(float).to_numpy() + 50.0
    n = parts[1].astype(float).to_numpy() + 50.0
    x, y = transformer(3035, 25832).transform(e, n)
    return _to_grid(layer, path, x, y, values)


def read_bnetza_grid(layer: str, path: Path, cfg: dict[str, Any]) -> Coverage:
    """Read BNetzA Mobilfunk-Monitoring 100 m cells (polygons, any CRS) onto the analysis grid."""
    gdf = read_vector(layer, path, cfg.get("layer"))
    raw = _column(layer, path, gdf, cfg.get("value_column", "mobilesBB_AnzahlMNB"))
    values = pd.to_numeric(raw, errors="coerce").to_numpy(float)
    if "threshold" in cfg:
        values = np.where(np.isnan(values), np.nan, (values >= float(cfg["threshold"])) * 1.0)
    else:
        values = values * float(cfg.get("scale", 0.01))
    centres = shapely.centroid(gdf.geometry.values)
    return _to_grid(layer, path, shapely.get_x(centres), shapely.get_y(centres), values)


def _to_grid(layer: str, path: Path, x: np.ndarray, y: np.ndarray, values: np.ndarray) -> Coverage:
    """Check shares lie in [0, 1] and place them on the analysis grid."""
    bad = np.flatnonzero(np.isfinite(values) & ((values < 0) | (values > 1)))
    if bad.size:
        raise SourceError(
            layer,
            path,
            f"shares outside 0–1 after scaling on lines "
            f"{', '.join(str(i + 2) for i in bad[:10])}: check `scale`",
        )
    grid, off = grid_from_points(x, y, values)
    if off == len(values):
        raise SourceError(layer, path, "no cell lies inside NRW: check the CRS and the cell ids")
    return Coverage("grid_100m", grid=grid)
