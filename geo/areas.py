"""Area geometry: municipalities, Kreise and the state, and which sites and features lie in them.

An area is a municipality (8-digit AGS), a Kreis (5-digit key) or North Rhine-Westphalia, made of
rows of the municipalities layer. A site lies in every area whose interior its interior overlaps
(touching along a boundary does not count): the overlaps are ``geo.indicators.unit_overlaps``,
the same that give each site its ``ags``. A site crosses an area's boundary when it also overlaps
another municipality or lies partly outside every municipality (outside NRW).

Also here, once: the dissolve of municipalities into Kreise or the state (``union``,
``dissolve``), the export order of an area's sites (ranked ones by rank, then the others by
site_id), the features of a context layer an area's export shows, and the distance from a site
to the nearest LEP large site.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from geo.criteria import H2_ZERO_KM
from geo.errors import NotFound
from geo.indicators import unit_overlaps

AreaKind = Literal["municipality", "kreis", "nrw", "selection"]  # selection: chosen sites
NRW_KEY = "05"
NRW_NAME = "Nordrhein-Westfalen"
Rows = NDArray[np.int64]
Geoms = NDArray[np.object_]


# -- dissolve -----------------------------------------------------------------------------------
def union(geoms: ArrayLike) -> shapely.Geometry:
    """The union of polygons that form a coverage (municipalities: shared edges, no overlaps).

    ``coverage_union_all`` is about 20 times faster than ``union_all`` on the municipalities and
    gives the same polygon; parts that are no coverage (the union is then invalid or GEOS
    refuses it) are unioned with ``union_all``.
    """
    parts = np.asarray(geoms, dtype=object)
    try:
        out = shapely.coverage_union_all(parts)
        if shapely.is_valid(out):
            return out
    except shapely.errors.GEOSException:
        pass
    return shapely.union_all(parts)


def dissolve(geoms: ArrayLike, keys: ArrayLike) -> tuple[NDArray[Any], Rows, Geoms]:
    """Polygons dissolved by key (municipalities into Kreise, or into any region).

    Returns the distinct keys (sorted), the first row of each key (for its other attributes)
    and the union of each key's polygons.
    """
    parts = np.asarray(geoms, dtype=object)
    k = np.asarray(keys)
    order = np.argsort(k, kind="stable")
    uniq, start = np.unique(k[order], return_index=True)
    out = np.empty(len(uniq), dtype=object)
    for i, rows in enumerate(np.split(order, start[1:])):
        out[i] = union(parts[rows])
    return uniq, order[start].astype(np.int64), out


# -- areas --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Area:
    """A municipality, a Kreis or the state: its key, name and municipality rows."""

    kind: AreaKind
    key: str
    name: str
    units: Rows  # rows of the municipalities layer
    kreis: str | None = None

    @property
    def slug(self) -> str:
        """The file name stem: the AGS, the Kreis key or ``nrw``."""
        return "nrw" if self.kind == "nrw" else self.key


@dataclass(frozen=True)
class AreaSites:
    """The sites of an area in export order, with per site whether it crosses the area's
    boundary and its rank within the area (0: not ranked).
    """

    rows: Rows
    crosses: NDArray[np.bool_]
    rank: Rows


def export_order(rank: NDArray[Any], rows: Rows, site_ids: NDArray[Any]) -> Rows:
    """``rows`` in export order: the ranked ones by ``rank`` (0 = not ranked), then the others by
    site_id.
    """
    r = rank[rows]
    ranked = rows[r > 0][np.argsort(r[r > 0], kind="stable")]
    other = rows[r == 0]
    return np.concatenate([ranked, other[np.argsort(site_ids[other], kind="stable")]]).astype(np.int64)


class AreaIndex:
    """Which municipalities each site overlaps, and the areas built from them.

    Built from a snapshot's layers (``municipalities``, ``sites`` and the context layers); the
    overlaps, the state's outline and each layer's STRtree are computed on first use and kept.
    """

    def __init__(self, layers: Mapping[str, gpd.GeoDataFrame]):
        self._layers = layers
        self._outline: dict[str, shapely.Geometry] = {}
        self._trees: dict[str, tuple[Geoms, shapely.STRtree]] = {}

    @cached_property
    def _muni(self) -> gpd.GeoDataFrame:
        return self._layers["municipalities"]

    @cached_property
    def units(self) -> Geoms:
        """The municipalities' polygons."""
        return np.asarray(self._muni.geometry.values, dtype=object)

    @cached_property
    def ags(self) -> NDArray[np.object_]:
        """The AGS of each municipality."""
        return self._muni["ags"].astype(str).to_numpy(object)

    @cached_property
    def names(self) -> NDArray[np.object_]:
        """The name of each municipality."""
        return self._muni["name"].to_numpy(object)

    @cached_property
    def kreis_ags(self) -> NDArray[np.object_]:
        """The Kreis key of each municipality."""
        return self._muni["kreis_ags"].astype(str).to_numpy(object)

    @cached_property
    def kreis_names(self) -> NDArray[np.object_]:
        """The Kreis name of each municipality."""
        return self._muni["kreis_name"].to_numpy(object)

    @cached_property
    def state(self) -> shapely.Geometry:
        """The union of all municipalities (prepared)."""
        state = union(self.units)
        shapely.prepare(state)
        return state

    @cached_property
    def _overlaps(self) -> tuple[Rows, Rows, Rows, NDArray[np.bool_]]:
        """Site and unit of every overlapping pair, the number of units per site and whether
        each site lies partly outside every municipality.
        """
        sites = np.asarray(self._layers["sites"].geometry.values, dtype=object)
        pairs = unit_overlaps(sites, self.units)
        site = pairs["site"].to_numpy(np.int64)
        unit = pairs["unit"].to_numpy(np.int64)
        outside = ~shapely.covers(self.state, sites)
        return site, unit, np.bincount(site, minlength=len(sites)).astype(np.int64), outside

    def area(self, kind: AreaKind, key: str | None) -> Area:
        """The area of a municipality (8-digit AGS), a Kreis (5 digits) or NRW."""
        if kind == "nrw":
            return Area("nrw", NRW_KEY, NRW_NAME, np.arange(len(self.ags), dtype=np.int64))
        if kind == "municipality":
            rows = np.flatnonzero(self.ags == key).astype(np.int64)
            if not len(rows):
                raise NotFound("no municipality with this AGS")
            return Area(kind, str(key), str(self.names[rows[0]]), rows, str(self.kreis_names[rows[0]]))
        rows = np.flatnonzero(self.kreis_ags == key).astype(np.int64)
        if not len(rows):
            raise NotFound("no Kreis with this key")
        return Area(kind, str(key), str(self.kreis_names[rows[0]]), rows)

    def outline(self, area: Area) -> shapely.Geometry:
        """The area's polygon (the union of its municipalities)."""
        if area.kind == "nrw":
            return self.state
        if area.key not in self._outline:
            self._outline[area.key] = union(self.units[area.units])
        return self._outline[area.key]

    def rows(self, area: Area) -> tuple[Rows, NDArray[np.bool_]]:
        """The sites intersecting ``area`` (row positions, ascending) and per site whether it
        crosses the area's boundary (lies partly in another municipality or outside NRW).
        """
        site, unit, n_units, outside = self._overlaps
        mine = np.isin(unit, area.units)
        rows = np.unique(site[mine])
        if area.kind == "nrw":
            inside_pairs = n_units[rows]
        else:
            inside_pairs = np.bincount(site[mine], minlength=len(n_units))[rows]
        crosses = (inside_pairs < n_units[rows]) | outside[rows]
        return rows, crosses

    def sites(self, area: Area, rank: NDArray[Any], site_ids: NDArray[Any]) -> AreaSites:
        """The sites of ``area`` in export order under a ranking's ``rank`` (0 = not ranked)."""
        rows, crosses = self.rows(area)
        order = export_order(rank, rows, site_ids)
        ranked = rank[order] > 0
        return AreaSites(
            order,
            crosses[np.searchsorted(rows, order)],
            np.where(ranked, np.cumsum(ranked), 0).astype(np.int64),
        )

    def features(self, name: str, area: Area) -> Rows | None:
        """The rows of layer ``name`` an export of ``area`` shows (None: no such layer).

        All of them for the state; hydrogen segments within the distance at which the hydrogen
        criterion reaches 0 (those that can score a site of the area); otherwise the features
        whose interior overlaps the area's.
        """
        found = self._tree(name)
        if found is None:
            return None
        geoms, tree = found
        if area.kind == "nrw":
            return np.arange(len(geoms), dtype=np.int64)
        outline = self.outline(area)
        if name == "hydrogen":
            return np.sort(tree.query(outline, predicate="dwithin", distance=H2_ZERO_KM * 1000))
        hit = np.sort(tree.query(outline, predicate="intersects"))
        return hit[shapely.relate_pattern(geoms[hit], outline, "T********")]

    def _tree(self, name: str) -> tuple[Geoms, shapely.STRtree] | None:
        if name not in self._trees:
            gdf = self._layers.get(name)
            if gdf is None:
                return None
            geoms = np.asarray(gdf.geometry.values, dtype=object)
            self._trees[name] = (geoms, shapely.STRtree(geoms))
        return self._trees[name]


