"""SYNTHETIC demo layers for the land constraints: Natura 2000 sites and floodplains in NRW.

Both are generated, deterministic from the ``rng`` they are given, clipped to NRW's real
boundary, valid (``make_valid``) and at most a few thousand vertices per feature.

- ``demo_floodplains``: bands along nine main rivers, 0.3–3 km wide (widest on the Rhine, narrower
  upstream), asymmetric about the river and varying smoothly along it, cut into sections of 8–25 km
  (one feature each, named after the river; status mostly ``festgesetzt``).
- ``demo_natura2000``: about 8.5–9 % of NRW's area, as in reality (MUNV: 517 FFH sites of about
  184,700 ha = 5.4 %, 28 bird sanctuaries of about 165,000 ha = 4.8 %, together about 8.4–8.9 % of
  the state; umwelt.nrw.de and natura2000-meldedok.naturschutzinformationen.nrw.de): the larger
  bird sanctuaries (site type A) at their real places with their real names and roughly their real
  sizes (Hellwegbörde, Unterer Niederrhein, Senne, Medebacher Bucht, …), but with invented
  outlines; many small FFH sites (type B) along the rivers and in the uplands (Eifel, Sauerland,
  Rothaargebirge, Siegerland, Bergisches Land, Teutoburger Wald, Egge) and scattered heaths and
  bogs in the Münsterland and on the Lower Rhine. Codes follow the real pattern ``DE`` + TK25 map
  sheet of the centre + ``3nn`` (FFH) or ``4nn`` (bird sanctuary).

River courses (lon, lat, WGS84) are a few hand-entered points per river read off the real course
at the towns named in the comments (±1–2 km), smoothed; they are not the real river geometry.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.affinity import scale
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from geo.crs import WORK_CRS, transformer

SYNTHETIC_SOURCE = "SYNTHETIC demo"
NOTES = {
    "natura2000": "natura2000: SYNTHETIC — invented outlines of Natura 2000 sites (≈ 8.7 % of NRW as in "
    "reality; bird sanctuaries at their real places and names, FFH sites along rivers and in the uplands)",
    "floodplains": "floodplains: SYNTHETIC — bands 0.3–3 km wide along schematic courses of nine main "
    "rivers; not the designated Überschwemmungsgebiete",
}

# name -> ((lon, lat) from source or border to mouth or border, (width upstream, width downstream) m)
RIVERS: dict[str, tuple[tuple[tuple[float, float], ...], tuple[float, float]]] = {
    "Rhein": (
        (
            (7.21, 50.63),  # Bad Honnef / Rolandseck (state border)
            (7.12, 50.74),  # Bonn
            (6.99, 50.83),  # Wesseling
            (6.97, 50.94),  # Köln
            (6.96, 51.02),  # Leverkusen
            (6.86, 51.11),  # Dormagen / Zons
            (6.87, 51.16),  # Düsseldorf-Benrath
            (6.77, 51.23),  # Düsseldorf
            (6.71, 51.28),  # Düsseldorf-Kaiserswerth
            (6.66, 51.35),  # Krefeld-Uerdingen
            (6.73, 51.45),  # Duisburg-Ruhrort
            (6.70, 51.54),  # Duisburg-Walsum
            (6.61, 51.65),  # Wesel
            (6.45, 51.70),  # Xanten
            (6.40, 51.76),  # Rees
            (6.24, 51.83),  # Emmerich
            (6.10, 51.86),  # Dutch border
        ),
        (1800.0, 3000.0),
    ),
    "Ruhr": (
        (
            (8.50, 51.19),  # Winterberg (source)
            (8.28, 51.35),  # Meschede
            (8.06, 51.40),  # Arnsberg
            (7.96, 51.45),  # Neheim
            (7.76, 51.47),  # Fröndenberg
            (7.57, 51.44),  # Schwerte
            (7.46, 51.41),  # Hagen-Hengstey
            (7.33, 51.43),  # Witten
            (7.18, 51.40),  # Hattingen
            (6.95, 51.36),  # Essen-Kettwig
            (6.88, 51.43),  # Mülheim
            (6.73, 51.45),  # mouth at Duisburg
        ),
        (300.0, 900.0),
    ),
    "Lippe": (
        (
            (8.82, 51.78),  # Bad Lippspringe (source)
            (8.71, 51.75),  # Schloß Neuhaus
            (8.35, 51.67),  # Lippstadt
            (7.82, 51.68),  # Hamm
            (7.53, 51.62),  # Lünen
            (7.18, 51.74),  # Haltern
            (6.96, 51.66),  # Dorsten
            (6.62, 51.65),  # mouth at Wesel
        ),
        (400.0, 1200.0),
    ),
    "Ems": (
        (
            (8.66, 51.88),  # Schloß Holte-Stukenbrock (source)
            (8.30, 51.84),  # Rheda-Wiedenbrück
            (7.99, 51.95),  # Warendorf
            (7.78, 51.98),  # Telgte
            (7.61, 52.09),  # Greven
            (7.53, 52.17),  # Emsdetten
            (7.44, 52.28),  # Rheine
            (7.35, 52.36),  # border with Lower Saxony
        ),
        (400.0, 1200.0),
    ),
    "Weser": (
        (
            (9.45, 51.64),  # Bad Karlshafen (state border)
            (9.38, 51.77),  # Höxter
            (9.45, 51.85),  # Holzminden (Lower Saxony)
            (9.25, 52.05),  # Hameln side (Lower Saxony)
            (8.86, 52.17),  # Vlotho
            (8.92, 52.24),  # Porta Westfalica
            (8.92, 52.29),  # Minden
            (8.97, 52.38),  # Petershagen
            (9.00, 52.45),  # border with Lower Saxony
        ),
        (800.0, 1600.0),
    ),
    "Sieg": (
        (
            (8.02, 50.87),  # Siegen
            (7.87, 50.79),  # Betzdorf (Rhineland-Palatinate)
            (7.74, 50.78),  # Wissen (Rhineland-Palatinate)
            (7.58, 50.78),  # Windeck
            (7.45, 50.77),  # Eitorf
            (7.28, 50.78),  # Hennef
            (7.20, 50.80),  # Siegburg
            (7.08, 50.77),  # mouth at Bonn-Mondorf
        ),
        (300.0, 900.0),
    ),
    "Wupper": (
        (
            (7.55, 51.10),  # Marienheide (source)
            (7.34, 51.15),  # Hückeswagen
            (7.30, 51.25),  # Wuppertal-Beyenburg
            (7.20, 51.27),  # Wuppertal-Barmen
            (7.14, 51.26),  # Wuppertal-Elberfeld
            (7.13, 51.16),  # Müngsten
            (7.02, 51.11),  # Leichlingen
            (6.99, 51.07),  # Opladen
            (6.95, 51.05),  # mouth at Leverkusen
        ),
        (300.0, 450.0),
    ),
    "Erft": (
        (
            (6.63, 50.49),  # Nettersheim (source)
            (6.76, 50.56),  # Bad Münstereifel
            (6.79, 50.66),  # Euskirchen
            (6.84, 50.75),  # Weilerswist
            (6.79, 50.81),  # Erftstadt
            (6.69, 50.87),  # Kerpen
            (6.64, 50.96),  # Bergheim
            (6.57, 51.00),  # Bedburg
            (6.59, 51.09),  # Grevenbroich
            (6.72, 51.20),  # mouth at Neuss
        ),
        (300.0, 800.0),
    ),
    "Rur": (
        (
            (6.24, 50.55),  # Monschau
            (6.48, 50.64),  # Heimbach
            (6.48, 50.69),  # Nideggen
            (6.48, 50.80),  # Düren
            (6.36, 50.92),  # Jülich
            (6.27, 50.98),  # Linnich
            (6.17, 51.06),  # Hückelhoven-Ratheim
            (6.10, 51.07),  # Heinsberg
            (6.05, 51.12),  # Dutch border near Vlodrop
        ),
        (300.0, 1000.0),
    ),
}
FLOOD_STATUS = (("festgesetzt", 0.78), ("vorläufig gesichert", 0.18), ("ermittelt", 0.04))

# Bird sanctuaries (SPA): name, lon, lat, km², elongation, angle (degrees from east), river or "".
SPAS: tuple[tuple[str, float, float, float, float, float, str], ...] = (
    ("Hellwegbörde", 8.25, 51.57, 484, 4.5, 5, ""),
    ("Unterer Niederrhein", 6.42, 51.74, 258, 0, 0, "Rhein"),
    ("Senne mit Teutoburger Wald", 8.70, 51.88, 200, 2.2, -40, ""),
    ("Medebacher Bucht", 8.62, 51.18, 138, 1.5, 20, ""),
    ("Egge", 8.95, 51.62, 72, 4.0, 80, ""),
    ("Schwalm-Nette-Platte mit Grenzwald und Meinweg", 6.18, 51.25, 86, 2.5, 80, ""),
    ("Diemel- und Hoppecketal", 8.75, 51.43, 60, 3.0, 20, ""),
    ("Wälder und Wiesen bei Burbach und Neunkirchen", 8.15, 50.73, 60, 1.8, 30, ""),
    ("Weseraue", 8.95, 52.40, 50, 3.0, 80, ""),
    ("Kottenforst-Waldville", 7.03, 50.66, 48, 2.0, 60, ""),
    ("Feuchtwiesen im nördlichen Münsterland", 7.35, 52.22, 45, 1.5, 0, ""),
    ("Moore des Münsterlandes", 7.05, 52.12, 30, 1.5, 30, ""),
    ("Heubachniederung, Lavesumer Bruch und Borkenberge", 7.22, 51.78, 30, 1.8, 10, ""),
    ("Düsterdieker Niederung", 7.95, 52.30, 27, 1.6, 0, ""),
    ("Bastauniederung", 8.70, 52.31, 25, 4.0, 0, ""),
    ("Luerwald und Bieberbach", 7.95, 51.43, 25, 2.0, 0, ""),
    ("Lippeaue zwischen Hamm und Lippstadt", 8.10, 51.66, 23, 0, 0, "Lippe"),
    ("Davert", 7.60, 51.85, 22, 1.5, 30, ""),
    ("Drover Heide", 6.52, 50.75, 6, 1.3, 0, ""),
    ("Ahrgebirge", 6.80, 50.42, 6, 1.5, 0, ""),
    ("Rieselfelder Münster", 7.64, 52.03, 4.5, 1.3, 0, ""),
    ("Buntsandsteinfelsen im Rurtal", 6.47, 50.66, 3, 2.5, 80, ""),
    ("Zwillbrocker Venn und Ellewicker Feld", 6.70, 52.05, 3, 1.3, 0, ""),
)
BOTH = frozenset({"Drover Heide", "Buntsandsteinfelsen im Rurtal", "Zwillbrocker Venn und Ellewicker Feld"})
# FFH clusters: (lon, lat, spread km, sites, median km², kinds)
UPLAND = ("Buchenwälder", "Bachtäler", "Kalkkuppen", "Felsen und Hangwälder", "Magerrasen", "Bergwiesen")
LOWLAND = ("Heide", "Moor", "Venn", "Feuchtwiesen", "Eichen-Birkenwälder", "Heideweiher")
FFH_CLUSTERS: tuple[tuple[float, float, float, int, float, tuple[str, ...]], ...] = (
    (6.45, 50.52, 14, 70, 2.4, UPLAND),  # Eifel
    (8.25, 51.25, 18, 70, 2.4, UPLAND),  # Sauerland
    (8.35, 51.02, 12, 39, 2.7, UPLAND),  # Rothaargebirge / Wittgenstein
    (8.05, 50.85, 10, 31, 2.0, UPLAND),  # Siegerland
    (7.30, 51.05, 14, 47, 1.4, UPLAND),  # Bergisches Land
    (8.30, 52.05, 16, 39, 1.5, UPLAND),  # Teutoburger Wald
    (9.20, 51.75, 12, 39, 2.1, UPLAND),  # Weserbergland / Egge
    (7.75, 51.17, 10, 23, 2.1, UPLAND),  # Ebbegebirge
    (7.40, 52.00, 28, 78, 0.8, LOWLAND),  # Münsterland
    (6.35, 51.55, 22, 62, 0.9, LOWLAND),  # Lower Rhine
    (8.65, 51.85, 10, 18, 1.2, LOWLAND),  # Senne
    (6.20, 51.15, 10, 23, 0.8, LOWLAND),  # Schwalm-Nette
)
RIVER_FFH = {"Lippe": 18, "Ruhr": 12, "Sieg": 12, "Rur": 14, "Ems": 14, "Weser": 8, "Erft": 5, "Rhein": 12}
SIMPLIFY_M = 15.0


def river_lines() -> dict[str, shapely.LineString]:
    """The schematic river courses in EPSG:25832 (hand-entered points, smoothed)."""
    to_utm = transformer(4326, 25832)
    out = {}
    for name, (points, _) in RIVERS.items():
        xy = np.column_stack(to_utm.transform([p[0] for p in points], [p[1] for p in points]))
        out[name] = shapely.LineString(_chaikin(xy, 3))
    return out


def demo_floodplains(rng: np.random.Generator, municipalities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """SYNTHETIC floodplain bands along nine main rivers, clipped to NRW (module docstring)."""
    nrw = _state(municipalities)
    rows = []
    for name, line in river_lines().items():
        w_up, w_down = RIVERS[name][1]
        pts = _densify(np.asarray(line.coords), 250.0)
        s = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(pts, axis=0).T))])
        t = s / s[-1]
        normal = _normals(pts)
        pts = pts + normal * (_smooth_noise(rng, s, 6000.0) * 250.0)[:, None]  # meanders
        width = (w_up + (w_down - w_up) * t) * (0.75 + 0.5 * (_smooth_noise(rng, s, 9000.0) + 1) / 2)
        left = np.clip(0.5 + 0.3 * _smooth_noise(rng, s, 12000.0), 0.15, 0.85)
        normal = _normals(pts)
        cuts = _cuts(rng, s[-1])
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            i = (s >= a) & (s <= b)
            if i.sum() < 2:
                continue
            ring = np.vstack(
                [
                    pts[i] + normal[i] * (width[i] * left[i])[:, None],
                    (pts[i] - normal[i] * (width[i] * (1 - left[i]))[:, None])[::-1],
                ]
            )
            band = _clean(shapely.simplify(_clean(shapely.Polygon(ring)), SIMPLIFY_M))
            band = _clean(band.intersection(nrw))
            if band.is_empty or band.area < 50_000:
                continue
            rows.append((name, _pick(rng, FLOOD_STATUS), band))
    return gpd.GeoDataFrame(
        {
            "area_id": [f"demo-uesg-{i + 1:03d}" for i in range(len(rows))],
            "name": [r[0] for r in rows],
            "status": [r[1] for r in rows],
            "source": SYNTHETIC_SOURCE,
        },
        geometry=[r[2] for r in rows],
        crs=WORK_CRS,
    )


def demo_natura2000(rng: np.random.Generator, municipalities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """SYNTHETIC Natura 2000 sites (≈ 8.7 % of NRW), clipped to NRW (module docstring)."""
    nrw = _state(municipalities)
    to_utm = transformer(4326, 25832)
    rivers = river_lines()
    towns = _Towns(municipalities)
    rows: list[tuple[str, str, BaseGeometry]] = []  # name, type, geometry
    for name, lon, lat, km2, elong, angle, river in SPAS:
        x, y = to_utm.transform(lon, lat)
        if river:  # a band along the river around (lon, lat)
            line = rivers[river]
            at = line.project(shapely.Point(x, y))
            length = km2 * 1e6 / (5000.0 if river == "Rhein" else 1800.0)
            seg = substring(line, max(0.0, at - length / 2), min(line.length, at + length / 2))
            geom = _clean(seg.buffer(km2 * 1e6 / max(seg.length, 1.0) / 2, quad_segs=4))
        else:
            geom = _site(rng, x, y, km2, elong, angle)
        rows.append((name, "C" if name in BOTH else "A", geom))
    for lon, lat, spread, n, median, kinds in FFH_CLUSTERS:
        cx, cy = to_utm.transform(lon, lat)
        for _ in range(n):
            x, y = cx + rng.normal(0, spread * 1000), cy + rng.normal(0, spread * 1000)
            km2 = float(np.clip(rng.lognormal(np.log(median), 0.9), 0.05, 40.0))
            geom = _site(rng, x, y, km2, rng.uniform(1.0, 3.0), rng.uniform(0, 180))
            rows.append((f"{kinds[rng.integers(len(kinds))]} bei {towns.at(x, y)}", "B", geom))
    for river, n in RIVER_FFH.items():
        line = rivers[river]
        for _ in range(n):
            length = rng.uniform(2000, 12000)
            at = rng.uniform(0, max(line.length - length, 1.0))
            seg = substring(line, at, at + length)
            half = rng.uniform(150, 600) * (2.0 if river == "Rhein" else 1.0)
            geom = _clean(shapely.simplify(seg.buffer(half, quad_segs=4), SIMPLIFY_M))
            mid = seg.interpolate(0.5, normalized=True)
            rows.append((f"{river}aue bei {towns.at(mid.x, mid.y)}", "B", geom))
    names, kinds_, geoms = [], [], []
    for name, kind, geom in rows:
        clipped = _clean(geom.intersection(nrw))
        if clipped.is_empty or clipped.area < 20_000:
            continue
        names.append(name)
        kinds_.append(kind)
        geoms.append(clipped)
    codes = _site_codes(geoms, kinds_)
    return gpd.GeoDataFrame(
        {"site_code": codes, "name": _unique(names), "site_type": kinds_, "source": SYNTHETIC_SOURCE},
        geometry=geoms,
        crs=WORK_CRS,
    )


# ---------------------------------------------------------------------------------------------
# geometry helpers


def _state(municipalities: gpd.GeoDataFrame) -> BaseGeometry:
    nrw = shapely.union_all(np.asarray(municipalities.geometry.values, dtype=object))
    shapely.prepare(nrw)
    return nrw


def _site(
    rng: np.random.Generator, x: float, y: float, km2: float, elong: float, angle: float
) -> BaseGeometry:
    """An irregular blob of ``km2`` (large sites: several lobes along their long axis)."""
    lobes = 1 if km2 < 40 else int(min(6, 2 + km2 // 80))
    a = np.deg2rad(angle)
    axis = np.array([np.cos(a), np.sin(a)])
    span = np.sqrt(km2 * 1e6 * max(elong, 1.0)) * 0.35
    parts = []
    for k in range(lobes):
        off = 0.0 if lobes == 1 else (k / (lobes - 1) - 0.5) * 2 * span
        cx, cy = np.array([x, y]) + axis * off + rng.normal(0, span * 0.08 + 1, 2)
        parts.append(_blob(rng, cx, cy, km2 / lobes * 1.25 if lobes > 1 else km2, elong, angle))
    site = _clean(shapely.union_all(parts))
    f = np.sqrt(km2 * 1e6 / site.area)  # the lobes overlap: scale to the site's area
    return _clean(scale(site, f, f, origin=(x, y)))


def _blob(
    rng: np.random.Generator, x: float, y: float, km2: float, elong: float, angle: float
) -> shapely.Polygon:
    theta = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    r = np.ones_like(theta)
    for k in range(2, 6):
        r += rng.uniform(0, 0.35 / k * 2) * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    r = np.maximum(r, 0.35)
    px, py = r * np.cos(theta) * np.sqrt(elong), r * np.sin(theta) / np.sqrt(elong)
    a = np.deg2rad(angle)
    qx, qy = px * np.cos(a) - py * np.sin(a), px * np.sin(a) + py * np.cos(a)
    unit = shapely.Polygon(np.column_stack([qx, qy]))
    f = np.sqrt(km2 * 1e6 / unit.area)
    return shapely.Polygon(np.column_stack([x + qx * f, y + qy * f]))


def _clean(g: BaseGeometry) -> BaseGeometry:
    """Valid and polygonal (make_valid, polygonal parts kept); empty if nothing is left."""
    if not g.is_valid:
        g = shapely.make_valid(g)
    if g.geom_type in ("Polygon", "MultiPolygon"):
        return g
    polys = [
        q
        for p in shapely.get_parts(g)
        if p.geom_type in ("Polygon", "MultiPolygon")
        for q in shapely.get_parts(p)
    ]
    if not polys:
        return shapely.MultiPolygon()
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def _chaikin(xy: np.ndarray, rounds: int) -> np.ndarray:
    for _ in range(rounds):
        q = 0.75 * xy[:-1] + 0.25 * xy[1:]
        r = 0.25 * xy[:-1] + 0.75 * xy[1:]
        xy = np.vstack([xy[:1], np.column_stack([q, r]).reshape(-1, 2), xy[-1:]])
    return xy


def _densify(xy: np.ndarray, step: float) -> np.ndarray:
    s = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
    at = np.linspace(0, s[-1], max(2, int(s[-1] // step) + 1))
    return np.column_stack([np.interp(at, s, xy[:, 0]), np.interp(at, s, xy[:, 1])])


def _normals(xy: np.ndarray) -> np.ndarray:
    d = np.gradient(xy, axis=0)
    d /= np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)[:, None]
    return np.column_stack([-d[:, 1], d[:, 0]])


def _smooth_noise(rng: np.random.Generator, s: np.ndarray, wavelength: float) -> np.ndarray:
    """Smooth noise in [-1, 1] along the distance ``s`` (three sinusoids)."""
    out = np.zeros_like(s)
    for f in (1.0, 2.3, 4.1):
        out += np.sin(2 * np.pi * s * f / wavelength + rng.uniform(0, 2 * np.pi)) / f
    return out / (1 + 1 / 2.3 + 1 / 4.1)


def _cuts(rng: np.random.Generator, length: float) -> np.ndarray:
    cuts = [0.0]
    while cuts[-1] < length:
        cuts.append(cuts[-1] + rng.uniform(8000, 25000))
    cuts[-1] = length
    return np.asarray(cuts)


def _pick(rng: np.random.Generator, table: tuple[tuple[str, float], ...]) -> str:
    values, p = zip(*table, strict=True)
    return str(values[rng.choice(len(values), p=np.asarray(p) / sum(p))])


class _Towns:
    """The municipality holding a point (its name), or the nearest one outside NRW."""

    def __init__(self, municipalities: gpd.GeoDataFrame) -> None:
        self.names = municipalities["name"].to_numpy(object)
        self.geoms = np.asarray(municipalities.geometry.values, dtype=object)
        self.tree = shapely.STRtree(self.geoms)

    def at(self, x: float, y: float) -> str:
        i = self.tree.nearest(shapely.Point(x, y))
        return str(self.names[int(i)])


def tk25_sheet(lon: float, lat: float) -> str:
    """The TK25 map sheet number holding (lon, lat), e.g. 5007 for Köln (rows of 6', columns of 10')."""
    row = int((55.9 - lat) / 0.1) + 1
    col = int((lon - 35 / 6) / (1 / 6)) + 1
    return f"{row:02d}{col:02d}"


def _site_codes(geoms: list[BaseGeometry], kinds: list[str]) -> list[str]:
    to_wgs = transformer(25832, 4326)
    used: dict[tuple[str, str], int] = {}
    out = []
    for g, kind in zip(geoms, kinds, strict=True):
        p = g.representative_point()
        sheet = tk25_sheet(*to_wgs.transform(p.x, p.y))
        series = "3" if kind == "B" else "4"
        n = used.get((sheet, series), 0) + 1
        used[(sheet, series)] = n
        out.append(f"DE{sheet}{series}{n:02d}")
    return out


def _unique(names: list[str]) -> list[str]:
    """Names made unique by a suffix ("…", "… II", "… III")."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} {_roman(seen[name])}")
    return out


def _roman(n: int) -> str:
    numerals = ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    out = ""
    for value, sym in numerals:
        while n >= value:
            out += sym
            n -= value
    return out
