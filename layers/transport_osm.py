"""The ``osm`` format of motorway_junctions, ports and rail_freight: an OpenStreetMap extract.

Read with the shared OSM reader (``layers/osm.py``); ``OSM_WHERE`` makes GDAL keep the transport
features of both passes while reading, and each reader then picks its own features by tag. Taken:

- motorway_junctions: ``highway=motorway_junction`` nodes (OSM also uses this tag on
  motorway-like trunk roads; those are kept);
- ports: areas (ways and multipolygon relations) with ``landuse=port`` or ``industrial=port``
  (name optional), or ``harbour=yes`` with a name and not a marina (``leisure=marina`` or a
  ``harbour:category``/``seamark:harbour:category`` of marina); port nodes are not read;
- rail_freight: nodes and areas with ``railway=container_terminal`` or
  ``industrial=intermodal_freight_terminal``, and ``railway=yard`` with a name.

The three readers share two passes over the file (points, multipolygons): they pass the same
filter per OSM layer, so a pass is read once per build. OSM geometries that are invalid are
repaired (``make_valid``, polygonal parts kept).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import WORK_CRS
from layers import transport  # noqa: F401  # registers the transport schemas that check() reads
from layers.osm import area_ids, polygonal, read_osm
from layers.schema import check

# what GDAL keeps while reading (fields of osmconf.ini); each reader then picks its own features
OSM_WHERE = {
    "points": "highway = 'motorway_junction' OR railway IN ('container_terminal', 'yard') "
    "OR industrial = 'intermodal_freight_terminal'",
    "multipolygons": "landuse = 'port' OR industrial IN ('port', 'intermodal_freight_terminal') "
    "OR harbour = 'yes' OR railway IN ('container_terminal', 'yard')",
}
OSM_SOURCE = "OpenStreetMap"
MARINA = re.compile(r"marina|yacht", re.IGNORECASE)


def read_osm_junctions(path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """``highway=motorway_junction`` nodes of an OSM extract."""
    layer = "motorway_junctions"
    gdf, tags = _read_osm(layer, path, "points")
    keep = np.array([t.get("highway") == "motorway_junction" for t in tags], dtype=bool)
    gdf, tags = gdf[keep], [t for t, k in zip(tags, keep, strict=True) if k]
    out = gpd.GeoDataFrame(
        {
            "junction_id": [f"node/{i}" for i in gdf["osm_id"]],
            "name": [t.get("name") for t in tags],
            "ref": [t.get("ref") for t in tags],
            "source": OSM_SOURCE,
        },
        geometry=shapely.force_2d(gdf.geometry.values),
        crs=WORK_CRS,
    )
    return check(layer, out, path)


def read_osm_ports(path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """Inland port areas of an OSM extract (see the module docstring for the tags)."""
    layer = "ports"
    gdf, tags = _read_osm(layer, path, "multipolygons")
    keep = np.array([_is_port(t) for t in tags], dtype=bool)
    gdf, tags = gdf[keep], [t for t, k in zip(tags, keep, strict=True) if k]
    out = gpd.GeoDataFrame(
        {
            "port_id": area_ids(gdf),
            "name": [t.get("name") for t in tags],
            "source": OSM_SOURCE,
        },
        geometry=polygonal(np.asarray(gdf.geometry.values)),
        crs=WORK_CRS,
    )
    return check(layer, out[~shapely.is_empty(out.geometry.values)].reset_index(drop=True), path)


def read_osm_rail_freight(path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """Container and intermodal terminals (nodes and areas) and named yards of an OSM extract."""
    layer = "rail_freight"
    frames = []
    for osm_layer in ("points", "multipolygons"):
        gdf, tags = _read_osm(layer, path, osm_layer)
        types = [_freight_type(t) for t in tags]
        keep = np.array([t is not None for t in types], dtype=bool)
        gdf = gdf[keep]
        tags = [t for t, k in zip(tags, keep, strict=True) if k]
        if osm_layer == "points":
            ids = [f"node/{i}" for i in gdf["osm_id"]]
            geoms = shapely.force_2d(gdf.geometry.values)
        else:
            ids = area_ids(gdf)
            geoms = polygonal(np.asarray(gdf.geometry.values))
        frames.append(
            gpd.GeoDataFrame(
                {
                    "terminal_id": ids,
                    "name": [t.get("name") for t in tags],
                    "type": [t for t in types if t is not None],
                    "source": OSM_SOURCE,
                },
                geometry=geoms,
                crs=WORK_CRS,
            )
        )
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=WORK_CRS)
    return check(layer, out[~shapely.is_empty(out.geometry.values)].reset_index(drop=True), path)


def _read_osm(layer: str, path: Path, osm_layer: str) -> tuple[gpd.GeoDataFrame, list[dict[str, str]]]:
    """The transport features of one OSM layer (``OSM_WHERE``), EPSG:25832, with their tags."""
    return read_osm(layer, path, osm_layer, OSM_WHERE[osm_layer])


def _is_port(t: dict[str, str]) -> bool:
    if t.get("landuse") == "port" or t.get("industrial") == "port":
        return True
    if t.get("harbour") != "yes" or not t.get("name"):
        return False
    category = t.get("harbour:category", "") + " " + t.get("seamark:harbour:category", "")
    return t.get("leisure") != "marina" and not MARINA.search(category)


def _freight_type(t: dict[str, str]) -> str | None:
    if t.get("railway") == "container_terminal":
        return "container_terminal"
    if t.get("industrial") == "intermodal_freight_terminal":
        return "intermodal_freight_terminal"
    if t.get("railway") == "yard" and t.get("name"):
        return "yard"
    return None
