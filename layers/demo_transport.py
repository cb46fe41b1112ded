"""Transport layers of the embedded demo: SYNTHETIC junctions, ports and terminals; real facts.

SYNTHETIC (never official; ``source = "SYNTHETIC demo"``):
- ``motorway_junctions``: points every 5–8 km along schematic motorway lines. Each line is a
  polyline through the real representative points of the towns a motorway passes (A1, A2, A3, A4,
  A30, A31, A33, A40, A42, A43, A44, A45, A46, A52, A57, A61, A555 as in ``MOTORWAYS``), so the
  network is plausible but the junctions are not where the real exits are. Names are the
  municipality a junction falls in plus the motorway (e.g. "Werne (A1)"); exit numbers
  (``ref``) count along each motorway.
- ``ports``: small rotated rectangles at hand-placed positions of the real inland ports (``PORTS``:
  on the Rhine, the Ruhr and the canals — Rhein-Herne, Wesel-Datteln, Datteln-Hamm, Dortmund-Ems,
  Mittelland), positions approximate to 1–2 km, sizes a rough order of magnitude.
- ``rail_freight``: the same for rail freight terminals and marshalling yards near the logistics
  hubs (``FREIGHT``).

Real facts (see layers/facts/README.md): ``rail_stations`` (DB Haltestellendaten 2020, FV and RV,
CC BY 4.0 "Deutsche Bahn AG") and ``airports`` (OpenFlights, ODbL 1.0 "OpenFlights.org", with the
documented commercial flag).

Every layer is restricted to features within 10 km of the given municipalities, and towns not in
the municipality layer are left out of the motorway lines, so the function also works on a subset
of NRW. The same generator state gives the same layers.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import affinity

from geo.crs import WORK_CRS, transformer
from layers.municipalities import facts
from layers.schema import check
from layers.transport import DEFAULTS
from layers.transport_facts import read_airport_facts, read_station_facts

SYNTHETIC_SOURCE = "SYNTHETIC demo"
NEAR_M = 10_000.0
JUNCTION_SPACING_KM = (5.0, 8.0)

# motorway -> towns it passes, in order (one tuple per continuous stretch)
MOTORWAYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "A1",
        (
            "Blankenheim",
            "Nettersheim",
            "Mechernich",
            "Euskirchen",
            "Weilerswist",
            "Erftstadt",
            "Kerpen",
            "Frechen",
            "Köln",
            "Leverkusen",
            "Burscheid",
            "Wermelskirchen",
            "Remscheid",
            "Wuppertal",
            "Schwelm",
            "Gevelsberg",
            "Hagen",
            "Schwerte",
            "Unna",
            "Kamen",
            "Werne",
            "Ascheberg",
            "Münster",
            "Greven",
            "Ladbergen",
            "Lengerich",
            "Lotte",
        ),
    ),
    (
        "A2",
        (
            "Oberhausen",
            "Bottrop",
            "Gladbeck",
            "Gelsenkirchen",
            "Herten",
            "Recklinghausen",
            "Castrop-Rauxel",
            "Dortmund",
            "Kamen",
            "Bönen",
            "Hamm",
            "Beckum",
            "Oelde",
            "Herzebrock-Clarholz",
            "Rheda-Wiedenbrück",
            "Gütersloh",
            "Bielefeld",
            "Herford",
            "Bad Oeynhausen",
            "Porta Westfalica",
        ),
    ),
    (
        "A3",
        (
            "Emmerich am Rhein",
            "Rees",
            "Hamminkeln",
            "Wesel",
            "Hünxe",
            "Dinslaken",
            "Oberhausen",
            "Duisburg",
            "Ratingen",
            "Düsseldorf",
            "Hilden",
            "Langenfeld (Rhld.)",
            "Leverkusen",
            "Köln",
            "Rösrath",
            "Lohmar",
            "Siegburg",
            "Königswinter",
            "Bad Honnef",
        ),
    ),
    (
        "A4",
        (
            "Aachen",
            "Eschweiler",
            "Düren",
            "Kerpen",
            "Frechen",
            "Köln",
            "Bergisch Gladbach",
            "Overath",
            "Engelskirchen",
            "Wiehl",
            "Reichshof",
            "Wenden",
        ),
    ),
    ("A30", ("Rheine", "Hörstel", "Ibbenbüren", "Westerkappeln", "Lotte")),
    ("A31", ("Bottrop", "Dorsten", "Schermbeck", "Heiden", "Borken", "Gescher", "Legden", "Heek", "Ochtrup")),
    (
        "A33",
        (
            "Borgholzhausen",
            "Halle (Westf.)",
            "Bielefeld",
            "Schloß Holte-Stukenbrock",
            "Paderborn",
            "Bad Wünnenberg",
        ),
    ),
    (
        "A40",
        (
            "Straelen",
            "Kerken",
            "Neukirchen-Vluyn",
            "Moers",
            "Duisburg",
            "Mülheim an der Ruhr",
            "Essen",
            "Bochum",
            "Dortmund",
        ),
    ),
    (
        "A42",
        (
            "Kamp-Lintfort",
            "Moers",
            "Duisburg",
            "Oberhausen",
            "Bottrop",
            "Gelsenkirchen",
            "Herne",
            "Castrop-Rauxel",
            "Dortmund",
        ),
    ),
    (
        "A43",
        (
            "Münster",
            "Senden",
            "Dülmen",
            "Haltern am See",
            "Marl",
            "Recklinghausen",
            "Herne",
            "Bochum",
            "Witten",
            "Sprockhövel",
            "Wuppertal",
        ),
    ),
    ("A44", ("Aachen", "Aldenhoven", "Jülich", "Titz", "Jüchen")),
    ("A44", ("Willich", "Meerbusch", "Düsseldorf", "Ratingen", "Heiligenhaus", "Velbert")),
    (
        "A44",
        ("Dortmund", "Unna", "Werl", "Soest", "Erwitte", "Geseke", "Büren", "Bad Wünnenberg", "Marsberg"),
    ),
    (
        "A45",
        (
            "Dortmund",
            "Schwerte",
            "Hagen",
            "Nachrodt-Wiblingwerde",
            "Lüdenscheid",
            "Meinerzhagen",
            "Drolshagen",
            "Olpe",
            "Wenden",
            "Kreuztal",
            "Siegen",
            "Wilnsdorf",
        ),
    ),
    (
        "A46",
        (
            "Heinsberg",
            "Hückelhoven",
            "Erkelenz",
            "Mönchengladbach",
            "Neuss",
            "Düsseldorf",
            "Hilden",
            "Haan",
            "Wuppertal",
        ),
    ),
    ("A46", ("Hemer", "Menden (Sauerland)", "Arnsberg", "Meschede", "Bestwig")),
    ("A52", ("Mönchengladbach", "Willich", "Kaarst", "Düsseldorf")),
    (
        "A57",
        (
            "Goch",
            "Uedem",
            "Sonsbeck",
            "Alpen",
            "Kamp-Lintfort",
            "Moers",
            "Krefeld",
            "Meerbusch",
            "Neuss",
            "Dormagen",
            "Köln",
        ),
    ),
    (
        "A61",
        (
            "Nettetal",
            "Viersen",
            "Mönchengladbach",
            "Jüchen",
            "Titz",
            "Elsdorf",
            "Kerpen",
            "Erftstadt",
            "Weilerswist",
            "Swisttal",
            "Meckenheim",
        ),
    ),
    ("A555", ("Köln", "Wesseling", "Bornheim", "Bonn")),
)

# name, lon, lat (WGS84, hand-placed to ~1–2 km at the real port), waterway, rough size in ha
PORTS: tuple[tuple[str, float, float, str, float], ...] = (
    ("Hafen Duisburg-Ruhrort", 6.735, 51.455, "Rhein/Ruhr", 200.0),
    ("logport Duisburg-Rheinhausen", 6.705, 51.385, "Rhein", 150.0),
    ("Hafen Mülheim an der Ruhr", 6.870, 51.430, "Ruhr", 15.0),
    ("Stadthafen Essen", 6.980, 51.480, "Rhein-Herne-Kanal", 20.0),
    ("Stadthafen Gelsenkirchen", 7.040, 51.530, "Rhein-Herne-Kanal", 25.0),
    ("Hafen Herne", 7.205, 51.553, "Rhein-Herne-Kanal", 10.0),
    ("Hafen Dortmund", 7.440, 51.530, "Dortmund-Ems-Kanal", 80.0),
    ("Hafen Datteln", 7.340, 51.655, "Dortmund-Ems-Kanal", 8.0),
    ("Chemiepark Marl, Hafen", 7.090, 51.680, "Wesel-Datteln-Kanal", 20.0),
    ("Stummhafen Lünen", 7.520, 51.610, "Datteln-Hamm-Kanal", 10.0),
    ("Hafen Bergkamen", 7.640, 51.630, "Datteln-Hamm-Kanal", 8.0),
    ("Stadthafen Hamm", 7.790, 51.675, "Datteln-Hamm-Kanal", 30.0),
    ("Stadthafen Münster", 7.641, 51.952, "Dortmund-Ems-Kanal", 15.0),
    ("Hafen Minden", 8.925, 52.300, "Mittellandkanal/Weser", 20.0),
    ("Rhein-Lippe-Hafen Wesel", 6.600, 51.645, "Rhein/Lippe", 15.0),
    ("Hafen Emmelsum (Voerde)", 6.620, 51.605, "Rhein/Wesel-Datteln-Kanal", 8.0),
    ("Rheinhafen Emmerich", 6.265, 51.830, "Rhein", 15.0),
    ("Hafen Orsoy (Rheinberg)", 6.670, 51.552, "Rhein", 10.0),
    ("Rheinhafen Krefeld", 6.665, 51.345, "Rhein", 40.0),
    ("Hafen Neuss", 6.705, 51.205, "Rhein", 60.0),
    ("Hafen Düsseldorf", 6.745, 51.215, "Rhein", 60.0),
    ("Hafen Leverkusen", 6.975, 51.035, "Rhein", 15.0),
    ("Hafen Köln-Niehl", 6.965, 50.995, "Rhein", 60.0),
    ("Hafen Köln-Godorf", 6.985, 50.855, "Rhein", 40.0),
    ("Hafen Wesseling", 6.985, 50.825, "Rhein", 20.0),
    ("Hafen Bonn", 7.080, 50.760, "Rhein", 10.0),
)

# name, lon, lat (hand-placed to ~1–2 km near the real facility), type, rough size in ha
FREIGHT: tuple[tuple[str, float, float, str, float], ...] = (
    ("KV-Terminal Duisburg-Rheinhausen", 6.715, 51.395, "intermodal_freight_terminal", 30.0),
    ("Containerterminal Duisburg-Ruhrort", 6.745, 51.460, "container_terminal", 15.0),
    ("Rangierbahnhof Oberhausen-Osterfeld", 6.880, 51.500, "yard", 40.0),
    ("Rangierbahnhof Wanne-Eickel", 7.160, 51.530, "yard", 30.0),
    ("Containerterminal Herne", 7.200, 51.550, "container_terminal", 8.0),
    ("Containerterminal Dortmund", 7.435, 51.535, "container_terminal", 12.0),
    ("Rangierbahnhof Hagen-Vorhalle", 7.435, 51.385, "yard", 40.0),
    ("Rangierbahnhof Hamm", 7.775, 51.685, "yard", 60.0),
    ("KV-Terminal Neuss", 6.700, 51.195, "intermodal_freight_terminal", 12.0),
    ("KV-Terminal Düsseldorf-Reisholz", 6.860, 51.175, "intermodal_freight_terminal", 8.0),
    ("Containerterminal Krefeld-Uerdingen", 6.655, 51.350, "container_terminal", 8.0),
    ("KV-Terminal Köln Eifeltor", 6.930, 50.905, "intermodal_freight_terminal", 25.0),
    ("Containerterminal Köln-Niehl", 6.965, 51.000, "container_terminal", 15.0),
    ("Rangierbahnhof Köln-Gremberg", 7.015, 50.915, "yard", 50.0),
    ("Containerterminal Bonn", 7.080, 50.760, "container_terminal", 5.0),
    ("Rangierbahnhof Aachen-West", 6.045, 50.785, "yard", 30.0),
    ("Rangierbahnhof Mönchengladbach", 6.440, 51.190, "yard", 15.0),
    ("Containerterminal Emmerich", 6.270, 51.825, "container_terminal", 8.0),
    ("KV-Terminal Minden", 8.900, 52.315, "intermodal_freight_terminal", 15.0),
)

NOTES = {
    "motorway_junctions": "SYNTHETIC junctions every 5–8 km on schematic motorway lines through real "
    "town points; not the real exits",
    "ports": "SYNTHETIC port polygons at hand-placed positions of the real inland ports (±1–2 km)",
    "rail_freight": "SYNTHETIC terminal polygons near real rail freight hubs (±1–2 km)",
    "rail_stations": "real facts: DB Haltestellendaten 2020, FV and RV stations, NRW + 10 km",
    "airports": "real facts: OpenFlights airports in NRW + 10 km; commercial flag from the "
    "documented IATA list",
}
# licence and attribution of the two layers that are real facts (the others are SYNTHETIC demo data)
FACT_META = {"rail_stations": DEFAULTS["facts:rail_stations"], "airports": DEFAULTS["facts:airports"]}


def demo_transport(municipalities: gpd.GeoDataFrame, rng: np.random.Generator) -> dict[str, gpd.GeoDataFrame]:
    """The five transport layers for the area of ``municipalities`` (EPSG:25832, checked)."""
    shapely.prepare(municipalities.geometry.values)
    tree = shapely.STRtree(municipalities.geometry.values)

    def near(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        hit = np.unique(tree.query(gdf.geometry.values, predicate="dwithin", distance=NEAR_M)[0])
        return gdf.iloc[hit].reset_index(drop=True)

    layers = {
        "motorway_junctions": _junctions(municipalities, tree, rng),
        "ports": near(_areas(rng, PORTS, "port_id", "DEMO-PORT", {})),
        "rail_freight": near(_areas(rng, FREIGHT, "terminal_id", "DEMO-RF", {"type": 3})),
        "rail_stations": near(read_station_facts()),
        "airports": near(read_airport_facts()),
    }
    return {name: check(name, gdf) for name, gdf in layers.items()}


def _town_points(municipalities: gpd.GeoDataFrame) -> dict[str, tuple[float, float]]:
    """Real representative points (EPSG:25832) of the towns present in ``municipalities``."""
    f = facts()
    f = f[f["ags"].isin(set(municipalities["ags"]))]
    x, y = transformer(4326, 25832).transform(f["lon"].to_numpy(), f["lat"].to_numpy())
    return dict(zip(f["name"], zip(x.tolist(), y.tolist(), strict=True), strict=True))


def _junctions(
    municipalities: gpd.GeoDataFrame, tree: shapely.STRtree, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    """Points every 5–8 km along each motorway line, named after the municipality they fall in."""
    towns = _town_points(municipalities)
    names = municipalities["name"].to_numpy()
    lo, hi = (km * 1000 for km in JUNCTION_SPACING_KM)
    rows: list[dict[str, object]] = []
    geoms: list[shapely.Point] = []
    exits: dict[str, int] = {}
    seen: dict[str, int] = {}
    for road, stretch in MOTORWAYS:
        pts = [towns[t] for t in stretch if t in towns]
        if len(pts) < 2:
            continue
        line = shapely.LineString(pts)
        at = rng.uniform(0.3 * lo, hi)
        while at < line.length:
            point = line.interpolate(at)
            at += rng.uniform(lo, hi)
            inside = tree.query(point, predicate="intersects")
            town = str(names[int(inside[0]) if len(inside) else int(tree.query_nearest(point)[0])])
            name = f"{town}{_direction(point, towns.get(town))} ({road})"
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                name = name.replace(f" ({road})", f" {seen[name]} ({road})")
            exits[road] = exits.get(road, 0) + 1
            rows.append(
                {
                    "junction_id": f"DEMO-{road}-{exits[road]:02d}",
                    "name": name,
                    "ref": str(exits[road]),
                    "source": SYNTHETIC_SOURCE,
                }
            )
            geoms.append(point)
    return gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["junction_id", "name", "ref", "source"]), geometry=geoms, crs=WORK_CRS
    )


_COMPASS = ("Ost", "Nordost", "Nord", "Nordwest", "West", "Südwest", "Süd", "Südost")


def _direction(point: shapely.Point, town: tuple[float, float] | None) -> str:
    """ "-Nord", "-Südost" … from the town's point; "-Mitte" within 2 km (or no town point)."""
    if town is None:
        return ""
    dx, dy = point.x - town[0], point.y - town[1]
    if np.hypot(dx, dy) < 2000:
        return "-Mitte"
    return "-" + _COMPASS[int(round(np.degrees(np.arctan2(dy, dx)) / 45.0)) % 8]


