"""Which confidential site fields an answer carried, and to whom (layers/audit.py writes it).

``AuditTrail`` gives every HTTP request an empty collection (a context variable, which the
thread pool's copies of the context share); the code that puts confidential fields into an
answer (``Service.items``, the OGC item routes, exports) names the sites with ``note``. When
the answer is complete and the caller is staff or admin, one record goes to the audit log — in
the thread pool, so the fsync never holds up the event loop; when the data directory cannot be
written, the record goes to the service log instead, marked as such.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any

import numpy as np
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from geo.access import CONFIDENTIAL_FIELDS
from layers.audit import AuditLog

MAX_IDS = 10_000
fallback = logging.getLogger("nrw_sites.audit")
Indexable = Sequence[Any] | np.ndarray  # a list or a numpy column, indexed by row
_reads: ContextVar[list[str] | None] = ContextVar("confidential_reads", default=None)


def note(ids: Iterable[Any]) -> None:
    """Record that the current answer carries the confidential fields of these sites."""
    reads = _reads.get()
    if reads is not None:
        reads.extend(str(i) for i in ids)


def note_rows(ids: Indexable, rows: Iterable[int], restricted: Mapping[str, Indexable]) -> None:
    """``note`` the sites among ``rows`` that hold a value in a confidential field."""
    if _reads.get() is None:
        return
    cols = [restricted[c] for c in CONFIDENTIAL_FIELDS if c in restricted]
    note(ids[r] for r in rows if any(_present(col[r]) for col in cols))


def _present(v: Any) -> bool:
    """A value, not a gap (None, NaN, pandas' NA, empty text)."""
    if v is None or v == "" or isinstance(v, float) and v != v:
        return False
    return type(v).__name__ not in ("NAType", "NaTType")


class AuditTrail:
    """ASGI middleware: one audit record per answer that carried confidential fields to staff."""

    def __init__(self, app: ASGIApp, log: AuditLog):
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        reads: list[str] = []
        token = _reads.set(reads)
        status = 500

        async def keep_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if reads:  # api/caching.py: never stored by any cache
                    scope.setdefault("state", {})["confidential"] = True
            await send(message)

        try:
            await self.app(scope, receive, keep_status)
        finally:
            _reads.reset(token)
            state = scope.get("state", {})
            if reads and state.get("role", "public") != "public":
                sites = sorted(set(reads))
                route = scope.get("route")
                record = {
                    "key": state.get("key_name"),
                    "role": state.get("role"),
                    "method": scope.get("method"),
                    "route": getattr(route, "path", scope.get("path")),
                    "status": status,
                    "sites": sites[:MAX_IDS],
                    "count": len(sites),
                }
                try:
                    await run_in_threadpool(self.log.append, record)
                except OSError as exc:  # a read-only or full data directory: the record goes to the log
                    fallback.error("audit file not writable (%s): %s", exc.strerror, json.dumps(record))
