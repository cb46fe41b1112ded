"""Transport access: motorway junctions, inland ports, rail freight terminals, stations, airports.

Canonical layers (EPSG:25832; ``source`` is a short label of where a feature comes from, e.g.
``OpenStreetMap``, ``DB Haltestellendaten``, ``OpenFlights``, ``SYNTHETIC demo``):

- ``motorway_junctions``: ``junction_id`` (str, ``node/<osm id>`` from OSM), ``name`` (e.g. "Kreuz
  Kaiserberg"; may be null), ``ref`` (the exit number as signposted, e.g. "18" or "3a"; may be
  null), ``source``; geometry Point.
- ``ports``: ``port_id`` (str, ``way/<id>`` or ``relation/<id>``), ``name`` (may be null),
  ``source``; geometry Polygon/MultiPolygon (OSM areas) or Point (mapped point files).
- ``rail_freight``: ``terminal_id`` (str, ``node/``, ``way/`` or ``relation/<id>``), ``name``,
  ``type`` ∈ {``container_terminal``, ``intermodal_freight_terminal``, ``yard``}, ``source``;
  geometry Point, Polygon or MultiPolygon.
- ``rail_stations``: ``eva_nr`` (str, the DB EVA number, e.g. "8000085"), ``ds100`` (str, may hold
  several codes as in the source, e.g. "KN,KN  O"; may be null), ``name``, ``traffic`` ∈ {``FV``
  long-distance, ``RV`` regional, ``nur DPN`` regional by non-DB operators only},
  ``long_distance`` (bool, ``traffic == "FV"``), ``source``; geometry Point.
- ``airports``: ``airport_id`` (str: the OpenFlights Airport ID, or the OurAirports ``ident``),
  ``name``, ``iata``, ``icao`` (str or null), ``commercial`` (bool: scheduled passenger traffic, see
  below), ``source``; geometry Point.

Formats (sources.toml ``format``):

- ``osm`` (motorway_junctions, ports, rail_freight): an OpenStreetMap extract, ``.osm.pbf`` (as
  published per state, e.g. ``nordrhein-westfalen-latest.osm.pbf``) or ``.osm`` XML, read with
  GDAL's OSM driver through pyogrio using the project's ``layers/osmconf.ini`` (it makes the
  transport tags fields, so GDAL filters them while reading; other tags are parsed from
  ``other_tags``). Taken:
  - motorway_junctions: ``highway=motorway_junction`` nodes (OSM also uses this tag on
    motorway-like trunk roads; those are kept);
  - ports: areas (ways and multipolygon relations) with ``landuse=port`` or ``industrial=port``
    (name optional), or ``harbour=yes`` with a name and not a marina (``leisure=marina`` or a
    ``harbour:category``/``seamark:harbour:category`` of marina); port nodes are not read;
  - rail_freight: nodes and areas with ``railway=container_terminal`` or
    ``industrial=intermodal_freight_terminal``, and ``railway=yard`` with a name.
  OSM geometries that are invalid are repaired (``make_valid``, polygonal parts kept).
- ``mapped`` (motorway_junctions, ports, rail_freight): any OGR file with a CRS plus the column and
  code mappings of ``layers.mapping`` (e.g. an official junction list). ``source`` defaults to the
  file name.
- ``db-haltestellen`` (rail_stations): the Deutsche Bahn "Haltestellendaten" CSV (``;``, decimal
  commas, UTF-8 or Windows-1252) with ``EVA_NR, DS100, IFOPT, NAME, Verkehr, Laenge, Breite,
  Betreiber_Name, Betreiber_Nr, Status`` (headers matched case-insensitively), or any OGR file with
  those columns (e.g. a GeoPackage made from it). ``Laenge``/``Breite`` are WGS84 degrees; an OGR
  file without them uses its geometry and must have a CRS. ``Verkehr`` values other than FV, RV
  and "nur DPN" are errors unless mapped with ``[rail_stations.values.traffic]``.
- ``openflights`` (airports): OpenFlights ``airports.dat`` (no header row; the 14 documented
  columns Airport ID, Name, City, Country, IATA, ICAO, Latitude, Longitude, Altitude, Timezone, DST,
  Tz database time zone, Type, Source, or the 12 of older versions; ``\\N`` is null), the same with
  a header row, or any OGR file with those columns. Rows whose ``Type`` is ``station`` or ``port``
  (airports-extended.dat) are skipped. OpenFlights has no size or service field, so
  ``commercial`` = the IATA code is in ``COMMERCIAL_IATA`` (or in the ``commercial`` option, a list
  of IATA codes).
- ``ourairports`` (airports): OurAirports ``airports.csv`` (header row; ``ident``, ``type``,
  ``name``, ``latitude_deg``, ``longitude_deg``, ``scheduled_service``, ``iata_code``, and
  ``icao_code`` or ``gps_code``). Types ``large_airport``, ``medium_airport`` and ``small_airport``
  are kept (heliports, seaplane bases, balloon ports and closed fields are skipped);
  ``commercial`` = large or medium airport with ``scheduled_service = yes`` (or the ``commercial``
  option's IATA list).
- ``facts`` (rail_stations, airports; no ``path``): the built-in fact tables
  ``layers/facts/rail_stations.csv`` and ``layers/facts/airports.csv`` (see layers/facts/README.md).

Readers do not clip: an airport file is worldwide, the DB file national, an OSM extract per state.

Commercial airports (``COMMERCIAL_IATA``), decided for sites in NRW (airports up to ~100 km
beyond the border matter for the criterion). In NRW: DUS, CGN, DTM, FMO, PAD, NRN (Weeze) — the
six with scheduled passenger services. Not commercial: ESS (Essen/Mülheim), MGL (Mönchengladbach),
BFE (Bielefeld), SGE (Siegerland), AAH, BNJ — general and business aviation without scheduled
services; GKE (Geilenkirchen NATO base) and GUT (Gütersloh, former RAF base) are military or
closed. Neighbours with scheduled services: AMS, EIN, MST, BRU, CRL, LGG, LUX, HHN, FRA, HAJ,
BRE, GRQ. Not included: ENS (Twente, no scheduled services since 2008), KSF (Kassel-Calden,
scheduled services too sparse to be sure). This is the state as known to the authors in 2025,
not checked against a live source; override it with the ``commercial`` option.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely.geometry.base import BaseGeometry

from geo.crs import WORK_CRS, transformer
from layers.errors import SourceError
from layers.io import NO_CRS_HINT, parse_number, read_table, read_vector, require_file, to_work_crs
from layers.mapping import apply_mapping
from layers.schema import POLYGONAL, SCHEMAS, Schema, check

LAYERS = ("motorway_junctions", "ports", "rail_freight", "rail_stations", "airports")
FREIGHT_TYPES = ("container_terminal", "intermodal_freight_terminal", "yard")
TRAFFIC = ("FV", "RV", "nur DPN")

# The canonical schemas, registered with the one schema registry (layers.schema.SCHEMAS).
SCHEMAS.update(
    {
        "motorway_junctions": Schema(
            "junction_id",
            ("junction_id", "name", "ref", "source"),
            ("Point",),
            nullable=("name", "ref", "source"),
        ),
        "ports": Schema(
            "port_id", ("port_id", "name", "source"), POLYGONAL + ("Point",), nullable=("name", "source")
        ),
        "rail_freight": Schema(
            "terminal_id",
            ("terminal_id", "name", "type", "source"),
            ("Point",) + POLYGONAL,
            codes={"type": FREIGHT_TYPES},
            nullable=("name", "source"),
        ),
        "rail_stations": Schema(
            "eva_nr",
            ("eva_nr", "ds100", "name", "traffic", "long_distance", "source"),
            ("Point",),
            codes={"traffic": TRAFFIC},
            nullable=("ds100", "source"),
        ),
        "airports": Schema(
            "airport_id",
            ("airport_id", "name", "iata", "icao", "commercial", "source"),
            ("Point",),
            nullable=("iata", "icao", "source"),
        ),
    }
)

OSM_LICENCE = "ODbL-1.0 (https://opendatacommons.org/licenses/odbl/1-0/)"
OSM_ATTRIBUTION = "© OpenStreetMap contributors"
DB_LICENCE = "CC-BY-4.0 (https://creativecommons.org/licenses/by/4.0/)"
DB_ATTRIBUTION = "Deutsche Bahn AG"
OPENFLIGHTS_LICENCE = "ODbL-1.0 (https://opendatacommons.org/licenses/odbl/1-0/)"
OPENFLIGHTS_ATTRIBUTION = "OpenFlights.org"
DEFAULTS: dict[str, dict[str, str]] = {
    "osm": {"licence": OSM_LICENCE, "attribution": OSM_ATTRIBUTION},
    "mapped": {"licence": "unknown", "attribution": "set licence and attribution in sources.toml"},
    "db-haltestellen": {
        "licence": DB_LICENCE,
        "attribution": f"{DB_ATTRIBUTION} (Haltestellendaten); modified",
    },
    "openflights": {"licence": OPENFLIGHTS_LICENCE, "attribution": OPENFLIGHTS_ATTRIBUTION},
    "ourairports": {
        "licence": "Public Domain (https://ourairports.com/data/)",
        "attribution": "OurAirports (ourairports.com)",
    },
    "facts:rail_stations": {
        "licence": DB_LICENCE,
        "attribution": f"{DB_ATTRIBUTION} (Haltestellendaten 2020); modified: subset FV/RV in NRW + "
        "10 km, reduced columns (NRW Site Finder fact table)",
    },
    "facts:airports": {
        "licence": f"{OPENFLIGHTS_LICENCE}; derived database, share-alike",
        "attribution": f"{OPENFLIGHTS_ATTRIBUTION}; subset NRW + 10 km with a commercial flag "
        "(NRW Site Finder fact table)",
    },
}

COMMERCIAL_IATA_NRW = frozenset({"DUS", "CGN", "DTM", "FMO", "PAD", "NRN"})
COMMERCIAL_IATA_NEIGHBOURS = frozenset(
    {"AMS", "EIN", "MST", "BRU", "CRL", "LGG", "LUX", "HHN", "FRA", "HAJ", "BRE", "GRQ"}
)
COMMERCIAL_IATA = COMMERCIAL_IATA_NRW | COMMERCIAL_IATA_NEIGHBOURS

OSM_CONFIG = "osmconf.ini"
# what GDAL keeps while reading (fields of osmconf.ini); each reader then picks its own features
OSM_WHERE = {
    "points": "highway = 'motorway_junction' OR railway IN ('container_terminal', 'yard') "
    "OR industrial = 'intermodal_freight_terminal'",
    "multipolygons": "landuse = 'port' OR industrial IN ('port', 'intermodal_freight_terminal') "
    "OR harbour = 'yes' OR railway IN ('container_terminal', 'yard')",
}
OSM_SOURCE = "OpenStreetMap"
HSTORE = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')
MARINA = re.compile(r"marina|yacht", re.IGNORECASE)
TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".dat")

DB_COLUMNS = {
    "eva_nr": "EVA_NR",
    "ds100": "DS100",
    "name": "NAME",
    "traffic": "Verkehr",
    "lon": "Laenge",
    "lat": "Breite",
}
OPENFLIGHTS_COLUMNS = (
    "Airport ID",
    "Name",
    "City",
    "Country",
    "IATA",
    "ICAO",
    "Latitude",
    "Longitude",
    "Altitude",
    "Timezone",
    "DST",
    "Tz database time zone",
    "Type",
    "Source",
)
OPENFLIGHTS_SKIP_TYPES = frozenset({"station", "port"})
OURAIRPORTS_KEEP = frozenset({"large_airport", "medium_airport", "small_airport"})
OURAIRPORTS_COMMERCIAL_TYPES = frozenset({"large_airport", "medium_airport"})
FACT_FILES = {"rail_stations": "facts/rail_stations.csv", "airports": "facts/airports.csv"}


# --------------------------------------------------------------------------------------------
# OpenStreetMap


def parse_other_tags(text: Any) -> dict[str, str]:
    """Parse GDAL's ``other_tags`` (HSTORE syntax, ``"k"=>"v","k2"=>"v \\"q\\", x"``) into a dict."""
    if not isinstance(text, str) or not text:
        return {}
    return {_unescape(k): _unescape(v) for k, v in HSTORE.findall(text)}


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", r"\1", s)


