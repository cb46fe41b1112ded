"""Reserves per municipality, Kreis, Regierungsbezirk and the state (Flächenbilanz, issue 19 §3).

Pure computation over a ``sites`` frame (no I/O; layers/reserves.py loads and caches). Every
additive figure is the sum, over the sites of a unit, of one per-site contribution: the site's
``area_ha`` where a condition holds (``reserve_ha_gib``, ``available_now_ha``, …) or 1 (the site
counts). ``figure_mask`` gives that condition, so each figure can be listed back to its sites
and the listed areas add up to it; units add up to the state by construction (one group-by on
the key prefix). Two figures are ratios of others: ``brownfield_share`` and
``takeup_ha_per_year``.

Units: the municipality (8-digit AGS), the Kreis (its first 5 digits), the Regierungsbezirk
(``district``, first 3 digits: 051 Düsseldorf … 059 Arnsberg) and the state (``05``). Every
municipality of the boundary layer is a unit, with zeros where it has no site, so a choropleth
has every area. Sites whose AGS is not 8 digits are counted in the state and reported as
``unassigned``.

Availability (DESIGN §5.4): ``now``, ``lt_1y``, ``1_3y``, ``gt_3y``, ``unknown``; older snapshots'
``lt2y`` is read as ``1_3y`` and ``gt2y`` as ``gt_3y``; a missing or other value is ``unknown``,
which never counts as available now. A missing ``marketable`` is False.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from geo.errors import InvalidParameter, NotFound

Level = Literal["municipality", "kreis", "district", "state"]
LEVELS: tuple[Level, ...] = ("municipality", "kreis", "district", "state")
KEY_DIGITS: dict[str, int] = {"municipality": 8, "kreis": 5, "district": 3, "state": 2}
DISTRICTS = {
    "051": "Düsseldorf",
    "053": "Köln",
    "055": "Münster",
    "057": "Detmold",
    "059": "Arnsberg",
}
STATE_KEY, STATE_NAME = "05", "Nordrhein-Westfalen"
CATEGORIES = ("GIB", "GIB_Z", "LARGE_PROJECT", "ASB_GE", "LEP", "BROWNFIELD")
AVAILABILITY = ("now", "lt_1y", "1_3y", "gt_3y", "unknown")
LEGACY_AVAILABILITY = {"lt2y": "1_3y", "gt2y": "gt_3y"}
BUCKETS = {"now": "now", "lt_1y": "1y", "1_3y": "later", "gt_3y": "later", "unknown": "unknown"}
LARGE_HA = (10.0, 50.0)
HA_DECIMALS = 4  # a square metre
MIN_YEARS = 1 / 365.25  # two snapshots closer than a day give no rate

Table = pd.DataFrame


@dataclass(frozen=True)
class Figure:
    """One figure of a unit: its name, kind (``ha``, ``count``, ``share``, ``ha_per_year``),
    labels and what it is."""

    name: str
    kind: str
    de: str
    en: str
    description: str

    def label(self, lang: str) -> str:
        """The column title in ``lang`` (de or en)."""
        return self.de if lang == "de" else self.en


_CATEGORY_WORDS = {
    "GIB": ("GIB", "GIB (industrial area)"),
    "GIB_Z": ("GIB mit Zweckbindung", "GIB with a designated use"),
    "LARGE_PROJECT": ("Großvorhaben", "large project"),
    "ASB_GE": ("ASB-GE", "ASB-GE (commercial in a settlement area)"),
    "LEP": ("LEP-Standort", "LEP large site"),
    "BROWNFIELD": ("Brache ohne Plan", "brownfield without a plan"),
}
FIGURES: tuple[Figure, ...] = (
    Figure("sites", "count", "Flächen (Anzahl)", "Sites (number)", "number of sites"),
    Figure("reserve_ha", "ha", "Reserve (ha)", "Reserve (ha)", "area of all sites"),
    *(
        Figure(
            f"reserve_ha_{c.lower()}",
            "ha",
            f"Reserve {de} (ha)",
            f"Reserve {en} (ha)",
            f"area of the sites with planning_category {c}",
        )
        for c, (de, en) in _CATEGORY_WORDS.items()
    ),
    Figure(
        "reserve_ha_uncategorised",
        "ha",
        "Reserve ohne Kategorie (ha)",
        "Reserve without category (ha)",
        "area of the sites without a (known) planning_category",
    ),
    Figure(
        "brownfield_ha", "ha", "Brachflächen (ha)", "Brownfields (ha)", "area of the sites with is_brownfield"
    ),
    Figure(
        "brownfield_share",
        "share",
        "Brachflächenanteil",
        "Brownfield share",
        "brownfield_ha / reserve_ha (null without reserve)",
    ),
    Figure(
        "available_now_ha",
        "ha",
        "Sofort verfügbar (ha)",
        "Available now (ha)",
        "area of the sites with availability now",
    ),
    Figure(
        "available_1y_ha",
        "ha",
        "Verfügbar binnen 1 Jahr (ha)",
        "Available within 1 year (ha)",
        "area of the sites with availability lt_1y",
    ),
    Figure(
        "available_later_ha",
        "ha",
        "Später verfügbar (ha)",
        "Available later (ha)",
        "area of the sites with availability 1_3y or gt_3y (older snapshots: lt2y, gt2y)",
    ),
    Figure(
        "available_unknown_ha",
        "ha",
        "Verfügbarkeit unbekannt (ha)",
        "Availability unknown (ha)",
        "area of the sites with availability unknown or missing",
    ),
    Figure(
        "marketable_ha",
        "ha",
        "Marktverfügbar (ha)",
        "Marketable (ha)",
        "area of the sites with marketable true (missing is false)",
    ),
    Figure(
        "sites_ge_10ha",
        "count",
        "Flächen ≥ 10 ha (Anzahl)",
        "Sites ≥ 10 ha (number)",
        "number of sites with area_ha ≥ 10",
    ),
    Figure(
        "sites_ge_50ha",
        "count",
        "Flächen ≥ 50 ha (Anzahl)",
        "Sites ≥ 50 ha (number)",
        "number of sites with area_ha ≥ 50",
    ),
    Figure(
        "takeup_ha",
        "ha",
        "Inanspruchnahme (ha)",
        "Take-up (ha)",
        "area of the predecessor's sites that are gone (not re-keyed) in this snapshot; "
        "null without a predecessor",
    ),
    Figure(
        "takeup_ha_per_year",
        "ha_per_year",
        "Inanspruchnahme (ha/Jahr)",
        "Take-up (ha/year)",
        "takeup_ha / years between the two snapshots' creation; null without a predecessor",
    ),
)
FIGURE_NAMES = tuple(f.name for f in FIGURES)
RATIOS = {"brownfield_share": ("brownfield_ha", "reserve_ha")}
ADDITIVE = tuple(f.name for f in FIGURES if f.kind in ("ha", "count") and f.name != "takeup_ha")
LISTABLE = (*ADDITIVE, "takeup_ha")
COUNTS = frozenset(f.name for f in FIGURES if f.kind == "count")


# -- per site --------------------------------------------------------------------------------
def _text(df: pd.DataFrame, name: str) -> np.ndarray:
    """A column as objects (None where missing; all None without the column)."""
    if name not in df.columns:
        return np.full(len(df), None, dtype=object)
    col = df[name].astype(object)
    return np.asarray(col.where(col.notna(), None).to_numpy(object))


def _series(df: pd.DataFrame, name: str) -> pd.Series:
    """A column as it is (all None without the column)."""
    return df[name] if name in df.columns else pd.Series([None] * len(df), index=df.index, dtype=object)


def _flag(df: pd.DataFrame, name: str) -> np.ndarray:
    """A boolean column; missing (no column, None, NaN) is False."""
    if name not in df.columns:
        return np.zeros(len(df), dtype=bool)
    return np.asarray(df[name].astype("boolean").fillna(False).to_numpy(bool))


def _recode(values: pd.Series | np.ndarray, fn: Callable[[Any], Any]) -> np.ndarray:
    """``fn`` applied to each distinct value once (missing values are passed as None)."""
    codes, uniq = pd.factorize(values, use_na_sentinel=True)
    table = np.array([fn(v) for v in uniq.tolist()] + [fn(None)], dtype=object)
    return table[codes]  # the sentinel -1 picks fn(None)


def _code(v: Any) -> Any:
    v = LEGACY_AVAILABILITY.get(v, v) if isinstance(v, str) else v
    return v if v in AVAILABILITY else "unknown"


def availability(values: pd.Series | np.ndarray) -> np.ndarray:
    """The contract's availability codes: legacy ``lt2y``/``gt2y`` mapped, the rest ``unknown``."""
    return _recode(values, _code)


