"""The embedded default: a deterministic, clearly synthetic demo dataset at NRW scale.

Real facts where they are facts:
- the 396 municipalities and 53 Kreise: names, AGS keys and boundaries (Geobasis NRW DVG2,
  generalised with ``coverage_simplify`` at 50 m, layers/facts/nrw_boundaries.topojson);
- the four LEP NRW sites at their approximate positions and reported sizes (layers/lep.py);
- the Kernnetz place names and their geocoded positions (PyPSA-DE, layers/facts/);
- the six planning regions and which Kreise belong to the Regionalverband Ruhr.

Synthetic (and labelled so in the manifest, the API, the UI and every export):
- regional-plan areas and brownfields: positions drawn around towns (denser in cities), inside
  NRW's real boundary, sizes log-normal (GIB median ≈ 25 ha, brownfields ≈ 2.5 ha), categories
  and attributes by frequency; each takes its name, key, Kreis and plan from the municipality
  holding most of its area (so a name never names another town);
- Kernnetz segments: straight lines between real place names (nearest-neighbour network),
  commissioning 2025–2032, conversion or new build;
- fibre and 5G: 100 m grids with an urban gradient, regional patches and rural gaps.

The same ``seed`` and ``n_sites`` give the same data on every machine.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.areas import union
from geo.crs import WORK_CRS, transformer
from geo.grid import NRW_GRID, Coverage, GridSpec
from geo.indicators import largest_overlap, unit_overlaps
from layers import lep
from layers.demo_land import SHARES, add_land
from layers.demo_transport import NOTES as TRANSPORT_NOTES
from layers.demo_transport import demo_transport
from layers.municipalities import boundaries, facts
from layers.schema import OWNER_WILLING, check

SYNTHETIC_LICENCE = "CC0-1.0 (generated demo data)"
SYNTHETIC_ATTRIBUTION = "NRW Site Finder demo data — SYNTHETIC, not official"
RVR_KREISE = frozenset(
    {
        "05112",
        "05113",
        "05117",
        "05119",
        "05170",
        "05512",
        "05513",
        "05562",
        "05911",
        "05913",
        "05914",
        "05915",
        "05916",
        "05954",
        "05978",
    }
)
PLAN_BY_RB = {
    "1": "Regionalplan Düsseldorf",
    "3": "Regionalplan Köln",
    "5": "Regionalplan Münsterland",
    "7": "Regionalplan OWL",
    "9": "Regionalplan Arnsberg",
}
PLAN_RUHR = "Regionalplan Ruhr"
CATEGORIES = (("GIB", 0.66), ("ASB_GE", 0.20), ("GIB_Z", 0.11), ("LARGE_PROJECT", 0.03))
CONTAMINATION = (
    ("none", 0.33),
    ("suspected", 0.25),
    ("confirmed", 0.12),
    ("remediated", 0.14),
    ("unknown", 0.16),
)
AVAILABILITY = tuple(zip(("now", "lt_1y", "1_3y", "gt_3y", "unknown"), SHARES["brownfields"], strict=True))
FORMER_USE = (
    ("Industrie", 0.30),
    ("Gewerbe", 0.22),
    ("Bahnfläche", 0.14),
    ("Bergbau (Zeche)", 0.03),
    ("Militär (Kaserne)", 0.07),
    ("Kraftwerk", 0.04),
    ("Hafen", 0.05),
    ("Ziegelei", 0.06),
)
GIB_NAMES = (
    "Industriegebiet",
    "Gewerbe- und Industriepark",
    "GIB",
    "Industriepark",
    "Gewerbegebiet",
    "Logistikpark",
    "Hafengebiet",
    "Technologiepark",
)
PARTS = (
    "Nord",
    "Süd",
    "Ost",
    "West",
    "Mitte",
    "am Kanal",
    "an der Autobahn",
    "Bahnhof",
    "Feldmark",
    "Heide",
    "I",
    "II",
    "III",
)
OPERATORS = ("Open Grid Europe", "Thyssengas", "Nowega", "Gasunie Deutschland", "Westnetz", "Fluxys TENP")


@dataclass
class Demo:
    """The generated layers, coverage grids and per-layer provenance."""

    layers: dict[str, gpd.GeoDataFrame]
    coverage: dict[str, Coverage]
    notes: dict[str, str]


@lru_cache(maxsize=1)
def nrw_outline() -> shapely.MultiPolygon:
    """NRW's generalised outline (DVG2, 1.5 km Douglas-Peucker), EPSG:25832."""
    with resources.files("layers").joinpath("facts/nrw_outline.json").open("rb") as f:
        outline: shapely.MultiPolygon = shapely.from_wkt(json.load(f)["wkt"])
    return outline


