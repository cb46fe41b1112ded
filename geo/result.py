"""The scoring result: one typed structure per site, built here and only serialised elsewhere.

The API, the command line, the report maps, the exports and the web UI all read a
``SiteResult``; none of them recomputes a breakdown. ``SiteResult.to_dict`` gives the JSON shape
of the contract (DESIGN §5.3): identity, the site's attributes (Kreis key, source id, plan,
brownfield facts), the indicator fields flat, ``score``, ``rank``,
``excluded_by`` (only for excluded sites), ``missing``, ``stability`` (when asked for) and
``breakdown`` — per criterion the indicator value(s), ``v`` (0–1), ``weight``, ``points``,
``missing`` and the ``source`` of the data behind it.

Points: ``pointsᵢ = 100 · wᵢ · vᵢ / Σⱼ wⱼ`` over the criteria with data, so the points of a site
add up to its score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from geo.availability import split_restrictions
from geo.criteria import CRITERIA, CRITERIA_ORDER
from geo.registry import REGISTRY

IDENTITY_FIELDS = ("site_id", "name", "ags", "municipality", "kreis", "kind", "area_ha")
# What else the site is (not scored): its Kreis key, source id and plan, the brownfield facts and
# the land-monitoring facts (geo/availability.py; availability itself is an indicator).
ATTRIBUTE_FIELDS = (
    "kreis_ags",
    "source_id",
    "plan",
    "contamination",
    "former_use",
    "restrictions",
    "marketable",
)
# Every indicator of every criterion, in registry order (area_ha is part of the identity).
INDICATOR_FIELDS = tuple(
    dict.fromkeys(k for c in CRITERIA_ORDER for k in CRITERIA[c].indicators if k not in IDENTITY_FIELDS)
)
INTEGER_FIELDS = frozenset(i.name for i in REGISTRY.indicators() if i.type == "int")


@dataclass(frozen=True, slots=True)
class Source:
    """The data behind one criterion's value: layer, title, resolution, date and licence."""

    layer: str
    title: str | None = None
    resolution: str | None = None
    date: str | None = None
    licence: str | None = None
    licence_url: str | None = None
    attribution: str | None = None
    synthetic: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (one shared dict per source: do not mutate it)."""
        return _source_dict(self)


@lru_cache(maxsize=256)
def _source_dict(s: Source) -> dict[str, Any]:
    return {
        "layer": s.layer,
        "title": s.title,
        "resolution": s.resolution,
        "date": s.date,
        "licence": s.licence,
        "licence_url": s.licence_url,
        "attribution": s.attribution,
        "synthetic": s.synthetic,
    }


class CriterionScore(NamedTuple):
    """One criterion of one site: indicator value(s), v ∈ [0, 1], weight and points.

    A NamedTuple (immutable, typed) rather than a frozen dataclass: a ranking builds one per site
    and criterion, and a tuple is several times cheaper to create.
    """

    criterion: str
    indicator: Mapping[str, Any]
    v: float | None
    weight: float
    points: float | None
    source: Source | None = None

    @property
    def missing(self) -> bool:
        """True when the criterion has no data for the site (it takes no part in the score)."""
        return self.v is None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``source`` only when known)."""
        out = {
            "indicator": self.indicator,
            "v": self.v,
            "weight": self.weight,
            "points": self.points,
            "missing": self.v is None,
        }
        if self.source is not None:
            out["source"] = _source_dict(self.source)
        return out


@dataclass(frozen=True, slots=True)
class Stability:
    """Monte Carlo rank stability: how often the site stays in the top ``top``."""

    top: int
    probability: float


