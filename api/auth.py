"""Roles (DESIGN §5.3): public (no key), staff and admin by ``Authorization: Bearer <key>``
or, in the web map, by a session cookie (layers/sessions.py).

``RoleDep`` resolves the caller's role once per request: no header and no session is the
public; a header that is not a valid bearer key is 401 without a reason (unknown, revoked,
malformed and wrong-scheme keys are answered alike). Keys are checked by layers/keys.py (scrypt,
constant-time compare) and are never logged or stored here; only the role and the key's name go
on ``request.state`` for the request log.

A session cookie that is unknown or expired is the public. A request the session authorises that
changes state (any method but GET, HEAD, OPTIONS) must carry the session's CSRF token in
``X-CSRF-Token``, or it is refused (403): the cookie alone, which a browser also sends along with
another site's request, is never enough. api/caching.py (``HttpCaching``) keeps what a role
sees out of shared caches.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Literal

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.errors import Forbidden, Unauthorized
from layers.sessions import Session

Role = Literal["public", "staff", "admin"]
ROLES: tuple[Role, ...] = ("public", "staff", "admin")
SCHEME = "bearerKey"
INVALID = "the credentials are not valid"
SESSION_COOKIE = "nrw_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
bearer = HTTPBearer(
    auto_error=False,
    scheme_name=SCHEME,
    description="An API key from `nrw-sites keys add --role staff|admin`. "
    "Without a key the caller is the public.",
)


def role_of(request: Request) -> Role:
    """The role of the request's bearer key (``public`` without one); Unauthorized otherwise."""
    cached = getattr(request.state, "role", None)
    if cached is not None:
        return cached
    header = request.headers.get("authorization")
    role: Role = "public"
    if header is not None:
        scheme, _, token = header.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > 200:
            raise Unauthorized(INVALID)
        key = request.app.state.keys.verify(token)
        if key is None:
            raise Unauthorized(INVALID)
        role = key.role
        request.state.key_name = key.name
    elif SESSION_COOKIE in request.cookies:
        role = _session_role(request)
    request.state.role = role
    return role


def session_of(request: Request) -> Session | None:
    """The live session of the request's cookie, or None."""
    if hasattr(request.state, "session"):
        return request.state.session
    store = getattr(request.app.state, "sessions", None)
    token = request.cookies.get(SESSION_COOKIE)
    request.state.session = store.get(token) if store is not None and token else None
    return request.state.session


def _session_role(request: Request) -> Role:
    s = session_of(request)
    if s is None:
        return "public"
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode("utf-8", "replace"), s.csrf.encode()):
            raise Forbidden(
                f"a signed-in request that changes something needs the session's {CSRF_HEADER} header"
            )
    request.state.key_name = s.key_name
    return s.role  # type: ignore[return-value]  # a stored role is one of ROLES


async def get_role(
    request: Request, _credentials: HTTPAuthorizationCredentials | None = Security(bearer)
) -> Role:
    """The caller's role (the ``Security`` parameter only declares the scheme in OpenAPI).

    Async, so the public's requests take no thread hop; a key's first check (scrypt, ~40 ms)
    runs in the thread pool, never on the event loop; so does a session's look-up (SQLite).
    """
    if "authorization" not in request.headers and SESSION_COOKIE not in request.cookies:
        request.state.role = "public"
        return "public"
    return await run_in_threadpool(role_of, request)


RoleDep = Annotated[Role, Depends(get_role)]


async def require_staff(role: RoleDep) -> Role:
    """Staff routes: 401 for the public (staff and admin pass)."""
    if role == "public":
        raise Unauthorized("this resource needs staff: sign in or send a staff key")
    return role


async def require_admin(role: RoleDep) -> Role:
    """Admin routes: 401 for the public, 403 for staff."""
    if role == "public":
        raise Unauthorized("this resource needs an admin key")
    if role != "admin":
        raise Forbidden("this resource needs an admin key")
    return role


def view_of(role: Role) -> str:
    """The data view a role sees: ``public`` for the public, ``full`` for staff and admin."""
    return "public" if role == "public" else "full"
