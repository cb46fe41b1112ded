"""Response models: the JSON of the scoring endpoints, declared so OpenAPI describes every field.

The routes keep their fast path (``geo.result.SiteResult.to_dict`` serialised with orjson into a
``Response``); these models only document the shape (``responses={200: {"model": ...}}``), and the
tests validate real responses against them with ``extra="forbid"``, so the document cannot drift
from what is sent. Indicator fields follow the criteria registry: a new criterion's indicators
appear here without an edit.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from geo.criteria import CRITERIA, CRITERIA_ORDER
from geo.filters import FILTERS
from geo.registry import REGISTRY, Indicator
from geo.result import INDICATOR_FIELDS

STRICT = ConfigDict(extra="forbid")


def _indicator_type(spec: Indicator) -> Any:
    """The JSON type of an indicator as declared (a coded one: its codes)."""
    if spec.codes:
        return Literal[tuple(spec.codes)] | None
    return {"float": float, "int": int, "str": str, "bool": bool}[spec.type] | None


INDICATOR_TYPES: dict[str, Any] = {i.name: _indicator_type(i) for i in REGISTRY.indicators()}
Scalar = float | int | str | bool | None


class SourceModel(BaseModel):
    """Where a criterion's value comes from."""

    model_config = STRICT
    layer: str = Field(description="snapshot layer or fact table", examples=["mobile_5g"])
    title: str | None = Field(description="the source", examples=["BNetzA Mobilfunk-Monitoring"])
    resolution: str | None = Field(
        description="spatial resolution and method", examples=["100 m grid (EPSG:25832), area-weighted"]
    )
    date: str | None = Field(description="as-of date of the data", examples=["2025-10-01"])
    licence: str | None = Field(examples=["dl-de/by-2-0"])
    licence_url: str | None = Field(examples=["https://www.govdata.de/dl-de/by-2-0"])
    attribution: str | None = Field(examples=["© Bundesnetzagentur"])
    synthetic: bool = Field(description="true for the generated demo data")


class CriterionEntry(BaseModel):
    """One criterion of a site's breakdown."""

    model_config = STRICT
    indicator: dict[str, Scalar] = Field(description="the indicator value(s) behind v")
    v: float | None = Field(ge=0, le=1, description="value 0–1 (null: no data)")
    weight: float = Field(ge=0)
    points: float | None = Field(
        description="100 · w · v / Σ w over criteria with data; the points of a site add up to its score"
    )
    missing: bool = Field(description="true when the criterion has no data for this site")
    source: SourceModel | None = None


class StabilityModel(BaseModel):
    """Monte Carlo rank stability of one site."""

    model_config = STRICT
    top: int = Field(description="N of 'stays in the top N'")
    probability: float = Field(ge=0, le=1)


class Attribution(BaseModel):
    """Attribution and licence of one layer of the snapshot."""

    model_config = STRICT
    layer: str
    attribution: str | None
    licence: str | None
    licence_url: str | None = Field(
        description="the licence's text (null: no known licence)",
        examples=["https://www.govdata.de/dl-de/zero-2-0"],
    )
    source: str | None
    date: str | None
    synthetic: bool


class Provenance(BaseModel):
    """What travels with every answer: snapshot, synthetic flag, licences and attribution."""

    model_config = STRICT
    snapshot: str
    synthetic: bool = Field(description="true: the embedded SYNTHETIC demo dataset")
    licence: str
    attribution: list[Attribution]


# call-overload: create_model's field types are TypeForms, which mypy does not infer from a
# runtime value like `CriterionEntry | None`; Breakdown and SiteItem are then Any to mypy.
Breakdown = create_model(  # type: ignore[call-overload]  # one field per criterion
    "Breakdown",
    __config__=STRICT,
    **{c: (CriterionEntry | None, Field(None, description=CRITERIA[c].label_en)) for c in CRITERIA_ORDER},
)

SiteItem = create_model(  # type: ignore[call-overload]  # see Breakdown
    "SiteItem",
    __config__=STRICT,
    site_id=(str, Field(examples=["rp-RP-000001"])),
    name=(str | None, ...),
    ags=(str | None, Field(pattern=r"^\d{8}$", examples=["05562008"])),
    municipality=(str | None, ...),
    kreis=(str | None, ...),
    kind=(Literal["regional_plan", "brownfield", "lep", "adhoc"], ...),
    area_ha=(float, Field(ge=0)),
    kreis_ags=(str | None, Field(None, pattern=r"^\d{5}$", examples=["05562"])),
    source_id=(str | None, Field(None, description="the area's id in its source layer")),
    plan=(str | None, Field(None, description="the regional plan of a plan area")),
    contamination=(
        str | None,
        Field(None, description="brownfields: none, suspected, confirmed, remediated, unknown"),
    ),
    former_use=(str | None, Field(None, description="brownfields: the former use")),
    restrictions=(
        list[Literal["ownership", "contamination", "access", "emission", "planning_law", "other"]] | None,
        Field(None, description="known obstacles; [] checked and none found; null not checked"),
    ),
    marketable=(
        bool | None,
        Field(None, description="restriction-free and available within a year (null for an own area)"),
    ),
    score=(float | None, Field(ge=0, le=100, description="null when excluded or no data")),
    rank=(int | None, Field(ge=1, description="among the sites that pass the filters")),
    excluded_by=(str | None, Field(None, description="the hard filter that excluded the site")),
    missing=(list[str], Field(description="criteria without data for this site")),
    stability=(StabilityModel | None, None),
    breakdown=(Breakdown | None, Field(None, description="absent with breakdown=false")),
    **{k: (INDICATOR_TYPES[k], ...) for k in INDICATOR_FIELDS},
    # staff and admin only (geo/access.py); left out of the public's OpenAPI document
    owner_contact=(str | None, Field(None, description="confidential: owner's contact")),
    asking_price_eur_m2=(
        float | None,
        Field(None, ge=0, description="confidential: asking price, EUR per m²"),
    ),
    notes=(str | None, Field(None, description="confidential: notes")),
    public=(bool | None, Field(None, description="confidential: false = not public yet")),
)