def kernnetz_places() -> pd.DataFrame:
    """Kernnetz place names with WGS84 positions (PyPSA-DE geocoding of the FNB lists)."""
    with resources.files("layers").joinpath("facts/kernnetz_places.csv").open("rb") as f:
        return pd.read_csv(f)


def _choice(rng: np.random.Generator, table: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    names = np.array([t[0] for t in table])
    p = np.array([t[1] for t in table])
    return rng.choice(names, size=n, p=p / p.sum())


@dataclass
class _Units:
    """The real municipalities (generalised DVG2) and their union, NRW, for placing sites."""

    gdf: gpd.GeoDataFrame
    tree: shapely.STRtree
    state: shapely.Geometry

    def holder(self, geoms: np.ndarray) -> np.ndarray:
        """Row of the municipality holding most of each geometry's area (-1: none)."""
        pairs = unit_overlaps(geoms, np.asarray(self.gdf.geometry.values), self.tree)
        return largest_overlap(pairs, len(geoms))

    def column(self, name: str, rows: np.ndarray) -> np.ndarray:
        """A municipality column for the given rows."""
        values: np.ndarray = self.gdf[name].to_numpy(object)[rows]
        return values


def _municipalities() -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """The real boundaries (layers/facts) and the facts with representative points in metres."""
    f = facts().copy()
    x, y = transformer(4326, 25832).transform(f["lon"].to_numpy(), f["lat"].to_numpy())
    f["x"], f["y"] = x, y
    gdf = boundaries()[["ags", "name", "kreis_ags", "kreis_name", "geometry"]]
    if not (gdf["ags"].to_numpy() == f["ags"].to_numpy()).all():
        raise ValueError("layers/facts: boundaries and municipality facts disagree on the keys")
    return gdf, f


def _units(gdf: gpd.GeoDataFrame) -> _Units:
    geoms = gdf.geometry.values
    state = union(geoms)
    shapely.prepare(state)
    return _Units(gdf, shapely.STRtree(geoms), state)


def _weights(f: pd.DataFrame) -> np.ndarray:
    """Urban weight per municipality: kreisfreie Städte 1, others by compactness (0.1–0.7)."""
    city = f["ags"].str.endswith("000").to_numpy()
    return np.where(city, 1.0, np.clip(45.0 / f["area_km2"].to_numpy(), 0.1, 0.7))


def _star_polygons(
    rng: np.random.Generator, cx: np.ndarray, cy: np.ndarray, area_m2: np.ndarray
) -> np.ndarray:
    """Irregular star-shaped (hence valid) polygons of exactly ``area_m2`` around centres."""
    n = len(cx)
    out = np.empty(n, dtype=object)
    k_all = rng.integers(8, 49, size=n)
    for k in np.unique(k_all):
        idx = np.flatnonzero(k_all == k)
        m = len(idx)
        angles = (np.arange(k) + rng.uniform(0.1, 0.9, size=(m, k))) * (2 * np.pi / k)
        radius = 1.0 + 0.22 * rng.standard_normal((m, k)).clip(-2.5, 2.5)
        aspect = rng.uniform(1.0, 2.2, size=(m, 1))
        rot = rng.uniform(0, np.pi, size=(m, 1))
        px = radius * np.cos(angles) * aspect
        py = radius * np.sin(angles) / aspect
        rx = px * np.cos(rot) - py * np.sin(rot)
        ry = px * np.sin(rot) + py * np.cos(rot)
        unit = shapely.polygons(np.stack([rx, ry], axis=-1))
        scale = np.sqrt(area_m2[idx] / shapely.area(unit))
        coords = np.stack([cx[idx, None] + rx * scale[:, None], cy[idx, None] + ry * scale[:, None]], axis=-1)
        out[idx] = shapely.polygons(coords)
    return out


def _place(
    rng: np.random.Generator, f: pd.DataFrame, w: np.ndarray, n: int, spread: float, state: shapely.Geometry
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``n`` points inside NRW (``state``) around towns chosen by urban weight; return x, y,
    town index.
    """
    p = w * np.sqrt(f["area_km2"].to_numpy())
    p = p / p.sum()
    xs, ys, towns = [], [], []
    got = 0
    while got < n:
        m = int((n - got) * 1.3) + 16
        town = rng.choice(len(f), size=m, p=p)
        sd = spread * np.sqrt(f["area_km2"].to_numpy()[town]) * 1000 / 3
        x = f["x"].to_numpy()[town] + rng.standard_normal(m) * sd
        y = f["y"].to_numpy()[town] + rng.standard_normal(m) * sd
        ok = shapely.contains_xy(state, x, y)
        xs.append(x[ok])
        ys.append(y[ok])
        towns.append(town[ok])
        got += int(ok.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n], np.concatenate(towns)[:n]


def _plan_of(kreis_ags: np.ndarray) -> np.ndarray:
    return np.array([PLAN_RUHR if k in RVR_KREISE else PLAN_BY_RB[k[2]] for k in kreis_ags])


def _regional_plan(
    rng: np.random.Generator, f: pd.DataFrame, w: np.ndarray, n: int, units: _Units
) -> gpd.GeoDataFrame:
    x, y, _town = _place(rng, f, w, n, spread=0.9, state=units.state)
    category = _choice(rng, CATEGORIES, n)
    area_ha = np.exp(rng.normal(np.log(25), 0.95, size=n)).clip(2, 400)
    large = category == "LARGE_PROJECT"
    area_ha[large] = rng.uniform(80, 260, size=int(large.sum()))
    kind, part = rng.choice(GIB_NAMES, size=n), rng.choice(PARTS, size=n)
    geoms = _star_polygons(rng, x, y, area_ha * 1e4)
    home = units.holder(geoms)  # the centre lies in NRW, so every area has a holder
    town = units.column("name", home)
    return gpd.GeoDataFrame(
        {
            "area_id": [f"RP-{i + 1:06d}" for i in range(n)],
            "category": category,
            "plan": _plan_of(units.column("kreis_ags", home)),
            "name": [f"{k} {t} {p}" for k, t, p in zip(kind, town, part, strict=True)],
        },
        geometry=geoms,
        crs=WORK_CRS,
    )


def _brownfields(
    rng: np.random.Generator, f: pd.DataFrame, w: np.ndarray, n: int, rp: gpd.GeoDataFrame, units: _Units
) -> gpd.GeoDataFrame:
    x, y, _town = _place(rng, f, w**1.5, n, spread=0.7, state=units.state)
    area_ha = np.exp(rng.normal(np.log(2.5), 1.1, size=n)).clip(0.05, 150)
    # About a sixth lie within a regional-plan area (reuse inside GIB), as in the cadastres.
    inside = rng.random(n) < 0.16
    hosts = rng.integers(0, len(rp), size=n)
    c = shapely.centroid(rp.geometry.values[hosts])
    host_ha = shapely.area(rp.geometry.values[hosts]) / 1e4
    x = np.where(inside, shapely.get_x(c), x)
    y = np.where(inside, shapely.get_y(c), y)
    area_ha = np.where(inside, np.minimum(area_ha, host_ha * 0.4), area_ha)
    geoms = _star_polygons(rng, x, y, area_ha * 1e4)
    home = units.holder(geoms)  # the cadastre's key: the municipality holding most of it
    former = _choice(rng, FORMER_USE, n)
    ruhr = np.isin(units.column("kreis_ags", home), list(RVR_KREISE))
    former = np.where(ruhr & (rng.random(n) < 0.3), "Bergbau (Zeche)", former)
    town = units.column("name", home)
    names = [f"Brache {t}, ehem. {u}" for t, u in zip(town, former, strict=True)]
    return gpd.GeoDataFrame(
        {
            "area_id": [f"BF-{i + 1:06d}" for i in range(n)],
            "name": names,
            "ags": units.column("ags", home),
            "former_use": former,
            "contamination": _choice(rng, CONTAMINATION, n),
            "availability": _choice(rng, AVAILABILITY, n),
        },
        geometry=geoms,
        crs=WORK_CRS,
    )


OWNER_KINDS = (
    "Liegenschaftsamt",
    "Wirtschaftsförderung",
    "private Eigentümerin",
    "Grundstücksgesellschaft",
    "Industrieunternehmen",
)
NOTES = (
    "Eigentümer verkaufsbereit, Gespräch im Quartal vereinbart",
    "Teilfläche reserviert für Erweiterung eines Ansiedlers",
    "Altlastengutachten liegt vor (vertraulich)",
    "Preis verhandelbar bei Ansiedlung ≥ 200 Arbeitsplätze",
)
NON_PUBLIC_SHARE = 0.05


def _confidential(layer: gpd.GeoDataFrame, rng: np.random.Generator, owner_share: float) -> gpd.GeoDataFrame:
    """Add SYNTHETIC confidential fields: owner contact (for ``owner_share`` of the areas),
    asking price, notes, and about 5 % of the areas not public (geo/access.py).
    """
    n = len(layer)
    out = layer.copy()
    has_owner = rng.random(n) < owner_share
    kinds = rng.choice(np.array(OWNER_KINDS), size=n)
    out["owner_contact"] = [
        f"{k} (SYNTHETIC), +49 211 555{i % 10_000:04d}, owner-{a.lower()}@example.invalid" if o else None
        for i, (k, a, o) in enumerate(zip(kinds, layer["area_id"], has_owner, strict=True))
    ]
    price = np.round(np.exp(rng.normal(np.log(70), 0.6, size=n)), 0)
    out["asking_price_eur_m2"] = np.where(rng.random(n) < 0.6, price, np.nan)
    notes = rng.choice(np.array(NOTES), size=n)
    # call-overload: numpy's stubs accept no None as a branch of np.where (it is fine at run time)
    out["notes"] = np.where(rng.random(n) < 0.15, notes, None)  # type: ignore[call-overload]
    out["public"] = rng.random(n) >= NON_PUBLIC_SHARE
    # own stream, so the fields above keep their values: yes 45 %, no 15 %, unknown 40 %
    will = np.random.default_rng([19, n, int(owner_share * 10)]).choice(
        np.array(OWNER_WILLING), size=n, p=[0.45, 0.15, 0.40]
    )
    out["owner_willing"] = np.where(has_owner, will, "unknown")
    return out


def _hydrogen(rng: np.random.Generator) -> gpd.GeoDataFrame:
    """A network between the real Kernnetz places: minimum spanning tree plus near neighbours."""
    places = kernnetz_places().drop_duplicates(subset=["lon", "lat"]).reset_index(drop=True)
    x, y = transformer(4326, 25832).transform(places["lon"].to_numpy(), places["lat"].to_numpy())
    pts = np.c_[x, y]
    d = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    n = len(pts)
    edges: set[tuple[int, int]] = set()
    in_tree = {0}
    while len(in_tree) < n:  # Prim's algorithm on the complete graph
        best = min((d[i, j], i, j) for i in in_tree for j in range(n) if j not in in_tree)
        edges.add((min(best[1], best[2]), max(best[1], best[2])))
        in_tree.add(best[2])
    for i in range(n):
        for j in np.argsort(d[i])[1:3]:
            if d[i, j] < 45_000:
                edges.add((min(i, int(j)), max(i, int(j))))
    edges_sorted = sorted(edges)
    m = len(edges_sorted)
    names = places["name"].to_numpy()
    return gpd.GeoDataFrame(
        {
            "segment_id": [f"H2-{k + 1:03d}" for k in range(m)],
            "name": [f"{names[i]} – {names[j]}" for i, j in edges_sorted],
            "kind": np.where(rng.random(m) < 0.6, "conversion", "new_build"),
            "commissioning_year": rng.integers(2025, 2033, size=m),
            "dn_mm": rng.choice([400, 500, 600, 800, 1000, 1200], size=m),
            "pressure_bar": rng.choice([40.0, 67.5, 70.0, 84.0, 100.0], size=m),
            "operator": rng.choice(OPERATORS, size=m),
            "geometry_quality": "schematic",
        },
        geometry=[shapely.LineString([pts[i], pts[j]]) for i, j in edges_sorted],
        crs=WORK_CRS,
    )


def _smooth_noise(rng: np.random.Generator, spec: GridSpec, cell_km: float) -> np.ndarray:
    """Bilinear-upsampled Gaussian noise with features of about ``cell_km``."""
    cy = int(spec.ny * spec.res / 1000 / cell_km) + 2
    cx = int(spec.nx * spec.res / 1000 / cell_km) + 2
    coarse = rng.standard_normal((cy, cx)).astype(np.float32)

    def interp(n: int, c: int) -> np.ndarray:
        pos = np.linspace(0, c - 1, n)
        lo = np.floor(pos).astype(int).clip(0, c - 2)
        t = (pos - lo).astype(np.float32)
        m = np.zeros((n, c), dtype=np.float32)
        m[np.arange(n), lo] = 1 - t
        m[np.arange(n), lo + 1] = t
        return m

    noise: np.ndarray = interp(spec.ny, cy) @ coarse @ interp(spec.nx, cx).T
    return noise


def _urbanity(f: pd.DataFrame, w: np.ndarray, spec: GridSpec) -> np.ndarray:
    """Urban intensity 0–1 on the grid: max over towns of weight·exp(−distance/scale), 1 km steps."""
    step = 10  # compute on 1 km cells, then repeat to 100 m
    xs, ys = spec.centres()
    cx, cy = xs[step // 2 :: step], ys[step // 2 :: step]
    u = np.zeros((len(cy), len(cx)), dtype=np.float32)
    scale = 1500 + 3500 * w
    fx, fy = f["x"].to_numpy(float), f["y"].to_numpy(float)
    for k in range(len(f)):
        dx = (cx - fx[k])[None, :]
        dy = (cy - fy[k])[:, None]
        np.maximum(u, w[k] * np.exp(-np.sqrt(dx * dx + dy * dy) / scale[k]), out=u)
    u = np.repeat(np.repeat(u, step, axis=0), step, axis=1)
    return u[: spec.ny, : spec.nx]


def _coverage(
    rng: np.random.Generator, f: pd.DataFrame, w: np.ndarray, spec: GridSpec = NRW_GRID
) -> dict[str, Coverage]:
    """Fibre and 5G grids: urban gradient + regional patches + cell noise; NaN outside NRW."""
    xs, ys = spec.centres()
    outline = nrw_outline()
    shapely.prepare(outline)
    inside = shapely.contains_xy(outline, *[a.ravel() for a in np.meshgrid(xs, ys)]).reshape(spec.shape)
    u = _urbanity(f, w, spec)
    out = {}
    for name, offset, gain, patch in (("fibre", -2.2, 6.0, 1.4), ("mobile_5g", 0.6, 5.0, 1.0)):
        logit = offset + gain * u + patch * _smooth_noise(rng, spec, 12.0)
        p = 1.0 / (1.0 + np.exp(-logit))
        r = rng.random(spec.shape, dtype=np.float32)
        share = np.where(r < p, np.minimum(1.0, 0.75 + r), np.maximum(0.0, r - 0.85)).astype(np.float32)
        share[~inside] = np.nan
        out[name] = Coverage("grid_100m", grid=share, spec=spec)
    return out


def generate(
    n_sites: int = 2000, seed: int = 42, progress: Any = None, data_date: dt.date | None = None
) -> Demo:
    """Generate the demo dataset: ``n_sites`` candidate areas (35 % GIB areas, 65 % brownfields);
    availability dates are relative to ``data_date`` (default today)."""
    if n_sites < 10:
        raise ValueError("--sites must be at least 10")
    step = progress or (lambda _msg: None)
    rng = np.random.default_rng(seed)
    step("municipalities (real boundaries, generalised DVG2)")
    muni, f = _municipalities()
    units = _units(muni)
    w = _weights(f)
    n_rp = int(round(n_sites * 0.35))
    step(f"regional_plan ({n_rp} areas)")
    rp = _regional_plan(rng, f, w, n_rp, units)
    step(f"brownfields ({n_sites - n_rp} areas)")
    bf = _brownfields(rng, f, w, n_sites - n_rp, rp, units)
    secret = np.random.default_rng([seed, 11])  # own stream: the other layers stay as they were
    rp = _confidential(rp, secret, owner_share=0.4)
    bf = _confidential(bf, secret, owner_share=1.0)  # every brownfield has an owner contact
    land = np.random.default_rng([seed, 19])  # own stream, likewise
    day = data_date or dt.date.today()
    rp, bf = add_land(rp, "regional_plan", land, day), add_land(bf, "brownfields", land, day)
    step("hydrogen (Kernnetz places)")
    h2 = _hydrogen(rng)
    step("transport (junctions, ports, freight terminals; real stations and airports)")
    transport = demo_transport(muni, np.random.default_rng([seed, 13]))  # own stream
    step("fibre and 5G grids (100 m)")
    cov = _coverage(rng, f, w)
    layers = {
        "municipalities": check("municipalities", muni),
        "regional_plan": check("regional_plan", rp),
        "brownfields": check("brownfields", bf),
        "lep_sites": lep.read_facts(None, {}),
        "hydrogen": check("hydrogen", h2),
        **transport,
    }
    notes = {
        **TRANSPORT_NOTES,
        "municipalities": "real names, AGS keys and boundaries (Geobasis NRW DVG2, generalised: "
        "coverage_simplify 50 m)",
        "regional_plan": "SYNTHETIC areas; real planning-region names",
        "brownfields": "SYNTHETIC areas",
        "lep_sites": "real facts (LEP NRW Ziel 6.4-1); positions approximate ±1–2 km",
        "hydrogen": "real Kernnetz place names (PyPSA-DE geocoding); SYNTHETIC segments",
        "fibre": "SYNTHETIC 100 m grid",
        "mobile_5g": "SYNTHETIC 100 m grid",
    }
    return Demo(layers, cov, notes)