def _ags8(v: Any) -> str | None:
    text = None if v is None else str(v)
    return text if text is not None and len(text) == 8 and text.isascii() and text.isdigit() else None


def site_table(sites: pd.DataFrame) -> Table:
    """The per-site inputs of the figures: ``ags`` (8-digit text or None), ``area_ha``,
    ``category`` (a CATEGORIES value or None), ``availability`` (contract codes), ``bucket``
    (now, 1y, later, unknown), ``brownfield`` and ``marketable`` (bool). Same row order."""
    avail = availability(_series(sites, "availability"))
    area = pd.to_numeric(sites["area_ha"], errors="coerce").fillna(0.0).to_numpy(float)
    return pd.DataFrame(
        {
            "ags": _recode(_series(sites, "ags"), _ags8),
            "area_ha": area,
            "category": _recode(
                _series(sites, "planning_category"), lambda v: v if v in CATEGORIES else None
            ),
            "availability": avail,
            "bucket": _recode(avail, lambda v: BUCKETS.get(v, "unknown")),
            "brownfield": _flag(sites, "is_brownfield"),
            "marketable": _flag(sites, "marketable"),
        }
    )


def _masks(t: Table) -> dict[str, np.ndarray]:
    cat = t["category"].to_numpy(object)
    bucket = t["bucket"].to_numpy(object)
    area = t["area_ha"].to_numpy(float)
    every = np.ones(len(t), dtype=bool)
    out = {"sites": every, "reserve_ha": every}
    for c in CATEGORIES:
        out[f"reserve_ha_{c.lower()}"] = cat == c
    out["reserve_ha_uncategorised"] = np.asarray(pd.isna(cat), dtype=bool)
    out["brownfield_ha"] = t["brownfield"].to_numpy(bool)
    for b in ("now", "1y", "later", "unknown"):
        out[f"available_{b}_ha"] = bucket == b
    out["marketable_ha"] = t["marketable"].to_numpy(bool)
    out["sites_ge_10ha"] = area >= LARGE_HA[0]
    out["sites_ge_50ha"] = area >= LARGE_HA[1]
    return out


