"""Investor inquiries over HTTP: ``/api/inquiries`` (layers/inquiries.py) and their Atom feeds.

Staff only (a staff or admin key, or a signed-in session with its CSRF token for changes); the
investor note is confidential and every answer is ``Cache-Control: no-store``. Inquiries run
against the full view of the live snapshot (staff see non-public sites). Creating an inquiry, or
changing its criteria, records a baseline run on the live snapshot in the same transaction;
every snapshot a server loads afterwards is re-run in a background thread (``rerun_soon``,
called by api/live.py), never on the event loop.

The Atom feed (``GET /api/inquiries/{id}/feed.atom``) takes a staff key, or ``?token=`` — a
separate per-inquiry feed token, never an API key, so a feed reader holds nothing that opens
the rest of the API. The feed carries the inquiry's name and the new sites (name, municipality,
area, score, links), never the investor note or a confidential site field.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import urllib.parse
import xml.etree.ElementTree as ET
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.auth import SESSION_COOKIE, require_staff, role_of, session_of
from api.errors import Unauthorized
from api.routes_features import JSONBytes
from api.service import Service
from geo.errors import InvalidParameter, NotFound
from layers.inquiries import InquiryStore
from layers.inquiry_criteria import Criteria, Target, clean_criteria, parse_since
from layers.shortlists import MAX_NAME, MAX_NOTE
from layers.store import Store

log = logging.getLogger("nrw_sites.api")
staff = APIRouter(prefix="/api/inquiries", tags=["Inquiries (staff)"], dependencies=[Depends(require_staff)])
feeds = APIRouter(prefix="/api/inquiries", tags=["Inquiries (staff)"])
InquiryId = Annotated[str, Path(max_length=40, description="the inquiry's id")]
VersionParam = Annotated[
    int | None, Query(ge=1, description="the version last seen: 409 if the inquiry changed since")
]
ATOM = "http://www.w3.org/2005/Atom"
FEED_ENTRIES = 50
SNAPSHOT_ID = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$"


class InquiryIn(BaseModel):
    """A new inquiry: what the investor asked for."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=MAX_NAME, examples=["Elektrolyseur Q1/2027"])
    note: str = Field("", max_length=MAX_NOTE, description="about the investor (confidential)")
    profile: str | None = Field(None, max_length=40, examples=["hydrogen"])
    weights: dict[str, Any] | None = Field(None, description="criterion: weight overrides")
    filters: dict[str, Any] | None = Field(None, description="hard filters, as /api/ranking names them")
    h2_year: int | None = None
    min_score: float | None = Field(None, description="the lowest score that matches (0–100)")
    top_n: int | None = Field(None, description="only the best N sites match (1–1000)")


class InquiryPatch(BaseModel):
    """Changes (omitted fields stay); new criteria replace the old ones as a whole."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=MAX_NAME)
    note: str | None = Field(None, max_length=MAX_NOTE)
    profile: str | None = Field(None, max_length=40)
    weights: dict[str, Any] | None = None
    filters: dict[str, Any] | None = None
    h2_year: int | None = None
    min_score: float | None = None
    top_n: int | None = None
    version: int | None = Field(None, ge=1)


CRITERIA_FIELDS = ("profile", "weights", "filters", "h2_year", "min_score", "top_n")


def _store(request: Request) -> InquiryStore:
    return request.app.state.inquiries


def _who(request: Request) -> str:
    return str(getattr(request.state, "key_name", None) or "staff")


def _answer(body: Any, status: int = 200) -> Response:
    return JSONBytes(body, status_code=status, headers={"Cache-Control": "no-store"})


def target_of(svc: Service) -> Target:
    """The full view's snapshot as inquiries see it (the profiles' own rankings from the
    Service's cache; other rankings computed without displacing users' cached rankings)."""
    sites = svc.sites
    cols = {c: sites[c].to_numpy(object) for c in ("name", "municipality", "area_ha", "kind") if c in sites}

    def describe(row: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for c, col in cols.items():
            v = col[row]
            if v is None or (isinstance(v, float | np.floating) and v != v):
                out[c] = None
            elif c == "area_ha":
                out[c] = round(float(v), 2)
            else:
                out[c] = str(v)
        return out

    return Target(
        svc.snap.id,
        str(svc.snap.manifest.get("created") or ""),
        svc.scorer.site_id,
        lambda q: svc.run(q) if q.is_default else svc.scorer.run(q),
        describe,
        svc.row_of,
    )


def rerun_soon(store: InquiryStore, svc: Service) -> threading.Thread:
    """Re-run every inquiry on ``svc``'s snapshot in a daemon thread (never blocks serving)."""

    def work() -> None:
        if not store.db.path.exists():
            return  # no state database yet: no inquiry to re-run (and none is created here)
        try:
            result = store.run_all(target_of(svc))
            if result["inquiries"]:
                log.info(
                    "inquiries re-run on snapshot %(snapshot)s: %(recorded)s of %(inquiries)s "
                    "recorded in %(seconds)s s",
                    result,
                )
        except (OSError, sqlite3.Error) as exc:  # a read-only or full data directory: keep serving
            log.warning("could not record the inquiries' runs on snapshot %s: %s", svc.snap.id, exc)
        except Exception:
            log.exception("could not re-run the inquiries on snapshot %s", svc.snap.id)

    t = threading.Thread(target=work, daemon=True, name="nrw-sites-inquiries")
    t.start()
    return t


