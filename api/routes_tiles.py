"""Map data for the web UI over HTTP: the snapshot's PMTiles archive and the coverage overlays.

- ``GET /api/tiles``: where the live snapshot's archive is, its layers, zooms, bounds, attribution.
- ``GET|HEAD /api/tiles/{snapshot}.pmtiles``: the archive with HTTP range requests (RFC 9110
  §14): one range → 206 with ``Content-Range``; several → coalesced, then one 206 part or
  ``multipart/byteranges``; none satisfiable, malformed, or too many → 416 (problem+json with
  ``Content-Range: bytes */size``, which the pmtiles JS client reads); other units → the whole
  file. ``ETag`` (the archive's SHA-256), ``If-None-Match`` → 304, ``If-Range``, ``If-Match``
  → 412. Only the live snapshot is served: an older one may hold sites since made non-public.
- ``GET /api/coverage``: the fibre and 5G overlays (image URL and its four WGS84 corners for a
  MapLibre ``image`` source, or the ``municipalities`` tile property that carries a municipal or
  Kreis statistic), legend, resolution and attribution.
- ``GET /api/coverage/{snapshot}/{layer}.png`` (immutable) and ``GET /api/coverage/{layer}.png``
  (the live snapshot's, revalidated).

URLs that name the snapshot never change content: ``Cache-Control: public, max-age=31536000,
immutable``. Those that follow the live snapshot are revalidated with their ETag. Error details
are fixed texts: nothing from the request is repeated.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from api.caching import IMMUTABLE, REVALIDATE, matches_strong, matches_weak
from api.dependencies import ServiceDep, known_params, provenance
from api.errors import PROBLEM_JSON
from api.routes_features import JSON, JSONBytes
from api.service import Service
from geo.errors import NotFound
from layers.tiles_spec import PROMOTE_ID

router = APIRouter(prefix="/api", tags=["Map data"])

PMTILES = "application/vnd.pmtiles"
PNG = "image/png"
MAX_RANGES = 16  # after coalescing; more is refused as RFC 9110 allows (a DoS pattern)
MAX_RANGE_ITEMS = 200  # items in the header before coalescing
COALESCE_GAP = 80  # ranges closer than this are served as one part
CHUNK = 256 * 1024
TITLES = {"fibre": "Fibre (FTTH/B ≥ 1 Gbit/s): share", "mobile_5g": "5G coverage: share"}
NO_TILES = "no map tiles for this snapshot; see /api/tiles for the live one"
_RANGE_ITEM = re.compile(r"[ \t]*(\d{0,19})[ \t]*-[ \t]*(\d{0,19})[ \t]*")
_PNG_NAME = re.compile(r"[a-z0-9_]{1,40}")


class RangeNotSatisfiable(Exception):
    """The Range header is malformed, asks for too many parts, or for none within the file."""


# -- range and condition parsing -------------------------------------------------------------
def parse_ranges(value: str, size: int) -> list[tuple[int, int]] | None:
    """Parse a ``Range`` header into sorted, coalesced half-open ``(start, end)`` byte ranges.

    Returns None for a range unit other than ``bytes`` (the header is then ignored); raises
    ``RangeNotSatisfiable`` for a malformed byte range set, too many ranges or none that
    overlaps the file.
    """
    unit, eq, spec = value.partition("=")
    if not eq or unit.strip().lower() != "bytes":
        return None
    items = spec.split(",")
    if len(items) > MAX_RANGE_ITEMS:
        raise RangeNotSatisfiable
    ranges: list[tuple[int, int]] = []
    for item in items:
        if not item.strip():
            continue  # empty list elements are allowed (RFC 9110 §5.6.1)
        m = _RANGE_ITEM.fullmatch(item)
        if m is None or (m[1] == "" and m[2] == ""):
            raise RangeNotSatisfiable
        if m[1] == "":  # suffix range: the last n bytes
            n = int(m[2])
            if n > 0 and size > 0:
                ranges.append((max(0, size - n), size))
            continue
        first = int(m[1])
        if m[2] != "" and int(m[2]) < first:
            raise RangeNotSatisfiable
        if first >= size:
            continue  # unsatisfiable on its own; others may still be served
        last = size - 1 if m[2] == "" else min(int(m[2]), size - 1)
        ranges.append((first, last + 1))
    if not ranges:
        raise RangeNotSatisfiable
    ranges.sort()
    merged = [ranges[0]]
    for start, end in ranges[1:]:
        if start <= merged[-1][1] + COALESCE_GAP:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    if len(merged) > MAX_RANGES:
        raise RangeNotSatisfiable
    return merged


def _problem(
    status: int, title: str, detail: str, kind: str, headers: dict[str, str] | None = None
) -> Response:
    body = json.dumps(
        {"type": f"urn:nrw-sites:problem:{kind}", "title": title, "status": status, "detail": detail},
        ensure_ascii=False,
    ).encode()
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


# -- the response ---------------------------------------------------------------------------
class FileRangesResponse(Response):
    """Send a file, one byte range of it, or several as ``multipart/byteranges``, streaming."""

    def __init__(
        self,
        path: Path,
        size: int,
        ranges: list[tuple[int, int]] | None,
        headers: dict[str, str],
        media_type: str,
    ):
        self.path = path
        self.segments: list[tuple[bytes, int, int]] = []
        self.trailer = b""
        if ranges is None:
            status, self.segments = 200, [(b"", 0, size)]
        elif len(ranges) == 1:
            status = 206
            start, end = ranges[0]
            self.segments = [(b"", start, end)]
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        else:
            status = 206
            boundary = secrets.token_hex(12)
            for i, (start, end) in enumerate(ranges):
                head = ("\r\n" if i else "") + (
                    f"--{boundary}\r\nContent-Type: {media_type}\r\n"
                    f"Content-Range: bytes {start}-{end - 1}/{size}\r\n\r\n"
                )
                self.segments.append((head.encode("latin-1"), start, end))
            self.trailer = f"\r\n--{boundary}--\r\n".encode("latin-1")
            media_type = f"multipart/byteranges; boundary={boundary}"
        length = sum(len(h) + e - s for h, s, e in self.segments) + len(self.trailer)
        headers["Content-Length"] = str(length)
        super().__init__(None, status_code=status, headers=headers, media_type=media_type)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the headers, then the parts read with ``os.pread``."""
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        if scope.get("method") == "HEAD":
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        fd = os.open(self.path, os.O_RDONLY)
        try:
            for head, start, end in self.segments:
                if head:
                    await send({"type": "http.response.body", "body": head, "more_body": True})
                pos = start
                while pos < end:
                    n = min(CHUNK, end - pos)
                    if end - start <= CHUNK:  # a tile or a directory: from the page cache
                        chunk = os.pread(fd, n, pos)
                    else:
                        chunk = await anyio.to_thread.run_sync(os.pread, fd, n, pos)
                    if not chunk:
                        raise RuntimeError(f"{self.path.name} is shorter than its manifest says")
                    pos += len(chunk)
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": self.trailer, "more_body": False})
        finally:
            os.close(fd)


