"""A site's surroundings for the detail panel (issue 21): the nearest industrial installations
with their excess heat, the Natura 2000 areas and floodplains it overlaps, and the nearest
substation, each with the source and licence of its layer.

``GET /api/sites/{site_id}/context``. The facts come from the snapshot's layers through
``geo.neighbours.nearest_k`` and ``geo.constraints.covering_names``; a missing layer gives a null
block. A non-public site is unknown to the public, as for ``/api/sites/{id}/score``.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from fastapi import APIRouter, Depends
from starlette.responses import Response

from api.dependencies import ServiceDep, known_params, provenance
from api.models import SiteContextResponse
from api.routes_features import JSON, JSONBytes
from api.service import Service
from geo.constraints import covering_names
from geo.errors import NotFound
from geo.neighbours import nearest_k

router = APIRouter(prefix="/api", tags=["Scoring"])

N_INSTALLATIONS = 3
NATURA_FIELDS = {"codes": "site_code", "site_types": "site_type"}
CONTEXT_LAYERS = ("industrial_heat", "natura2000", "floodplains", "substations")
EXAMPLE = {
    "site_id": "bf-BF-010591",
    "industrial_heat": {
        "installations": [
            {
                "name": "Ardagh Glass GmbH",
                "company": "Ardagh Glass GmbH",
                "sector": "Glass",
                "excess_heat_gwh": 34.03,
                "distance_km": 4.2,
            }
        ],
        "source": {"layer": "industrial_heat", "licence": "CC BY 4.0"},
    },
    "protected_areas": {
        "areas": [{"name": "Lippeaue", "codes": ["DE4314301"], "site_types": ["B"], "share": 0.12}],
        "source": {"layer": "natura2000"},
    },
    "floodplains": {
        "areas": [{"name": "Lippe", "statuses": ["festgesetzt"], "share": 0.3}],
        "source": {"layer": "floodplains"},
    },
    "substation": {
        "name": "Umspannwerk Hamm",
        "voltage_kv": 110,
        "operator": None,
        "distance_km": 2.7,
        "source": {"layer": "substations"},
    },
}


def _str(v: Any) -> str | None:
    """A text cell as str, or None for null/NaN/blank."""
    if v is None or (isinstance(v, float) and v != v):
        return None
    s = str(v).strip()
    return s or None


def _num(v: Any, digits: int = 3) -> float | None:
    """A number cell rounded, or None for null/NaN."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else round(f, digits)


def _source(svc: Service, layer: str) -> dict[str, Any] | None:
    """The layer's source, licence and attribution as every answer carries them."""
    return next((a for a in svc.attribution() if a["layer"] == layer), None)


def _layer(svc: Service, name: str) -> gpd.GeoDataFrame | None:
    gdf = svc.snap.layers.get(name)
    return gdf if gdf is not None and len(gdf) else None


def industrial_heat(svc: Service, geom: shapely.Geometry) -> dict[str, Any] | None:
    """The nearest installations (distance from the site's edge), nearest first."""
    if "industrial_heat" not in svc.snap.layers:
        return None
    gdf = svc.snap.layers["industrial_heat"]
    idx, km = nearest_k(np.array([geom], dtype=object), gdf, N_INSTALLATIONS)
    rows = []
    for i, d in zip(idx[0].tolist(), km[0].tolist(), strict=True):
        if i < 0:
            continue
        r = gdf.iloc[i]
        rows.append(
            {
                "name": _str(r.get("name")) or _str(r.get("company")),
                "company": _str(r.get("company")),
                "sector": _str(r.get("sector")),
                "excess_heat_gwh": _num(r.get("excess_heat_gwh"), 2),
                "distance_km": round(d, 3),
            }
        )
    return {"installations": rows, "source": _source(svc, "industrial_heat")}


def overlapped(
    svc: Service, geom: shapely.Geometry, layer: str, fields: dict[str, str]
) -> dict[str, Any] | None:
    """The named areas of ``layer`` the site overlaps, largest overlap first (as
    ``covering_names`` orders them), each with its ``share`` of the site's area and the distinct
    values of ``fields`` (output key → layer column) of its polygons.
    """
    if layer not in svc.snap.layers:
        return None
    gdf = svc.snap.layers[layer]
    names = covering_names(np.array([geom], dtype=object), gdf, "name")[0]
    areas: list[dict[str, Any]] = []
    if names:
        hit = gdf.iloc[shapely.STRtree(gdf.geometry.values).query(geom, predicate="intersects")]
        site_area = float(shapely.area(geom)) or 1.0
        for name in names:
            part = hit[hit["name"].astype(object) == name]
            overlap = float(shapely.area(shapely.intersection(part.geometry.values, geom)).sum())
            entry: dict[str, Any] = {"name": name}
            for key, col in fields.items():
                vals = [_str(v) for v in part[col].tolist()] if col in part.columns else []
                entry[key] = sorted({v for v in vals if v})
            entry["share"] = round(min(1.0, overlap / site_area), 4)
            areas.append(entry)
    return {"areas": areas, "source": _source(svc, layer)}


def substation(svc: Service, geom: shapely.Geometry) -> dict[str, Any] | None:
    """The nearest substation (distance from the site's edge) with its voltage."""
    gdf = _layer(svc, "substations")
    if gdf is None:
        return None
    idx, km = nearest_k(np.array([geom], dtype=object), gdf, 1)
    r = gdf.iloc[int(idx[0, 0])]
    kv = _num(r.get("voltage_kv"), 0)
    return {
        "name": _str(r.get("name")),
        "voltage_kv": None if kv is None else int(kv),
        "operator": _str(r.get("operator")),
        "distance_km": round(float(km[0, 0]), 3),
        "source": _source(svc, "substations"),
    }


def site_context(svc: Service, site_id: str) -> dict[str, Any]:
    """The context of one stored site (NotFound for an id the caller's view does not hold)."""
    row = svc.row_of.get(site_id)
    if row is None:
        raise NotFound("no site with this id")
    geom = svc.sites.geometry.values[row]
    return {
        "site_id": site_id,
        "industrial_heat": industrial_heat(svc, geom),
        "protected_areas": overlapped(
            svc, geom, "natura2000", {"codes": "site_code", "site_types": "site_type"}
        ),
        "floodplains": overlapped(svc, geom, "floodplains", {"statuses": "status"}),
        "substation": substation(svc, geom),
    }


@router.get(
    "/sites/{site_id}/context",
    response_class=JSONBytes,
    summary="One site's surroundings",
    dependencies=[Depends(known_params())],
    responses={
        200: {"model": SiteContextResponse, "content": {JSON: {"example": EXAMPLE}}},
        404: {"description": "unknown site id"},
    },
)
def site_context_route(site_id: str, svc: ServiceDep) -> Response:
    """The nearest three industrial installations (Hotmaps: sector, excess heat in GWh/a; 0 where
    Hotmaps made no estimate), the Natura 2000 areas and floodplains the site overlaps (largest
    overlap first, with the share of the site) and the nearest substation with its voltage;
    distances in km from the site's edge. Each block names its layer's source and licence; a
    block is null where the snapshot has no such layer.
    """
    out = site_context(svc, site_id)
    return JSONBytes({**out, **provenance(svc, list(CONTEXT_LAYERS))})
