"""Exports over HTTP: a municipality, a Kreis or all of NRW as GeoJSON, GeoPackage, CSV or a
zipped Shapefile (DESIGN §5.3); and chosen sites (the web map's shortlist) the same way.

``/api/exports/municipalities/{ags}.{format}``, ``/api/exports/kreise/{key}.{format}`` and
``/api/exports/nrw.{format}`` with ``profile=``, ``available_by=YYYY-MM`` (sites it excludes
stay in the file after the ranked ones, naming the filter), ``crs=`` (default EPSG:25832; GeoJSON is always
RFC 7946 WGS84) and ``lang=de|en`` (default de). The files are built per request from the live
snapshot in the caller's view (api/exports.py, api/formats.py).
``/api/exports/sites.{format}?ids=…`` exports up to 500 named sites, scored with the ``profile``,
``w_<criterion>`` weights and ``h2_year`` given.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.caching import request_etag
from api.dependencies import WEIGHT_PARAMS, ProfileParam, ScoreQueryDep, ServiceDep, known_params
from api.exports import export_area, export_selection, valid_key
from api.formats import FORMATS, MEDIA_TYPES
from api.service import Service
from geo.areas import AreaKind
from geo.crs import OUTPUT_CRS
from geo.filters import FILTERS, Filters

router = APIRouter(prefix="/api/exports", tags=["Exports"])
AvailableByParam = Annotated[
    str | None,
    Query(
        pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
        description=FILTERS["available_by"].description
        + " Excluded sites stay in the file, after the ranked ones.",
        examples=["2027-06"],
    ),
]

CrsParam = Annotated[
    str | None,
    Query(
        description="CRS of the coordinates: EPSG:25832 (default), EPSG:4326, EPSG:4258, EPSG:3035 "
        "or OGC:CRS84, as a CURIE or an OGC URI. GeoJSON is always RFC 7946 (WGS84).",
        examples=["EPSG:25832"],
    ),
]
LangParam = Annotated[
    Literal["de", "en"] | None,
    Query(
        description="Language of CSV headers and value labels, GeoPackage titles and the QGIS "
        "legend: de (default) or en. Field names stay the same ASCII names."
    ),
]
DESCRIPTIONS = {
    "geojson": "RFC 7946 FeatureCollection (WGS84, counter-clockwise outer rings, 7 decimals, "
    "no crs member), flat properties, and the top-level members name, attribution, "
    "licence(s), generated, snapshot, profile, synthetic, sources.",
    "gpkg": "GeoPackage 1.2: layers sites, regional_plan, brownfields, lep_sites, hydrogen and "
    "municipalities, a QGIS style per layer (layer_styles), column titles "
    "(gpkg_data_columns) and metadata (gpkg_metadata).",
    "csv": "CSV for Excel: UTF-8 with BOM, semicolon, decimal comma, labelled headers, the "
    "centroid as Rechtswert/Hochwert (EPSG:25832) and longitude/latitude.",
    "shp.zip": "Zipped Shapefiles sites and boundary (.shp .shx .dbf .prj .cpg UTF-8), "
    "fields.csv mapping the 10-character field names, LIESMICH.txt with licences.",
}
CRS_URIS = ", ".join(c.uri for c in OUTPUT_CRS)
EXAMPLES = {
    "geojson": {
        "type": "FeatureCollection",
        "name": "Gelsenkirchen",
        "ags": "05513000",
        "profile": "balanced",
        "snapshot": "20250101T000000Z",
        "synthetic": True,
        "generated": "2025-01-01T00:00:00+00:00",
        "licence": "dl-de/zero-2-0; CC0-1.0",
        "licences": [{"licence": "dl-de/zero-2-0", "url": "https://www.govdata.de/dl-de/zero-2-0"}],
        "attribution": [
            {
                "layer": "municipalities",
                "attribution": "© Land NRW (Geobasis NRW)",
                "licence": "dl-de/zero-2-0",
                "licence_url": "https://www.govdata.de/dl-de/zero-2-0",
            }
        ],
        "features": [
            {
                "type": "Feature",
                "id": "bf-BF-000123",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[7.05, 51.5], [7.06, 51.5], [7.06, 51.51], [7.05, 51.5]]],
                },
                "properties": {
                    "site_id": "bf-BF-000123",
                    "ags": "05513000",
                    "score": 71.2,
                    "rank": 1,
                    "rank_nrw": 88,
                    "crosses_boundary": False,
                    "v_h2": 0.9,
                    "pts_h2": 12.9,
                },
            }
        ],
    },
    "csv": "Standort-ID;Name;Art;…;Punktzahl (0–100);…;Rechtswert (EPSG:25832);Hochwert "
    "(EPSG:25832)\r\nbf-BF-000123;Brache Gelsenkirchen;Brachfläche;…;71,2;…;"
    "364512,25;5712345,5\r\n",
    "gpkg": "(a GeoPackage 1.2 file)",
    "shp.zip": "(a zip: sites.shp .shx .dbf .prj .cpg, municipalities.*, fields.csv, LIESMICH.txt)",
}


def _disposition(name: str, fmt: str) -> str:
    return f'{"inline" if fmt == "geojson" else "attachment"}; filename="{name}"'


def _file(
    request: Request, svc: Service, fmt: str, body: bytes, name: str, media: str, crs_uri: str
) -> Response:
    """An export file as the answer: its name (inline for GeoJSON) and its CRS in the headers,
    and a weak ETag (the file names the time it was made; it is the same file otherwise).
    """
    headers = {
        "Content-Disposition": _disposition(name, fmt),
        "Content-Crs": f"<{crs_uri}>",
        "ETag": request_etag(request, svc.snap.id, svc.view),
    }
    return Response(body, media_type=media, headers=headers)


def _route(kind: AreaKind, fmt: str) -> Callable[..., Awaitable[Response]]:
    async def respond(
        request: Request,
        svc: ServiceDep,
        key: str | None,
        profile: str | None,
        crs: str | None,
        lang: str | None,
        available_by: str | None,
    ) -> Response:
        if key is not None:
            valid_key(kind, key)
        filters = Filters(available_by=available_by)
        made = await run_in_threadpool(export_area, svc, kind, key, fmt, profile, crs, lang, filters)
        return _file(request, svc, fmt, *made)

    if kind == "nrw":

        async def state(
            request: Request,
            svc: ServiceDep,
            available_by: AvailableByParam = None,
            profile: ProfileParam = None,
            crs: CrsParam = None,
            lang: LangParam = None,
        ) -> Response:
            return await respond(request, svc, None, profile, crs, lang, available_by)

        return state

    if kind == "kreis":

        async def kreis(
            request: Request,
            kreis: str,
            svc: ServiceDep,
            available_by: AvailableByParam = None,
            profile: ProfileParam = None,
            crs: CrsParam = None,
            lang: LangParam = None,
        ) -> Response:
            return await respond(request, svc, kreis, profile, crs, lang, available_by)

        return kreis

    async def municipality(
        request: Request,
        ags: str,
        svc: ServiceDep,
        available_by: AvailableByParam = None,
        profile: ProfileParam = None,
        crs: CrsParam = None,
        lang: LangParam = None,
    ) -> Response:
        return await respond(request, svc, ags, profile, crs, lang, available_by)

    return municipality


PATHS: dict[AreaKind, tuple[str, str]] = {
    "municipality": ("/municipalities/{ags}.", "municipality (8-digit AGS)"),
    "kreis": ("/kreise/{kreis}.", "Kreis (5-digit key)"),
    "nrw": ("/nrw.", "all of North Rhine-Westphalia"),
}
for _kind, (_prefix, _what) in PATHS.items():
    for _fmt in FORMATS:
        router.add_api_route(
            f"{_prefix}{_fmt}",
            _route(_kind, _fmt),
            methods=["GET"],
            response_class=Response,
            name=f"export_{_kind}_{_fmt.replace('.', '_')}",
            summary=f"Sites of a {_what} ({_fmt})",
            description=f"The sites intersecting the {_what}: {DESCRIPTIONS[_fmt]} Sites "
            "crossing the area's boundary are included and flagged "
            "crosses_boundary. CRSs: " + CRS_URIS + ".",
            dependencies=[Depends(known_params("profile", "crs", "lang", "available_by"))],
            responses={
                200: {
                    "content": {MEDIA_TYPES[_fmt]: {"example": EXAMPLES[_fmt]}},
                    "description": DESCRIPTIONS[_fmt],
                },
                400: {"description": "bad profile, crs or lang"},
                404: {"description": "unknown municipality or Kreis key"},
            },
        )


IdsParam = Annotated[
    str,
    Query(
        max_length=40_000,
        description="the site ids to export, separated by commas (at most 500)",
        examples=["bf-BF-000123,rp-RP-000042"],
    ),
]
NameParam = Annotated[
    str | None,
    Query(max_length=120, description="the selection's name (title and file name), e.g. the shortlist's"),
]


def _selection_route(fmt: str) -> Callable[..., Awaitable[Response]]:
    async def selection(
        request: Request,
        ids: IdsParam,
        svc: ServiceDep,
        q: ScoreQueryDep,
        name: NameParam = None,
        crs: CrsParam = None,
        lang: LangParam = None,
    ) -> Response:
        wanted = [i.strip() for i in ids.split(",") if i.strip()]
        title = " ".join((name or "").split()) or ("Merkliste" if (lang or "de") == "de" else "Shortlist")
        made = await run_in_threadpool(export_selection, svc, wanted, fmt, q, title, crs, lang)
        return _file(request, svc, fmt, *made)

    return selection


for _fmt in FORMATS:
    router.add_api_route(
        f"/sites.{_fmt}",
        _selection_route(_fmt),
        methods=["GET"],
        response_class=Response,
        name=f"export_selection_{_fmt.replace('.', '_')}",
        summary=f"Chosen sites, e.g. a shortlist ({_fmt})",
        description=f"The sites named by ids, scored with the profile, weights (w_<criterion>) and "
        f"horizon given: {DESCRIPTIONS[_fmt]} The boundary layer holds the municipalities they "
        "lie in. CRSs: " + CRS_URIS + ".",
        dependencies=[
            Depends(known_params("ids", "name", "profile", "h2_year", "crs", "lang", *WEIGHT_PARAMS))
        ],
        responses={
            200: {"content": {MEDIA_TYPES[_fmt]: {"example": EXAMPLES[_fmt]}}},
            400: {"description": "no ids or too many, bad profile, weight, crs or lang"},
            404: {"description": "an unknown site id"},
        },
    )
