"""OGC API – Features Part 1 (Core, GeoJSON, OAS 3.0) over the snapshot layers.

Items are served from bytes pre-serialised at start-up (api/geojson.py): a page is a join of
feature bytes, filtered by WGS84 bounds arrays and property equality.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from api.dependencies import (
    BBoxFilterDep,
    CollectionDep,
    CrsDep,
    ItemsLimitDep,
    OffsetParam,
    ServiceDep,
    SettingsDep,
    datetime_param,
    get_collections,
    known_params,
    provenance,
    reject_unknown,
)
from api.geojson import Collection, dumps
from api.service import Service
from geo.crs import CRS84_OUT, OUTPUT_CRS, WORK_OUT, OutputCrs
from geo.errors import NotFound

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
ITEMS_PARAMS = frozenset({"bbox", "bbox-crs", "crs", "limit", "offset", "datetime", "f"})
FormatParam = Annotated[
    Literal["json", "geojson"] | None, Query(description="Output format; GeoJSON is the only one.")
]

FEATURE_EXAMPLE = {
    "type": "Feature",
    "id": "rp-RP-000001",
    "geometry": {"type": "Polygon", "coordinates": [[[7.0, 51.0], [7.01, 51.0], [7.01, 51.01], [7.0, 51.0]]]},
    "properties": {
        "site_id": "rp-RP-000001",
        "name": "Industriegebiet Nord",
        "kind": "regional_plan",
        "ags": "05562008",
        "area_ha": 35.9,
        "planning_category": "GIB",
        "h2_distance_km": 3.2,
        "fibre_share": 0.58,
        "score": 61.2,
        "rank": 412,
    },
}


class GeoJSONResponse(Response):
    """A GeoJSON body that is already bytes."""

    media_type = GEOJSON


class JSONBytes(Response):
    """A JSON body serialised with api.geojson.dumps."""

    media_type = JSON

    def render(self, content: Any) -> bytes:
        """Serialise the content (bytes pass through)."""
        return content if isinstance(content, bytes) else dumps(content)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/api"


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _layers(cid: str) -> list[str] | None:
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
    base = _base(request)
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

    base = settings.public_url.rstrip("/") + "/api" if settings.public_url else _base(request)
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
    base = _base(request)
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
    return JSONBytes({**collection_doc(coll, _base(request)), **provenance(svc, _layers(coll.id))})


QUERYABLE_TYPES = {"string": "string", "number": "number", "integer": "integer", "boolean": "boolean"}


@router.get(
    "/collections/{cid}/queryables",
    response_class=JSONBytes,
    summary="Queryable properties",
    dependencies=[Depends(known_params("f"))],
    responses={
        200: {
            "description": "JSON Schema of the properties /items filters by (?name=value, equality).",
            "content": {
                SCHEMA_JSON: {
                    "schema": {"type": "object"},
                    "example": {
                        "$schema": "https://json-schema.org/draft/2020-12/schema",
                        "type": "object",
                        "properties": {"ags": {"type": "string", "title": "ags"}},
                    },
                }
            },
        },
        404: {"description": "unknown collection"},
    },
)
def queryables(request: Request, coll: CollectionDep, f: FormatParam = None) -> Response:
    """The properties of a collection that ``/items`` filters by (OGC API – Features Part 3)."""
    url = f"{_base(request)}/collections/{coll.id}/queryables"
    title, _ = TITLES[coll.id]
    doc = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url,
        "type": "object",
        "title": title,
        "properties": {
            "geometry": {"title": "geometry (bbox, bbox-crs)", "format": "geometry-any"},
            **{name: {"title": name, "type": QUERYABLE_TYPES[kind]} for name, kind in coll.types.items()},
        },
        "additionalProperties": False,
    }
    return Response(dumps(doc), media_type=SCHEMA_JSON)


def _link(request: Request, rel: str, offset: int, limit: int) -> dict[str, str]:
    url = request.url.include_query_params(offset=offset, limit=limit)
    return {
        "href": str(url),
        "rel": rel,
        "type": GEOJSON,
        "title": {"self": "this page", "next": "next page", "prev": "previous page"}[rel],
    }


@router.get(
    "/collections/{cid}/items",
    response_class=GeoJSONResponse,
    summary="Features",
    responses={
        200: {
            "description": "A GeoJSON FeatureCollection (WGS84).",
            "content": {
                GEOJSON: {
                    "example": {
                        "type": "FeatureCollection",
                        "numberMatched": 2004,
                        "numberReturned": 1,
                        "timeStamp": "2025-01-01T00:00:00Z",
                        "links": [],
                        "snapshot": "20250101T000000Z",
                        "synthetic": True,
                        "features": [FEATURE_EXAMPLE],
                    }
                }
            },
        },
        400: {"description": "bad query parameter (also: unknown parameters)"},
        404: {"description": "unknown collection"},
    },
)
def items(
    request: Request,
    coll: CollectionDep,
    svc: ServiceDep,
    bbox: BBoxFilterDep,
    limit: ItemsLimitDep,
    crs: CrsDep,
    offset: OffsetParam = 0,
    _dt: None = Depends(datetime_param),
    f: FormatParam = None,
) -> Response:
    """Features of a collection, in pages of ``limit`` (above 10,000: 10,000), with
    ``next``/``prev`` links.

    Filter with ``bbox`` (in ``bbox-crs``, default CRS84) and with any property of the
    collection as a query parameter (equality, see ``/queryables``), e.g.
    ``/api/collections/sites/items?kind=brownfield&ags=05562008``. ``crs`` chooses the CRS of
    the coordinates (Part 2; the ``Content-Crs`` header names it). Sites carry their indicators
    and their score and rank under the balanced profile.
    """
    reject_unknown(request, ITEMS_PARAMS | coll.columns.keys())
    props = {k: request.query_params.getlist(k) for k in request.query_params if k in coll.columns}
    rows = coll.select(bbox.wgs84, props, bbox.area)
    page = rows[offset : offset + limit]
    links = [_link(request, "self", offset, limit)]
    if offset + len(page) < len(rows):
        links.append(_link(request, "next", offset + len(page), limit))
    if offset > 0:
        links.append(_link(request, "prev", max(0, offset - limit), limit))
    head = dumps(
        {
            "type": "FeatureCollection",
            "numberMatched": int(len(rows)),
            "numberReturned": int(len(page)),
            "timeStamp": _now(),
            "links": links,
            **provenance(svc, _layers(coll.id)),
        }
    )
    feats = coll.features_in(crs)
    body = b"".join((head[:-1], b',"features":[', b",".join([feats[i] for i in page.tolist()]), b"]}"))
    return GeoJSONResponse(body, headers={"Content-Crs": f"<{crs.uri}>"})


@router.get(
    "/collections/{cid}/items/{fid}",
    response_class=GeoJSONResponse,
    summary="One feature",
    dependencies=[Depends(known_params("f", "crs"))],
    responses={
        200: {
            "description": "A GeoJSON Feature (WGS84).",
            "content": {GEOJSON: {"example": FEATURE_EXAMPLE}},
        },
        404: {"description": "unknown collection or feature"},
    },
)
def item(
    request: Request, coll: CollectionDep, fid: str, svc: ServiceDep, crs: CrsDep, f: FormatParam = None
) -> Response:
    """One feature by its id (sites: site_id; municipalities: AGS; areas: area_id), in
    ``crs`` (default CRS84).
    """
    return GeoJSONResponse(
        feature_bytes(request, coll, fid, svc, crs), headers={"Content-Crs": f"<{crs.uri}>"}
    )


def feature_bytes(
    request: Request, coll: Collection, fid: str, svc: Service, crs: OutputCrs = CRS84_OUT
) -> bytes:
    """A single feature with its links and provenance members."""
    row = coll.index.get(fid)
    if row is None:
        raise NotFound("no feature with this id in this collection")
    url = f"{_base(request)}/collections/{coll.id}"
    extra = dumps(
        {
            "links": [
                {
                    "href": str(request.url.remove_query_params("f")),
                    "rel": "self",
                    "type": GEOJSON,
                    "title": "this feature",
                },
                {"href": url, "rel": "collection", "type": JSON, "title": "the collection"},
            ],
            **provenance(svc, _layers(coll.id)),
        }
    )
    return coll.features_in(crs)[row][:-1] + b"," + extra[1:]
