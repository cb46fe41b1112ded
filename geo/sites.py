"""The derived ``sites`` layer: candidates from the plan, brownfield and LEP layers, with indicators.

``site_id`` is stable across rebuilds: ``rp-<area_id>``, ``bf-<area_id>``, ``lep-<area_id>``.
Columns starting with ``_`` are internal (per-year hydrogen distances, data fractions).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo import availability, nearest, planning
from geo import indicators as ind
from geo.access import PUBLIC_FIELD, RESTRICTED_FIELDS
from geo.availability import LAND_FIELDS
from geo.criteria import CRITERIA
from geo.crs import WORK_CRS
from geo.grid import Coverage
from geo.layer_index import LayerIndex
from geo.measures import SiteCache
from geo.pool import ForkPool, fork_available, usable_cores

if TYPE_CHECKING:
    from geopandas.array import GeometryArray

PREFIX = {"regional_plan": "rp", "brownfield": "bf", "lep": "lep"}
PUBLIC_COLUMNS = (
    "site_id",
    "name",
    "kind",
    "ags",
    "municipality",
    "kreis_ags",
    "kreis",
    "area_ha",
    "planning_category",
    "is_brownfield",
    "h2_distance_km",
    "h2_commissioning_year",
    "fibre_share",
    "mobile_5g_share",
    "funding_region",
    "contamination",
    "availability",
    "available_from",
    "restrictions",
    "marketable",
    "available_month",
    "former_use",
    "plan",
    "source_id",
    "motorway_km",
    "rail_km",
    "rail_target",
    "port_km",
    "airport_km",
    # then the indicators of the generic criteria (declared with a measure), in registry order
    *(i.name for c in CRITERIA.values() if c.measure is not None for i in c.indicator_specs),
)
SHARE_LAYERS = ("fibre", "mobile_5g")  # coverage layers of shares (other grids hold counts)


def _array(layer: gpd.GeoDataFrame) -> np.ndarray:
    """A layer's geometries as a plain shapely array."""
    return np.asarray(layer.geometry.values)


def _carried(layer: pd.DataFrame) -> dict[str, np.ndarray]:
    """The land and confidential columns of a candidate layer (geo/access.py), as they are."""
    return {c: layer[c].to_numpy() for c in (*LAND_FIELDS, *RESTRICTED_FIELDS) if c in layer.columns}


