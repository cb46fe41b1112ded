"""What changed between two snapshots' sites (issue 19 §2): added, removed, changed, re-keyed.

Pure computation over two ``sites`` frames (the caller loads them: ``layers/store.py``). Identity
is ``site_id``; a removed site and an added one whose geometries overlap by at least
``REKEY_OVERLAP`` of *each* geometry's area (intersection / larger area ≥ 0.8) are the same site
under a new id and reported as ``rekeyed`` (greedy, best overlap first, one to one). For every
matched site the compared fields (``FIELDS``) and the score under each profile are checked; a score
that moved lists the criteria that moved it, by their change of contribution
``100 · wᵢ·Δvᵢ / Σw`` (largest first). Vectorised: one STRtree query, array comparisons, and the
per-profile scores computed once per snapshot with ``geo/scoring.py``'s ``Scorer``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo.criteria import CRITERIA_ORDER, PROFILES, Profile
from geo.scoring import Scorer

REKEY_OVERLAP = 0.8
AREA_TOLERANCE_HA = 0.01  # area changes below this are rounding, not change
SCORE_TOLERANCE = 0.05  # score points; scores are reported with 1 decimal
FIELDS = ("area_ha", "planning_category", "availability", "marketable")
SUMMARY = (
    "name",
    "ags",
    "municipality",
    "kind",
    "area_ha",
    "planning_category",
    "availability",
    "marketable",
)


@dataclass(frozen=True)
class SiteDiff:
    """The diff: lists of plain dicts ready to serialise, and the counts."""

    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    changed: list[dict[str, Any]]
    unchanged: int

    def counts(self) -> dict[str, int]:
        """How many sites were added, removed, changed (of which re-keyed) and left unchanged."""
        return {
            "added": len(self.added),
            "removed": len(self.removed),
            "changed": len(self.changed),
            "rekeyed": sum(1 for c in self.changed if c.get("rekeyed_from")),
            "unchanged": self.unchanged,
        }


def _plain(v: Any) -> Any:
    """A JSON-ready scalar (numpy types unwrapped, NaN and NA as None)."""
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return None
    if isinstance(v, np.generic):
        v = v.item()
        if isinstance(v, float) and np.isnan(v):
            return None
    if isinstance(v, float):
        return round(v, 2)
    return v


def scores(sites: pd.DataFrame, profiles: Sequence[Profile]) -> tuple[np.ndarray, np.ndarray]:
    """Per profile: the score (n × p) and each criterion's contribution 100·wᵢvᵢ/Σw (n × c × p)."""
    n, c = len(sites), len(CRITERIA_ORDER)
    score = np.full((n, len(profiles)), np.nan)
    contrib = np.full((n, c, len(profiles)), np.nan)
    if n == 0:
        return score, contrib
    scorer = Scorer(pd.DataFrame(sites.drop(columns="geometry", errors="ignore")))
    for k, p in enumerate(profiles):
        w = np.array([p.weights.get(name, 0.0) for name in CRITERIA_ORDER], dtype=float)
        v = scorer.values(p)
        score[:, k] = Scorer.combine(v, w)
        den = np.where(~np.isnan(v), w[None, :], 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            contrib[:, :, k] = np.where(den[:, None] > 0, 100.0 * w[None, :] * v / den[:, None], np.nan)
    return score, contrib


def rekey(
    old_geoms: np.ndarray, new_geoms: np.ndarray, threshold: float = REKEY_OVERLAP
) -> list[tuple[int, int]]:
    """Pairs (old position, new position) whose overlap is ≥ ``threshold`` of both areas."""
    if len(old_geoms) == 0 or len(new_geoms) == 0:
        return []
    tree = shapely.STRtree(old_geoms)
    new_idx, old_idx = tree.query(new_geoms, predicate="intersects")
    if len(new_idx) == 0:
        return []
    a_old, a_new = shapely.area(old_geoms)[old_idx], shapely.area(new_geoms)[new_idx]
    larger = np.maximum(a_old, a_new)
    # the overlap is at most the smaller area: pairs whose areas differ more cannot match, and
    # identical geometries overlap fully; only the rest are intersected
    share = np.zeros(len(new_idx))
    same = shapely.equals_exact(old_geoms[old_idx], new_geoms[new_idx], tolerance=0.0) & (larger > 0)
    share[same] = 1.0
    todo = ~same & (np.minimum(a_old, a_new) >= threshold * larger) & (larger > 0)
    if todo.any():
        o, nw = old_geoms[old_idx[todo]], new_geoms[new_idx[todo]]
        share[todo] = shapely.area(shapely.intersection(o, nw)) / larger[todo]
    ok = share >= threshold
    order = np.argsort(-share[ok], kind="stable")
    pairs, used_old, used_new = [], set(), set()
    for o, nw in zip(old_idx[ok][order].tolist(), new_idx[ok][order].tolist(), strict=True):
        if o not in used_old and nw not in used_new:
            pairs.append((o, nw))
            used_old.add(o)
            used_new.add(nw)
    return pairs


def match(
    oid: np.ndarray, nid: np.ndarray, old_geoms: Any, new_geoms: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Match two snapshots' sites: by ``site_id``, then the rest by geometry (``rekey``).

    ``old_geoms``/``new_geoms``: the geometries, or a callable that returns the geometries at
    the positions it is given (so a caller can decode only the unmatched ones). Returns the
    positions (old, new) of the same ids (in old order), of the re-keyed pairs (old, new), and
    of the removed (old) and added (new) sites that are neither (ascending). Ids are unique.
    """
    at = pd.Index(nid).get_indexer(oid)  # hashed, not sorted: each old id's new position or -1
    o_pos = np.flatnonzero(at >= 0)
    n_pos = at[o_pos]
    gone = np.flatnonzero(at < 0)
    unmatched = np.ones(len(nid), dtype=bool)
    unmatched[n_pos] = False
    fresh = np.flatnonzero(unmatched)
    pairs = []
    if len(gone) and len(fresh):  # geometries are only needed (and read) for these
        go = old_geoms(gone) if callable(old_geoms) else np.asarray(old_geoms)[gone]
        gn = new_geoms(fresh) if callable(new_geoms) else np.asarray(new_geoms)[fresh]
        pairs = rekey(go, gn)
    rk_old = np.array([gone[o] for o, _ in pairs], dtype=np.int64)
    rk_new = np.array([fresh[nw] for _, nw in pairs], dtype=np.int64)
    return o_pos, n_pos, rk_old, rk_new, np.setdiff1d(gone, rk_old), np.setdiff1d(fresh, rk_new)


def _summary(df: pd.DataFrame, rows: np.ndarray, score: np.ndarray, names: list[str]) -> list[dict[str, Any]]:
    """One dict per row: site_id, the summary fields present and the score (aligned with rows)."""
    cols = ["site_id", *[c for c in SUMMARY if c in df.columns]]
    part = df.iloc[rows][cols]
    out = []
    for j, rec in enumerate(part.itertuples(index=False, name=None)):
        d = {c: _plain(v) for c, v in zip(cols, rec, strict=True)}
        d["score"] = {p: _plain(round(float(score[j, k]), 1)) for k, p in enumerate(names)}
        out.append(d)
    return out


def _column(df: pd.DataFrame, name: str, rows: np.ndarray) -> np.ndarray:
    """A compared column at ``rows`` as objects (None where the snapshot lacks the column)."""
    if name not in df.columns:
        return np.full(len(rows), None, dtype=object)
    return np.asarray(df[name].to_numpy(object)[rows], dtype=object)


def _differs(name: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per row: did field ``name`` change (missing on both sides is no change)."""
    na = pd.isna(a)
    nb = pd.isna(b)
    if name == "area_ha":
        fa = np.where(na, np.nan, a).astype(float)
        fb = np.where(nb, np.nan, b).astype(float)
        return np.asarray((na != nb) | (~na & ~nb & (np.abs(fa - fb) >= AREA_TOLERANCE_HA)))
    same = np.array([x == y for x, y in zip(a.tolist(), b.tolist(), strict=True)], dtype=bool)
    return np.asarray((na != nb) | (~na & ~nb & ~same))


def _inputs_differ(old: pd.DataFrame, new: pd.DataFrame, mo: np.ndarray, mn: np.ndarray) -> np.ndarray:
    """Per matched pair: does any stored column other than site_id and geometry differ?"""
    skip = {"site_id", "geometry"}
    cols_o, cols_n = set(old.columns) - skip, set(new.columns) - skip
    if cols_o != cols_n:  # a column only one snapshot has: every site may score differently
        return np.ones(len(mo), dtype=bool)
    out = np.zeros(len(mo), dtype=bool)
    for c in sorted(cols_o):
        a = old[c].iloc[mo].reset_index(drop=True)
        b = new[c].iloc[mn].reset_index(drop=True)
        na, nb = a.isna().to_numpy(bool), b.isna().to_numpy(bool)
        try:
            ne = (a != b).to_numpy(bool)
        except TypeError:  # values that do not compare (e.g. mixed types): compare as text
            ne = (a.astype(str) != b.astype(str)).to_numpy(bool)
        out |= (na != nb) | (ne & ~na & ~nb)
    return out


def diff_sites(
    old: pd.DataFrame, new: pd.DataFrame, profiles: Mapping[str, Profile] | None = None
) -> SiteDiff:
    """Compare two ``sites`` frames (with ``site_id`` and ``geometry``) by id, then by geometry."""
    profs = dict(PROFILES if profiles is None else profiles)
    names = list(profs)
    old = old.reset_index(drop=True)
    new = new.reset_index(drop=True)
    oid = old["site_id"].to_numpy(str)
    nid = new["site_id"].to_numpy(str)
    o_pos, n_pos, rk_old, rk_new, gone, fresh = match(
        oid, nid, old.geometry.to_numpy(), new.geometry.to_numpy()
    )
    by_id = np.argsort(oid[o_pos], kind="stable")  # the same ids reported in id order
    o_pos, n_pos = o_pos[by_id], n_pos[by_id]
    mo = np.concatenate([o_pos, rk_old]).astype(np.int64)
    mn = np.concatenate([n_pos, rk_new]).astype(np.int64)
    rekeyed = np.r_[np.zeros(len(o_pos), bool), np.ones(len(rk_old), bool)]

    # only sites whose stored values differ can score differently: score those, and the added
    # and removed ones for their summaries
    cand = rekeyed | _inputs_differ(old, new, mo, mn)
    nc = int(cand.sum())
    pos = np.full(len(mo), -1, dtype=np.int64)
    pos[cand] = np.arange(nc)
    plist = list(profs.values())
    s_old, c_old = scores(old.iloc[np.concatenate([mo[cand], gone])], plist)
    s_new, c_new = scores(new.iloc[np.concatenate([mn[cand], fresh])], plist)
    c_old, c_new = np.nan_to_num(c_old), np.nan_to_num(c_new)
    before = {f: _column(old, f, mo) for f in FIELDS}
    after = {f: _column(new, f, mn) for f in FIELDS}
    field_change = {f: _differs(f, before[f], after[f]) for f in FIELDS}
    so, sn = s_old[:nc], s_new[:nc]
    score_moved = np.zeros((len(mo), len(names)), dtype=bool)
    score_moved[cand] = (np.isnan(sn) != np.isnan(so)) | (np.abs(np.nan_to_num(sn - so)) >= SCORE_TOLERANCE)
    any_change = (
        rekeyed | score_moved.any(axis=1) | np.any(np.column_stack(list(field_change.values())), axis=1)
    )

    changed = []
    for j in np.flatnonzero(any_change).tolist():
        o, nw, q = int(mo[j]), int(mn[j]), int(pos[j])
        entry: dict[str, Any] = {"site_id": str(nid[nw])}
        if rekeyed[j]:
            entry["rekeyed_from"] = str(oid[o])
        entry["changes"] = {
            f: {"from": _plain(before[f][j]), "to": _plain(after[f][j])} for f in FIELDS if field_change[f][j]
        }
        entry["score"] = {}
        for k, p in enumerate(names):
            if not score_moved[j, k]:
                continue
            dc = c_new[q, :, k] - c_old[q, :, k]
            moved = [i for i in np.argsort(-np.abs(dc), kind="stable").tolist() if abs(dc[i]) >= 0.005]
            entry["score"][p] = {
                "from": _plain(round(float(so[q, k]), 1)),
                "to": _plain(round(float(sn[q, k]), 1)),
                "criteria": [
                    {"criterion": CRITERIA_ORDER[i], "delta": round(float(dc[i]), 2)} for i in moved
                ],
            }
        changed.append(entry)
    return SiteDiff(
        added=_summary(new, fresh, s_new[nc:], names),
        removed=_summary(old, gone, s_old[nc:], names),
        changed=changed,
        unchanged=int((~any_change).sum()),
    )


def within(sites: pd.DataFrame, ags: str | None = None, kreis: str | None = None) -> pd.DataFrame:
    """The sites of one municipality (``ags``) or Kreis (``kreis`` = kreis_ags), else all."""
    if ags is not None:
        return sites[sites["ags"].astype(str).eq(ags).to_numpy()]
    if kreis is not None:
        col = "kreis_ags" if "kreis_ags" in sites.columns else "ags"
        return sites[sites[col].astype(str).str.startswith(kreis).to_numpy()]
    return sites
