"""The hard filters of a ranking: one declaration per filter, and the mask they make.

A filter is declared once in ``FILTERS``: its name (the query parameter, the command-line
option and the reason a site is excluded), its kind (``min``: the site's value ≥ the filter,
``max``: ≤ the filter, ``any_of``: one of the listed values), the site column it reads, its
labels (de/en) and description, and how its value is checked. The registry drives:

- the mask (``apply_filters``, used by ``geo.scoring.Scorer``),
- the API's query parameters and their OpenAPI text (api/dependencies.py) and the command line's
  options (api/cli.py),
- the web UI: ``docs()`` travels in ``GET /api/sites/table`` and maps/static/js/scoring.js masks
  by each filter's kind and column, with the reasons in the same order.

The order of ``FILTERS`` is the order of the reasons: a site failing several filters is excluded
by the first; ``no_data`` (no weighted criterion with data) comes after all filters. A site
without a value (NaN, None) fails a ``min``/``max`` filter and an ``any_of`` filter, unless the
filter names a value that always passes (contamination: sites that are not brownfields).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from geo.availability import month_number, month_text
from geo.errors import InvalidParameter

KINDS = ("regional_plan", "brownfield", "lep")
CONTAMINATION = ("none", "suspected", "confirmed", "remediated", "unknown")
NOT_APPLICABLE = "not_applicable"  # contamination of a site that is not a brownfield
NO_DATA = "no_data"  # the reason after every filter: no weighted criterion has data
MAX_LIST = 500  # values of one list filter
MONTHS = (1900 * 12, 2200 * 12)  # the month numbers a month filter takes

FilterKind = Literal["min", "max", "any_of"]
FilterValue = float | tuple[str, ...] | None


def parse_list(values: Sequence[str] | str | None) -> tuple[str, ...]:
    """Split comma-separated lists from query strings or the command line."""
    if values is None:
        return ()
    items = [values] if isinstance(values, str) else list(values)
    return tuple(x.strip() for item in items for x in item.split(",") if x.strip())


@dataclass(frozen=True)
class FilterSpec:
    """One hard filter: what it reads, how it masks, how its value is checked and labelled."""

    name: str
    kind: FilterKind
    column: str  # the site column it reads
    label_de: str
    label_en: str
    description: str  # English, for the OpenAPI document and --help
    at_horizon: bool = False  # the column depends on the hydrogen horizon (read per profile)
    upper: float | None = None  # numbers: the largest allowed value (shares: 1)
    choices: tuple[str, ...] = ()  # any_of: the allowed values ...
    pattern: str | None = None  # ... or a pattern each value must match
    pattern_text: str = ""  # the pattern in words, for the error message
    always_passes: str | None = None  # any_of: this value (and a missing one) always passes
    profile_default: str | None = None  # the profile parameter used when the filter is unset
    month: bool = False  # the value is a month YYYY-MM, compared as a month number
    example: Any = None
    reason: tuple[str, str] = ("", "")  # the exclusion reason in exports (German, English)

    @property
    def is_list(self) -> bool:
        """True for filters that take a list of values."""
        return self.kind == "any_of"

    @property
    def unset(self) -> FilterValue:
        """The value of a filter that is not given."""
        return () if self.is_list else None

    def parse(self, value: Any) -> FilterValue:
        """The checked, normalised value (lists: sorted, no duplicates); InvalidParameter if bad."""
        if value is None:
            return self.unset
        if self.is_list:
            items = parse_list(value) if isinstance(value, str | list | tuple) else None
            if items is None or not all(isinstance(x, str) for x in items):
                raise InvalidParameter(f"{self.name} takes a list of values")
            if len(items) > MAX_LIST:
                raise InvalidParameter(f"at most {MAX_LIST} values for {self.name}")
            if self.choices and not all(x in self.choices for x in items):
                raise InvalidParameter(
                    f"{self.name} takes comma-separated values from: {', '.join(self.choices)}"
                )
            if self.pattern and not all(re.fullmatch(self.pattern, x) for x in items):
                raise InvalidParameter(f"{self.name} takes {self.pattern_text}, comma-separated")
            return tuple(sorted(set(items)))
        if self.month:
            if isinstance(value, float) and value.is_integer() and MONTHS[0] <= value < MONTHS[1]:
                return value  # a month number: a value parsed before (e.g. a query re-checked)
            try:
                return float(month_number(value))
            except ValueError:
                raise InvalidParameter(f"{self.name}: a month is written YYYY-MM, e.g. 2027-06") from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidParameter(f"{self.name} must be a finite number ≥ 0")
        v = float(value)
        if not math.isfinite(v) or v < 0:
            raise InvalidParameter(f"{self.name} must be a finite number ≥ 0")
        if self.upper is not None and v > self.upper:
            raise InvalidParameter(f"{self.name} is a share between 0 and {self.upper:g}")
        return v

    def keep(self, column: np.ndarray | None, value: FilterValue, n: int) -> np.ndarray:
        """True for the sites that pass the filter with this (set) value."""
        if self.is_list:
            assert isinstance(value, tuple)
            if column is None:  # no such column (e.g. ad-hoc polygons): only "always passes"
                return np.full(n, self.always_passes is not None)
            if self.always_passes is None:
                return np.isin(np.asarray(column).astype(str), value)
            col = np.array([x if isinstance(x, str) else self.always_passes for x in column])
            return np.isin(col, (*value, self.always_passes))
        assert isinstance(value, float)
        if column is None:
            return np.zeros(n, dtype=bool)
        x = np.asarray(column).astype(float)  # None → NaN, which fails every comparison
        return x >= value if self.kind == "min" else x <= value

    def doc(self) -> dict[str, Any]:
        """The declaration as JSON for API clients and the web UI."""
        return {
            "name": self.name,
            "kind": self.kind,
            "column": self.column,
            "at_horizon": self.at_horizon,
            "label_de": self.label_de,
            "label_en": self.label_en,
            "description": self.description,
            "choices": list(self.choices) or None,
            "upper": self.upper,
            "always_passes": self.always_passes,
            "profile_default": self.profile_default,
            "format": "month" if self.month else None,
        }


def _registry(*specs: FilterSpec) -> Mapping[str, FilterSpec]:
    out: dict[str, FilterSpec] = {}
    for s in specs:
        if s.name in out or s.name == NO_DATA:
            raise ValueError(f"filter {s.name!r} is declared twice")
        if not all(s.reason):
            raise ValueError(f"filter {s.name!r} needs its exclusion reason in German and English")
        out[s.name] = s
    return MappingProxyType(out)


FILTERS: Mapping[str, FilterSpec] = _registry(
    FilterSpec(
        "min_area_ha",
        "min",
        "area_ha",
        "Mindestfläche (ha)",
        "Minimum area (ha)",
        "Minimum site area in ha (default: the profile's min_area_ha).",
        profile_default="min_area_ha",
        example=10,
        reason=("Mindestfläche", "minimum area"),
    ),
    FilterSpec(
        "max_area_ha",
        "max",
        "area_ha",
        "Höchstfläche (ha)",
        "Maximum area (ha)",
        "Maximum site area in ha.",
        reason=("Höchstfläche", "maximum area"),
    ),
    FilterSpec(
        "max_h2_km",
        "max",
        "h2_distance_km",
        "Höchstens km zum H₂-Kernnetz",
        "At most km to the hydrogen core network",
        "Maximum distance (km) to a hydrogen core-network segment in service by the profile's horizon.",
        at_horizon=True,
        example=5,
        reason=("Entfernung zum H2-Kernnetz", "distance to the H2 network"),
    ),
    FilterSpec(
        "kind",
        "any_of",
        "kind",
        "Flächenart",
        "Site kind",
        f"Site kinds, comma-separated: {', '.join(KINDS)}.",
        choices=KINDS,
        example="brownfield",
        reason=("Art der Fläche", "kind of site"),
    ),
    FilterSpec(
        "ags",
        "any_of",
        "ags",
        "Gemeinde",
        "Municipality",
        "Municipality keys (8-digit AGS), comma-separated.",
        pattern=r"\d{8}",
        pattern_text="8-digit keys",
        example="05562008",
        reason=("Gemeinde", "municipality"),
    ),
    FilterSpec(
        "kreis",
        "any_of",
        "kreis_ags",
        "Kreis",
        "District (Kreis)",
        "Kreis keys (5-digit), comma-separated.",
        pattern=r"\d{5}",
        pattern_text="5-digit keys",
        example="05562",
        reason=("Kreis", "Kreis"),
    ),
    FilterSpec(
        "min_fibre",
        "min",
        "fibre_share",
        "Mindestanteil Glasfaser",
        "Minimum fibre share",
        "Minimum fibre share 0–1.",
        upper=1,
        example=0.5,
        reason=("Glasfaser", "fibre"),
    ),
    FilterSpec(
        "min_5g",
        "min",
        "mobile_5g_share",
        "Mindestanteil 5G",
        "Minimum 5G share",
        "Minimum 5G share 0–1.",
        upper=1,
        reason=("5G", "5G"),
    ),
    FilterSpec(
        "contamination",
        "any_of",
        "contamination",
        "Altlasten",
        "Contamination",
        f"Brownfield contamination states to keep: {', '.join(CONTAMINATION)}; "
        "sites that are not brownfields always pass.",
        choices=CONTAMINATION,
        always_passes=NOT_APPLICABLE,
        reason=("Altlasten", "contamination"),
    ),
    FilterSpec(
        "max_protected_share",
        "max",
        "protected_share",
        "Höchstanteil in Natura-2000-Gebieten",
        "Maximum share in Natura 2000 areas",
        "Maximum share 0–1 of the site inside Natura 2000 areas (0: wholly outside).",
        upper=1,
        example=0,
        reason=("Natura-2000-Gebiet", "Natura 2000 area"),
    ),
    FilterSpec(
        "max_floodplain_share",
        "max",
        "floodplain_share",
        "Höchstanteil im Überschwemmungsgebiet",
        "Maximum share in floodplains",
        "Maximum share 0–1 of the site inside designated floodplains (0: wholly outside).",
        upper=1,
        example=0,
        reason=("Überschwemmungsgebiet", "floodplain"),
    ),
    FilterSpec(
        "available_by",
        "max",
        "available_month",
        "Verfügbar bis (Monat)",
        "Available by (month)",
        "Keep sites available by this month, YYYY-MM: by the date the source gives, else by the "
        "availability class from the data's date (now, within 1 year, 1–3 years); sites available "
        "later than 3 years without a date, and unknown ones, are excluded.",
        month=True,
        example="2027-06",
        reason=("Verfügbarkeit", "availability"),
    ),
)
FILTER_NAMES = tuple(FILTERS)
REASONS = (*FILTER_NAMES, NO_DATA)  # why a site is excluded, in the order the mask checks


class Filters:
    """The values of the hard filters, by name; checked, normalised, frozen and hashable.

    ``Filters(min_area_ha=5, kind="brownfield,lep")``; an unset filter reads as None (numbers)
    or () (lists). Two Filters with the same effect are equal (lists are sorted, duplicates go).
    """

    __slots__ = ("_values",)
    _values: tuple[tuple[str, FilterValue], ...]

    def __init__(self, **values: Any) -> None:
        unknown = [k for k in values if k not in FILTERS]
        if unknown:
            raise InvalidParameter(f"unknown filter; filters: {', '.join(FILTER_NAMES)}")
        parsed = ((name, FILTERS[name].parse(values.get(name))) for name in FILTER_NAMES)
        object.__setattr__(self, "_values", tuple((k, v) for k, v in parsed if v not in (None, ())))

    def __getattr__(self, name: str) -> FilterValue:
        spec = FILTERS.get(name)
        if spec is None:
            raise AttributeError(name)
        return dict(self._values).get(name, spec.unset)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Filters are frozen")

    def __iter__(self) -> Iterator[tuple[str, FilterValue]]:
        """The filters that are set, in registry order, with their values."""
        return iter(self._values)

    def __bool__(self) -> bool:
        return bool(self._values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Filters) and self._values == other._values

    def __hash__(self) -> int:
        return hash(self._values)

    def __repr__(self) -> str:
        return f"Filters({', '.join(f'{k}={v!r}' for k, v in self._values)})"

    def to_dict(self) -> dict[str, Any]:
        """The filters that are set, as JSON values (months as YYYY-MM)."""
        return {
            k: list(v) if isinstance(v, tuple) else month_text(v) if FILTERS[k].month and v is not None else v
            for k, v in self._values
        }


def apply_filters(
    filters: Filters,
    column: Callable[[FilterSpec], np.ndarray | None],
    n: int,
    defaults: Mapping[str, float | None] | None = None,
) -> tuple[np.ndarray, dict[str, int], np.ndarray]:
    """The included-sites mask, how many sites each filter excluded and, per site, the first
    filter that excluded it (None for included sites).

    ``column(spec)`` gives the site column a filter reads; ``defaults`` the profile parameters
    that stand in for unset filters (``profile_default``).
    """
    keep = np.ones(n, dtype=bool)
    excluded: dict[str, int] = {}
    reason = np.full(n, None, dtype=object)
    given = dict(filters)
    for name, spec in FILTERS.items():
        value = given.get(name)
        if value is None and spec.profile_default is not None and defaults:
            value = spec.parse(defaults.get(spec.profile_default))
        if value in (None, ()):
            continue
        ok = spec.keep(column(spec), value, n)
        newly = keep & ~ok
        if newly.any():
            excluded[name] = int(newly.sum())
            reason[newly] = name
        keep &= ok
    return keep, excluded, reason


def docs() -> list[dict[str, Any]]:
    """Every filter's declaration, in reason order (served to API clients and the web UI)."""
    return [s.doc() for s in FILTERS.values()]
