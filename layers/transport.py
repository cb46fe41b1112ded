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

Formats (sources.toml ``format``), each read by its own module:

- ``osm`` (motorway_junctions, ports, rail_freight): an OpenStreetMap extract (``.osm.pbf`` or
  ``.osm`` XML), read through the shared OSM reader ``layers/osm.py``; the tags taken per layer
  are in ``layers/transport_osm.py``.
- ``mapped`` (motorway_junctions, ports, rail_freight): any OGR file with a CRS plus the column and
  code mappings of ``layers.mapping`` (e.g. an official junction list). ``source`` defaults to the
  file name. Read by ``read_mapped`` here.
- ``db-haltestellen`` (rail_stations): the Deutsche Bahn "Haltestellendaten" CSV or an OGR file
  with its columns; ``layers/transport_stations.py``.
- ``openflights`` and ``ourairports`` (airports): OpenFlights ``airports.dat`` and OurAirports
  ``airports.csv``, or OGR files with their columns; ``layers/transport_airports.py``. The table
  readers share ``layers/transport_tables.py`` (lon/lat columns, header matching, row problems).
- ``facts`` (rail_stations, airports; no ``path``): the built-in fact tables
  ``layers/facts/rail_stations.csv`` and ``layers/facts/airports.csv`` (see layers/facts/README.md);
  ``layers/transport_facts.py``.

This module holds what the formats share: the layer names and code lists, the canonical schemas,
the default licences and attributions per format (``DEFAULTS``) and the commercial airports.

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

from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely

from layers.io import read_vector
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


def read_mapped(layer: str, path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """Any OGR file with a CRS plus column and code mappings (``layers.mapping``)."""
    path = Path(path)
    src = read_vector(layer, path, cfg.get("layer"))
    out = apply_mapping(layer, src, cfg, path, fill={"name": None, "ref": None, "source": path.name})
    out.geometry = shapely.force_2d(out.geometry.values)
    return check(layer, out, path)
