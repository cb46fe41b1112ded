"""The web UI's JavaScript unit tests (``node --test tests/js/``), and a parity check of the
browser's scoring (maps/static/js/scoring.js) against geo/scoring.py: bit-identical scores and the
same order, ties by site_id, on random values with missing data and deliberate ties.

Skipped with a reason when node is missing; fails instead when CI is set.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

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


def python_ranking(v: np.ndarray, w: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Scores and order as Scorer.rank computes them (combine, then lexsort by -score, site_id)."""
    score = Scorer.combine(v, w)
    idx = np.flatnonzero(~np.isnan(score))
    order = idx[np.lexsort((ids[idx], -score[idx]))]
    return score, ids[order].tolist()


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
        score, order = python_ranking(v, w, ids)
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
