"""Benchmark: build the demo snapshot at NRW scale (default 50,000 sites); print time and RSS.

Usage: python bench/build.py [--sites 50000] [--data DIR]
Target (issue #3): the build without the indicator stage ≤ 20 s and ≤ 1.5 GB peak RSS (2 cores).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

# The project root, not bench/, comes first: `api` is the package, not bench/api.py.
sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench._measure import Stages
from layers.build import build
from layers.store import Store


def main() -> None:
    """Run the benchmark."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--data", help="data dir (default: a temporary one)")
    args = ap.parse_args()
    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="nrw-bench-"))
    stages = Stages()
    stages("start")
    manifest = build(Store(data), n_sites=args.sites, seed=args.seed, progress=stages)
    stages.finish()
    stages.print(f"demo build, {args.sites:,} sites -> {data}")
    t = manifest["timings_s"]
    no_ind = t["ingest"] + t["write"]
    print(
        f"\nbuild without indicators: {no_ind:.2f} s (target ≤ 20 s); "
        f"indicators: {t['indicators']:.2f} s; peak RSS {stages.all_peak / 1e9:.2f} GB "
        f"(target ≤ 1.5 GB)"
    )
    print(
        f"sites: {manifest['layers']['sites']['count']:,}; snapshot {manifest['id']}; "
        f"{time.strftime('%Y-%m-%d %H:%M')}"
    )


if __name__ == "__main__":
    main()
