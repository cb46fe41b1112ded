"""Scoring endpoints: profiles, ranking (with rank stability), one site's score, ad-hoc scores."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from api.dependencies import (
    FILTER_PARAMS,
    WEIGHT_PARAMS,
    RankingQueryDep,
    ScoreQueryDep,
    ServiceDep,
    SettingsDep,
    SiteQueryDep,
    known_params,
    provenance,
)
from api.errors import problem
from api.geojson import read_polygon, to_work_crs
from api.models import AdhocScoreResponse, ProfilesResponse, RankingResponse, SiteScoreResponse
from api.routes_features import JSON, JSONBytes
from api.service import Service
from api.traffic import cpu_bound
from geo.areas import MAX_OWN_AREA_HA, oversized, too_large_text
from geo.criteria import CRITERIA, CRITERIA_ORDER, DEFAULT_PROFILE, PROFILES
from geo.errors import InvalidGeometry
from geo.query import RankingQuery

router = APIRouter(prefix="/api", tags=["Scoring"])
ACCEPTED_TYPES = ("application/geo+json", "application/json")

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
        # each criterion's value function with this profile's parameters (geo/values.py)
        "functions": {
            c: CRITERIA[c].function.with_params(p.params.get(c, {})).model_dump() for c in CRITERIA_ORDER
        },
    }


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
                    "description_de": c.description_de or None,
                    "indicators": list(c.indicators),
                    "indicator_specs": [i.model_dump() for i in c.indicator_specs],
                    "group": c.group,
                    "layer": c.layer,
                    "function": c.function.model_dump(),
                    "measure": c.measure.model_dump() if c.measure is not None else None,
                    "weight_parameter": f"w_{c.name}",
                }
                for c in (CRITERIA[n] for n in CRITERIA_ORDER)
            ],
            **provenance(svc),
        }
    )


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
def ranking(svc: ServiceDep, query: RankingQueryDep, breakdown: BreakdownParam = True) -> Response:
    """Rank the stored sites: ``score = 100 · Σ wᵢ·vᵢ / Σ wᵢ``, with hard filters and a
    breakdown per site; ``w_<criterion>`` overrides a profile weight, ``stability=N`` adds the
    probability of staying in the top N under weight noise (``draws``, ``spread``, ``seed``),
    ``h2_year`` sets the hydrogen horizon, ``breakdown=false`` leaves the breakdown out.
    """

    def extra() -> dict[str, Any]:
        prov = provenance(svc)
        return {"licence": prov["licence"], "attribution": prov["attribution"]}

    return JSONBytes(svc.ranking_bytes(query, breakdown, extra))


@router.get(
    "/sites/{site_id}/score",
    response_class=JSONBytes,
    summary="One site's score",
    dependencies=[Depends(known_params("profile", "h2_year", "stability", *WEIGHT_PARAMS, *FILTER_PARAMS))],
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
def site_score(site_id: str, svc: ServiceDep, query: SiteQueryDep) -> Response:
    """One stored site's score, rank among the sites that pass the hard filters (the same
    filter parameters as ``/api/ranking``; none: all sites), indicators, breakdown with the
    source of every value, distance to the nearest LEP site and (``stability=N``) its rank
    stability among those sites. A site the filters exclude has rank 0 and ``excluded_by``.
    """
    out = svc.site_score(site_id, query)
    return JSONBytes({**out, **provenance(svc)})


def score_body(svc: Service, raw: bytes, max_vertices: int, query: RankingQuery) -> dict[str, Any]:
    """Check a POSTed polygon (cheap checks first), then score it against the stored layers."""
    geom = to_work_crs(read_polygon(raw, max_vertices))
    if not svc.inside_nrw(np.array([geom]))[0]:
        raise InvalidGeometry("coordinates outside North Rhine-Westphalia")
    if oversized(np.array([geom]))[0]:  # a site, not a region (geo/areas.py MAX_OWN_AREA_HA)
        raise InvalidGeometry(too_large_text(geom))
    item = svc.score_geometries(np.array([geom]), query)[0]
    return {
        **item,
        "profile": query.profile,
        "weights": query.effective_weights(),
        "h2_year": query.h2_year,
        **provenance(svc),
    }


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
                f"(422), at most {MAX_OWN_AREA_HA:,.0f} ha (422: a site, not a region). Bodies "
                "above NRW_SITES_MAX_BODY_BYTES are refused (413)."
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
async def score(request: Request, svc: ServiceDep, settings: SettingsDep, query: ScoreQueryDep) -> Response:
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
    out = await cpu_bound(score_body, svc, raw, settings.max_vertices, query)
    return JSONBytes(out)
