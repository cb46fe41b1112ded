"""``GET /api/changes``: what changed between two snapshots (issue 19 §2; layers/changes.py),
and ``GET /api/snapshots``: the published snapshots to compare (public).

Added, removed and changed sites (area, planning category, availability, marketable, the score
under each profile with the criteria that moved it), re-keyed sites matched by geometry. The
public sees the public view of both snapshots only; staff and admin see every site.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.auth import RoleDep
from api.dependencies import SettingsDep, known_params
from api.errors import PROBLEM_JSON
from api.routes_features import JSONBytes
from layers.changes import changes as compute_changes
from layers.changes import published
from layers.store import Store

router = APIRouter(tags=["Monitoring"])


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


@router.get(
    "/api/changes",
    response_class=JSONBytes,
    summary="What changed between two snapshots",
    dependencies=[Depends(known_params("from", "to", "ags", "kreis"))],
    responses={
        400: _problem("'from' later than 'to', or a bad ags/kreis"),
        404: _problem("unknown snapshot"),
    },
)
async def changes(
    settings: SettingsDep,
    role: RoleDep,
    old: Annotated[
        str | None,
        Query(alias="from", description="the older snapshot (default: the live one's predecessor)"),
    ] = None,
    new: Annotated[
        str | None, Query(alias="to", description="the newer snapshot (default: the live one)")
    ] = None,
    ags: Annotated[str | None, Query(description="only this municipality (8-digit AGS)")] = None,
    kreis: Annotated[str | None, Query(description="only this Kreis (5-digit key)")] = None,
) -> Response:
    """Sites added, removed and changed from ``from`` to ``to`` (by site_id, then ≥ 80 % overlap)."""
    doc = await run_in_threadpool(
        compute_changes, Store(settings.data), old, new, ags=ags, kreis=kreis, public=role == "public"
    )
    return JSONBytes(doc)


@router.get(
    "/api/snapshots",
    response_class=JSONBytes,
    summary="The published snapshots",
    dependencies=[Depends(known_params())],
)
async def snapshots(settings: SettingsDep) -> Response:
    """Every published snapshot, newest first: its id, when it was built (``created``), the date
    its data describe (``data_date``), whether it is ``synthetic`` and whether it is ``live``;
    the ids ``/api/changes`` takes as ``from`` and ``to`` (no paths or sources: public)."""
    return JSONBytes(await run_in_threadpool(published, Store(settings.data)))
