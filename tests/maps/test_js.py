"""The web UI's JavaScript unit tests (``node --test tests/js/``), and a parity check of the
browser's scoring (maps/static/js/scoring.js) against geo/scoring.py: bit-identical scores and the
same order, ties by site_id, on random values with missing data and deliberate ties.

Skipped with a reason when node is missing; fails instead when CI is set.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from geo.availability import month_text
from geo.filters import FILTERS, NO_DATA, Filters, FilterSpec, apply_filters, docs
from geo.scoring import Scorer

ROOT = Path(__file__).resolve().parents[2]


def node() -> str:
    exe = shutil.which("node") or shutil.which("nodejs")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("node is required in CI for the JavaScript tests (apt-get install nodejs)")
        pytest.skip("node is not installed (apt-get install nodejs)")
    return exe


def run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=ROOT, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})}
    )


def test_node_unit_tests_pass() -> None:
    p = run([node(), "--test", "tests/js/"])
    assert p.returncode == 0, p.stdout[-4000:] + p.stderr[-2000:]
    assert "# fail 0" in p.stdout


def b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f8").tobytes()).decode()


def python_ranking(
    v: np.ndarray,
    w: np.ndarray,
    ids: np.ndarray,
    filters: Filters | None = None,
    columns: dict[str, np.ndarray] | None = None,
    defaults: dict[str, float | None] | None = None,
) -> tuple[np.ndarray, list[str], list[str | None]]:
    """Scores, order and per-site reasons as Scorer.run computes them: combine, the registry's
    mask (geo.filters.apply_filters, as Scorer.mask), no_data, then lexsort by -score, site_id.
    """
    score = Scorer.combine(v, w)
    keep, _, reason = apply_filters(
        filters or Filters(), lambda s: (columns or {}).get(s.column), len(v), defaults
    )
    nodata = keep & np.isnan(score)
    reason[nodata] = NO_DATA
    keep &= ~nodata
    idx = np.flatnonzero(keep)
    order = idx[np.lexsort((ids[idx], -score[idx]))]
    return score, ids[order].tolist(), reason.tolist()


def test_browser_scoring_is_bit_identical_to_geo(tmp_path: Path) -> None:
    exe = node()
    rng = np.random.default_rng(7)
    n, c = 3000, 7
    v = np.round(rng.random((n, c)) * 1000) / 1000
    v[:, 2] = rng.integers(0, 2, n)  # a 0/1 criterion, as brownfield: many equal sums
    v[rng.random((n, c)) < 0.05] = np.nan
    v[rng.random(n) < 0.01] = np.nan  # sites with no data at all
    v[n // 2 : n // 2 + 40] = v[:40]  # exact ties, broken by site_id
    ids = np.array([f"s-{i:05d}" for i in rng.permutation(n)])
    km = rng.random(n) * 30
    cases = []
    weights = [rng.choice([0, 0.5, 1, 2, 3.3, 4], c).astype(float) for _ in range(60)]
    weights += [np.ones(c), rng.random(c) * 5]
    for w in weights:
        if not w.any():
            w[0] = 1.0
        score, order, _ = python_ranking(v, w, ids)
        cases.append({"weights": w.tolist(), "score": b64(score), "order": order})
    table = {
        "site_id": ids.tolist(),
        "kind": ["regional_plan"] * n,
        "ags": ["05111000"] * n,
        "kreis_ags": ["05111"] * n,
        "area_ha": [10.0] * n,
        "fibre_share": [0.5] * n,
    }
    fx = tmp_path / "parity.json"
    fx.write_text(
        json.dumps({"C": c, "values": b64(np.column_stack([v, km])), "columns": table, "cases": cases})
    )
    p = run([exe, "--test", "tests/js/parity.test.mjs"], {"NRW_PARITY_FIXTURE": str(fx)})
    assert p.returncode == 0, p.stdout[-4000:]
    assert "# pass 1" in p.stdout and "# skipped 0" in p.stdout


def _codes(spec: FilterSpec, rng: np.random.Generator, k: int) -> list[str]:
    """k distinct values an any_of filter accepts: its choices, or codes matching its pattern."""
    if spec.choices:
        return list(spec.choices)
    assert spec.pattern is not None
    width = int(re.fullmatch(r"\\d\{(\d+)\}", spec.pattern).group(1))  # type: ignore[union-attr]
    out = sorted({"".join(map(str, rng.integers(0, 10, width))) for _ in range(k * 3)})[:k]
    assert all(re.fullmatch(spec.pattern, x) for x in out)
    return out


def test_browser_filters_equal_geo_for_every_filter_of_the_registry(tmp_path: Path) -> None:
    """Every filter of geo/filters.py, alone, all together and as the profile's default: the
    browser excludes the same sites with the same reason and orders the rest the same.
    """
    exe = node()
    rng = np.random.default_rng(11)
    n, c = 2000, 7
    v = np.round(rng.random((n, c)) * 100) / 100
    v[rng.random((n, c)) < 0.05] = np.nan
    v[rng.random(n) < 0.02] = np.nan  # no data at all
    v[n // 2 : n // 2 + 60] = v[:60]  # exact ties, broken by site_id
    ids = np.array([f"s-{i:05d}" for i in rng.permutation(n)])
    km = np.where(rng.random(n) < 0.1, np.nan, rng.random(n) * 30)
    columns: dict[str, np.ndarray] = {"h2_distance_km": km}
    table: dict[str, list[object]] = {"site_id": ids.tolist()}
    values_of: dict[str, list[str]] = {}
    for spec in FILTERS.values():
        if spec.at_horizon or spec.column in columns:
            continue
        if spec.is_list:
            codes = values_of[spec.name] = _codes(spec, rng, 6)
            col = np.array([codes[k] for k in rng.integers(0, len(codes), n)], dtype=object)
            col[rng.random(n) < 0.1] = None  # no value
            if spec.always_passes:
                col[rng.random(n) < 0.1] = spec.always_passes
        elif spec.month:  # month numbers (year · 12 + month − 1), some sites never available
            col = (24_300 + rng.integers(0, 60, n)).astype(float)
            col[rng.random(n) < 0.1] = np.nan
        else:
            col = rng.random(n) * (spec.upper or 100.0)
            col[rng.random(n) < 0.05] = np.nan
            col[:20] = col[20:40]  # values equal to a threshold below pass (≥, ≤)
        columns[spec.column] = col
        table[spec.column] = [None if isinstance(x, float) and np.isnan(x) else x for x in col.tolist()]

    def value(spec: FilterSpec) -> object:
        if spec.is_list:
            return values_of.get(spec.name, _codes(spec, rng, 2))[:2]
        col = columns[spec.column]
        if spec.month:  # as the page and the API take it: YYYY-MM
            return month_text(float(np.floor(np.nanquantile(col, 0.7))))
        return float(np.nanquantile(col, 0.3 if spec.kind == "min" else 0.7))

    every = {s.name: value(s) for s in FILTERS.values()}
    cases_filters: list[tuple[dict[str, object], float | None]] = [({k: x}, None) for k, x in every.items()]
    cases_filters += [(every, None), ({}, float(np.nanquantile(columns["area_ha"], 0.5)))]
    cases = []
    w = np.array([1, 2, 0.5, 4, 1, 1, 3], dtype=float)
    for f, default in cases_filters:
        score, order, reason = python_ranking(v, w, ids, Filters(**f), columns, {"min_area_ha": default})
        assert order, f"the case {f} ranks no site: it would test nothing"
        cases.append(
            {
                "weights": w.tolist(),
                "score": b64(score),
                "order": order,
                "filters": f,
                "min_area_default": default,
                "reasons": reason,
            }
        )
    assert {k for f, _ in cases_filters for k in f} == set(FILTERS)  # every filter is covered
    fx = tmp_path / "filters.json"
    fx.write_text(
        json.dumps(
            {
                "C": c,
                "values": b64(np.column_stack([v, km])),
                "columns": table,
                "filters": docs(),
                "cases": cases,
            }
        )
    )
    p = run([exe, "--test", "tests/js/parity.test.mjs"], {"NRW_PARITY_FIXTURE": str(fx)})
    assert p.returncode == 0, p.stdout[-4000:]
    assert "# pass 1" in p.stdout and "# skipped 0" in p.stdout
