"""The criterion registry: one declaration per criterion, read by every output.

A ``Criterion`` declares its indicator column(s) with unit and labels (``Indicator``), its value
function (a kind of ``geo/values.py`` with parameters), its labels in German and English, its
description, the source layer, its group in the UI and, for a generic criterion, the measure
that computes its indicator from the layer (``geo/measures.py``). The API's criteria list and
``w_<name>`` parameters, the web map's sliders and detail rows, the OGC properties, the export
columns (names, labels, Shapefile names), the tiles and the provenance are all read from here.

``REGISTRY.register(criterion)`` refuses a duplicate criterion name and an indicator name that
another criterion already declares. The built-in criteria are registered by ``geo/criteria.py``;
register your own before the API, the build or the exports are imported (they read the registry
once, at import).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from geo.measures import Measure
from geo.values import ValueFunction

if TYPE_CHECKING:
    from geo.criteria import Profile

IndicatorType = Literal["float", "int", "str", "bool"]
Group = Literal["site", "planning", "energy", "digital", "transport", "labour", "environment", "funding"]
NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


class Indicator(BaseModel):
    """One indicator column: name, type, unit, labels, decimals and its Shapefile name."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(pattern=NAME.pattern)
    type: IndicatorType = "float"
    unit: str | None = Field(None, description="km, ha, share (0–1), MW, GWh/a, persons, kV, year …")
    label_de: str
    label_en: str
    desc_de: str = ""
    desc_en: str = ""
    decimals: int | None = Field(None, ge=0, le=6)
    shp: str | None = Field(None, max_length=10, description="Shapefile name (≤ 10 characters)")
    codes: dict[str, tuple[str, str]] | None = Field(
        None, description="a coded indicator's codes with their labels (German, English)"
    )


class Criterion(BaseModel):
    """One scoring criterion: which indicators it reads and how they become v ∈ [0, 1]."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = Field(pattern=NAME.pattern)
    label_en: str
    label_de: str
    description: str
    description_de: str = ""
    layer: str = Field(description="the snapshot layer (or fact table) the indicator comes from")
    group: Group = "site"
    indicator_specs: tuple[Indicator, ...] = Field(min_length=1)
    function: ValueFunction = Field(description="how the first indicator becomes v")
    measure: Measure | None = Field(
        None, description="generic computation from `layer`; None: computed in geo/sites.py"
    )
    weights: dict[str, float] = Field(
        default_factory=dict, description="weight per profile name for a plug-in (a profile not named: 0)"
    )

    @model_validator(mode="after")
    def _fits(self) -> Criterion:
        if self.measure is not None and self.measure.outputs() > len(self.indicator_specs):
            raise ValueError(f"{self.name}: the measure gives {self.measure.outputs()} indicator(s)")
        codes = self.indicator_specs[0].codes
        if codes is not None and self.function.kind == "table" and set(self.function.values) != set(codes):
            raise ValueError(f"{self.name}: the value table and the indicator's codes differ")
        return self

    @property
    def indicators(self) -> tuple[str, ...]:
        """The indicator column names, the first one valued."""
        return tuple(i.name for i in self.indicator_specs)

    def value(self, ind: Mapping[str, np.ndarray], p: Profile) -> np.ndarray:
        """v per site (NaN where data is missing, also when the column is absent)."""
        column = self.indicators[0]
        if column not in ind:
            return np.full(len(next(iter(ind.values()))), np.nan)
        fn = self.function.with_params(p.params.get(self.name, {}))
        out: np.ndarray = fn(np.asarray(ind[column]), p)  # type: ignore[operator]  # every kind is callable
        return out


class Registry(Mapping[str, Criterion]):
    """Criteria by name, in registration order (the order the API lists them)."""

    def __init__(self) -> None:
        self._items: dict[str, Criterion] = {}
        self._indicators: dict[str, str] = {}

    def register(self, criterion: Criterion) -> Criterion:
        """Add a criterion; refuse a duplicate name or an indicator declared twice."""
        if criterion.name in self._items:
            raise ValueError(f"criterion {criterion.name!r} is already registered")
        for spec in criterion.indicator_specs:
            owner = self._indicators.get(spec.name)
            if owner is not None:
                raise ValueError(
                    f"indicator {spec.name!r} of {criterion.name!r} is already declared by {owner!r}"
                )
        self._items[criterion.name] = criterion
        for spec in criterion.indicator_specs:
            self._indicators[spec.name] = criterion.name
        return criterion

    def indicator(self, name: str) -> Indicator | None:
        """The declaration of an indicator column (None if no criterion declares it)."""
        owner = self._indicators.get(name)
        if owner is None:
            return None
        return next(i for i in self._items[owner].indicator_specs if i.name == name)

    def indicators(self) -> tuple[Indicator, ...]:
        """Every indicator of every criterion, in registry order."""
        return tuple(i for c in self._items.values() for i in c.indicator_specs)

    def __getitem__(self, name: str) -> Criterion:
        return self._items[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


REGISTRY = Registry()
