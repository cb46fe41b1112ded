"""The indicator stage on dask (layers/engine_dask.py) gives the in-process engine's frame.

A ``dask scheduler`` and two ``dask worker`` processes run as separate processes over TCP on
loopback; the workers import this tree through PYTHONPATH. 5,000 demo sites (5,004 with the LEP
sites) are computed by both engines and every column is compared: exactly for strings, ints,
bools and categories, to 1e-9 relative for floats (they come out bit for bit equal; the
tolerance is the contract), geometries exactly. 30 brownfields get a wrong source AGS so the one
cross-site result, the warning (a count and the first 20 in site order), is compared too.
Also: the partitions are spatially compact, a build through the command line on a local cluster
stores what the in-process engine computes, and an unreachable scheduler or a missing package is
named without a traceback.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely

from api.cli import main
from geo.errors import DomainError
from geo.sites import compute_indicators, derive_sites
from layers import engine_dask
from layers.build import _data_date, _ingest_demo, load_funding
from layers.engine_dask import SchedulerUnreachable, dask_indicators
from layers.store import Store, read_vector, write_vector

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
N_SITES = 5_000
WRONG_AGS = 30


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def inputs() -> dict[str, Any]:
    """Demo layers of 5,000 sites; 30 brownfields carry another municipality's key."""
    layers, coverage, meta = _ingest_demo(N_SITES, 7, lambda _m: None)
    bf = layers["brownfields"].copy()
    keys = layers["municipalities"]["ags"].to_numpy(object)
    rows = np.arange(0, WRONG_AGS * 50, 50)
    bf.loc[bf.index[rows], "ags"] = [
        keys[(np.flatnonzero(keys == a)[0] + 1) % len(keys)] for a in bf["ags"].iloc[rows]
    ]
    layers["brownfields"] = bf
    return {
        "sites": derive_sites(layers),
        "layers": layers,
        "coverage": coverage,
        "funding": load_funding(),
        "data_date": _data_date(meta),
    }


