"""The DCAT-AP.de catalogue of the published data (JSON-LD at ``/api/catalog``).

One ``dcat:Catalog`` with a ``dcat:Dataset`` for the scored candidate sites (one
``dcat:Distribution`` per export format of all of NRW, plus the OGC API collection and the
per-municipality and per-Kreis export templates) and one dataset per layer of the snapshot
(its OGC API collection where there is one). Each distribution names its licence with a URI of
the DCAT-AP.de licence vocabulary (``layers.provenance.dcat_licence``) and the attribution text
(``dcatde:licenseAttributionByText``); each dataset its publisher (``dct:publisher``, from the
settings), the originators of its sources (``dcatde:originator``), temporal coverage (the dates of
its sources), spatial coverage (NRW: the state key 05 of the political geocoding vocabulary and a
WGS84 bounding box) and the snapshot's date (``dct:modified``).

Licence of the derived site dataset: ODbL when any source layer is ODbL (its share-alike clause,
see layers/facts/README.md), the one licence when all sources share it, else ``other-open`` with
every source's attribution and licence spelled out.
"""

from __future__ import annotations

import re
from typing import Any

from api.formats import FORMATS, MEDIA_TYPES
from api.service import Service
from api.settings import Settings
from geo.crs import NRW_BOUNDS_WGS84
from layers.provenance import DCAT_OTHER_OPEN, dcat_licence

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "dcatde": "http://dcat-ap.de/def/dcatde/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "locn": "http://www.w3.org/ns/locn#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "gsp": "http://www.opengis.net/ont/geosparql#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
}
FILE_TYPES = {"geojson": "GEOJSON", "gpkg": "GPKG", "csv": "CSV", "shp.zip": "SHP"}
EU = "http://publications.europa.eu/resource/authority"
IANA = "https://www.iana.org/assignments/media-types"
STATE_KEY = "http://dcat-ap.de/def/politicalGeocoding/stateKey/05"
STATE_LEVEL = "http://dcat-ap.de/def/politicalGeocodingLevel/state"
OGC_FEATURES = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
LAYER_TITLES = {
    "municipalities": "Gemeinden und Kreise NRW",
    "regional_plan": "Regionalpläne: GIB-Bereiche",
    "brownfields": "Brachflächen",
    "lep_sites": "LEP-NRW-Großstandorte",
    "hydrogen": "Wasserstoff-Kernnetz",
    "fibre": "Glasfaserversorgung",
    "mobile_5g": "5G-Versorgung",
}
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?")


def _lit(text: str, lang: str = "de") -> dict[str, str]:
    return {"@value": text, "@language": lang}