@dataclass(frozen=True, slots=True)
class SiteResult:
    """The scoring result of one site (stored or ad hoc)."""

    identity: Mapping[str, Any]  # IDENTITY_FIELDS
    indicators: Mapping[str, Any]  # INDICATOR_FIELDS
    score: float | None
    rank: int | None
    excluded_by: str | None
    missing: tuple[str, ...]
    stability: Stability | None = None
    breakdown: tuple[CriterionScore, ...] | None = None
    attributes: Mapping[str, Any] | None = None  # ATTRIBUTE_FIELDS

    @property
    def site_id(self) -> str:
        """The site's id."""
        return str(self.identity["site_id"])

    def criterion(self, name: str) -> CriterionScore:
        """The breakdown entry of one criterion."""
        for c in self.breakdown or ():
            if c.criterion == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of a ranking item (DESIGN §5.3)."""
        out: dict[str, Any] = dict(self.identity)
        if self.attributes is not None:
            out.update(self.attributes)
            out["restrictions"] = split_restrictions(self.attributes.get("restrictions"))  # a JSON list
        out["score"] = self.score
        out["rank"] = self.rank
        if self.excluded_by is not None:
            out["excluded_by"] = self.excluded_by
        out.update(self.indicators)
        out["missing"] = list(self.missing)
        if self.stability is not None:
            out["stability"] = {"top": self.stability.top, "probability": self.stability.probability}
        if self.breakdown is not None:
            out["breakdown"] = {c.criterion: c.to_dict() for c in self.breakdown}
        return out


def plain(x: Any) -> Any:
    """Convert numpy scalars to JSON-ready Python values (NaN → None, floats to 6 decimals)."""
    if isinstance(x, (np.bool_, bool)):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if math.isnan(x) else round(float(x), 6)
    return x


def plain_list(a: np.ndarray) -> list[Any]:
    """Like ``[plain(x) for x in a]``, fast for numeric and boolean arrays."""
    if a.dtype.kind == "f":
        return [None if x != x else round(x, 6) for x in a.tolist()]
    if a.dtype.kind in "biu":
        values: list[Any] = a.tolist()
        return values
    return [plain(x) for x in a]


def plain_column(col: pd.Series) -> list[Any]:
    """``plain_list`` of a column; text as it is, missing values as None (no check per value)."""
    if isinstance(col.dtype, pd.StringDtype):
        text = np.array(col.to_numpy(dtype=object), dtype=object)  # a copy of its own
        text[col.isna().to_numpy(bool)] = None
        values: list[Any] = text.tolist()
        return values
    return plain_list(col.to_numpy())


def points_of(v: np.ndarray, weights: Sequence[float]) -> np.ndarray:
    """Points per row and criterion: ``100 · wᵢ · vᵢ / Σ w`` over the criteria with data.

    ``v`` is (rows × criteria) with NaN for missing data; missing criteria get NaN points.
    """
    w = np.asarray(weights, dtype=float)
    ok = ~np.isnan(v)
    avail = np.zeros(len(v))
    for i in range(len(w)):  # summed in criterion order, as the score is
        avail = avail + np.where(ok[:, i], w[i], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(avail[:, None] == 0, 0.0, 100.0 * w * v / avail[:, None])


@dataclass(frozen=True)
class ResultColumns:
    """The results of many sites as columns: what ``build_results`` turns into one
    ``SiteResult`` per row, and what flat exports (one column per field) write directly.

    ``fields`` holds the identity, attribute and indicator fields as JSON-ready lists; ``v``
    (rounded to 4 decimals) and ``points`` (3 decimals) are rows × criteria in ``order``, NaN
    where the criterion has no data; ``rank`` is None for a site that is not ranked.
    """

    order: tuple[str, ...]
    weights: tuple[float, ...]
    indicator_names: Mapping[str, Sequence[str]]
    fields: dict[str, list[Any]]
    score: list[float | None]
    rank: list[int | None]
    excluded_by: list[str | None] | None
    missing: np.ndarray  # rows × criteria, bool
    v: np.ndarray
    points: np.ndarray
    stability: list[float] | None
    stability_top: int | None

    def __len__(self) -> int:
        return len(self.score)

    def excluded(self, j: int) -> str | None:
        """Why row ``j`` is not ranked (None for a ranked site)."""
        return None if self.rank[j] is not None or self.excluded_by is None else self.excluded_by[j]

    def missing_of(self, j: int) -> tuple[str, ...]:
        """The criteria without data at row ``j``."""
        return tuple(c for c, m in zip(self.order, self.missing[j].tolist(), strict=True) if m)


def result_columns(
    cols: Mapping[str, np.ndarray],
    v: np.ndarray,
    weights: Mapping[str, float],
    order: Sequence[str],
    indicator_names: Mapping[str, Sequence[str]],
    score: np.ndarray,
    rank: np.ndarray,
    excluded_by: np.ndarray | None,
    stability: np.ndarray | None = None,
    stability_top: int | None = None,
) -> ResultColumns:
    """The results of many rows as columns.

    ``cols`` holds the identity and indicator arrays of the rows (already sliced), ``v`` their
    values (rows × criteria, in ``order``), ``score``/``rank``/``excluded_by``/``stability``
    per row (rank 0 = not ranked), ``indicator_names`` the indicator fields of each criterion.
    """
    n = len(v)
    names = set(IDENTITY_FIELDS) | set(INDICATOR_FIELDS) | set(ATTRIBUTE_FIELDS)
    names |= {k for c in order for k in indicator_names[c]}
    lists = {k: plain_list(np.asarray(cols[k])) if k in cols else [None] * n for k in names}
    for k in INTEGER_FIELDS & names:  # years are integers, also where stored as float
        lists[k] = [None if x is None else int(x) for x in lists[k]]
    w = tuple(float(weights[c]) for c in order)
    miss = np.isnan(v)
    points = np.round(points_of(v, w), 3)
    points[miss] = np.nan
    return ResultColumns(
        order=tuple(order),
        weights=w,
        indicator_names=indicator_names,
        fields=lists,
        score=[None if s != s else round(s, 3) for s in np.asarray(score, float).tolist()],
        rank=[int(k) or None for k in np.asarray(rank).tolist()],
        excluded_by=None if excluded_by is None else list(excluded_by),
        missing=miss,
        v=np.round(v, 4),
        points=points,
        stability=None if stability is None else np.asarray(stability).tolist(),
        stability_top=stability_top,
    )


def build_results(
    rc: ResultColumns, sources: Mapping[str, Source] | None = None, breakdown: bool = True
) -> list[SiteResult]:
    """One ``SiteResult`` per row of ``rc`` (with the breakdown unless ``breakdown`` is false)."""
    lists, order, w = rc.fields, rc.order, rc.weights
    miss_l = rc.missing.tolist()
    if breakdown:
        v_l = rc.v.tolist()
        pts_l = rc.points.tolist()
    src = sources or {}
    out = []
    for j in range(len(rc)):
        crit: tuple[CriterionScore, ...] | None = None
        if breakdown:
            crit = tuple(
                CriterionScore(
                    c,
                    {k: lists[k][j] for k in rc.indicator_names[c]},
                    None if miss_l[j][i] else v_l[j][i],
                    w[i],
                    None if miss_l[j][i] else pts_l[j][i],
                    src.get(c),
                )
                for i, c in enumerate(order)
            )
        out.append(
            SiteResult(
                identity={k: lists[k][j] for k in IDENTITY_FIELDS},
                attributes={k: lists[k][j] for k in ATTRIBUTE_FIELDS},
                indicators={k: lists[k][j] for k in INDICATOR_FIELDS},
                score=rc.score[j],
                rank=rc.rank[j],
                excluded_by=rc.excluded(j),
                missing=tuple(c for i, c in enumerate(order) if miss_l[j][i]),
                stability=(
                    None
                    if rc.stability is None or rc.stability_top is None
                    else Stability(rc.stability_top, round(rc.stability[j], 4))
                ),
                breakdown=crit,
            )
        )
    return out
