"""Indicators per site (DESIGN §3.3), exact and vectorised for NRW scale.

All geometries are EPSG:25832 shapely arrays. Missing data is NaN (or None) plus a flag, never 0.

Notes
-----
- Coverage share on a grid: exactextract's coverage-weighted mean, i.e.
  ``share = Σ_c f_c · v_c / Σ_c f_c`` over the cells ``c`` with data, where ``f_c`` is the fraction
  of cell ``c`` covered by the site. Partial cells count by their overlap; overlapping sites are
  computed independently, so each is exact.
- Coverage share from unit statistics (municipality or Kreis): ``share = Σ_u A_u · s_u / Σ_u A_u``
  with ``A_u`` the area of the site inside unit ``u`` and ``s_u`` the unit's share: the same result
  as giving every point of the unit its share, without a raster's edge error.
- H2 distance: nearest distance from the site (0 if touching) to the Kernnetz, lines split into
  2-point segments in an STRtree (node capacity 2), evaluated once per commissioning year so
  any horizon year is a lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple, cast

import numpy as np
import pandas as pd
import shapely
from exactextract import exact_extract
from exactextract.feature import Feature, FeatureSource
from exactextract.raster import NumPyRasterSource
from exactextract.writer import Writer

from geo.grid import Coverage
from geo.pool import ForkPool

BROWNFIELD_OVERLAP = 0.5  # a site counts as brownfield reuse when ≥ 50 % overlaps brownfields
FEW_SITES = 8  # up to this many sites (ad-hoc scoring), per-site lookups beat whole-layer passes


def area_ha(geoms: np.ndarray) -> np.ndarray:
    """Return planar areas in hectares."""
    return shapely.area(geoms) / 10_000.0


# -- overlaps with units (municipalities) ---------------------------------------------------------
class Overlaps(NamedTuple):
    """Site/unit pairs that overlap, as arrays (``unit_overlaps`` gives them as a frame)."""

    site: np.ndarray
    unit: np.ndarray
    area_m2: np.ndarray


def _pairs(pairs: pd.DataFrame | Overlaps) -> Overlaps:
    """The pairs as arrays, from a frame or as they are."""
    if isinstance(pairs, Overlaps):
        return pairs
    return Overlaps(pairs["site"].to_numpy(), pairs["unit"].to_numpy(), pairs["area_m2"].to_numpy())


AreaOf = Callable[[np.ndarray, np.ndarray], np.ndarray]  # (site rows, unit rows) -> overlap in m²


def _intersection_area(sites: np.ndarray, units: np.ndarray) -> AreaOf:
    """Overlap areas of (site, unit) pairs computed directly."""
    return lambda s, u: shapely.area(shapely.intersection(sites[s], units[u]))


def unit_overlaps(sites: np.ndarray, units: np.ndarray, tree: shapely.STRtree | None = None) -> pd.DataFrame:
    """Return (site, unit, area_m2) for every site/unit pair that overlaps (``overlaps`` as a frame)."""
    return pd.DataFrame(overlaps(sites, units, tree)._asdict())


def overlaps(
    sites: np.ndarray, units: np.ndarray, tree: shapely.STRtree | None = None, area_of: AreaOf | None = None
) -> Overlaps:
    """(site, unit, area_m2) for every site/unit pair that overlaps.

    Sites lying wholly inside a unit are found with the unit prepared once
    (``contains_properly``) and need no polygon intersection; only sites crossing a unit
    boundary are intersected. Where units overlap (plan areas), a site inside one or more units
    is paired with each of those only, which are then its largest overlaps.
    ``tree`` may be a prebuilt STRtree over ``units``; up to ``FEW_SITES`` sites (ad-hoc
    scoring) ask it for their candidates instead of building a tree over the sites and querying
    it with every unit: the same pairs, in the same order, without touching the other units.
    ``area_of(site rows, unit rows)`` gives crossing pairs' overlaps (default: intersected here).
    """
    n = len(sites)
    few = tree is not None and n <= FEW_SITES
    if few:
        assert tree is not None
        s_c, u_c = tree.query(sites, predicate="intersects")
        whole = shapely.contains_properly(units[u_c], sites[s_c])
        order = np.lexsort((s_c[whole], u_c[whole]))  # by unit, as the query by units gives them
        s_in, u_in = s_c[whole][order], u_c[whole][order]
    else:
        u_in, s_in = shapely.STRtree(sites).query(units, predicate="contains_properly")
    inside = np.zeros(n, dtype=bool)
    inside[s_in] = True
    if few:
        cross = ~inside[s_c]
        s_x, u_x = s_c[cross], u_c[cross]
    else:
        rest = np.flatnonzero(~inside)
        s_x, u_x = (tree or shapely.STRtree(units)).query(sites[rest], predicate="intersects")
        s_x = rest[s_x]
    area_x = (area_of or _intersection_area(sites, units))(s_x, u_x)
    site = np.concatenate([s_in, s_x])
    unit = np.concatenate([u_in, u_x])
    area = np.concatenate([shapely.area(sites[s_in]), area_x])
    some = area > 0
    return Overlaps(site[some], unit[some], area[some])


def largest_overlap(
    pairs: pd.DataFrame | Overlaps, n_sites: int, unit_size: np.ndarray | None = None
) -> np.ndarray:
    """Return, per site, the unit with the largest overlap (-1 when none).

    Ties go to the smaller unit when ``unit_size`` is given (the more specific plan area),
    else to the lower unit index.
    """
    out = np.full(n_sites, -1, dtype=np.int64)
    p = _pairs(pairs)
    if len(p.site):
        units = p.unit
        size = unit_size[units] if unit_size is not None else np.zeros(len(units))
        order = np.lexsort((units, size, -p.area_m2))
        site = p.site[order]
        _, first = np.unique(site, return_index=True)  # each site's first row in that order
        out[site[first]] = units[order][first]
    return out


def unit_share(
    pairs: pd.DataFrame | Overlaps, unit_keys: np.ndarray, values: pd.Series, site_area_m2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Area-weighted share per site from statistics per unit.

    ``unit_keys`` are the keys of the units in ``pairs`` (AGS, or the Kreis key for Kreis
    statistics); ``values`` maps keys to shares (NaN = unknown). Returns (share, data_fraction):
    the share over the part of the site with data, and which fraction of the site had data.
    """
    n = len(site_area_m2)
    p = _pairs(pairs)
    v = pd.Series(unit_keys[p.unit]).map(values).to_numpy(float)
    ok = np.isfinite(v)
    a = p.area_m2
    s = p.site
    num = np.bincount(s[ok], weights=a[ok] * v[ok], minlength=n)
    den = np.bincount(s[ok], weights=a[ok], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(den > 0, num / den, np.nan)
    return share, np.clip(den / np.maximum(site_area_m2, 1e-9), 0, 1)


# -- coverage on the grid -------------------------------------------------------------------------
class _WKBFeature(Feature):  # type: ignore[misc]  # base is Any: exactextract has no hints
    """A minimal exactextract feature: an integer id and WKB geometry."""

    def __init__(self, fid: int = 0, wkb: bytes | None = None):
        super().__init__()
        self.fid = fid
        self.wkb = wkb
        self.values: dict[str, float] = {}

    def geometry(self) -> bytes | None:  # noqa: D102
        return self.wkb

    def set_geometry(self, wkb: bytes) -> None:  # noqa: D102
        self.wkb = wkb

    def set_geometry_format(self) -> str:  # noqa: D102
        return "wkb"

    def get(self, name: str) -> int:  # noqa: D102
        return self.fid

    def set(self, name: str, value: float) -> None:  # noqa: D102
        self.values[name] = value

    def fields(self) -> list[str]:  # noqa: D102
        return ["fid"]


class _WKBSource(FeatureSource):  # type: ignore[misc]  # Any base, as above
    """Feed WKB geometries to exactextract directly, without a GeoDataFrame round trip."""

    def __init__(self, wkbs: np.ndarray):
        super().__init__()
        self.wkbs = wkbs

    def count(self) -> int:  # noqa: D102
        return len(self.wkbs)

    def __iter__(self) -> Iterator[_WKBFeature]:  # noqa: D105
        for i, w in enumerate(self.wkbs):
            yield _WKBFeature(i, w)

    def srs_wkt(self) -> None:  # noqa: D102
        return None


PARALLEL_MIN_SITES = 20_000


class _ArrayWriter(Writer):  # type: ignore[misc]  # Any base, as above
    """Collect exactextract's results as numpy columns: a DataFrame per call (``output="pandas"``)
    cost more than the extraction for one ad-hoc polygon."""

    def __init__(self) -> None:
        super().__init__()
        self.columns: dict[str, list[float]] = {}
        self.row = _WKBFeature()

    def add_operation(self, op: Any) -> None:  # noqa: D102
        self.columns.setdefault(op.name, [])

    def add_column(self, name: str) -> None:  # noqa: D102
        self.columns.setdefault(name, [])

    def add_geometry(self) -> None:  # noqa: D102
        pass

    def write(self, feature: Any) -> None:  # noqa: D102
        row = self.row
        row.values = {}
        feature.copy_to(row)
        for name, column in self.columns.items():
            column.append(row.values.get(name, np.nan))

    def features(self) -> dict[str, np.ndarray]:
        """The columns (exact_extract returns them): ``fid`` as integers, the statistics as floats."""
        return {k: np.asarray(v, dtype=np.int64 if k == "fid" else float) for k, v in self.columns.items()}


def _extract(grids: Mapping[str, Coverage], wkbs: np.ndarray) -> dict[str, np.ndarray]:
    """Run exactextract for the grids over WKBs (in a forked worker, the grids are shared)."""
    rasters = []
    for name, cov in grids.items():
        xmin, ymin, xmax, ymax = cov.spec.bounds
        rasters.append(
            NumPyRasterSource(np.asarray(cov.grid), xmin, ymin, xmax, ymax, nodata=np.nan, name=name)
        )
    columns: dict[str, np.ndarray] = exact_extract(
        rasters, _WKBSource(wkbs), ["mean", "count"], include_cols=["fid"], output=_ArrayWriter()
    )
    return columns


class GridShares:
    """Coverage-weighted mean share and data fraction per site, for several 100 m grids at once.

    All grids are read in one pass over the sites. At NRW scale the work runs in ``workers``
    forked background processes (the grids are shared copy-on-write) until ``result()`` is
    called, so the caller computes the vector indicators meanwhile: with one worker beside the
    main process, both of the machine's two cores are busy.
    """

    def __init__(self, sites: np.ndarray, grids: Mapping[str, Coverage], workers: int = 1):
        self.n = len(sites)
        self.grids = dict(grids)
        self.site_area = np.maximum(shapely.area(sites), 1e-9)
        self._pool: ForkPool[Mapping[str, Coverage], np.ndarray, dict[str, np.ndarray]] | None = None
        self._rows: dict[str, np.ndarray] | None = None
        if not self.grids:
            return
        wkbs = shapely.to_wkb(sites)
        if self.n >= PARALLEL_MIN_SITES and workers >= 1:
            self._chunks = np.array_split(np.arange(self.n), workers)
            self._pool = ForkPool(_extract, self.grids, workers)  # the grids shared copy-on-write
            self._async = self._pool.map_async([wkbs[c] for c in self._chunks])
        else:
            self._rows = _extract(self.grids, wkbs)

    def result(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Wait for the workers (if any) and return ``{grid name: (share, data_fraction)}``."""
        if self._pool is not None:
            try:
                parts = self._async.get()
            finally:
                self._pool.close()
                self._pool = None
            for c, part in zip(self._chunks, parts, strict=True):
                part["fid"] = c[part["fid"]]
            self._rows = {k: np.concatenate([part[k] for part in parts]) for k in parts[0]}
        if self._rows is None:
            return {}
        rows = self._rows
        fid = rows["fid"]
        out = {}
        for name, cov in self.grids.items():
            share = np.full(self.n, np.nan)
            cells = np.zeros(self.n)
            share[fid] = rows[f"{name}_mean" if len(self.grids) > 1 else "mean"]
            cells[fid] = rows[f"{name}_count" if len(self.grids) > 1 else "count"]
            share[cells <= 0] = np.nan
            out[name] = (share, np.clip(cells * cov.spec.res**2 / self.site_area, 0, 1))
        return out


def grid_shares(
    sites: np.ndarray, grids: Mapping[str, Coverage], workers: int = 2
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Shares and data fractions per site for several grids (see ``GridShares``), waiting for them."""
    return GridShares(sites, grids, workers).result()


def grid_share(sites: np.ndarray, cov: Coverage) -> tuple[np.ndarray, np.ndarray]:
    """Coverage-weighted mean share and data fraction per site over one 100 m grid."""
    return grid_shares(sites, {"grid": cov})["grid"]


def coverage_share(
    sites: np.ndarray, cov: Coverage, pairs: pd.DataFrame | Overlaps, unit_ags: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Share and data fraction per site for any coverage layer (grid, municipal or Kreis)."""
    if cov.grid is not None:
        return grid_share(sites, cov)
    assert cov.units is not None
    keys = unit_ags if cov.resolution == "municipal" else np.array([a[:5] for a in unit_ags])
    return unit_share(pairs, keys, cov.units, shapely.area(sites))


# -- hydrogen -------------------------------------------------------------------------------------
def split_segments(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split (multi)lines into 2-point segments; return segments and their source line index."""
    parts, part_src = shapely.get_parts(lines, return_index=True)
    coords, idx = shapely.get_coordinates(parts, return_index=True)
    same = idx[1:] == idx[:-1]
    starts = np.flatnonzero(same)
    # an (n, 2, 2) coordinate array gives an array of lines (typed as LineString | array)
    segs = cast(np.ndarray, shapely.linestrings(np.stack([coords[starts], coords[starts + 1]], axis=1)))
    return segs, part_src[idx[starts]]


def nearest_lines(sites: np.ndarray, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (distance_m, index of the nearest line) per site; inf/-1 without lines."""
    n = len(sites)
    if len(lines) == 0:
        return np.full(n, np.inf), np.full(n, -1)
    segs, src = split_segments(lines)
    tree = shapely.STRtree(segs, node_capacity=2)
    (s_idx, seg_idx), dist = tree.query_nearest(sites, return_distance=True, all_matches=False)
    out_d = np.full(n, np.inf)
    out_i = np.full(n, -1)
    out_d[s_idx] = dist
    out_i[s_idx] = src[seg_idx]
    return out_d, out_i


def h2_by_year(
    sites: np.ndarray, lines: np.ndarray, years: np.ndarray, horizons: list[int] | None = None
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Distance (km) to, and commissioning year of, the nearest segment in service by a year.

    Returns ``{H: (distance_km, year_of_nearest)}`` for each horizon ``H`` (default: every
    commissioning year present), counting the segments with ``year ≤ H``; NaN where none is.

    One nearest query over all segments settles every horizon at or after the nearest segment's
    year; only the sites whose nearest segment comes later are queried again, against the
    earlier segments, and so on. Each site is typically queried once or twice, not once per year.
    """
    years = np.asarray(years, dtype=int)
    hs = sorted(set(horizons) if horizons is not None else set(years.tolist()))
    n = len(sites)
    km = {h: np.full(n, np.nan) for h in hs}
    yr = {h: np.full(n, np.nan) for h in hs}
    queue = [(np.arange(n), hs[-1])] if hs else []
    while queue:
        idx, cap = queue.pop()
        in_service = years <= cap
        if not in_service.any() or not len(idx):
            continue
        d, j = nearest_lines(sites[idx], lines[in_service])
        y = years[in_service][j]
        for h in hs:
            if h > cap:
                break
            done = y <= h
            km[h][idx[done]] = d[done] / 1000.0
            yr[h][idx[done]] = y[done]
        for later in np.unique(y):
            earlier = [h for h in hs if h < later]
            if earlier:
                queue.append((idx[y == later], earlier[-1]))
    return {h: (km[h], yr[h]) for h in hs}


def pick_horizon(
    by_year: Mapping[int, tuple[np.ndarray, np.ndarray]], horizon: int, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return (distance_km, year) for the latest commissioning year not after ``horizon``."""
    usable = [y for y in by_year if y <= horizon]
    if not usable:
        return np.full(n, np.nan), np.full(n, np.nan)
    return by_year[max(usable)]


# -- brownfields ----------------------------------------------------------------------------------
def brownfield_fraction(
    sites: np.ndarray, brownfields: np.ndarray, tree: shapely.STRtree | None = None
) -> np.ndarray:
    """Fraction of each site's area that lies on (the union of) brownfields."""
    n = len(sites)
    out = np.zeros(n)
    if len(brownfields) == 0 or n == 0:
        return out
    tree = tree or shapely.STRtree(brownfields)
    s_idx, b_idx = tree.query(sites, predicate="intersects")
    if not len(s_idx):
        return out
    whole = shapely.contains_properly(sites[s_idx], brownfields[b_idx])
    pieces = brownfields[b_idx].copy()
    pieces[~whole] = shapely.intersection(sites[s_idx[~whole]], brownfields[b_idx[~whole]])
    multi = pd.Series(s_idx).duplicated(keep=False).to_numpy()
    area = np.bincount(s_idx[~multi], weights=shapely.area(pieces[~multi]), minlength=n).astype(float)
    if multi.any():  # several brownfields on one site: union, so overlaps count once
        order = np.argsort(s_idx[multi], kind="stable")
        sites_m = s_idx[multi][order]
        starts = np.flatnonzero(np.r_[True, sites_m[1:] != sites_m[:-1]])
        groups = np.split(pieces[multi][order], starts[1:])
        area[sites_m[starts]] += shapely.area(np.array([shapely.union_all(g) for g in groups], dtype=object))
    return np.clip(area / np.maximum(shapely.area(sites), 1e-9), 0, 1)


def brownfield_majority(
    sites: np.ndarray,
    brownfields: np.ndarray,
    tree: shapely.STRtree | None = None,
    threshold: float = BROWNFIELD_OVERLAP,
    area_of: AreaOf | None = None,
) -> np.ndarray:
    """Whether at least ``threshold`` of each site lies on brownfields (exactly as with the union).

    Same answer as ``brownfield_fraction(...) >= threshold`` with far less geometry work: the
    sum of the brownfields' own areas bounds the overlap from above, the largest single piece
    bounds it from below, and only sites the bounds cannot decide get the exact union.
    ``area_of(site rows, brownfield rows)`` gives the pieces' areas (default: intersected here).
    """
    n = len(sites)
    out = np.zeros(n, dtype=bool)
    if len(brownfields) == 0 or n == 0:
        return out
    tree = tree or shapely.STRtree(brownfields)
    s_idx, b_idx = tree.query(sites, predicate="intersects")
    need = threshold * shapely.area(sites)
    upper = np.bincount(s_idx, weights=shapely.area(brownfields[b_idx]), minlength=n)
    keep = upper[s_idx] >= need[s_idx]
    s_idx, b_idx = s_idx[keep], b_idx[keep]
    piece = (area_of or _intersection_area(sites, brownfields))(s_idx, b_idx)
    upper = np.bincount(s_idx, weights=piece, minlength=n)
    lower = np.zeros(n)
    np.maximum.at(lower, s_idx, piece)
    out = lower >= need
    unsure = np.flatnonzero(~out & (upper >= need))
    if len(unsure):
        out[unsure] = brownfield_fraction(sites[unsure], brownfields, tree) >= threshold
    return out


# -- funding --------------------------------------------------------------------------------------
FUNDING_RANK = ("GRW_C", "JTF", "FIVE_SITES", "GRW_D")


def funding_region(ags: np.ndarray, table: pd.DataFrame) -> tuple[np.ndarray, list[list[str]]]:
    """Best funding category per municipality key, and every programme that applies.

    ``table`` has ``key`` (5-digit Kreis or 8-digit Gemeinde AGS) and ``category``.
    Sites without a municipality get None (unknown); those in no listed area get ``"none"``.
    """
    by_key: dict[str, set[str]] = {}
    for key, cat in zip(table["key"], table["category"], strict=True):
        by_key.setdefault(str(key), set()).add(str(cat))
    best: list[str | None] = []
    programmes: list[list[str]] = []
    for a in ags:
        if a is None or (isinstance(a, float) and np.isnan(a)):
            best.append(None)
            programmes.append([])
            continue
        cats = by_key.get(a, set()) | by_key.get(a[:5], set())
        ordered = [c for c in FUNDING_RANK if c in cats]
        best.append(ordered[0] if ordered else "none")
        programmes.append(ordered)
    return np.array(best, dtype=object), programmes
