"""The ``db-haltestellen`` format of rail_stations: Deutsche Bahn "Haltestellendaten".

The CSV (``;``, decimal commas, UTF-8 or Windows-1252) with ``EVA_NR, DS100, IFOPT, NAME, Verkehr,
Laenge, Breite, Betreiber_Name, Betreiber_Nr, Status`` (headers matched case-insensitively), or any
OGR file with those columns (e.g. a GeoPackage made from it). ``Laenge``/``Breite`` are WGS84
degrees; an OGR file without them uses its geometry and must have a CRS. ``Verkehr`` values other
than FV, RV and "nur DPN" are errors unless mapped with ``[rail_stations.values.traffic]``.
The file is national: the reader does not clip.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from geo.crs import WORK_CRS
from layers.errors import SourceError
from layers.transport import TRAFFIC
from layers.transport_tables import cell, find_columns, finish, int_text, lonlat_points, read_records

DB_COLUMNS = {
    "eva_nr": "EVA_NR",
    "ds100": "DS100",
    "name": "NAME",
    "traffic": "Verkehr",
    "lon": "Laenge",
    "lat": "Breite",
}


def read_db_stations(path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """Deutsche Bahn Haltestellendaten (CSV or any OGR file with its columns)."""
    layer = "rail_stations"
    path = Path(path)
    rec = read_records(layer, path, cfg.get("layer"))
    cols = find_columns(
        layer, path, rec.table, DB_COLUMNS, ("eva_nr", "name", "traffic"), "a Deutsche Bahn Haltestellen file"
    )
    problems: list[str] = []
    points = lonlat_points(layer, path, rec, cols, problems, ("Laenge", "Breite"))
    values = cfg.get("values", {})
    if set(values) - {"traffic"}:
        raise SourceError(
            layer,
            path,
            f"[rail_stations.values] maps only 'traffic'; found "
            f"{', '.join(sorted(set(values) - {'traffic'}))}",
        )
    mapping = {str(k): str(v) for k, v in values.get("traffic", {}).items()}
    canon = {t.casefold(): t for t in TRAFFIC}
    eva, names, traffic = [], [], []
    rows = rec.table[[cols[k] for k in ("eva_nr", "name", "traffic")]].itertuples(index=False, name=None)
    for label, record in zip(rec.labels, rows, strict=True):
        e, n, v = (cell(x) for x in record)
        e = int_text(e) or ""
        if not re.fullmatch(r"\d{5,9}", e):
            problems.append(
                f"{label}: {e!r} in column '{cols['eva_nr']}' is not an EVA number (digits, e.g. 8000085)"
            )
        if not n:
            problems.append(f"{label}: empty '{cols['name']}'")
        code = canon.get(" ".join(mapping.get(v, v).split()).casefold())
        if code is None:
            problems.append(
                f"{label}: {v!r} in column '{cols['traffic']}' is not one of FV, RV, "
                "nur DPN; map it under [rail_stations.values.traffic] in sources.toml"
            )
        eva.append(e)
        names.append(n or None)
        traffic.append(code)
    ds100 = [cell(x) or None for x in rec.table[cols["ds100"]]] if "ds100" in cols else [None] * len(eva)
    out = gpd.GeoDataFrame(
        {
            "eva_nr": eva,
            "ds100": ds100,
            "name": names,
            "traffic": traffic,
            "long_distance": np.array([t == "FV" for t in traffic], dtype=bool),
            "source": "DB Haltestellendaten",
        },
        geometry=points,
        crs=WORK_CRS,
    )
    return finish(layer, out, path, rec.labels, problems)
