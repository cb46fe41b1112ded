"""The four LEP NRW sites for land-intensive large projects (LEP NRW Ziel 6.4-1).

Formats:
- ``facts``: the built-in fact table below (no file). Positions are approximate to 1–2 km and the
  geometry is a circle of the reported planning area around that point, flagged in ``accuracy``.
- ``mapped``: official geometries (e.g. the LEP Festlegungen from geoportal.nrw) via column mapping.

Output (EPSG:25832): ``area_id``, ``name``, ``municipalities``, ``area_ha_reported``, ``accuracy``,
geometry (Polygon).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely

from geo.crs import WORK_CRS, transformer
from layers.io import read_vector
from layers.mapping import apply_mapping
from layers.schema import check

LAYER = "lep_sites"
DEFAULTS = {
    "facts": {
        "licence": "facts (no third-party geometry)",
        "attribution": "LEP NRW Ziel 6.4-1; positions approximate (NRW Site Finder fact table)",
    },
    "mapped": {"licence": "dl-de/by-2-0", "attribution": "Land NRW, LEP NRW"},
}
APPROXIMATE = "approximate: circle of the reported area around a point placed to ±1–2 km"

# (area_id, name, municipalities, area_ha_reported, lon, lat, source)
SITES: tuple[tuple[str, str, str, float, float, float, str], ...] = (
    (
        "LEP-DAT",
        "newPark Datteln/Waltrop",
        "Datteln; Waltrop",
        290.0,
        7.40,
        51.65,
        "LEP NRW Ziel 6.4-1; newPark planning area ~290 ha, 156 ha marketable (newPark GmbH)",
    ),
    (
        "LEP-EU",
        "Prime Site Rhine Region Euskirchen/Weilerswist",
        "Euskirchen; Weilerswist",
        220.0,
        6.80,
        50.69,
        "LEP NRW Ziel 6.4-1; ~220 ha (Kreis Euskirchen)",
    ),
    (
        "LEP-GK",
        "Future Site InWest Geilenkirchen-Lindern",
        "Geilenkirchen",
        240.0,
        6.185,
        50.995,
        "LEP NRW Ziel 6.4-1; ~240 ha (Kreis Heinsberg)",
    ),
    (
        "LEP-GV",
        "Grevenbroich-Neurath",
        "Grevenbroich",
        325.0,
        6.625,
        51.05,
        "LEP NRW Ziel 6.4-1; ~300–350 ha between Neurath and Allrath (Rhein-Kreis Neuss)",
    ),
)


def read_facts(path: Path | None, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """Build the four LEP sites from the fact table (no file is read)."""
    to_utm = transformer(4326, 25832)
    rows, geoms = [], []
    for area_id, name, munis, area_ha, lon, lat, source in SITES:
        x, y = to_utm.transform(lon, lat)
        radius = math.sqrt(area_ha * 10_000 / math.pi)
        geoms.append(shapely.Point(x, y).buffer(radius, quad_segs=16))
        rows.append(
            {
                "area_id": area_id,
                "name": name,
                "municipalities": munis,
                "area_ha_reported": area_ha,
                "accuracy": APPROXIMATE,
                "source": source,
            }
        )
    return check(LAYER, gpd.GeoDataFrame(rows, geometry=geoms, crs=WORK_CRS))


def read_mapped(path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """Read official LEP geometries from any OGR file with a column mapping."""
    src = read_vector(LAYER, path, cfg.get("layer"))
    out = apply_mapping(
        LAYER,
        src,
        cfg,
        path,
        fill={"municipalities": None, "area_ha_reported": None, "accuracy": "official", "name": None},
    )
    return check(LAYER, out, path)
