"""Criteria and profiles (DESIGN §3.3): the built-in declarations, validated, and the profiles.

A criterion is one declaration (``geo/registry.py``): its indicators with unit and labels, a
value-function kind with parameters (``geo/values.py``), labels, description, source layer, UI
group and, for a generic criterion, the measure that computes its indicator
(``geo/measures.py``). A profile holds default weights and may override value-function
parameters per criterion (``params``). The registry is read by the API, the command line, the
exports, the tiles and the web map; nothing else names a criterion.

Value functions of the built-in criteria (parameters per profile):
- ``area``: 0 below ``area_min_ha``; ``ln(a / min) / ln(target / min)`` up to 1 at ``area_target_ha``.
- ``planning``: table by ``planning_category`` (LEP 1.0, LARGE_PROJECT 1.0, GIB 0.9, GIB_Z 0.6,
  ASB_GE 0.5, BROWNFIELD i.e. brownfield without plan 0.4; NONE 0 for an ad-hoc polygon that is
  neither in a plan area nor on a brownfield).
- ``brownfield``: 1 for reuse of previously developed land, else 0.
- ``h2``: 1 at ≤ 1 km, linear to 0 at ≥ 20 km from the nearest Kernnetz segment in service by
  ``h2_horizon``; 0 when none is in service by then.
- ``fibre``, ``mobile_5g``: the area-weighted share itself.
- ``funding``: GRW C 1.0, JTF 1.0, 5-Standorte 1.0, GRW D 0.5, none 0.
- ``motorway``, ``rail``, ``port``, ``airport``: distance ramps (full ≤ a km, zero ≥ b km).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from geo.catalogue import BUILTIN
from geo.errors import InvalidParameter
from geo.registry import REGISTRY, Criterion

for _c in BUILTIN:
    REGISTRY.register(_c)

CRITERIA: Mapping[str, Criterion] = REGISTRY  # read-only view, in registration order
CRITERIA_ORDER: tuple[str, ...] = tuple(REGISTRY)
H2_ZERO_KM = REGISTRY["h2"].function.zero  # type: ignore[union-attr]  # h2 is declared a Ramp


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
    params: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="value-function parameters per criterion, e.g. {'motorway': {'zero': 15}}",
    )

    @field_validator("weights")
    @classmethod
    def _check_weights(cls, w: dict[str, float]) -> dict[str, float]:
        return validate_weights(w)

    @field_validator("params")
    @classmethod
    def _check_params(cls, params: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for name, overrides in params.items():
            if name not in CRITERIA:
                raise ValueError(f"params for unknown criterion {name!r}")
            known = CRITERIA[name].function.params()
            unknown = set(overrides) - set(known)
            if unknown:
                raise ValueError(
                    f"{name}: unknown parameter(s) {sorted(unknown)}; parameters: {sorted(known)}"
                )
            CRITERIA[name].function.with_params(overrides)  # checked like a declaration
        return params

    def params_key(self) -> tuple[Any, ...]:
        """Everything the values of this profile depend on (the scorer's cache key)."""
        frozen = tuple(sorted((k, tuple(sorted(v.items()))) for k, v in self.params.items()))
        return (self.area_min_ha, self.area_target_ha, self.h2_horizon, frozen)


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
                    description="The seven site criteria, grid, workforce and land constraints count "
                    "equally; renewables and waste heat half, transport access a quarter each.",
                    weights={
                        **dict.fromkeys(
                            ("area", "planning", "brownfield", "h2", "fibre", "mobile_5g", "funding"), 1.0
                        ),
                        **{c: 0.25 for c in CRITERIA_ORDER if CRITERIA[c].group == "transport"},
                    },
                ),
                Profile(
                    name="hydrogen",
                    label_en="Hydrogen / energy-intensive industry",
                    label_de="Wasserstoff / energieintensive Industrie",
                    description="Hydrogen access and size weigh most, then grid connection, renewable power "
                    "and industrial excess heat; pipelines must be in service by 2030.",
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
                    description="Fibre and 5G weigh most, then grid connection and renewable power; "
                    "moderate size.",
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
                    "hydrogen weigh most, then the labour market and the grid.",
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
                    "guideline's shift of freight to waterways and rail), then the labour market; "
                    "moderate size.",
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


def _declared_weights(profiles: Mapping[str, Profile]) -> Mapping[str, Profile]:
    """Profiles with the weights the criteria declare for them, where a profile names none."""
    return MappingProxyType(
        {
            name: p.model_copy(
                update={
                    "weights": {
                        c.name: float(p.weights.get(c.name, c.weights.get(name, 0.0)))
                        for c in REGISTRY.values()
                    }
                }
            )
            for name, p in profiles.items()
        }
    )


PROFILES = _declared_weights(PROFILES)


def register(criterion: Criterion) -> Criterion:
    """Register a criterion (a plug-in) with its ``weights`` per profile (a profile not named: 0).

    Call it before the API, the build or the exports are imported: they read the registry once.
    """
    global CRITERIA_ORDER, PROFILES
    unknown = set(criterion.weights) - set(PROFILES)
    if unknown:
        raise ValueError(f"weights for unknown profile(s) {sorted(unknown)}; profiles: {', '.join(PROFILES)}")
    REGISTRY.register(criterion)
    CRITERIA_ORDER = tuple(REGISTRY)
    PROFILES = _declared_weights(PROFILES)
    return criterion


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
