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

from collections.abc import Mapping

import numpy as np
import pandas as pd
import shapely
from exactextract import exact_extract
from exactextract.feature import Feature, FeatureSource
from exactextract.raster import NumPyRasterSource

from geo.grid import Coverage

BROWNFIELD_OVERLAP = 0.5  # a site counts as brownfield reuse when ≥ 50 % overlaps brownfields


def area_ha(geoms: np.ndarray) -> np.ndarray:
    """Return planar areas in hectares."""
    return shapely.area(geoms) / 10_000.0


# -- overlaps with units (municipalities) ---------------------------------------------------------
def unit_overlaps(sites: np.ndarray, units: np.ndarray,
                  tree: shapely.STRtree | None = None) -> pd.DataFrame:
    """Return (site, unit, area_m2) for every site/unit pair that overlaps.

    Sites that lie inside a single unit skip the polygon intersection. ``tree`` may be a
    prebuilt STRtree over ``units``.
    """
    tree = tree or shapely.STRtree(units)
    s_idx, u_idx = tree.query(sites, predicate="intersects")
    pairs = pd.DataFrame({"site": s_idx, "unit": u_idx})
    counts = pairs["site"].map(pairs["site"].value_counts())
    single = (counts == 1).to_numpy()
    area = np.empty(len(pairs))
    area[single] = shapely.area(shapely.intersection(sites[s_idx[single]], units[u_idx[single]]))
    within = np.zeros(len(pairs), dtype=bool)
    if single.any():
        within[single] = shapely.within(sites[s_idx[single]], units[u_idx[single]])
        area[single & within] = shapely.area(sites[s_idx[single & within]])
    multi = ~single
    if multi.any():
        area[multi] = shapely.area(shapely.intersection(sites[s_idx[multi]], units[u_idx[multi]]))
    pairs["area_m2"] = area
    return pairs[pairs["area_m2"] > 0].reset_index(drop=True)


def largest_overlap(pairs: pd.DataFrame, n_sites: int) -> np.ndarray:
    """Return, per site, the unit with the largest overlap (-1 when none)."""
    out = np.full(n_sites, -1, dtype=np.int64)
    if len(pairs):
        best = pairs.sort_values("area_m2").drop_duplicates("site", keep="last")
        out[best["site"].to_numpy()] = best["unit"].to_numpy()
    return out


def unit_share(pairs: pd.DataFrame, unit_keys: np.ndarray, values: pd.Series,
               site_area_m2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Area-weighted share per site from statistics per unit.

    ``unit_keys`` are the keys of the units in ``pairs`` (AGS, or the Kreis key for Kreis
    statistics); ``values`` maps keys to shares (NaN = unknown). Returns (share, data_fraction):
    the share over the part of the site with data, and which fraction of the site had data.
    """
    n = len(site_area_m2)
    v = pd.Series(unit_keys[pairs["unit"].to_numpy()]).map(values).to_numpy(float)
    ok = np.isfinite(v)
    a = pairs["area_m2"].to_numpy()
    s = pairs["site"].to_numpy()
    num = np.bincount(s[ok], weights=a[ok] * v[ok], minlength=n)
    den = np.bincount(s[ok], weights=a[ok], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(den > 0, num / den, np.nan)
    return share, np.clip(den / np.maximum(site_area_m2, 1e-9), 0, 1)


# -- coverage on the grid -------------------------------------------------------------------------
class _WKBFeature(Feature):
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


class _WKBSource(FeatureSource):
    """Feed shapely geometries to exactextract as WKB, without a GeoDataFrame round trip."""

    def __init__(self, geoms: np.ndarray):
        super().__init__()
        self.wkbs = shapely.to_wkb(geoms)

    def count(self) -> int:  # noqa: D102
        return len(self.wkbs)

    def __iter__(self):  # noqa: D105
        for i, w in enumerate(self.wkbs):
            yield _WKBFeature(i, w)

    def srs_wkt(self) -> None:  # noqa: D102
        return None


def grid_share(sites: np.ndarray, cov: Coverage) -> tuple[np.ndarray, np.ndarray]:
    """Coverage-weighted mean share and data fraction per site over a 100 m grid."""
    assert cov.grid is not None
    n = len(sites)
    xmin, ymin, xmax, ymax = cov.spec.bounds
    raster = NumPyRasterSource(np.asarray(cov.grid), xmin, ymin, xmax, ymax, nodata=np.nan)
    rows = exact_extract(raster, _WKBSource(sites), ["mean", "count"], include_cols=["fid"],
                         output="pandas")
    share = np.full(n, np.nan)
    cells = np.zeros(n)
    fid = rows["fid"].to_numpy(int)
    share[fid] = rows["mean"].to_numpy(float)
    cells[fid] = rows["count"].to_numpy(float)
    cell_area = cov.spec.res ** 2
    fraction = np.clip(cells * cell_area / np.maximum(shapely.area(sites), 1e-9), 0, 1)
    share[cells <= 0] = np.nan
    return share, fraction


def coverage_share(sites: np.ndarray, cov: Coverage, pairs: pd.DataFrame,
                   unit_ags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
    segs = shapely.linestrings(np.stack([coords[starts], coords[starts + 1]], axis=1))
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


def h2_by_year(sites: np.ndarray, lines: np.ndarray,
               years: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Distance (km) to, and commissioning year of, the nearest segment in service by each year.

    Returns ``{Y: (distance_km, year_of_nearest)}`` for every commissioning year ``Y`` present,
    counting the segments with ``year ≤ Y``; NaN where no segment is in service yet.
    """
    years = np.asarray(years, dtype=int)
    best_d = np.full(len(sites), np.inf)
    best_y = np.full(len(sites), np.nan)
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for y in np.unique(years):
        d, _ = nearest_lines(sites, lines[years == y])
        closer = d < best_d
        best_d = np.where(closer, d, best_d)
        best_y = np.where(closer, y, best_y)
        km = np.where(np.isfinite(best_d), best_d / 1000.0, np.nan)
        out[int(y)] = (km, best_y.copy())
    return out


def pick_horizon(by_year: Mapping[int, tuple[np.ndarray, np.ndarray]], horizon: int,
                 n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (distance_km, year) for the latest commissioning year not after ``horizon``."""
    usable = [y for y in by_year if y <= horizon]
    if not usable:
        return np.full(n, np.nan), np.full(n, np.nan)
    return by_year[max(usable)]


# -- brownfields ----------------------------------------------------------------------------------
def brownfield_fraction(sites: np.ndarray, brownfields: np.ndarray,
                        tree: shapely.STRtree | None = None) -> np.ndarray:
    """Fraction of each site's area that lies on (the union of) brownfields."""
    n = len(sites)
    out = np.zeros(n)
    if len(brownfields) == 0 or n == 0:
        return out
    tree = tree or shapely.STRtree(brownfields)
    s_idx, b_idx = tree.query(sites, predicate="intersects")
    if not len(s_idx):
        return out
    pieces = shapely.intersection(sites[s_idx], brownfields[b_idx])
    df = pd.DataFrame({"site": s_idx, "piece": pieces})
    multi = df["site"].duplicated(keep=False).to_numpy()
    area = np.bincount(s_idx[~multi], weights=shapely.area(pieces[~multi]), minlength=n)
    for site, group in df[multi].groupby("site"):
        area[site] += shapely.area(shapely.union_all(group["piece"].to_numpy()))
    return np.clip(area / np.maximum(shapely.area(sites), 1e-9), 0, 1)


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
    best, programmes = [], []
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