def derive_sites(layers: Mapping[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Collect candidate sites from regional_plan, brownfields and lep_sites."""
    frames = []
    if "regional_plan" in layers:
        rp = layers["regional_plan"]
        frames.append(
            pd.DataFrame(
                {
                    "source_id": rp["area_id"].astype(str),
                    "name": rp["name"],
                    "kind": "regional_plan",
                    "planning_category": rp["category"],
                    "plan": rp["plan"],
                    **_carried(rp),
                    "geometry": rp.geometry.values,
                }
            )
        )
    if "brownfields" in layers:
        bf = layers["brownfields"]
        frames.append(
            pd.DataFrame(
                {
                    "source_id": bf["area_id"].astype(str),
                    "name": bf["name"],
                    "kind": "brownfield",
                    "source_ags": bf["ags"],
                    "former_use": bf["former_use"],
                    "contamination": bf["contamination"],
                    **_carried(bf),
                    "geometry": bf.geometry.values,
                }
            )
        )
    if "lep_sites" in layers:
        lep = layers["lep_sites"]
        geoms: GeometryArray | np.ndarray = lep.geometry.values
        points = shapely.get_type_id(geoms) == 0
        if points.any():  # official points: a circle of the reported area
            radius = np.sqrt(lep["area_ha_reported"].fillna(100).to_numpy(float) * 1e4 / np.pi)
            geoms = np.where(points, shapely.buffer(geoms, radius, quad_segs=16), geoms)
        frames.append(
            pd.DataFrame(
                {
                    "source_id": lep["area_id"].astype(str),
                    "name": lep["name"],
                    "kind": "lep",
                    "planning_category": "LEP",
                    "geometry": geoms,
                }
            )
        )
    if not frames:
        return gpd.GeoDataFrame({"site_id": [], "geometry": []}, geometry="geometry", crs=WORK_CRS)
    df = pd.concat(frames, ignore_index=True)
    if PUBLIC_FIELD in df.columns:  # LEP sites and areas without the flag are public
        df[PUBLIC_FIELD] = df[PUBLIC_FIELD].map(lambda v: v is not False and v is not np.False_)
    df.insert(0, "site_id", [f"{PREFIX[k]}-{s}" for k, s in zip(df["kind"], df["source_id"], strict=True)])
    return gpd.GeoDataFrame(df, geometry="geometry", crs=WORK_CRS)


Columns = dict[str, Any]  # a site table as named columns (Series, arrays or scalars), in order


def compute_indicators(
    sites: gpd.GeoDataFrame,
    layers: Mapping[str, gpd.GeoDataFrame],
    coverage: Mapping[str, Coverage],
    funding: pd.DataFrame | None,
    progress: Callable[[str], None] | None = None,
    index: LayerIndex | None = None,
    warn: Callable[[str], None] | None = None,
    data_date: dt.date | None = None,
    extent: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Add every indicator column of DESIGN §3.3 to ``sites`` (returns a new frame).

    ``extent``: where ``sites`` are one partition of a larger batch, the bounds of the whole
    batch's centroids (``geo.measures.SiteCache``), so sums within a radius come out bit for bit
    as in one run over the batch (layers/engine_dask.py).

    ``data_date`` is the day the candidate layers' availability classes refer to (a build);
    without it (ad-hoc areas) availability stays missing: no data, not "unknown".

    ``index`` holds the layers' trees and arrays between calls (ad-hoc scoring; geo/layer_index.py).
    A site's ``ags`` is the municipality holding most of its area; a key the source gave
    (``source_ags``, e.g. a brownfield cadastre's) is checked against it, and each mismatch is
    reported through ``warn`` naming the site id; the geometry wins (the source key is kept only
    for a site that lies in no municipality at all).
    """
    given: Columns = {c: sites[c] for c in sites.columns if c != "geometry"}
    geoms = _array(sites)
    cols = indicator_columns(
        given, geoms, layers, coverage, funding, progress, index, warn, data_date, extent
    )
    frame = pd.DataFrame(cols, index=sites.index)
    frame["geometry"] = sites.geometry.values
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=WORK_CRS)


def indicator_columns(
    given: Columns,
    geoms: np.ndarray,
    layers: Mapping[str, gpd.GeoDataFrame],
    coverage: Mapping[str, Coverage],
    funding: pd.DataFrame | None,
    progress: Callable[[str], None] | None = None,
    index: LayerIndex | None = None,
    warn: Callable[[str], None] | None = None,
    data_date: dt.date | None = None,
    extent: tuple[float, float, float, float] | None = None,
) -> Columns:
    """``compute_indicators`` on columns: the sites' own columns (``given``, without geometry)
    and their geometries in; every column of the indicator table out, in its order. Ad-hoc
    scoring calls it directly and builds one frame, not one per step.
    """
    idx = index if index is not None else LayerIndex(layers)
    step = progress or (lambda _m: None)
    out: Columns = dict(given)
    n = len(geoms)
    out["area_ha"] = ind.area_ha(geoms)
    # coverage on grids runs in worker processes while the vector indicators are computed
    share_grids = {k: coverage[k] for k in SHARE_LAYERS if k in coverage and coverage[k].grid is not None}
    grid_job = ind.GridShares(geoms, share_grids)
    # likewise, in a forked worker at NRW scale
    generic = GenericMeasures(geoms, layers, coverage, idx, extent)
    try:
        step("municipality and Kreis (largest overlap)")
        pairs, unit_ags = _municipality(out, geoms, idx, warn)
        step("planning status and brownfield overlap")
        planning.planning_status(out, geoms, idx, _layer_rows(out, geoms, idx))
        planning.host_land(out, geoms, idx)
        step("hydrogen core network distance")
        _hydrogen(out, geoms, idx)
        step("transport access (straight-line distances)")
        out.update(nearest.transport_distances(geoms, layers, idx))
        generic.store(out, step)
    except BaseException:
        generic.terminate()
        raise

    step("fibre and 5G shares")
    shares = grid_job.result()
    for name in SHARE_LAYERS:
        if name in shares:
            share, frac = shares[name]
        elif name in coverage:
            share, frac = ind.coverage_share(geoms, coverage[name], pairs, unit_ags)
        else:
            share, frac = np.full(n, np.nan), np.zeros(n)
        out[f"{name}_share"] = share
        out[f"_{name}_data"] = frac

    step("funding region")
    out["funding_region"] = (
        ind.funding_region(np.asarray(out["ags"], dtype=object), funding)[0] if funding is not None else None
    )
    for col in ("contamination", *LAND_FIELDS, "former_use", "plan"):
        if col not in out:
            out[col] = None
    if data_date is not None:  # stored candidates (not ad-hoc areas): availability is known or unknown
        out.update(
            availability.derive(
                _values(out, "availability", n),
                _values(out, "available_from", n),
                _values(out, "restrictions", n),
                data_date,
            )
        )
    else:
        out["available_month"], out["marketable"] = np.nan, None
    order = [c for c in PUBLIC_COLUMNS if c in out]
    return {c: out[c] for c in order + [c for c in out if c not in order]}


def _values(cols: Columns, name: str, n: int) -> np.ndarray:
    """A column as an object array of ``n`` values (a scalar column repeated)."""
    v = cols[name]
    return np.asarray(v, dtype=object) if np.ndim(v) else np.full(n, v, dtype=object)


FORKED_SITES = 10_000  # from this many sites the generic measures run in a forked worker
Job = tuple[Any, Any, Any]  # (criterion, its measure, the layer as the measure reads it or None)
Shared = tuple[np.ndarray, list[Job], tuple[float, float, float, float] | None]  # sites, jobs, extent


class GenericMeasures:
    """The indicators of the generic criteria: declared, not coded (geo/measures.py).

    From ``FORKED_SITES`` sites (a build) the measures run in one forked worker process
    (``geo.pool.ForkPool``; sites and layers reach it copy-on-write), started before the vector
    indicators of the main process, so the two overlap on the machine's two cores like the fibre
    and 5G grids (``GridShares``): at 50,000 sites the worker's ~1.3 s of CPU is done before the
    main process needs the columns. Threads were slower: the measures' many short numpy calls
    wait for the GIL (two threads took 2.5 s where one took 1.3 s on a loaded machine). Smaller
    batches (ad-hoc scoring) run them in this process, one after the other.
    """

    def __init__(
        self,
        geoms: np.ndarray,
        layers: Mapping[str, gpd.GeoDataFrame],
        coverage: Mapping[str, Coverage],
        index: LayerIndex | None = None,
        extent: tuple[float, float, float, float] | None = None,
    ):
        self.geoms = geoms
        self.index = index  # what measures derive from their layers, kept (in this process only)
        self.extent = extent
        self.jobs: list[Job] = []
        for crit in CRITERIA.values():
            m = crit.measure
            if m is not None:
                self.jobs.append((crit, m, coverage.get(m.layer) if m.grid else layers.get(m.layer)))
        self._pool: ForkPool[Shared, int, list[list[np.ndarray]]] | None = None
        if self.jobs and len(geoms) >= FORKED_SITES and fork_available() and usable_cores() > 1:
            self._pool = ForkPool(run_measures, (geoms, self.jobs, extent), workers=1)
            self._async = self._pool.map_async([0])

    def store(self, out: Columns, step: Callable[[str], None]) -> None:
        """Set the columns (waiting for the worker, if any), in registry order."""
        if self._pool is None:
            shared = SiteCache(self.geoms, index=self.index, extent=self.extent)
            for job in self.jobs:
                crit, m, layer = job
                step(f"{crit.name}: {m.kind} over {m.layer}" + ("" if layer is not None else " (no data)"))
                _set_columns(out, crit, _measure(self.geoms, job, shared))
            return
        step("generic criteria (forked worker): " + ", ".join(job[0].name for job in self.jobs))
        try:
            (columns,) = self._async.get()
        finally:
            self._pool.close()
            self._pool = None
        for job, cols in zip(self.jobs, columns, strict=True):
            _set_columns(out, job[0], cols)

    def terminate(self) -> None:
        """Stop the worker (on an error in the main process)."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool = None


def _measure(geoms: np.ndarray, job: Job, shared: SiteCache) -> list[np.ndarray]:
    """One measure's columns (NaN without its layer)."""
    _, m, layer = job
    if layer is None:
        return list(m.missing(len(geoms)))
    columns: list[np.ndarray] = m.compute(geoms, layer, shared)
    return columns


def run_measures(shared: Shared, _item: int) -> list[list[np.ndarray]]:
    """Every measure, one after the other, sharing centroids and anchors (in the forked worker;
    bench/score.py runs it alone)."""
    geoms, jobs, extent = shared
    cache = SiteCache(geoms, extent=extent)
    return [_measure(geoms, job, cache) for job in jobs]


def _set_columns(out: Columns, crit: Any, columns: list[np.ndarray]) -> None:
    """Store a measure's columns under its criterion's indicator names."""
    for spec, column in zip(crit.indicator_specs, columns, strict=False):
        out[spec.name] = column


def ags_warning(ids: np.ndarray, own: np.ndarray, ags: np.ndarray) -> str | None:
    """The warning for sites whose source key (``own``, e.g. a cadastre's AGS) differs from the
    key their geometry gives (``ags``), in site order; None where none does. A function of the
    whole batch (a count and the first 20), so a partitioned build calls it once, after the
    partitions are joined (layers/engine_dask.py)."""
    own = np.asarray(own, dtype=object)
    given = np.array([isinstance(a, str) and bool(a) for a in own], dtype=bool)
    wrong = np.flatnonzero(given & (own != np.asarray(ags, dtype=object)))
    if not len(wrong):
        return None
    shown = ", ".join(f"{ids[i]} ({own[i]} → {ags[i]})" for i in wrong[:20])
    more = f" and {len(wrong) - 20} more" if len(wrong) > 20 else ""
    return (
        f"{len(wrong)} site(s) carry a municipality key (AGS) that their geometry "
        "contradicts; the key of the municipality holding most of the site's area is "
        f"used (site id: source AGS → AGS): {shown}{more}"
    )


def _municipality(
    out: Columns, geoms: np.ndarray, idx: LayerIndex, warn: Callable[[str], None] | None
) -> tuple[ind.Overlaps, np.ndarray]:
    """Set ags, municipality, kreis_ags and kreis (largest overlap; a source key is checked)."""
    pairs = ind.overlaps(geoms, idx.geoms("municipalities"), idx.tree("municipalities"))
    best = ind.largest_overlap(pairs, len(geoms))
    unit_ags = idx.column("municipalities", "ags")
    # each key's row, made once per snapshot; a hash look-up, not np.isin: over object arrays
    # np.isin compares every site with every municipality (0.45 s for 50,000 sites and 396 keys)
    by_key = idx.memo("municipalities", "ags_row", lambda: {a: i for i, a in enumerate(unit_ags.tolist())})
    # attr-defined: numpy's stubs take where(c, x, None) for where(c) (None is no ArrayLike)
    ags = np.where(best >= 0, unit_ags[np.maximum(best, 0)], None).astype(object)  # type: ignore[attr-defined]
    if "source_ags" in out:  # checked against the geometry, which wins
        own = np.asarray(out.pop("source_ags"), dtype=object)
        nowhere = pd.isna(ags) & np.fromiter((a in by_key for a in own), dtype=bool, count=len(own))
        ags = np.where(nowhere, own, ags)
        message = ags_warning(np.asarray(out["site_id"], dtype=object), own, ags)
        if message is not None and warn is not None:
            warn(message)
    at = np.fromiter((by_key.get(a, -1) for a in ags), dtype=np.int64, count=len(ags))  # -1: no such key
    out["ags"] = ags
    for col, field in (("municipality", "name"), ("kreis_ags", "kreis_ags"), ("kreis", "kreis_name")):
        values = idx.column("municipalities", field)[np.maximum(at, 0)]  # a copy
        values[at < 0] = np.nan  # as a lookup by key gives it
        out[col] = values
    return pairs, unit_ags


def _site_ids(layer: gpd.GeoDataFrame, kind: str) -> pd.Index:
    """The site ids of a candidate layer's rows, in row order."""
    return pd.Index(f"{PREFIX[kind]}-" + layer["area_id"].astype(str))


def _layer_rows(out: Columns, geoms: np.ndarray, idx: LayerIndex) -> dict[str, np.ndarray]:
    """For the plan areas and the brownfields, each site's row in the layer it was derived from
    (``site_id`` names it and the geometry is that row's, exactly), else -1 (ad-hoc areas,
    sites of other layers): for geo.planning, which then intersects each pair of rows once."""
    found = {}
    kinds = np.asarray(out["kind"], dtype=object)
    for name, kind in (("regional_plan", "regional_plan"), ("brownfields", "brownfield")):
        rows = found[name] = np.full(len(geoms), -1)
        mine = np.flatnonzero(kinds == kind)  # none for ad-hoc areas: nothing to look up
        if name not in idx.layers or "site_id" not in out or not len(mine):
            continue
        ids = idx.memo(name, "site_ids", partial(_site_ids, idx.layers[name], kind))
        at = ids.get_indexer(pd.Index(np.asarray(out["site_id"], dtype=object)[mine]))
        some = mine[at >= 0]
        at = at[at >= 0]
        same = shapely.equals_exact(geoms[some], idx.geoms(name)[at], tolerance=0)
        rows[some[same]] = at[same]
    return found


def _hydrogen(out: Columns, geoms: np.ndarray, idx: LayerIndex) -> None:
    """Set the distance to the Kernnetz for every commissioning year and the latest one."""
    if "hydrogen" in idx.layers and len(idx.layers["hydrogen"]):
        years = idx.column("hydrogen", "commissioning_year", int)
        by_year = ind.h2_by_year(geoms, idx.geoms("hydrogen"), years)
        for year, (km, yr) in by_year.items():
            out[f"_h2_km_{year}"] = km
            out[f"_h2_year_{year}"] = yr
        last = max(by_year)
        out["h2_distance_km"], out["h2_commissioning_year"] = by_year[last]
    else:
        out["h2_distance_km"] = np.nan
        out["h2_commissioning_year"] = np.nan
