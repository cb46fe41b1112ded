"""The airports formats: OpenFlights ``airports.dat`` and OurAirports ``airports.csv``.

- ``openflights``: OpenFlights ``airports.dat`` (no header row; the 14 documented columns Airport
  ID, Name, City, Country, IATA, ICAO, Latitude, Longitude, Altitude, Timezone, DST, Tz database
  time zone, Type, Source, or the 12 of older versions; ``\\N`` is null), the same with a header
  row, or any OGR file with those columns. Rows whose ``Type`` is ``station`` or ``port``
  (airports-extended.dat) are skipped. OpenFlights has no size or service field, so
  ``commercial`` = the IATA code is in ``COMMERCIAL_IATA`` (``layers/transport.py``; or in the
  ``commercial`` option, a list of IATA codes).
- ``ourairports``: OurAirports ``airports.csv`` (header row; ``ident``, ``type``, ``name``,
  ``latitude_deg``, ``longitude_deg``, ``scheduled_service``, ``iata_code``, and ``icao_code`` or
  ``gps_code``). Types ``large_airport``, ``medium_airport`` and ``small_airport`` are kept
  (heliports, seaplane bases, balloon ports and closed fields are skipped); ``commercial`` = large
  or medium airport with ``scheduled_service = yes`` (or the ``commercial`` option's IATA list).

Airport files are worldwide: the readers do not clip.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import WORK_CRS
from layers.errors import SourceError
from layers.io import require_file
from layers.transport import COMMERCIAL_IATA
from layers.transport_tables import (
    TABLE_SUFFIXES,
    Records,
    cell,
    find_columns,
    finish,
    int_text,
    lonlat_points,
    read_records,
)

OPENFLIGHTS_COLUMNS = (
    "Airport ID",
    "Name",
    "City",
    "Country",
    "IATA",
    "ICAO",
    "Latitude",
    "Longitude",
    "Altitude",
    "Timezone",
    "DST",
    "Tz database time zone",
    "Type",
    "Source",
)
OPENFLIGHTS_SKIP_TYPES = frozenset({"station", "port"})
OURAIRPORTS_KEEP = frozenset({"large_airport", "medium_airport", "small_airport"})
OURAIRPORTS_COMMERCIAL_TYPES = frozenset({"large_airport", "medium_airport"})


def read_openflights(path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """OpenFlights airports.dat (headerless or with the documented header) or an OGR file."""
    layer = "airports"
    path = Path(path)
    commercial = _commercial_option(layer, path, cfg)
    rec = _read_openflights_records(layer, path, cfg.get("layer"))
    wanted = {c: c for c in OPENFLIGHTS_COLUMNS} | {"lon": "Longitude", "lat": "Latitude"}
    cols = find_columns(
        layer, path, rec.table, wanted, ("Airport ID", "Name", "IATA", "ICAO"), "an OpenFlights airports file"
    )
    if "Type" in cols:
        kind = rec.table[cols["Type"]].map(cell).str.casefold()
        rec = rec.keep(~kind.isin(OPENFLIGHTS_SKIP_TYPES).to_numpy())
    problems: list[str] = []
    points = lonlat_points(layer, path, rec, cols, problems, ("Longitude", "Latitude"))
    t = rec.table
    iata = [_code(v, 3) for v in t[cols["IATA"]]]
    out = gpd.GeoDataFrame(
        {
            "airport_id": [int_text(cell(v)) or None for v in t[cols["Airport ID"]]],
            "name": [cell(v) or None for v in t[cols["Name"]]],
            "iata": iata,
            "icao": [_code(v, 4) for v in t[cols["ICAO"]]],
            "commercial": np.array([c in (commercial or COMMERCIAL_IATA) for c in iata], dtype=bool),
            "source": "OpenFlights",
        },
        geometry=points,
        crs=WORK_CRS,
    )
    problems += [
        f"{rec.labels[i]}: empty '{cols['Name']}'" for i in np.flatnonzero(out["name"].isna().to_numpy())
    ]
    return finish(layer, out, path, rec.labels, problems)


def read_ourairports(path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """OurAirports airports.csv (or an OGR file with its columns)."""
    layer = "airports"
    path = Path(path)
    commercial = _commercial_option(layer, path, cfg)
    rec = read_records(layer, path, cfg.get("layer"))
    wanted = {
        k: k for k in ("ident", "type", "name", "scheduled_service", "iata_code", "icao_code", "gps_code")
    } | {"lon": "longitude_deg", "lat": "latitude_deg"}
    required = ("ident", "type", "name", "iata_code") + (() if commercial else ("scheduled_service",))
    cols = find_columns(layer, path, rec.table, wanted, required, "an OurAirports airports file")
    rec = rec.keep(rec.table[cols["type"]].map(cell).str.casefold().isin(OURAIRPORTS_KEEP).to_numpy())
    problems: list[str] = []
    points = lonlat_points(layer, path, rec, cols, problems, ("longitude_deg", "latitude_deg"))
    t = rec.table
    kind = t[cols["type"]].map(cell).str.casefold()
    iata = [_code(v, 3) for v in t[cols["iata_code"]]]
    icao = [_code(v, 4) for v in t[cols["icao_code"]]] if "icao_code" in cols else [None] * len(t)
    if "gps_code" in cols:  # older files have no icao_code; gps_code holds the ICAO code there
        icao = [c or _code(g, 4) for c, g in zip(icao, t[cols["gps_code"]], strict=True)]
    if commercial:
        is_commercial = [c in commercial for c in iata]
    else:
        scheduled = t[cols["scheduled_service"]].map(cell).str.casefold() == "yes"
        is_commercial = (kind.isin(OURAIRPORTS_COMMERCIAL_TYPES) & scheduled).tolist()
    out = gpd.GeoDataFrame(
        {
            "airport_id": [cell(v) or None for v in t[cols["ident"]]],
            "name": [cell(v) or None for v in t[cols["name"]]],
            "iata": iata,
            "icao": icao,
            "commercial": np.array(is_commercial, dtype=bool),
            "source": "OurAirports",
        },
        geometry=points,
        crs=WORK_CRS,
    )
    problems += [
        f"{rec.labels[i]}: empty '{cols['name']}'" for i in np.flatnonzero(out["name"].isna().to_numpy())
    ]
    return finish(layer, out, path, rec.labels, problems)


def _read_openflights_records(layer: str, path: Path, source_layer: str | None) -> Records:
    """OpenFlights .dat/.csv with or without the header row, or an OGR file with its columns."""
    if path.suffix.lower() not in TABLE_SUFFIXES:
        return read_records(layer, path, source_layer)
    require_file(layer, path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SourceError(
            layer,
            path,
            f"line {line} is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); OpenFlights files are UTF-8",
        ) from None
    header = text.split("\n", 1)[0].strip().strip('"').casefold().startswith("airport id")
    try:
        table = pd.read_csv(
            io.StringIO(text),
            header=0 if header else None,
            dtype=str,
            keep_default_na=False,
            na_values=["\\N", ""],
        )
        table.attrs["number_format"] = "en"  # OpenFlights: comma-separated, decimal points
    except Exception as exc:
        raise SourceError(layer, path, f"cannot be read as an OpenFlights airports file: {exc}") from exc
    if not header:
        n = table.shape[1]
        if n not in (12, 14):
            raise SourceError(
                layer,
                path,
                f"not an OpenFlights airports.dat: {n} columns, expected 14 "
                f"({', '.join(OPENFLIGHTS_COLUMNS)}) or the first 12",
            )
        table.columns = list(OPENFLIGHTS_COLUMNS[:n])
    first = 2 if header else 1
    return Records(
        table.astype(object).where(table.notna(), None), [f"line {i + first}" for i in range(len(table))]
    )


def _commercial_option(layer: str, path: Path, cfg: dict[str, Any]) -> frozenset[str] | None:
    value = cfg.get("commercial")
    if value is None:
        return None
    if not all(isinstance(v, str) for v in value):
        raise SourceError(
            layer, path, 'option `commercial` must be a list of IATA codes, e.g. ["DUS", "CGN"]'
        )
    return frozenset(v.strip().upper() for v in value)


def _code(v: Any, n: int) -> str | None:
    """An IATA (3) or ICAO (4) code in upper case; None for empty, ``\\N`` or ``-``."""
    text = cell(v).upper()
    return text if re.fullmatch(rf"[A-Z0-9]{{{n}}}", text) else None
