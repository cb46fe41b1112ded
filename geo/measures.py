"""Generic measures: an indicator computed from one layer by a declaration, not by code.

A criterion whose indicator is one of these needs no code in ``geo/sites.py``: the build runs
``measure.compute(sites, layer, shared)`` for it (``compute_indicators``; ``shared`` is a
``SiteCache`` holding the sites' centroids and anchors, computed once for all measures) and
stores the columns under the criterion's indicator names. All work in EPSG:25832 metres.

- ``Nearest(layer)``: straight-line distance (km) from the site's edge to the nearest feature of
  the layer (0 inside one); optionally only features where a boolean column is true
  (``where``), and optionally the nearest feature's attribute as a second indicator
  (``attribute``, e.g. a substation's voltage).
- ``CoveredShare(layer)``: the share of the site's area covered by the layer's polygons
  (where polygons overlap, the overlap counts once; only sites crossing a boundary are
  intersected).
- ``SumWithin(layer, attribute, radius_km)``: the sum of an attribute over the features whose
  geometry lies within ``radius_km`` of the site's centroid (installed capacity, heat, …); over
  points by sorted cells and running sums (geo/within.py).
- ``GridSumWithin(layer, radius_km)``: the sum of a grid layer's cells (e.g. residents per
  100 m cell) whose centre lies within ``radius_km`` of the site's centroid.

A missing layer gives NaN (no data), never 0.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Annotated, ClassVar, Literal, TypeVar

import geopandas as gpd
import numpy as np
import shapely
from pydantic import BaseModel, ConfigDict, Field

from geo import nearest
from geo.convolve import residents_within
from geo.grid import Coverage
from geo.layer_index import LayerIndex
from geo.within import points_within

T = TypeVar("T")


class SiteCache:
    """What several measures derive from the same sites, computed once (on first use, under a
    lock, so measures on other threads share it): centroids, and the ``anchors`` of
    ``geo.nearest`` (a point inside each site and a radius covering it). With a
    ``LayerIndex`` (ad-hoc scoring: the same layers call after call), what a measure derives
    from its layer (targets, trees, coordinates) is kept there too (``layer``)."""

    def __init__(
        self,
        sites: np.ndarray,
        index: LayerIndex | None = None,
        extent: tuple[float, float, float, float] | None = None,
    ):
        self.sites = np.asarray(sites, dtype=object)
        self.index = index
        self._lock = threading.Lock()
        self._centres: np.ndarray | None = None
        self._anchor: tuple[np.ndarray, np.ndarray] | None = None
        self._extent = extent

    @property
    def extent(self) -> tuple[float, float, float, float] | None:
        """The extent ``SumWithin`` lays its cells over: the one given (a partition of a larger
        batch gets the whole batch's, layers/engine_dask.py), else None (the centres' own)."""
        return self._extent

    @property
    def centres(self) -> np.ndarray:
        """The sites' centroids."""
        with self._lock:
            if self._centres is None:
                self._centres = shapely.centroid(self.sites)
            return self._centres

    @property
    def anchor(self) -> tuple[np.ndarray, np.ndarray]:
        """``geo.nearest.anchors(sites)``."""
        with self._lock:
            if self._anchor is None:
                self._anchor = nearest.anchors(self.sites)
            return self._anchor

    def layer(self, name: str, key: Hashable, make: Callable[[], T]) -> T:
        """``make()``, kept in the index between calls when there is one."""
        return make() if self.index is None else self.index.memo(name, key, make)


