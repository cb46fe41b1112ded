"""Where each value comes from: licence URLs and the source of every criterion, from a manifest.

A snapshot's manifest records per layer its format, source, licence, attribution and date. This
module turns that into one ``geo.result.Source`` per criterion (layer, title, resolution, date,
licence and its URL), so that every breakdown entry can say where its value comes from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from geo.criteria import CRITERIA
from geo.result import Source

# Known licences (pattern found in the licence text, first match wins → canonical URL).
LICENCE_URLS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), url)
    for p, url in (
        (r"dl-de/zero-2-0", "https://www.govdata.de/dl-de/zero-2-0"),
        (r"dl-de/by-2-0", "https://www.govdata.de/dl-de/by-2-0"),
        (r"\bCC0[- ]1\.0\b", "https://creativecommons.org/publicdomain/zero/1.0/"),
        (r"\bCC[- ]BY[- ]4\.0\b", "https://creativecommons.org/licenses/by/4.0/"),
        (r"\bODbL\b", "https://opendatacommons.org/licenses/odbl/1-0/"),
        (r"\bBreitbandatlas\b", "https://gigabitgrundbuch.bund.de"),
        (r"\bMIT\b", "https://opensource.org/license/mit"),
    )
)

FORMAT_TITLES = {
    "demo": "NRW Site Finder demo generator (SYNTHETIC, not official)",
    "dvg": "Geobasis NRW, Verwaltungsgrenzen DVG",
    "vg250": "BKG, Verwaltungsgebiete VG250",
    "mapped": "official source file (mapped columns)",
    "xplan-rp": "Regionalplan, XPlanGML RP_IndustrieGewerbe",
    "facts": "LEP NRW Ziel 6.4-1 (NRW Site Finder fact table)",
    "breitbandatlas-municipal": "Breitbandatlas, statistics per municipality",
    "breitbandatlas-kreis": "Breitbandatlas, mobile statistics per Kreis",
    "inspire-grid": "Gigabit-Grundbuch, 100 m INSPIRE grid",
    "bnetza-grid": "BNetzA Mobilfunk-Monitoring, 100 m grid",
    "fnb-measures": "FNB Gas, Wasserstoff-Kernnetz measure list",
    "lines": "pipeline line file",
    "derived": "NRW Site Finder, derived from the candidate layers",
    "osm": "OpenStreetMap extract",
    "db-haltestellen": "Deutsche Bahn, Haltestellendaten",
    "openflights": "OpenFlights airports",
    "ourairports": "OurAirports airports",
}
# Where a criterion's own layer is missing, its value comes from this one (see geo/sites.py).
FALLBACK_LAYERS = {"rail_freight": "rail_stations"}
COVERAGE_RESOLUTION = {
    "grid_100m": "100 m grid (EPSG:25832), area-weighted over the site",
    "municipal": "per municipality (statistics), mixed by the site's area in each",
    "kreis": "per Kreis (statistics), mixed by the site's area in each",
}
FUNDING = Source(
    layer="funding",
    title="GRW 2022–2027, JTF regions, 5-Standorte-Programm (fact table)",
    resolution="per municipality or Kreis (AGS)",
    date=None,
    licence="facts",
    licence_url=None,
    attribution="NRW Site Finder fact table layers/facts/funding_regions.csv; each row names its source",
)


# The same licences in the DCAT-AP.de licence vocabulary (http://dcat-ap.de/def/licenses/).
DCAT_LICENCES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), uri)
    for p, uri in (
        (r"dl-de/zero-2-0", "http://dcat-ap.de/def/licenses/dl-zero-de/2.0"),
        (r"dl-de/by-2-0", "http://dcat-ap.de/def/licenses/dl-by-de/2.0"),
        (r"\bCC0[- ]1\.0\b", "http://dcat-ap.de/def/licenses/cc-zero"),
        (r"\bCC[- ]BY[- ]4\.0\b", "http://dcat-ap.de/def/licenses/cc-by/4.0"),
        (r"\bODbL\b", "http://dcat-ap.de/def/licenses/odbl"),
    )
)
DCAT_OTHER_OPEN = "http://dcat-ap.de/def/licenses/other-open"


def dcat_licence(licence: str | None) -> str:
    """The DCAT-AP.de licence URI of a licence text (``other-open`` when not in the vocabulary,
    e.g. the Breitbandatlas terms or fact tables).
    """
    for pattern, uri in DCAT_LICENCES:
        if pattern.search(licence or ""):
            return uri
    return DCAT_OTHER_OPEN


def licence_url(licence: str | None) -> str | None:
    """The URL of a known licence named in ``licence`` (None when unknown)."""
    for pattern, url in LICENCE_URLS:
        if pattern.search(licence or ""):
            return url
    return None


def layer_attribution(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Attribution and licence of every layer of a snapshot, as they travel with every answer."""
    return [
        {
            "layer": name,
            "attribution": m.get("attribution"),
            "licence": m.get("licence"),
            "licence_url": licence_url(m.get("licence")),
            "source": m.get("source"),
            "date": m.get("date"),
            "synthetic": bool(m.get("synthetic", False)),
        }
        for name, m in manifest["layers"].items()
    ]


def _resolution(criterion: str, layer: str, meta: Mapping[str, Any], hydrogen_quality: str | None) -> str:
    if criterion == "area":
        return "site polygon, area in EPSG:25832"
    measure = CRITERIA[criterion].measure
    if measure is not None:
        return measure.describe()
    if meta.get("kind") == "coverage":
        return COVERAGE_RESOLUTION.get(str(meta.get("resolution")), str(meta.get("resolution")))
    if layer in ("motorway_junctions", "rail_freight", "ports", "airports", "rail_stations"):
        return "straight-line distance (Luftlinie) from the site's edge to the nearest feature"
    if layer == "hydrogen":
        line = (
            "schematic straight lines between Kernnetz places"
            if hydrogen_quality == "schematic"
            else "line geometry"
        )
        return f"{line}; distance from the site's edge (straight line)"
    return "polygons; share of the site's area"


def criterion_sources(manifest: Mapping[str, Any], hydrogen_quality: str | None = None) -> dict[str, Source]:
    """One Source per criterion whose layer is in the snapshot (``funding``: the fact table).

    ``hydrogen_quality`` is the hydrogen layer's ``geometry_quality`` (schematic or surveyed).
    """
    layers = manifest.get("layers", {})
    out: dict[str, Source] = {}
    for name, crit in CRITERIA.items():
        if crit.layer == "funding":
            out[name] = FUNDING
            continue
        layer = crit.layer if crit.layer in layers else FALLBACK_LAYERS.get(crit.layer)
        meta = layers.get(layer) if layer else None
        if layer is None or meta is None:
            continue
        fmt = str(meta.get("format", ""))
        title = FORMAT_TITLES.get(fmt, fmt or None)
        real_fact_in_demo = fmt == "demo" and not meta.get("synthetic", False)
        if (fmt in ("mapped", "lines") or real_fact_in_demo) and meta.get("attribution"):
            title = str(meta["attribution"])
        licence = meta.get("licence")
        out[name] = Source(
            layer=layer,
            title=title,
            resolution=_resolution(name, layer, meta, hydrogen_quality),
            date=meta.get("date") or str(manifest.get("created", ""))[:10] or None,
            licence=licence,
            licence_url=licence_url(licence),
            attribution=meta.get("attribution"),
            synthetic=bool(meta.get("synthetic", False)),
        )
    return out
