"""Sign-in for the web map: ``/api/session`` (layers/sessions.py, api/auth.py).

``POST`` with ``{"key": "nrw_…"}`` verifies a staff or admin key and opens a session: an
HttpOnly, SameSite=Strict cookie (Secure when the request came over https) and, in the body, the
CSRF token the page keeps in memory and sends as ``X-CSRF-Token``. The key travels once, in the
body, and is stored nowhere: not in the cookie, the page, the URL or the server's log. ``GET``
says who is signed in; ``DELETE`` signs out. Every answer is ``Cache-Control: no-store``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.auth import INVALID, SESSION_COOKIE, role_of, session_of
from api.errors import Forbidden, Unauthorized
from api.routes_features import JSONBytes
from layers.sessions import Session

router = APIRouter(prefix="/api", tags=["Sign-in (web map)"])
NO_STORE = {"Cache-Control": "no-store"}


class SignIn(BaseModel):
    """The body of a sign-in."""

    model_config = ConfigDict(extra="forbid")
    key: str = Field(min_length=1, max_length=200, description="a staff or admin API key")


def _state(s: Session | None) -> dict[str, Any]:
    if s is None:
        return {"signed_in": False, "role": "public"}
    iso = dt.datetime.fromtimestamp(s.expires, dt.UTC).isoformat(timespec="seconds")
    return {
        "signed_in": True,
        "role": s.role,
        "name": s.key_name,
        "csrf": s.csrf,
        "expires": iso,
        "idle_minutes": round(s.idle_s / 60, 1),
    }


def _same_origin(request: Request) -> None:
    """Refuse a sign-in posted from another site (the Origin header names it)."""
    origin = request.headers.get("origin")
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise Forbidden("a sign-in must come from this service's own page")


def _answer(body: dict[str, Any], status: int = 200) -> Response:
    return JSONBytes(body, status_code=status, headers=NO_STORE)


@router.get("/session", summary="Who is signed in")
async def get_session(request: Request) -> Response:
    """The web map's session: ``signed_in``, ``role``, the key's ``name``, the ``csrf`` token
    and when the session ``expires`` without further requests; ``signed_in: false`` otherwise.
    """
    s = await run_in_threadpool(session_of, request) if SESSION_COOKIE in request.cookies else None
    response = _answer(_state(s))
    if s is None and SESSION_COOKIE in request.cookies:
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post(
    "/session",
    summary="Sign in with an API key",
    responses={
        401: {"description": "the key is not valid"},
        403: {"description": "posted from another site"},
    },
)
async def sign_in(request: Request, body: SignIn) -> Response:
    """Verify a staff or admin key and open a session (cookie ``nrw_session``)."""
    _same_origin(request)
    store = request.app.state.sessions
    key = await run_in_threadpool(request.app.state.keys.verify, body.key.strip())
    if key is None:
        raise Unauthorized(INVALID)
    token, s = await run_in_threadpool(store.open, key)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await run_in_threadpool(store.close, old)
    request.state.key_name = key.name
    response = _answer(_state(s), 201)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(s.absolute_s),
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.delete("/session", summary="Sign out", status_code=204)
async def sign_out(request: Request) -> Response:
    """End the session (with the session's CSRF token); the cookie is cleared."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await run_in_threadpool(role_of, request)  # checks the CSRF token of a live session
        await run_in_threadpool(request.app.state.sessions.close, token)
    response = Response(status_code=204, headers=NO_STORE)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
