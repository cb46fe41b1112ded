"""API fixtures: one small synthetic snapshot per session, a TestClient, and a live server.

The snapshot is the demo generator at 300 sites (seed 1): 396 municipalities, ~300 sites,
hydrogen segments and coverage grids, built once per run (tests/conftest.py ``demo_cache``)
and copied into a temporary directory for each session (each xdist worker).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import httpx
import numpy as np
import pytest
import shapely

from api.main import create_app
from api.service import Service
from api.settings import Settings
from tests.conftest import DemoCache

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's note that httpx will be replaced by httpx2
    from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"
GEOJSON = "application/geo+json"
NRW_WGS84 = (5.86, 50.32, 9.47, 52.54)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory, demo_cache: DemoCache) -> Path:
    """A data directory holding one published demo snapshot (300 sites, seed 1): this session's
    own copy of the run's shared build, so the tests may add keys, audit lines and lists to it."""
    return demo_cache.copy(tmp_path_factory.mktemp("apidata"), n_sites=300, seed=1)


@pytest.fixture(scope="session")
def settings(data_dir: Path) -> Settings:
    """Settings pointing at the test snapshot."""
    return Settings(data=data_dir)


@pytest.fixture(scope="session")
def client(settings: Settings) -> Iterator[TestClient]:
    """A TestClient on the app (lifespan run: snapshot loaded and pre-serialised)."""
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="session")
def svc(client: TestClient) -> Service:
    """The app's Service (the same objects the routes use)."""
    return client.app.state.service  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def sites_wgs84(svc: Service) -> gpd.GeoDataFrame:
    """The stored sites reprojected with plain geopandas (an independent reference)."""
    return svc.sites.to_crs(4326)


@pytest.fixture(scope="session")
def live_server(data_dir: Path) -> Iterator[str]:
    """``nrw-sites serve`` on 127.0.0.1 and a free port, in a subprocess.

    A subprocess, not a thread: GDAL (pyogrio) holds the GIL while it waits for HTTP answers.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "api.cli",
            "serve",
            "--data",
            str(data_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited: {proc.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start within 60 s")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stderr.close()


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(
    data: Path, *extra: str, env: dict[str, str] | None = None, stderr: int = subprocess.DEVNULL
) -> Iterator[tuple[subprocess.Popen, int]]:
    """``nrw-sites serve`` in its own process group on a free port, up when this yields; killed
    (the whole group) on exit if still running."""
    port = _port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--data", str(data), "--port", str(port), *extra],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise RuntimeError("the server did not start")
        yield proc, port
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def writer(script: str, data: Path) -> subprocess.Popen:
    """A Python process running ``script`` on ``data`` (for kill tests), its stdout a text pipe."""
    root = Path(__file__).resolve().parents[2]
    return subprocess.Popen(
        [sys.executable, "-c", script, str(data)],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )


# -- checks shared by the tests ------------------------------------------------------------
_NUMBER = re.compile(rb"-?\d+\.(\d+)")


def max_decimals(raw: bytes) -> int:
    """The most decimals of any number in the coordinates of a GeoJSON text."""
    most = 0
    for m in re.finditer(rb'"coordinates":(\[[\[\]\d.,\-eE ]*\])', raw):
        most = max([most, *(len(d.group(1)) for d in _NUMBER.finditer(m.group(1)))])
    return most


def assert_rfc7946(doc: dict[str, Any], raw: bytes) -> None:
    """Check a FeatureCollection: no crs member, WGS84 ranges, ≤ 7 decimals, CCW exteriors."""
    assert "crs" not in doc
    assert max_decimals(raw) <= 7
    for f in doc["features"]:
        assert f["type"] == "Feature"
        g = shapely.geometry.shape(f["geometry"])
        xy = shapely.get_coordinates(g)
        assert (xy[:, 0] >= -180).all() and (xy[:, 0] <= 180).all()
        assert (xy[:, 1] >= -90).all() and (xy[:, 1] <= 90).all()
        x0, y0, x1, y1 = NRW_WGS84
        assert x0 <= xy[:, 0].min() and xy[:, 0].max() <= x1
        assert y0 <= xy[:, 1].min() and xy[:, 1].max() <= y1
        for poly in getattr(g, "geoms", [g]):
            if poly.geom_type == "Polygon":
                assert poly.exterior.is_ccw
                assert all(not ring.is_ccw for ring in poly.interiors)


def assert_problem(resp: Any, status: int) -> dict[str, Any]:
    """Check an RFC 9457 problem response and return its body."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    body = resp.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    return body


def recomputed_score(breakdown: dict[str, Any]) -> float:
    """score = 100 · Σ w·v / Σ w over the criteria with data, from a breakdown."""
    w = np.array([b["weight"] for b in breakdown.values() if not b["missing"]])
    v = np.array([b["v"] for b in breakdown.values() if not b["missing"]])
    return float(100 * (w * v).sum() / w.sum())
