"""Typed query parsing: service access, unknown-parameter checks, bbox, paging, weights, filters.

Every bound is enforced here (limits, weights, list lengths) and every failure raises a domain
error, which api/errors.py maps to 400 problem+json. Client strings are validated before they
reach geo/, so no message repeats them. The dependencies only parse, so they are ``async``: a
plain ``def`` would cost each request a hop to the thread pool and back (bench: one item by
id over HTTP took 1.56 ms p50 with the hops, 0.78 ms without, with the other changes of issue 20 §4).
"""

from __future__ import annotations

import datetime as dt
import inspect
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np
import shapely
from fastapi import Depends, Query, Request

from api.auth import RoleDep, role_of, view_of
from api.geojson import Collection
from api.service import Service
from api.settings import Settings
from geo.criteria import CRITERIA, CRITERIA_ORDER, DEFAULT_PROFILE, PROFILES
from geo.crs import CRS84_OUT, OUTPUT_CRS, OutputCrs, output_crs, transformer
from geo.errors import InvalidParameter, NotFound
from geo.filters import FILTER_NAMES, FILTERS, Filters, FilterSpec
from geo.query import H2_YEARS, MAX_SEED, RankingQuery

MAX_LIMIT = 10_000
MAX_WEIGHT = 1e6  # finite sums: 11 criteria × 1e6 × v stay far from overflow
WEIGHT_PARAMS = tuple(f"w_{c}" for c in CRITERIA_ORDER)
FILTER_PARAMS = FILTER_NAMES  # the hard filters of geo/filters.py, one query parameter each
# parameters that take one value (a second one would silently win or lose: refused instead)
SCALAR_PARAMS = frozenset(
    {
        "limit",
        "offset",
        "bbox",
        "datetime",
        "f",
        "profile",
        "stability",
        "draws",
        "spread",
        "seed",
        "h2_year",
        "breakdown",
        "activate",
        *(s.name for s in FILTERS.values() if not s.is_list),
        *(f"w_{c}" for c in CRITERIA_ORDER),
    }
)
# valid-type: the profile names are data (geo/profiles.py), so the Literal is built at run time
ProfileName = Literal[tuple(PROFILES)]  # type: ignore[valid-type]


# -- application state ---------------------------------------------------------------------
def get_view(request: Request) -> Any:
    """The caller's view of the live snapshot (api/views.py): public, or full for staff/admin."""
    cached = getattr(request.state, "view", None)
    if cached is not None:  # one request sees one snapshot, even across a reload
        return cached
    views = getattr(request.app.state, "views", None)
    if views is None:  # an app state set up by hand (tests, tools): one view for everyone
        return None
    request.state.view = views[view_of(role_of(request))]
    return request.state.view


async def get_service(request: Request, role: RoleDep) -> Service:
    """The Service of the live snapshot in the caller's view, loaded once at start-up."""
    view = get_view(request)
    return request.app.state.service if view is None else view.service


async def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    return request.app.state.settings


def get_collections(request: Request) -> dict[str, Collection]:
    """The pre-serialised OGC collections of the caller's view."""
    view = get_view(request)
    return request.app.state.collections if view is None else view.collections