class _Measure(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    layer: str = Field(description="the snapshot layer it reads")
    grid: ClassVar[bool] = False  # True: reads a coverage grid (e.g. population), not a vector layer

    def outputs(self) -> int:
        """How many indicator columns the measure gives (the criterion declares their names)."""
        return 1

    def missing(self, n: int) -> list[np.ndarray]:
        """The columns without the layer: NaN (no data)."""
        return [np.full(n, np.nan) for _ in range(self.outputs())]


class Nearest(_Measure):
    """Distance (km) from the site's edge to the nearest feature (and that feature's attribute)."""

    kind: Literal["nearest"] = "nearest"
    where: str | None = Field(None, description="boolean column: only features where it is true")
    attribute: str | None = Field(None, description="the nearest feature's attribute, a 2nd column")

    def outputs(self) -> int:  # noqa: D102
        return 2 if self.attribute else 1

    def describe(self) -> str:
        """The method, for the provenance of a value."""
        return "straight-line distance (Luftlinie) from the site's edge to the nearest feature"

    def compute(
        self, sites: np.ndarray, layer: gpd.GeoDataFrame, shared: SiteCache | None = None
    ) -> list[np.ndarray]:
        """[km] or [km, attribute of the nearest feature]."""
        sites = np.asarray(sites, dtype=object)
        cache = shared or SiteCache(sites)

        def prepare() -> tuple[nearest.Targets, np.ndarray | None]:
            keep = layer[self.where].to_numpy(bool) if self.where else np.ones(len(layer), dtype=bool)
            targets = nearest.Targets(np.asarray(layer.geometry.values, dtype=object)[keep])
            return targets, layer[self.attribute].to_numpy()[keep] if self.attribute else None

        targets, attr = cache.layer(self.layer, ("nearest", self.where, self.attribute), prepare)
        km, which = nearest.nearest_km(sites, targets, cache.anchor)
        if attr is None:
            return [km]
        values = np.full(len(km), np.nan, dtype=float if attr.dtype.kind in "fiu" else object)
        values[which >= 0] = attr[which[which >= 0]]
        return [km, values]


def covered_share(sites: np.ndarray, polygons: np.ndarray, tree: shapely.STRtree | None = None) -> np.ndarray:
    """Share (0–1) of each site's area inside the union of ``polygons``.

    Candidates by bounding box (an STRtree of the polygons), then, with a prepared copy of each
    candidate polygon (the layer's geometries are shared between threads and never changed): a
    site inside one polygon (``contains_properly``) has share 1 and needs no
    overlay; a site no candidate ``intersects`` has share 0; only the sites that cross a polygon's
    boundary are intersected, and where one crosses several, the pieces are merged first so an
    overlap of two polygons counts once. Equal to the area of the site's intersection with the
    dissolved layer up to float rounding (~1e-12). ``tree`` may be a prebuilt STRtree of ``polygons``.
    """
    out = np.zeros(len(sites))
    if not len(sites) or not len(polygons):
        return out
    s, p = (tree or shapely.STRtree(polygons)).query(sites)
    if not len(s):
        return out
    # prepared copies of the candidates: preparing the layer's own geometries would change objects
    # that concurrent requests (ad-hoc scores in the thread pool) read at the same moment
    used, at = np.unique(p, return_inverse=True)
    local = shapely.transform(polygons[used], lambda xy: xy)
    shapely.prepare(local)
    inside = shapely.contains_properly(local[at], sites[s])
    whole = np.unique(s[inside])
    rest = ~np.isin(s, whole)
    s, p, at = s[rest], p[rest], at[rest]
    touch = shapely.intersects(local[at], sites[s])
    s, p = s[touch], p[touch]
    pieces = shapely.intersection(sites[s], polygons[p])
    area = shapely.area(pieces)
    several = np.bincount(s, minlength=len(sites)) > 1
    single = ~several[s]
    covered = np.bincount(s[single], area[single], len(sites))
    if several.any():  # overlapping or adjacent polygons: the union of the site's pieces
        order = np.argsort(s, kind="stable")
        multi = order[several[s[order]]]
        ids, first = np.unique(s[multi], return_index=True)
        for i, group in zip(ids, np.split(multi, first[1:]), strict=True):
            covered[i] = shapely.area(shapely.union_all(pieces[group]))
    out = np.clip(covered / np.maximum(shapely.area(sites), 1e-9), 0.0, 1.0)
    out[whole] = 1.0
    return out


class CoveredShare(_Measure):
    """Share (0–1) of the site's area inside the layer's polygons."""

    kind: Literal["covered_share"] = "covered_share"

    def describe(self) -> str:
        """The method, for the provenance of a value."""
        return "polygons; share of the site's area they cover"

    def compute(
        self, sites: np.ndarray, layer: gpd.GeoDataFrame, shared: SiteCache | None = None
    ) -> list[np.ndarray]:
        """[share] (``covered_share``)."""
        sites = np.asarray(sites, dtype=object)

        def prepare() -> tuple[np.ndarray, shapely.STRtree]:
            polygons = np.asarray(layer.geometry.values)
            return polygons, shapely.STRtree(polygons)

        polygons, tree = (shared or SiteCache(sites)).layer(self.layer, "covered_share", prepare)
        return [covered_share(sites, polygons, tree)]


class SumWithin(_Measure):
    """Sum of ``attribute`` over features within ``radius_km`` of the site's centroid."""

    kind: Literal["sum_within"] = "sum_within"
    attribute: str
    radius_km: float = Field(gt=0)

    def describe(self) -> str:
        """The method, for the provenance of a value."""
        return f"sum of {self.attribute} within {self.radius_km:g} km of the site's centroid"

    def compute(
        self, sites: np.ndarray, layer: gpd.GeoDataFrame, shared: SiteCache | None = None
    ) -> list[np.ndarray]:
        """[sum].

        Point layers (MaStR units, installations): ``geo.within.points_within`` (cells sorted by
        row, running sums for the cells wholly inside, the exact test for the points near the
        circle). Other geometries: GEOS ``dwithin`` from the centroid.
        """
        cache = shared or SiteCache(np.asarray(sites, dtype=object))
        centres = cache.centres

        def prepare() -> tuple[np.ndarray, shapely.STRtree | None, np.ndarray, np.ndarray]:
            values = np.nan_to_num(layer[self.attribute].to_numpy(float), nan=0.0)
            geoms = np.asarray(layer.geometry.values)
            if not len(geoms) or not (shapely.get_type_id(geoms) == 0).all():
                return values, shapely.STRtree(geoms), np.zeros(0), np.zeros(0)
            return values, None, shapely.get_x(geoms), shapely.get_y(geoms)

        values, tree, px, py = cache.layer(self.layer, ("sum_within", self.attribute), prepare)
        r = self.radius_km * 1000.0
        if tree is not None:
            s, f = tree.query(centres, predicate="dwithin", distance=r)
            return [np.bincount(s, values[f], len(centres))]
        cx, cy = shapely.get_x(centres), shapely.get_y(centres)
        return [points_within(cx, cy, px, py, values, r, cache.extent)]


class GridSumWithin(_Measure):
    """Sum of a grid layer's cells whose centre lies within ``radius_km`` of the site's centroid."""

    kind: Literal["grid_sum_within"] = "grid_sum_within"
    radius_km: float = Field(gt=0)
    grid: ClassVar[bool] = True  # reads a coverage grid, not a vector layer

    def describe(self) -> str:
        """The method, for the provenance of a value."""
        return f"sum of the grid cells whose centre is within {self.radius_km:g} km of the site's centroid"

    def compute(
        self, sites: np.ndarray, layer: Coverage, shared: SiteCache | None = None
    ) -> list[np.ndarray]:
        """[sum] (exact at the cells' centres, geo/convolve.py)."""
        centres = (shared or SiteCache(np.asarray(sites, dtype=object))).centres
        return [residents_within(layer, shapely.get_x(centres), shapely.get_y(centres), self.radius_km)]


Measure = Annotated[Nearest | CoveredShare | SumWithin | GridSumWithin, Field(discriminator="kind")]
