"""Scores, hard filters, breakdowns, rankings and rank stability.

``score = 100 · Σ wᵢ·vᵢ / Σ wᵢ`` over the criteria with data for that site: a criterion whose
indicator is missing is left out of both sums and listed in ``missing`` (never counted as 0).
Ranks are 1-based among the sites that pass the filters, ties broken by ``site_id``.

Rank stability (Monte Carlo): every weight is multiplied by an independent factor drawn
uniformly from [1 − spread, 1 + spread] (default ±25 %), ``draws`` times with a fixed seed; a site's
stability is the share of draws in which it stays in the top N.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geo.criteria import CRITERIA, CRITERIA_ORDER, Profile, effective_weights, get_profile
from geo.errors import InvalidParameter
from geo.indicators import pick_horizon
from geo.result import ResultColumns, SiteResult, Source, build_results, result_columns

FILTER_NAMES = (
    "min_area_ha",
    "max_area_ha",
    "max_h2_km",
    "kind",
    "ags",
    "kreis",
    "min_fibre",
    "min_5g",
    "contamination",
)


@dataclass(frozen=True)
class Filters:
    """Hard filters; a site failing one is excluded with that filter's name as the reason."""

    min_area_ha: float | None = None
    max_area_ha: float | None = None
    max_h2_km: float | None = None
    kind: tuple[str, ...] = ()
    ags: tuple[str, ...] = ()
    kreis: tuple[str, ...] = ()
    min_fibre: float | None = None
    min_5g: float | None = None
    contamination: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("min_area_ha", "max_area_ha", "max_h2_km", "min_fibre", "min_5g"):
            v = getattr(self, name)
            if v is not None and (not math.isfinite(v) or v < 0):
                raise InvalidParameter(f"{name} must be a finite number ≥ 0")
        for name in ("min_fibre", "min_5g"):
            v = getattr(self, name)
            if v is not None and v > 1:
                raise InvalidParameter(f"{name} is a share between 0 and 1")


H2_YEARS = (2025, 2050)
V_DECIMALS = 4


def with_horizon(p: Profile, h2_year: int | None) -> Profile:
    """The profile with another hydrogen horizon year (None keeps the profile's own)."""
    if h2_year is None or h2_year == p.h2_horizon:
        return p
    if not (H2_YEARS[0] <= h2_year <= H2_YEARS[1]):
        raise InvalidParameter(f"h2_year must be between {H2_YEARS[0]} and {H2_YEARS[1]}")
    return p.model_copy(update={"h2_horizon": int(h2_year)})


@dataclass
class Ranking:
    """A ranking: ordered row positions, scores, and why other sites were excluded."""

    profile: Profile
    weights: dict[str, float]
    order: np.ndarray  # row positions of included sites, best first
    score: np.ndarray  # score per row (NaN for excluded)
    rank: np.ndarray  # rank per row (0 for excluded)
    excluded: dict[str, int]
    values: np.ndarray  # v per row and criterion
    excluded_by: np.ndarray | None = None  # per row: the filter that excluded it (None if ranked)
    stability: np.ndarray | None = None
    stability_top: int | None = None
    stability_params: dict[str, Any] = field(default_factory=dict)