ServiceDep = Annotated[Service, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_collection(cid: str, request: Request) -> Collection:
    """The collection named in the path, or NotFound."""
    coll = get_collections(request).get(cid)
    if coll is None:
        raise NotFound("no collection with this id; see /api/collections")
    return coll


CollectionDep = Annotated[Collection, Depends(get_collection)]


def provenance(svc: Service, layers: list[str] | None = None) -> dict[str, Any]:
    """Snapshot id, synthetic flag, licence and attribution that travel with every answer."""
    attribution = [a for a in svc.attribution() if layers is None or a["layer"] in layers]
    licences = sorted({str(a["licence"]) for a in attribution if a.get("licence")})
    return {
        "snapshot": svc.snap.id,
        "synthetic": svc.synthetic,
        "licence": "; ".join(licences),
        "attribution": attribution,
    }


# -- unknown parameters --------------------------------------------------------------------
def reject_unknown(request: Request, allowed: set[str] | frozenset[str]) -> None:
    """Raise InvalidParameter for any query parameter not in ``allowed`` (OGC API requires 400)."""
    unknown = [k for k in request.query_params if k not in allowed]
    if unknown:  # the client's names are not repeated; the accepted ones are listed instead
        accepted = ", ".join(sorted(allowed)) or "none"
        raise InvalidParameter(f"unknown query parameter; this path accepts: {accepted}")
    for name in SCALAR_PARAMS & allowed:  # one value each (lists: comma-separated or repeated)
        if len(request.query_params.getlist(name)) > 1:
            raise InvalidParameter(f"query parameter {name!r} is given more than once")


def known_params(*names: str) -> Callable[[Request], Awaitable[None]]:
    """A dependency that allows only the given query parameters."""
    allowed = frozenset(names)

    async def check(request: Request) -> None:
        reject_unknown(request, allowed)

    return check


# -- paging and bbox -----------------------------------------------------------------------
async def limit_param(
    settings: SettingsDep,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="Most items to return (1–10,000).", examples=[100])
    ] = 100,
) -> int:
    """The page size, within the configured maximum."""
    if limit > settings.max_limit:
        raise InvalidParameter(f"limit must be between 1 and {settings.max_limit}")
    return limit


LimitDep = Annotated[int, Depends(limit_param)]


async def items_limit(
    settings: SettingsDep,
    limit: Annotated[
        int,
        Query(
            ge=1,
            le=1_000_000_000,
            description="Most items to return; values above the maximum (10,000) are capped to "
            "it: numberReturned and the next link say how many came.",
            examples=[1000],
        ),
    ] = 100,
) -> int:
    """The page size of OGC items: above the maximum, the maximum (GIS clients ask for more)."""
    return min(limit, settings.max_limit)


ItemsLimitDep = Annotated[int, Depends(items_limit)]
OffsetParam = Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip.", examples=[0])]


_NUMBER = re.compile(r"-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")  # as the OpenAPI pattern


async def bbox_param(
    bbox: Annotated[
        str | None,
        Query(
            description="minLon,minLat,maxLon,maxLat in WGS84 (CRS84); features intersecting it.",
            examples=["6.7,51.1,7.1,51.3"],
        ),
    ] = None,
) -> tuple[float, float, float, float] | None:
    """``bbox`` (4 or 6 numbers, WGS84) as (minx, miny, maxx, maxy)."""
    return parse_bbox(bbox)


def parse_bbox(bbox: str | None) -> tuple[float, float, float, float] | None:
    """Parse ``bbox`` (4 or 6 numbers, WGS84) into (minx, miny, maxx, maxy)."""
    if bbox is None:
        return None
    msg = "bbox must be 4 (or 6) comma-separated numbers: minLon,minLat,maxLon,maxLat in WGS84"
    parts = bbox.split(",")
    if len(parts) not in (4, 6) or not all(_NUMBER.fullmatch(p) for p in parts):
        raise InvalidParameter(msg)
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        raise InvalidParameter(msg) from None
    if not all(math.isfinite(v) for v in vals):
        raise InvalidParameter(msg)
    x0, y0, x1, y1 = (vals[0], vals[1], vals[3], vals[4]) if len(vals) == 6 else vals
    if not (-180 <= x0 <= 180 and -180 <= x1 <= 180 and -90 <= y0 <= 90 and -90 <= y1 <= 90):
        raise InvalidParameter("bbox is outside the WGS84 range (longitude ±180, latitude ±90)")
    if y0 > y1:
        raise InvalidParameter("bbox minLat is greater than maxLat")
    return x0, y0, x1, y1  # minLon > maxLon is a box crossing the antimeridian (OGC)


BBoxDep = Annotated[tuple[float, float, float, float] | None, Depends(bbox_param)]


@dataclass(frozen=True)
class BBoxFilter:
    """A bbox as the collections select by: WGS84 (lon/lat) or a polygon in EPSG:25832."""

    wgs84: tuple[float, float, float, float] | None = None
    area: shapely.Geometry | None = None