def nearest_lep(site: shapely.Geometry, lep: gpd.GeoDataFrame | None) -> dict[str, Any]:
    """Straight-line distance (km, from the site's edge) to the nearest LEP large site."""
    if lep is None or not len(lep):
        return {"nearest_lep": None, "nearest_lep_km": None}
    d = shapely.distance(site, np.asarray(lep.geometry.values, dtype=object))
    k = int(np.argmin(d))
    return {"nearest_lep": str(lep["name"].iloc[k]), "nearest_lep_km": round(float(d[k]) / 1e3, 3)}


# -- own areas (POST /api/score, the rank-file command) ------------------------------------------
MAX_OWN_AREA_HA = 2_000.0
"""The largest polygon scored as one site, in hectares (2,000 ha = 20 km²).

An own area is scored as a candidate *site*: its indicators are shares of its surface (fibre, 5G,
protected areas) and distances from its edge, and its score is compared with the stored sites'.
Industrial sites are far smaller: the stored sites reach a few hundred ha (the demo's at most
400 ha), and even the largest industrial complexes of the state (steelworks, chemical parks)
cover hundreds of ha, roughly 1,000 at most. 2,000 ha leaves room for any of them with its
surroundings; a larger polygon (a
municipality, a Kreis, 45 % of the state) is no site, its shares average away and every distance
from its edge is zero, so its score would look excellent and mean nothing. It is refused (422)
with the limit named, never scored silently.
"""


def oversized(geoms: ArrayLike) -> NDArray[np.bool_]:
    """True for each polygon (EPSG:25832, metres) larger than ``MAX_OWN_AREA_HA``."""
    return np.asarray(shapely.area(np.asarray(geoms, dtype=object)), dtype=float) > MAX_OWN_AREA_HA * 1e4


def too_large_text(geom: shapely.Geometry) -> str:
    """Why a polygon is refused: its area and the limit, in ha and km²."""
    ha = float(shapely.area(geom)) / 1e4
    return (
        f"the polygon covers {ha:,.0f} ha ({ha / 100:,.1f} km²); at most {MAX_OWN_AREA_HA:,.0f} ha "
        f"({MAX_OWN_AREA_HA / 100:,.0f} km²) can be scored as one site"
    )
