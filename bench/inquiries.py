"""Benchmark: re-running 100 investor inquiries after a publish, at 50,000 sites (issue 19 §4).

Usage: python bench/inquiries.py [--data DIR] [--sites 50000] [--inquiries 100]
Builds the demo snapshot into DIR when it holds none; DIR is only read otherwise (the inquiries
live in a temporary state database). Saves N inquiries with varied profiles, weights, filters,
minimum scores and top Ns (their baselines on the live snapshot), then publishes "the next
snapshot" — the same sites with 2 % removed and 2 % grown, scored by a fresh Scorer, so no cached
values or rankings help, as after a real publish — and times ``InquiryStore.run_all``: every
ranking, every diff with reasons, and the one transaction that records the runs.
Target: ≤ 3 s for 100 inquiries.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# The project root, not bench/, comes first: `api` is the package, not bench/api.py.
sys.path[0] = str(Path(__file__).resolve().parents[1])

from api.routes_inquiries import target_of
from api.service import Service
from geo.criteria import CRITERIA_ORDER, PROFILES
from geo.scoring import Scorer
from layers.build import build
from layers.inquiries import InquiryStore
from layers.inquiry_criteria import Target, clean_criteria
from layers.statedb import StateDB
from layers.store import Store

TARGET_S = 3.0


def criteria(i: int, rng: np.random.Generator) -> dict:
    """Varied criteria: every profile, a third with weight overrides, most with filters."""
    spec: dict = {"profile": list(PROFILES)[i % len(PROFILES)]}
    if i % 3 == 0:
        picks = rng.choice(CRITERIA_ORDER, size=3, replace=False)
        spec["weights"] = {str(c): float(rng.integers(0, 6)) for c in picks} | {"area": 1.0}
    filters: dict = {}
    if i % 2 == 0:
        filters["min_area_ha"] = float(rng.choice([2, 5, 10, 20]))
    if i % 4 == 1:
        filters["kind"] = ["brownfield"] if i % 8 == 1 else ["regional_plan", "lep"]
    if i % 5 == 0:
        filters["max_h2_km"] = float(rng.choice([5, 10, 20]))
    if i % 7 == 0:
        filters["min_fibre"] = 0.3
    spec["filters"] = filters
    if i % 3 != 2:
        spec["min_score"] = float(rng.integers(40, 70))
    if i % 3 != 1:
        spec["top_n"] = int(rng.choice([10, 25, 50, 100, 500]))
    return spec


def next_snapshot(svc: Service, rng: np.random.Generator) -> Target:
    """The live sites with 2 % removed and 2 % grown, behind a fresh Scorer (cold caches)."""
    sites = svc.sites.drop(columns="geometry").copy()
    n = len(sites)
    grown = rng.choice(n, size=n // 50, replace=False)
    sites.loc[sites.index[grown], "area_ha"] = sites["area_ha"].iloc[grown] * 3
    sites = sites.drop(index=sites.index[rng.choice(n, size=n // 50, replace=False)]).reset_index(drop=True)
    scorer = Scorer(sites)
    names = sites["name"].to_numpy(object)
    row_of = {s: i for i, s in enumerate(scorer.site_id)}
    return Target(
        "next",
        "2099-01-01T00:00:00+00:00",
        scorer.site_id,
        scorer.run,
        lambda row: {"name": str(names[row])},
        row_of,
    )


def main() -> int:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(Path(tempfile.gettempdir()) / "nrw-bench-inquiries-50k"))
    ap.add_argument("--sites", type=int, default=50_000)
    ap.add_argument("--inquiries", type=int, default=100)
    args = ap.parse_args()
    store = Store(args.data)
    if store.current_id() is None:
        print(f"building the {args.sites:,}-site demo into {args.data} …", file=sys.stderr)
        build(store, n_sites=args.sites, seed=42)
    t = time.perf_counter()
    svc = Service(store.load())
    print(f"snapshot {svc.snap.id}: {len(svc.sites):,} sites, loaded in {time.perf_counter() - t:.1f} s")
    rng = np.random.default_rng(19)
    with tempfile.TemporaryDirectory() as state:
        inquiries = InquiryStore(StateDB(state))
        t = time.perf_counter()
        live = target_of(svc)
        for i in range(args.inquiries):
            c = clean_criteria(criteria(i, rng))
            inquiries.create(f"Anfrage {i}", "vertraulich", c, "bench", inquiries.baseline(c, live))
        saved = time.perf_counter() - t
        target = next_snapshot(svc, rng)
        result = inquiries.run_all(target)
        runs = [inquiries.runs(i.id)[0] for i in inquiries.list()]
    new = sum(len(r["new"]) for r in runs)
    gone = sum(len(r["gone"]) for r in runs)
    reasons: dict[str, int] = {}
    for r in runs:
        for g in r["gone"]:
            reasons[g["reason"]] = reasons.get(g["reason"], 0) + 1
    print(f"saved {args.inquiries} inquiries with their baselines in {saved:.2f} s")
    print(
        f"re-run after a publish: {result['inquiries']} inquiries, {result['rankings']} distinct rankings, "
        f"{result['recorded']} runs recorded, {new:,} new and {gone:,} gone matches {reasons}"
    )
    ok = result["seconds"] <= TARGET_S
    print(f"re-run time: {result['seconds']:.2f} s (target ≤ {TARGET_S:g} s: {'met' if ok else 'NOT met'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
