"""SYNTHETIC renewable units for the demo: wind turbines and solar units that look like NRW's.

The real order of magnitude this imitates (approximate, as published for the end of 2023 by
LANUV's Energieatlas NRW and the Marktstammdatenregister statistics): about 3,800 onshore wind
turbines with about 7 GW, concentrated in the Münsterland (Kreise Borken, Steinfurt, Coesfeld,
Warendorf), Ostwestfalen-Lippe and the Paderborn plateau (Kreis Paderborn alone ≈ 1 GW), the
Soester Börde and the Sauerland, the Rhineland's lignite area (Düren, Rhein-Erft, Heinsberg)
and the Eifel (Euskirchen), with few in the Ruhr cities; and about 9 GW of PV, most of it in
small rooftop units whose location the register does not publish (it gives coordinates for units
above 30 kW). The demo therefore has 3,500 turbines (≈ 7 GW; 80 % of 2–6 MW, 20 % older ones of
0.6–1.8 MW, in parks of 1–12), ~8,000 solar units of 30 kW–2 MW with coordinates spread by
settlement (fewer and larger than the register's tens of thousands, to keep a 15 km sum cheap)
and ~60 ground-mounted parks of 1–20 MW in rural municipalities: a few GW of PV with coordinates.
Deterministic from the ``rng``; every unit lies inside its municipality.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo.crs import WORK_CRS

N_WIND = 3_500
N_ROOFTOP = 8_000
N_PARKS = 60
# Kreis -> wind density relative to the state average (a shape, not a statistic)
WIND_KREIS = {
    "05774": 6.5,  # Paderborn
    "05762": 3.5,  # Höxter
    "05566": 3.0,  # Steinfurt
    "05554": 3.0,  # Borken
    "05558": 3.0,  # Coesfeld
    "05974": 3.0,  # Soest
    "05570": 2.5,  # Warendorf
    "05358": 2.5,  # Düren
    "05770": 2.0,  # Minden-Lübbecke
    "05366": 2.0,  # Euskirchen
    "05958": 1.8,  # Hochsauerlandkreis
    "05370": 1.8,  # Heinsberg
    "05362": 1.8,  # Rhein-Erft-Kreis
    "05154": 1.6,  # Kleve
    "05766": 1.5,  # Lippe
    "05754": 1.5,  # Gütersloh
    "05970": 1.2,  # Siegen-Wittgenstein
    "05166": 1.0,  # Viersen
    "05170": 0.8,  # Wesel
    "05978": 0.8,  # Unna
}
CITY_WIND = 0.15  # kreisfreie Städte (Ruhr, Rhine cities): few turbines
OTHER_WIND = 0.6
ROOFTOP_CITY = 2.5  # solar ≥ 30 kW per km²: more where roofs are (towns and cities)


def _is_city(kreis: np.ndarray) -> np.ndarray:
    """Kreisfreie Städte: their Kreis key's last two digits are below 50 (05111 … 05916)."""
    return np.array([int(k[-2:]) < 50 for k in kreis])


def _points_in(rng: np.random.Generator, poly: shapely.Geometry, n: int) -> np.ndarray:
    """``n`` uniform points inside ``poly`` (rejection in its bounding box)."""
    x0, y0, x1, y1 = shapely.bounds(poly).tolist()
    out: list[np.ndarray] = []
    have = 0
    while have < n:
        xy = rng.uniform((x0, y0), (x1, y1), size=(max(2 * (n - have), 16), 2))
        xy = xy[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])]
        out.append(xy)
        have += len(xy)
    return np.vstack(out)[:n]


def _near(
    rng: np.random.Generator, poly: shapely.Geometry, centre: np.ndarray, n: int, sd: float
) -> np.ndarray:
    """``n`` points around ``centre`` (normal, ``sd`` metres) kept inside ``poly``."""
    out: list[np.ndarray] = []
    have, tries = 0, 0
    while have < n and tries < 50:
        xy = centre + rng.normal(0.0, sd, size=(2 * (n - have) + 4, 2))
        xy = xy[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])]
        out.append(xy)
        have += len(xy)
        tries += 1
    if have < n:  # a narrow municipality: fall back to uniform points
        out.append(_points_in(rng, poly, n - have))
    return np.vstack(out)[:n]


