"""A ranking as one typed, frozen query, and the one cache of rankings keyed by it.

Every ranking (the HTTP ranking, one site's score, ad-hoc polygons, the exports, the command
line's ``score`` and ``score --sites``) is asked for as a ``RankingQuery``: the profile, the weight
overrides, the hard filters (geo/filters.py), the hydrogen horizon, rank stability and the page.
It is built once at the edge (api/dependencies.py from query parameters, api/cli.py from
options), checked and normalised there, so that two queries with the same effect are equal:
weights equal to the profile's are dropped, the horizon is always the effective year, filter
lists are sorted. ``geo.scoring.Scorer.run(query)`` ranks; ``RankingCache`` keeps rankings by
``query.key`` (the query without its page).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from geo.criteria import PROFILES, Profile, effective_weights, get_profile
from geo.errors import InvalidParameter
from geo.filters import Filters

if TYPE_CHECKING:
    from geo.scoring import Ranking

H2_YEARS = (2025, 2050)
MAX_DRAWS = 2000
MAX_SEED = 2**32 - 1


def with_horizon(p: Profile, h2_year: int | None) -> Profile:
    """The profile with another hydrogen horizon year (None keeps the profile's own)."""
    if h2_year is None or h2_year == p.h2_horizon:
        return p
    if isinstance(h2_year, bool) or not isinstance(h2_year, int):
        raise InvalidParameter("h2_year must be a whole year")
    if not (H2_YEARS[0] <= h2_year <= H2_YEARS[1]):
        raise InvalidParameter(f"h2_year must be between {H2_YEARS[0]} and {H2_YEARS[1]}")
    return p.model_copy(update={"h2_horizon": int(h2_year)})


def _whole(value: Any, name: str, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo or (hi is not None and value > hi):
        raise InvalidParameter(
            f"{name} must be a whole number between {lo} and {hi}"
            if hi
            else f"{name} must be a whole number ≥ {lo}"
        )
    return int(value)


@dataclass(frozen=True)
class Stability:
    """Monte Carlo rank stability: the share of ``draws`` weight draws (each weight times a
    factor in [1 − spread, 1 + spread], fixed ``seed``) in which a site stays in the top ``top``.
    """

    top: int
    draws: int = 200
    spread: float = 0.25
    seed: int = 0

    def __post_init__(self) -> None:
        _whole(self.top, "stability", 1)
        if (
            isinstance(self.draws, bool)
            or not isinstance(self.draws, int)
            or not (1 <= self.draws <= MAX_DRAWS)
        ):
            raise InvalidParameter(f"draws must be between 1 and {MAX_DRAWS}")
        if (
            isinstance(self.spread, bool)
            or not isinstance(self.spread, int | float)
            or not (0 <= self.spread < 1)
        ):
            raise InvalidParameter("spread must be in [0, 1)")
        _whole(self.seed, "seed", 0, MAX_SEED)

    def params(self) -> dict[str, Any]:
        """The parameters as the ranking response names them."""
        return {"draws": self.draws, "spread": self.spread, "seed": self.seed, "top": self.top}


@dataclass(frozen=True)
class Page:
    """Which ranked sites to return: ``limit`` of them after skipping ``offset``."""

    limit: int = 100
    offset: int = 0

    def __post_init__(self) -> None:
        _whole(self.limit, "limit", 0)
        _whole(self.offset, "offset", 0)

    def of(self, n: int) -> slice:
        """The slice of an ordered list this page takes."""
        return slice(self.offset, self.offset + self.limit) if self.offset < n else slice(n, n)


@dataclass(frozen=True)
class RankingQuery:
    """One ranking, fully described; checked and normalised when made (InvalidParameter if bad).

    ``weights`` are the overrides of the profile's weights that differ from it, as sorted
    (criterion, weight) pairs; ``h2_year`` is the effective hydrogen horizon (the profile's own
    when not given). Use ``RankingQuery.of(...)`` to build one from plain values.
    """

    profile: str
    weights: tuple[tuple[str, float], ...] = ()
    filters: Filters = field(default_factory=Filters)
    h2_year: int | None = None
    stability: Stability | None = None
    page: Page = field(default_factory=Page)

    def __post_init__(self) -> None:
        if not isinstance(self.filters, Filters):
            raise InvalidParameter("filters must be Filters")
        base = get_profile(self.profile)
        p = with_horizon(base, self.h2_year)
        w = effective_weights(p, dict(self.weights))  # checks names, values, not all zero
        own = {c: float(base.weights.get(c, 0.0)) for c in w}
        overrides = tuple(sorted((c, v) for c, v in w.items() if v != own[c]))
        object.__setattr__(self, "profile", p.name)
        object.__setattr__(self, "weights", overrides)
        object.__setattr__(self, "h2_year", p.h2_horizon)

    @classmethod
    def of(
        cls,
        profile: str | None = None,
        weights: Mapping[str, Any] | None = None,
        filters: Filters | None = None,
        h2_year: int | None = None,
        stability_top: int | None = None,
        draws: int = 200,
        spread: float = 0.25,
        seed: int = 0,
        limit: int = 100,
        offset: int = 0,
    ) -> RankingQuery:
        """The query from plain values (as query parameters and options give them)."""
        return cls(
            profile=get_profile(profile).name,
            weights=tuple((weights or {}).items()),
            filters=filters if filters is not None else Filters(),
            h2_year=h2_year,
            stability=Stability(stability_top, draws, spread, seed) if stability_top is not None else None,
            page=Page(limit, offset),
        )

    @property
    def key(self) -> RankingQuery:
        """The query without its page: every page of one ranking shares it (the cache key)."""
        return self if self.page == Page() else replace(self, page=Page())

    @property
    def is_default(self) -> bool:
        """True for a profile's own ranking: its weights and horizon, no filter, no stability."""
        own = PROFILES[self.profile].h2_horizon
        return not self.weights and not self.filters and self.stability is None and self.h2_year == own

    def resolved_profile(self) -> Profile:
        """The profile with the query's horizon."""
        return with_horizon(get_profile(self.profile), self.h2_year)

    def effective_weights(self) -> dict[str, float]:
        """Every criterion's weight: the profile's, with the overrides applied."""
        return effective_weights(get_profile(self.profile), dict(self.weights))

    def scores_only(self) -> RankingQuery:
        """The same weights and horizon without filters, stability or page (for percentiles)."""
        return replace(self, filters=Filters(), stability=None, page=Page())


@dataclass
class _Entry:
    ranking: Ranking
    pages: dict[Hashable, bytes] = field(default_factory=dict)


class RankingCache:
    """Rankings by ``query.key``: the profiles' own rankings are kept for good, other rankings
    in least-recently-used order up to ``size``. The serialised pages of the profiles' own
    rankings are kept with them (at most ``pages`` in all). Thread-safe; a ranking is computed
    outside the lock (two threads may compute the same one; both get an equal result).
    """

    def __init__(self, compute: Callable[[RankingQuery], Ranking], size: int = 32, pages: int = 256):
        self._compute = compute
        self._size = size
        self._max_pages = pages
        self._pages = 0
        self._own: dict[RankingQuery, _Entry] = {}
        self._recent: OrderedDict[RankingQuery, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def _entry(self, q: RankingQuery) -> _Entry:
        key = q.key
        with self._lock:
            e = self._own.get(key) or self._recent.get(key)
            if e is not None:
                if key in self._recent:
                    self._recent.move_to_end(key)
                return e
        e = _Entry(self._compute(key))
        with self._lock:
            if key.is_default:
                return self._own.setdefault(key, e)
            e = self._recent.setdefault(key, e)
            self._recent.move_to_end(key)
            while len(self._recent) > self._size:
                self._recent.popitem(last=False)
            return e

    def ranking(self, q: RankingQuery) -> Ranking:
        """The ranking of ``q`` (its page is ignored)."""
        return self._entry(q).ranking

    def page(self, q: RankingQuery, variant: Hashable, render: Callable[[Ranking], bytes]) -> bytes:
        """The page of ``q`` rendered as bytes; kept for the profiles' own rankings."""
        e = self._entry(q)
        if not q.is_default:
            return render(e.ranking)
        slot = (q.page, variant)
        with self._lock:
            body = e.pages.get(slot)
        if body is None:
            body = render(e.ranking)
            with self._lock:
                if slot not in e.pages and self._pages < self._max_pages:
                    e.pages[slot] = body
                    self._pages += 1
        return body
