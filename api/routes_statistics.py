"""``GET /api/statistics/reserves`` (issue 19 §3, DESIGN §5.4): the Flächenbilanz per
municipality, Kreis, Regierungsbezirk (``district``) or the state, as JSON, CSV or XLSX, and the
sites behind any unit's figure.

Computed by geo/reserves.py from the sites of a snapshot (default: the live one) in the caller's
view (the public sees public sites only; staff and admin every site, answered ``Cache-Control:
private`` by api/caching.py ``HttpCaching``), cached per snapshot and view (layers/reserves.py).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api import statistics
from api.auth import Role, RoleDep, view_of
from api.dependencies import ServiceDep, SettingsDep, known_params
from api.errors import PROBLEM_JSON
from api.routes_features import JSONBytes
from geo.reserves import FIGURES, LISTABLE
from layers.reserves import Balance, balance
from layers.store import Store

router = APIRouter(prefix="/api/statistics", tags=["Statistics"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"

LevelName = Literal["municipality", "kreis", "district", "state"]
LevelParam = Annotated[
    LevelName | None,
    Query(
        description="municipality (8-digit AGS, every municipality of NRW, zeros where there is "
        "no site), kreis (5-digit key), district (Regierungsbezirk, 3 digits: 051 Düsseldorf, "
        "053 Köln, 055 Münster, 057 Detmold, 059 Arnsberg) or state (05); default municipality",
    ),
]
SnapshotParam = Annotated[
    str | None,
    Query(
        description="the snapshot (default: the live one); take-up is measured against its predecessor",
        examples=["20250101T000000Z"],
    ),
]
LangParam = Annotated[
    Literal["de", "en"] | None, Query(description="language of headers and sheet names: de (default) or en")
]
FigureName = Literal[LISTABLE]  # type: ignore[valid-type]  # built from geo/reserves.py at import


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _problem("a bad or unknown query parameter (the detail names it)"),
    404: _problem("unknown snapshot"),
}
FIGURE_LIST = ", ".join(f"`{f.name}` ({f.description})" for f in FIGURES)
EXAMPLE_UNIT = {
    "key": "05562",
    "name": "Recklinghausen",
    **{f.name: (3 if f.kind == "count" else 0.25 if f.kind == "share" else 12.5) for f in FIGURES},
}


DESCRIPTION = (
    "Per unit (`units`: `key`, `name` and every figure; a choropleth joins on `key`) and for the "
    "state (`state`): "
    + FIGURE_LIST
    + ". Areas are hectares (`area_ha` of the sites), to the square metre. The municipalities add "
    "up to the Kreise, those to the districts and those to the state; sites without a valid AGS "
    "count in the state and in `unassigned`. Take-up compares the snapshot with its predecessor "
    "(`previous_snapshot`, `years`); without one it is null and `note` says why. `figures` "
    "describes each figure; `/api/statistics/reserves/sites` lists the sites behind any additive "
    "one. The public sees public sites only."
)


async def _balance(settings: Any, svc: Any, role: Role, snapshot: str | None, request: Request) -> Balance:
    """The balance of ``snapshot`` (default: the one served) in the caller's view; the served
    snapshot's sites come from memory (its full view: take-up needs every site)."""
    views = getattr(request.app.state, "views", None)
    live = views["full"].service.snap if views else None
    return await run_in_threadpool(
        balance, Store(settings.data), snapshot or svc.snap.id, view_of(role), live
    )


def _file(body: bytes, media: str, name: str) -> Response:
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get(
    "/reserves",
    response_class=JSONBytes,
    summary="Reserves per municipality, Kreis, district or the state (Flächenbilanz)",
    description=DESCRIPTION,
    dependencies=[Depends(known_params("level", "snapshot"))],
    responses={
        **ERRORS,
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "level": "kreis",
                        "snapshot": "20250101T000000Z",
                        "previous_snapshot": None,
                        "years": None,
                        "view": "public",
                        "synthetic": True,
                        "note": "the snapshot has no predecessor: take-up is null",
                        "units": [EXAMPLE_UNIT],
                        "state": {**EXAMPLE_UNIT, "key": "05", "name": "Nordrhein-Westfalen"},
                        "unassigned": None,
                    }
                }
            }
        },
    },
)
async def reserves(
    request: Request,
    settings: SettingsDep,
    svc: ServiceDep,
    role: RoleDep,
    level: LevelParam = None,
    snapshot: SnapshotParam = None,
) -> Response:
    """The reserves of one level (default municipality); see the description."""
    b = await _balance(settings, svc, role, snapshot, request)
    return JSONBytes(statistics.document(b, level or "municipality"))


