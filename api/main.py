"""The only place the FastAPI app is built: lifespan, middleware, routers, /healthz and /.

The lifespan loads the live snapshot once (``api.live.load``: its views, each with a Service,
and every OGC collection pre-serialised); requests then only slice arrays and join bytes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import (
    errors,
    logsink,
    openapi,
    routes_admin,
    routes_changes,
    routes_context,
    routes_exports,
    routes_features,
    routes_inquiries,
    routes_items,
    routes_scoring,
    routes_session,
    routes_shortlists,
    routes_statistics,
    routes_tiles,
    routes_ui,
)
from api.audit import AuditTrail
from api.auth import RoleDep
from api.caching import GZIP_MIN_BYTES, HttpCaching
from api.dependencies import ServiceDep, known_params
from api.live import Follower, load
from api.methods import HeadOptions
from api.routes_features import JSONBytes
from api.settings import Settings
from api.traffic import InFlightLimit, RequestLog
from geo.errors import TooLarge
from layers.audit import AuditLog
from layers.build import code_version
from layers.inquiries import InquiryStore
from layers.keys import KeyStore
from layers.sessions import SessionStore
from layers.shortlists import ShortlistStore
from layers.statedb import StateDB

log = logging.getLogger("nrw_sites.api")
STATIC = Path(__file__).resolve().parents[1] / "maps" / "static"


class _UIMount(Mount):
    """The web UI at ``/``, except under ``/api``: there unknown paths stay 404 and known paths
    with another method 405, as problem+json from the API.
    """

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """Do not match API paths."""
        path = scope.get("path", "")
        if path == "/api" or path.startswith("/api/"):
            return Match.NONE, {}
        return super().matches(scope)


class _BodyTooLarge(TooLarge):
    """Raised from ``receive`` when a request body exceeds the limit."""


class BodySizeLimit:
    """ASGI middleware: refuse bodies over ``max_bytes`` with 413, counting the bytes actually
    received (so chunked uploads without Content-Length are limited too).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, paths: dict[str, int] | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.paths = paths or {}  # a larger limit for some paths (the admin's bundle upload)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with a byte-counting ``receive``."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.paths.get(scope.get("path", ""), self.max_bytes)
        detail = f"the request body is larger than {limit:,} bytes"
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await self._refuse(send, detail)
                return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge(detail)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if started:
                raise
            await self._refuse(send, detail)

    @staticmethod
    async def _refuse(send: Send, detail: str) -> None:
        body = errors.problem_body(413, detail, "urn:nrw-sites:problem:too-large")
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", errors.PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for the live snapshot in ``settings.data``."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        load(app, settings)
        follower = Follower(app, settings).start()  # switches when CURRENT changes
        try:
            yield
        finally:
            follower.stop()

    app = FastAPI(
        title="NRW Site Finder API",
        version=code_version(),
        description="Industrial sites in North Rhine-Westphalia: OGC API – Features (Part 1 Core "
        "+ GeoJSON) for the layers, and site scoring: profiles, ranking with hard "
        "filters and rank stability, ad-hoc polygon scores, municipality exports. "
        "Errors are application/problem+json (RFC 9457).",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    if not logging.getLogger().handlers and not logging.getLogger("nrw_sites").handlers:
        logsink.install(maxsize=settings.log_queue_lines)  # a uvicorn worker: stderr, never blocking
    app.state.keys = KeyStore(settings.data)
    state_db = StateDB(settings.data)
    app.state.sessions = SessionStore(
        state_db, app.state.keys, settings.session_idle_minutes * 60, settings.session_max_hours * 3600
    )
    app.state.shortlists = ShortlistStore(state_db)
    app.state.inquiries = InquiryStore(state_db)
    app.state.reload_lock = threading.Lock()
    errors.install(app)
    app.state.audit = AuditLog(settings.data, settings.audit_retention_days)
    app.add_middleware(AuditTrail, log=app.state.audit)  # innermost: the role and the reads
    app.add_middleware(
        GZipMiddleware,
        minimum_size=GZIP_MIN_BYTES,
        compresslevel=settings.gzip_level,
        exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, routes_tiles.PMTILES),
    )
    # outside gzip: the ETag is the representation's (gzip or not); sees the role the route resolved
    app.add_middleware(HttpCaching, shared_cache_s=settings.shared_cache_s)
    app.add_middleware(HeadOptions)  # HEAD and OPTIONS on every route (HEAD as a GET: its ETag too)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        paths={"/api/admin/snapshots": settings.max_bundle_bytes},
    )
    app.add_middleware(
        InFlightLimit,
        max_in_flight=settings.max_in_flight,
        max_wait_s=settings.max_wait_ms / 1e3,
        pace_s=settings.shed_pace_ms / 1e3,
    )
    app.add_middleware(RequestLog)  # outermost: every request is logged, shed ones too
    app.include_router(routes_features.router)
    app.include_router(routes_items.router)
    app.include_router(routes_scoring.router)
    app.include_router(routes_context.router)
    app.include_router(routes_exports.router)
    app.include_router(routes_ui.router)
    app.include_router(routes_tiles.router)
    app.include_router(routes_admin.router)
    app.include_router(routes_session.router)
    app.include_router(routes_shortlists.router)
    app.include_router(routes_changes.router)
    app.include_router(routes_inquiries.router)
    app.include_router(routes_statistics.router)

    @app.get(
        "/healthz",
        tags=["Service"],
        response_class=JSONBytes,
        summary="Health",
        dependencies=[Depends(known_params())],
        responses={
            200: {
                "content": {
                    "application/json": {
                        "example": {
                            "status": "ok",
                            "snapshot": "20250101T000000Z",
                            "synthetic": True,
                            "log_dropped": 0,
                            "loaded_s": 0.84,
                        }
                    }
                }
            }
        },
    )
    def healthz(svc: ServiceDep, request: Request) -> JSONBytes:
        """Liveness, the snapshot being served, the seconds this worker took to load and switch
        to it, and the log lines dropped while the log sink was stalled (api/logsink.py)."""
        return JSONBytes(
            {
                "status": "ok",
                "snapshot": svc.snap.id,
                "synthetic": svc.synthetic,
                "log_dropped": logsink.dropped(),
                "loaded_s": round(getattr(request.app.state, "loaded_s", 0.0), 3),
            },
            headers={"Cache-Control": "no-store"},  # a health check always reaches this replica
        )

    @app.get("/api/openapi.json", include_in_schema=False, response_class=JSONBytes)
    def openapi_document(role: RoleDep) -> JSONBytes:
        """The OpenAPI document (the public's without the confidential fields)."""
        return JSONBytes(openapi.document(app, role))

    vendor = "/static/vendor/swagger-ui"
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/api/docs", include_in_schema=False, response_class=HTMLResponse)
    def docs() -> HTMLResponse:
        """Interactive API documentation (Swagger UI, served from the vendored copy)."""
        return get_swagger_ui_html(
            openapi_url="/api/openapi.json",
            title="NRW Site Finder API",
            swagger_js_url=f"{vendor}/swagger-ui-bundle.js",
            swagger_css_url=f"{vendor}/swagger-ui.css",
            swagger_favicon_url=f"{vendor}/favicon-32x32.png",
        )

    app.router.routes.append(_UIMount("/", StaticFiles(directory=STATIC, html=True), name="ui"))

    return app
