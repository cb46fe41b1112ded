"""Reading OpenStreetMap extracts by tag: the shared OSM reader of every OSM-based layer.

An extract is a ``.osm.pbf`` (as published per state, e.g. ``nordrhein-westfalen-latest.osm.pbf``)
or ``.osm`` XML, read with GDAL's OSM driver through pyogrio using the project's
``layers/osmconf.ini``. ``read_osm(layer, path, osm_layer, where)`` reads one of the driver's layers
(``points`` for nodes, ``multipolygons`` for closed ways and multipolygon relations) and returns
its features in EPSG:25832 with one dict of tags per feature. ``where`` is the driver's SQL filter,
applied while reading: it can name the tags that osmconf.ini makes fields (``highway``, ``railway``,
``landuse``, ``industrial``, ``harbour``, …); any other tag is in ``other_tags``, e.g.
``other_tags LIKE '%"power"=>"substation"%'``. The reader then picks its features from the tag
dicts, where every tag is present (fields and ``other_tags`` merged, e.g. ``voltage``).

Helpers for the readers: ``area_ids`` (``way/<id>`` or ``relation/<id>``) and ``polygonal``
(OSM areas that are invalid are repaired with ``make_valid``, polygonal parts kept).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry

from layers.errors import SourceError
from layers.io import require_file, to_work_crs
from layers.schema import POLYGONAL

OSM_CONFIG = "osmconf.ini"
HSTORE = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')


def parse_other_tags(text: Any) -> dict[str, str]:
    """Parse GDAL's ``other_tags`` (HSTORE syntax, ``"k"=>"v","k2"=>"v \\"q\\", x"``) into a dict."""
    if not isinstance(text, str) or not text:
        return {}
    return {_unescape(k): _unescape(v) for k, v in HSTORE.findall(text)}


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s)


def read_osm(
    layer: str, path: Path, osm_layer: str, where: str
) -> tuple[gpd.GeoDataFrame, list[dict[str, str]]]:
    """The features of one OSM layer that match ``where``, EPSG:25832, with their tags.

    Readers that pass the same ``where`` share the pass over the file: a state extract takes
    minutes per pass, so a pass is kept (keyed by path, size, mtime, layer and filter) for the
    other readers of the same build. ``layer`` names the canonical layer in errors.
    """
    path = Path(path)
    if not path.name.lower().endswith((".osm", ".pbf")):
        raise SourceError(
            layer,
            path,
            "an OpenStreetMap extract must be named *.osm (XML) or "
            "*.osm.pbf: GDAL's OSM driver recognises the file by its name "
            "(decompress .osm.bz2 first)",
        )
    require_file(layer, path)
    stat = path.stat()
    try:
        gdf, tags = _osm_pass(str(path.resolve()), stat.st_size, stat.st_mtime_ns, osm_layer, where)
    except Exception as exc:  # pyogrio raises several types; the message is what matters
        raise SourceError(
            layer, path, f"cannot be read as an OpenStreetMap file (layer {osm_layer!r}): {exc}"
        ) from exc
    return gdf.copy(), [dict(t) for t in tags]


@lru_cache(maxsize=2)
def _osm_pass(
    path: str, size: int, mtime_ns: int, osm_layer: str, where: str
) -> tuple[gpd.GeoDataFrame, list[dict[str, str]]]:
    with resources.as_file(resources.files("layers").joinpath(OSM_CONFIG)) as ini:
        gdf = pyogrio.read_dataframe(path, layer=osm_layer, where=where, CONFIG_FILE=str(ini))
    gdf = gdf.reset_index(drop=True)
    if gdf.crs is None:  # the OSM driver always declares WGS84; be safe with odd builds
        gdf = gdf.set_crs(4326)
    fields = [c for c in gdf.columns if c not in ("geometry", "other_tags", "osm_id", "osm_way_id")]
    tags = []
    for record in gdf[fields + (["other_tags"] if "other_tags" in gdf else [])].to_dict("records"):
        t = parse_other_tags(record.pop("other_tags", None))
        t.update({str(k): str(v).strip() for k, v in record.items() if _present(v)})
        tags.append(t)
    return to_work_crs(gdf), tags


def _present(v: Any) -> bool:
    return v is not None and not (isinstance(v, float) and np.isnan(v)) and str(v).strip() != ""


def area_ids(gdf: gpd.GeoDataFrame) -> list[str]:
    """``relation/<id>`` for multipolygon relations, ``way/<id>`` for closed ways."""
    rel = gdf["osm_id"] if "osm_id" in gdf else pd.Series([None] * len(gdf))
    way = gdf["osm_way_id"] if "osm_way_id" in gdf else pd.Series([None] * len(gdf))
    return [
        f"relation/{r}" if _present(r) else f"way/{w}"
        for r, w in zip(rel.tolist(), way.tolist(), strict=True)
    ]


def polygonal(geoms: np.ndarray) -> np.ndarray:
    """2-D, valid, polygonal geometries (OSM areas are sometimes invalid); empty if nothing is left."""
    geoms = shapely.force_2d(geoms)
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        fixed = shapely.make_valid(geoms[bad])
        geoms = geoms.copy()
        geoms[bad] = [_polygon_parts(g) for g in fixed]
    return geoms


def _polygon_parts(g: BaseGeometry) -> BaseGeometry:
    if g.geom_type in POLYGONAL:
        return g
    parts = [p for p in shapely.get_parts(g) if p.geom_type in POLYGONAL]
    polys = [q for p in parts for q in shapely.get_parts(p)]
    return shapely.MultiPolygon(polys) if polys else shapely.MultiPolygon()