class Scorer:
    """Scores the stored sites; holds the indicator arrays once, re-ranks in milliseconds."""

    def __init__(self, sites: pd.DataFrame):
        self.sites = sites
        self.n = len(sites)
        self.site_id = sites["site_id"].to_numpy(str)
        self._values: dict[tuple[Any, ...], np.ndarray] = {}
        self._cols = {c: sites[c].to_numpy() for c in sites.columns if c != "geometry"}
        self.h2_years = sorted(int(c.rsplit("_", 1)[1]) for c in sites.columns if c.startswith("_h2_km_"))
        self.has_h2 = bool(self.h2_years)

    # -- indicators and values --------------------------------------------------------------
    def indicators(self, profile: Profile, rows: np.ndarray | slice = slice(None)) -> dict[str, np.ndarray]:
        """Indicator arrays, with the hydrogen distance for the profile's horizon."""
        cols = {k: v[rows] for k, v in self._cols.items()}
        if self.has_h2:  # columns exist for every commissioning year: pick the horizon's
            by_year = {
                y: (cols[f"_h2_km_{y}"].astype(float), cols[f"_h2_year_{y}"].astype(float))
                for y in self.h2_years
            }
            cols["h2_distance_km"], cols["h2_commissioning_year"] = pick_horizon(
                by_year, profile.h2_horizon, len(cols["site_id"])
            )
        return cols

    def values(self, profile: Profile) -> np.ndarray:
        """v per site and criterion (n × 7, NaN = missing); cached per profile parameters."""
        key = profile.params_key()
        if key not in self._values:
            ind = self.indicators(profile)
            v = np.column_stack([CRITERIA[c].value(ind, profile) for c in CRITERIA_ORDER])
            # 4 decimals (the breakdown's precision): v = k / 10⁴ exactly as the browser decodes
            # the compact value array, so both compute bit-identical scores
            v = np.round(v, V_DECIMALS)
            if not self.has_h2:
                v[:, CRITERIA_ORDER.index("h2")] = np.nan
            self._values[key] = v
        return self._values[key]

    # -- scoring ----------------------------------------------------------------------------
    @staticmethod
    def combine(v: np.ndarray, w: np.ndarray) -> np.ndarray:
        """score = 100 · Σ w·v / Σ w over available criteria; v (n × c), w (c,) or (c × k).

        The sums run left to right in criterion order, one IEEE double operation at a time, so
        that equal sites get equal scores and the web UI (maps/static/js/scoring.js) computes
        bit-identical scores, hence the same order and tie-breaks.
        """
        ok = ~np.isnan(v)
        shape = (len(v),) if w.ndim == 1 else (len(v), w.shape[1])
        num = np.zeros(shape)
        den = np.zeros(shape)
        for i in range(v.shape[1]):  # no BLAS: its rounding may differ between equal rows
            wi = w[i] if w.ndim == 1 else w[i][None, :]
            oki = ok[:, i] if w.ndim == 1 else ok[:, i, None]
            vi = v[:, i] if w.ndim == 1 else v[:, i, None]
            num = num + np.where(oki, wi * vi, 0.0)
            den = den + np.where(oki, wi, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, 100.0 * num / den, np.nan)

    def mask(self, f: Filters, profile: Profile) -> tuple[np.ndarray, dict[str, int], np.ndarray]:
        """Return the included-sites mask, how many sites each filter excluded, and per site the
        first filter that excluded it (None for included sites).
        """
        c = self._cols
        keep = np.ones(self.n, dtype=bool)
        excluded: dict[str, int] = {}
        reason = np.full(self.n, None, dtype=object)

        def apply(name: str, ok: np.ndarray) -> None:
            nonlocal keep
            newly = keep & ~ok
            if newly.any():
                excluded[name] = int(newly.sum())
                reason[newly] = name
            keep &= ok

        min_area = f.min_area_ha if f.min_area_ha is not None else profile.min_area_ha
        if min_area is not None:
            apply("min_area_ha", c["area_ha"] >= min_area)
        if f.max_area_ha is not None:
            apply("max_area_ha", c["area_ha"] <= f.max_area_ha)
        if f.max_h2_km is not None:
            d = self.indicators(profile)["h2_distance_km"].astype(float)
            apply("max_h2_km", np.nan_to_num(d, nan=np.inf) <= f.max_h2_km)
        if f.kind:
            apply("kind", np.isin(c["kind"], f.kind))
        if f.ags:
            apply("ags", np.isin(c["ags"].astype(str), f.ags))
        if f.kreis:
            apply("kreis", np.isin(c["kreis_ags"].astype(str), f.kreis))
        if f.min_fibre is not None:
            apply("min_fibre", np.nan_to_num(c["fibre_share"].astype(float), nan=-1) >= f.min_fibre)
        if f.min_5g is not None:
            apply("min_5g", np.nan_to_num(c["mobile_5g_share"].astype(float), nan=-1) >= f.min_5g)
        if f.contamination:
            cont = np.array([x if isinstance(x, str) else "not_applicable" for x in c["contamination"]])
            apply("contamination", np.isin(cont, f.contamination + ("not_applicable",)))
        return keep, excluded, reason

    def rank(
        self,
        profile: str | None = None,
        weights: Mapping[str, Any] | None = None,
        filters: Filters | None = None,
        stability_top: int | None = None,
        draws: int = 200,
        spread: float = 0.25,
        seed: int = 0,
        h2_year: int | None = None,
    ) -> Ranking:
        """Score, filter and order all sites; optionally add Monte Carlo rank stability.

        ``h2_year`` replaces the profile's hydrogen horizon (the UI's timeline).
        """
        p = with_horizon(get_profile(profile), h2_year)
        w = effective_weights(p, weights)
        wv = np.array([w[c] for c in CRITERIA_ORDER])
        v = self.values(p)
        score = self.combine(v, wv)
        keep, excluded, reason = self.mask(filters or Filters(), p)
        nodata = keep & np.isnan(score)
        if nodata.any():
            excluded["no_data"] = int(nodata.sum())
            reason[nodata] = "no_data"
            keep &= ~nodata
        idx = np.flatnonzero(keep)
        # best first; ties by site_id for a stable order
        order = idx[np.lexsort((self.site_id[idx], -score[idx]))]
        rank = np.zeros(self.n, dtype=np.int64)
        rank[order] = np.arange(1, len(order) + 1)
        out_score = np.where(keep, score, np.nan)
        r = Ranking(p, w, order, out_score, rank, excluded, v, reason)
        if stability_top:
            r.stability = self.stability(v[idx], wv, stability_top, draws, spread, seed, idx)
            r.stability_top = stability_top
            r.stability_params = {"draws": draws, "spread": spread, "seed": seed, "top": stability_top}
        return r

    def stability(
        self, v: np.ndarray, w: np.ndarray, top: int, draws: int, spread: float, seed: int, idx: np.ndarray
    ) -> np.ndarray:
        """Probability per site (row) of staying in the top ``top`` under weight noise."""
        if not (1 <= draws <= 2000):
            raise InvalidParameter("draws must be between 1 and 2000")
        if not (0 <= spread < 1):
            raise InvalidParameter("spread must be in [0, 1)")
        out = np.zeros(self.n)
        m = len(idx)
        if m == 0:
            return out
        by_id = np.argsort(self.site_id[idx], kind="stable")  # ties go to the smaller site_id
        v = v[by_id]
        rng = np.random.default_rng(seed)
        factors = rng.uniform(1 - spread, 1 + spread, size=(len(w), draws))
        hits = np.zeros(m)
        k = min(top, m)
        chunk = max(1, int(2e7 // m))
        for start in range(0, draws, chunk):
            s = np.nan_to_num(
                self.combine(v, w[:, None] * factors[:, start : start + chunk]), nan=-1.0
            )  # m × draws
            kth = -np.partition(-s, k - 1, axis=0)[k - 1]
            above = s > kth
            tie = s == kth
            need = k - above.sum(axis=0)
            hits += (above | (tie & (np.cumsum(tie, axis=0) <= need))).sum(axis=1)
        out[idx[by_id]] = hits / draws
        return out

    # -- results ----------------------------------------------------------------------------
    def columns(self, r: Ranking, rows: np.ndarray) -> ResultColumns:
        """The results of the given rows of ranking ``r`` as columns (see geo/result.py)."""
        rows = np.asarray(rows, dtype=np.int64)
        return result_columns(
            self.indicators(r.profile, rows),
            r.values[rows],
            r.weights,
            CRITERIA_ORDER,
            {c: CRITERIA[c].indicators for c in CRITERIA_ORDER},
            r.score[rows],
            r.rank[rows],
            None if r.excluded_by is None else r.excluded_by[rows],
            None if r.stability is None else r.stability[rows],
            r.stability_top,
        )

    def results(
        self,
        r: Ranking,
        rows: np.ndarray,
        sources: Mapping[str, Source] | None = None,
        breakdown: bool = True,
    ) -> list[SiteResult]:
        """The typed results of the given rows of ranking ``r`` (see geo/result.py)."""
        return build_results(self.columns(r, rows), sources, breakdown)

    def breakdown(self, r: Ranking, row: int) -> dict[str, dict[str, Any]]:
        """Per criterion: indicator value(s), v, weight and points for one site."""
        res = self.results(r, np.array([row]))[0]
        return {c.criterion: c.to_dict() for c in res.breakdown or ()}


def percentile(scores: np.ndarray, value: float) -> float:
    """Share (0–100) of stored sites scoring at or below ``value``."""
    s = scores[~np.isnan(scores)]
    return float(100.0 * (s <= value).sum() / len(s)) if len(s) else float("nan")


def parse_list(values: Sequence[str] | str | None) -> tuple[str, ...]:
    """Split comma-separated lists from query strings or the command line."""
    if values is None:
        return ()
    items = [values] if isinstance(values, str) else list(values)
    return tuple(x.strip() for item in items for x in item.split(",") if x.strip())
