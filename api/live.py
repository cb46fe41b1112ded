"""Following the live snapshot: each worker switches when ``DATA_DIR/CURRENT`` names another one.

``load(app, settings)`` checks the snapshot's files against the checksums in its manifest, loads
it and builds its views (api/views.py), then swaps them in with one assignment: at start-up (the
app's lifespan) and from ``reload(app, settings, sid)``, so requests already running keep the
views they started with. A failed reload keeps the old views
and is logged. ``LiveSnapshot`` (ASGI middleware) looks at CURRENT at most every
``reload_check_s`` seconds and reloads in a background thread, so an activation by an admin
request, the command line (``nrw-sites rollback``) or another worker reaches every worker.
Every load then re-runs the saved investor inquiries in a background thread
(api/routes_inquiries.py ``rerun_soon``); each run is recorded once, whichever worker is first.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from api.settings import Settings
from api.views import build_views
from layers.store import Store

log = logging.getLogger("nrw_sites.api")


def live_id(app: Any) -> str | None:
    """The snapshot id the app serves now."""
    views = getattr(app.state, "views", None)
    return None if views is None else views["full"].service.snap.id


def load(app: FastAPI, settings: Settings, snapshot_id: str | None = None) -> None:
    """Load the live (or a named) snapshot, build its public and full views (api/views.py) and
    pre-serialise their OGC collections into ``app.state``.

    The views are swapped in with one assignment, so a request sees either the old or the new
    snapshot, never a mix; ``app.state.service``/``collections`` are the public view's.
    """
    t = time.perf_counter()
    store = Store(settings.data)
    manifest = store.verify(snapshot_id)  # damaged files are found now, not at a request
    views = build_views(store.load(manifest["id"]))
    public = views["public"]
    app.state.views = views
    app.state.service = public.service
    app.state.collections = public.collections
    # a snapshot is millions of long-lived objects: once loaded, keep them out of the cyclic
    # collector's full passes, which otherwise stall a worker for 100 ms and more under load
    # (unfreeze first, so that the cycles of a snapshot switched away from are collected)
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    if getattr(app.state, "inquiries", None) is not None:  # re-run the inquiries, off the event loop
        from api.routes_inquiries import rerun_soon

        app.state.inquiry_run = rerun_soon(app.state.inquiries, views["full"].service)
    log.info(
        "snapshot %s loaded and pre-serialised in %.1f s (%s)",
        public.service.snap.id,
        time.perf_counter() - t,
        ", ".join(f"{k} {len(c.ids):,}" for k, c in views["full"].collections.items()),
    )


def reload(app: Any, settings: Any, snapshot_id: str) -> None:
    """Load ``snapshot_id`` and switch the app to it (one reload at a time per worker)."""
    lock: threading.Lock = app.state.reload_lock
    with lock:
        if live_id(app) == snapshot_id:
            return
        t = time.perf_counter()
        load(app, settings, snapshot_id)
        log.info("switched to snapshot %s in %.1f s", snapshot_id, time.perf_counter() - t)


class LiveSnapshot:
    """ASGI middleware: notice a new CURRENT and reload in the background."""

    def __init__(self, app: ASGIApp, fastapi_app: Any, settings: Any):
        self.app = app
        self.fastapi_app = fastapi_app
        self.settings = settings
        self.store = Store(settings.data)
        self.next_check = 0.0
        self.failed: dict[str, float] = {}

    def _check(self) -> None:
        now = time.monotonic()
        if now < self.next_check:
            return
        self.next_check = now + self.settings.reload_check_s
        current = self.store.current_id()
        if current is None or current == live_id(self.fastapi_app):
            return
        if self.fastapi_app.state.reload_lock.locked():
            return
        if now - self.failed.get(current, -1e9) < 30:
            return

        def work() -> None:
            try:
                reload(self.fastapi_app, self.settings, current)
            except Exception:
                self.failed[current] = time.monotonic()
                log.exception(
                    "could not switch to snapshot %s; still serving %s", current, live_id(self.fastapi_app)
                )

        threading.Thread(target=work, daemon=True, name="nrw-sites-reload").start()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check CURRENT now and then, then pass the request on."""
        if scope["type"] == "http" and getattr(self.fastapi_app.state, "views", None):
            self._check()
        await self.app(scope, receive, send)
