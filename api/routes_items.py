"""OGC API – Features Part 1 and 3 over the snapshot layers: a collection's queryables, its
features (``/items``, paged, filtered by bbox and property equality) and one feature.

Items are served from bytes pre-serialised at start-up (api/geojson.py): a page is a join of
feature bytes, filtered by WGS84 bounds arrays and property equality. The landing page and the
collections' metadata are in api/routes_features.py.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from api import audit
from api.caching import request_etag
from api.dependencies import (
    BBoxFilterDep,
    CollectionDep,
    CrsDep,
    ItemsLimitDep,
    OffsetParam,
    ServiceDep,
    datetime_param,
    known_params,
    provenance,
    reject_unknown,
)
from api.geojson import Collection, dumps
from api.routes_features import (
    GEOJSON,
    JSON,
    SCHEMA_JSON,
    TITLES,
    FormatParam,
    GeoJSONResponse,
    JSONBytes,
    api_base,
    source_layers,
)
from api.service import Service
from geo.crs import CRS84_OUT, OutputCrs
from geo.errors import NotFound
from layers import servecache

router = APIRouter(prefix="/api", tags=["OGC API – Features"])

ITEMS_PARAMS = frozenset({"bbox", "bbox-crs", "crs", "limit", "offset", "datetime", "f"})
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


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    url = f"{api_base(request)}/collections/{coll.id}/queryables"
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
async def items(
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
            **provenance(svc, source_layers(coll.id)),
        }
    )
    feats = coll.features_in(crs)
    audit.note_rows(coll.ids, page.tolist(), coll.columns)
    body = b"".join((head[:-1], b',"features":[', servecache.join(b",", feats, page.tolist()), b"]}"))
    etag = request_etag(request, svc.snap.id, svc.view)  # the same page but for its timeStamp
    return GeoJSONResponse(body, headers={"Content-Crs": f"<{crs.uri}>", "ETag": etag})


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
async def item(
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
    audit.note_rows(coll.ids, [row], coll.columns)
    url = f"{api_base(request)}/collections/{coll.id}"
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
            **provenance(svc, source_layers(coll.id)),
        }
    )
    return coll.features_in(crs)[row][:-1] + b"," + extra[1:]