def _tiles_entry(svc: Service, snapshot: str | None = None) -> tuple[Path, dict[str, Any]]:
    """The archive of the live snapshot (``snapshot`` must name it) and its manifest entry."""
    if snapshot is not None and snapshot != svc.snap.id:
        raise NotFound(NO_TILES)
    info = svc.snap.manifest.get("tiles")
    if not info or not info.get("file"):
        raise NotFound("the live snapshot has no map tiles; rebuild it with `nrw-sites build`")
    return svc.snap.path / info["file"], info


def _etag(sha: str) -> str:
    return f'"{sha[:40]}"'


@router.get(
    "/tiles",
    response_class=JSONBytes,
    summary="The map's vector tiles",
    dependencies=[Depends(known_params())],
    responses={
        200: {
            "content": {
                JSON: {
                    "example": {
                        "snapshot": "20250101T000000Z",
                        "synthetic": True,
                        "url": "http://127.0.0.1:8000/api/tiles/20250101T000000Z.pmtiles",
                        "minzoom": 5,
                        "maxzoom": 14,
                        "bounds": [5.87, 50.32, 9.46, 52.53],
                        "layers": {"site_points": {"minzoom": 5, "maxzoom": 9, "geometry": "Point"}},
                        "promote_id": PROMOTE_ID,
                    }
                }
            }
        },
        304: {"description": "not modified"},
        404: {"description": "the live snapshot has no map tiles"},
    },
)
def tiles_info(request: Request, svc: ServiceDep) -> Response:
    """The live snapshot's PMTiles archive: URL (``pmtiles://`` + url in MapLibre), zooms,
    bounds, center, the layers with their zooms and properties, and the attribution.
    """
    path, info = _tiles_entry(svc)
    keep = (
        "minzoom",
        "maxzoom",
        "bounds",
        "center",
        "layers",
        "promote_id",
        "size",
        "sha256",
        "tiles_per_zoom",
        "attribution",
    )
    doc = {
        "url": f"{_base(request)}/tiles/{svc.snap.id}.pmtiles",
        **{k: info[k] for k in keep if k in info},
        **provenance(svc),
    }
    return _json_revalidated(doc)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/api"


