"""Industrial neighbours (issue 21 §3): installations with their excess heat, layer ``industrial_heat``.

The source is the **Hotmaps Industrial Database** (Fraunhofer ISI for the EU Horizon 2020 project
Hotmaps; gitlab.com/hotmaps/industrial_sites/industrial_sites_Industrial_Database): EU ETS and
E-PRTR installations of energy-intensive industry with emissions (2014), production, fuel demand
and the excess heat estimated from them. Licence CC BY 4.0, "© 2016-2018: Pia Manz, Tobias
Fleiter" (see layers/facts/README.md, "Industrial excess heat", for how this was established).

Formats:

- ``hotmaps``: the official ``Industrial_Database.csv``: ``;``-separated, quoted text, ``.``
  decimals, one row per installation with ``SiteID``, ``CompanyName``, ``SiteName``, ``City``,
  ``Country``, ``geom`` as EWKT (``SRID=4326;POINT(lon lat)``), ``Subsector`` and
  ``Excess_Heat_100-200C``, ``Excess_Heat_200-500C``, ``Excess_Heat_500C``,
  ``Excess_Heat_Total``. Rows without ``geom`` (524 of the 5,029 EU rows) cannot be placed and
  are skipped; installations farther than 10 km from NRW's outline are left out. The counts are
  in ``gdf.attrs``.
- ``facts`` (no path): ``layers/facts/industrial_heat.csv``, the 298 installations of NRW + 10 km
  derived from the real file by ``layers/facts/derive_industrial_heat.py``. The embedded demo uses
  these real facts, not a synthetic stand-in.

Units: Hotmaps publishes excess heat in **GWh per year** (the Hotmaps toolbox reports the
columns unconverted as "GWh/yr"), so ``excess_heat_gwh`` is ``Excess_Heat_Total`` unchanged. A
``0`` is kept as 0: Hotmaps writes 0.00 where it made no estimate (all chemical, other mineral,
non-ferrous and refinery sites, and sites without a fuel demand: 235 of the 298), so 0 means "no
estimate", and the sum within a radius counts it as nothing. An empty
cell stays NaN (unknown); sums skip it too.

Output (EPSG:25832, points): ``installation_id`` (the Hotmaps SiteID), ``name`` (site name, else
the company), ``company``, ``sector`` (the Hotmaps Subsector), ``excess_heat_gwh`` (float,
GWh/a), ``city``, ``country``, ``source``.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import WORK_CRS, transformer
from layers.demo import nrw_outline
from layers.errors import SourceError
from layers.io import parse_number, read_table
from layers.schema import Schema, check
from layers.sources import Format, LayerSpec, register_layer

LAYER = "industrial_heat"
FACTS_FILE = "facts/industrial_heat.csv"
CLIP_KM = 10.0  # installations within this distance of NRW's outline are kept
SCHEMA = Schema(
    "installation_id",
    ("installation_id", "name", "company", "sector", "excess_heat_gwh", "city", "country", "source"),
    ("Point",),
    nullable=("name", "company", "excess_heat_gwh", "city", "country"),
)
LICENCE = "CC BY 4.0"
ATTRIBUTION = (
    "Hotmaps Industrial Database, © 2016-2018 Pia Manz, Tobias Fleiter (Fraunhofer ISI), "
    "Hotmaps project (EU Horizon 2020, grant 723677)"
)
DEFAULTS = {
    "hotmaps": {"licence": LICENCE, "attribution": ATTRIBUTION},
    "facts": {
        "licence": LICENCE,
        "attribution": ATTRIBUTION
        + "; modified: subset NRW + 10 km, reduced columns (NRW Site Finder fact table)",
    },
}
SOURCE = "Hotmaps Industrial Database"
FACTS_SOURCE = (
    "layers/facts/industrial_heat.csv: Hotmaps Industrial Database "
    "(gitlab.com/hotmaps/industrial_sites/industrial_sites_Industrial_Database), "
    "the 298 installations in NRW + 10 km"
)

# Hotmaps header -> our key; the first four are required
COLUMNS = {
    "id": "SiteID",
    "geom": "geom",
    "sector": "Subsector",
    "heat": "Excess_Heat_Total",
    "company": "CompanyName",
    "site": "SiteName",
    "city": "City",
    "country": "Country",
}
REQUIRED = ("id", "geom", "sector", "heat")
EWKT = re.compile(r"^\s*SRID=(\d+)\s*;\s*(.*?)\s*$", re.IGNORECASE | re.DOTALL)
SITE_ID = re.compile(r"^\d{1,12}$")
SHOW = 60  # characters of a bad cell echoed in an error


def read_hotmaps(path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """Read the official Hotmaps ``Industrial_Database.csv``; NRW + 10 km, EPSG:25832.

    Every row problem is reported at once with its line: an empty SiteID or Subsector, a
    ``geom`` that is not EWKT with SRID=4326 or not a WKT point in degrees, and an excess heat
    that is not a number (``.`` decimals) or is negative, a SiteID that is not a whole number.
    """
    table = read_table(LAYER, path)
    cols = _columns(path, table)
    labels = [f"line {i + 2}" for i in range(len(table))]
    problems: list[str] = []
    keep = np.zeros(len(table), dtype=bool)
    lonlat = np.full((len(table), 2), np.nan)
    heat = np.full(len(table), np.nan)

    cells = {key: [_text(v) for v in table[col].tolist()] for key, col in cols.items()}

    def cell(key: str, i: int) -> str | None:
        return cells[key][i] if key in cells else None

    for i, label in enumerate(labels):
        site_id = cell("id", i)
        if site_id is None:
            problems.append(f"{label}: empty '{cols['id']}'")
        elif not SITE_ID.match(site_id):
            problems.append(f"{label}: {_show(site_id)} in '{cols['id']}' is not a whole number")
        if cell("sector", i) is None:
            problems.append(f"{label}: empty '{cols['sector']}'")
        raw_heat = cell("heat", i)
        try:
            heat[i] = parse_number(raw_heat, "en")
        except ValueError:
            problems.append(
                f"{label}: {_show(raw_heat)} in '{cols['heat']}' is not a number (GWh/a, '.' decimals)"
            )
        if heat[i] < 0:
            problems.append(f"{label}: negative excess heat {heat[i]:g} in '{cols['heat']}'")
        geom = cell("geom", i)
        if geom is None:
            continue  # no location in Hotmaps: cannot be placed (counted below)
        point, why = _parse_geom(geom)
        if why:
            problems.append(f"{label}: {why}")
        else:
            lonlat[i] = point
            keep[i] = True
    if problems:
        raise SourceError(LAYER, path, problems)

    no_geom = int((~keep).sum())
    x, y = transformer(4326, 25832).transform(lonlat[keep, 0], lonlat[keep, 1])
    points = shapely.points(x, y)
    rows = np.flatnonzero(keep)
    near = shapely.dwithin(nrw_outline(), points, CLIP_KM * 1000.0)
    rows, points = rows[near], points[near]

    def column(key: str) -> list[str | None]:
        return [cell(key, i) for i in rows]

    site, company = column("site"), column("company")
    out = gpd.GeoDataFrame(
        {
            "installation_id": column("id"),
            "name": [s or c for s, c in zip(site, company, strict=True)],
            "company": company,
            "sector": column("sector"),
            "excess_heat_gwh": heat[rows],
            "city": column("city"),
            "country": column("country"),
            "source": SOURCE,
        },
        geometry=points,
        crs=WORK_CRS,
    )
    out.attrs.update(skipped_no_geometry=no_geom, skipped_outside=int((~near).sum()))
    return check(LAYER, out, path, row_labels=[labels[i] for i in rows])


def read_facts(path: Path | None = None, cfg: dict[str, Any] | None = None) -> gpd.GeoDataFrame:
    """The built-in fact table: the 298 Hotmaps installations of NRW + 10 km (no file is read)."""
    with resources.files("layers").joinpath(FACTS_FILE).open("rb") as f:
        facts = pd.read_csv(f, dtype=str, keep_default_na=False, na_values=[""])
    x, y = transformer(4326, 25832).transform(
        facts["lon"].astype(float).to_numpy(), facts["lat"].astype(float).to_numpy()
    )

    def text(col: str) -> list[str | None]:
        return [None if pd.isna(v) else str(v) for v in facts[col]]

    out = gpd.GeoDataFrame(
        {
            "installation_id": text("installation_id"),
            "name": text("name"),
            "company": text("company"),
            "sector": text("sector"),
            "excess_heat_gwh": facts["excess_heat_gwh"].astype(float).to_numpy(),
            "city": text("city"),
            "country": text("country"),
            "source": SOURCE,
        },
        geometry=shapely.points(x, y),
        crs=WORK_CRS,
    )
    return check(LAYER, out, f"layers/{FACTS_FILE}")


def demo(rng: np.random.Generator, municipalities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The embedded demo's layer: the real fact table (``rng`` and ``municipalities`` unused)."""
    return read_facts()


