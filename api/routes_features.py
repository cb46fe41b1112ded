"""OGC API – Features Part 1 (Core, GeoJSON, OAS 3.0) over the snapshot layers: the landing
page, the DCAT catalogue, the conformance classes and the collections' metadata.

The features themselves (``/collections/{cid}/queryables``, ``/items``, ``/items/{fid}``) are
served by api/routes_items.py. A collection's title and description are in ``TITLES``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from api.dependencies import (
    CollectionDep,
    ServiceDep,
    SettingsDep,
    get_collections,
    known_params,
    provenance,
)
from api.geojson import Collection, dumps
from geo.crs import OUTPUT_CRS, WORK_OUT

router = APIRouter(prefix="/api", tags=["OGC API – Features"])

GEOJSON = "application/geo+json"
JSON = "application/json"
# FastAPI writes OpenAPI 3.1, so the OGC "oas30" conformance class is not claimed.
OPENAPI = "application/vnd.oai.openapi+json;version=3.1"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
]
CRS_LIST = [c.uri for c in OUTPUT_CRS]
STORAGE_CRS = WORK_OUT.uri
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
SCHEMA_JSON = "application/schema+json"
TITLES = {
    "sites": (
        "Candidate sites",
        "Regional-plan areas, brownfields and LEP large sites with their indicators, and "
        "score and rank under the default profile (balanced).",
    ),
    "municipalities": ("Municipalities", "The 396 Gemeinden of North Rhine-Westphalia (AGS, Kreis)."),
    "regional_plan": (
        "Regional plans: industrial areas",
        "GIB, GIB-Z, large-project and ASB-GE areas of the six regional plans.",
    ),
    "brownfields": ("Brownfields", "Brachflächen with former use, contamination and availability."),
    "lep_sites": ("LEP NRW large sites", "The four state large sites (LEP NRW Ziel 6.4-1)."),
    "hydrogen": ("Hydrogen core network", "Wasserstoff-Kernnetz segments with commissioning year."),
    "motorway_junctions": (
        "Motorway junctions",
        "Autobahn junctions (Anschlussstellen) with name and exit number.",
    ),
    "rail_stations": (
        "Railway stations",
        "Deutsche Bahn passenger stations (Haltestellendaten) "
        "with long-distance (FV) or regional (RV) traffic.",
    ),
    "ports": ("Inland ports", "Binnenhäfen: port areas on the Rhine, Ruhr, Lippe and canals."),
    "rail_freight": ("Rail freight terminals", "Intermodal, container and freight yards."),
    "airports": (
        "Airports",
        "Airports and airfields; `commercial` marks scheduled passenger "
        "services (only those count for the airport criterion).",
    ),
}
FormatParam = Annotated[
    Literal["json", "geojson"] | None, Query(description="Output format; GeoJSON is the only one.")
]


class GeoJSONResponse(Response):
    """A GeoJSON body that is already bytes."""

    media_type = GEOJSON


class JSONBytes(Response):
    """A JSON body serialised with api.geojson.dumps."""

    media_type = JSON

    def render(self, content: Any) -> bytes:
        """Serialise the content (bytes pass through)."""
        return content if isinstance(content, bytes) else dumps(content)


def api_base(request: Request) -> str:
    """The API's base URL as the client sees it (``…/api``)."""
    return str(request.base_url).rstrip("/") + "/api"


def source_layers(cid: str) -> list[str] | None:
    """The snapshot layers a collection's attribution covers (sites derive from all)."""
    return None if cid == "sites" else [cid]


def collection_doc(coll: Collection, base: str) -> dict[str, Any]:
    """The collection metadata of OGC API Features (extent in CRS84)."""
    title, description = TITLES[coll.id]
    url = f"{base}/collections/{coll.id}"
    return {
        "id": coll.id,
        "title": title,
        "description": description,
        "itemType": "feature",
        "links": [
            {"href": url, "rel": "self", "type": JSON, "title": "this collection"},
            {"href": f"{url}/items", "rel": "items", "type": GEOJSON, "title": "the features"},
            {
                "href": f"{url}/queryables",
                "rel": QUERYABLES_REL,
                "type": SCHEMA_JSON,
                "title": "the properties items can be filtered by",
            },
        ],
        "extent": {"spatial": {"bbox": [coll.extent], "crs": CRS84}},
        "crs": CRS_LIST,  # OGC API – Features Part 2
        "storageCrs": STORAGE_CRS,
        "numberOfFeatures": len(coll.ids),
        "properties": dict(coll.types),  # filterable with ?name=value on /items
    }


