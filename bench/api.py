"""Benchmark: the HTTP API on a 50,000-site demo snapshot, and pygeoapi on the same sites.

Usage: python bench/api.py [--data DIR] [--sites 50000] [--n 40] [--no-pygeoapi]

Starts ``nrw-sites serve`` on 127.0.0.1 (a subprocess, one uvicorn worker) and times requests
from one keep-alive client, sequentially: p50/p95 per scenario, body read completely. Then times
``export_municipalities`` for all 396 municipalities in this process. Then installs pygeoapi into
this environment (pip), writes the same sites (WGS84) as a GeoPackage, serves them with pygeoapi
(Starlette app under uvicorn, the same server) and compares items throughput.

Targets (issue #5), printed beside the figures; nothing is asserted:
items page of 5,000 p50 ≤ 30 ms; ranking with custom weights p50 ≤ 60 ms; POST /api/score
p50 ≤ 60 ms; export of all 396 municipalities ≤ 15 s; ≥ 3× pygeoapi's items throughput.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import os
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
import numpy as np

# This file is called api.py: drop bench/ from the path so that ``api`` is the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from api.exports import export_municipalities
from api.service import Service
from geo.access import public_view
from layers.build import build
from layers.store import Store

PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 180) -> str | None:
    """Poll ``url`` until it answers 200; return an error text when the server dies or fails."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = ""
            if proc.stderr:
                proc.stderr.seek(0)
                err = proc.stderr.read().decode(errors="replace")
            return f"exited with {proc.returncode}: {err[-1500:]}"
        try:
            r = httpx.get(url, timeout=30)
            if r.status_code == 200:
                return None
            last = f"HTTP {r.status_code}: {r.text[:500]}"
        except httpx.TransportError as exc:
            last = str(exc)
        time.sleep(0.2)
    return f"not up after {timeout:.0f} s ({last})"


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Client:
    """A keep-alive HTTP/1.1 client (stdlib http.client) that reads each body whole.

    Used for every server alike; it adds less overhead than httpx for multi-megabyte bodies.
    Bodies are not decoded: with ``Accept-Encoding: gzip`` the compressed size is reported.
    """

    def __init__(self, base: str, headers: dict[str, str] | None = None):
        u = urlsplit(base)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=300)
        self.headers = {"Accept-Encoding": "identity", **(headers or {})}

    def request(
        self, method: str, path: str, params: dict | None = None, body: bytes | None = None
    ) -> tuple[int, bytes]:
        """Send one request; return status and body."""
        url = f"{path}?{urlencode(params)}" if params else path
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = "application/geo+json"
        try:
            self.conn.request(method, url, body=body, headers=headers)
            r = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # the server closed this connection while it idled (uvicorn's keep-alive timeout,
            # 5 s, runs out while another client's scenario runs): reconnect, once
            self.conn.close()
            self.conn.request(method, url, body=body, headers=headers)
            r = self.conn.getresponse()
        return r.status, r.read()

    def get(self, path: str, params: dict | None = None) -> tuple[int, bytes]:
        """GET."""
        return self.request("GET", path, params)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


def measure(n: int, request: Callable[[int], tuple[int, bytes]], budget_s: float = 120) -> dict[str, float]:
    """Time ``n`` requests (after one warm-up); stop early after ``budget_s`` (≥ 5 requests)."""
    status, body = request(0)
    if status != 200:
        raise RuntimeError(f"HTTP {status}: {body[:300]!r}")
    times, sizes = [], []
    t_start = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        status, body = request(i + 1)
        times.append(time.perf_counter() - t)
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {body[:300]!r}")
        sizes.append(len(body))
        if i >= 4 and time.perf_counter() - t_start > budget_s:
            break
    ms = np.array(times) * 1000
    return {
        "p50": float(np.percentile(ms, 50)),
        "p95": float(np.percentile(ms, 95)),
        "n": len(ms),
        "kb": float(np.mean(sizes)) / 1000,
    }


def row(name: str, m: dict[str, float], target: str = "") -> None:
    print(
        f"  {name:<44} p50 {m['p50']:8.1f} ms  p95 {m['p95']:8.1f} ms  "
        f"({m['n']:>2} req, {m['kb']:9.0f} kB)  {target}"
    )


