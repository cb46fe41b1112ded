"""The demo's SYNTHETIC 100 m population grid of NRW + 30 km (issue 21 §5).

Inside NRW every cell belongs to the Kreis whose municipality holds its centre (``rasterize``, a
pure-numpy scan-line fill). Each Kreis's **real** population of 31.12.2018
(``layers/facts/kreis_population_2018.csv``, Destatis) is drawn over its cells by one multinomial
draw, so the grid sums per Kreis exactly, to the person, to the official total (NRW 17,932,651).
The cell weights are SYNTHETIC: the demo's urban intensity (``layers.demo._urbanity``: each
municipality's pull decays with distance, kreisfreie Städte strongest, which makes the Rhine and
Ruhr cities dense), a settled share of the cells that grows with it (open land between villages
stays empty) and log-normal cell-to-cell variation.

Outside NRW (the 30 km margin): cells inside the German neighbour Kreise
(``layers/facts/population_margin.json``, BKG VG250) get a Poisson draw around the neighbours'
real mean density of 2018 (≈ 180 persons/km²), with the same kind of synthetic variation;
cells in the Netherlands and Belgium get none, as in the Zensus, which covers Germany only.

Budget: about 1 s and under 200 MB for the 3,120 × 3,040 grid.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.grid import GridSpec
from layers.demo import _urbanity
from layers.demo import _weights as urban_weights
from layers.population import ATTRIBUTION, LAYER, LICENCE, POP_GRID_100M, PopulationGrid, read_zensus_grid
from layers.sources import Format, LayerSpec, register_layer


@lru_cache(maxsize=1)
def kreis_population() -> pd.DataFrame:
    """The 53 NRW Kreise and their population of 31.12.2018 (Destatis), keys as text."""
    with resources.files("layers").joinpath("facts/kreis_population_2018.csv").open("rb") as f:
        return pd.read_csv(f, dtype={"kreis_ags": str})


@lru_cache(maxsize=1)
def margin_facts() -> tuple[float, shapely.Geometry]:
    """The neighbour Kreise's mean density (persons/km²) and their land outline in the margin."""
    with resources.files("layers").joinpath("facts/population_margin.json").open("rb") as f:
        doc = json.load(f)
    return float(doc["density_per_km2"]), shapely.from_wkt(doc["wkt"])


def rasterize(geoms: np.ndarray, spec: GridSpec) -> np.ndarray:
    """Index (int32) of the polygon holding each cell's centre, -1 where none (even-odd rule).

    Polygons must not overlap (a coverage such as the municipalities); a centre exactly on a
    shared edge goes to one of them.
    """
    geoms = np.asarray(geoms, dtype=object)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    xy, ring_of = shapely.get_coordinates(rings, return_index=True)
    cx = (xy[:, 0] - spec.x0) / spec.res - 0.5  # column / row coordinates: centres at integers
    cy = (spec.y1 - xy[:, 1]) / spec.res - 0.5
    same = ring_of[:-1] == ring_of[1:]
    xa, xb, ya, yb = cx[:-1][same], cx[1:][same], cy[:-1][same], cy[1:][same]
    who = owner[ring_part[ring_of[:-1][same]]]
    lo, hi = np.ceil(np.minimum(ya, yb)), np.ceil(np.maximum(ya, yb))  # rows lo .. hi-1 cross
    lo, hi = np.clip(lo, 0, spec.ny), np.clip(hi, 0, spec.ny)
    count = (hi - lo).astype(np.int64)
    keep = count > 0
    xa, xb, ya, yb, who, lo, count = xa[keep], xb[keep], ya[keep], yb[keep], who[keep], lo[keep], count[keep]
    edge = np.repeat(np.arange(len(count)), count)
    row = lo[edge] + (np.arange(len(edge)) - np.repeat(np.cumsum(count) - count, count))
    x = xa[edge] + (row - ya[edge]) * (xb[edge] - xa[edge]) / (yb[edge] - ya[edge])
    order = np.lexsort((x, row, who[edge]))
    x, row, poly = x[order], row[order].astype(np.int64), who[edge][order]
    c0 = np.clip(np.ceil(x[0::2]), 0, spec.nx).astype(np.int64)  # spans: centres in [x_in, x_out)
    c1 = np.clip(np.ceil(x[1::2]), 0, spec.nx).astype(np.int64)
    r, p = row[0::2], poly[0::2]
    span = c1 > c0
    start, end, val = r[span] * spec.nx + c0[span], r[span] * spec.nx + c1[span], p[span].astype(np.int32) + 1
    # spans never overlap and end within their row: a running sum of +v at starts, −v at ends
    label = np.zeros(spec.nx * spec.ny + 1, dtype=np.int32)
    np.add.at(label, start, val)
    np.add.at(label, end, -val)
    np.cumsum(label, out=label)
    label -= 1
    return label[:-1].reshape(spec.shape)