def _json_revalidated(doc: dict[str, Any]) -> Response:
    """Follows the live snapshot: revalidated with the ETag api/caching.py gives it."""
    return JSONBytes(doc, headers={"Cache-Control": REVALIDATE})


def _archive(request: Request, svc: Service, snapshot: str) -> Response:
    path, info = _tiles_entry(svc, snapshot)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise NotFound(NO_TILES) from None
    etag = _etag(info["sha256"])
    headers = {
        "ETag": etag,
        "Cache-Control": IMMUTABLE,
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
    }
    h = request.headers
    if "if-match" in h and not matches_strong(h["if-match"], etag):
        return _problem(
            412, "Precondition Failed", "the archive does not match If-Match", "precondition-failed", headers
        )
    if "if-none-match" in h and matches_weak(h["if-none-match"], etag):
        return Response(status_code=304, headers=headers)
    ranges = None
    if "range" in h and ("if-range" not in h or h["if-range"].strip() == etag):
        try:
            ranges = parse_ranges(h["range"], size)
        except RangeNotSatisfiable:
            return _problem(
                416,
                "Range Not Satisfiable",
                f"the Range header asks for no satisfiable byte range of this "
                f"{size}-byte file, is malformed, or asks for more than "
                f"{MAX_RANGES} separate ranges",
                "range-not-satisfiable",
                {**headers, "Content-Range": f"bytes */{size}"},
            )
    return FileRangesResponse(path, size, ranges, headers, PMTILES)


ARCHIVE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the whole archive",
        "content": {PMTILES: {"schema": {"type": "string", "format": "binary"}}},
    },
    206: {"description": "the requested byte range(s)"},
    304: {"description": "not modified (If-None-Match)"},
    404: {"description": "not the live snapshot, or it has no map tiles"},
    412: {"description": "If-Match does not match"},
    416: {"description": "malformed or unsatisfiable Range"},
}


@router.get(
    "/tiles/{snapshot}.pmtiles",
    summary="The map's PMTiles archive (range requests)",
    response_class=Response,
    dependencies=[Depends(known_params())],
    responses=ARCHIVE_RESPONSES,
)
def archive(request: Request, snapshot: str, svc: ServiceDep) -> Response:
    """The snapshot's vector tiles as one PMTiles v3 archive (MVT, gzip), read with HTTP
    range requests, e.g. by the pmtiles JS client: ``Range: bytes=0-16383`` → 206.

    Layers: ``site_points`` (z5–9), ``sites`` (z10–14), ``municipalities``,
    ``municipality_labels``, ``kreise``, ``kreis_labels``, ``hydrogen``, ``lep_sites``
    (z5–14); see ``/api/tiles``. Immutable: cached for a year, with a strong ETag.
    """
    return _archive(request, svc, snapshot)


@router.head("/tiles/{snapshot}.pmtiles", include_in_schema=False, dependencies=[Depends(known_params())])
def archive_head(request: Request, snapshot: str, svc: ServiceDep) -> Response:
    """The headers of ``GET /api/tiles/{snapshot}.pmtiles``."""
    return _archive(request, svc, snapshot)


# -- coverage overlays ----------------------------------------------------------------------
def _overlays(svc: Service) -> dict[str, Any]:
    return svc.snap.manifest.get("coverage_overlays") or {}


