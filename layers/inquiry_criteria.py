"""What an investor inquiry matches (issue 19 §4): its criteria, checked, and one evaluation.

An inquiry's criteria are a ranking (profile, weight overrides, hard filters, hydrogen horizon;
checked by geo/query.py's ``RankingQuery`` and geo/filters.py's registry) with a minimum score
and/or a top N. Its matches in a snapshot are the ranked sites with a score ≥ the minimum, the
best ``top_n`` of them (at most ``MAX_MATCHES``). Against the previous run's matches, an
evaluation names the sites that newly match and those that no longer do, with the reason:
``removed`` from the data, excluded by a ``filter`` (named), ``below_min_score`` or
``out_of_top_n``. Errors name the field and never repeat what was sent.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from geo.criteria import CRITERIA, PROFILES
from geo.errors import InvalidParameter
from geo.filters import FILTERS, Filters
from geo.query import RankingQuery
from geo.scoring import Ranking
from layers.shortlists import MAX_NAME, clean_note

MAX_MATCHES = 1000  # the most sites an inquiry matches (and the largest top_n)
REASONS = ("removed", "filter", "below_min_score", "out_of_top_n")


def clean_name(name: Any) -> str:
    """An inquiry's name, whitespace collapsed; InvalidParameter naming the field."""
    if not isinstance(name, str):
        raise InvalidParameter("name: an inquiry needs a name (text)")
    name = " ".join(name.split())
    if not name:
        raise InvalidParameter("name: an inquiry needs a name")
    if len(name) > MAX_NAME:
        raise InvalidParameter(f"name: at most {MAX_NAME} characters")
    if any(ord(ch) < 32 for ch in name):
        raise InvalidParameter("name: no control characters")
    return str(name)


def clean_investor_note(note: Any) -> str:
    """The confidential note; InvalidParameter naming the field."""
    if not isinstance(note, str):
        raise InvalidParameter("note: must be text")
    try:
        return clean_note(note)
    except InvalidParameter as exc:
        raise InvalidParameter(f"note: {exc}") from None


@dataclass(frozen=True)
class Criteria:
    """What an inquiry matches: a ranking query plus a minimum score and/or a top N."""

    profile: str
    weights: tuple[tuple[str, float], ...] = ()
    filters: Filters = field(default_factory=Filters)
    h2_year: int | None = None
    min_score: float | None = None
    top_n: int | None = None

    @property
    def query(self) -> RankingQuery:
        """The ranking this inquiry reads (checked again: a release may change the profiles)."""
        return RankingQuery.of(self.profile, dict(self.weights), self.filters, self.h2_year)

    @property
    def limit(self) -> int:
        """How many of the best sites may match."""
        return min(self.top_n or MAX_MATCHES, MAX_MATCHES)

    def as_json(self) -> dict[str, Any]:
        """The stored and served form."""
        return {
            "profile": self.profile,
            "weights": dict(self.weights),
            "filters": self.filters.to_dict(),
            "h2_year": self.h2_year,
            "min_score": self.min_score,
            "top_n": self.top_n,
        }

    def ranking_params(self) -> dict[str, Any]:
        """The same ranking as ``GET /api/ranking`` query parameters (and the web map's link)."""
        out: dict[str, Any] = {"profile": self.profile}
        out.update({f"w_{c}": w for c, w in self.weights})
        if self.h2_year is not None:
            out["h2_year"] = self.h2_year
        for k, v in self.filters.to_dict().items():
            out[k] = ",".join(v) if isinstance(v, list) else v
        return out


