"""Shared shortlists of staff over HTTP: ``/api/shortlists`` (layers/shortlists.py).

Staff only (a staff or admin key, or a signed-in session with its CSRF token for changes); the
public keeps its shortlist in the browser. Notes are confidential: every answer is
``Cache-Control: no-store``. A site is added only if the live snapshot holds it; a list keeps a
site a later snapshot dropped, marked ``present: false``, so nobody's note is lost.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.auth import require_staff
from api.dependencies import ServiceDep
from api.routes_features import JSONBytes
from api.service import Service
from geo.errors import NotFound
from layers.shortlists import MAX_NAME, MAX_NOTE, Shortlist, ShortlistStore

router = APIRouter(
    prefix="/api/shortlists", tags=["Shortlists (staff)"], dependencies=[Depends(require_staff)]
)
ListId = Annotated[str, Path(max_length=40, description="the shortlist's id")]
SiteId = Annotated[str, Path(max_length=100, description="a site_id of the live snapshot")]
VersionParam = Annotated[
    int | None, Query(ge=1, description="the version last seen: 409 if the list changed since")
]


class NewList(BaseModel):
    """A new shortlist."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=MAX_NAME, examples=["Elektrolyseur Q1/2027"])


class Rename(NewList):
    """A new name, with the version last seen (optional)."""

    version: int | None = Field(None, ge=1)


class SiteNote(BaseModel):
    """A site's note on a list (omitted: keep the note it has)."""

    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=MAX_NOTE)


def _store(request: Request) -> ShortlistStore:
    return request.app.state.shortlists


def _who(request: Request) -> str:
    return str(getattr(request.state, "key_name", None) or "staff")


def _body(svc: Service, s: Shortlist) -> dict[str, Any]:
    doc = s.as_json()
    for e in doc["sites"]:
        e["present"] = e["site_id"] in svc.row_of
    return doc


def _answer(body: Any, status: int = 200) -> Response:
    return JSONBytes(body, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("", summary="Every shortlist")
async def list_shortlists(request: Request) -> Response:
    """The shortlists (id, name, number of sites, who changed them last, when), newest first."""
    lists = await run_in_threadpool(_store(request).list)
    return _answer({"shortlists": [{k: v for k, v in s.as_json().items() if k != "sites"} for s in lists]})


@router.post("", summary="Create a shortlist", status_code=201)
async def create_shortlist(request: Request, body: NewList, svc: ServiceDep) -> Response:
    """A new, empty shortlist; the answer holds its ``id``."""
    s = await run_in_threadpool(_store(request).create, body.name, _who(request))
    return _answer(_body(svc, s), 201)


@router.get("/{list_id}", summary="One shortlist with its sites and notes")
async def get_shortlist(request: Request, list_id: ListId, svc: ServiceDep) -> Response:
    """The list's sites in the order they were added, each with its note, who added it and
    whether the live snapshot still holds it (``present``)."""
    return _answer(_body(svc, await run_in_threadpool(_store(request).get, list_id)))


@router.patch("/{list_id}", summary="Rename a shortlist")
async def rename_shortlist(request: Request, list_id: ListId, body: Rename, svc: ServiceDep) -> Response:
    """Rename; with ``version``, 409 when someone changed the list since."""
    s = await run_in_threadpool(_store(request).rename, list_id, body.name, _who(request), body.version)
    return _answer(_body(svc, s))


@router.delete("/{list_id}", summary="Delete a shortlist", status_code=204)
async def delete_shortlist(request: Request, list_id: ListId, version: VersionParam = None) -> Response:
    """Delete the list and its notes; with ``version``, 409 when someone changed it since."""
    await run_in_threadpool(_store(request).delete, list_id, version)
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


@router.put("/{list_id}/sites/{site_id}", summary="Add a site or change its note")
async def put_site(
    request: Request, list_id: ListId, site_id: SiteId, svc: ServiceDep, body: SiteNote | None = None
) -> Response:
    """Add a site of the live snapshot to the list (at the end), or change its note."""
    if site_id not in svc.row_of:
        raise NotFound("no site with this id in the live snapshot")
    note = body.note if body is not None else None
    s = await run_in_threadpool(_store(request).put_site, list_id, site_id, note, _who(request))
    return _answer(_body(svc, s))


@router.delete("/{list_id}/sites/{site_id}", summary="Take a site off a shortlist")
async def remove_site(request: Request, list_id: ListId, site_id: SiteId, svc: ServiceDep) -> Response:
    """Remove the site and its note from the list."""
    s = await run_in_threadpool(_store(request).remove_site, list_id, site_id, _who(request))
    return _answer(_body(svc, s))
