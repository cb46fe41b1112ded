"""Tables of point features with lon/lat columns: the reading and checks the DB and airport readers share.

A table is a CSV (rows named by line, the header being line 1) or any OGR file (rows by number),
read into ``Records``: text cells, the file's geometry if it has one, and a label per row.
``find_columns`` maps the format's headers (case, spacing and Unicode form ignored),
``lonlat_points`` makes the points from WGS84 columns or else the file's geometry, and ``finish``
runs the schema check and raises one error with every row problem.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.crs import transformer
from layers.errors import SourceError
from layers.io import NO_CRS_HINT, parse_number, read_table, require_file, to_work_crs
from layers.schema import check

TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".dat")


@dataclass
class Records:
    """A source table of text cells, with its geometry (if any) and a label per row."""

    table: pd.DataFrame
    labels: list[str]
    geoms: np.ndarray | None = None  # EPSG:25832
    no_crs: bool = False  # the file has geometry but no CRS (refused only if the geometry is used)

    def keep(self, mask: np.ndarray) -> Records:
        """The rows where ``mask`` is true."""
        return Records(
            self.table[mask].reset_index(drop=True),
            [lb for lb, k in zip(self.labels, mask, strict=True) if k],
            self.geoms[mask] if self.geoms is not None else None,
            self.no_crs,
        )


def read_records(layer: str, path: Path, source_layer: str | None) -> Records:
    """Read a CSV (rows named by line, the header being line 1) or any OGR file (rows by number)."""
    if path.suffix.lower() in TABLE_SUFFIXES:
        table = read_table(layer, path)
        return Records(table, [f"line {i + 2}" for i in range(len(table))])
    require_file(layer, path)
    try:
        gdf = pyogrio.read_dataframe(path, layer=source_layer)
    except Exception as exc:
        raise SourceError(layer, path, f"cannot be read as a table or vector file: {exc}") from exc
    labels = [f"row {i + 1}" for i in range(len(gdf))]
    geoms, no_crs = None, False
    if isinstance(gdf, gpd.GeoDataFrame) and gdf.geometry.notna().any():
        if gdf.crs is None:
            no_crs = True
        else:
            geoms = shapely.force_2d(to_work_crs(gdf).geometry.values)
    table = pd.DataFrame(gdf.drop(columns="geometry", errors="ignore"))
    return Records(table.astype(object).where(table.notna(), None), labels, geoms, no_crs)


def find_columns(
    layer: str, path: Path, table: pd.DataFrame, wanted: dict[str, str], required: Iterable[str], what: str
) -> dict[str, str]:
    """Map our keys to the table's headers (case, spacing and Unicode form ignored)."""
    headers = {_norm_header(h): h for h in table.columns}
    found = {key: headers[_norm_header(h)] for key, h in wanted.items() if _norm_header(h) in headers}
    missing = [wanted[k] for k in required if k not in found]
    if missing:
        raise SourceError(
            layer,
            path,
            f"not {what}: missing column(s) "
            f"{', '.join(repr(m) for m in missing)}; the file has: "
            f"{', '.join(repr(str(c)) for c in table.columns)}",
        )
    return found


def lonlat_points(
    layer: str, path: Path, rec: Records, cols: dict[str, str], problems: list[str], names: tuple[str, str]
) -> np.ndarray:
    """Points in EPSG:25832 from the lon/lat columns (WGS84), else from the file's geometry."""
    if "lon" not in cols or "lat" not in cols:
        if rec.no_crs:
            raise SourceError(layer, path, NO_CRS_HINT)
        if rec.geoms is None:
            need = ", ".join(
                repr(c) for c in names if _norm_header(c) not in {_norm_header(h) for h in rec.table.columns}
            )
            raise SourceError(
                layer,
                path,
                f"missing coordinate column(s) {need} (WGS84) and no "
                f"geometry; the file has: "
                f"{', '.join(repr(str(c)) for c in rec.table.columns)}",
            )
        return rec.geoms
    lonlat = np.full((len(rec.table), 2), np.nan)
    for j, key in enumerate(("lon", "lat")):
        for i, v in enumerate(rec.table[cols[key]].tolist()):
            try:
                lonlat[i, j] = parse_number(v, rec.table.attrs.get("number_format"))
            except ValueError:
                problems.append(f"{rec.labels[i]}: {v!r} in column '{cols[key]}' is not a number")
                continue
            if np.isnan(lonlat[i, j]):
                problems.append(f"{rec.labels[i]}: empty '{cols[key]}'")
    lon, lat = lonlat.T
    bad = np.isfinite(lon) & np.isfinite(lat) & ((np.abs(lon) > 180) | (np.abs(lat) > 90))
    for k in np.flatnonzero(bad):
        problems.append(
            f"{rec.labels[k]}: {lon[k]}, {lat[k]} in columns '{cols['lon']}', "
            f"'{cols['lat']}' are not WGS84 degrees (longitude, latitude)"
        )
    ok = np.isfinite(lon) & np.isfinite(lat) & ~bad
    x, y = transformer(4326, 25832).transform(np.where(ok, lon, 0.0), np.where(ok, lat, 0.0))
    # return-value: numpy's stubs take where(c, x, None) for where(c) (None is no ArrayLike)
    return np.where(ok, shapely.points(x, y), None)  # type: ignore[return-value]


def finish(
    layer: str, out: gpd.GeoDataFrame, path: Path, labels: list[str], problems: list[str]
) -> gpd.GeoDataFrame:
    """Run the schema check; raise one error with the row problems and the check's."""
    if problems:  # rows already reported keep their own messages; check the rest for the others
        raise SourceError(layer, path, problems + _check_problems(layer, out, path, labels))
    return check(layer, out, path, row_labels=labels)


def _check_problems(layer: str, out: gpd.GeoDataFrame, path: Path, labels: list[str]) -> list[str]:
    try:
        check(
            layer,
            out[out.geometry.notna()].reset_index(drop=True),
            path,
            row_labels=[lb for lb, g in zip(labels, out.geometry.notna(), strict=True) if g],
        )
    except SourceError as exc:
        return [p for p in exc.problems if not p.startswith("traffic must be")]
    return []


def cell(v: Any) -> str:
    """A cell as stripped text; empty for None and NaN."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    return str(v).strip()


def int_text(text: str) -> str | None:
    """An integer id as text (``"123.0"`` read from a float column is ``"123"``); None if empty."""
    if re.fullmatch(r"\d+\.0", text):
        text = text[:-2]
    return text or None


def _norm_header(header: Any) -> str:
    return "".join(unicodedata.normalize("NFC", str(header)).casefold().split())