def _towns(municipalities: gpd.GeoDataFrame) -> pd.DataFrame:
    """What ``layers.demo._urbanity`` needs of each municipality: key, position and area."""
    geoms = municipalities.geometry.values
    pts = shapely.point_on_surface(geoms)
    return pd.DataFrame(
        {
            "ags": municipalities["ags"].to_numpy(str),
            "x": shapely.get_x(pts),
            "y": shapely.get_y(pts),
            "area_km2": shapely.area(geoms) / 1e6,
        }
    )


def _weights(rng: np.random.Generator, u: np.ndarray) -> np.ndarray:
    """Cell weights from urban intensity ``u``: a settled share 0.12 + 0.85·u of the cells, each
    weighing exp(4u) × a log-normal factor of mean 1 (σ 0.9); the others 0 (float32).
    """
    settled = rng.random(len(u), dtype=np.float32) < (0.12 + 0.85 * u)
    z = rng.standard_normal(len(u), dtype=np.float32)
    w: np.ndarray = np.exp(4.0 * u + 0.9 * z - 0.405, dtype=np.float32)
    w[~settled] = 0.0
    return w


def _apportion(rng: np.random.Generator, total: int, weight: np.ndarray) -> np.ndarray:
    """Whole persons per cell, ∝ ``weight``, summing exactly to ``total``: unbiased random
    rounding of the expected counts, then the few persons the rounding gained or lost are taken
    from or given to the cells rounded most the other way.
    """
    w = weight.astype(np.float64)
    w = w if w.sum() > 0 else np.ones(len(w))
    q = total * w / w.sum()
    n: np.ndarray = np.floor(q + rng.random(len(q)))
    frac = q - n  # in (-1, 1): > 0 rounded down, < 0 rounded up
    diff = total - int(n.sum())
    if diff > 0:
        n[np.argpartition(-frac, diff - 1)[:diff]] += 1
    elif diff < 0:
        frac[n < 1] = np.inf  # never below 0
        n[np.argpartition(frac, -diff - 1)[:-diff]] -= 1
    return n


def generate(
    rng: np.random.Generator, municipalities: gpd.GeoDataFrame, spec: GridSpec = POP_GRID_100M
) -> PopulationGrid:
    """The SYNTHETIC population grid; sums per Kreis equal the 2018 totals exactly."""
    f = _towns(municipalities)
    u = _urbanity(f, urban_weights(f), spec).ravel()  # 0–1, float32, computed on 1 km cells
    totals = kreis_population().set_index("kreis_ags")["population"]
    kreis_keys = np.asarray(sorted(set(municipalities["kreis_ags"])))
    missing = sorted(set(kreis_keys) - set(totals.index))
    if missing:
        raise ValueError(
            f"no 2018 population for the Kreise {missing} (layers/facts/kreis_population_2018.csv)"
        )
    muni_kreis = np.searchsorted(kreis_keys, municipalities["kreis_ags"].to_numpy(str)).astype(np.int32)
    label = rasterize(np.asarray(municipalities.geometry.values, dtype=object), spec).ravel()
    inside = np.flatnonzero(label >= 0).astype(np.int32)  # NRW's cells, and the Kreis of each
    kreis = muni_kreis[label[inside]]
    density, outline = margin_facts()
    german = rasterize(np.array([outline], dtype=object), spec).ravel() == 0
    german &= label < 0
    del label
    margin = np.flatnonzero(german).astype(np.int32)
    del german
    u_in, u_margin = u[inside], u[margin]
    del u
    grid = np.zeros(spec.nx * spec.ny, dtype=np.float32)
    weight = _weights(rng, u_in)
    order = np.argsort(kreis, kind="stable").astype(np.int32)
    bounds = np.searchsorted(kreis[order], np.arange(len(kreis_keys) + 1))
    for k, key in enumerate(kreis_keys):  # each Kreis gets its exact total
        sel = order[bounds[k] : bounds[k + 1]]
        grid[inside[sel]] = _apportion(rng, int(totals[key]), weight[sel])
    # the margin: German neighbour Kreise, their real mean density with synthetic variation
    w = _weights(rng, u_margin)
    expect = density * (spec.res / 1000.0) ** 2 * w / max(float(w.mean()), 1e-9)
    grid[margin] = np.floor(expect + rng.random(len(w), dtype=np.float32))
    return PopulationGrid(
        "grid_100m", grid=grid.reshape(spec.shape), spec=spec, cells=int(np.count_nonzero(grid))
    )


NOTE = (
    "SYNTHETIC 100 m population grid (NRW + 30 km): residents drawn around the real municipalities "
    "(denser in the Rhine and Ruhr cities); sums per Kreis equal the real Destatis totals of "
    "31.12.2018 (layers/facts/kreis_population_2018.csv; NRW 17,932,651). Outside NRW: a flat mean "
    "density of the real German neighbour Kreise with synthetic variation, 0 in NL and BE"
)

# The layer is registered here, beside its demo generator (layers/population.py holds the reader).
register_layer(
    LayerSpec(
        LAYER,
        formats={"zensus-grid": Format(read_zensus_grid, LICENCE, ATTRIBUTION)},
        kind="grid",
        demo=generate,
        note=NOTE,
    )
)
