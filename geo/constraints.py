"""Which constraint areas (Natura 2000 sites, floodplains, …) a site overlaps, by name.

The detail panel warns "in FFH-Gebiet Lippeaue" when a site lies (partly) in a constraint area;
``covering_names`` gives, per site, the names of the areas it overlaps, largest overlap first.
The shares themselves come from ``geo.measures.CoveredShare``. All in EPSG:25832 metres.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely


def covering_names(
    site_geoms: np.ndarray | Sequence[shapely.Geometry] | gpd.GeoSeries,
    layer_gdf: gpd.GeoDataFrame,
    name_column: str,
    min_area_m2: float = 0.0,
) -> list[list[str]]:
    """The names of the layer's areas each site overlaps, largest overlap first.

    Areas of the same name count together (a floodplain split into several polygons is one
    name). Areas without a name, and overlaps of no more than ``min_area_m2`` (a site that only
    touches an area), are left out; ties are broken by name. One list per site, in site order.
    """
    sites = np.asarray(site_geoms, dtype=object)
    out: list[list[str]] = [[] for _ in range(len(sites))]
    if not len(sites) or not len(layer_gdf):
        return out
    areas = np.asarray(layer_gdf.geometry.values, dtype=object)
    names = layer_gdf[name_column].to_numpy(object)
    s, a = shapely.STRtree(areas).query(sites, predicate="intersects")
    if not len(s):
        return out
    overlap = shapely.area(shapely.intersection(sites[s], areas[a]))
    pairs = pd.DataFrame({"site": s, "name": names[a], "area": overlap})
    pairs = pairs[pairs["name"].map(lambda v: isinstance(v, str) and bool(v.strip()))]
    pairs = pairs.groupby(["site", "name"])["area"].sum().reset_index()
    pairs = pairs[pairs["area"] > min_area_m2]
    pairs = pairs.sort_values(["site", "area", "name"], ascending=[True, False, True])
    for site, name in zip(pairs["site"].to_numpy(int), pairs["name"].to_numpy(object), strict=True):
        out[site].append(str(name))
    return out