async def bbox_filter(
    bbox: Annotated[
        str | None,
        Query(
            description="minx,miny,maxx,maxy (or 6 numbers with heights) in bbox-crs, in that CRS's "
            "axis order (CRS84: lon,lat; EPSG:4326 and 4258: lat,lon; EPSG:3035: "
            "northing,easting; EPSG:25832: easting,northing); features intersecting it.",
            examples=["6.7,51.1,7.1,51.3"],
        ),
    ] = None,
    bbox_crs: Annotated[
        str | None,
        Query(
            alias="bbox-crs",
            description="CRS of bbox (OGC API – Features Part 2); default CRS84.",
            examples=["http://www.opengis.net/def/crs/EPSG/0/25832"],
        ),
    ] = None,
) -> BBoxFilter:
    """Parse ``bbox`` in ``bbox-crs`` (Part 2) into what Collection.select takes."""
    crs = output_crs(bbox_crs)
    if bbox is None:
        return BBoxFilter()
    if crs.uri == CRS84_OUT.uri:
        return BBoxFilter(wgs84=parse_bbox(bbox))
    msg = (
        f"bbox must be 4 (or 6) comma-separated numbers in {crs.curie}, in its axis order "
        "(minimum of axis 1, minimum of axis 2, maximum of axis 1, maximum of axis 2)"
    )
    parts = bbox.split(",")
    if len(parts) not in (4, 6) or not all(_NUMBER.fullmatch(p) for p in parts):
        raise InvalidParameter(msg)
    vals = [float(p) for p in parts]
    if not all(math.isfinite(v) for v in vals):
        raise InvalidParameter(msg)
    a0, b0, a1, b1 = (vals[0], vals[1], vals[3], vals[4]) if len(vals) == 6 else vals
    x0, y0, x1, y1 = (b0, a0, b1, a1) if crs.swap_axes else (a0, b0, a1, b1)
    if crs.epsg == 4326:  # latitude first: the CRS84 box
        return BBoxFilter(wgs84=parse_bbox(f"{x0},{y0},{x1},{y1}"))
    if x0 > x1 or y0 > y1:
        raise InvalidParameter("bbox minimum is greater than its maximum")
    box = shapely.box(x0, y0, x1, y1)
    if crs.epsg != 25832:  # curved in EPSG:25832: densify the edges, then transform
        box = shapely.segmentize(box, max(x1 - x0, y1 - y0, 1e-9) / 64)
        box = shapely.transform(
            box, lambda xy: np.column_stack(transformer(crs.epsg, 25832).transform(xy[:, 0], xy[:, 1]))
        )
        if not shapely.is_valid(box) or not np.isfinite(shapely.get_coordinates(box)).all():
            raise InvalidParameter(f"bbox is outside the area of {crs.curie}")
    return BBoxFilter(area=box)


BBoxFilterDep = Annotated[BBoxFilter, Depends(bbox_filter)]


async def crs_param(
    crs: Annotated[
        str | None,
        Query(
            description="CRS of the coordinates (OGC API – Features Part 2): "
            + ", ".join(c.uri for c in OUTPUT_CRS)
            + " (or EPSG:25832 etc.); default "
            "CRS84. The answer names it in the Content-Crs header.",
            examples=["http://www.opengis.net/def/crs/EPSG/0/25832"],
        ),
    ] = None,
) -> OutputCrs:
    """The CRS features are answered in."""
    return output_crs(crs)


CrsDep = Annotated[OutputCrs, Depends(crs_param)]

_RFC3339 = re.compile(r"^(\.\.|\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?)?$")


async def datetime_param(
    datetime: Annotated[
        str | None,
        Query(
            description="RFC 3339 instant or interval (OGC API Features Core). No collection has a "
            "temporal property, so a valid value does not restrict the result.",
            examples=["2025-01-01T00:00:00Z/.."],
        ),
    ] = None,
) -> None:
    """Validate ``datetime`` (an instant or an interval ``start/end`` with ``..`` open ends)."""
    if datetime is None:
        return
    parts = datetime.split("/")
    msg = "datetime must be an RFC 3339 date-time or an interval start/end"
    if len(parts) > 2 or not all(_RFC3339.match(p) for p in parts) or parts == ["..", ".."]:
        raise InvalidParameter(msg)
    for p in parts:
        if p not in ("", ".."):
            try:  # the pattern checks the shape; this checks the calendar (no month 13)
                dt.datetime.fromisoformat(p.replace("Z", "+00:00"))
            except ValueError:
                raise InvalidParameter(msg) from None


