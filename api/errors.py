"""Errors as ``application/problem+json`` (RFC 9457), from one status table.

Domain errors are raised in geo/, layers/ and the request parsing; this module maps them to HTTP
status codes. Details are written by the service, never copied from the request: a client's
strings are not echoed back. The ``detail`` follows ``Accept-Language``: English by default,
German for a request that prefers ``de`` (api/errors_de.py); ``type`` and ``title`` stay the same
in every language, so a client can tell problems apart without reading the detail.
"""

from __future__ import annotations

import errno
import json
import logging
import re
import sqlite3
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from api.errors_de import german
from geo.errors import Conflict, DomainError, InvalidGeometry, InvalidParameter, NotFound, TooLarge

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("nrw_sites.api")


class Unauthorized(DomainError):
    """A bearer key was sent but is not valid (the reason is never told)."""


class Forbidden(DomainError):
    """A valid key whose role may not use this resource."""


# The one table: domain error -> HTTP status (the most specific class wins).
STATUS: dict[type[Exception], int] = {
    InvalidParameter: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    TooLarge: 413,
    InvalidGeometry: 422,
    DomainError: 400,
}
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
TYPES = {
    InvalidParameter: "invalid-parameter",
    NotFound: "not-found",
    TooLarge: "too-large",
    InvalidGeometry: "invalid-geometry",
    Unauthorized: "unauthorized",
    Forbidden: "forbidden",
    Conflict: "conflict",
    DomainError: "invalid-request",
}
STORAGE_ERRNOS = (errno.EROFS, errno.ENOSPC, errno.EACCES, errno.EPERM, errno.EDQUOT)
# Headers that go with a status (RFC 9110 §11.6.1: a 401 names the scheme).
HEADERS = {401: {"WWW-Authenticate": 'Bearer realm="nrw-sites"'}}
GENERIC = {
    404: "There is no resource at this path.",
    405: "This method is not allowed on this resource.",
    500: "The server failed to answer this request; the error has been logged.",
}
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")
LANGUAGES = ("en", "de")  # the first is the default
_LANG_RANGE = re.compile(r"^\s*([A-Za-z]{1,8}|\*)(?:-[A-Za-z0-9]{1,8})*\s*$")


def language(accept: str | None) -> str:
    """The language of the details for an ``Accept-Language`` header (RFC 9110 §12.5.4): the
    one of LANGUAGES with the highest q (the earlier range wins a tie), English by default.
    """
    best, best_q = LANGUAGES[0], 0.0
    for part in (accept or "")[:400].split(",")[:20]:
        rng, _, params = part.partition(";")
        m = _LANG_RANGE.match(rng)
        if not m:
            continue
        q = 1.0
        for p in params.split(";"):
            k, _, v = p.strip().partition("=")
            if k.strip().lower() == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
                q = min(max(q, 0.0), 1.0) if q == q else 0.0  # q is 0..1 (and not NaN)
        primary = m.group(1).lower()
        if primary in LANGUAGES and q > best_q:
            best, best_q = primary, q
    return best


def localise(detail: str, lang: str) -> str:
    """A service detail in ``lang`` (English when it has no translation)."""
    return german(detail) if lang == "de" else detail


def status_of(exc: Exception) -> int:
    """Return the HTTP status for a domain error (500 for anything unknown)."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def problem_type(exc: Exception) -> str:
    """Return the problem ``type`` URI of a domain error."""
    for cls in type(exc).__mro__:
        if cls in TYPES:
            return f"urn:nrw-sites:problem:{TYPES[cls]}"
    return "about:blank"


def problem_body(status: int, detail: str, type_: str = "about:blank") -> bytes:
    """Serialise an RFC 9457 problem document."""
    doc: dict[str, Any] = {
        "type": type_,
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail[:500],
    }
    return json.dumps(doc, ensure_ascii=False).encode()


def problem(status: int, detail: str, type_: str = "about:blank", request: Request | None = None) -> Response:
    """Return a problem+json response (its detail in the request's language, if one is given)."""
    if request is None:
        return Response(problem_body(status, detail, type_), status_code=status, media_type=PROBLEM_JSON)
    lang = language(request.headers.get("accept-language"))
    resp = Response(
        problem_body(status, localise(detail, lang), type_), status_code=status, media_type=PROBLEM_JSON
    )
    resp.headers["Content-Language"] = lang
    resp.headers.add_vary_header("Accept-Language")
    return resp


def safe_name(name: Any) -> str | None:
    """Return ``name`` if it is a short plain identifier that is safe to repeat, else None."""
    return name if isinstance(name, str) and _SAFE_NAME.match(name) else None


def validation_detail(exc: RequestValidationError) -> str:
    """Describe request-validation errors by parameter name and rule, without the input."""
    parts = []
    for err in exc.errors()[:5]:
        loc = [str(x) for x in err.get("loc", ()) if isinstance(x, str)]
        where = loc[0] if loc else "request"
        name = safe_name(loc[-1]) if len(loc) > 1 else None
        label = f"{where} parameter {name!r}" if name else where
        parts.append(f"{label}: {err.get('msg', 'invalid value')}")
    return "; ".join(parts) or "invalid request"


async def _domain(request: Request, exc: Exception) -> Response:
    status = status_of(exc)
    resp = problem(status, str(exc), problem_type(exc), request)
    resp.headers.update(HEADERS.get(status, {}))
    return resp


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return problem(400, validation_detail(exc), "urn:nrw-sites:problem:invalid-parameter", request)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    detail = GENERIC.get(status, TITLES.get(status, "Error"))
    resp = problem(status, detail, request=request)
    if exc.headers:
        resp.headers.update(exc.headers)
    return resp


async def _storage(request: Request, exc: Exception) -> Response:
    """The data directory cannot be written (read-only, full, no permission): 503, said so;
    anything else an OSError means is unexpected (500)."""
    assert isinstance(exc, OSError)
    if exc.errno not in STORAGE_ERRNOS:
        return await _unexpected(request, exc)
    log.error("cannot write the data directory on %s %s: %s", request.method, request.url.path, exc.strerror)
    why = (
        "is read-only"
        if exc.errno == errno.EROFS
        else "is full"
        if exc.errno == errno.ENOSPC
        else "is not writable"
    )
    return problem(
        503, f"the service's data directory {why}: this change cannot be stored now", request=request
    )


async def _state_db(request: Request, exc: Exception) -> Response:
    """The state database (sessions, shortlists) cannot be written: 503, said so."""
    text = str(exc).lower()
    if "readonly" in text or "read-only" in text or "unable to open" in text or "disk" in text:
        log.error("state database on %s %s: %s", request.method, request.url.path, exc)
        return problem(
            503,
            "the service's data directory is not writable: sign-in and shortlists are unavailable now",
            request=request,
        )
    return await _unexpected(request, exc)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, GENERIC[500], request=request)


def install(app: FastAPI) -> None:
    """Install the exception handlers that turn every error into problem+json."""
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(OSError, _storage)
    app.add_exception_handler(sqlite3.OperationalError, _state_db)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
