"""Compact data for the web UI: the site table, the per-criterion values and the UI settings.

The browser fetches the table once and the values once per (profile, horizon year), then
re-ranks 50,000 sites itself with the formula and tie-break of geo/scoring.py. Both are fixed for a
snapshot: they carry an ETag and answer ``If-None-Match`` with 304.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from api.caching import GZIP_MIN_BYTES, PRIVATE, REVALIDATE
from api.dependencies import H2YearParam, ProfileParam, ServiceDep, SettingsDep, known_params
from api.models import SitesTable, UIConfig
from api.routes_features import JSON, JSONBytes
from api.service import Service
from geo.criteria import CRITERIA_ORDER, get_profile
from geo.query import with_horizon
from maps import bands

router = APIRouter(prefix="/api", tags=["Web UI data"])
OCTETS = "application/octet-stream"


def _cached(request: Request, svc: Service, etag: str, body: bytes, media_type: str) -> Response:
    """A response with an ETag (api/caching.py answers If-None-Match with 304). The full view
    (staff) has its own ETag and is never stored by shared caches. A client that takes gzip gets
    the body compressed once per snapshot (``Service.gzipped``), not on every request: 50,000
    sites' table takes ~0.2 s to compress (the ETag then gets ``-gzip``, api/caching.py).
    """
    if svc.view != "public":
        etag = f'{etag[:-1]}-{svc.view}"'
    headers = {"ETag": etag, "Cache-Control": REVALIDATE if svc.view == "public" else PRIVATE}
    if "gzip" in request.headers.get("accept-encoding", "") and len(body) >= GZIP_MIN_BYTES:
        body = svc.gzipped(etag, body)
        headers.update({"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return Response(body, media_type=media_type, headers=headers)


@router.get(
    "/sites/table",
    summary="Site table for the web UI",
    response_class=JSONBytes,
    dependencies=[Depends(known_params())],
    responses={200: {"model": SitesTable}, 304: {"description": "not modified"}},
)
def sites_table(request: Request, svc: ServiceDep) -> Response:
    """Per-site columns (id, name, kind, keys, area, fibre share, a point in WGS84), row i of
    every column being site i, in the row order of ``/api/sites/values``.
    """
    return _cached(request, svc, f'"{svc.snap.id}-table"', svc.table_bytes(), JSON)


@router.get(
    "/sites/values",
    summary="Criterion values for re-ranking in the browser",
    dependencies=[Depends(known_params("profile", "h2_year"))],
    responses={
        200: {
            "content": {OCTETS: {"schema": {"type": "string", "format": "binary"}}},
            "description": "float64 H2 km × n, then uint16 v·10⁴ × n × C (little-endian; 65535 = no data)",
        },
        304: {"description": "not modified"},
    },
)
def sites_values(
    request: Request, svc: ServiceDep, profile: ProfileParam = None, h2_year: H2YearParam = None
) -> Response:
    """The per-site data the browser re-ranks with, for a profile and horizon year, rows as in
    ``/api/sites/table``: first the distance in km to the nearest hydrogen segment in service by
    the horizon (little-endian float64 × n; NaN = none), then ``k`` = v · 10⁴ per site and
    criterion (little-endian uint16 × n × C, row-major, criteria in the table's order; 65535 =
    no data). ``v = k / 10⁴`` is exactly the scorer's v (4 decimals).

    ``score = 100 · Σ wᵢ·vᵢ / Σ wᵢ`` over the criteria with data, summed in criterion order,
    gives exactly the scores of ``/api/ranking``; ties go to the smaller ``site_id``.
    The response header ``X-Criteria-Count`` is C.
    """
    p = with_horizon(get_profile(profile), h2_year)
    body = svc.values_bytes(p.name, p.h2_horizon)
    resp = _cached(request, svc, f'"{svc.snap.id}-{p.name}-{p.h2_horizon}"', body, OCTETS)
    resp.headers["X-Criteria-Count"] = str(len(CRITERIA_ORDER))
    return resp


TILESET = ("minzoom", "maxzoom", "bounds")  # of the manifest's tiles entry, for the map's source


@router.get(
    "/ui/config",
    summary="Web UI settings",
    response_class=JSONBytes,
    dependencies=[Depends(known_params())],
    responses={200: {"model": UIConfig}},
)
def ui_config(svc: ServiceDep, settings: SettingsDep) -> Response:
    """The live snapshot, whether it is synthetic, the optional base map, the tiles URL and the
    score classes with their colours and labels (the same as the report maps and QGIS styles).
    """
    have_tiles = (svc.snap.path / "map.pmtiles").exists()
    info = svc.snap.manifest.get("tiles") or {}
    return JSONBytes(
        {
            "snapshot": svc.snap.id,
            "synthetic": svc.synthetic,
            "basemap": {"url": settings.basemap_url, "attribution": settings.basemap_attribution},
            "tiles": f"api/tiles/{svc.snap.id}.pmtiles" if have_tiles else None,
            "tileset": {k: info[k] for k in TILESET}
            if have_tiles and all(k in info for k in TILESET)
            else None,
            "bands": bands.served(),
        }
    )
