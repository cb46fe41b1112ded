"""The ``substations`` layer (issue 21 §2, grid): transformer substations of 110 kV and more.

Canonical layer (EPSG:25832, Point): ``substation_id`` (str: ``node/<id>``, ``way/<id>`` or
``relation/<id>`` from OSM; the mapped id column or ``substations-<n>``), ``name`` (may be null),
``voltage_kv`` (int: the highest voltage of the substation, ≥ 110), ``operator`` (may be null),
``source`` (``OpenStreetMap``, the file name of a mapped file, or ``SYNTHETIC demo``). A
substation mapped as an area is placed at a point on its surface (inside it, unlike a centroid).

Formats (sources.toml ``format``):

- ``osm``: an OpenStreetMap extract (``.osm.pbf`` or ``.osm`` XML) through the shared OSM reader
  ``layers/osm.py``. Taken: ``power=substation`` with a ``voltage`` whose highest value is at
  least 110 kV, as nodes, closed ways and multipolygon relations. OSM gives ``voltage`` in volts,
  several separated by ``;`` (``"380000;110000"`` is 380 kV). Left out: traction substations of
  the railway's own 16.7 Hz grid (``substation=traction`` or ``frequency=16.7``), which give no
  connection to the public grid, and voltages that are not numbers. ``power`` and ``voltage`` are
  not fields of ``layers/osmconf.ini``, so the filter reads ``other_tags``; closed ways tagged only
  ``power=substation`` are lines for GDAL's OSM driver (``power`` is not in
  ``closed_ways_are_polygons``), so three passes are read: points, lines and multipolygons. These
  passes are not shared with the transport readers (another filter), and each evicts one of the
  two passes that ``layers/osm.py`` keeps; the build reads transport first, so no pass is re-read.
- ``mapped``: any OGR file with a CRS plus the column mappings of ``layers.mapping`` (e.g. a grid
  operator's list). ``voltage_kv`` may hold kV or volts (a value ≥ 1000 is read as volts) and a
  ``;``-separated list; rows below 110 kV are left out. Polygons are placed at a point on their
  surface. ``source`` defaults to the file name.

Registration: the module ends with ``register_layer``; ``layers/plugins.py`` imports it.

The demo generator (``demo``) places about 600 SYNTHETIC substations: 110 kV ones where people and
industry are (Rhine-Ruhr, the Rhine valley, the larger towns; fewer in the Eifel and Sauerland),
220 and 380 kV ones fewer and along hand-placed transmission corridors.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.crs import WORK_CRS, transformer
from layers.errors import SourceError, rows_text
from layers.io import read_vector
from layers.mapping import apply_mapping
from layers.osm import area_ids, polygonal, read_osm
from layers.schema import Schema, check
from layers.sources import Format, LayerSpec, register_layer

LAYER = "substations"
MIN_KV = 110
SCHEMA = Schema(
    "substation_id",
    ("substation_id", "name", "voltage_kv", "operator", "source"),
    ("Point",),
    nullable=("name", "operator", "source"),
)
OSM_WHERE = 'other_tags LIKE \'%"power"=>"substation"%\''
OSM_SOURCE = "OpenStreetMap"
SYNTHETIC_SOURCE = "SYNTHETIC demo"
OSM_LICENCE = "ODbL-1.0 (https://opendatacommons.org/licenses/odbl/1-0/)"
OSM_ATTRIBUTION = "© OpenStreetMap contributors"
NOTE = (
    "substations: SYNTHETIC — about 600 substations ≥ 110 kV, denser in Rhine-Ruhr and the towns; "
    "220/380 kV along schematic transmission corridors; not the real grid"
)
_NUMBER = re.compile(r"^\d+(\.\d+)?$")


def parse_voltage_kv(value: Any, unit: str = "V") -> int | None:
    """The highest voltage in kV of an OSM-style ``voltage`` value, or None if none is a number.

    ``"380000;110000"`` → 380. With ``unit="V"`` (OSM) every value is in volts; with
    ``unit="auto"`` (mapped files) a value of 1000 or more is volts, a smaller one kV.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    kv = []
    for part in re.split(r"[;,/]", str(value)):
        text = part.strip().lower().removesuffix("kv").removesuffix("v").strip()
        if not _NUMBER.match(text):
            continue
        x = float(text)
        kv.append(x / 1000.0 if unit == "V" or x >= 1000 else x)
    return int(round(max(kv))) if kv else None


