"""The planning status of sites: which plan area or LEP site holds them, whether they lie on
brownfields, and the land facts ad-hoc areas take from the area holding them (DESIGN §3.3).

A site counts as held by an area, or as brownfield reuse, when at least half of it overlaps
(``geo.indicators.BROWNFIELD_OVERLAP``). Plan areas on brownfields and brownfields in plan areas
are the same pairs of the two layers seen from either side; a build intersects each pair once.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo import indicators as ind
from geo.availability import LAND_FIELDS
from geo.layer_index import LayerIndex

Columns = MutableMapping[str, Any]  # a site table as named columns (geo/sites.py)


def majority_host(
    geoms: np.ndarray, idx: LayerIndex, name: str, area_of: ind.AreaOf | None = None
) -> np.ndarray:
    """Index of the area of layer ``name`` holding at least half of each geometry (-1 where
    none does). Among several, the largest overlap wins and then the smallest (most specific) host.
    """
    pairs = ind.overlaps(geoms, idx.geoms(name), idx.tree(name), area_of)
    host = ind.largest_overlap(pairs, len(geoms), idx.areas(name))
    overlap = np.zeros(len(geoms))
    chosen = pairs.unit == host[pairs.site]
    overlap[pairs.site[chosen]] = pairs.area_m2[chosen]
    return np.where(overlap >= ind.BROWNFIELD_OVERLAP * shapely.area(geoms), host, -1)


class PairAreas:
    """Overlap areas of pairs of two layers' areas (rows ``a`` of one, ``b`` of the other), each
    computed once, whichever side asks: is a plan area on brownfields, and which plan area holds
    a brownfield, are the same intersections seen from either side.

    ``area(ga, gb, ka, kb)`` gives the overlap of each pair of geometries ``ga[i]``, ``gb[i]``
    (in that order) whose layer rows are ``ka[i]`` and ``kb[i]``; a pair with a row of -1 (an
    ad-hoc area, a site that is no row of the layer) is always computed.
    """

    def __init__(self, n_b: int):
        self.n_b = max(n_b, 1)
        self.keys = np.empty(0, dtype=np.int64)  # sorted
        self.areas = np.empty(0)

    def area(self, ga: np.ndarray, gb: np.ndarray, ka: np.ndarray, kb: np.ndarray) -> np.ndarray:
        """The overlap of each pair (m²)."""
        key = np.where((ka >= 0) & (kb >= 0), ka.astype(np.int64) * self.n_b + kb, -1)
        at = np.minimum(np.searchsorted(self.keys, key), max(len(self.keys) - 1, 0))
        hit = (key >= 0) & (self.keys[at] == key) if len(self.keys) else np.zeros(len(key), dtype=bool)
        out = np.empty(len(key))
        out[hit] = self.areas[at[hit]]
        miss = np.flatnonzero(~hit)
        if not len(miss):
            return out
        out[miss] = shapely.area(shapely.intersection(ga[miss], gb[miss]))
        new = miss[key[miss] >= 0]
        if len(new):
            keys, first = np.unique(key[new], return_index=True)
            keys = np.concatenate([self.keys, keys])
            order = np.argsort(keys, kind="stable")
            self.keys = keys[order]
            self.areas = np.concatenate([self.areas, out[new][first]])[order]
        return out


class PlanBrownfieldPairs:
    """Plan areas on brownfields, and brownfields in plan areas: the same pairs of the two
    layers seen from either side, each intersected once (``PairAreas``) where
    the sites are those layers' rows, as in a build."""

    def __init__(self, geoms: np.ndarray, idx: LayerIndex, rows: Mapping[str, np.ndarray]):
        self.geoms, self.idx = geoms, idx
        self.memo = PairAreas(len(idx.layers["brownfields"]) if "brownfields" in idx.layers else 0)
        none = np.full(len(geoms), -1)
        self.rp_row = rows.get("regional_plan", none)
        self.bf_row = rows.get("brownfields", none)

    def brownfields_on(self, rows: np.ndarray) -> ind.AreaOf:
        """Overlaps of the sites ``rows`` (site rows of the call, brownfield rows)."""
        bf = self.idx.geoms("brownfields")
        return lambda s, b: self.memo.area(self.geoms[rows[s]], bf[b], self.rp_row[rows[s]], b)

    def plan_areas_on(self, rows: np.ndarray) -> ind.AreaOf:
        """Overlaps of plan areas with the sites ``rows`` (site rows of the call, plan rows)."""
        rp = self.idx.geoms("regional_plan")
        return lambda s, u: self.memo.area(rp[u], self.geoms[rows[s]], u, self.bf_row[rows[s]])


def planning_status(out: Columns, geoms: np.ndarray, idx: LayerIndex, rows: Mapping[str, np.ndarray]) -> None:
    """Set is_brownfield and planning_category (a plan area or LEP site holding ≥ 50 %)."""
    layers = idx.layers
    kind = np.asarray(out["kind"], dtype=object)
    pairs = PlanBrownfieldPairs(geoms, idx, rows)
    if "brownfields" in layers:
        is_bf = kind == "brownfield"
        other = np.flatnonzero(~is_bf)
        bf = idx.geoms("brownfields")
        is_bf[other] = ind.brownfield_majority(
            geoms[other], bf, idx.tree("brownfields"), area_of=pairs.brownfields_on(other)
        )
        out["is_brownfield"] = is_bf
    else:
        out["is_brownfield"] = np.where(kind == "brownfield", 1.0, np.nan)
    planning = (  # a writable copy
        np.array(out["planning_category"], dtype=object)
        if "planning_category" in out
        else np.full(len(geoms), None, dtype=object)
    )
    # brownfields and ad-hoc polygons take the category of a plan area holding ≥ 50 % of them
    open_rows = np.flatnonzero((kind == "brownfield") | pd.isna(planning))
    planning[open_rows] = None
    for name, category in (("regional_plan", None), ("lep_sites", "LEP")):
        todo = open_rows[pd.isna(planning[open_rows])]
        if name in layers and len(layers[name]) and len(todo):
            area_of = pairs.plan_areas_on(todo) if name == "regional_plan" else None
            host = majority_host(geoms[todo], idx, name, area_of)
            found = host >= 0
            planning[todo[found]] = (
                idx.column(name, "category")[host[found]] if category is None else category
            )
    rest = open_rows[pd.isna(planning[open_rows])]
    is_bf_rest = np.asarray(np.asarray(out["is_brownfield"])[rest], dtype=float) == 1
    planning[rest] = np.where(is_bf_rest, "BROWNFIELD", "NONE")
    out["planning_category"] = planning


def host_land(out: Columns, geoms: np.ndarray, idx: LayerIndex) -> None:
    """Ad-hoc areas take availability, date and restrictions of the plan area or brownfield
    holding ≥ 50 % of them (as they take its planning status); elsewhere they have no data."""
    n = len(geoms)
    todo = np.flatnonzero(np.asarray(out["kind"], dtype=object) == "adhoc")
    for name in ("regional_plan", "brownfields"):
        layer = idx.layers.get(name)
        if layer is None or not len(layer) or not len(todo) or "availability" not in layer.columns:
            continue
        host = majority_host(geoms[todo], idx, name)
        found = host >= 0
        for col in LAND_FIELDS:
            if col in layer.columns:
                values = np.array(out[col], dtype=object) if col in out else np.full(n, None, dtype=object)
                values[todo[found]] = idx.column(name, col)[host[found]]
                out[col] = values
        todo = todo[~found]