def read_osm_junctions(path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """``highway=motorway_junction`` nodes of an OSM extract."""
    layer = "motorway_junctions"
    gdf, tags = _read_osm(layer, path, "points")
    keep = np.array([t.get("highway") == "motorway_junction" for t in tags], dtype=bool)
    gdf, tags = gdf[keep], [t for t, k in zip(tags, keep, strict=True) if k]
    out = gpd.GeoDataFrame(
        {
            "junction_id": [f"node/{i}" for i in gdf["osm_id"]],
            "name": [t.get("name") for t in tags],
            "ref": [t.get("ref") for t in tags],
            "source": OSM_SOURCE,
        },
        geometry=shapely.force_2d(gdf.geometry.values),
        crs=WORK_CRS,
    )
    return check(layer, out, path)


def read_osm_ports(path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """Inland port areas of an OSM extract (see the module docstring for the tags)."""
    layer = "ports"
    gdf, tags = _read_osm(layer, path, "multipolygons")
    keep = np.array([_is_port(t) for t in tags], dtype=bool)
    gdf, tags = gdf[keep], [t for t, k in zip(tags, keep, strict=True) if k]
    out = gpd.GeoDataFrame(
        {
            "port_id": _area_ids(gdf),
            "name": [t.get("name") for t in tags],
            "source": OSM_SOURCE,
        },
        geometry=_polygonal(np.asarray(gdf.geometry.values)),
        crs=WORK_CRS,
    )
    return check(layer, out[~shapely.is_empty(out.geometry.values)].reset_index(drop=True), path)


def read_osm_rail_freight(path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """Container and intermodal terminals (nodes and areas) and named yards of an OSM extract."""
    layer = "rail_freight"
    frames = []
    for osm_layer in ("points", "multipolygons"):
        gdf, tags = _read_osm(layer, path, osm_layer)
        types = [_freight_type(t) for t in tags]
        keep = np.array([t is not None for t in types], dtype=bool)
        gdf = gdf[keep]
        tags = [t for t, k in zip(tags, keep, strict=True) if k]
        if osm_layer == "points":
            ids = [f"node/{i}" for i in gdf["osm_id"]]
            geoms = shapely.force_2d(gdf.geometry.values)
        else:
            ids = _area_ids(gdf)
            geoms = _polygonal(np.asarray(gdf.geometry.values))
        frames.append(
            gpd.GeoDataFrame(
                {
                    "terminal_id": ids,
                    "name": [t.get("name") for t in tags],
                    "type": [t for t in types if t is not None],
                    "source": OSM_SOURCE,
                },
                geometry=geoms,
                crs=WORK_CRS,
            )
        )
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=WORK_CRS)
    return check(layer, out[~shapely.is_empty(out.geometry.values)].reset_index(drop=True), path)


def _read_osm(layer: str, path: Path, osm_layer: str) -> tuple[gpd.GeoDataFrame, list[dict[str, str]]]:
    """The transport features of one OSM layer (``OSM_WHERE``), EPSG:25832, with their tags.

    The three OSM-based layers share two passes over the file (points, multipolygons): a state
    extract takes minutes per pass, so a pass is kept (keyed by path, size and mtime) for the
    other readers of the same build.
    """
    path = Path(path)
    if not path.name.lower().endswith((".osm", ".pbf")):
        raise SourceError(
            layer,
            path,
            "an OpenStreetMap extract must be named *.osm (XML) or "
            "*.osm.pbf: GDAL's OSM driver recognises the file by its name "
            "(decompress .osm.bz2 first)",
        )
    require_file(layer, path)
    stat = path.stat()
    try:
        gdf, tags = _osm_pass(str(path.resolve()), stat.st_size, stat.st_mtime_ns, osm_layer)
    except Exception as exc:  # pyogrio raises several types; the message is what matters
        raise SourceError(
            layer, path, f"cannot be read as an OpenStreetMap file (layer {osm_layer!r}): {exc}"
        ) from exc
    return gdf.copy(), [dict(t) for t in tags]


@lru_cache(maxsize=2)
def _osm_pass(
    path: str, size: int, mtime_ns: int, osm_layer: str
) -> tuple[gpd.GeoDataFrame, list[dict[str, str]]]:
    with resources.as_file(resources.files("layers").joinpath(OSM_CONFIG)) as ini:
        gdf = pyogrio.read_dataframe(path, layer=osm_layer, where=OSM_WHERE[osm_layer], CONFIG_FILE=str(ini))
    gdf = gdf.reset_index(drop=True)
    if gdf.crs is None:  # the OSM driver always declares WGS84; be safe with odd builds
        gdf = gdf.set_crs(4326)
    fields = [c for c in gdf.columns if c not in ("geometry", "other_tags", "osm_id", "osm_way_id")]
    tags = []
    for record in gdf[fields + (["other_tags"] if "other_tags" in gdf else [])].to_dict("records"):
        t = parse_other_tags(record.pop("other_tags", None))
        t.update({str(k): str(v).strip() for k, v in record.items() if _present(v)})
        tags.append(t)
    return to_work_crs(gdf), tags


def _present(v: Any) -> bool:
    return v is not None and not (isinstance(v, float) and np.isnan(v)) and str(v).strip() != ""


def _is_port(t: dict[str, str]) -> bool:
    if t.get("landuse") == "port" or t.get("industrial") == "port":
        return True
    if t.get("harbour") != "yes" or not t.get("name"):
        return False
    category = t.get("harbour:category", "") + " " + t.get("seamark:harbour:category", "")
    return t.get("leisure") != "marina" and not MARINA.search(category)


def _freight_type(t: dict[str, str]) -> str | None:
    if t.get("railway") == "container_terminal":
        return "container_terminal"
    if t.get("industrial") == "intermodal_freight_terminal":
        return "intermodal_freight_terminal"
    if t.get("railway") == "yard" and t.get("name"):
        return "yard"
    return None


def _area_ids(gdf: gpd.GeoDataFrame) -> list[str]:
    """``relation/<id>`` for multipolygon relations, ``way/<id>`` for closed ways."""
    rel = gdf["osm_id"] if "osm_id" in gdf else pd.Series([None] * len(gdf))
    way = gdf["osm_way_id"] if "osm_way_id" in gdf else pd.Series([None] * len(gdf))
    return [
        f"relation/{r}" if _present(r) else f"way/{w}"
        for r, w in zip(rel.tolist(), way.tolist(), strict=True)
    ]


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """2-D, valid, polygonal geometries (OSM areas are sometimes invalid); empty if nothing is left."""
    geoms = shapely.force_2d(geoms)
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        fixed = shapely.make_valid(geoms[bad])
        geoms = geoms.copy()
        geoms[bad] = [_polygon_parts(g) for g in fixed]
    return geoms


def _polygon_parts(g: BaseGeometry) -> BaseGeometry:
    if g.geom_type in POLYGONAL:
        return g
    parts = [p for p in shapely.get_parts(g) if p.geom_type in POLYGONAL]
    polys = [q for p in parts for q in shapely.get_parts(p)]
    return shapely.MultiPolygon(polys) if polys else shapely.MultiPolygon()


# --------------------------------------------------------------------------------------------
# mapped


def read_mapped(layer: str, path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """Any OGR file with a CRS plus column and code mappings (``layers.mapping``)."""
    path = Path(path)
    src = read_vector(layer, path, cfg.get("layer"))
    out = apply_mapping(layer, src, cfg, path, fill={"name": None, "ref": None, "source": path.name})
    out.geometry = shapely.force_2d(out.geometry.values)
    return check(layer, out, path)


# --------------------------------------------------------------------------------------------
# tables with lon/lat columns: DB Haltestellen, OpenFlights, OurAirports, facts


def read_db_stations(path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """Deutsche Bahn Haltestellendaten (CSV or any OGR file with its columns)."""
    layer = "rail_stations"
    path = Path(path)
    rec = _read_records(layer, path, cfg.get("layer"))
    cols = _find(
        layer, path, rec.table, DB_COLUMNS, ("eva_nr", "name", "traffic"), "a Deutsche Bahn Haltestellen file"
    )
    problems: list[str] = []
    points = _points(layer, path, rec, cols, problems, ("Laenge", "Breite"))
    values = cfg.get("values", {})
    if set(values) - {"traffic"}:
        raise SourceError(
            layer,
            path,
            f"[rail_stations.values] maps only 'traffic'; found "
            f"{', '.join(sorted(set(values) - {'traffic'}))}",
        )
    mapping = {str(k): str(v) for k, v in values.get("traffic", {}).items()}
    canon = {t.casefold(): t for t in TRAFFIC}
    eva, names, traffic = [], [], []
    rows = rec.table[[cols[k] for k in ("eva_nr", "name", "traffic")]].itertuples(index=False, name=None)
    for label, record in zip(rec.labels, rows, strict=True):
        e, n, v = (_cell(x) for x in record)
        e = _int_text(e) or ""
        if not re.fullmatch(r"\d{5,9}", e):
            problems.append(
                f"{label}: {e!r} in column '{cols['eva_nr']}' is not an EVA number (digits, e.g. 8000085)"
            )
        if not n:
            problems.append(f"{label}: empty '{cols['name']}'")
        code = canon.get(" ".join(mapping.get(v, v).split()).casefold())
        if code is None:
            problems.append(
                f"{label}: {v!r} in column '{cols['traffic']}' is not one of FV, RV, "
                "nur DPN; map it under [rail_stations.values.traffic] in sources.toml"
            )
        eva.append(e)
        names.append(n or None)
        traffic.append(code)
    ds100 = [_cell(x) or None for x in rec.table[cols["ds100"]]] if "ds100" in cols else [None] * len(eva)
    out = gpd.GeoDataFrame(
        {
            "eva_nr": eva,
            "ds100": ds100,
            "name": names,
            "traffic": traffic,
            "long_distance": np.array([t == "FV" for t in traffic], dtype=bool),
            "source": "DB Haltestellendaten",
        },
        geometry=points,
        crs=WORK_CRS,
    )
    return _finish(layer, out, path, rec.labels, problems)


def read_openflights(path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """OpenFlights airports.dat (headerless or with the documented header) or an OGR file."""
    layer = "airports"
    path = Path(path)
    commercial = _commercial_option(layer, path, cfg)
    rec = _read_openflights_records(layer, path, cfg.get("layer"))
    wanted = {c: c for c in OPENFLIGHTS_COLUMNS} | {"lon": "Longitude", "lat": "Latitude"}
    cols = _find(
        layer, path, rec.table, wanted, ("Airport ID", "Name", "IATA", "ICAO"), "an OpenFlights airports file"
    )
    if "Type" in cols:
        kind = rec.table[cols["Type"]].map(_cell).str.casefold()
        rec = rec.keep(~kind.isin(OPENFLIGHTS_SKIP_TYPES).to_numpy())
    problems: list[str] = []
    points = _points(layer, path, rec, cols, problems, ("Longitude", "Latitude"))
    t = rec.table
    iata = [_code(v, 3) for v in t[cols["IATA"]]]
    out = gpd.GeoDataFrame(
        {
            "airport_id": [_int_text(_cell(v)) or None for v in t[cols["Airport ID"]]],
            "name": [_cell(v) or None for v in t[cols["Name"]]],
            "iata": iata,
            "icao": [_code(v, 4) for v in t[cols["ICAO"]]],
            "commercial": np.array([c in (commercial or COMMERCIAL_IATA) for c in iata], dtype=bool),
            "source": "OpenFlights",
        },
        geometry=points,
        crs=WORK_CRS,
    )
    problems += [
        f"{rec.labels[i]}: empty '{cols['Name']}'" for i in np.flatnonzero(out["name"].isna().to_numpy())
    ]
    return _finish(layer, out, path, rec.labels, problems)


def read_ourairports(path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """OurAirports airports.csv (or an OGR file with its columns)."""
    layer = "airports"
    path = Path(path)
    commercial = _commercial_option(layer, path, cfg)
    rec = _read_records(layer, path, cfg.get("layer"))
    wanted = {
        k: k for k in ("ident", "type", "name", "scheduled_service", "iata_code", "icao_code", "gps_code")
    } | {"lon": "longitude_deg", "lat": "latitude_deg"}
    required = ("ident", "type", "name", "iata_code") + (() if commercial else ("scheduled_service",))
    cols = _find(layer, path, rec.table, wanted, required, "an OurAirports airports file")
    rec = rec.keep(rec.table[cols["type"]].map(_cell).str.casefold().isin(OURAIRPORTS_KEEP).to_numpy())
    problems: list[str] = []
    points = _points(layer, path, rec, cols, problems, ("longitude_deg", "latitude_deg"))
    t = rec.table
    kind = t[cols["type"]].map(_cell).str.casefold()
    iata = [_code(v, 3) for v in t[cols["iata_code"]]]
    icao = [_code(v, 4) for v in t[cols["icao_code"]]] if "icao_code" in cols else [None] * len(t)
    if "gps_code" in cols:  # older files have no icao_code; gps_code holds the ICAO code there
        icao = [c or _code(g, 4) for c, g in zip(icao, t[cols["gps_code"]], strict=True)]
    if commercial:
        is_commercial = [c in commercial for c in iata]
    else:
        scheduled = t[cols["scheduled_service"]].map(_cell).str.casefold() == "yes"
        is_commercial = (kind.isin(OURAIRPORTS_COMMERCIAL_TYPES) & scheduled).tolist()
    out = gpd.GeoDataFrame(
        {
            "airport_id": [_cell(v) or None for v in t[cols["ident"]]],
            "name": [_cell(v) or None for v in t[cols["name"]]],
            "iata": iata,
            "icao": icao,
            "commercial": np.array(is_commercial, dtype=bool),
            "source": "OurAirports",
        },
        geometry=points,
        crs=WORK_CRS,
    )
    problems += [
        f"{rec.labels[i]}: empty '{cols['name']}'" for i in np.flatnonzero(out["name"].isna().to_numpy())
    ]
    return _finish(layer, out, path, rec.labels, problems)


def read_station_facts(path: Path | None = None, cfg: dict[str, Any] | None = None) -> gpd.GeoDataFrame:
    """The built-in rail station fact table (DB Haltestellendaten 2020, FV and RV, NRW + 10 km)."""
    f = _fact_table("rail_stations")
    to_utm = transformer(4326, 25832)
    x, y = to_utm.transform(f["lon"].astype(float).to_numpy(), f["lat"].astype(float).to_numpy())
    out = gpd.GeoDataFrame(
        {
            "eva_nr": f["eva_nr"],
            "ds100": f["ds100"].where(f["ds100"].notna(), None),
            "name": f["name"],
            "traffic": f["traffic"],
            "long_distance": (f["traffic"] == "FV").to_numpy(dtype=bool),
            "source": "DB Haltestellendaten",
        },
        geometry=shapely.points(x, y),
        crs=WORK_CRS,
    )
    return check("rail_stations", out, f"layers/{FACT_FILES['rail_stations']}")


def read_airport_facts(path: Path | None = None, cfg: dict[str, Any] | None = None) -> gpd.GeoDataFrame:
    """The built-in airport fact table (OpenFlights, NRW + 10 km, with the commercial flag)."""
    f = _fact_table("airports")
    to_utm = transformer(4326, 25832)
    x, y = to_utm.transform(f["lon"].astype(float).to_numpy(), f["lat"].astype(float).to_numpy())
    out = gpd.GeoDataFrame(
        {
            "airport_id": f["airport_id"],
            "name": f["name"],
            "iata": f["iata"].where(f["iata"].notna(), None),
            "icao": f["icao"].where(f["icao"].notna(), None),
            "commercial": f["commercial"].str.casefold().eq("true").to_numpy(dtype=bool),
            "source": "OpenFlights",
        },
        geometry=shapely.points(x, y),
        crs=WORK_CRS,
    )
    return check("airports", out, f"layers/{FACT_FILES['airports']}")


def _fact_table(layer: str) -> pd.DataFrame:
    with resources.files("layers").joinpath(FACT_FILES[layer]).open("rb") as f:
        return pd.read_csv(f, dtype=str, keep_default_na=False, na_values=[""])


@dataclass
class Records:
    """A source table of text cells, with its geometry (if any) and a label per row."""

    table: pd.DataFrame
    labels: list[str]
    geoms: np.ndarray | None = None  # EPSG:25832
    no_crs: bool = False  # the file has geometry but no CRS (refused only if the geometry is used)

    def keep(self, mask: np.ndarray) -> Records:
        """The rows where ``mask`` is true."""
        return Records(
            self.table[mask].reset_index(drop=True),
            [lb for lb, k in zip(self.labels, mask, strict=True) if k],
            self.geoms[mask] if self.geoms is not None else None,
            self.no_crs,
        )


def _read_records(layer: str, path: Path, source_layer: str | None) -> Records:
    """Read a CSV (rows named by line, the header being line 1) or any OGR file (rows by number)."""
    if path.suffix.lower() in TABLE_SUFFIXES:
        table = read_table(layer, path)
        return Records(table, [f"line {i + 2}" for i in range(len(table))])
    require_file(layer, path)
    try:
        gdf = pyogrio.read_dataframe(path, layer=source_layer)
    except Exception as exc:
        raise SourceError(layer, path, f"cannot be read as a table or vector file: {exc}") from exc
    labels = [f"row {i + 1}" for i in range(len(gdf))]
    geoms, no_crs = None, False
    if isinstance(gdf, gpd.GeoDataFrame) and gdf.geometry.notna().any():
        if gdf.crs is None:
            no_crs = True
        else:
            geoms = shapely.force_2d(to_work_crs(gdf).geometry.values)
    table = pd.DataFrame(gdf.drop(columns="geometry", errors="ignore"))
    return Records(table.astype(object).where(table.notna(), None), labels, geoms, no_crs)


def _read_openflights_records(layer: str, path: Path, source_layer: str | None) -> Records:
    """OpenFlights .dat/.csv with or without the header row, or an OGR file with its columns."""
    if path.suffix.lower() not in TABLE_SUFFIXES:
        return _read_records(layer, path, source_layer)
    require_file(layer, path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SourceError(
            layer,
            path,
            f"line {line} is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); OpenFlights files are UTF-8",
        ) from None
    header = text.split("\n", 1)[0].strip().strip('"').casefold().startswith("airport id")
    try:
        table = pd.read_csv(
            io.StringIO(text),
            header=0 if header else None,
            dtype=str,
            keep_default_na=False,
            na_values=["\\N", ""],
        )
        table.attrs["number_format"] = "en"  # OpenFlights: comma-separated, decimal points
    except Exception as exc:
        raise SourceError(layer, path, f"cannot be read as an OpenFlights airports file: {exc}") from exc
    if not header:
        n = table.shape[1]
        if n not in (12, 14):
            raise SourceError(
                layer,
                path,
                f"not an OpenFlights airports.dat: {n} columns, expected 14 "
                f"({', '.join(OPENFLIGHTS_COLUMNS)}) or the first 12",
            )
        table.columns = list(OPENFLIGHTS_COLUMNS[:n])
    first = 2 if header else 1
    return Records(
        table.astype(object).where(table.notna(), None), [f"line {i + first}" for i in range(len(table))]
    )


def _find(
    layer: str, path: Path, table: pd.DataFrame, wanted: dict[str, str], required: Iterable[str], what: str
) -> dict[str, str]:
    """Map our keys to the table's headers (case, spacing and Unicode form ignored)."""
    headers = {_norm_header(h): h for h in table.columns}
    found = {key: headers[_norm_header(h)] for key, h in wanted.items() if _norm_header(h) in headers}
    missing = [wanted[k] for k in required if k not in found]
    if missing:
        raise SourceError(
            layer,
            path,
            f"not {what}: missing column(s) "
            f"{', '.join(repr(m) for m in missing)}; the file has: "
            f"{', '.join(repr(str(c)) for c in table.columns)}",
        )
    return found


def _points(
    layer: str, path: Path, rec: Records, cols: dict[str, str], problems: list[str], names: tuple[str, str]
) -> np.ndarray:
    """Points in EPSG:25832 from the lon/lat columns (WGS84), else from the file's geometry."""
    if "lon" not in cols or "lat" not in cols:
        if rec.no_crs:
            raise SourceError(layer, path, NO_CRS_HINT)
        if rec.geoms is None:
            need = ", ".join(
                repr(c) for c in names if _norm_header(c) not in {_norm_header(h) for h in rec.table.columns}
            )
            raise SourceError(
                layer,
                path,
                f"missing coordinate column(s) {need} (WGS84) and no "
                f"geometry; the file has: "
                f"{', '.join(repr(str(c)) for c in rec.table.columns)}",
            )
        return rec.geoms
    lonlat = np.full((len(rec.table), 2), np.nan)
    for j, key in enumerate(("lon", "lat")):
        for i, v in enumerate(rec.table[cols[key]].tolist()):
            try:
                lonlat[i, j] = parse_number(v, rec.table.attrs.get("number_format"))
            except ValueError:
                problems.append(f"{rec.labels[i]}: {v!r} in column '{cols[key]}' is not a number")
                continue
            if np.isnan(lonlat[i, j]):
                problems.append(f"{rec.labels[i]}: empty '{cols[key]}'")
    lon, lat = lonlat.T
    bad = np.isfinite(lon) & np.isfinite(lat) & ((np.abs(lon) > 180) | (np.abs(lat) > 90))
    for k in np.flatnonzero(bad):
        problems.append(
            f"{rec.labels[k]}: {lon[k]}, {lat[k]} in columns '{cols['lon']}', "
            f"'{cols['lat']}' are not WGS84 degrees (longitude, latitude)"
        )
    ok = np.isfinite(lon) & np.isfinite(lat) & ~bad
    x, y = transformer(4326, 25832).transform(np.where(ok, lon, 0.0), np.where(ok, lat, 0.0))
    # return-value: numpy's stubs take where(c, x, None) for where(c) (None is no ArrayLike)
    return np.where(ok, shapely.points(x, y), None)  # type: ignore[return-value]


def _finish(
    layer: str, out: gpd.GeoDataFrame, path: Path, labels: list[str], problems: list[str]
) -> gpd.GeoDataFrame:
    """Run the schema check; raise one error with the row problems and the check's."""
    if problems:  # rows already reported keep their own messages; check the rest for the others
        raise SourceError(layer, path, problems + _check_problems(layer, out, path, labels))
    return check(layer, out, path, row_labels=labels)


def _check_problems(layer: str, out: gpd.GeoDataFrame, path: Path, labels: list[str]) -> list[str]:
    try:
        check(
            layer,
            out[out.geometry.notna()].reset_index(drop=True),
            path,
            row_labels=[lb for lb, g in zip(labels, out.geometry.notna(), strict=True) if g],
        )
    except SourceError as exc:
        return [p for p in exc.problems if not p.startswith("traffic must be")]
    return []


def _commercial_option(layer: str, path: Path, cfg: dict[str, Any]) -> frozenset[str] | None:
    value = cfg.get("commercial")
    if value is None:
        return None
    if not all(isinstance(v, str) for v in value):
        raise SourceError(
            layer, path, 'option `commercial` must be a list of IATA codes, e.g. ["DUS", "CGN"]'
        )
    return frozenset(v.strip().upper() for v in value)


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    return str(v).strip()


def _code(v: Any, n: int) -> str | None:
    """An IATA (3) or ICAO (4) code in upper case; None for empty, ``\\N`` or ``-``."""
    text = _cell(v).upper()
    return text if re.fullmatch(rf"[A-Z0-9]{{{n}}}", text) else None


def _int_text(text: str) -> str | None:
    if re.fullmatch(r"\d+\.0", text):
        text = text[:-2]
    return text or None


def _norm_header(header: Any) -> str:
    return "".join(unicodedata.normalize("NFC", str(header)).casefold().split())
