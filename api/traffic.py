"""Request ids, one structured log line per request, and load shedding (issue 11 §5).

``RequestLog`` takes ``X-Request-ID`` from the request when it is a short plain token (else makes
one), returns it on the response, and logs one JSON line per request to ``nrw_sites.access``:
time, id, method, path (never the query string, headers or body, so no key and no client data),
status, duration, bytes, role. ``InFlightLimit`` bounds the requests a worker serves at once:
up to ``max_in_flight`` run, up to as many again wait at most ``max_wait_s`` for a slot, and the
rest are answered at once with 429 problem+json and ``Retry-After`` (not queued without bound;
memory stays bounded). ``/healthz`` is never shed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PROBLEM_JSON, problem_body

access = logging.getLogger("nrw_sites.access")
_ID = re.compile(rb"^[A-Za-z0-9._\-]{1,64}$")
EXEMPT = ("/healthz",)


class RequestLog:
    """ASGI middleware: X-Request-ID in and out, one JSON log line per request."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Tag the request, pass it on, log its outcome."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = next((v for k, v in scope.get("headers", ()) if k == b"x-request-id"), None)
        rid = rid if rid is not None and _ID.match(rid) else secrets.token_hex(8).encode()
        scope.setdefault("state", {})["request_id"] = rid.decode()
        t0 = time.perf_counter()
        status, size = 500, 0

        async def tagged_send(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid)]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, tagged_send)
        finally:
            if access.isEnabledFor(logging.INFO):
                state: dict[str, Any] = scope.get("state", {})
                access.info(
                    json.dumps(
                        {
                            "ts": round(time.time(), 3),
                            "request_id": rid.decode(),
                            "method": scope.get("method"),
                            "path": scope.get("path", "")[:200],
                            "status": status,
                            "ms": round((time.perf_counter() - t0) * 1e3, 2),
                            "bytes": size,
                            "role": state.get("role", "public"),
                            "shed": bool(state.get("shed")),
                        },
                        ensure_ascii=True,
                    )
                )


class InFlightLimit:
    """ASGI middleware: a bounded number of requests at once, a bounded short wait, then 429."""

    def __init__(self, app: ASGIApp, max_in_flight: int, max_wait_s: float = 0.03, retry_after_s: int = 1):
        self.app = app
        self.max_in_flight = max_in_flight
        self.max_waiting = max_in_flight
        self.max_wait_s = max_wait_s
        self.retry_after = str(retry_after_s).encode()
        self.in_flight = 0
        self.waiting = 0
        self._slots: asyncio.Semaphore | None = None
        self.shed = 0

    async def _refuse(self, scope: Scope, send: Send) -> None:
        self.shed += 1
        scope.setdefault("state", {})["shed"] = True
        body = problem_body(
            429, "the service is busy; retry after the time in Retry-After", "urn:nrw-sites:problem:busy"
        )
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", self.retry_after),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Admit, briefly queue, or shed the request."""
        if scope["type"] != "http" or self.max_in_flight <= 0 or scope.get("path") in EXEMPT:
            await self.app(scope, receive, send)
            return
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_in_flight)
        if self._slots.locked():
            if self.waiting >= self.max_waiting:
                await self._refuse(scope, send)
                return
            self.waiting += 1
            try:
                await asyncio.wait_for(self._slots.acquire(), self.max_wait_s)
            except TimeoutError:
                await self._refuse(scope, send)
                return
            finally:
                self.waiting -= 1
        else:
            await self._slots.acquire()
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            self._slots.release()
