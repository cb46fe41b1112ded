"""Hydrogen core network (Wasserstoff-Kernnetz) pipeline segments.

Formats:
- ``fnb-measures``: the FNB Gas Kernnetz measure list (xlsx, or CSV: comma, or German ``;`` with
  decimal commas), one row per measure, with the columns ``Name (Lfd.Nr.-Von-Nach)``,
  ``Anfangspunkt(Ort)``, ``Endpunkt(Ort)``, ``Nenndurchmesser (DN)``, ``Länge (km)``,
  ``Druckstufe (DP)[mind. 30 barg]``, ``Bundesland``, ``Bestand/Umstellung/Neubau``,
  ``Umstellungsdatum/ Planerische Inbetriebnahme``, ``Maßnahmenart`` and optionally
  ``Betreiber``/``Netzbetreiber``. Headers match regardless of whitespace and line breaks; ``layer``
  names the xlsx sheet. No route geometry is published, so start and end places are looked up in
  a places table (``places`` in sources.toml: CSV with ``name``, ``lon``, ``lat`` in WGS84; default
  the built-in ``layers/facts/kernnetz_places.csv``) by name (case and spacing ignored), and each
  segment is drawn as a straight line (``geometry_quality = schematic``). Rows that are not
  pipelines (``Maßnahmenart`` naming a Verdichter, GDRM or Anlage, or no end point) are skipped.
  Rows whose ``Bundesland`` does not name Nordrhein-Westfalen are kept when both places are in the
  table and skipped otherwise; an unknown place on any other row is an error.
- ``lines``: any OGR line file (GeoPackage, GeoJSON, Shapefile) with a CRS, plus the column and
  code mappings of ``layers.mapping`` (``geometry_quality`` defaults to ``surveyed``).

Output (EPSG:25832): ``segment_id`` (str), ``name``, ``kind`` (conversion, new_build),
``commissioning_year`` (int), ``dn_mm``, ``pressure_bar`` (float, NaN when unknown), ``operator``,
``geometry_quality`` (schematic, surveyed), geometry LineString or MultiLineString.
"""

from __future__ import annotations

import re
import unicodedata
from importlib import resources
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import WORK_CRS, transformer
from layers.errors import SourceError, rows_text
from layers.io import AmbiguousNumber, number_format, parse_number, read_table, read_vector
from layers.mapping import apply_mapping
from layers.schema import check

LAYER = "hydrogen"
DEFAULTS = {
    "fnb-measures": {
        "licence": "unknown (published by FNB Gas e.V.; no open licence stated)",
        "attribution": "FNB Gas e.V., Wasserstoff-Kernnetz (Maßnahmenliste); schematic geometry",
    },
    "lines": {
        "licence": "unknown",
        "attribution": "pipeline operator's line file; set licence and attribution in sources.toml",
    },
}

COLUMNS = {  # our key -> header in the FNB list
    "segment_id": "Name (Lfd.Nr.-Von-Nach)",
    "start": "Anfangspunkt(Ort)",
    "end": "Endpunkt(Ort)",
    "dn": "Nenndurchmesser (DN)",
    "length": "Länge (km)",
    "pressure": "Druckstufe (DP)[mind. 30 barg]",
    "state": "Bundesland",
    "kind": "Bestand/Umstellung/Neubau",
    "date": "Umstellungsdatum/ Planerische Inbetriebnahme",
    "measure": "Maßnahmenart",
}
REQUIRED = ("segment_id", "start", "end", "kind", "date")
OPERATOR_COLUMNS = ("Betreiber", "Netzbetreiber")
KINDS = {"umstellung": "conversion", "bestand": "conversion", "neubau": "new_build"}
NOT_PIPELINE = re.compile(r"verdichter|kompressor|compressor|gdrm|anlage", re.IGNORECASE)
NRW = re.compile(r"nordrhein|\bnrw\b|\bnw\b", re.IGNORECASE)
YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
NUMBER = re.compile(r"-?\d[\d.,]*")
BUILT_IN_PLACES = "facts/kernnetz_places.csv"
LINES_FILL = {
    "geometry_quality": "surveyed",
    "name": None,
    "dn_mm": np.nan,
    "pressure_bar": np.nan,
    "operator": None,
}


