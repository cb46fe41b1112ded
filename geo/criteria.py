"""Criteria and profiles (DESIGN §3.3): one registry, validated models, value functions v ∈ [0, 1].

A criterion turns indicator columns into values ``v`` (NaN where the data is missing). A profile
holds default weights and the parameters of the value functions. Both registries are frozen: the
API and the command line list them from here.

Value functions (parameters per profile):
- ``area``: 0 below ``area_min_ha``; ``ln(a / min) / ln(target / min)`` up to 1 at ``area_target_ha``.
- ``planning``: table by ``planning_category`` (LEP 1.0, LARGE_PROJECT 1.0, GIB 0.9, GIB_Z 0.6,
  ASB_GE 0.5, BROWNFIELD i.e. brownfield without plan 0.4; NONE 0 for an ad-hoc polygon that is
  neither in a plan area nor on a brownfield).
- ``brownfield``: 1 for reuse of previously developed land, else 0.
- ``h2``: 1 at ≤ 1 km, linear to 0 at ≥ 20 km from the nearest Kernnetz segment in service by
  ``h2_horizon``; 0 when none is in service by then.
- ``fibre``, ``mobile_5g``: the area-weighted share itself.
- ``funding``: GRW C 1.0, JTF 1.0, 5-Standorte 1.0, GRW D 0.5, none 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from geo.errors import InvalidParameter

PLANNING_VALUES = MappingProxyType(
    {
        "LEP": 1.0,
        "LARGE_PROJECT": 1.0,
        "GIB": 0.9,
        "GIB_Z": 0.6,
        "ASB_GE": 0.5,
        "BROWNFIELD": 0.4,
        "NONE": 0.0,
    }
)
FUNDING_VALUES = MappingProxyType({"GRW_C": 1.0, "JTF": 1.0, "FIVE_SITES": 1.0, "GRW_D": 0.5, "none": 0.0})
H2_FULL_KM, H2_ZERO_KM = 1.0, 20.0
# Transport access: (full value at ≤ km, zero at ≥ km), straight-line from the site's edge.
DISTANCE_RAMPS = MappingProxyType(
    {"motorway": (2.0, 25.0), "rail": (3.0, 30.0), "port": (5.0, 50.0), "airport": (20.0, 100.0)}
)

CriterionName = Literal[
    "area",
    "planning",
    "brownfield",
    "h2",
    "fibre",
    "mobile_5g",
    "funding",
    "motorway",
    "rail",
    "port",
    "airport",
]
CRITERIA_ORDER: tuple[str, ...] = get_args(CriterionName)  # the registry's order


class Criterion(BaseModel):
    """One scoring criterion: which indicators it reads and how they become v ∈ [0, 1]."""

    model_config = ConfigDict(frozen=True)
    name: str
    indicators: tuple[str, ...]
    label_en: str
    label_de: str
    description: str
    layer: str = Field(description="the snapshot layer (or fact table) the indicator comes from")

    def value(self, ind: Mapping[str, np.ndarray], p: Profile) -> np.ndarray:
        """Return v per site (NaN where data is missing, also when the column is absent)."""
        if self.indicators[0] not in ind:
            return np.full(len(next(iter(ind.values()))), np.nan)
        x = np.asarray(ind[self.indicators[0]])
        match self.name:
            case "area":
                a = x.astype(float)
                lo, hi = max(p.area_min_ha, 1e-6), max(p.area_target_ha, p.area_min_ha * 1.0001)
                with np.errstate(divide="ignore", invalid="ignore"):
                    v = np.log(np.maximum(a, 1e-12) / lo) / math.log(hi / lo)
                return np.where(a < lo, 0.0, np.clip(v, 0.0, 1.0))
            case "planning":
                return _lookup(x, PLANNING_VALUES)
            case "brownfield":
                return np.where(_is_missing(x), np.nan, x.astype(float))
            case "h2":
                d = x.astype(float)
                v = np.clip((H2_ZERO_KM - d) / (H2_ZERO_KM - H2_FULL_KM), 0.0, 1.0)
                return np.where(np.isnan(d), 0.0, v)
            case "fibre" | "mobile_5g":
                share: np.ndarray = np.clip(x.astype(float), 0.0, 1.0)
                return share
            case "funding":
                return _lookup(x, FUNDING_VALUES)
            case "motorway" | "rail" | "port" | "airport":
                return distance_value(x.astype(float), *DISTANCE_RAMPS[self.name])
        raise InvalidParameter(f"criterion {self.name!r} has no value function")


def distance_value(km: np.ndarray, full: float, zero: float) -> np.ndarray:
    """1 at ≤ ``full`` km, linear to 0 at ≥ ``zero`` km; NaN (no data) stays NaN."""
    return np.clip((zero - km) / (zero - full), 0.0, 1.0)


def _is_missing(x: np.ndarray) -> np.ndarray:
    if x.dtype.kind == "f":
        nan: np.ndarray = np.isnan(x)
        return nan
    return np.array([v is None or (isinstance(v, float) and math.isnan(v)) for v in x], dtype=bool)


def _lookup(x: np.ndarray, table: Mapping[str, float]) -> np.ndarray:
    return np.array([table.get(v, np.nan) if isinstance(v, str) else np.nan for v in x], dtype=float)


CRITERIA: Mapping[str, Criterion] = MappingProxyType(
    {
        c.name: c
        for c in (
            Criterion(
                name="area",
                layer="sites",
                indicators=("area_ha",),
                label_en="Site size",
                label_de="Flächengröße",
                description="0 below the profile's minimum size, rising logarithmically to 1 at its "
                "target size.",
            ),
            Criterion(
                name="planning",
                layer="regional_plan",
                indicators=("planning_category",),
                label_en="Planning status",
                label_de="Planungsrecht",
                description="LEP site and large-project area 1.0, GIB 0.9, GIB-Z 0.6, ASB-GE 0.5, "
                "brownfield without regional-plan designation 0.4; an ad-hoc area "
                "with neither 0.",
            ),
            Criterion(
                name="brownfield",
                layer="brownfields",
                indicators=("is_brownfield",),
                label_en="Brownfield reuse",
                label_de="Brachflächen-Wiedernutzung",
                description="1 when the site is, or at least half lies on, previously developed "
                "land (the guideline's Flächensparsamkeit), else 0.",
            ),
            Criterion(
                name="h2",
                layer="hydrogen",
                indicators=("h2_distance_km", "h2_commissioning_year"),
                label_en="Hydrogen core network",
                label_de="Wasserstoff-Kernnetz",
                description="1 within 1 km of a Kernnetz segment in service by the profile's "
                "horizon year, falling linearly to 0 at 20 km.",
            ),
            Criterion(
                name="fibre",
                layer="fibre",
                indicators=("fibre_share",),
                label_en="Fibre (FTTH/B ≥ 1 Gbit/s)",
                label_de="Glasfaser (FTTH/B ≥ 1 Gbit/s)",
                description="Area-weighted share of the site with gigabit fibre.",
            ),
            Criterion(
                name="mobile_5g",
                layer="mobile_5g",
                indicators=("mobile_5g_share",),
                label_en="5G coverage",
                label_de="5G-Versorgung",
                description="Area-weighted share of the site with 5G outdoor coverage.",
            ),
            Criterion(
                name="funding",
                layer="funding",
                indicators=("funding_region",),
                label_en="Funding region",
                label_de="Fördergebiet",
                description="GRW C, JTF region or 5-Standorte programme 1.0, GRW D 0.5, none 0.",
            ),
            Criterion(
                name="motorway",
                layer="motorway_junctions",
                indicators=("motorway_km",),
                label_en="Motorway junction",
                label_de="Autobahnanschluss",
                description="Straight-line distance (Luftlinie) from the site's edge to the nearest "
                "motorway junction: 1 at ≤ 2 km, linear to 0 at ≥ 25 km.",
            ),
            Criterion(
                name="rail",
                layer="rail_freight",
                indicators=("rail_km", "rail_target"),
                label_en="Rail freight",
                label_de="Schienengüterverkehr",
                description="Straight-line distance (Luftlinie) to the nearest rail freight "
                "terminal, or, without terminal data, to the nearest long-distance "
                "station (rail_target says which): 1 at ≤ 3 km, 0 at ≥ 30 km.",
            ),
            Criterion(
                name="port",
                layer="ports",
                indicators=("port_km",),
                label_en="Inland port",
                label_de="Binnenhafen",
                description="Straight-line distance (Luftlinie) to the nearest inland port area: "
                "1 at ≤ 5 km, linear to 0 at ≥ 50 km.",
            ),
            Criterion(
                name="airport",
                layer="airports",
                indicators=("airport_km",),
                label_en="Commercial airport",
                label_de="Verkehrsflughafen",
                description="Straight-line distance (Luftlinie) to the nearest airport with "
                "scheduled passenger services: 1 at ≤ 20 km, linear to 0 at ≥ 100 km.",
            ),
        )
    }
)


class Profile(BaseModel):
    """Default weights and value-function parameters for one kind of investor."""

    model_config = ConfigDict(frozen=True)
    name: str
    label_en: str
    label_de: str
    description: str
    weights: dict[str, float]
    area_min_ha: float = Field(1.0, ge=0)
    area_target_ha: float = Field(50.0, gt=0)
    h2_horizon: int = Field(2032, ge=2025, le=2050)
    min_area_ha: float | None = Field(None, ge=0, description="hard filter applied by default")

    @field_validator("weights")
    @classmethod
    def _check_weights(cls, w: dict[str, float]) -> dict[str, float]:
        return validate_weights(w)


def validate_weights(w: Mapping[str, Any], require_positive: bool = True) -> dict[str, float]:
    """Check weights: known criteria, finite, non-negative, and (by default) not all zero."""
    problems = []
    out: dict[str, float] = {}
    for name, value in w.items():
        if name not in CRITERIA:
            problems.append(f"unknown criterion {str(name)[:40]!r} (known: {', '.join(CRITERIA)})")
            continue
        try:
            f = float(value)
        except (TypeError, ValueError):
            problems.append(f"weight of {name} must be a number")
            continue
        if not math.isfinite(f) or f < 0:
            problems.append(f"weight of {name} must be finite and ≥ 0")
            continue
        out[name] = f
    if problems:
        raise InvalidParameter("; ".join(problems))
    if require_positive and not any(v > 0 for v in out.values()):
        raise InvalidParameter("at least one weight must be greater than 0")
    return out


class _Profiles(BaseModel):
    """The frozen profile registry; refuses duplicates."""

    model_config = ConfigDict(frozen=True)
    items: tuple[Profile, ...]

    @model_validator(mode="after")
    def _unique(self) -> _Profiles:
        names = [p.name for p in self.items]
        if len(names) != len(set(names)):
            raise ValueError("duplicate profile names")
        return self


PROFILES: Mapping[str, Profile] = MappingProxyType(
    {
        p.name: p
        for p in _Profiles(
            items=(
                Profile(
                    name="balanced",
                    label_en="Balanced",
                    label_de="Ausgewogen",
                    description="The seven site criteria count equally; transport access a quarter each.",
                    weights={**{c: 1.0 for c in CRITERIA_ORDER}, **{c: 0.25 for c in DISTANCE_RAMPS}},
                ),
                Profile(
                    name="hydrogen",
                    label_en="Hydrogen / energy-intensive industry",
                    label_de="Wasserstoff / energieintensive Industrie",
                    description="Hydrogen access and size weigh most; pipelines must be in service by 2030.",
                    weights={
                        "area": 2,
                        "planning": 1,
                        "brownfield": 0.5,
                        "h2": 4,
                        "fibre": 0.5,
                        "mobile_5g": 0.5,
                        "funding": 1,
                        "motorway": 0.25,
                        "rail": 0.25,
                        "port": 0.25,
                        "airport": 0.1,
                    },
                    area_min_ha=5,
                    area_target_ha=100,
                    h2_horizon=2030,
                ),
                Profile(
                    name="digital",
                    label_en="Digital / data centres",
                    label_de="Digital / Rechenzentren",
                    description="Fibre and 5G weigh most; moderate size.",
                    weights={
                        "area": 0.5,
                        "planning": 1,
                        "brownfield": 0.5,
                        "h2": 0,
                        "fibre": 4,
                        "mobile_5g": 3,
                        "funding": 0.5,
                        "motorway": 0.1,
                        "rail": 0,
                        "port": 0,
                        "airport": 0.1,
                    },
                    area_min_ha=2,
                    area_target_ha=20,
                ),
                Profile(
                    name="large_scale",
                    label_en="Large-scale settlement (≥ 50 ha)",
                    label_de="Großansiedlung (≥ 50 ha)",
                    description="The LEP rule for a first settlement: at least 50 ha; size, planning and "
                    "hydrogen weigh most.",
                    weights={
                        "area": 4,
                        "planning": 2,
                        "brownfield": 0,
                        "h2": 2,
                        "fibre": 1,
                        "mobile_5g": 0.5,
                        "funding": 1,
                        "motorway": 0.5,
                        "rail": 0.25,
                        "port": 0.25,
                        "airport": 0.25,
                    },
                    area_min_ha=50,
                    area_target_ha=200,
                    min_area_ha=50,
                ),
                Profile(
                    name="logistics",
                    label_en="Logistics and freight",
                    label_de="Logistik und Güterverkehr",
                    description="Motorway, inland port and rail freight access weigh most (the "
                    "guideline's shift of freight to waterways and rail); moderate size.",
                    weights={
                        "area": 2,
                        "planning": 1,
                        "brownfield": 0.5,
                        "h2": 0.5,
                        "fibre": 1,
                        "mobile_5g": 1,
                        "funding": 0.5,
                        "motorway": 4,
                        "rail": 3,
                        "port": 3,
                        "airport": 1,
                    },
                    area_min_ha=5,
                    area_target_ha=50,
                ),
            )
        ).items
    }
)
DEFAULT_PROFILE = "balanced"


def get_profile(name: str | None) -> Profile:
    """Return a profile by name, or raise InvalidParameter listing the known ones."""
    key = name or DEFAULT_PROFILE
    if key not in PROFILES:
        raise InvalidParameter(f"unknown profile {str(key)[:40]!r}; profiles: {', '.join(PROFILES)}")
    return PROFILES[key]


def effective_weights(profile: Profile, overrides: Mapping[str, Any] | None) -> dict[str, float]:
    """Profile weights with per-request overrides applied; the result must not be all zero."""
    w = {c: float(profile.weights.get(c, 0.0)) for c in CRITERIA_ORDER}
    w.update(validate_weights(overrides or {}, require_positive=False))
    return validate_weights(w)