def _full(request: Request) -> Service:
    return request.app.state.views["full"].service


def _body(svc: Service, s: Any) -> dict[str, Any]:
    doc = s.as_json()
    doc["snapshot"] = svc.snap.id
    return doc


@staff.get("", summary="Every inquiry")
async def list_inquiries(request: Request) -> Response:
    """The inquiries (without the investor note), newest change first, each with its last run
    (snapshot, number of matches, how many sites newly matched, how many dropped out)."""
    items = await run_in_threadpool(_store(request).list)
    return _answer({"inquiries": [i.as_json(note=False) for i in items]})


@staff.post("", summary="Save an inquiry", status_code=201)
async def create_inquiry(request: Request, body: InquiryIn) -> Response:
    """Save an inquiry; its current matches on the live snapshot are recorded as its baseline."""
    svc = _full(request)
    c = clean_criteria(body.model_dump(include=set(CRITERIA_FIELDS)))
    store = _store(request)

    def work() -> Any:
        return store.create(body.name, body.note, c, _who(request), store.baseline(c, target_of(svc)))

    return _answer(_body(svc, await run_in_threadpool(work)), 201)


@staff.get("/{inquiry_id}", summary="One inquiry")
async def get_inquiry(request: Request, inquiry_id: InquiryId) -> Response:
    """The inquiry with its investor note (confidential), criteria and last run."""
    return _answer(_body(_full(request), await run_in_threadpool(_store(request).get, inquiry_id)))


@staff.patch("/{inquiry_id}", summary="Change an inquiry")
async def patch_inquiry(request: Request, inquiry_id: InquiryId, body: InquiryPatch) -> Response:
    """Rename, change the note, or give new criteria (all of them: omitted criteria fields take
    their defaults); new criteria take a new baseline on the live snapshot. With ``version``,
    409 when someone changed the inquiry since."""
    svc = _full(request)
    given = body.model_fields_set & set(CRITERIA_FIELDS)
    c: Criteria | None = clean_criteria(body.model_dump(include=given)) if given else None
    store = _store(request)

    def work() -> Any:
        base = None if c is None else store.baseline(c, target_of(svc))
        return store.update(inquiry_id, _who(request), body.version, body.name, body.note, c, base)

    return _answer(_body(svc, await run_in_threadpool(work)))


@staff.delete("/{inquiry_id}", summary="Delete an inquiry", status_code=204)
async def delete_inquiry(request: Request, inquiry_id: InquiryId, version: VersionParam = None) -> Response:
    """Delete the inquiry, its runs and its feed token."""
    await run_in_threadpool(_store(request).delete, inquiry_id, version)
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


def _since(request: Request, since: str | None) -> Any:
    if since is None:
        return None
    when = parse_since(since)
    if when is not None:
        return when
    if not re.match(SNAPSHOT_ID, since):
        raise InvalidParameter("since takes a snapshot id or an ISO date (YYYY-MM-DD)")
    try:
        created = Store(request.app.state.settings.data).manifest(since)["created"]
    except (NotFound, FileNotFoundError, OSError):
        raise NotFound("no snapshot with this id") from None
    found = parse_since(str(created)[:19])
    if found is None:
        raise NotFound("no snapshot with this id")
    return found


@staff.get("/{inquiry_id}/matches", summary="What newly matches an inquiry, per snapshot")
async def inquiry_matches(
    request: Request,
    inquiry_id: InquiryId,
    since: Annotated[
        str | None,
        Query(max_length=64, description="a snapshot id (runs on later snapshots) or an ISO date"),
    ] = None,
) -> Response:
    """The inquiry's runs on snapshots published after ``since`` (newest first): per run the
    matches, the sites that newly match and those that no longer do with the reason (``removed``
    from the data, excluded by a ``filter``, ``below_min_score``, ``out_of_top_n``);
    ``new_sites`` are those that newly matched since then and still match."""
    when = _since(request, since)
    store = _store(request)
    inquiry = await run_in_threadpool(store.get, inquiry_id)
    runs = await run_in_threadpool(store.runs, inquiry_id, when)
    latest = set(runs[0]["sites"]) if runs else set()
    new_sites = sorted({n["site_id"] for r in runs for n in r["new"]} & latest)
    return _answer(
        {
            "id": inquiry.id,
            "name": inquiry.name,
            "since": since,
            "new_sites": new_sites,
            "runs": runs,
        }
    )


