"""The OpenAPI document, per role: the public's leaves out the confidential fields.

FastAPI writes the document from the routes and the response models (api/models.py); this
module serves it at ``/api/openapi.json`` and makes it honest where FastAPI cannot know better.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI

from api.auth import Role, view_of
from geo.access import RESTRICTED_FIELDS

PROBLEM_SCHEMA = {
    "type": "object", "title": "Problem", "required": ["type", "title", "status", "detail"],
    "description": "RFC 9457 problem details; the detail never repeats the request's input.",
    "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                   "status": {"type": "integer", "minimum": 400, "maximum": 599},
                   "detail": {"type": "string"}}}


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
        if view == "public":
            _strip(doc, frozenset(RESTRICTED_FIELDS))
        cache[view] = doc
    return cache[view]
