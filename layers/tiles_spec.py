"""What the map archive holds (DESIGN §5.3): its layers, zooms and properties, and their data.

``map.pmtiles`` (written by ``layers/tiles.py``): one PMTiles v3 archive of gzip-compressed Mapbox
Vector Tiles, EPSG:3857 tiling, z5–z14. Its layers (the names and properties are a contract the
web map relies on):

================== ====== ========== ==========================================================
layer              zooms  geometry   properties
================== ====== ========== ==========================================================
site_points        5–9    point      fid (integer: the site's position among the public sites)
sites              10–14  polygon    site_id (string), kind, planning_category, area_ha
municipalities     5–14   polygon    ags, name, kreis_ags (+ fibre_share, mobile_5g_share when
                                     that coverage is a municipal or Kreis statistic)
municipality_labels 5–14  point      ags, name
kreise             5–14   polygon    kreis_ags, kreis_name (municipalities dissolved by Kreis)
kreis_labels       5–14   point      kreis_ags, kreis_name
hydrogen           5–14   line       segment_id, name, kind, commissioning_year (integer),
                                     geometry_quality
lep_sites          5–14   polygon    area_id, name
motorway_junctions 5–14   point      junction_id, name, ref
rail_stations      5–14   point      eva_nr, name, traffic, long_distance
rail_freight       5–14   point      terminal_id, name, type (representative point of an area)
ports              5–14   point      port_id, name (representative point of the port area)
airports           5–14   point      airport_id, name, iata, commercial
================== ====== ========== ==========================================================

Points are representative points (inside the polygon). The points carry only ``fid``, the site's
position among the snapshot's public sites (``/api/sites/table`` has the same ``fid`` per row):
50,000 unique ``site_id`` strings made up two thirds of the first view's tile, and the browser
reads every one of them on its worker and again on its main thread. The map uses ``promoteId``
``fid`` for the points and ``site_id`` for the polygons, with feature-state; ``area_ha`` is rounded to 0.01 ha
(display and styling; the exact figures come from the API). Sites marked ``public = false`` are
left out, and no other site property reaches the tiles.

``tile_layers`` turns the snapshot's layers (EPSG:25832) into these GeoDataFrames in EPSG:4326.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.access import public_mask
from geo.areas import dissolve
from geo.grid import Coverage

Progress = Callable[[str], None]

TILES_FILE = "map.pmtiles"
MINZOOM, MAXZOOM = 5, 14
POINTS_MAXZOOM = 9  # site_points up to here, site polygons from here + 1
CENTER_ZOOM = 7
AREA_DECIMALS = 2
SHARE_DECIMALS = 3

COVERAGE_PROPERTY = {"fibre": "fibre_share", "mobile_5g": "mobile_5g_share"}


@dataclass(frozen=True)
class TileLayer:
    """A layer of the archive: name, zoom range, geometry type and the properties written."""

    name: str
    minzoom: int
    maxzoom: int
    geometry: str
    fields: tuple[str, ...]
    description: str


SITE_FIELDS = ("site_id", "kind", "planning_category", "area_ha")
POINT_FIELDS = ("fid",)
PROMOTE_ID = {"sites": "site_id", "site_points": "fid"}  # the feature-state key per layer
# Transport access (issue 13), drawn as points: (properties, description); the first is the id.
TRANSPORT_FIELDS: dict[str, tuple[tuple[str, ...], str]] = {
    "motorway_junctions": (("junction_id", "name", "ref"), "motorway junctions"),
    "rail_stations": (("eva_nr", "name", "traffic", "long_distance"), "railway stations (DB)"),
    "rail_freight": (("terminal_id", "name", "type"), "rail freight terminals"),
    "ports": (("port_id", "name"), "inland ports"),
    "airports": (("airport_id", "name", "iata", "commercial"), "airports and airfields"),
}
TILE_LAYERS: tuple[TileLayer, ...] = (
    TileLayer(
        "municipalities",
        MINZOOM,
        MAXZOOM,
        "Polygon",
        ("ags", "name", "kreis_ags"),
        "Gemeinden (AGS); fibre_share / mobile_5g_share where coverage is a unit statistic",
    ),
    TileLayer(
        "kreise",
        MINZOOM,
        MAXZOOM,
        "Polygon",
        ("kreis_ags", "kreis_name"),
        "Kreise and kreisfreie Städte (municipalities dissolved by kreis_ags)",
    ),
    TileLayer("lep_sites", MINZOOM, MAXZOOM, "Polygon", ("area_id", "name"), "LEP NRW large sites"),
    TileLayer(
        "hydrogen",
        MINZOOM,
        MAXZOOM,
        "LineString",
        ("segment_id", "name", "kind", "commissioning_year", "geometry_quality"),
        "Wasserstoff-Kernnetz segments",
    ),
    TileLayer("sites", POINTS_MAXZOOM + 1, MAXZOOM, "Polygon", SITE_FIELDS, "candidate sites (polygons)"),
    TileLayer(
        "site_points",
        MINZOOM,
        POINTS_MAXZOOM,
        "Point",
        POINT_FIELDS,
        "candidate sites (one representative point each, by fid)",
    ),
    TileLayer(
        "municipality_labels",
        MINZOOM,
        MAXZOOM,
        "Point",
        ("ags", "name"),
        "label points of the municipalities",
    ),
    TileLayer(
        "kreis_labels", MINZOOM, MAXZOOM, "Point", ("kreis_ags", "kreis_name"), "label points of the Kreise"
    ),
    *(
        TileLayer(name, MINZOOM, MAXZOOM, "Point", fields, description)
        for name, (fields, description) in TRANSPORT_FIELDS.items()
    ),
)
LAYER_ORDER = {spec.name: i for i, spec in enumerate(TILE_LAYERS)}
SPECS = {spec.name: spec for spec in TILE_LAYERS}


# -- the tile layers ------------------------------------------------------------------------
def _wgs84(gdf: gpd.GeoDataFrame, columns: list[str], geometry: Any = None) -> gpd.GeoDataFrame:
    """Columns of ``gdf`` with its geometry (or ``geometry``, in EPSG:25832) in EPSG:4326."""
    geom = gdf.geometry.values if geometry is None else geometry
    out = gpd.GeoDataFrame(
        pd.DataFrame({c: gdf[c].to_numpy() for c in columns}),
        geometry=gpd.GeoSeries(geom, crs=gdf.crs).to_crs(4326).values,
        crs=4326,
    )
    keep = ~(out.geometry.isna() | out.geometry.is_empty).to_numpy()
    return out[keep].reset_index(drop=True)


_Frame = TypeVar("_Frame", bound=pd.DataFrame)


def _strings(df: _Frame, columns: tuple[str, ...]) -> _Frame:
    """Make ``columns`` plain Python strings (None where missing): OGR String fields."""
    for c in columns:
        if c in df.columns:
            df[c] = pd.Series([None if pd.isna(v) else str(v) for v in df[c]], index=df.index, dtype=object)
    return df


def _unit_shares(muni: gpd.GeoDataFrame, coverage: dict[str, Coverage] | None) -> dict[str, np.ndarray]:
    """Per municipality, the share of each coverage layer given as a municipal/Kreis statistic."""
    out: dict[str, np.ndarray] = {}
    for name, cov in (coverage or {}).items():
        if cov.units is None or name not in COVERAGE_PROPERTY:
            continue
        keys = muni["ags"] if cov.resolution == "municipal" else muni["kreis_ags"]
        units = pd.Series(cov.units.to_numpy(float), index=cov.units.index.astype(str))
        units = units[~units.index.duplicated()]
        out[COVERAGE_PROPERTY[name]] = np.round(keys.astype(str).map(units).to_numpy(float), SHARE_DECIMALS)
    return out


def tile_layers(
    layers: dict[str, gpd.GeoDataFrame], sites: gpd.GeoDataFrame, coverage: dict[str, Coverage] | None = None
) -> dict[str, gpd.GeoDataFrame]:
    """The layers of the archive (see the module docstring), in EPSG:4326, without empty ones.

    ``layers`` and ``sites`` are the snapshot's layers in EPSG:25832.
    """
    out: dict[str, gpd.GeoDataFrame] = {}
    if sites is not None and len(sites):
        s = sites[public_mask(sites)]  # non-public sites never reach the public tiles
        s = s.assign(fid=np.arange(len(s)))  # before dropping empty geometries: the table's fid
        s = s[s.geometry.notna().to_numpy() & ~s.geometry.is_empty.to_numpy()]
        poly = _wgs84(s, list(SITE_FIELDS))
        poly["area_ha"] = poly["area_ha"].astype(float).round(AREA_DECIMALS)
        out["sites"] = _strings(poly, ("site_id", "kind", "planning_category"))
        out["site_points"] = _wgs84(s, list(POINT_FIELDS), shapely.point_on_surface(s.geometry.values))
    muni = layers.get("municipalities")
    if muni is not None and len(muni):
        m = _wgs84(muni, ["ags", "name", "kreis_ags"])
        for prop, values in _unit_shares(muni, coverage).items():
            m[prop] = values
        out["municipalities"] = _strings(m, ("ags", "name", "kreis_ags"))
        out["municipality_labels"] = _strings(
            _wgs84(muni, ["ags", "name"], shapely.point_on_surface(muni.geometry.values)), ("ags", "name")
        )
        kreise = _kreise(muni)
        out["kreise"] = _strings(_wgs84(kreise, ["kreis_ags", "kreis_name"]), ("kreis_ags", "kreis_name"))
        out["kreis_labels"] = _strings(
            _wgs84(kreise, ["kreis_ags", "kreis_name"], shapely.point_on_surface(kreise.geometry.values)),
            ("kreis_ags", "kreis_name"),
        )
    h2 = layers.get("hydrogen")
    if h2 is not None and len(h2):
        fields = list(SPECS["hydrogen"].fields)
        h = _wgs84(h2, fields)
        # call-overload: pandas-stubs have no pd.array overload for a float Series to "Int64"
        h["commissioning_year"] = pd.array(  # type: ignore[call-overload]
            pd.to_numeric(h["commissioning_year"], errors="coerce").round(), dtype="Int64"
        )
        out["hydrogen"] = _strings(h, ("segment_id", "name", "kind", "geometry_quality"))
    lep = layers.get("lep_sites")
    if lep is not None and len(lep):
        out["lep_sites"] = _strings(_wgs84(lep, ["area_id", "name"]), ("area_id", "name"))
    for name, (wanted, _) in TRANSPORT_FIELDS.items():
        gdf = layers.get(name)
        if gdf is not None and len(gdf):
            cols = [c for c in wanted if c in gdf.columns]
            pts = _wgs84(gdf, cols, shapely.point_on_surface(gdf.geometry.values))
            out[name] = _strings(pts, tuple(c for c in cols if pts[c].dtype == object))
    return {k: v for k, v in out.items() if len(v)}


def _kreise(muni: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Municipalities dissolved by ``kreis_ags`` (``geo.areas.dissolve``; name: the first
    ``kreis_name`` of the Kreis).
    """
    names = (
        muni["kreis_name"]
        if "kreis_name" in muni.columns
        else pd.Series([None] * len(muni), index=muni.index)
    )
    keys, first, geoms = dissolve(
        shapely.make_valid(muni.geometry.values), muni["kreis_ags"].astype(str).to_numpy()
    )
    return gpd.GeoDataFrame(
        pd.DataFrame({"kreis_ags": keys.tolist(), "kreis_name": names.iloc[first].tolist()}),
        geometry=list(geoms),
        crs=muni.crs,
    )