def read_osm_substations(path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """``power=substation`` of ≥ 110 kV (nodes, closed ways, relations) of an OSM extract."""
    frames = []
    for osm_layer in ("points", "lines", "multipolygons"):
        gdf, tags = read_osm(LAYER, path, osm_layer, OSM_WHERE)
        kv = [parse_voltage_kv(t.get("voltage")) if _is_grid_substation(t) else None for t in tags]
        keep = np.array([v is not None and v >= MIN_KV for v in kv], dtype=bool)
        gdf = gdf[keep]
        tags = [t for t, k in zip(tags, keep, strict=True) if k]
        geoms = np.asarray(shapely.force_2d(gdf.geometry.values), dtype=object)
        if osm_layer == "points":
            ids = [f"node/{i}" for i in gdf["osm_id"]]
        elif osm_layer == "lines":
            ids = [f"way/{i}" for i in gdf["osm_id"]]
            geoms = np.array([_ring_polygon(g) for g in geoms], dtype=object)
        else:
            ids = area_ids(gdf)
            geoms = polygonal(geoms)
        frames.append(
            gpd.GeoDataFrame(
                {
                    "substation_id": ids,
                    "name": [t.get("name") for t in tags],
                    "voltage_kv": [v for v in kv if v is not None and v >= MIN_KV],
                    "operator": [t.get("operator") for t in tags],
                    "source": OSM_SOURCE,
                },
                geometry=_points(geoms),
                crs=WORK_CRS,
            )
        )
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=WORK_CRS)
    out["voltage_kv"] = out["voltage_kv"].astype("int64")
    return check(LAYER, out[~shapely.is_empty(out.geometry.values)].reset_index(drop=True), path)