def read_fnb_measures(path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """Read an FNB Kernnetz measure list into schematic straight segments between places."""
    path = Path(path)
    table = read_table(LAYER, path, cfg.get("layer"))
    fmt = number_format(cfg, table)
    columns = _find_columns(table, path)
    places, places_source = _places(cfg)
    unit = "row" if path.suffix.lower() in (".xlsx", ".xlsm") else "line"

    rows: list[dict[str, Any]] = []
    labels: list[str] = []
    problems: list[str] = []
    unknown: dict[str, list[str]] = {}
    for i, record in enumerate(table.to_dict("records")):
        label = f"{unit} {i + 2}"
        cell = {key: _text(record.get(col)) for key, col in columns.items()}
        if not cell["end"] or NOT_PIPELINE.search(cell.get("measure", "")):
            continue
        if not cell["start"]:
            problems.append(f"{label}: no Anfangspunkt(Ort) although Endpunkt is {cell['end']!r}")
            continue
        ends = [places.get(_norm(cell["start"])), places.get(_norm(cell["end"]))]
        if None in ends:
            if not cell.get("state") or NRW.search(cell["state"]):
                for name, point in zip((cell["start"], cell["end"]), ends, strict=True):
                    if point is None:
                        unknown.setdefault(name, []).append(label)
            continue
        row, row_problems = _segment(cell, label, fmt)
        if _norm(cell["start"]) == _norm(cell["end"]):
            row_problems.append(
                f"{label}: start and end are the same place ({cell['start']}); "
                "a schematic segment needs two different places"
            )
        if row_problems:
            problems += row_problems
            continue
        row["geometry"] = shapely.LineString(cast(list[tuple[float, float]], ends))  # no None
        rows.append(row)
        labels.append(label)
    problems += [
        f"unknown place {name!r} in {', '.join(where[:10])}"
        f"{f' (+{len(where) - 10} more)' if len(where) > 10 else ''}: add it with lon/lat to "
        f"{places_source}"
        for name, where in sorted(unknown.items())
    ]
    return _finish(rows, labels, problems, path)


def read_lines(path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """Read an OGR line file with the column and code mappings of sources.toml."""
    path = Path(path)
    src = read_vector(LAYER, path, cfg.get("layer"))
    year_column = cfg.get("columns", {}).get("commissioning_year")
    if year_column in src.columns and not pd.api.types.is_numeric_dtype(src[year_column]):
        src[year_column] = src[year_column].map(_year)
    gdf = apply_mapping(LAYER, src, cfg, path, fill=LINES_FILL)
    no_year = gdf["commissioning_year"].isna().to_numpy()
    if no_year.any():
        raise SourceError(
            LAYER, path, f"no commissioning year in rows {rows_text(list(np.flatnonzero(no_year)))}"
        )
    gdf["commissioning_year"] = gdf["commissioning_year"].astype("int64")
    gdf.geometry = shapely.force_2d(gdf.geometry.values)
    return check(LAYER, gdf, path)


def _segment(
    cell: dict[str, str], label: str, number_format: str | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Turn the attribute cells of one pipeline row into output fields and problems."""
    problems = []
    kind = KINDS.get(cell["kind"].casefold())
    if kind is None:
        problems.append(
            f"{label}: {cell['kind']!r} in column '{COLUMNS['kind']}' is not one of "
            "Bestand, Umstellung, Neubau"
        )
    year = _year(cell["date"])
    if year is None:
        problems.append(
            f"{label}: no commissioning year in column '{COLUMNS['date']}' (found "
            f"{cell['date']!r}); expected e.g. 2027, 31.12.2027 or Q4 2027"
        )
    numbers = {}
    for key, field in (("dn", "dn_mm"), ("pressure", "pressure_bar")):
        try:
            numbers[field] = _number(cell.get(key, ""), number_format)
        except ValueError as exc:
            why = f" ({exc})" if isinstance(exc, AmbiguousNumber) else ""
            problems.append(f"{label}: {cell[key]!r} in column '{COLUMNS[key]}' is not a number{why}")
    operator = next((cell[c] for c in OPERATOR_COLUMNS if cell.get(c)), None)
    row = {
        "segment_id": cell["segment_id"] or None,
        "name": f"{cell['start']} – {cell['end']}",
        "kind": kind,
        "commissioning_year": year,
        **numbers,
        "operator": operator,
        "geometry_quality": "schematic",
    }
    return row, problems


def _finish(
    rows: list[dict[str, Any]], labels: list[str], problems: list[str], path: Path
) -> gpd.GeoDataFrame:
    """Build the output frame; raise one error with the row problems and the schema check's."""
    fields = [
        "segment_id",
        "name",
        "kind",
        "commissioning_year",
        "dn_mm",
        "pressure_bar",
        "operator",
        "geometry_quality",
        "geometry",
    ]
    gdf = gpd.GeoDataFrame(pd.DataFrame(rows, columns=fields), geometry="geometry", crs=WORK_CRS)
    gdf["commissioning_year"] = gdf["commissioning_year"].astype("int64")
    gdf[["dn_mm", "pressure_bar"]] = gdf[["dn_mm", "pressure_bar"]].astype("float64")
    try:
        check(LAYER, gdf, path, row_labels=labels)
    except SourceError as exc:
        problems = problems + exc.problems
    if problems:
        raise SourceError(LAYER, path, problems)
    return gdf


def _find_columns(table: pd.DataFrame, path: Path) -> dict[str, str]:
    """Map our keys (and operator columns) to the table's headers, matched loosely."""
    headers = {_norm_header(h): h for h in table.columns}
    found = {key: headers[_norm_header(h)] for key, h in COLUMNS.items() if _norm_header(h) in headers}
    found |= {c: headers[_norm_header(c)] for c in OPERATOR_COLUMNS if _norm_header(c) in headers}
    missing = [COLUMNS[k] for k in REQUIRED if k not in found]
    if missing:
        raise SourceError(
            LAYER,
            path,
            f"not an FNB Kernnetz measure list: missing column(s) "
            f"{', '.join(repr(m) for m in missing)}; the file has: "
            f"{', '.join(repr(str(c)) for c in table.columns)}",
        )
    return found


def _places(cfg: dict[str, Any]) -> tuple[dict[str, tuple[float, float]], str]:
    """Load the places (name -> x, y in EPSG:25832) from ``cfg["places"]`` or the built-in facts.

    Coordinates in the table are WGS84 lon/lat.
    """
    if cfg.get("places"):
        source = Path(cfg["places"])
        table = read_table(LAYER, source)
        described = str(source)
    else:
        with resources.files("layers").joinpath(BUILT_IN_PLACES).open("rb") as f:
            table = pd.read_csv(f, dtype=str)
        table.attrs["number_format"] = "en"
        source = Path(f"layers/{BUILT_IN_PLACES}")
        described = f"the built-in {source} (or set `places` in sources.toml)"
    fmt = table.attrs.get("number_format")  # the places file's own format
    table.columns = [str(c).strip().lower() for c in table.columns]
    missing = [c for c in ("name", "lon", "lat") if c not in table.columns]
    if missing:
        raise SourceError(
            LAYER, source, f"places table needs columns name, lon, lat (WGS84); missing {', '.join(missing)}"
        )
    lonlat: dict[str, tuple[float, float]] = {}
    problems = []
    for i, (name, lon, lat) in enumerate(zip(table["name"], table["lon"], table["lat"], strict=True)):
        try:
            point = (parse_number(lon, fmt), parse_number(lat, fmt))
        except ValueError:
            point = (np.nan, np.nan)
        if not (abs(point[0]) <= 180 and abs(point[1]) <= 90):
            problems.append(f"line {i + 2}: lon/lat {lon!r}, {lat!r} of {name!r} are not WGS84 degrees")
        elif lonlat.get(_norm(name), point) != point:
            problems.append(f"line {i + 2}: {name!r} is listed twice with different coordinates")
        lonlat[_norm(name)] = point
    if problems:
        raise SourceError(LAYER, source, problems)
    lon, lat = np.array(list(lonlat.values())).reshape(-1, 2).T
    x, y = transformer(4326, 25832).transform(lon, lat)
    return dict(zip(lonlat, zip(x.tolist(), y.tolist(), strict=True), strict=True)), described


def _year(value: Any) -> int | None:
    """Return the (latest) 4-digit year in a date cell: 2027, 31.12.2027, Q4 2027, a datetime."""
    years = YEAR.findall(_text(value))
    return max(int(y) for y in years) if years else None


def _number(text: str, number_format: str | None = None) -> float:
    """Parse a number cell such as '1000', 'DN 600' or '67,5' (NaN when empty)."""
    if not text:
        return np.nan
    m = NUMBER.search(text)
    if not m:
        raise ValueError(text)
    return parse_number(m.group(), number_format)


def _text(value: Any) -> str:
    """Return a cell as stripped text; empty for None/NaN."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return str(value).strip()


def _norm(name: Any) -> str:
    """Normalise a place name for matching: case-folded, single spaces, NFC."""
    return " ".join(unicodedata.normalize("NFC", _text(name)).casefold().split())


def _norm_header(header: Any) -> str:
    """Normalise a column header: no whitespace or line breaks, case-folded, NFC."""
    return "".join(unicodedata.normalize("NFC", str(header)).casefold().split())