@pytest.fixture(scope="module")
def inproc(inputs: dict[str, Any]) -> tuple[pd.DataFrame, list[str]]:
    warnings: list[str] = []
    out = compute_indicators(
        inputs["sites"],
        inputs["layers"],
        inputs["coverage"],
        inputs["funding"],
        warn=warnings.append,
        data_date=inputs["data_date"],
    )
    return out, warnings


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """``dask scheduler`` and two ``dask worker`` processes (1 thread each) on 127.0.0.1."""
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    common = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": ROOT}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1"]
            + ["--port", str(port), "--no-dashboard"],
            **common,  # type: ignore[call-overload]
        )
    ]
    try:
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1"]
                    + ["--host", "127.0.0.1", "--no-dashboard", "--no-nanny", "--memory-limit", "0"],
                    **common,  # type: ignore[call-overload]
                )
            )
        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for p in procs[::-1]:
            p.terminate()
        for p in procs:
            try:
                p.wait(3)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Every column: names, order, dtypes and index equal; values exact except floats (1e-9 rel)."""
    assert list(got.columns) == list(want.columns)
    assert got.index.equals(want.index)
    assert (got.dtypes == want.dtypes).all(), (got.dtypes[got.dtypes != want.dtypes], want.dtypes)
    for col in want.columns:
        a, b = got[col], want[col]
        if col == "geometry":
            assert shapely.equals_exact(np.asarray(a.values), np.asarray(b.values), 0).all()
        elif b.dtype.kind == "f":
            x, y = a.to_numpy(float), b.to_numpy(float)
            assert np.array_equal(np.isnan(x), np.isnan(y)), col
            ok = ~np.isnan(y)
            assert np.all(np.abs(x[ok] - y[ok]) <= 1e-9 * np.abs(y[ok])), col
        else:
            pd.testing.assert_series_equal(a, b, check_exact=True, obj=col)


def test_dask_over_tcp_gives_the_inproc_indicators(
    inputs: dict[str, Any], inproc: tuple[pd.DataFrame, list[str]], scheduler: str
) -> None:
    want, want_warnings = inproc
    assert len(want) >= 5_000
    said: list[str] = []
    warnings: list[str] = []
    got = dask_indicators(
        inputs["sites"],
        inputs["layers"],
        inputs["coverage"],
        inputs["funding"],
        data_date=inputs["data_date"],
        scheduler=scheduler,
        progress=said.append,
        warn=warnings.append,
        per_partition=1_000,
    )
    assert_same(got, want)
    floats = [c for c in want.columns if want[c].dtype.kind == "f"]
    same_bits = [c for c in floats if np.array_equal(got[c].to_numpy(), want[c].to_numpy(), equal_nan=True)]
    assert same_bits == floats  # today bit for bit (sums within a radius: the batch's extent)
    assert warnings == want_warnings and len(warnings) == 1
    assert (
        warnings[0].startswith(f"{WRONG_AGS} site(s) carry a municipality key")
        and "and 10 more" in warnings[0]
    )
    assert any("Hilbert partitions on 2 worker(s)" in m for m in said)
    assert any(m.startswith("dask: 6/6 partitions done") for m in said), said


def test_partitions_are_spatially_compact(inputs: dict[str, Any], scheduler: str) -> None:
    """Hilbert partitions cover a fraction of the whole extent each; row blocks of the demo's
    sites (in no spatial order) each span nearly all of it."""
    from distributed import Client

    frame = inputs["sites"].reset_index(drop=True)
    frame[engine_dask.ORDER] = np.arange(len(frame))
    x0, y0, x1, y1 = frame.total_bounds
    whole = (x1 - x0) * (y1 - y0)

    def box_share(part: pd.DataFrame) -> float:
        a, b, c, d = part.total_bounds
        return float((c - a) * (d - b) / whole)

    with Client(scheduler, timeout=30) as client:
        parts = client.gather(client.compute(engine_dask._hilbert_partitions(client, frame, 8).to_delayed()))
    assert sum(len(p) for p in parts) == len(frame)
    assert sorted(np.concatenate([p[engine_dask.ORDER].to_numpy() for p in parts])) == list(range(len(frame)))
    hilbert = np.mean([box_share(p) for p in parts])
    rows = np.mean([box_share(frame.iloc[r]) for r in np.array_split(np.arange(len(frame)), 8)])
    assert hilbert < 0.4 and rows > 0.8, (hilbert, rows)


def test_unreachable_scheduler_is_named(
    inputs: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(engine_dask, "CONNECT_TIMEOUT_S", 1)
    address = f"tcp://127.0.0.1:{_free_port()}"
    t = time.perf_counter()
    with pytest.raises(SchedulerUnreachable, match=f"cannot reach the dask scheduler at {address}"):
        dask_indicators(
            inputs["sites"].iloc[:20], inputs["layers"], inputs["coverage"], None, scheduler=address
        )
    assert time.perf_counter() - t < 15
    demo = ["build", "--demo", "--sites", "20", "--data", str(tmp_path)]
    code = main([*demo, "--engine", "dask", "--scheduler", address])
    err = capsys.readouterr().err
    assert code == 1
    assert f"error: cannot reach the dask scheduler at {address}" in err and "Traceback" not in err
    assert Store(tmp_path).current_id() is None and not Store(tmp_path).list()  # nothing published
    assert main([*demo, "--scheduler", address]) == 2
    assert "use it with --engine dask" in capsys.readouterr().err


def test_missing_packages_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dask_geopandas", None)  # import fails as if not installed
    with pytest.raises(DomainError, match=r"dask_geopandas is missing\): pip install 'nrw-sites\[dask\]'"):
        engine_dask.require()


def test_build_on_dask_publishes_the_indicators(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`nrw-sites build --engine dask --workers 1` stores the sites the in-process engine computes
    from the snapshot's own layers (written and read back the same way)."""
    assert (
        main(
            [
                "build",
                "--demo",
                "--sites",
                "300",
                "--data",
                str(tmp_path),
                "--engine",
                "dask",
                "--workers",
                "1",
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "dask: starting a local cluster of 1 worker process(es)" in err and "partitions done" in err
    snap = Store(tmp_path).load()
    assert snap.manifest["engine"] == {"name": "dask", "scheduler": "local (1 workers)"}
    day = dt.date.fromisoformat(snap.manifest["data_date"])
    want = compute_indicators(
        derive_sites(snap.layers), snap.layers, snap.coverage, load_funding(), data_date=day
    )
    file = write_vector(tmp_path, "expected", want)
    assert_same(snap.layers["sites"], read_vector(tmp_path / file))