def figure_mask(t: Table, figure: str) -> np.ndarray:
    """The sites (rows of ``site_table``) an additive figure sums over."""
    if figure not in ADDITIVE:
        raise InvalidParameter(f"figure must be one of: {', '.join(LISTABLE)}")
    return _masks(t)[figure]


def contributions(t: Table) -> pd.DataFrame:
    """Each site's part of each additive figure (its area, or 1 for counts, where it counts)."""
    area = t["area_ha"].to_numpy(float)
    masks = _masks(t)
    return pd.DataFrame({n: np.where(masks[n], 1.0 if n in COUNTS else area, 0.0) for n in ADDITIVE})


# -- units -----------------------------------------------------------------------------------
def unit_key(ags: pd.Series | np.ndarray, level: str) -> np.ndarray:
    """The unit key of 8-digit AGS values at ``level`` (None stays None, except in the state)."""
    if level == "state":  # every site is in the state, whatever its AGS (or none)
        return np.full(len(ags), STATE_KEY, dtype=object)
    n = KEY_DIGITS[level]
    return _recode(ags, lambda v: None if v is None else str(v)[:n])


def units(municipalities: pd.DataFrame, level: str, extra: Mapping[str, str | None]) -> pd.DataFrame:
    """The units of a level (key, name), sorted by key: from the boundary layer (``ags``,
    ``name``, ``kreis_name``), and any AGS of ``extra`` (ags → municipality name) the layer
    lacks. (Some hundred rows: plain Python.)"""
    layer_ags = [str(a) for a in _text(municipalities, "ags").tolist()]
    names = dict(zip(layer_ags, _text(municipalities, "name").tolist(), strict=True))
    kreis_names = dict(zip(layer_ags, _text(municipalities, "kreis_name").tolist(), strict=True))
    for a in extra:
        names.setdefault(a, extra[a])
    if level == "municipality":
        pairs = dict(names)
    elif level == "kreis":
        pairs = {a[:5]: None for a in names}
        for a, k in kreis_names.items():
            if k is not None and pairs[a[:5]] is None:
                pairs[a[:5]] = k
    elif level == "district":
        pairs = {a[:3]: DISTRICTS.get(a[:3]) for a in names}
    elif level == "state":
        pairs = {STATE_KEY: STATE_NAME}
    else:
        raise InvalidParameter(f"level must be one of: {', '.join(LEVELS)}")
    keys = sorted(pairs)
    return pd.DataFrame(
        {"key": np.array(keys, dtype=object), "name": np.array([pairs[k] for k in keys], dtype=object)}
    )


