"""Request ids, one structured log line per request, and load shedding (issue 11 §5).

``RequestLog`` takes ``X-Request-ID`` from the request when it is a short plain token (else makes
one), returns it on the response, and logs one JSON line per request to ``nrw_sites.access``:
time, id, method, path (never the query string, headers or body, so no key and no client data),
status, duration, bytes, role. ``InFlightLimit`` bounds the requests a worker serves at once:
up to ``max_in_flight`` run; up to as many again wait at most ``max_wait_s`` for a slot when their
expected wait allows it; the rest are answered with 429 problem+json and ``Retry-After`` (paced)
(not queued without bound; memory stays bounded). ``/healthz`` is never shed.

``cpu_bound(fn, *args)`` runs Python-bound work (scoring a polygon) on one thread per worker
process: requests beyond it wait in the event loop, not in threads taking turns at the GIL, so
the loop thread competes with one thread only and still answers a 429 or a cached page at once.
Threads could not run such work side by side anyway; a second core is a second worker.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PROBLEM_JSON, problem_body

access = logging.getLogger("nrw_sites.access")
# request ids tell lines apart, they guard nothing: a seeded generator, not a system call each
_ids = random.Random(os.urandom(16))
os.register_at_fork(after_in_child=lambda: _ids.seed(os.urandom(16)))
_ID = re.compile(rb"^[A-Za-z0-9._\-]{1,64}$")
EXEMPT = ("/healthz",)


T = TypeVar("T")
_cpu: dict[int, anyio.CapacityLimiter] = {}  # per event loop (tests run several)


async def cpu_bound(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` on a worker thread, one such call at a time in this event loop."""
    loop = id(asyncio.get_running_loop())
    if loop not in _cpu:
        _cpu.clear()  # an earlier loop's limiter is of no use any more
        _cpu[loop] = anyio.CapacityLimiter(1)
    return await anyio.to_thread.run_sync(fn, *args, limiter=_cpu[loop])


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
        rid = rid if rid is not None and _ID.match(rid) else b"%016x" % _ids.getrandbits(64)
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
    """ASGI middleware: a bounded number of requests at once, a short bounded queue, else 429.

    A request that finds every slot taken is shed at once unless its expected wait (the
    requests ahead of it × the recent mean time per request ÷ ``max_in_flight``) is within
    ``max_wait_s`` and the queue holds fewer than ``max_in_flight``; a queued request that
    still has no slot after ``max_wait_s`` is shed then. Deciding at arrival keeps a refusal
    fast under overload: it does not first wait out its time in the queue. Before any request
    has been timed (a burst at the start), such a request waits, bounded by ``max_wait_s``.

    A refusal closes its connection (``Connection: close``): the workers share one listening
    socket, and the kernel may have given one worker most of the keep-alive connections while
    the other idles; a client that connects again may reach the idle one (bench/load.py, score
    at 32 clients on 2 workers: 18–198 req/s from run to run before, 197–217 after). With
    ``pace_s`` a refusal is sent that long after its request came (a timer, no work), so
    clients that ignore Retry-After ask less often: at 64 clients 25 ms served 143–153 instead
    of 89–120 requests a second, but the 429's p99 rose from 19–26 to ~105 ms; off by default.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_in_flight: int,
        max_wait_s: float = 0.1,
        retry_after_s: int = 1,
        pace_s: float = 0.0,
    ):
        self.app = app
        self.pace_s = pace_s
        self.max_in_flight = max_in_flight
        self.max_waiting = max_in_flight
        self.max_wait_s = max_wait_s
        self.retry_after = str(retry_after_s).encode()
        self.in_flight = 0
        self.waiting = 0
        self.mean_s: float | None = None  # moving mean of an admitted request's time (None: none yet)
        self._slots: asyncio.Semaphore | None = None
        self.shed = 0

    async def _refuse(self, scope: Scope, send: Send, arrived: float) -> None:
        self.shed += 1
        wait = self.pace_s - (time.perf_counter() - arrived)
        if wait > 0:  # paced: a client asking again at once does not keep the worker refusing
            await asyncio.sleep(wait)
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
                    # a new connection may go to a worker with room (they share one socket)
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _may_wait(self) -> bool:
        if self.waiting >= self.max_waiting:
            return False
        if self.mean_s is None:  # nothing measured yet (a burst at the start): wait, bounded
            return True
        return (self.waiting + 1) * self.mean_s / self.max_in_flight <= self.max_wait_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Admit, briefly queue, or shed the request."""
        if scope["type"] != "http" or self.max_in_flight <= 0 or scope.get("path") in EXEMPT:
            await self.app(scope, receive, send)
            return
        arrived = time.perf_counter()
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_in_flight)
        if self._slots.locked():
            if not self._may_wait():
                await self._refuse(scope, send, arrived)
                return
            self.waiting += 1
            try:
                await asyncio.wait_for(self._slots.acquire(), self.max_wait_s)
            except TimeoutError:
                await self._refuse(scope, send, arrived)
                return
            finally:
                self.waiting -= 1
        else:
            await self._slots.acquire()
        self.in_flight += 1
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            took = time.perf_counter() - started
            self.mean_s = took if self.mean_s is None else 0.9 * self.mean_s + 0.1 * took
            self.in_flight -= 1
            self._slots.release()