def pages(
    client: Client, path: str, limit: int, total: int, rng: random.Random, **params: str
) -> Callable[[int], tuple[int, bytes]]:
    """Requests for pages of ``limit`` items at random offsets."""
    return lambda i: client.get(
        path, params={**params, "limit": limit, "offset": rng.randrange(0, max(1, total - limit))}
    )


def square(lon: float, lat: float, ha: float = 20.0) -> dict:
    """A square polygon of about ``ha`` hectares centred on lon/lat (GeoJSON, WGS84)."""
    side = (ha * 1e4) ** 0.5
    dy = side / 111_320 / 2
    dx = side / (111_320 * np.cos(np.radians(lat))) / 2
    ring = [
        [lon - dx, lat - dy],
        [lon + dx, lat - dy],
        [lon + dx, lat + dy],
        [lon - dx, lat + dy],
        [lon - dx, lat - dy],
    ]
    return {"type": "Polygon", "coordinates": [[[round(x, 7), round(y, 7)] for x, y in ring]]}


def bench_ours(data: Path, svc: Service, n: int) -> dict[str, dict[str, float]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    t = time.perf_counter()
    proc = subprocess.Popen(
        [PY, "-m", "api.cli", "serve", "--data", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=tempfile.TemporaryFile(),  # not a pipe: one log line per request would fill it
    )
    err = wait_until_up(f"{base}/healthz", proc)
    if err:
        sys.exit(f"nrw-sites serve did not start: {err}")
    print(f"\nnrw-sites serve: up in {time.perf_counter() - t:.1f} s (load + pre-serialise)")
    rng = random.Random(1)
    n_sites = len(svc.sites)
    cent = svc.sites.geometry.representative_point().to_crs(4326)
    centres = list(zip(cent.x.tolist(), cent.y.tolist(), strict=True))
    top_ags = svc.sites["ags"].value_counts().index[:60].tolist()
    out: dict[str, dict[str, float]] = {}
    c, cz = Client(base), Client(base, {"Accept-Encoding": "gzip"})
    try:
        path = "/api/collections/sites/items"
        out["items100"] = measure(n, pages(c, path, 100, n_sites, rng))
        out["items5000"] = measure(n, pages(c, path, 5000, n_sites, rng))
        out["items5000gz"] = measure(n, pages(cz, path, 5000, n_sites, rng))
        out["ranking"] = measure(
            n,
            lambda i: c.get(
                "/api/ranking",
                {
                    "w_h2": rng.choice([2, 3, 4]),
                    "w_fibre": rng.choice([0, 0.5, 2]),
                    "w_area": rng.choice([1, 1.5]),
                    "limit": 100,
                },
            ),
        )
        out["ranking_filtered"] = measure(
            n,
            lambda i: c.get(
                "/api/ranking",
                {"w_h2": 3, "kind": "brownfield", "min_area_ha": rng.choice([2, 5, 10]), "limit": 100},
            ),
        )
        out["score"] = measure(
            n,
            lambda i: c.request(
                "POST", "/api/score", {"w_h2": 2}, json.dumps(square(*rng.choice(centres))).encode()
            ),
        )
        out["export1"] = measure(
            min(n, 30), lambda i: c.get(f"/api/exports/municipalities/{top_ags[i % len(top_ags)]}.geojson")
        )
        ids = public_view(svc.sites)["site_id"].tolist()  # this client has no key
        out["feature"] = measure(n, lambda i: c.get(f"/api/collections/sites/items/{rng.choice(ids)}"))
    finally:
        c.close()
        cz.close()
        stop(proc)
    return out


PYGEOAPI_CONFIG = """\
server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  languages: [en-US]
  pretty_print: false
  limits: {{default_items: 100, max_items: 10000}}
  map: {{url: 'https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png', attribution: 'OSM'}}
logging: {{level: ERROR}}
metadata:
  identification: {{title: bench, description: bench, keywords: [bench], keywords_type: theme,
                    terms_of_service: none, url: 'http://127.0.0.1'}}
  license: {{name: CC0, url: 'http://127.0.0.1'}}
  provider: {{name: bench, url: 'http://127.0.0.1'}}
  contact: {{name: bench, position: bench, address: bench, city: bench, stateorprovince: bench,
            postalcode: '0', country: DE, phone: '0', fax: '0', email: a@b.c,
            url: 'http://127.0.0.1', hours: always, instructions: none, role: pointOfContact}}
resources:
  sites:
    type: collection
    title: sites
    description: sites
    keywords: [sites]
    extents:
      spatial: {{bbox: [5.86, 50.32, 9.47, 52.54],
                crs: 'http://www.opengis.net/def/crs/OGC/1.3/CRS84'}}
    providers:
      - {provider}
"""


def pygeoapi_ready() -> str | None:
    """Install pygeoapi into this environment when missing; return why it is unusable, if so."""
    if importlib.util.find_spec("pygeoapi") is None:
        print("installing pygeoapi (pip) ...")
        r = subprocess.run(
            [PY, "-m", "pip", "install", "--quiet", "pygeoapi"], capture_output=True, text=True
        )
        if r.returncode != 0:
            return f"pip install pygeoapi failed: {r.stderr.strip()[-800:]}"
    return None


def start_pygeoapi(work: Path, provider: str) -> tuple[subprocess.Popen | None, str, str | None]:
    """Write a config for ``provider``, generate its OpenAPI document, start it under uvicorn."""
    port = free_port()
    cfg, oas = work / "pygeoapi.yml", work / "pygeoapi-openapi.yml"
    cfg.write_text(PYGEOAPI_CONFIG.format(port=port, provider=provider))
    env = {**os.environ, "PYGEOAPI_CONFIG": str(cfg), "PYGEOAPI_OPENAPI": str(oas)}
    pygeoapi = str(Path(PY).with_name("pygeoapi"))
    r = subprocess.run(
        [pygeoapi, "openapi", "generate", str(cfg), "--output-file", str(oas)],
        capture_output=True,
        text=True,
        env=env,
    )
    if r.returncode != 0:
        return None, "", f"pygeoapi openapi generate failed: {r.stderr.strip()[-800:]}"
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            PY,
            "-m",
            "uvicorn",
            "pygeoapi.starlette_app:APP",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=tempfile.TemporaryFile(),  # not a pipe: one log line per request would fill it
    )
    err = wait_until_up(f"{base}/collections/sites/items?limit=1&f=json", proc)
    if err:
        stop(proc)
        return None, "", err
    return proc, base, None


def bench_pygeoapi(svc: Service, n: int) -> tuple[str, dict[str, dict[str, float]]] | None:
    why = pygeoapi_ready()
    if why:
        print(f"\npygeoapi skipped: {why}")
        return None
    work = Path(tempfile.mkdtemp(prefix="nrw-bench-pygeoapi-"))
    sites = svc.sites[[c for c in svc.sites.columns if not c.startswith("_")]].to_crs(4326)
    gpkg = work / "sites.gpkg"
    sites.to_file(gpkg, layer="sites", driver="GPKG")
    candidates = [
        (
            "GeoPackage (SQLiteGPKG provider)",
            f"{{type: feature, name: SQLiteGPKG, data: '{gpkg}', id_field: site_id, table: sites}}",
        )
    ]
    parquet = work / "sites.parquet"
    b = sites.geometry.bounds
    sites.assign(minx=b.minx, miny=b.miny, maxx=b.maxx, maxy=b.maxy).to_parquet(parquet)
    candidates.append(
        (
            "GeoParquet (Parquet provider; fallback)",
            f"{{type: feature, name: Parquet, data: {{source: '{parquet}'}}, "
            f"id_field: site_id, x_field: [minx, maxx], y_field: [miny, maxy]}}",
        )
    )
    for label, provider in candidates:
        if "Parquet" in label and importlib.util.find_spec("s3fs") is None:
            print("installing s3fs for pygeoapi's Parquet provider (pip) ...")
            subprocess.run([PY, "-m", "pip", "install", "--quiet", "s3fs"], capture_output=True)
        proc, base, err = start_pygeoapi(work, provider)
        if err:
            last = [line for line in err.splitlines() if line.strip()][-2:]
            if "SQLiteGPKG" in provider and not hasattr(sqlite3.Connection, "enable_load_extension"):
                last.insert(
                    0,
                    "this Python's sqlite3 cannot load extensions, and the "
                    "SQLiteGPKG provider needs mod_spatialite",
                )
            print(
                f"\npygeoapi with {label} did not serve the sites: {textwrap.shorten(' / '.join(last), 400)}"
            )
            continue
        print(f"\npygeoapi {_version()} serving {len(sites):,} sites from {label}")
        rng = random.Random(1)
        out: dict[str, dict[str, float]] = {}
        c = Client(base)
        try:
            path = "/collections/sites/items"
            out["items100"] = measure(n, pages(c, path, 100, len(sites), rng, f="json"), budget_s=90)
            out["items5000"] = measure(n, pages(c, path, 5000, len(sites), rng, f="json"), budget_s=90)
        except (OSError, RuntimeError, http.client.HTTPException) as exc:
            print(f"pygeoapi requests failed: {exc}")
            continue
        finally:
            c.close()
            stop(proc)
        return label, out
    print("pygeoapi skipped: no provider could serve the sites")
    return None


def _version() -> str:
    from importlib.metadata import version

    return version("pygeoapi")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(Path(tempfile.gettempdir()) / "nrw-bench-api-50k"))
    ap.add_argument("--sites", type=int, default=50_000)
    ap.add_argument("--n", type=int, default=40, help="requests per scenario")
    ap.add_argument("--no-pygeoapi", action="store_true")
    args = ap.parse_args()
    data = Path(args.data)
    store = Store(data)
    if store.current_id() is None:
        print(f"building a {args.sites:,}-site demo snapshot in {data} ...")
        build(store, n_sites=args.sites, seed=42)
    t = time.perf_counter()
    svc = Service.open(data)
    print(
        f"snapshot {svc.snap.id}: {len(svc.sites):,} sites "
        f"(Service.open {time.perf_counter() - t:.1f} s); {os.cpu_count()} cores"
    )

    ours = bench_ours(data, svc, args.n)
    print(f"\nnrw-sites API, {len(svc.sites):,} sites, sequential keep-alive client:")
    row("GET items limit=100", ours["items100"])
    row("GET items limit=5000 (identity)", ours["items5000"], "target p50 ≤ 30 ms")
    row("GET items limit=5000 (gzip level 1; kB sent)", ours["items5000gz"])
    row("GET one feature", ours["feature"])
    row("GET ranking, custom weights, 100 items", ours["ranking"], "target p50 ≤ 60 ms")
    row("GET ranking, weights + filters", ours["ranking_filtered"])
    row("POST score (~20 ha polygon)", ours["score"], "target p50 ≤ 60 ms")
    row("GET one municipality export (GeoJSON)", ours["export1"])

    out = Path(tempfile.mkdtemp(prefix="nrw-bench-export-"))
    t = time.perf_counter()
    index = export_municipalities(svc, None, out, "balanced")
    secs = time.perf_counter() - t
    size = sum(f.stat().st_size for f in out.iterdir()) / 1e6
    print(
        f"  {'export_municipalities(all)':<44} {secs:8.2f} s for "
        f"{len(index['municipalities'])} municipalities ({size:.0f} MB)  target ≤ 15 s"
    )

    if args.no_pygeoapi:
        return
    res = bench_pygeoapi(svc, min(args.n, 30))
    if res is None:
        return
    label, theirs = res
    print(f"\npygeoapi ({label}), same client:")
    row("GET items limit=100", theirs["items100"])
    row("GET items limit=5000", theirs["items5000"])
    for key, name in (("items100", "page of 100"), ("items5000", "page of 5,000")):
        ratio = theirs[key]["p50"] / ours[key]["p50"]
        print(
            f"  throughput ratio, {name}: nrw-sites {ratio:.1f}× pygeoapi "
            f"(p50 {ours[key]['p50']:.1f} vs {theirs[key]['p50']:.1f} ms)  target ≥ 3×"
        )


if __name__ == "__main__":
    main()