class StabilityParams(BaseModel):
    """The Monte Carlo parameters of a ranking with stability."""

    model_config = STRICT
    draws: int
    spread: float
    seed: int
    top: int


class RankingResponse(Provenance):
    """``GET /api/ranking``."""

    profile: str
    weights: dict[str, float]
    h2_year: int = Field(description="hydrogen horizon: segments in service by this year count")
    numberMatched: int = Field(description="sites that pass the filters")
    numberReturned: int
    excluded: dict[str, int] = Field(description="sites excluded per filter")
    stability: StabilityParams | None = None
    sources: dict[str, SourceModel] = Field(
        description="the source of each criterion's data, the same for every item (the items' "
        "breakdown entries leave it out; /api/sites/{id}/score has it inline)"
    )
    items: list[SiteItem]  # built from the registry


class SiteScoreResponse(SiteItem, Provenance):
    """``GET /api/sites/{site_id}/score``."""

    profile: str
    weights: dict[str, float]
    h2_year: int
    numberRanked: int
    stability_params: StabilityParams | None = Field(
        None, description="draws, spread, seed and top N of the stability figure"
    )
    nearest_lep: str | None = Field(description="the nearest LEP NRW large site")
    nearest_lep_km: float | None = Field(description="straight-line distance from the site's edge, km")


class AdhocScoreResponse(SiteItem, Provenance):
    """``POST /api/score``."""

    profile: str
    weights: dict[str, float]
    h2_year: int
    percentile: float | None = Field(
        ge=0, le=100, description="share of stored sites scoring at or below this polygon"
    )


class ProfileParameters(BaseModel):
    """Parameters of a profile's value functions and its default hard filter."""

    model_config = STRICT
    area_min_ha: float
    area_target_ha: float
    h2_horizon: int
    min_area_ha: float | None


class ProfileDoc(BaseModel):
    """One scoring profile."""

    model_config = STRICT
    name: str
    label_en: str
    label_de: str
    description: str
    weights: dict[str, float]
    parameters: ProfileParameters
    functions: dict[str, dict[str, Any]] = Field(
        description="each criterion's value function (kind and parameters) under this profile"
    )


class IndicatorDoc(BaseModel):
    """One indicator column as its criterion declares it."""

    model_config = STRICT
    name: str
    type: Literal["float", "int", "str", "bool"]
    unit: str | None
    label_de: str
    label_en: str
    desc_de: str
    desc_en: str
    decimals: int | None
    shp: str | None
    codes: dict[str, tuple[str, str]] | None


class CriterionDoc(BaseModel):
    """One criterion of the registry."""

    model_config = STRICT
    name: str
    label_en: str
    label_de: str
    description: str
    description_de: str | None = Field(description="German description (null: use `description`)")
    indicators: list[str]
    indicator_specs: list[IndicatorDoc] = Field(description="each indicator's type, unit and labels")
    group: str = Field(description="UI group: site, planning, energy, digital, transport, labour, …")
    layer: str
    function: dict[str, Any] = Field(
        description="value function: kind (ramp, share, table, …) and parameters"
    )
    measure: dict[str, Any] | None = Field(description="generic measure computing the indicator, if any")
    weight_parameter: str


class ProfilesResponse(Provenance):
    """``GET /api/profiles``."""

    default: str
    profiles: list[ProfileDoc]
    criteria: list[CriterionDoc]


class _TableColumns(BaseModel):
    """Per-site columns of the UI table (row i of every column is site i)."""

    model_config = STRICT
    site_id: list[str]
    name: list[str | None]
    kind: list[str]
    ags: list[str | None]
    municipality: list[str | None]
    kreis_ags: list[str | None]
    kreis: list[str | None]
    area_ha: list[float]
    lon: list[float]
    lat: list[float]
    fid: list[int] = Field(
        description="the site's feature id in the map tiles' site_points layer (its position among "
        "the public sites); -1 for a site the public tiles leave out"
    )