def read_mapped(path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """Any OGR file with a CRS plus column mappings (``layers.mapping``); see the module docstring."""
    path = Path(path)
    src = read_vector(LAYER, path, cfg.get("layer"))
    out = apply_mapping(LAYER, src, cfg, path, fill={"name": None, "operator": None, "source": path.name})
    raw = out["voltage_kv"].tolist()
    kv = [parse_voltage_kv(v, unit="auto") for v in raw]
    bad = [i for i, v in enumerate(kv) if v is None]
    if bad:
        seen = sorted({str(raw[i])[:20] for i in bad})[:5]
        raise SourceError(
            LAYER,
            path,
            f"voltage_kv must be a voltage in kV or V (e.g. 110, 380000 or '380000;110000'); "
            f"found {', '.join(repr(s) for s in seen)} in rows {rows_text(bad)}",
        )
    out["voltage_kv"] = kv
    kept = np.flatnonzero(out["voltage_kv"].to_numpy() >= MIN_KV)
    out = out.iloc[kept].copy()
    out["voltage_kv"] = out["voltage_kv"].astype("int64")
    geoms = np.asarray(shapely.force_2d(out.geometry.values), dtype=object)
    out.geometry = _points(polygonal(geoms))
    return check(LAYER, out.reset_index(drop=True), path, row_labels=[f"row {i + 1}" for i in kept])


def _is_grid_substation(t: dict[str, str]) -> bool:
    if t.get("power") != "substation" or t.get("substation") == "traction":
        return False
    return not any(f.strip() in ("16.7", "16.67", "16 2/3") for f in t.get("frequency", "").split(";"))


def _ring_polygon(g: BaseGeometry | None) -> BaseGeometry | None:
    """A closed way as its polygon (repaired if invalid); an open way stays a line."""
    if not isinstance(g, shapely.LineString) or not g.is_closed or len(g.coords) < 4:
        return g
    poly = shapely.Polygon(g.coords)
    return poly if poly.is_valid else polygonal(np.array([poly], dtype=object))[0]


def _utm_line(lonlat: tuple[tuple[float, float], ...]) -> shapely.LineString:
    x, y = transformer(4326, 25832).transform([p[0] for p in lonlat], [p[1] for p in lonlat])
    return shapely.LineString(np.column_stack([x, y]))


def _points(geoms: np.ndarray) -> np.ndarray:
    """Points as they are; areas and lines as a point on their surface."""
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    todo = np.array([g is not None and g.geom_type != "Point" and not g.is_empty for g in geoms], dtype=bool)
    if todo.any():
        out[todo] = shapely.point_on_surface(geoms[todo])
    return out


# ---------------------------------------------------------------------------------------------
# Demo: SYNTHETIC substations

# Where people and industry are (lon, lat, weight): the larger towns of NRW, Rhine-Ruhr heaviest.
CENTRES = (
    (6.96, 50.94, 3.0),  # Köln
    (6.78, 51.23, 2.5),  # Düsseldorf
    (6.76, 51.43, 2.5),  # Duisburg
    (7.01, 51.46, 2.5),  # Essen
    (7.47, 51.51, 2.5),  # Dortmund
    (7.22, 51.48, 2.0),  # Bochum
    (7.10, 51.51, 2.0),  # Gelsenkirchen
    (6.85, 51.47, 1.5),  # Oberhausen
    (7.15, 51.26, 1.5),  # Wuppertal
    (7.47, 51.36, 1.2),  # Hagen
    (6.56, 51.33, 1.2),  # Krefeld
    (6.44, 51.19, 1.2),  # Mönchengladbach
    (6.98, 51.03, 1.2),  # Leverkusen
    (7.10, 50.73, 1.5),  # Bonn
    (6.08, 50.78, 1.5),  # Aachen
    (7.63, 51.96, 1.5),  # Münster
    (8.53, 52.02, 1.5),  # Bielefeld
    (8.75, 51.72, 1.0),  # Paderborn
    (8.02, 50.87, 1.0),  # Siegen
    (7.82, 51.68, 1.0),  # Hamm
    (6.63, 51.08, 1.0),  # Grevenbroich / Rhenish lignite area
    (8.92, 52.29, 0.6),  # Minden
)
# Transmission corridors (lon, lat waypoints), schematic: along them 220/380 kV substations.
CORRIDORS = (
    ((6.22, 51.83), (6.60, 51.66), (6.73, 51.45), (6.78, 51.23), (6.97, 50.94), (7.12, 50.70)),  # Rhine
    ((6.73, 51.45), (7.01, 51.47), (7.47, 51.52), (7.82, 51.68), (8.38, 51.90), (8.80, 52.10)),  # Ruhr–OWL
    ((6.30, 50.85), (6.60, 51.00), (6.90, 51.03), (7.30, 51.20), (7.60, 51.30)),  # lignite–Bergisches
    ((7.47, 51.52), (7.60, 51.30), (7.90, 51.05), (8.02, 50.87)),  # Dortmund–Siegen
    ((6.60, 51.66), (7.10, 51.85), (7.63, 51.96), (7.45, 52.28)),  # Niederrhein–Münsterland
    ((8.38, 51.90), (8.75, 51.72), (9.10, 51.60)),  # Gütersloh–Paderborn–Höxter
)
OPERATORS_110 = (
    ("Westnetz", 0.6),
    ("Westfalen Weser Netz", 0.12),
    ("Rheinische NETZGesellschaft", 0.08),
    ("Stadtwerke", 0.2),  # the town's own utility: "Stadtwerke <town>"
)
N_110, N_220, N_380 = 520, 35, 45


def demo(rng: np.random.Generator, municipalities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """About 600 SYNTHETIC substations of 110, 220 and 380 kV inside NRW (see the module docstring)."""
    nrw = shapely.union_all(np.asarray(municipalities.geometry.values, dtype=object))
    shapely.prepare(nrw)
    to_utm = transformer(4326, 25832)
    cx, cy = to_utm.transform([c[0] for c in CENTRES], [c[1] for c in CENTRES])
    weights = np.array([c[2] for c in CENTRES])
    x0, y0, x1, y1 = nrw.bounds
    xs: list[float] = []
    ys: list[float] = []
    while len(xs) < N_110:  # rejection sampling: background + Gaussian kernels around towns
        px = rng.uniform(x0, x1, 4000)
        py = rng.uniform(y0, y1, 4000)
        d2 = (px[:, None] - np.asarray(cx)) ** 2 + (py[:, None] - np.asarray(cy)) ** 2
        density = 0.12 + (weights * np.exp(-d2 / (2 * 12_000.0**2))).sum(axis=1)
        keep = (rng.uniform(0, 3.2, len(px)) < density) & shapely.contains_xy(nrw, px, py)
        xs.extend(px[keep].tolist())
        ys.extend(py[keep].tolist())
    xs, ys = xs[:N_110], ys[:N_110]
    kv = [110] * N_110
    lines = [_utm_line(c) for c in CORRIDORS]
    lengths = np.array([line.length for line in lines])
    for n, volt in ((N_220, 220), (N_380, 380)):
        placed = 0
        while placed < n:
            line = lines[rng.choice(len(lines), p=lengths / lengths.sum())]
            p = line.interpolate(rng.uniform(0, line.length))
            qx, qy = float(p.x + rng.normal(0, 2500)), float(p.y + rng.normal(0, 2500))
            if shapely.contains_xy(nrw, qx, qy):
                xs.append(qx)
                ys.append(qy)
                kv.append(volt)
                placed += 1
    points = np.asarray(shapely.points(np.asarray(xs), np.asarray(ys)), dtype=object)
    names, codes = np.asarray(municipalities["name"].to_numpy(object)), []
    muni_of = _containing(points, np.asarray(municipalities.geometry.values, dtype=object))
    counts: dict[str, int] = {}
    ops = [o for o, _ in OPERATORS_110]
    p_ops = np.array([p for _, p in OPERATORS_110])
    operator = []
    for m, volt in zip(muni_of, kv, strict=True):
        town = str(names[m]) if m >= 0 else "NRW"
        counts[town] = counts.get(town, 0) + 1
        codes.append(f"Umspannwerk {town}" + ("" if counts[town] == 1 else f" {counts[town]}"))
        op = "Amprion" if volt >= 220 else ops[rng.choice(len(ops), p=p_ops / p_ops.sum())]
        operator.append(f"Stadtwerke {town}" if op == "Stadtwerke" else op)
    return gpd.GeoDataFrame(
        {
            "substation_id": [f"demo-uw-{i + 1:04d}" for i in range(len(kv))],
            "name": codes,
            "voltage_kv": np.asarray(kv, dtype="int64"),
            "operator": operator,
            "source": SYNTHETIC_SOURCE,
        },
        geometry=points,
        crs=WORK_CRS,
    )


def _containing(points: np.ndarray, polygons: np.ndarray) -> np.ndarray:
    """Index of the polygon holding each point (-1 if none)."""
    p, g = shapely.STRtree(polygons).query(points, predicate="within")
    out = np.full(len(points), -1, dtype=int)
    out[p] = g
    return out


register_layer(
    LayerSpec(
        LAYER,
        formats={
            "osm": Format(read_osm_substations, OSM_LICENCE, OSM_ATTRIBUTION),
            "mapped": Format(
                read_mapped,
                "unknown",
                "set licence and attribution in sources.toml",
                options=("layer", "columns", "values", "defaults"),
            ),
        },
        schema=SCHEMA,
        demo=demo,
        note=NOTE,
    )
)
