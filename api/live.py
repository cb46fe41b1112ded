"""Following the live snapshot: each worker switches when ``DATA_DIR/CURRENT`` names another one.

``load(app, settings)`` checks the snapshot's files against the checksums in its manifest, loads
it and builds its views (api/views.py: their feature bytes mapped from the snapshot's serving
cache, shared by every worker, layers/servecache.py), then swaps them in with one assignment: at start-up (the
app's lifespan) and from ``reload(app, settings, sid)``, so requests already running keep the
views they started with. A failed reload keeps the old views
and is logged. ``Follower`` (a thread per worker, started with the app) looks at CURRENT every
``reload_check_s`` seconds (``NRW_SITES_RELOAD_CHECK_S``, 0.25 s) and reloads, so an activation by
an admin request to any replica, the command line (``nrw-sites rollback``) or another worker
reaches every worker and every replica sharing the data directory, idle or not, without a
restart.
Every load then re-runs the saved investor inquiries in a background thread
(api/routes_inquiries.py ``rerun_soon``); each run is recorded once, whichever worker is first.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import threading
import time
from typing import Any

import pyarrow as pa
from fastapi import FastAPI

from api.settings import Settings
from api.views import build_views, load_snapshot
from layers.store import Store

log = logging.getLogger("nrw_sites.api")
M_ARENA_MAX = -8  # mallopt(3)


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
    tune_allocators()
    store = Store(settings.data)
    manifest = store.verify(snapshot_id)  # damaged files are found now, not at a request
    views = build_views(load_snapshot(store, manifest["id"]))
    public = views["public"]
    app.state.views = views
    app.state.service = public.service
    app.state.collections = public.collections
    app.state.loaded_s = time.perf_counter() - t  # /healthz: what a switch costs this worker
    # a snapshot is millions of long-lived objects: once loaded, keep them out of the cyclic
    # collector's full passes, which otherwise stall a worker for 100 ms and more under load
    # (unfreeze first, so that the cycles of a snapshot switched away from are collected; before
    # a process's first freeze there is none: api/worker.py kept the collector off for the
    # start, and the ~1,500 objects a pass over all ~250,000 would find, in 0.1 s, stay frozen)
    if gc.get_freeze_count():
        gc.unfreeze()
        gc.collect()
        release_memory()
    gc.freeze()
    gc.enable()
    if getattr(app.state, "inquiries", None) is not None:  # re-run the inquiries, off the event loop
        from api.routes_inquiries import rerun_soon

        app.state.inquiry_run = rerun_soon(app.state.inquiries, views["full"].service)
    log.info(
        "snapshot %s loaded and pre-serialised in %.1f s (%s)",
        public.service.snap.id,
        time.perf_counter() - t,
        ", ".join(f"{k} {len(c.ids):,}" for k, c in views["full"].collections.items()),
    )


def tune_allocators() -> None:
    """In a process already running (``serve`` with one worker), what ``WORKER_MEMORY_ENV`` of
    api/cli.py sets for worker processes: at most two glibc arenas from now on, Arrow buffers
    from malloc (the pool keeps freed buffers)."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: leave it
        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, 2)
    if pa.default_memory_pool().backend_name != "system":
        pa.set_memory_pool(pa.system_memory_pool())


def release_memory() -> None:
    """Hand freed heap back to the system: the Arrow pool keeps the buffers of the GeoParquet
    reads (~120 MB at 50,000 sites) and glibc the pages of freed objects (a switched-away
    snapshot), which would otherwise stay in the worker's RSS."""
    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def reload(app: Any, settings: Any, snapshot_id: str) -> None:
    """Load ``snapshot_id`` and switch the app to it (one reload at a time per worker)."""
    lock: threading.Lock = app.state.reload_lock
    with lock:
        if live_id(app) == snapshot_id:
            return
        t = time.perf_counter()
        load(app, settings, snapshot_id)
        log.info("switched to snapshot %s in %.1f s", snapshot_id, time.perf_counter() - t)


class Follower:
    """A daemon thread per worker: look at CURRENT every ``reload_check_s`` seconds and switch
    when it names another snapshot, with or without requests coming in.

    Whoever changed CURRENT (an admin request to any replica, ``nrw-sites rollback``, a build),
    every process serving the data directory follows; a snapshot that failed to load is tried
    again after 30 s, and the old one is served meanwhile.
    """

    RETRY_S = 30.0

    def __init__(self, fastapi_app: Any, settings: Any):
        self.fastapi_app = fastapi_app
        self.settings = settings
        self.store = Store(settings.data)
        self.failed: dict[str, float] = {}
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="nrw-sites-follow")

    def start(self) -> Follower:
        """Start following; returns self."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop following (a reload under way finishes first)."""
        self.stopped.set()
        self.thread.join(timeout=60)

    def check(self) -> None:
        """Switch now if CURRENT names a snapshot other than the one served."""
        try:
            current = self.store.current_id()
        except OSError:  # a shared directory that is briefly unreachable: try again next time
            served = live_id(self.fastapi_app)
            log.warning("could not read %s/CURRENT; still serving %s", self.store.root, served)
            return
        if current is None or current == live_id(self.fastapi_app):
            return
        if time.monotonic() - self.failed.get(current, -1e9) < self.RETRY_S:
            return
        try:
            reload(self.fastapi_app, self.settings, current)
        except Exception:
            self.failed[current] = time.monotonic()
            served = live_id(self.fastapi_app)
            log.exception("could not switch to snapshot %s; still serving %s", current, served)

    def _run(self) -> None:
        while not self.stopped.wait(self.settings.reload_check_s):
            self.check()