def _areas(
    rng: np.random.Generator,
    table: tuple[tuple[str, float, float, str, float], ...],
    id_column: str,
    prefix: str,
    extra: dict[str, int],
) -> gpd.GeoDataFrame:
    """Rotated rectangles of about the listed size, jittered by up to ~300 m, at the listed places."""
    n = len(table)
    lon = np.array([t[1] for t in table])
    lat = np.array([t[2] for t in table])
    x, y = transformer(4326, 25832).transform(lon, lat)
    x = x + rng.uniform(-300, 300, n)
    y = y + rng.uniform(-300, 300, n)
    area = np.array([t[4] for t in table]) * 1e4 * rng.uniform(0.8, 1.2, n)
    aspect = rng.uniform(1.5, 4.0, n)
    angle = rng.uniform(0, 180, n)
    geoms = []
    for i in range(n):
        w = np.sqrt(area[i] / aspect[i])
        box = shapely.box(-w * aspect[i] / 2, -w / 2, w * aspect[i] / 2, w / 2)
        geoms.append(affinity.translate(affinity.rotate(box, angle[i]), x[i], y[i]))
    data: dict[str, object] = {
        id_column: [f"{prefix}-{i + 1:02d}" for i in range(n)],
        "name": [t[0] for t in table],
    }
    data |= {col: [t[pos] for t in table] for col, pos in extra.items()}
    data["source"] = SYNTHETIC_SOURCE
    return gpd.GeoDataFrame(data, geometry=geoms, crs=WORK_CRS)
