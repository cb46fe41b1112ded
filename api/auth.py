"""Roles (DESIGN §5.3): public (no key), staff and admin by ``Authorization: Bearer <key>``.

``RoleDep`` resolves the caller's role once per request: no header is the public; a header that
is not a valid bearer key is 401 without a reason (unknown, revoked, malformed and wrong-scheme
keys are answered alike). Keys are checked by layers/keys.py (scrypt, constant-time compare) and
are never logged or stored here; only the role and the key's name go on ``request.state`` for the
request log.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.errors import Forbidden, Unauthorized

Role = Literal["public", "staff", "admin"]
ROLES: tuple[Role, ...] = ("public", "staff", "admin")
SCHEME = "bearerKey"
INVALID = "the credentials are not valid"
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
    request.state.role = role
    return role


async def get_role(
    request: Request, _credentials: HTTPAuthorizationCredentials | None = Security(bearer)
) -> Role:
    """The caller's role (the ``Security`` parameter only declares the scheme in OpenAPI).

    Async, so the public's requests take no thread hop; a key's first check (scrypt, ~40 ms)
    runs in the thread pool, never on the event loop.
    """
    if "authorization" not in request.headers:
        request.state.role = "public"
        return "public"
    return await run_in_threadpool(role_of, request)


RoleDep = Annotated[Role, Depends(get_role)]


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
