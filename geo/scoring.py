"""Scores, hard filters, breakdowns, rankings and rank stability.

``score = 100 · Σ wᵢ·vᵢ / Σ wᵢ`` over the criteria with data for that site: a criterion whose
indicator is missing is left out of both sums and listed in ``missing`` (never counted as 0).
Ranks are 1-based among the sites that pass the filters, ties broken by ``site_id``.

Rank stability (Monte Carlo): every weight is multiplied by an independent factor drawn
uniformly from [1 − spread, 1 + spread] (default ±25 %), ``draws`` times with a fixed seed; a site's
stability is the share of draws in which it stays in the top N.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geo.criteria import CRITERIA, CRITERIA_ORDER, Profile
from geo.errors import InvalidParameter
from geo.filters import NO_DATA, Filters, FilterSpec, apply_filters
from geo.indicators import pick_horizon
from geo.query import RankingQuery
from geo.result import ResultColumns, SiteResult, Source, build_results, result_columns

V_DECIMALS = 4


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


def _column(values: Any, n: int) -> np.ndarray:
    """A column as a numpy array, as a frame holds it (a scalar repeated ``n`` times)."""
    if isinstance(values, pd.Series):
        return values.to_numpy()
    return np.asarray(values) if np.ndim(values) else np.full(n, values)


def _numeric(col: pd.Series) -> bool:
    """True for a column held as a plain numpy number or bool array (``to_numpy`` is a view)."""
    return isinstance(col.dtype, np.dtype) and col.dtype.kind in "biuf"


class Scorer:
    """Scores the stored sites; holds the indicator arrays once, re-ranks in milliseconds."""

    def __init__(self, sites: pd.DataFrame | Mapping[str, Any]):
        """``sites``: the indicator table, a frame or its columns by name (arrays, Series, or
        scalars a frame would repeat on every row: ad-hoc scoring builds no frame)."""
        self.sites = sites
        named = {c: sites[c] for c in sites.columns} if isinstance(sites, pd.DataFrame) else dict(sites)
        self.n = len(named["site_id"])
        self._cols = {c: _column(v, self.n) for c, v in named.items() if c != "geometry"}
        self.site_id = self._cols["site_id"].astype(str)
        self._values: dict[tuple[Any, ...], np.ndarray] = {}
        self.h2_years = sorted(int(c.rsplit("_", 1)[1]) for c in self._cols if c.startswith("_h2_km_"))
        self.has_h2 = bool(self.h2_years)

    def subset(self, sites: pd.DataFrame, rows: np.ndarray) -> Scorer:
        """The scorer of ``sites``, which are this scorer's rows ``rows`` with some columns
        dropped (the public view's sites): its columns are taken from this one's, not converted
        from the frame again, its texts are the same string objects, and the values computed so
        far come along (a site's v depends on its own row only)."""
        if len(sites) != len(rows):
            raise ValueError(f"{len(rows)} rows given for {len(sites)} sites")
        out = Scorer.__new__(Scorer)
        out.sites = sites
        out.n = len(rows)
        # numbers as views of the frame's own arrays (no copy); texts and other objects as the
        # same objects this scorer holds (not converted from the frame again)
        out._cols = {
            c: _column(sites[c], out.n) if _numeric(sites[c]) else self._cols[c][rows]
            for c in sites.columns
            if c != "geometry"
        }
        out.site_id = self.site_id[rows]
        out._values = {k: v[rows] for k, v in self._values.items()}
        out.h2_years = self.h2_years
        out.has_h2 = self.has_h2
        return out

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
        first filter that excluded it (None for included sites); see geo/filters.py.
        """

        def column(spec: FilterSpec) -> np.ndarray | None:
            if spec.at_horizon:  # e.g. the hydrogen distance of the profile's horizon
                return self.indicators(profile).get(spec.column)
            return self._cols.get(spec.column)

        return apply_filters(f, column, self.n, {"min_area_ha": profile.min_area_ha})

    def run(self, q: RankingQuery) -> Ranking:
        """Score, filter and order all sites for one query (its page is not applied); with
        ``q.stability``, add Monte Carlo rank stability. Ties break by ``site_id``.
        """
        p = q.resolved_profile()
        w = q.effective_weights()
        wv = np.array([w[c] for c in CRITERIA_ORDER])
        v = self.values(p)
        score = self.combine(v, wv)
        keep, excluded, reason = self.mask(q.filters, p)
        nodata = keep & np.isnan(score)
        if nodata.any():
            excluded[NO_DATA] = int(nodata.sum())
            reason[nodata] = NO_DATA
            keep &= ~nodata
        idx = np.flatnonzero(keep)
        # best first; ties by site_id for a stable order
        order = idx[np.lexsort((self.site_id[idx], -score[idx]))]
        rank = np.zeros(self.n, dtype=np.int64)
        rank[order] = np.arange(1, len(order) + 1)
        out_score = np.where(keep, score, np.nan)
        r = Ranking(p, w, order, out_score, rank, excluded, v, reason)
        st = q.stability
        if st is not None:
            r.stability = self.stability(v[idx], wv, st.top, st.draws, st.spread, st.seed, idx)
            r.stability_top = st.top
            r.stability_params = st.params()
        return r

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
        """``run`` with the query made from these values (``RankingQuery.of``), for callers
        holding plain values (tests, benchmarks).
        """
        return self.run(
            RankingQuery.of(profile, weights, filters, h2_year, stability_top or None, draws, spread, seed)
        )

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