def check_level(level: str | None, default: Level | None = "municipality") -> Level:
    """The level asked for; InvalidParameter naming ``level`` otherwise (never repeating it)."""
    if level is None and default is not None:
        return default
    if level not in LEVELS:
        raise InvalidParameter(f"level must be one of: {', '.join(LEVELS)}")
    return level


# -- the balance -----------------------------------------------------------------------------
@dataclass
class Reserves:
    """The figures of every level: ``tables[level]`` has key, name and every figure per unit;
    ``state`` the state's figures; ``unassigned`` those of sites without a valid AGS (None when
    every site has one). ``sites`` is the site table (``site_table``) the figures come from,
    ``removed`` that of the predecessor's sites gone since (None without a predecessor)."""

    tables: dict[str, pd.DataFrame]
    state: dict[str, Any]
    unassigned: dict[str, Any] | None
    sites: Table
    removed: Table | None
    years: float | None
    cache: dict[Any, Any] = field(default_factory=dict)  # serialised answers (api/)

    def sites_of(self, level: str, unit: str, figure: str) -> tuple[np.ndarray, Table]:
        """The rows (of ``sites``, or of ``removed`` for take-up) behind one unit's figure."""
        table = self.tables[check_level(level, None)]
        if unit not in set(table["key"]):
            raise NotFound(f"no {level} with this key; the keys are those of GET /api/statistics/reserves")
        if figure == "takeup_ha":
            if self.removed is None:
                return np.zeros(0, dtype=np.int64), self.sites.iloc[:0]
            t = self.removed
            mask = np.ones(len(t), dtype=bool)
        else:
            t = self.sites
            mask = figure_mask(t, figure)
        keys = unit_key(t["ags"].to_numpy(object), level)
        return np.flatnonzero(mask & (keys == unit)), t


def _group_sum(values: np.ndarray, keys: np.ndarray, columns: list[str]) -> pd.DataFrame:
    """Row sums per key (rows whose key is None left out), indexed by the key."""
    codes, uniq = pd.factorize(keys, use_na_sentinel=True)
    ok = codes >= 0
    sums = np.zeros((len(uniq), values.shape[1]))
    np.add.at(sums, codes[ok], values[ok])
    return pd.DataFrame(sums, index=pd.Index(np.asarray(uniq, dtype=object), dtype=object), columns=columns)


def _by_ags(values: pd.DataFrame, ags: np.ndarray) -> pd.DataFrame:
    """Sums per 8-digit AGS (rows without one left out), indexed by the AGS."""
    return _group_sum(values.to_numpy(float), ags, list(values.columns))