def _dates(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    found = sorted(m.group() for m in (_DATE.match(str(e.get("date") or "")) for e in entries) if m)
    if not found:
        return None
    return {"@type": "dct:PeriodOfTime", "dcat:startDate": found[0], "dcat:endDate": found[-1]}


def _spatial() -> dict[str, Any]:
    x0, y0, x1, y1 = NRW_BOUNDS_WGS84
    wkt = f"POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))"
    return {
        "@type": "dct:Location",
        "@id": STATE_KEY,
        "rdfs:label": "Nordrhein-Westfalen",
        "dcat:bbox": {"@value": wkt, "@type": "gsp:wktLiteral"},
    }


def _attribution_text(entries: list[dict[str, Any]]) -> str:
    return "; ".join(f"{e.get('attribution')} ({e.get('licence')})" for e in entries if e.get("attribution"))


def combined_licence(entries: list[dict[str, Any]]) -> str:
    """The DCAT-AP.de licence of data derived from all ``entries`` (see the module notes)."""
    uris = {dcat_licence(e.get("licence")) for e in entries if e.get("licence")}
    if "http://dcat-ap.de/def/licenses/odbl" in uris:
        return "http://dcat-ap.de/def/licenses/odbl"
    return uris.pop() if len(uris) == 1 else DCAT_OTHER_OPEN


def catalog(svc: Service, settings: Settings, base: str) -> dict[str, Any]:
    """The catalogue document (``base``: the API's base URL, e.g. https://host/api)."""
    snap = svc.snap
    created = str(snap.manifest.get("created", ""))
    publisher: dict[str, Any] = {"@type": "foaf:Agent", "foaf:name": settings.publisher}
    if settings.publisher_url:
        publisher["foaf:homepage"] = {"@id": settings.publisher_url}
    entries = [e for e in svc.attribution() if e["layer"] != "sites"]
    synthetic = " SYNTHETISCHE Demo-Daten, keine amtlichen Flächen." if svc.synthetic else ""
    common = {
        "dct:publisher": publisher,
        "dct:modified": {"@value": created, "@type": "xsd:dateTime"},
        "dct:spatial": _spatial(),
        "dcatde:politicalGeocodingLevelURI": {"@id": STATE_LEVEL},
        "dcatde:politicalGeocodingURI": {"@id": STATE_KEY},
        "dct:language": {"@id": f"{EU}/language/DEU"},
        "dcat:theme": [{"@id": f"{EU}/data-theme/ECON"}, {"@id": f"{EU}/data-theme/REGI"}],
    }
    licence = combined_licence(entries)
    attribution = _attribution_text(entries)

    def distribution(fmt: str, url: str, title: str) -> dict[str, Any]:
        return {
            "@type": "dcat:Distribution",
            "@id": url,
            "dct:title": _lit(title),
            "dcat:accessURL": {"@id": url},
            "dcat:downloadURL": {"@id": url},
            "dct:format": {"@id": f"{EU}/file-type/{FILE_TYPES[fmt]}"},
            "dcat:mediaType": {"@id": f"{IANA}/{MEDIA_TYPES[fmt].split(';')[0]}"},
            "dct:license": {"@id": licence},
            "dcatde:licenseAttributionByText": attribution,
            "dct:modified": {"@value": created, "@type": "xsd:dateTime"},
        }

    dists = [distribution(f, f"{base}/exports/nrw.{f}", f"Alle Standorte in NRW ({f})") for f in FORMATS]
    dists.append(
        {
            "@type": "dcat:Distribution",
            "@id": f"{base}/collections/sites/items",
            "dct:title": _lit("OGC API – Features: Sammlung sites"),
            "dcat:accessURL": {"@id": f"{base}/collections/sites"},
            "dct:conformsTo": {"@id": OGC_FEATURES},
            "dcat:mediaType": {"@id": f"{IANA}/application/geo+json"},
            "dct:license": {"@id": licence},
            "dcatde:licenseAttributionByText": attribution,
        }
    )
    for kind, template in (("Gemeinde", "municipalities/{ags}"), ("Kreis", "kreise/{kreis}")):
        dists.append(
            {
                "@type": "dcat:Distribution",
                "@id": f"{base}/exports/{template}.gpkg",
                "dct:title": _lit(f"Standorte je {kind} (URL-Vorlage; auch .geojson, .csv, .shp.zip)"),
                "dcat:accessURL": {"@id": f"{base}/exports/{template}.gpkg"},
                "dct:format": {"@id": f"{EU}/file-type/GPKG"},
                "dcat:mediaType": {"@id": f"{IANA}/application/geopackage+sqlite3"},
                "dct:license": {"@id": licence},
                "dcatde:licenseAttributionByText": attribution,
            }
        )
    sites = {
        "@type": "dcat:Dataset",
        "@id": f"{base}/catalog#sites",
        "dct:identifier": f"nrw-sites/{snap.id}/sites",
        "dct:title": _lit("Gewerbe- und Industriestandorte NRW, bewertet"),
        "dct:description": _lit(
            "Regionalplan-Bereiche (GIB), Brachflächen und LEP-Großstandorte mit Indikatoren "
            "(Fläche, Planungsrecht, Wasserstoff-Kernnetz, Glasfaser, 5G, Förderung, Verkehr), "
            f"Punktzahl und Rang. Stand {snap.id}.{synthetic}"
        ),
        "dcat:keyword": [
            _lit(k)
            for k in (
                "Gewerbeflächen",
                "Industrieflächen",
                "GIB",
                "Brachflächen",
                "Standortsuche",
                "Wasserstoff",
            )
        ],
        "dct:issued": {"@value": created, "@type": "xsd:dateTime"},
        "dcatde:originator": [
            {"@type": "foaf:Agent", "foaf:name": e["attribution"]} for e in entries if e.get("attribution")
        ],
        "dct:temporal": _dates(entries),
        **common,
        "dcat:distribution": dists,
    }
    datasets = [sites]
    for e in entries:
        name = e["layer"]
        ds: dict[str, Any] = {
            "@type": "dcat:Dataset",
            "@id": f"{base}/catalog#{name}",
            "dct:identifier": f"nrw-sites/{snap.id}/{name}",
            "dct:title": _lit(LAYER_TITLES.get(name, name)),
            "dct:description": _lit(
                f"Ebene {name} des Stands {snap.id}: {e.get('attribution')}"
                + (" (SYNTHETISCH)" if e.get("synthetic") else "")
            ),
            "dct:source": str(e.get("source") or ""),
            "dcatde:originator": {"@type": "foaf:Agent", "foaf:name": e.get("attribution")},
            "dct:temporal": _dates([e]),
            **common,
        }
        if name in snap.layers and name != "sites":
            ds["dcat:distribution"] = [
                {
                    "@type": "dcat:Distribution",
                    "@id": f"{base}/collections/{name}/items",
                    "dct:title": _lit(f"OGC API – Features: Sammlung {name}"),
                    "dcat:accessURL": {"@id": f"{base}/collections/{name}"},
                    "dct:conformsTo": {"@id": OGC_FEATURES},
                    "dcat:mediaType": {"@id": f"{IANA}/application/geo+json"},
                    "dct:license": {"@id": dcat_licence(e.get("licence"))},
                    "dcatde:licenseAttributionByText": _attribution_text([e]),
                }
            ]
        datasets.append(ds)
    return {
        "@context": CONTEXT,
        "@id": f"{base}/catalog",
        "@type": "dcat:Catalog",
        "dct:title": _lit("NRW Site Finder: Katalog"),
        "dct:description": _lit(
            "Die Daten des NRW Site Finder (Gewerbe- und "
            f"Industriestandorte in NRW), Stand {snap.id}.{synthetic}"
        ),
        "dct:publisher": publisher,
        "dct:language": {"@id": f"{EU}/language/DEU"},
        "dct:modified": {"@value": created, "@type": "xsd:dateTime"},
        "foaf:homepage": {"@id": base.rsplit("/api", 1)[0] + "/"},
        "dct:license": {"@id": licence},
        "dcat:dataset": datasets,
    }
