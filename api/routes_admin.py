"""Admin operations over HTTP (DESIGN §5.3): publish a sources bundle, follow its job, list and
activate snapshots. Every route needs an admin key: 401 for the public, 403 for staff.

``POST /api/admin/snapshots`` takes a zip (``application/zip``) with a ``sources.toml`` and its
files, checks it at once (size, entries, names, extensions, compression ratios:
layers/bundle.py) and builds it in a separate process (layers/jobs.py): 202 with the job's URL
in ``Location``. A second publish while one runs is 409. ``activate=true`` makes the snapshot live
when the build succeeds; otherwise ``POST /api/admin/snapshots/{id}/activate`` does (roll
forward or back), after checking its files against the manifest's checksums.
"""

from __future__ import annotations

import os
import re
import secrets
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.auth import require_admin
from api.dependencies import SettingsDep, known_params
from api.errors import PROBLEM_JSON
from api.live import live_id, reload
from api.routes_features import JSONBytes
from geo.errors import Conflict, InvalidParameter, NotFound, TooLarge
from layers import bundle, jobs
from layers.store import Store

router = APIRouter(prefix="/api/admin", tags=["Admin"], dependencies=[Depends(require_admin)])
ZIP = "application/zip"
SNAPSHOT_ID = re.compile(r"^\d{8}T\d{6}Z(-\d{1,4})?$")
STRICT = ConfigDict(extra="forbid")
PREPARE = "api.views:prepare"  # what a publish job writes before the snapshot goes live


class JobModel(BaseModel):
    """A publishing job."""

    model_config = STRICT
    id: str = Field(pattern=r"^[0-9a-f]{16}$")
    state: Literal["queued", "running", "succeeded", "failed"]
    created: str
    started: str | None
    finished: str | None
    activate: bool
    activated: bool | None = None
    snapshot: str | None = Field(description="the published snapshot (when succeeded)")
    error: str | None = Field(description="why the build failed; nothing was changed")
    progress: list[str] = Field(description="the build's last progress lines")
    pid: int | None
    url: str | None = None


class SnapshotModel(BaseModel):
    """One snapshot of the store."""

    model_config = STRICT
    id: str
    created: str
    live: bool
    served: bool = Field(description="this worker serves it now")
    synthetic: bool
    sites: int | None
    source: str | None
    code_version: str | None


class SnapshotList(BaseModel):
    """``GET /api/admin/snapshots``."""

    model_config = STRICT
    current: str | None
    snapshots: list[SnapshotModel]


class Activated(BaseModel):
    """``POST /api/admin/snapshots/{snapshot_id}/activate``."""

    model_config = STRICT
    snapshot: str
    live: bool
    served: bool


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _job_doc(request: Request, doc: dict[str, Any]) -> dict[str, Any]:
    return {**doc, "url": f"{str(request.base_url).rstrip('/')}/api/admin/jobs/{doc['id']}"}