def _columns(path: Path, table: pd.DataFrame) -> dict[str, str]:
    """Our keys -> the file's headers (case and spaces ignored); refuse missing required ones."""
    headers = {str(h).strip().casefold(): str(h) for h in table.columns}
    found = {key: headers[h.casefold()] for key, h in COLUMNS.items() if h.casefold() in headers}
    missing = [COLUMNS[k] for k in REQUIRED if k not in found]
    if missing:
        has = ", ".join(repr(str(c)[:40]) for c in list(table.columns)[:25])
        more = f" (+{len(table.columns) - 25} more)" if len(table.columns) > 25 else ""
        raise SourceError(
            LAYER,
            path,
            f"not a Hotmaps Industrial Database CSV: missing column(s) "
            f"{', '.join(repr(m) for m in missing)}; the file has: {has}{more}",
        )
    return found


def _parse_geom(text: str) -> tuple[tuple[float, float], str]:
    """(lon, lat) from ``SRID=4326;POINT(lon lat)``, or the reason it is refused."""
    m = EWKT.match(text)
    if m is None:
        return (np.nan, np.nan), f"geom {_show(text)} is not EWKT like 'SRID=4326;POINT(6.77 51.23)'"
    if m.group(1) != "4326":
        return (np.nan, np.nan), (
            f"geom has SRID={m.group(1)[:10]}; the Hotmaps database gives WGS84 longitude/latitude "
            "(SRID=4326)"
        )
    try:
        geom = shapely.from_wkt(m.group(2))
    except shapely.errors.GEOSException:
        return (np.nan, np.nan), f"geom {_show(m.group(2))} is not valid WKT"
    if geom is None or geom.geom_type != "Point" or geom.is_empty:
        return (np.nan, np.nan), f"geom {_show(m.group(2))} is not a point"
    lon, lat = float(geom.x), float(geom.y)  # type: ignore[attr-defined]  # a Point, checked above
    if not (np.isfinite(lon) and np.isfinite(lat) and abs(lon) <= 180 and abs(lat) <= 90):
        return (np.nan, np.nan), f"geom {_show(m.group(2))} is not in degrees (longitude, latitude)"
    return (lon, lat), ""


def _text(value: object) -> str | None:
    """A cell as stripped text; None when empty."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _show(value: object) -> str:
    text = "" if value is None else str(value)
    return repr(text[:SHOW] + ("…" if len(text) > SHOW else ""))


register_layer(
    LayerSpec(
        LAYER,
        formats={
            "hotmaps": Format(read_hotmaps, LICENCE, DEFAULTS["hotmaps"]["attribution"]),
            "facts": Format(read_facts, LICENCE, DEFAULTS["facts"]["attribution"], needs_path=False),
        },
        schema=SCHEMA,
        demo=demo,
        note=(
            "industrial_heat: REAL facts, not synthetic: the 298 installations of the Hotmaps "
            "Industrial Database in NRW + 10 km with their excess heat (GWh/a)"
        ),
        demo_real={
            "licence": LICENCE,
            "attribution": DEFAULTS["facts"]["attribution"],
            "source": FACTS_SOURCE,
        },
    )
)