# -- profile, weights, filters -------------------------------------------------------------
ProfileParam = Annotated[
    ProfileName | None,  # type: ignore[valid-type]  # (see ProfileName)
    Query(
        description=f"Scoring profile (default {DEFAULT_PROFILE}); see /api/profiles.",
        examples=[DEFAULT_PROFILE],
    ),
]


def _weights_dependency() -> Callable[..., Awaitable[dict[str, float]]]:
    """Build a dependency with one documented ``w_<criterion>`` query parameter per criterion."""

    async def weights(**kw: float | None) -> dict[str, float]:
        return {k[2:]: v for k, v in kw.items() if v is not None}

    params = [
        inspect.Parameter(
            f"w_{c}",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=float | None,
            default=Query(
                None,
                ge=0,
                le=MAX_WEIGHT,
                description=f"Weight of {c} ({CRITERIA[c].label_en}); "
                "overrides the profile's weight. 0–1,000,000; not all zero.",
                examples=[2.0],
            ),
        )
        for c in CRITERIA_ORDER
    ]
    # attr-defined: FastAPI reads the parameters from __signature__, which functions lack in typeshed
    weights.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    weights.__doc__ = "Weights from w_<criterion> query parameters (only those given)."
    return weights


WeightsDep = Annotated[dict[str, float], Depends(_weights_dependency())]


def _filters_dependency() -> Callable[..., Awaitable[Filters]]:
    """Build a dependency with one documented query parameter per filter of geo/filters.py."""

    async def filters(**kw: Any) -> Filters:
        return Filters(**kw)  # checks lists (choices, patterns, at most 500 values)

    def query(spec: FilterSpec) -> Any:
        extra: dict[str, Any] = {"examples": [spec.example]} if spec.example is not None else {}
        if spec.is_list:
            return Query(None, description=spec.description, **extra)
        if spec.month:
            return Query(None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description=spec.description, **extra)
        return Query(None, ge=0, le=spec.upper, description=spec.description, **extra)

    params = [
        inspect.Parameter(
            s.name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=list[str] | None if s.is_list else str | None if s.month else float | None,
            default=query(s),
        )
        for s in FILTERS.values()
    ]
    # attr-defined: FastAPI reads the parameters from __signature__ (see _weights_dependency)
    filters.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    filters.__doc__ = "Hard filters of the ranking (DESIGN §3.3) from query parameters."
    return filters


FiltersDep = Annotated[Filters, Depends(_filters_dependency())]

# -- the ranking query ---------------------------------------------------------------------
H2YearParam = Annotated[
    int | None,
    Query(
        ge=H2_YEARS[0],
        le=H2_YEARS[1],
        description="Hydrogen horizon year: only Kernnetz segments in service by "
        "then count (default: the profile's horizon).",
        examples=[2028],
    ),
]
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
SeedParam = Annotated[int, Query(ge=0, le=MAX_SEED, description="Random seed (stability).")]


async def ranking_query(
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
) -> RankingQuery:
    """The ranking asked for by ``GET /api/ranking`` (geo/query.py), checked once here."""
    return RankingQuery.of(profile, weights, filters, h2_year, stability, draws, spread, seed, limit, offset)


async def site_query(
    weights: WeightsDep,
    filters: FiltersDep,
    profile: ProfileParam = None,
    h2_year: H2YearParam = None,
    stability: StabilityParam = None,
) -> RankingQuery:
    """The ranking one stored site's score is placed in: the same weights and hard filters as
    ``GET /api/ranking`` (every filter of geo/filters.py), so its rank and rank stability are
    those among the sites the list shows.
    """
    return RankingQuery.of(profile, weights, filters, h2_year=h2_year, stability_top=stability)


async def score_query(
    weights: WeightsDep, profile: ProfileParam = None, h2_year: H2YearParam = None
) -> RankingQuery:
    """The weights and horizon an ad-hoc polygon is scored with."""
    return RankingQuery.of(profile, weights, h2_year=h2_year)


RankingQueryDep = Annotated[RankingQuery, Depends(ranking_query)]
SiteQueryDep = Annotated[RankingQuery, Depends(site_query)]
ScoreQueryDep = Annotated[RankingQuery, Depends(score_query)]