@staff.post("/{inquiry_id}/feed-token", summary="Make a feed token", status_code=201)
async def create_feed_token(request: Request, inquiry_id: InquiryId) -> Response:
    """A new feed token for the inquiry's Atom feed (shown only now; the previous one stops
    working). It opens this feed and nothing else, and dies with the staff key that made it."""
    key_id = _key_id(request)
    token = await run_in_threadpool(_store(request).new_feed_token, inquiry_id, key_id, _who(request))
    path = f"/api/inquiries/{inquiry_id}/feed.atom?token={urllib.parse.quote(token)}"
    return _answer({"token": token, "feed": _base(request) + path}, 201)


@staff.delete("/{inquiry_id}/feed-token", summary="Revoke the feed token", status_code=204)
async def revoke_feed_token(request: Request, inquiry_id: InquiryId) -> Response:
    """The feed token stops working at once."""
    await run_in_threadpool(_store(request).revoke_feed_token, inquiry_id)
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


def _key_id(request: Request) -> str | None:
    session = session_of(request) if SESSION_COOKIE in request.cookies else None
    if session is not None:
        return session.key_id
    name = getattr(request.state, "key_name", None)
    return next((k.key_id for k in request.app.state.keys.list() if k.name == name), None)


def _base(request: Request) -> str:
    public = request.app.state.settings.public_url
    return public.rstrip("/") if public else str(request.base_url).rstrip("/")


def _feed_allowed(request: Request, inquiry_id: str, token: str | None) -> None:
    if token is None:
        if role_of(request) == "public":
            raise Unauthorized("this feed needs its feed token (?token=) or a staff key")
        return
    ok, key_id = _store(request).feed_token_key(inquiry_id, token)
    if not ok or (key_id is not None and request.app.state.keys.get(key_id) is None):
        raise Unauthorized("the feed token is not valid")


@feeds.get(
    "/{inquiry_id}/feed.atom",
    summary="An inquiry's Atom feed of new sites",
    response_class=Response,
    responses={200: {"content": {"application/atom+xml": {}}}},
)
async def inquiry_feed(
    request: Request,
    inquiry_id: InquiryId,
    token: Annotated[str | None, Query(max_length=100, description="the inquiry's feed token")] = None,
) -> Response:
    """One entry per run that found new sites ("3 new sites for …"), newest first, each linking
    to the sites on the web map. A feed token (``POST …/feed-token``) or a staff key."""
    store = _store(request)

    def work() -> bytes:
        _feed_allowed(request, inquiry_id, token)
        return atom(store.get(inquiry_id), store.runs(inquiry_id), _base(request))

    body = await run_in_threadpool(work)
    return Response(body, media_type="application/atom+xml", headers={"Cache-Control": "no-store"})


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    e = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        e.text = text
    return e


def atom(inquiry: Any, runs: list[dict[str, Any]], base: str) -> bytes:
    """The Atom document (RFC 4287) of an inquiry's runs that found new sites."""
    ET.register_namespace("", ATOM)
    params = urllib.parse.urlencode(inquiry.criteria.ranking_params())
    feed = ET.Element(f"{{{ATOM}}}feed")
    _sub(feed, "id", f"urn:nrw-sites:inquiry:{inquiry.id}")
    _sub(feed, "title", f"NRW Site Finder: {inquiry.name}")
    entries = [r for r in runs if r["new"]][:FEED_ENTRIES]
    _sub(feed, "updated", _rfc3339(entries[0]["ran"] if entries else inquiry.updated))
    _sub(_sub(feed, "author"), "name", "NRW Site Finder")
    _sub(feed, "link", href=f"{base}/?{params}", rel="alternate", type="text/html")
    for r in entries:
        n = len(r["new"])
        e = _sub(feed, "entry")
        _sub(e, "id", f"urn:nrw-sites:inquiry:{inquiry.id}:{r['criteria_version']}:{r['snapshot']}")
        _sub(e, "title", f"{n} new site{'s' if n != 1 else ''} for {inquiry.name}")
        _sub(e, "updated", _rfc3339(r["ran"]))
        first = urllib.parse.quote(str(r["new"][0]["site_id"]))
        _sub(e, "link", href=f"{base}/?{params}&sel={first}", rel="alternate", type="text/html")
        lines = []
        for s in r["new"]:
            href = f"{base}/?{params}&sel={urllib.parse.quote(str(s['site_id']))}"
            label = " · ".join(
                str(x)
                for x in (
                    s.get("name") or s["site_id"],
                    s.get("municipality"),
                    f"{s['area_ha']} ha" if s.get("area_ha") is not None else None,
                    f"score {s['score']}" if s.get("score") is not None else None,
                    f"rank {s['rank']}" if s.get("rank") else None,
                )
                if x
            )
            lines.append(f'<li><a href="{_esc(href)}">{_esc(label)}</a></li>')
        gone = f"<p>{len(r['gone'])} no longer match.</p>" if r["gone"] else ""
        _sub(
            e, "content", f"<p>Snapshot {_esc(r['snapshot'])}</p><ul>{''.join(lines)}</ul>{gone}", type="html"
        )
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(
        feed, encoding="utf-8", xml_declaration=False
    )


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _rfc3339(text: str) -> str:
    return text.replace("+00:00", "Z")


router = APIRouter()
router.include_router(staff)
router.include_router(feeds)
