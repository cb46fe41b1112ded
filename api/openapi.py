"""The OpenAPI document, per role: the public's leaves out the confidential fields.

FastAPI writes the document from the routes and the response models (api/models.py); this
module serves it at ``/api/openapi.json`` and makes it honest where FastAPI cannot know better.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI

from api.auth import SCHEME, Role, view_of
from api.errors import PROBLEM_JSON
from geo.access import RESTRICTED_FIELDS

PROBLEM_SCHEMA = {
    "type": "object",
    "title": "Problem",
    "required": ["type", "title", "status", "detail"],
    "description": "RFC 9457 problem details; the detail never repeats the request's input.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
    },
}


def _strip(node: Any, names: frozenset[str]) -> Any:
    """Remove properties named in ``names`` from every schema below ``node``."""
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict):
            for n in names & props.keys():
                del props[n]
            if isinstance(node.get("required"), list):
                node["required"] = [r for r in node["required"] if r not in names]
        for v in node.values():
            _strip(v, names)
    elif isinstance(node, list):
        for v in node:
            _strip(v, names)
    return node


def document(app: FastAPI, role: Role) -> dict[str, Any]:
    """The OpenAPI document as the role may see it (built once per view)."""
    cache = app.state.__dict__.setdefault("_openapi_by_view", {})
    view = view_of(role)
    if view not in cache:
        doc = copy.deepcopy(app.openapi())
        doc.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        views = getattr(app.state, "views", None)
        colls = sorted(views[view].collections) if views else []
        honest(doc, colls)
        if view == "public":
            _strip(doc, frozenset(RESTRICTED_FIELDS))
        cache[view] = doc
    return cache[view]


# -- making the document honest ---------------------------------------------------------------
_NUM = r"-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"
BBOX_PATTERN = rf"^{_NUM},{_NUM},{_NUM},{_NUM}(,{_NUM},{_NUM})?$"
DATETIME_PATTERN = (
    r"^(\.\.|\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?)"
    r"(/(\.\.|\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?))?$"
)


def _list_pattern(word: str) -> str:
    return rf"^({word})(,({word}))*$"


ERRORS = {
    400: "bad query parameter (unknown names included)",
    401: "the bearer key is not valid (no reason is given)",
    403: "the key's role may not use this resource",
    404: "unknown id or path",
    413: "the body is too large",
    422: "a well-formed body with an invalid geometry (the reason is given)",
    429: "busy: too many requests in flight; retry after Retry-After seconds",
}
_LINK = {
    "type": "object",
    "required": ["href", "rel"],
    "properties": {
        "href": {"type": "string"},
        "rel": {"type": "string"},
        "type": {"type": "string"},
        "title": {"type": "string"},
    },
}
_GEOMETRY = {"type": ["object", "null"], "required": ["type"], "properties": {"type": {"type": "string"}}}
FEATURE = {
    "type": "object",
    "required": ["type", "geometry", "properties"],
    "properties": {
        "type": {"const": "Feature"},
        "id": {"type": ["string", "integer"]},
        "geometry": _GEOMETRY,
        "properties": {"type": ["object", "null"]},
        "links": {"type": "array", "items": _LINK},
    },
}
FEATURE_COLLECTION = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"const": "FeatureCollection"},
        "features": {"type": "array", "items": FEATURE},
        "numberMatched": {"type": "integer", "minimum": 0},
        "numberReturned": {"type": "integer", "minimum": 0},
        "links": {"type": "array", "items": _LINK},
    },
}
_OBJECT_WITH = lambda *keys: {"type": "object", "required": list(keys)}  # noqa: E731
BODIES = {
    "/api": {**_OBJECT_WITH("title", "links"), "properties": {"links": {"type": "array", "items": _LINK}}},
    "/api/conformance": {
        **_OBJECT_WITH("conformsTo"),
        "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
    },
    "/api/collections": {
        **_OBJECT_WITH("links", "collections"),
        "properties": {"collections": {"type": "array", "items": _OBJECT_WITH("id", "links", "extent")}},
    },
    "/api/collections/{cid}": _OBJECT_WITH("id", "title", "links", "extent"),
    "/api/collections/{cid}/items": FEATURE_COLLECTION,
    "/api/collections/{cid}/items/{fid}": FEATURE,
    "/api/exports/municipalities/{ags}.geojson": FEATURE_COLLECTION,
    "/healthz": {
        **_OBJECT_WITH("status", "snapshot", "synthetic"),
        "properties": {
            "status": {"const": "ok"},
            "snapshot": {"type": "string"},
            "synthetic": {"type": "boolean"},
            "log_dropped": {"type": "integer", "minimum": 0},
            "loaded_s": {"type": "number", "minimum": 0},
        },
    },
    "/api/tiles": {"type": "object"},
    "/api/coverage": {"type": "object"},
}
_POSITION = {"type": "array", "minItems": 2, "maxItems": 3, "items": {"type": "number"}}
_RING = {"type": "array", "minItems": 4, "items": _POSITION}
_POLYGON = {
    "type": "object",
    "required": ["type", "coordinates"],
    "properties": {
        "type": {"const": "Polygon"},
        "coordinates": {"type": "array", "minItems": 1, "items": _RING},
    },
}
_MULTIPOLYGON = {
    "type": "object",
    "required": ["type", "coordinates"],
    "properties": {
        "type": {"const": "MultiPolygon"},
        "coordinates": {
            "type": "array",
            "minItems": 1,
            "items": {"type": "array", "minItems": 1, "items": _RING},
        },
    },
}
GEOJSON_BODY = {
    "title": "GeoJSON Polygon, MultiPolygon or a Feature of one (RFC 7946, WGS84)",
    "oneOf": [
        _POLYGON,
        _MULTIPOLYGON,
        {
            "type": "object",
            "required": ["type", "geometry"],
            "properties": {
                "type": {"const": "Feature"},
                "properties": {"type": ["object", "null"]},
                "geometry": {"oneOf": [_POLYGON, _MULTIPOLYGON]},
            },
        },
    ],
}
PARAMETER_SCHEMAS = {
    "bbox": {"type": "string", "pattern": BBOX_PATTERN},
    "datetime": {"type": "string", "pattern": DATETIME_PATTERN},
    "kind": {
        "type": "array",
        "items": {"type": "string", "pattern": _list_pattern("regional_plan|brownfield|lep")},
    },
    "contamination": {
        "type": "array",
        "items": {"type": "string", "pattern": _list_pattern("none|suspected|confirmed|remediated|unknown")},
    },
    "ags": {"type": "array", "items": {"type": "string", "pattern": _list_pattern(r"\d{8}")}},
    "kreis": {"type": "array", "items": {"type": "string", "pattern": _list_pattern(r"\d{5}")}},
}


def _problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    return {
        "description": description or ERRORS.get(status, "error"),
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def honest(doc: dict[str, Any], collections: list[str]) -> dict[str, Any]:
    """Declare what is sent: problem+json errors (and not FastAPI's never-sent 422
    HTTPValidationError), body schemas of the JSON/GeoJSON answers, patterns of the text
    parameters, the GeoJSON body of ``POST /api/score``, optional bearer security.
    """
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            admin = path.startswith("/api/admin")
            _error_responses(path, method, op["responses"], admin)
            _success_bodies(path, op["responses"])
            op["security"] = [{SCHEME: []}] if admin else [{}, {SCHEME: []}]
            _parameter_schemas(op, collections)
            if method == "post" and path == "/api/score":
                for media in op.get("requestBody", {}).get("content", {}).values():
                    media["schema"] = GEOJSON_BODY
    return doc


def _error_responses(path: str, method: str, responses: dict[str, Any], admin: bool) -> None:
    """Every error an operation can send, as problem+json; no never-sent 422 HTTPValidationError."""
    old422 = responses.get("422", {})
    if "HTTPValidationError" in str(old422):
        del responses["422"]
    wanted = {400, 401, 429} | ({403} if admin else set())
    if "{" in path:
        wanted.add(404)
    if method == "post" and path == "/api/score":
        wanted |= {413, 422}
    for code in sorted(wanted):
        prev = responses.get(str(code), {})
        if PROBLEM_JSON not in prev.get("content", {}):
            responses[str(code)] = _problem_response(code, prev.get("description"))
    for status, resp in responses.items():  # errors declared without a body schema
        if status[0] in "45" and not resp.get("content"):
            resp["content"] = _problem_response(int(status))["content"]
    for resp in responses.values():  # a model's $ref, not also the Response's string
        for media in resp.get("content", {}).values():
            sch = media.get("schema", {})
            if "$ref" in sch and sch.get("type") == "string":
                del sch["type"]


def _success_bodies(path: str, responses: dict[str, Any]) -> None:
    """The body schema of each JSON answer (an object, not a Response class's "string")."""
    ok = responses.get("200", {}).get("content", {})
    for ctype, media in ok.items():
        if ctype.endswith("json") and media.get("schema", {}).get("type") == "string":
            # a Response class says "string"; every JSON answer here is an object
            media["schema"] = BODIES.get(path, {"type": "object"})
    if path == "/api/sites/values" and "application/octet-stream" in ok:
        ok.pop("application/json", None)


def _parameter_schemas(op: dict[str, Any], collections: list[str]) -> None:
    """Patterns of the text query parameters; the collection ids and AGS of path parameters."""
    for p in op.get("parameters", []):
        if p.get("in") == "query" and p["name"] in PARAMETER_SCHEMAS:
            p["schema"] = PARAMETER_SCHEMAS[p["name"]]
        if p.get("in") == "path" and p["name"] == "cid":
            p["schema"] = {"type": "string", "enum": collections}
        if p.get("in") == "path" and p["name"] == "ags":
            p["schema"] = {"type": "string", "pattern": r"^\d{8}$"}
