"""Faults: builds killed at random moments, a full disk during a build, a damaged live snapshot,
two publishes at once."""

from __future__ import annotations

import errno
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from api.cli import main
from geo.errors import Conflict
from geo.query import RankingQuery
from layers import build as build_module
from layers import jobs
from layers.build import build
from layers.errors import CorruptSnapshot
from layers.store import Store
from tests.fixture_subset import copy_to

KILLS = int(os.environ.get("NRW_SITES_KILLS", "24"))


@pytest.fixture()
def sources(tmp_path) -> Path:
    d = tmp_path / "src"
    d.mkdir()
    return copy_to(d)


@pytest.fixture()
def store(tmp_path, sources) -> Store:
    s = Store(tmp_path / "data")
    build(s, sources=sources)
    return s


def _complete(store: Store) -> str:
    live = store.current_id()
    assert live is not None
    store.verify(live)  # every file there, sizes and sha256 as at publish
    store.load(live)
    return live


def test_sigkill_at_random_moments_never_leaves_a_broken_current(store, sources):
    rng = random.Random(11)
    cmd = [sys.executable, "-m", "api.cli", "build", "--sources", str(sources), "--data", str(store.root)]
    t = time.perf_counter()  # how long a whole build takes here, to spread the kills over it
    subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    full = time.perf_counter() - t
    outcomes = {"old": 0, "new": 0}
    for _ in range(KILLS):
        before = store.current_id()
        proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        time.sleep(rng.uniform(0.0, full * 1.1))
        os.killpg(proc.pid, signal.SIGKILL)  # the build and any worker it forked
        proc.wait(timeout=30)
        live = _complete(store)
        outcomes["old" if live == before else "new"] += 1
        # a restart (serve) sweeps what the killed build left
        assert main(["snapshots", "--data", str(store.root)]) == 0
        with store.lock():
            store.sweep()
        jobs.sweep(store.root)
        assert not list(store.root.glob(".tmp-*"))
        assert not list(store.root.glob(".CURRENT.tmp-*"))
        for d in store.snapshots.iterdir():  # only complete snapshots are in snapshots/
            assert (d / "manifest.json").exists()
            store.verify(d.name)
    assert sum(outcomes.values()) == KILLS
    assert outcomes["old"] > 0  # most kills land mid-build


def test_full_disk_during_a_build_fails_clearly_and_the_live_snapshot_keeps_serving(
    store, sources, monkeypatch, capsys
):
    from api.service import Service

    live = store.current_id()
    svc = Service.open(store.root)
    real = build_module.write_vector

    def full_disk(staging, name, gdf):
        if name == "sites":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(staging / "sites.parquet"))
        return real(staging, name, gdf)

    monkeypatch.setattr(build_module, "write_vector", full_disk)
    assert main(["build", "--sources", str(sources), "--data", str(store.root)]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "previous snapshot is still live" in err
    assert store.current_id() == live
    assert not list(store.root.glob(".tmp-*"))
    _complete(store)
    assert svc.ranking(RankingQuery.of(limit=3))["numberReturned"] == 3  # still serving
    assert Service.open(store.root).snap.id == live


def test_a_damaged_live_snapshot_is_found_at_start_with_a_clear_message(store, tmp_path):
    live = store.current_id()
    f = store.snapshots / live / "sites.parquet"
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])  # truncated Parquet
    with pytest.raises(CorruptSnapshot, match="sites.parquet"):
        store.verify()
    proc = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve", "--data", str(store.root), "--port", "9"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert f"snapshot {live}" in proc.stderr and "sites.parquet" in proc.stderr
    assert "damaged" in proc.stderr and "Traceback" not in proc.stderr
    # one flipped byte, same size, is found too
    g = store.snapshots / live / "brownfields.parquet"
    raw = bytearray(g.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    g.write_bytes(bytes(raw))
    f.unlink()
    with pytest.raises(CorruptSnapshot):
        store.verify()


def test_two_publishes_at_once_one_wins_one_is_409(store, sources, tmp_path):
    import zipfile

    live = store.current_id()
    uploads = []
    for k in range(2):
        p = tmp_path / f"up{k}.zip"
        with zipfile.ZipFile(p, "w") as zf:
            for f in sources.parent.rglob("*"):
                if f.is_file():
                    zf.write(f, str(f.relative_to(sources.parent)))
        uploads.append(p)
    results: list[object] = [None, None]
    barrier = threading.Barrier(2)

    def go(k: int) -> None:
        barrier.wait()
        try:
            results[k] = jobs.start(store.root, uploads[k], activate=True)
        except Conflict as exc:
            results[k] = exc

    threads = [threading.Thread(target=go, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [r for r in results if isinstance(r, dict)]
    lost = [r for r in results if isinstance(r, Conflict)]
    assert len(won) == 1 and len(lost) == 1, results
    deadline = time.monotonic() + 120
    while (doc := jobs.read(store.root, won[0]["id"]))["state"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert doc["state"] == "succeeded", doc
    assert store.current_id() == doc["snapshot"] != live
    _complete(store)
    # and a build from the command line while a publish holds the lock is refused too
    spare = tmp_path / "spare.zip"
    spare.write_bytes(b"PK\x05\x06" + b"\0" * 18)
    with store.lock(), pytest.raises(Conflict):
        jobs.start(store.root, spare, activate=False)