@router.get(
    "",
    response_class=JSONBytes,
    summary="Landing page",
    dependencies=[Depends(known_params("f"))],
    responses={
        200: {
            "content": {
                JSON: {
                    "example": {
                        "title": "NRW Site Finder API",
                        "links": [{"href": "http://127.0.0.1:8000/api/conformance", "rel": "conformance"}],
                        "snapshot": "20250101T000000Z",
                        "synthetic": True,
                    }
                }
            }
        }
    },
)
def landing(request: Request, svc: ServiceDep, f: FormatParam = None) -> Response:
    """Links to the API description, the conformance classes and the collections."""
    base = api_base(request)
    return JSONBytes(
        {
            "title": "NRW Site Finder API",
            "description": "Industrial sites in North Rhine-Westphalia: OGC API – Features for the "
            "layers, and site scoring (profiles, ranking, ad-hoc scores, exports).",
            "links": [
                {"href": base, "rel": "self", "type": JSON, "title": "this document"},
                {
                    "href": f"{base}/openapi.json",
                    "rel": "service-desc",
                    "type": OPENAPI,
                    "title": "the API definition",
                },
                {
                    "href": f"{base}/docs",
                    "rel": "service-doc",
                    "type": "text/html",
                    "title": "the API documentation",
                },
                {
                    "href": f"{base}/conformance",
                    "rel": "conformance",
                    "type": JSON,
                    "title": "OGC API conformance classes",
                },
                {"href": f"{base}/collections", "rel": "data", "type": JSON, "title": "the collections"},
                {
                    "href": f"{base}/profiles",
                    "rel": "describedby",
                    "type": JSON,
                    "title": "scoring profiles and criteria",
                },
                {
                    "href": f"{base}/catalog",
                    "rel": "describedby",
                    "type": "application/ld+json",
                    "title": "the DCAT-AP.de catalogue of the data",
                },
            ],
            **provenance(svc),
        }
    )


class JSONLD(JSONBytes):
    """A JSON-LD body."""

    media_type = "application/ld+json"


@router.get(
    "/catalog",
    response_class=JSONLD,
    summary="DCAT-AP.de catalogue",
    dependencies=[Depends(known_params())],
    responses={
        200: {
            "description": "The published datasets and their distributions "
            "(DCAT-AP.de, JSON-LD): licences as dcat-ap.de URIs, "
            "publisher, temporal and spatial coverage, snapshot "
            "date, one distribution per export format.",
            "content": {
                "application/ld+json": {
                    "schema": {"type": "object"},
                    "example": {
                        "@type": "dcat:Catalog",
                        "dcat:dataset": [
                            {
                                "@type": "dcat:Dataset",
                                "dcat:distribution": [
                                    {
                                        "@type": "dcat:Distribution",
                                        "dct:license": {
                                            "@id": "http://dcat-ap.de/def/licenses/dl-zero-de/2.0"
                                        },
                                    }
                                ],
                            }
                        ],
                    },
                }
            },
        }
    },
)
def catalog(request: Request, svc: ServiceDep, settings: SettingsDep) -> Response:
    """The DCAT-AP.de catalogue of this deployment's data (api/catalog.py)."""
    from api.catalog import catalog as build

    base = settings.public_url.rstrip("/") + "/api" if settings.public_url else api_base(request)
    return JSONLD(build(svc, settings, base))


@router.get(
    "/conformance",
    response_class=JSONBytes,
    summary="Conformance classes",
    dependencies=[Depends(known_params("f"))],
    responses={200: {"content": {JSON: {"example": {"conformsTo": CONFORMANCE}}}}},
)
def conformance(svc: ServiceDep, f: FormatParam = None) -> Response:
    """The OGC API – Features conformance classes this API implements."""
    return JSONBytes({"conformsTo": CONFORMANCE, **provenance(svc)})


@router.get(
    "/collections",
    response_class=JSONBytes,
    summary="Collections",
    dependencies=[Depends(known_params("f"))],
    responses={
        200: {
            "content": {
                JSON: {
                    "example": {
                        "collections": [{"id": "sites", "title": "Candidate sites", "itemType": "feature"}]
                    }
                }
            }
        }
    },
)
def collections(request: Request, svc: ServiceDep, f: FormatParam = None) -> Response:
    """Every collection with its extent (CRS84) and links to its items."""
    base = api_base(request)
    colls = get_collections(request)
    return JSONBytes(
        {
            "links": [{"href": f"{base}/collections", "rel": "self", "type": JSON, "title": "this document"}],
            "collections": [collection_doc(c, base) for c in colls.values()],
            **provenance(svc),
        }
    )


@router.get(
    "/collections/{cid}",
    response_class=JSONBytes,
    summary="One collection",
    dependencies=[Depends(known_params("f"))],
    responses={
        200: {
            "content": {
                JSON: {
                    "example": {
                        "id": "sites",
                        "title": "Candidate sites",
                        "extent": {"spatial": {"bbox": [[5.86, 50.32, 9.47, 52.54]], "crs": CRS84}},
                    }
                }
            }
        },
        404: {"description": "unknown collection"},
    },
)
def collection(request: Request, coll: CollectionDep, svc: ServiceDep, f: FormatParam = None) -> Response:
    """A collection's metadata: title, extent in CRS84, CRS list and links."""
    return JSONBytes({**collection_doc(coll, api_base(request)), **provenance(svc, source_layers(coll.id))})
