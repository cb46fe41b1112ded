"""Municipalities (Gemeinden) and their Kreise.

Formats:
- ``dvg``: Geobasis NRW DVG (``dvg2gem_nw.shp`` etc.): ``ART`` (G/K/R/L), ``GN`` name, ``KN`` 8-digit
  key, ``STAND``. Kreis names come from the sibling Kreis file (``dvg?krs_nw``) when present, else
  from the built-in fact table. dl-de/zero-2-0.
- ``vg250``: BKG VG250 municipality level: ``AGS``, ``GEN``, ``BEZ``, ``GF`` (4 = land; other
  areas are skipped). dl-de/by-2-0, "© GeoBasis-DE / BKG <year>". Only NRW keys (``05``) are kept.

Output (EPSG:25832): ``ags`` (8-char str), ``name``, ``kreis_ags`` (5), ``kreis_name``, geometry
MultiPolygon.

Built-in facts: ``boundaries()`` and ``kreise()`` decode ``facts/nrw_boundaries.topojson``, the
396 municipalities and 53 Kreise generalised from DVG2 (``coverage_simplify``, 50 m; see
layers/facts/README.md and ``layers/facts/derive_boundaries.py``).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import shapely

from geo.crs import WORK_CRS
from layers.errors import SourceError
from layers.io import read_vector
from layers.schema import check

LAYER = "municipalities"
DEFAULTS = {
    "dvg": {"licence": "dl-de/zero-2-0", "attribution": "© Land NRW (Geobasis NRW), DVG"},
    "vg250": {"licence": "dl-de/by-2-0", "attribution": "© GeoBasis-DE / BKG"},
}


@lru_cache(maxsize=1)
def facts() -> pd.DataFrame:
    """The 396 NRW municipalities as facts: AGS, name, Kreis, representative point, area.

    Derived from Geobasis NRW DVG2 (STAND 2022-03-08, dl-de/zero-2-0); see layers/facts/README.md.
    """
    with resources.files("layers").joinpath("facts/nrw_municipalities.csv").open("rb") as f:
        return pd.read_csv(f, dtype={"ags": str, "kreis_ags": str})


BOUNDARIES_FILE = "facts/nrw_boundaries.topojson"
BOUNDARIES_LICENCE = "dl-de/zero-2-0"
BOUNDARIES_ATTRIBUTION = (
    "© Land NRW (Geobasis NRW), DVG2 (STAND 2022-03-08), dl-de/zero-2-0; generalised (coverage_simplify 50 m)"
)


@lru_cache(maxsize=1)
def _topology() -> dict[str, Any]:
    with resources.files("layers").joinpath(BOUNDARIES_FILE).open("rb") as f:
        topo: dict[str, Any] = orjson.loads(f.read())
    return topo


def _decode(topo: dict[str, Any], name: str) -> tuple[list[dict[str, Any]], list[shapely.Geometry]]:
    """Properties and MultiPolygons of one TopoJSON object (quantised, delta-encoded arcs)."""
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = [np.cumsum(np.asarray(a, dtype=np.float64), axis=0) * (sx, sy) + (tx, ty) for a in topo["arcs"]]

    def ring(refs: list[int]) -> np.ndarray:
        parts = [arcs[r] if r >= 0 else arcs[~r][::-1] for r in refs]
        return np.vstack([parts[0]] + [p[1:] for p in parts[1:]])

    props: list[dict[str, Any]] = []
    geoms: list[shapely.Geometry] = []
    for g in topo["objects"][name]["geometries"]:
        polys = g["arcs"] if g["type"] == "MultiPolygon" else [g["arcs"]]
        geoms.append(
            shapely.MultiPolygon([shapely.Polygon(ring(p[0]), [ring(h) for h in p[1:]]) for p in polys])
        )
        props.append(g["properties"])
    return props, geoms


@lru_cache(maxsize=1)
def _boundaries() -> gpd.GeoDataFrame:
    props, geoms = _decode(_topology(), "municipalities")
    df = pd.DataFrame(props)
    k = _kreise_frame()
    df["kreis_name"] = df["kreis_ags"].map(dict(zip(k["kreis_ags"], k["name"], strict=True)))
    return gpd.GeoDataFrame(
        df[["ags", "name", "kreis_ags", "kreis_name", "area_m2_dvg2"]], geometry=geoms, crs=WORK_CRS
    )


@lru_cache(maxsize=1)
def _kreise_frame() -> gpd.GeoDataFrame:
    props, geoms = _decode(_topology(), "kreise")
    return gpd.GeoDataFrame(pd.DataFrame(props), geometry=geoms, crs=WORK_CRS)


def boundaries() -> gpd.GeoDataFrame:
    """The 396 municipalities with their generalised DVG2 boundaries (EPSG:25832): ``ags``,
    ``name``, ``kreis_ags``, ``kreis_name``, ``area_m2_dvg2`` (the official area), geometry.

    The polygons form an exact coverage (shared edges, no gaps or overlaps). A copy each call.
    """
    return _boundaries().copy()


def kreise() -> gpd.GeoDataFrame:
    """The 53 Kreise (the union of their municipalities, EPSG:25832): ``kreis_ags``, ``name``,
    ``area_m2_dvg2``, geometry. A copy each call.
    """
    return _kreise_frame().copy()


def kreis_names() -> dict[str, str]:
    """Map 5-digit Kreis keys to names, from the fact table."""
    f = facts()
    return dict(zip(f["kreis_ags"], f["kreis_name"], strict=True))


def _finish(gdf: gpd.GeoDataFrame, names: dict[str, str], path: Path) -> gpd.GeoDataFrame:
    gdf["kreis_ags"] = gdf["ags"].str[:5]
    gdf["kreis_name"] = gdf["kreis_ags"].map(names)
    gdf = gdf.dissolve(by="ags", as_index=False, aggfunc="first") if gdf["ags"].duplicated().any() else gdf
    gdf.geometry = gdf.geometry.map(
        lambda g: g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g])
    )
    out = gdf[["ags", "name", "kreis_ags", "kreis_name", "geometry"]].sort_values("ags")
    return check(LAYER, out.reset_index(drop=True), path)


def _keys(layer_df: pd.DataFrame, column: str, path: Path) -> pd.Series:
    col = layer_df[column]
    if pd.api.types.is_numeric_dtype(col):
        raise SourceError(
            LAYER,
            path,
            f"column {column} holds numbers (e.g. {col.iloc[0]}); AGS keys "
            "must be 8-character strings with a leading zero",
        )
    return col.astype(str).str.strip()


def read_dvg(path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """Read DVG Gemeinden (ART = G); Kreis names from the sibling Kreis file or the facts."""
    src = read_vector(LAYER, path, cfg.get("layer"))
    missing = [c for c in ("GN", "KN") if c not in src.columns]
    if missing:
        raise SourceError(LAYER, path, f"not a DVG file: missing columns {', '.join(missing)}")
    if "ART" in src.columns:
        src = src[src["ART"].isin(["G"]) | src["ART"].isna()]
    gdf = gpd.GeoDataFrame(
        {"ags": _keys(src, "KN", path), "name": src["GN"]}, geometry=src.geometry.values, crs=src.crs
    )
    names = kreis_names()
    sibling = path.with_name(path.name.replace("gem", "krs"))
    if sibling != path and sibling.exists():
        krs = read_vector(LAYER, sibling)
        if not {"KN", "GN"} <= set(krs.columns):
            raise SourceError(LAYER, sibling, "not a DVG Kreis file: columns KN and GN are needed")
        names |= dict(zip(krs["KN"].astype(str).str[:5], krs["GN"], strict=True))
    return _finish(gdf, names, path)


def read_vg250(path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """Read VG250 Gemeinden: land areas only (GF = 4), NRW keys only."""
    src = read_vector(LAYER, path, cfg.get("layer"))
    missing = [c for c in ("AGS", "GEN") if c not in src.columns]
    if missing:
        raise SourceError(LAYER, path, f"not a VG250 file: missing columns {', '.join(missing)}")
    if "GF" in src.columns:
        src = src[src["GF"].astype(str) == "4"]
    ags = _keys(src, "AGS", path)
    keep = ags.str.startswith("05").to_numpy()
    src, ags = src[keep], ags[keep]
    if not len(src):
        raise SourceError(LAYER, path, "no NRW municipalities (AGS starting with 05) with GF = 4")
    gdf = gpd.GeoDataFrame(
        {"ags": ags.to_numpy(), "name": src["GEN"].to_numpy()}, geometry=src.geometry.values, crs=src.crs
    )
    return _finish(gdf, kreis_names(), path)
