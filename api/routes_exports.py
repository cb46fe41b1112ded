"""Municipality exports over HTTP: one municipality's sites as an RFC 7946 FeatureCollection."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.dependencies import ProfileParam, ServiceDep, known_params
from api.exports import municipality_geojson
from api.routes_features import GEOJSON, GeoJSONResponse
from geo.errors import NotFound

router = APIRouter(prefix="/api/exports", tags=["Exports"])

EXAMPLE = {
    "type": "FeatureCollection", "name": "Gelsenkirchen", "ags": "05513000",
    "profile": "balanced", "snapshot": "20250101T000000Z", "synthetic": True,
    "generated": "2025-01-01T00:00:00+00:00", "licence": "CC0-1.0 (generated demo data)",
    "attribution": [{"layer": "brownfields", "attribution": "…", "licence": "…"}],
    "features": [{"type": "Feature", "id": "bf-BF-000123", "geometry": {
        "type": "Polygon", "coordinates": [[[7.05, 51.5], [7.06, 51.5], [7.06, 51.51],
                                            [7.05, 51.5]]]},
        "properties": {"site_id": "bf-BF-000123", "score": 71.2, "rank": 1, "rank_nrw": 88,
                       "breakdown": {"h2": {"v": 0.9, "weight": 1.0, "points": 12.9}}}}]}


@router.get("/municipalities/{ags}.geojson", response_class=GeoJSONResponse,
            summary="A municipality's sites (GeoJSON)",
            dependencies=[Depends(known_params("profile"))],
            responses={200: {"description": "RFC 7946 FeatureCollection: WGS84, counter-"
                                            "clockwise outer rings, ≤ 7 decimals, no crs member.",
                             "content": {GEOJSON: {"example": EXAMPLE}}},
                       404: {"description": "unknown municipality key"}})
async def municipality(ags: str, svc: ServiceDep, profile: ProfileParam = None) -> Response:
    """The ranked sites of one municipality (8-digit AGS) with indicators, score, rank within
    the municipality (``rank_nrw``: among all sites) and breakdown, and top-level ``name``,
    ``attribution``, ``licence``, ``generated``, ``snapshot``, ``profile``, ``synthetic``.
    """
    if not re.fullmatch(r"\d{8}", ags):
        raise NotFound("no municipality with this AGS (8 digits, e.g. 05513000)")
    body = await run_in_threadpool(municipality_geojson, svc, ags, profile)
    return GeoJSONResponse(body, headers={
        "Content-Disposition": f'inline; filename="{ags}.geojson"'})