def _at(per_ags: pd.DataFrame, level: str) -> pd.DataFrame:
    """Per-AGS sums added up to the units of ``level``."""
    keys = unit_key(per_ags.index.to_numpy(object), level)
    return _group_sum(per_ags.to_numpy(float), keys, list(per_ags.columns))


def _derive(df: pd.DataFrame, years: float | None, has_previous: bool) -> pd.DataFrame:
    num, den = df["brownfield_ha"].to_numpy(float), df["reserve_ha"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        df["brownfield_share"] = np.where(den > 0, num / den, np.nan)
    if not has_previous:
        df["takeup_ha"] = np.nan
    rate = years is not None and years >= MIN_YEARS
    df["takeup_ha_per_year"] = df["takeup_ha"] / years if rate and years else np.nan
    return df


def compute(
    sites: pd.DataFrame,
    municipalities: pd.DataFrame,
    removed: pd.DataFrame | None = None,
    years: float | None = None,
) -> Reserves:
    """The reserves of ``sites`` at every level; take-up from ``removed`` (the predecessor's
    sites that are gone, with ``ags`` and ``area_ha``; None: no predecessor, take-up null) over
    ``years``."""
    t = site_table(sites)
    gone = site_table(removed) if removed is not None else None
    first = pd.DataFrame({"ags": t["ags"], "name": _series(sites, "municipality").to_numpy(object)})
    first = first.dropna(subset=["ags"])
    extra = dict(first.drop_duplicates("ags").itertuples(index=False, name=None))
    parts = contributions(t)
    per_ags = _by_ags(parts, t["ags"].to_numpy(object))
    if gone is not None:
        taken = _by_ags(
            gone[["area_ha"]].rename(columns={"area_ha": "takeup_ha"}), gone["ags"].to_numpy(object)
        )
    tables: dict[str, pd.DataFrame] = {}
    for level in LEVELS[:-1]:  # the state: below, from every site
        u = units(municipalities, level, extra)
        df = u.join(_at(per_ags, level), on="key").fillna({n: 0.0 for n in ADDITIVE})
        if gone is not None:
            df = df.join(_at(taken, level), on="key")
            df["takeup_ha"] = df["takeup_ha"].fillna(0.0)
        tables[level] = _derive(df, years, gone is not None)[["key", "name", *FIGURE_NAMES]]
    total = parts.sum()
    state = _state(total, gone, years)  # every site, also those without a valid AGS
    tables["state"] = pd.DataFrame([state])[["key", "name", *FIGURE_NAMES]]
    unassigned = None
    if not t["ags"].notna().all() or (gone is not None and not gone["ags"].notna().all()):
        row = pd.DataFrame([total - tables["municipality"][list(ADDITIVE)].sum()])
        row["takeup_ha"] = (
            float(gone.loc[gone["ags"].isna(), "area_ha"].sum()) if gone is not None else np.nan
        )
        row = _derive(row, years, gone is not None)
        unassigned = {"key": None, "name": None, **{n: row.iloc[0][n] for n in FIGURE_NAMES}}
    return Reserves(tables, state, unassigned, t, gone, years)


def _state(total: pd.Series, gone: Table | None, years: float | None) -> dict[str, Any]:
    """The state's figures: ``total`` (the additive figures of every site) and the take-up."""
    row = pd.DataFrame([total])
    row["takeup_ha"] = float(gone["area_ha"].sum()) if gone is not None else np.nan
    row = _derive(row, years, gone is not None)
    return {"key": STATE_KEY, "name": STATE_NAME, **{n: row.iloc[0][n] for n in FIGURE_NAMES}}


def plain_figures(row: Mapping[str, Any]) -> dict[str, Any]:
    """One unit as JSON-ready values: key, name, counts as int, areas rounded to a square metre,
    NaN as None."""
    out: dict[str, Any] = {"key": row["key"], "name": row["name"]}
    for f in FIGURES:
        v = row[f.name]
        if v is None or (isinstance(v, float) and np.isnan(v)):
            out[f.name] = None
        elif f.kind == "count":
            out[f.name] = int(round(float(v)))
        else:
            out[f.name] = round(float(v), HA_DECIMALS if f.kind != "share" else 6)
    return out