# ... plus every column a filter of the registry reads (geo/filters.py), so the browser can mask
TableColumns = create_model(  # type: ignore[call-overload]  # see Breakdown
    "TableColumns",
    __base__=_TableColumns,
    __doc__=_TableColumns.__doc__,
    planning_category=(list[str | None], ...),
    **{
        f.column: (list[str | None] if f.is_list else list[float | None], ...)
        for f in FILTERS.values()
        if not f.at_horizon and f.column not in _TableColumns.model_fields
    },
)


class FilterDoc(BaseModel):
    """One hard filter of the registry (geo/filters.py): the query parameter of that name, and
    the reason a site it excludes is given.
    """

    model_config = STRICT
    name: str
    kind: Literal["min", "max", "any_of"] = Field(
        description="min: the site's value ≥ the filter; max: ≤ the filter; any_of: one of the values"
    )
    column: str = Field(description="the column of the table (or, at_horizon, of the values) it reads")
    at_horizon: bool = Field(description="the column depends on the hydrogen horizon (/api/sites/values)")
    label_de: str
    label_en: str
    description: str
    choices: list[str] | None
    upper: float | None
    always_passes: str | None = Field(description="any_of: this value, and a missing one, always pass")
    profile_default: str | None = Field(description="the profile parameter used when the filter is unset")
    format: Literal["month"] | None = Field(description="month: the value is YYYY-MM (available_by)")


class SitesTable(BaseModel):
    """``GET /api/sites/table``: what the web UI needs to re-rank in the browser."""

    model_config = STRICT
    snapshot: str
    synthetic: bool
    count: int
    criteria: list[str] = Field(description="column order of /api/sites/values")
    h2_years: list[int] = Field(description="commissioning years of the hydrogen network")
    filters: list[FilterDoc] = Field(description="the hard filters, in the order of the exclusion reasons")
    columns: TableColumns


class ScoreBands(BaseModel):
    """The score classes of every map (maps/bands.py): class k holds ``breaks[k-1] <= score <
    breaks[k]``, class 0 lies below the first break."""

    model_config = STRICT
    breaks: list[float] = Field(description="lower bounds of classes 1 … n")
    colors: list[str] = Field(description="one colour per class (n + 1), class 0 first")
    no_score: str = Field(description="the colour of a site without a score")
    labels: dict[str, list[str]] = Field(description="legend label per class, by language")
    no_score_label: dict[str, str] = Field(description="legend label of no score, by language")


class UIConfig(BaseModel):
    """``GET /api/ui/config``."""

    model_config = STRICT
    snapshot: str
    synthetic: bool
    basemap: dict[str, str | None]
    tiles: str | None = Field(description="the snapshot's PMTiles archive (relative URL)")
    tileset: dict[str, Any] | None = Field(
        None,
        description="the archive's minzoom, maxzoom and bounds (WGS84 west, south, east, north), "
        "as its header holds them: the map takes its tile source from these without reading it first",
    )
    bands: ScoreBands


class InstallationModel(BaseModel):
    """An industrial installation near a site (Hotmaps industrial database)."""

    model_config = STRICT
    name: str | None = Field(description="site name, else the company")
    company: str | None
    sector: str | None = Field(examples=["Iron and steel"])
    excess_heat_gwh: float | None = Field(
        description="excess heat, GWh per year (0: Hotmaps made no estimate)", examples=[34.03]
    )
    distance_km: float = Field(ge=0, description="straight line from the site's edge (0: inside)")


class InstallationsBlock(BaseModel):
    """The nearest installations, nearest first, with the layer's source."""

    model_config = STRICT
    installations: list[InstallationModel]
    source: Attribution | None


class ProtectedAreaModel(BaseModel):
    """A Natura 2000 area the site overlaps."""

    model_config = STRICT
    name: str
    codes: list[str] = Field(description="EU site codes", examples=[["DE4314301"]])
    site_types: list[str] = Field(description="A SPA, B SCI/SAC, C both")
    share: float = Field(ge=0, le=1, description="share of the site's area inside the area")


class FloodplainModel(BaseModel):
    """A floodplain the site overlaps."""

    model_config = STRICT
    name: str
    statuses: list[str] = Field(description="festgesetzt, vorläufig gesichert, ermittelt")
    share: float = Field(ge=0, le=1, description="share of the site's area inside the floodplain")


class ProtectedBlock(BaseModel):
    """The Natura 2000 areas a site overlaps, largest overlap first."""

    model_config = STRICT
    areas: list[ProtectedAreaModel]
    source: Attribution | None


class FloodplainBlock(BaseModel):
    """The floodplains a site overlaps, largest overlap first."""

    model_config = STRICT
    areas: list[FloodplainModel]
    source: Attribution | None


class SubstationModel(BaseModel):
    """The nearest transformer substation."""

    model_config = STRICT
    name: str | None
    voltage_kv: int | None = Field(description="highest voltage, kV", examples=[110])
    operator: str | None
    distance_km: float = Field(ge=0, description="straight line from the site's edge")
    source: Attribution | None


class SiteContextResponse(Provenance):
    """A site's surroundings: installations, constraint areas, substation (null: no such layer)."""

    site_id: str
    industrial_heat: InstallationsBlock | None
    protected_areas: ProtectedBlock | None
    floodplains: FloodplainBlock | None
    substation: SubstationModel | None