@router.post(
    "/snapshots",
    status_code=202,
    response_class=JSONBytes,
    summary="Publish a sources bundle",
    dependencies=[Depends(known_params("activate"))],
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": (
                "A zip with sources.toml at its top level and the files it names (paths "
                "relative to it, inside the zip). At most NRW_SITES_MAX_BUNDLE_BYTES; it may "
                "unpack to at most NRW_SITES_MAX_UNPACKED_BYTES, no entry more than 200-fold."
            ),
            "content": {ZIP: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
    responses={
        202: {"model": JobModel, "description": "the job was started; follow Location"},
        400: _problem("not a zip, unsafe names, file types, no sources.toml"),
        409: _problem("a publish or build is running"),
        413: _problem("the bundle is too large or a zip bomb"),
        415: _problem("the body is not application/zip"),
    },
)
async def publish(
    request: Request,
    settings: SettingsDep,
    activate: Annotated[bool, Query(description="make the snapshot live when the build succeeds")] = False,
) -> Response:
    """Upload a sources bundle and build it into a snapshot outside the request (202 + job)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in (ZIP, "application/x-zip-compressed", "application/octet-stream"):
        return _unsupported()
    data = settings.data
    with jobs.publish_lock(data):  # 409 before the upload is read
        pass
    (data / jobs.JOBS).mkdir(parents=True, exist_ok=True)
    upload = data / jobs.JOBS / f".upload-{secrets.token_hex(8)}.zip"
    try:
        size = 0
        with open(upload, "wb") as f:
            async for chunk in request.stream():
                size += len(chunk)
                if size > settings.max_bundle_bytes:
                    raise TooLarge(f"the bundle is larger than {settings.max_bundle_bytes:,} bytes")
                f.write(chunk)
        if size == 0:
            raise InvalidParameter("the request body is empty; send a zip bundle")
        await run_in_threadpool(bundle.check, upload, settings.max_unpacked_bytes)
        doc = await run_in_threadpool(
            jobs.start, data, upload, activate, settings.max_unpacked_bytes, PREPARE
        )
    finally:
        if upload.exists():
            os.unlink(upload)
    out = _job_doc(request, doc)
    return JSONBytes(out, status_code=202, headers={"Location": out["url"]})


def _unsupported() -> Response:
    from api.errors import problem

    return problem(415, "send the bundle as application/zip", "urn:nrw-sites:problem:unsupported-media-type")


@router.get(
    "/jobs/{job_id}",
    response_class=JSONBytes,
    summary="A publishing job",
    dependencies=[Depends(known_params())],
    responses={200: {"model": JobModel}, 404: _problem("unknown job")},
)
def job(request: Request, settings: SettingsDep, job_id: str) -> Response:
    """State, progress, error and snapshot of a publishing job."""
    return JSONBytes(_job_doc(request, jobs.read(settings.data, job_id)))


@router.get(
    "/snapshots",
    response_class=JSONBytes,
    summary="Snapshots",
    dependencies=[Depends(known_params())],
    responses={200: {"model": SnapshotList}},
)
def snapshots(request: Request, settings: SettingsDep) -> Response:
    """Every complete snapshot, newest first, with the live one marked."""
    store = Store(settings.data)
    current = store.current_id()
    served = live_id(request.app)
    return JSONBytes(
        {
            "current": current,
            "snapshots": [
                {
                    "id": m["id"],
                    "created": m["created"],
                    "live": m["id"] == current,
                    "served": m["id"] == served,
                    "synthetic": bool(m.get("synthetic")),
                    "sites": m.get("layers", {}).get("sites", {}).get("count"),
                    "source": m.get("source"),
                    "code_version": m.get("code_version"),
                }
                for m in store.list()
            ],
        }
    )


@router.post(
    "/snapshots/{snapshot_id}/activate",
    response_class=JSONBytes,
    summary="Make a snapshot live",
    dependencies=[Depends(known_params())],
    responses={
        200: {"model": Activated},
        404: _problem("unknown snapshot"),
        409: _problem("a build is running, or the snapshot is damaged"),
    },
)
async def activate(request: Request, settings: SettingsDep, snapshot_id: str) -> Response:
    """Roll forward or back: check the snapshot's files, point CURRENT at it, and switch this
    worker to it before answering (the other workers and replicas follow within
    ``NRW_SITES_RELOAD_CHECK_S`` plus their load time, api/live.py).
    """
    if not SNAPSHOT_ID.match(snapshot_id):
        raise NotFound("no snapshot with this id")
    store = Store(settings.data)
    try:
        await run_in_threadpool(store.verify, snapshot_id)
    except NotFound:
        raise NotFound("no snapshot with this id") from None
    try:
        with store.lock():
            store.set_current(snapshot_id)
    except RuntimeError:
        raise Conflict("a build is running on this data directory; try again later") from None
    await run_in_threadpool(reload, request.app, settings, snapshot_id)
    return JSONBytes({"snapshot": snapshot_id, "live": True, "served": live_id(request.app) == snapshot_id})