def _wind(rng: np.random.Generator, muni: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Turbine positions (parks of 1–12, ~350 m apart) and capacities (MW)."""
    kreis = muni["kreis_ags"].to_numpy(str)
    factor = np.array([WIND_KREIS.get(k, OTHER_WIND) for k in kreis])
    factor[_is_city(kreis)] = CITY_WIND
    weight = shapely.area(muni.geometry.values) * factor
    weight /= weight.sum()
    xy: list[np.ndarray] = []
    total = 0
    while total < N_WIND:
        size = int(min(rng.geometric(0.22), 12, N_WIND - total))
        m = int(rng.choice(len(muni), p=weight))
        poly = muni.geometry.values[m]
        centre = _points_in(rng, poly, 1)[0]
        xy.append(_near(rng, poly, centre, size, 350.0 * np.sqrt(size)))
        total += size
    pts = np.vstack(xy)
    old = rng.random(len(pts)) < 0.2
    models = np.array([2.0, 2.05, 2.3, 2.4, 3.0, 3.3, 3.6, 4.2, 5.5, 6.0])
    share = np.array([0.55, 0.15, 0.12, 0.05, 0.05, 0.03, 0.02, 0.01, 0.01, 0.01])
    mw = rng.choice(models, size=len(pts), p=share / share.sum())
    mw[old] = rng.choice(np.array([0.6, 0.8, 1.0, 1.3, 1.5, 1.8]), size=int(old.sum()))
    return pts, mw


def _solar(rng: np.random.Generator, muni: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Rooftop units ≥ 30 kW near settlement centres, and ground-mounted parks (MW)."""
    geoms = muni.geometry.values
    area_km2 = shapely.area(geoms) / 1e6
    city = _is_city(muni["kreis_ags"].to_numpy(str))
    # units per municipality: more roofs in towns; rural ones have farms and commercial estates
    weight = np.sqrt(area_km2) * np.where(city, ROOFTOP_CITY * 3, 1.0) + np.where(area_km2 < 60, 2.0, 0.0)
    counts = rng.multinomial(N_ROOFTOP, weight / weight.sum())
    centres = shapely.get_coordinates(shapely.point_on_surface(geoms))
    xy: list[np.ndarray] = []
    for m in np.flatnonzero(counts):
        sd = 1_500.0 + 250.0 * np.sqrt(area_km2[m])
        xy.append(_near(rng, geoms[m], centres[m], int(counts[m]), sd))
    roof = np.vstack(xy)
    roof_kw = np.clip(rng.lognormal(np.log(150.0), 1.0, len(roof)), 30.0, 2_000.0)
    rural = np.flatnonzero(~city & (area_km2 > 40))
    park_muni = rng.choice(rural, size=N_PARKS, p=area_km2[rural] / area_km2[rural].sum())
    parks = np.vstack([_points_in(rng, geoms[m], 1) for m in park_muni])
    park_kw = np.clip(rng.lognormal(np.log(4_000.0), 0.8, N_PARKS), 1_000.0, 20_000.0)
    return np.vstack([roof, parks]), np.concatenate([roof_kw, park_kw]) / 1000.0


def demo(rng: np.random.Generator, municipalities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The demo's ``renewable_units`` (EPSG:25832), all in operation (status 35). SYNTHETIC."""
    muni = municipalities.to_crs(WORK_CRS).reset_index(drop=True)
    wind_xy, wind_mw = _wind(rng, muni)
    solar_xy, solar_mw = _solar(rng, muni)
    xy = np.vstack([wind_xy, solar_xy])
    n = len(xy)
    start = int(rng.integers(0, 10**10))
    ids = [f"SEE9{(start + 7_919 * i) % 10**11:011d}" for i in range(n)]
    return gpd.GeoDataFrame(
        {
            "unit_id": ids,
            "technology": ["wind"] * len(wind_xy) + ["solar"] * len(solar_xy),
            "capacity_mw": np.round(np.concatenate([wind_mw, solar_mw]), 4),
            "status": np.full(n, 35, dtype=np.int64),
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=WORK_CRS,
    )