def _number(value: Any, name: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidParameter(f"{name}: must be a number between {lo:g} and {hi:g}")
    if not (lo <= value <= hi):
        raise InvalidParameter(f"{name}: must be between {lo:g} and {hi:g}")
    return float(value)


def _weights(raw: Any) -> tuple[tuple[str, float], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise InvalidParameter("weights: an object of criterion: weight")
    out = []
    for name, value in raw.items():
        if name not in CRITERIA:  # never repeat the unknown name
            raise InvalidParameter(f"weights: unknown criterion; criteria: {', '.join(CRITERIA)}")
        out.append((str(name), _number(value, f"weights.{name}", 0, 1e6)))
    return tuple(sorted(out))


def _filters(raw: Any) -> Filters:
    if raw is None:
        return Filters()
    if not isinstance(raw, Mapping):
        raise InvalidParameter("filters: an object of filter: value")
    for name in raw:
        if name not in FILTERS:
            raise InvalidParameter(f"filters: unknown filter; filters: {', '.join(FILTERS)}")
    try:
        return Filters(**{str(k): v for k, v in raw.items()})
    except InvalidParameter as exc:
        raise InvalidParameter(f"filters: {exc}") from None


def clean_criteria(raw: Mapping[str, Any]) -> Criteria:
    """Criteria from plain JSON values, each checked (InvalidParameter naming the field)."""
    profile = raw.get("profile") or "balanced"
    if profile not in PROFILES:
        raise InvalidParameter(f"profile: unknown profile; profiles: {', '.join(PROFILES)}")
    min_score = raw.get("min_score")
    top_n = raw.get("top_n")
    if min_score is None and top_n is None:
        raise InvalidParameter("min_score or top_n: an inquiry needs a minimum score, a top N or both")
    if min_score is not None:
        min_score = _number(min_score, "min_score", 0, 100)
    if top_n is not None:
        if isinstance(top_n, bool) or not isinstance(top_n, int) or not (1 <= top_n <= MAX_MATCHES):
            raise InvalidParameter(f"top_n: a whole number between 1 and {MAX_MATCHES}")
    h2 = raw.get("h2_year")
    c = Criteria(
        str(profile), _weights(raw.get("weights")), _filters(raw.get("filters")), h2, min_score, top_n
    )
    try:
        c.query  # noqa: B018  # the ranking query checks the weights together and the horizon
    except InvalidParameter as exc:
        field_name = "h2_year" if "h2_year" in str(exc) else "weights"
        raise InvalidParameter(f"{field_name}: {exc}") from None
    return c


@dataclass(frozen=True)
class Target:
    """The snapshot inquiries run against: its id and creation time, site ids by row, a ranking
    function (e.g. the Service's cache) and a site's short description by row."""

    snapshot: str
    created: str
    site_id: np.ndarray
    rank: Callable[[RankingQuery], Ranking]
    describe: Callable[[int], dict[str, Any]]
    row_of: Mapping[str, int]


@dataclass(frozen=True)
class Evaluation:
    """One inquiry's matches in a target, and the changes against the previous run's matches."""

    sites: list[str]
    new: list[tuple[str, dict[str, Any]]]
    gone: list[tuple[str, str, dict[str, Any]]]  # site, reason, detail


def evaluate(c: Criteria, r: Ranking, t: Target, previous: list[str] | None) -> Evaluation:
    """The matches of ``c`` in ranking ``r`` of target ``t``; with ``previous`` (the last run's
    matches) the sites that newly match and those that no longer do, with the reason."""
    order = r.order
    if c.min_score is not None:
        order = order[r.score[order] >= c.min_score]
    order = order[: c.limit]
    sites = t.site_id[order].tolist()
    if previous is None:
        return Evaluation(sites, [], [])
    before, now = set(previous), set(sites)
    new = [(s, _detail(t, r, row)) for s, row in zip(sites, order.tolist(), strict=True) if s not in before]
    gone: list[tuple[str, str, dict[str, Any]]] = []
    for s in previous:
        if s in now:
            continue
        row = t.row_of.get(s)
        if row is None:
            gone.append((s, "removed", {}))
            continue
        d = _detail(t, r, row)
        why = r.excluded_by[row] if r.excluded_by is not None else None
        if why is not None:
            gone.append((s, "filter", {**d, "filter": str(why)}))
        elif c.min_score is not None and d["score"] is not None and d["score"] < c.min_score:
            gone.append((s, "below_min_score", d))
        else:
            gone.append((s, "out_of_top_n", d))
    return Evaluation(sites, new, gone)


def _detail(t: Target, r: Ranking, row: int) -> dict[str, Any]:
    score = float(r.score[row])
    return {
        **t.describe(row),
        "score": None if math.isnan(score) else round(score, 2),
        "rank": int(r.rank[row]) or None,
    }


def when(text: str) -> dt.datetime:
    """A stored ISO time as an aware datetime (UTC unless it says otherwise)."""
    d = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return d if d.tzinfo else d.replace(tzinfo=dt.UTC)


def parse_since(value: str) -> dt.datetime | None:
    """An ISO date or time (UTC unless given), or None when ``value`` is not one."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?", value):
        return None
    try:
        d = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if len(value) == 10:  # a date: from its start on
        d -= dt.timedelta(microseconds=1)
    return d if d.tzinfo else d.replace(tzinfo=dt.UTC)
