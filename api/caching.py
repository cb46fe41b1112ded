"""HTTP caching for browsers, a reverse proxy and a CDN: validators, conditions, Cache-Control.

One place for it: the entity-tag helpers the routes use (``matches_weak`` for If-None-Match,
``matches_strong`` for If-Match, ``request_etag`` for answers that carry the time they were made)
and ``HttpCaching``, the ASGI middleware that, on every ``/api/`` and ``/healthz`` answer,

- adds ``Vary: Authorization, Cookie`` (what a role sees differs);
- sets ``Cache-Control``: what staff or admin were served is ``private, no-cache`` (browser cache
  only, revalidated), ``private, no-store`` when it carried confidential fields (api/audit.py
  marks those); a public 200 to GET without its own policy is
  ``public, max-age=0, s-maxage=N`` (N = ``NRW_SITES_SHARED_CACHE_S``, default 60: a proxy or
  CDN may serve it N seconds, browsers revalidate every time, so a publish reaches them at once);
  a public error without a policy is ``no-store``;
- gives a 200 to GET whose body came in one piece and that has no ``ETag`` a strong ETag, the
  SHA-256 of the body as sent (after gzip, which sits inside this middleware and writes no
  timestamp, so the gzip and the identity representation have different tags and identical
  answers on any replica have the same); a strong ETag a route set is given a ``-gzip`` suffix
  when the body was compressed;
- answers ``If-None-Match`` that matches with 304 (no body; ETag, Cache-Control, Vary kept).

Streamed answers (a first body part with ``more_body``) pass through unbuffered and untagged;
``no-store`` answers are never tagged. HEAD gets the GET's headers: api/methods.py
(``HeadOptions``, outside this middleware) turns it into a GET and drops the body.
"""

from __future__ import annotations

import hashlib
from typing import Any

import anyio.to_thread
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=0, must-revalidate"
PRIVATE = "private, no-cache"
CONFIDENTIAL = "private, no-store"
PATHS = ("/api/", "/healthz")
KEEP_ON_304 = (b"etag", b"cache-control", b"vary", b"content-location", b"expires", b"date")
GZIP_MIN_BYTES = 1000  # smaller bodies go uncompressed (the GZip middleware and the UI data)
THREAD_MIN_BYTES = 1 << 20  # hash larger bodies off the event loop


def etags(value: str) -> list[str]:
    """The entity tags of an If-None-Match / If-Match / If-Range value."""
    return [t.strip() for t in value.split(",") if t.strip()]


def matches_weak(value: str, etag: str) -> bool:
    """If-None-Match: weak comparison, ``*`` matches."""
    bare = etag.removeprefix("W/")
    return any(t == "*" or t.removeprefix("W/") == bare for t in etags(value))


def matches_strong(value: str, etag: str) -> bool:
    """If-Match: strong comparison (weak tags never match), ``*`` matches."""
    return any(t == "*" or (not t.startswith("W/") and t == etag) for t in etags(value))


def body_etag(body: bytes) -> str:
    """A strong ETag: the SHA-256 of the bytes (128 bits of it)."""
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def request_etag(request: Request, snapshot: str, view: str) -> str:
    """A weak ETag for an answer that is fixed by the snapshot, the view (public or full), the
    code version and the request, but carries the time it was made (OGC ``timeStamp``, an export's
    ``generated``): byte-different each second, the same answer otherwise.
    """
    h = request.headers
    parts = (
        snapshot,
        view,
        str(getattr(request.app, "version", "")),  # the code that made it
        str(request.url),
        h.get("accept", ""),
        h.get("accept-language", ""),
    )
    return f'W/"{hashlib.sha256(chr(0).join(parts).encode()).hexdigest()[:32]}"'


def _policy(headers: MutableHeaders, state: dict[str, Any], status: int, method: str, shared_s: int) -> None:
    """Vary and Cache-Control for who asked and what they were given."""
    vary = [v.strip() for v in headers.get("vary", "").split(",") if v.strip()]
    headers["Vary"] = ", ".join(dict.fromkeys([*vary, "Authorization", "Cookie"]))
    cache = headers.get("cache-control")
    if state.get("role", "public") != "public":
        if state.get("confidential"):
            headers["Cache-Control"] = CONFIDENTIAL
        elif "no-store" not in (cache or ""):
            headers["Cache-Control"] = PRIVATE
    elif cache is None:
        if status >= 400:
            headers["Cache-Control"] = "no-store"
        elif status == 200 and method == "GET":
            headers["Cache-Control"] = (
                f"public, max-age=0, s-maxage={shared_s}" if shared_s > 0 else "public, no-cache"
            )


def _not_modified(start: Message, etag: str) -> Message:
    headers = [(k, v) for k, v in start["headers"] if k.lower() in KEEP_ON_304 and k.lower() != b"etag"]
    return {"type": "http.response.start", "status": 304, "headers": [*headers, (b"etag", etag.encode())]}


class HttpCaching:
    """ASGI middleware: Vary, Cache-Control, ETag and 304 on the API's answers (see above)."""

    def __init__(self, app: ASGIApp, shared_cache_s: int = 60):
        self.app = app
        self.shared_s = shared_cache_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102
        if scope["type"] != "http" or not scope["path"].startswith(PATHS):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})  # shared with the routes, which put the role there
        method = scope["method"]
        if_none_match = Headers(scope=scope).get("if-none-match", "")
        held: Message | None = None

        async def caching_send(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                _policy(headers, state, message["status"], method, self.shared_s)
                etag = headers.get("etag")
                encoding = headers.get("content-encoding")
                if etag and encoding and not etag.startswith("W/") and etag.endswith('"'):
                    headers["ETag"] = f'{etag[:-1]}-{encoding}"'
                stored = "no-store" not in headers.get("cache-control", "")
                if method == "GET" and message["status"] == 200 and stored:
                    held = message  # wait for the body
                    return
            elif held is not None:
                start, held = held, None
                if message["type"] == "http.response.body" and not message.get("more_body", False):
                    await self._complete(start, message, if_none_match, send)
                    return
                await send(start)  # streamed: as it comes
            await send(message)

        await self.app(scope, receive, caching_send)

    @staticmethod
    async def _complete(start: Message, message: Message, if_none_match: str, send: Send) -> None:
        headers = MutableHeaders(scope=start)
        etag = headers.get("etag")
        if etag is None:
            body = message.get("body", b"")
            if len(body) >= THREAD_MIN_BYTES:
                etag = await anyio.to_thread.run_sync(body_etag, body)
            else:
                etag = body_etag(body)
            headers["ETag"] = etag
        if if_none_match and matches_weak(if_none_match, etag):
            await send(_not_modified(start, etag))
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        await send(start)
        await send(message)
