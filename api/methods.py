"""HEAD and OPTIONS for every route (QGIS, GDAL and browsers send them).

- ``HEAD``: routes that implement it (static files, the PMTiles range route) answer it
  themselves. Where the router answers 405 and allows ``GET`` (or 404, which the web UI's
  catch-all mount gives), the request is answered as a ``GET`` without the body: the same
  status and headers (``Content-Type``, ``Content-Length``, ``Content-Crs`` …).
- ``OPTIONS``: where the router answers 405, the answer becomes ``204 No Content`` with
  ``Allow`` listing the route's methods, ``HEAD`` wherever ``GET`` is, and ``OPTIONS``. Unknown
  paths stay 404.

An ASGI middleware that asks the router (a 405 carries the ``Allow`` header), so every route,
present and future, gets both without an edit and without reading FastAPI's internals.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _allow(message: Message) -> set[str]:
    for name, value in message.get("headers", ()):
        if name.lower() == b"allow":
            return {m.strip().upper() for m in value.decode("latin-1").split(",") if m.strip()}
    return set()


class HeadOptions:
    """Answer HEAD (as GET without body) and OPTIONS (204 + Allow) on every route."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Try the request as it is; turn a 405 into the HEAD or OPTIONS answer."""
        if scope["type"] != "http" or scope["method"] not in ("HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        allowed: set[str] = set()
        refused = False

        async def first(message: Message) -> None:
            nonlocal refused, allowed
            if message["type"] == "http.response.start" and (
                message["status"] == 405 or (message["status"] == 404 and scope["method"] == "HEAD")
            ):
                # a 404 to HEAD may come from the web UI's mount, which catches every method
                # on a path the API answers only for GET (/healthz): ask with GET
                refused = True
                allowed = _allow(message) if message["status"] == 405 else {"GET"}
            if not refused:
                await send(message)

        await self.app(scope, receive, first)
        if not refused:
            return
        if scope["method"] == "OPTIONS":
            if "GET" in allowed:
                allowed.add("HEAD")
            allow = ", ".join(sorted(allowed | {"OPTIONS"}))
            await send(
                {"type": "http.response.start", "status": 204, "headers": [(b"allow", allow.encode())]}
            )
            await send({"type": "http.response.body", "body": b""})
            return
        if "GET" not in allowed:  # nothing to copy: the 405 as the router gave it, no body
            await send(
                {
                    "type": "http.response.start",
                    "status": 405,
                    "headers": [(b"allow", ", ".join(sorted(allowed)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return

        async def empty() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def headless(message: Message) -> None:
            if message["type"] == "http.response.body":
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b""})
                return
            await send(message)

        await self.app({**scope, "method": "GET"}, empty, headless)
