"""Benchmark: residents within 30 km of 50,000 site centroids on the 100 m grid of NRW + 30 km.

Usage: python bench/workforce.py [--sites 50000] [--radius-km 30] [--lines 3500000]

Prints, for the demo population grid (layers/population_demo.py, 3,120 × 3,040 cells):
- the demo generator's time and peak traced memory;
- ``geo.convolve.residents_within`` (exact: prefix sums, square + caps) — wall and CPU seconds;
- the FFT disk convolution sampled at the sites' cells (``disk_convolve``) — wall and CPU seconds
  and its largest deviation from the exact counts;
- the exact method against a brute-force sum on a sample of sites;
- the Zensus reader on a generated 100 m CSV of ``--lines`` lines (0: skip).

Target (issue 21): ≤ 0.3 s for the 50,000-site batch, every site within ±1 % of the exact count.
The machine is shared (2 cores): CPU seconds are the steadier figure.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path[0] = str(Path(__file__).resolve().parents[1])

from geo.convolve import disk_convolve, residents_within, sample_cells  # noqa: E402
from geo.crs import transformer  # noqa: E402
from layers import demo  # noqa: E402
from layers.municipalities import boundaries  # noqa: E402


def timed(label: str, f: Callable[[], Any]) -> Any:
    """Run f, print wall and CPU seconds."""
    t, c = time.perf_counter(), time.process_time()
    out = f()
    print(f"{label:<46} wall {time.perf_counter() - t:6.3f} s   cpu {time.process_time() - c:6.3f} s")
    return out


def brute(cov: Any, x: np.ndarray, y: np.ndarray, r: float) -> np.ndarray:
    """Sum of the cells whose centre lies within r of each point, one point at a time."""
    xs, ys = cov.spec.centres()
    g = cov.grid.astype(np.float64)
    out = []
    for px, py in zip(x, y, strict=True):
        c = np.abs(xs - px) <= r + 100
        w = np.abs(ys - py) <= r + 100
        inside = (xs[c][None, :] - px) ** 2 + (ys[w][:, None] - py) ** 2 <= r * r
        out.append(g[np.ix_(w, c)][inside].sum())
    return np.array(out)


def zensus_file(path: Path, lines: int, rng: np.random.Generator) -> None:
    """A Zensus 2022 100 m CSV of ``lines`` cells over Germany's extent, 1 % withheld."""
    e = rng.integers(40_300, 46_500, lines) * 100
    n = rng.integers(27_000, 35_500, lines) * 100
    count = rng.integers(1, 300, lines).astype(str).astype(object)
    count[rng.random(lines) < 0.01] = "–"
    with open(path, "w", encoding="utf-8") as f:
        f.write("GITTER_ID_100m;x_mp_100m;y_mp_100m;Einwohner\n")
        for k in range(0, lines, 500_000):
            s = slice(k, k + 500_000)
            ids = np.char.add(
                np.char.add("CRS3035RES100mN", n[s].astype(str)), np.char.add("E", e[s].astype(str))
            )
            rows = [ids, (e[s] + 50).astype(str), (n[s] + 50).astype(str), count[s].astype(str)]
            f.write("\n".join(";".join(r) for r in zip(*rows, strict=True)) + "\n")


def main() -> None:
    """Run the benchmark."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=50_000)
    ap.add_argument("--radius-km", type=float, default=30.0)
    ap.add_argument("--sample", type=int, default=100, help="sites checked by brute force")
    ap.add_argument("--lines", type=int, default=3_500_000, help="Zensus CSV lines to read (0: skip)")
    args = ap.parse_args()
    import layers.population as population  # the reader
    import layers.population_demo as population_demo  # the demo generator (registers the layer)

    muni = boundaries()[["ags", "name", "kreis_ags", "kreis_name", "geometry"]]
    tracemalloc.start()
    cov = timed(
        "demo population grid (3,120 × 3,040)",
        lambda: population_demo.generate(np.random.default_rng(42), muni),
    )
    print(f"  peak traced memory {tracemalloc.get_traced_memory()[1] / 1e6:.0f} MB; {cov.stats()}")
    tracemalloc.stop()

    # demo-like site centroids: drawn around the towns inside NRW as layers/demo.py places areas
    _, f = demo._municipalities()
    units = demo._units(muni)
    x, y, _ = demo._place(np.random.default_rng(1), f, demo._weights(f), args.sites, 0.9, units.state)
    r_km = args.radius_km
    exact = timed(f"exact residents_within, {args.sites:,} sites", lambda: residents_within(cov, x, y, r_km))
    s = cov.spec
    fft = timed(
        f"FFT disk convolution + sampling, {args.sites:,} sites",
        lambda: sample_cells(disk_convolve(cov.grid, s.res, r_km * 1000), s.x0, s.y1, s.res, x, y),
    )
    dev = np.abs(fft / exact - 1)
    print(f"  FFT vs exact: max {dev.max() * 100:.3f} %, median {np.median(dev) * 100:.4f} %")
    pick = np.random.default_rng(2).choice(len(x), min(args.sample, len(x)), replace=False)
    want = brute(cov, x[pick], y[pick], r_km * 1000)
    print(
        f"  exact vs brute force on {len(pick)} sites: max {np.abs(exact[pick] / want - 1).max() * 100:.2e} %"
    )
    print(
        f"  workforce_{r_km:g}km over the sites: min {exact.min():,.0f}, median {np.median(exact):,.0f}, "
        f"max {exact.max():,.0f} persons"
    )
    lon, lat = transformer(25832, 4326).transform(x[exact.argmax()], y[exact.argmax()])
    print(f"  largest at {lon:.3f} E, {lat:.3f} N")

    if args.lines:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "zensus_100m.csv"
            timed(
                f"write a Zensus CSV of {args.lines:,} lines",
                lambda: zensus_file(path, args.lines, np.random.default_rng(3)),
            )
            print(f"  {path.stat().st_size / 1e6:.0f} MB")
            tracemalloc.start()
            grid = timed("read it (zensus-grid)", lambda: population.read_zensus_grid(path, {}))
            print(f"  peak traced memory {tracemalloc.get_traced_memory()[1] / 1e6:.0f} MB; {grid.stats()}")
            tracemalloc.stop()


if __name__ == "__main__":
    main()
