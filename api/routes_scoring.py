"""Scoring endpoints: profiles, ranking (with rank stability), one site's score, ad-hoc scores."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.dependencies import (
    FILTER_PARAMS,
    WEIGHT_PARAMS,
    FiltersDep,
    LimitDep,
    OffsetParam,
    ProfileParam,
    ServiceDep,
    SettingsDep,
    WeightsDep,
    known_params,
    provenance,
)
from api.errors import problem
from api.geojson import dumps, read_polygon, to_work_crs
from api.models import AdhocScoreResponse, ProfilesResponse, RankingResponse, SiteScoreResponse
from api.routes_features import JSON, JSONBytes
from api.service import Service
from geo.criteria import CRITERIA, CRITERIA_ORDER, DEFAULT_PROFILE, PROFILES, effective_weights, get_profile
from geo.errors import InvalidGeometry
from geo.scoring import Filters, with_horizon

router = APIRouter(prefix="/api", tags=["Scoring"])
ACCEPTED_TYPES = ("application/geo+json", "application/json")
RANKING_PAGES = 256  # cached pages of the profiles' own rankings per snapshot view (bounded)

RANKING_PARAMS = (
    "profile",
    "limit",
    "offset",
    "stability",
    "draws",
    "spread",
    "seed",
    "h2_year",
    "breakdown",
    *WEIGHT_PARAMS,
    *FILTER_PARAMS,
)
BREAKDOWN_EXAMPLE = {
    "h2": {
        "indicator": {"h2_distance_km": 0.87, "h2_commissioning_year": 2031},
        "v": 1.0,
        "weight": 3.0,
        "points": 33.333,
        "missing": False,
    }
}
ITEM_EXAMPLE = {
    "site_id": "bf-BF-010591",
    "name": "Brache Hamm, ehem. Industrie",
    "ags": "05915000",
    "municipality": "Hamm",
    "kreis": "Hamm",
    "kind": "brownfield",
    "area_ha": 30.99,
    "score": 97.599,
    "rank": 1,
    "planning_category": "GIB",
    "is_brownfield": True,
    "h2_distance_km": 0.87,
    "h2_commissioning_year": 2031,
    "fibre_share": 0.94,
    "mobile_5g_share": 0.96,
    "funding_region": "GRW_C",
    "missing": [],
    "breakdown": BREAKDOWN_EXAMPLE,
}
POLYGON_EXAMPLE = {
    "type": "Feature",
    "properties": {},
    "geometry": {
        "type": "Polygon",
        "coordinates": [[[7.40, 51.64], [7.4064, 51.64], [7.4064, 51.644], [7.40, 51.644], [7.40, 51.64]]],
    },
}


def _profile_doc(name: str) -> dict[str, Any]:
    p = PROFILES[name]
    return {
        "name": p.name,
        "label_en": p.label_en,
        "label_de": p.label_de,
        "description": p.description,
        "weights": p.weights,
        "parameters": {
            "area_min_ha": p.area_min_ha,
            "area_target_ha": p.area_target_ha,
            "h2_horizon": p.h2_horizon,
            "min_area_ha": p.min_area_ha,
        },
    }


H2YearParam = Annotated[
    int | None,
    Query(
        ge=2025,
        le=2050,
        description="Hydrogen horizon year: only Kernnetz segments in service by "
        "then count (default: the profile's horizon).",
        examples=[2028],
    ),
]
BreakdownParam = Annotated[
    bool, Query(description="Include the per-criterion breakdown (false: scores only, smaller and faster).")
]


@router.get(
    "/profiles",
    response_class=JSONBytes,
    summary="Profiles and criteria",
    dependencies=[Depends(known_params())],
    responses={
        200: {
            "model": ProfilesResponse,
            "content": {
                JSON: {
                    "example": {
                        "default": "balanced",
                        "profiles": [{"name": "balanced", "label_en": "Balanced", "label_de": "Ausgewogen"}],
                        "criteria": [{"name": "h2", "label_en": "Hydrogen core network"}],
                    }
                }
            },
        }
    },
)
def profiles(svc: ServiceDep) -> Response:
    """Scoring profiles (labels en/de, weights, parameters) and criteria, from the registry."""
    return JSONBytes(
        {
            "default": DEFAULT_PROFILE,
            "profiles": [_profile_doc(n) for n in PROFILES],
            "criteria": [
                {
                    "name": c.name,
                    "label_en": c.label_en,
                    "label_de": c.label_de,
                    "description": c.description,
                    "indicators": list(c.indicators),
                    "layer": c.layer,
                    "weight_parameter": f"w_{c.name}",
                }
                for c in (CRITERIA[n] for n in CRITERIA_ORDER)
            ],
            **provenance(svc),
        }
    )


StabilityParam = Annotated[
    int | None,
    Query(
        ge=1,
        le=1000,
        description="Add Monte Carlo rank stability: the probability of each site "
        "staying in the top N when weights vary by ±spread.",
        examples=[10],
    ),
]
DrawsParam = Annotated[int, Query(ge=1, le=1000, description="Monte Carlo draws (stability).")]
SpreadParam = Annotated[
    float, Query(ge=0, lt=1, description="Relative weight noise, e.g. 0.25 = ±25 % (stability).")
]
SeedParam = Annotated[int, Query(ge=0, le=2**32 - 1, description="Random seed (stability).")]


@router.get(
    "/ranking",
    response_class=JSONBytes,
    summary="Ranking of the stored sites",
    dependencies=[Depends(known_params(*RANKING_PARAMS))],
    responses={
        200: {
            "model": RankingResponse,
            "content": {
                JSON: {
                    "example": {
                        "profile": "balanced",
                        "h2_year": 2032,
                        "weights": {
                            "area": 1,
                            "planning": 1,
                            "brownfield": 1,
                            "h2": 3,
                            "fibre": 1,
                            "mobile_5g": 1,
                            "funding": 1,
                        },
                        "numberMatched": 2004,
                        "numberReturned": 1,
                        "excluded": {},
                        "synthetic": True,
                        "snapshot": "20250101T000000Z",
                        "items": [ITEM_EXAMPLE],
                    }
                }
            },
        },
        400: {"description": "bad parameter (weights, filters, unknown names)"},
    },
)
def ranking(
    svc: ServiceDep,
    weights: WeightsDep,
    filters: FiltersDep,
    limit: LimitDep,
    profile: ProfileParam = None,
    offset: OffsetParam = 0,
    stability: StabilityParam = None,
    draws: DrawsParam = 200,
    spread: SpreadParam = 0.25,
    seed: SeedParam = 0,
    h2_year: H2YearParam = None,
    breakdown: BreakdownParam = True,
) -> Response:
    """Rank the stored sites: ``score = 100 · Σ wᵢ·vᵢ / Σ wᵢ``, with hard filters and a
    breakdown per site; ``w_<criterion>`` overrides a profile weight, ``stability=N`` adds the
    probability of staying in the top N under weight noise (``draws``, ``spread``, ``seed``),
    ``h2_year`` sets the hydrogen horizon, ``breakdown=false`` leaves the breakdown out.
    """
    # the profiles' own rankings are fixed per snapshot view: their pages are kept as bytes
    plain = not weights and filters == Filters() and stability is None and h2_year is None
    key = (profile, limit, offset, breakdown)
    pages: dict[Any, bytes] = svc._ui.setdefault("ranking-pages", {})
    if plain and key in pages:
        return JSONBytes(pages[key])
    out = svc.ranking(
        profile,
        weights or None,
        filters,
        limit=limit,
        offset=offset,
        stability_top=stability,
        draws=draws,
        spread=spread,
        seed=seed,
        h2_year=h2_year,
        breakdown=breakdown,
    )
    prov = provenance(svc)
    out["licence"], out["attribution"] = prov["licence"], prov["attribution"]
    body = dumps(out)
    if plain and len(pages) < RANKING_PAGES:
        pages[key] = body
    return JSONBytes(body)


@router.get(
    "/sites/{site_id}/score",
    response_class=JSONBytes,
    summary="One site's score",
    dependencies=[Depends(known_params("profile", "h2_year", "stability", *WEIGHT_PARAMS))],
    responses={
        200: {
            "model": SiteScoreResponse,
            "content": {
                JSON: {
                    "example": {
                        **ITEM_EXAMPLE,
                        "profile": "balanced",
                        "h2_year": 2032,
                        "numberRanked": 2004,
                        "nearest_lep": "newPark Datteln/Waltrop",
                        "nearest_lep_km": 12.4,
                    }
                }
            },
        },
        404: {"description": "unknown site id"},
    },
)
def site_score(
    site_id: str,
    svc: ServiceDep,
    weights: WeightsDep,
    profile: ProfileParam = None,
    h2_year: H2YearParam = None,
    stability: StabilityParam = None,
) -> Response:
    """One stored site's score, rank among all sites, indicators, breakdown with the source of
    every value, distance to the nearest LEP site and (``stability=N``) its rank stability.
    """
    out = svc.site_score(site_id, profile, weights or None, h2_year, stability)
    return JSONBytes({**out, **provenance(svc)})


def score_body(
    svc: Service,
    raw: bytes,
    max_vertices: int,
    profile: str | None,
    weights: dict[str, float] | None,
    h2_year: int | None = None,
) -> dict[str, Any]:
    """Check a POSTed polygon (cheap checks first), then score it against the stored layers."""
    p = with_horizon(get_profile(profile), h2_year)
    w = effective_weights(p, weights)
    geom = to_work_crs(read_polygon(raw, max_vertices))
    if not svc.inside_nrw(np.array([geom]))[0]:
        raise InvalidGeometry("coordinates outside North Rhine-Westphalia")
    item = svc.score_geometries(np.array([geom]), p.name, weights, h2_year=h2_year)[0]
    return {**item, "profile": p.name, "weights": w, "h2_year": p.h2_horizon, **provenance(svc)}


@router.post(
    "/score",
    response_class=JSONBytes,
    summary="Score a polygon",
    dependencies=[Depends(known_params("profile", "h2_year", *WEIGHT_PARAMS))],
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": (
                "A GeoJSON Feature, Polygon or MultiPolygon (RFC 7946: WGS84 longitude, "
                "latitude). Checked before scoring: valid JSON (else 400), type (422), at most "
                "NRW_SITES_MAX_VERTICES vertices (413), finite numbers, closed rings, inside "
                "North Rhine-Westphalia and not swapped (422), valid rings, never repaired "
                "(422). Bodies above NRW_SITES_MAX_BODY_BYTES are refused (413)."
            ),
            "content": {
                "application/geo+json": {"schema": {"type": "object"}, "example": POLYGON_EXAMPLE},
                "application/json": {"schema": {"type": "object"}, "example": POLYGON_EXAMPLE},
            },
        }
    },
    responses={
        200: {
            "model": AdhocScoreResponse,
            "content": {
                JSON: {
                    "example": {
                        **ITEM_EXAMPLE,
                        "site_id": "adhoc-1",
                        "name": None,
                        "kind": "adhoc",
                        "rank": None,
                        "percentile": 84.5,
                        "profile": "balanced",
                    }
                }
            },
        },
        400: {"description": "not JSON, or bad parameters"},
        413: {"description": "body or vertex count too large"},
        415: {"description": "not application/geo+json or application/json"},
        422: {"description": "invalid geometry (reason given)"},
    },
)
async def score(
    request: Request,
    svc: ServiceDep,
    settings: SettingsDep,
    weights: WeightsDep,
    profile: ProfileParam = None,
    h2_year: H2YearParam = None,
) -> Response:
    """Score an ad-hoc polygon against the stored layers: indicators, score, breakdown, and its
    percentile among the stored sites under the same weights.
    """
    ctype = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if ctype not in ACCEPTED_TYPES:
        return problem(
            415,
            "send the geometry as application/geo+json or application/json",
            "urn:nrw-sites:problem:unsupported-media-type",
        )
    raw = await request.body()
    out = await run_in_threadpool(
        score_body, svc, raw, settings.max_vertices, profile, weights or None, h2_year
    )
    return JSONBytes(out)