@router.get(
    "/reserves.csv",
    response_class=Response,
    summary="Reserves of one level as CSV for Excel",
    dependencies=[Depends(known_params("level", "snapshot", "lang"))],
    responses={**ERRORS, 200: {"content": {CSV: {"schema": {"type": "string"}}}}},
)
async def reserves_csv(
    request: Request,
    settings: SettingsDep,
    svc: ServiceDep,
    role: RoleDep,
    level: LevelParam = None,
    snapshot: SnapshotParam = None,
    lang: LangParam = None,
) -> Response:
    """One level (default municipality) as CSV: UTF-8 with BOM, ``;``, decimal comma, labelled
    headers, one row per unit; the data notice (SYNTHETIC for the demo), snapshot, view and
    licences on every row."""
    b = await _balance(settings, svc, role, snapshot, request)
    lv = level or "municipality"
    body = await run_in_threadpool(statistics.csv_bytes, b, lv, lang or "de")
    return _file(body, CSV, f"flaechenbilanz-{lv}-{b.snapshot}.csv")


@router.get(
    "/reserves.xlsx",
    response_class=Response,
    summary="Reserves as an Excel workbook",
    dependencies=[Depends(known_params("level", "snapshot", "lang"))],
    responses={**ERRORS, 200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}},
)
async def reserves_xlsx(
    request: Request,
    settings: SettingsDep,
    svc: ServiceDep,
    role: RoleDep,
    level: LevelParam = None,
    snapshot: SnapshotParam = None,
    lang: LangParam = None,
) -> Response:
    """One sheet per level (all four without ``level``: Gemeinden, Kreise, Regierungsbezirke,
    Land), each with a title row (SYNTHETIC for the demo), a frozen header and number formats; and
    a sheet ``Quellen`` with the snapshot, the licences and attribution of every layer and what
    each figure is."""
    b = await _balance(settings, svc, role, snapshot, request)
    from api.statistics_xlsx import xlsx_bytes  # openpyxl on first use

    body = await run_in_threadpool(xlsx_bytes, b, level, lang or "de")
    return _file(body, XLSX, f"flaechenbilanz-{level or 'alle'}-{b.snapshot}.xlsx")


@router.get(
    "/reserves/sites",
    response_class=JSONBytes,
    summary="The sites behind one unit's figure",
    dependencies=[Depends(known_params("level", "unit", "figure", "snapshot"))],
    responses={
        **ERRORS,
        404: _problem("unknown snapshot, or no unit with this key at this level"),
    },
)
async def reserves_sites(
    request: Request,
    settings: SettingsDep,
    svc: ServiceDep,
    role: RoleDep,
    unit: Annotated[str, Query(max_length=8, description="the unit's key at this level, e.g. 05562")],
    level: LevelParam = None,
    figure: Annotated[
        FigureName | None,
        Query(
            description="an additive figure (default reserve_ha); the ratios brownfield_share and "
            "takeup_ha_per_year are listed by brownfield_ha and takeup_ha"
        ),
    ] = None,
    snapshot: SnapshotParam = None,
) -> Response:
    """The sites one unit's figure adds up: ``area_ha`` (their areas' sum; for counts, ``count``)
    equals the figure in ``value``. ``takeup_ha`` lists the predecessor's sites that are gone."""
    b = await _balance(settings, svc, role, snapshot, request)
    return JSONBytes(
        await run_in_threadpool(
            statistics.site_list, b, level or "municipality", unit, figure or "reserve_ha"
        )
    )
