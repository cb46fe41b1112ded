"""What scoring needs from the context layers, prepared once per snapshot: each layer's
geometries as a plain shapely array, its STRtree, its areas and its columns as numpy arrays.

Ad-hoc scoring (one polygon per request) asks for these on every call; built once, a request
does no set-up work. A build passes no index and gets a fresh one (each part built when first
asked for, as before).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any, TypeVar

import geopandas as gpd
import numpy as np
import shapely

T = TypeVar("T")


class LayerIndex:
    """Lazily built, cached per-layer arrays and trees over a mapping of layers."""

    def __init__(self, layers: Mapping[str, gpd.GeoDataFrame]):
        self.layers = layers
        self._geoms: dict[str, np.ndarray] = {}
        self._trees: dict[str, shapely.STRtree] = {}
        self._areas: dict[str, np.ndarray] = {}
        self._columns: dict[tuple[str, str, Any], np.ndarray] = {}
        self._memo: dict[tuple[str, Hashable], Any] = {}

    def geoms(self, name: str) -> np.ndarray:
        """The layer's geometries as a plain shapely array (no pandas dispatch)."""
        if name not in self._geoms:
            self._geoms[name] = np.asarray(self.layers[name].geometry.values)
        return self._geoms[name]

    def tree(self, name: str) -> shapely.STRtree:
        """An STRtree over the layer's geometries (indices into ``geoms(name)``)."""
        if name not in self._trees:
            self._trees[name] = shapely.STRtree(self.geoms(name))
        return self._trees[name]

    def areas(self, name: str) -> np.ndarray:
        """The area of each of the layer's geometries (m²)."""
        if name not in self._areas:
            self._areas[name] = shapely.area(self.geoms(name))
        return self._areas[name]

    def column(self, name: str, col: str, dtype: Any = object) -> np.ndarray:
        """A column of the layer as a numpy array of ``dtype`` (read-only: shared by calls)."""
        key = (name, col, dtype)
        if key not in self._columns:
            values = self.layers[name][col].to_numpy(dtype).view()  # a view: the frame stays writable
            values.flags.writeable = False
            self._columns[key] = values
        return self._columns[key]

    def memo(self, name: str, key: Hashable, make: Callable[[], T]) -> T:
        """What ``make()`` derives from layer ``name`` (a measure's targets and trees), made once
        per ``key``."""
        if (name, key) not in self._memo:
            self._memo[name, key] = make()
        value: T = self._memo[name, key]
        return value