@router.get(
    "/coverage",
    response_class=JSONBytes,
    summary="Fibre and 5G map overlays",
    dependencies=[Depends(known_params())],
    responses={
        200: {
            "content": {
                JSON: {
                    "example": {
                        "snapshot": "20250101T000000Z",
                        "synthetic": True,
                        "layers": [
                            {
                                "id": "fibre",
                                "kind": "image",
                                "url": "http://127.0.0.1:8000/api/coverage/20250101T000000Z/fibre.png",
                                "coordinates": [[5.76, 52.54], [9.47, 52.54], [9.47, 50.30], [5.76, 50.30]],
                                "resolution": "grid_100m",
                                "pixel_m": 300,
                                "legend": {
                                    "breaks": [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
                                    "colors": ["#440154", "…", "#fde725"],
                                    "opacity": 0.7,
                                },
                            },
                            {
                                "id": "mobile_5g",
                                "kind": "tile_property",
                                "tiles": "http://127.0.0.1:8000/api/tiles/20250101T000000Z.pmtiles",
                                "source_layer": "municipalities",
                                "property": "mobile_5g_share",
                                "resolution": "kreis",
                            },
                        ],
                    }
                }
            }
        },
        304: {"description": "not modified"},
    },
)
def coverage(request: Request, svc: ServiceDep) -> Response:
    """The coverage layers of the live snapshot and how to draw them.

    ``kind: "image"``: a PNG (``url``) for a MapLibre ``image`` source with its four corners
    ``coordinates`` (top-left, top-right, bottom-right, bottom-left; lon/lat), resampled from
    the 100 m grid to ``pixel_m``; no data is transparent. ``kind: "tile_property"``: a
    municipal or Kreis statistic, carried as ``property`` on the ``source_layer`` features of
    the archive at ``tiles`` (missing where the unit has no value). ``legend``: ten viridis
    classes ``[breaks[i], breaks[i+1])`` with their colours and opacity.
    """
    base = _base(request)
    meta = svc.snap.manifest.get("layers", {})
    out = []
    for name, o in _overlays(svc).items():
        doc: dict[str, Any] = {
            "id": name,
            "title": TITLES.get(name, name),
            "kind": o["kind"],
            "resolution": o.get("resolution"),
            "legend": o.get("legend"),
        }
        if o["kind"] == "image":
            doc.update(
                url=f"{base}/coverage/{svc.snap.id}/{name}.png",
                coordinates=o["coordinates"],
                width=o.get("width"),
                height=o.get("height"),
                pixel_m=o.get("pixel_m"),
            )
        else:
            doc.update(
                tiles=f"{base}/tiles/{svc.snap.id}.pmtiles",
                source_layer=o.get("source_layer"),
                property=o.get("property"),
            )
        m = meta.get(name, {})
        doc.update(
            attribution=m.get("attribution"),
            licence=m.get("licence"),
            date=m.get("date"),
            synthetic=bool(m.get("synthetic", False)),
        )
        out.append(doc)
    return _json_revalidated({**provenance(svc, list(_overlays(svc))), "layers": out})


def _png(request: Request, svc: Service, layer: str, cache: str) -> Response:
    o = _overlays(svc).get(layer) if _PNG_NAME.fullmatch(layer) else None
    if not o or o.get("kind") != "image":
        raise NotFound("no coverage image with this name; see /api/coverage")
    path = svc.snap.path / o["file"]
    etag = _etag(o["sha256"])
    headers = {"ETag": etag, "Cache-Control": cache, "X-Content-Type-Options": "nosniff"}
    if matches_weak(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=headers)
    try:
        body = path.read_bytes()
    except FileNotFoundError:
        raise NotFound("no coverage image with this name; see /api/coverage") from None
    return Response(body, media_type=PNG, headers=headers)


PNG_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "the overlay", "content": {PNG: {"schema": {"type": "string", "format": "binary"}}}},
    304: {"description": "not modified"},
    404: {"description": "no such coverage image (or not the live snapshot)"},
}


@router.get(
    "/coverage/{snapshot}/{layer}.png",
    summary="A coverage overlay (immutable URL)",
    response_class=Response,
    dependencies=[Depends(known_params())],
    responses=PNG_RESPONSES,
)
def coverage_png_of(request: Request, snapshot: str, layer: str, svc: ServiceDep) -> Response:
    """A coverage overlay PNG of the live snapshot, at a URL that names the snapshot."""
    if snapshot != svc.snap.id:
        raise NotFound("no coverage image for this snapshot; see /api/coverage")
    return _png(request, svc, layer, IMMUTABLE)


@router.get(
    "/coverage/{layer}.png",
    summary="A coverage overlay of the live snapshot",
    response_class=Response,
    dependencies=[Depends(known_params())],
    responses=PNG_RESPONSES,
)
def coverage_png(request: Request, layer: str, svc: ServiceDep) -> Response:
    """The live snapshot's overlay PNG (``fibre``, ``mobile_5g``); revalidated with its ETag,
    since it changes with the live snapshot (``/api/coverage`` lists the immutable URLs).
    """
    return _png(request, svc, layer, REVALIDATE)
