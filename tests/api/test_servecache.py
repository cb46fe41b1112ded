"""The serving cache (layers/servecache.py, api/views.py): the collections mapped from it serve
exactly what the collections serialised in memory serve, it is written once, and a data
directory that cannot hold it is served from memory."""

from __future__ import annotations

import errno
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from api import views
from api.geojson import Collection
from api.views import build_views, public_snapshot
from geo.access import public_mask
from geo.criteria import DEFAULT_PROFILE
from geo.crs import CRS84_OUT, WORK_OUT, output_crs
from geo.query import RankingQuery
from geo.scoring import Scorer
from layers import servecache
from layers.servecache import ByteSeq, WkbGeoms
from layers.store import Store


def test_byte_seq_round_trip(tmp_path: Path) -> None:
    items = [b"", b"a", b'{"x":1}', "é".encode(), b"\x00\xff" * 1000, b""]
    seq = ByteSeq.of(items)
    assert list(seq) == items and len(seq) == 6 and seq[-1] == b"" and seq[1:3] == items[1:3]
    seq.write(tmp_path / "s")
    mapped = ByteSeq.open(tmp_path / "s")
    assert [mapped[i] for i in range(len(items))] == items == list(mapped)
    with pytest.raises(IndexError):
        mapped[6]
    ByteSeq.of([]).write(tmp_path / "empty")  # an empty file cannot be mapped: still opens
    assert list(ByteSeq.open(tmp_path / "empty")) == []


def test_wkb_geoms_decode_exactly() -> None:
    geoms = np.array(
        [shapely.Point(6.123456789012345, 51.1), None, shapely.box(7.1, 50.9, 7.2, 51.0)], dtype=object
    )
    lazy = WkbGeoms.of(geoms)
    assert len(lazy) == 3
    rows = lazy[np.array([2, 0])]
    assert shapely.equals_exact(rows, geoms[[2, 0]], tolerance=0).all()
    assert lazy[1] is None and shapely.get_coordinates(lazy[0])[0, 0] == 6.123456789012345


def _same(a: Collection, b: Collection) -> None:
    n = len(a.ids)
    assert a.ids.tolist() == b.ids.tolist() and a.types == b.types
    assert list(a.features) == list(b.features)
    for crs in (WORK_OUT, output_crs("http://www.opengis.net/def/crs/EPSG/0/4326")):
        assert list(a.features_in(crs)) == list(b.features_in(crs)), crs.uri
    assert np.array_equal(a.bounds, b.bounds)
    assert shapely.equals_exact(np.asarray(a.geoms[np.arange(n)]), b.geoms[np.arange(n)], tolerance=0).all()
    assert list(a.columns) == list(b.columns)
    for c in a.columns:
        assert a.columns[c].tolist() == b.columns[c].tolist() or a.types[c] == "number", c
        if a.types[c] == "number":
            np.testing.assert_array_equal(a.columns[c], b.columns[c])
    for bbox in ((6.9, 51.0, 7.4, 51.5), (5.0, 50.0, 10.0, 53.0), (0.0, 0.0, 1.0, 1.0)):
        assert a.select(bbox, {}).tolist() == b.select(bbox, {}).tolist()
    if "kind" in a.columns:
        assert (
            a.select(None, {"kind": ["brownfield"]}).tolist()
            == b.select(None, {"kind": ["brownfield"]}).tolist()
        )


def test_mapped_views_serve_what_memory_serves(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "data"
    shutil.copytree(data_dir, root, ignore=shutil.ignore_patterns("serve-*", ".serve-tmp-*"))
    store = Store(root)
    snap = store.load()
    calls: list[Path] = []
    real = servecache.ensure

    def counting(path: Path, build: Callable[[Path], None]) -> Path | None:
        def build_counted(tmp: Path) -> None:
            calls.append(tmp)
            build(tmp)

        return real(path, build_counted)

    monkeypatch.setattr(servecache, "ensure", counting)
    monkeypatch.setattr(views, "CHUNK", 64)  # written in pieces: the same bytes as all at once
    mapped = build_views(snap)
    again = build_views(store.load())  # a second worker: maps what the first wrote
    assert len(calls) == 1
    cache = snap.path / f"serve-{servecache.code_key()}"
    assert (cache / "full" / "sites" / "features.bin").is_file()
    assert isinstance(mapped["full"].collections["sites"].features, ByteSeq)
    memory = build_views(store.load(), cached=False)
    assert not isinstance(memory["full"].collections["sites"].geoms, WkbGeoms)
    for view in ("full", "public"):
        assert mapped[view].collections.keys() == memory[view].collections.keys()
        for cid, coll in mapped[view].collections.items():
            _same(coll, memory[view].collections[cid])
            _same(again[view].collections[cid], memory[view].collections[cid])
    assert len(mapped["public"].collections["sites"].ids) < len(mapped["full"].collections["sites"].ids)
    assert CRS84_OUT.uri not in mapped["full"].collections["sites"].by_crs  # CRS84 is .features


def test_stale_and_unwritable_caches(data_dir: Path, tmp_path: Path) -> None:
    snap_dir = tmp_path / "snap"
    snap_dir.mkdir()
    (snap_dir / "serve-0000000000000000").mkdir()  # another release's cache: removed
    (tmp_path / "older" / "serve-1111111111111111").mkdir(parents=True)  # another snapshot's: removed
    (tmp_path / "older" / "layer.parquet").write_bytes(b"kept")
    (snap_dir / ".serve-tmp-1").mkdir()  # a killed worker's: removed
    # this code's caches of two earlier snapshots: the newer is kept (a rollback), the older removed
    ours = f"{servecache.PREFIX}{servecache.code_key()}"
    for name, age in (("before", 100), ("oldest", 200)):
        (tmp_path / name / ours).mkdir(parents=True)
        os.utime(tmp_path / name / ours, (time.time() - age, time.time() - age))

    def write(tmp: Path) -> None:
        (tmp / "x").write_bytes(b"1")

    got = servecache.ensure(snap_dir, write)
    assert got is not None and (got / "x").read_bytes() == b"1"
    assert sorted(p.name for p in snap_dir.iterdir()) == [got.name]
    assert [p.name for p in (tmp_path / "older").iterdir()] == ["layer.parquet"]
    assert (tmp_path / "before" / ours).is_dir() and not (tmp_path / "oldest" / ours).exists()

    def read_only(tmp: Path) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    other = tmp_path / "ro"
    other.mkdir()
    assert servecache.ensure(other, read_only) is None  # served from memory
    assert list(other.iterdir()) == []  # nothing half-written left

    def broken(tmp: Path) -> None:
        (tmp / "part").write_bytes(b"x")
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        servecache.ensure(other, broken)
    assert list(other.iterdir()) == []

    def disk_full(tmp: Path) -> None:
        (tmp / "part").write_bytes(b"x")
        raise OSError(errno.ENOSPC, "No space left on device")

    assert servecache.ensure(other, disk_full) is None  # logged; served from memory
    assert list(other.iterdir()) == []


def test_public_scorer_is_the_full_ones_public_rows(data_dir: Path) -> None:
    """The public view's scorer is taken from the full one's (no second conversion of the frame,
    no second computation of the default profile's values): equal to one made from the public
    sites alone, column for column, value for value and ranking for ranking; its texts are the
    full view's string objects."""
    snap = Store(data_dir).load()
    built = build_views(snap, cached=False)
    public, full = built["public"].service.scorer, built["full"].service.scorer
    alone = Scorer(public_snapshot(snap).layers["sites"])  # made from the public frame
    assert public._cols.keys() == alone._cols.keys()
    for c, col in alone._cols.items():
        assert pd.Series(public._cols[c]).equals(pd.Series(col)), c
    profile = RankingQuery.of(DEFAULT_PROFILE).resolved_profile()
    assert public._values, "the default profile's values came along"
    np.testing.assert_array_equal(public.values(profile), alone.values(profile))
    q = RankingQuery.of("logistics", {"area": 3})  # values computed afresh on the subset
    np.testing.assert_array_equal(public.run(q).order, alone.run(q).order)
    rows = np.flatnonzero(public_mask(snap.layers["sites"]))
    assert 0 < len(rows) < len(snap.layers["sites"])
    assert all(public._cols["name"][i] is full._cols["name"][r] for i, r in enumerate(rows.tolist()))
    with pytest.raises(ValueError, match="rows given"):
        full.subset(public.sites, rows[:-1])


def test_a_worker_killed_while_writing_leaves_no_cache_and_the_next_writes_it(tmp_path: Path) -> None:
    """Kill -9 mid-write: no cache appears half-written, the lock dies with the process, and the
    next worker writes the whole cache and sweeps the killed one's temporary directory."""
    import signal
    import subprocess
    import sys

    snap_dir = tmp_path / "snap"
    snap_dir.mkdir()
    started = tmp_path / "started"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from layers import servecache\n"
            "def build(tmp):\n"
            "    (tmp / 'part').write_bytes(b'half')\n"
            "    Path(sys.argv[2]).touch()\n"
            "    time.sleep(60)\n"
            "servecache.ensure(Path(sys.argv[1]), build)\n",
            str(snap_dir),
            str(started),
        ],
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert child.poll() is None and time.monotonic() < deadline, "the writer did not start"
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    assert not list(snap_dir.glob(f"{servecache.PREFIX}*"))  # nothing served from the torn write
    assert list(snap_dir.glob(".serve-tmp-*"))  # what the killed worker left

    def write(tmp: Path) -> None:
        (tmp / "x").write_bytes(b"whole")

    got = servecache.ensure(snap_dir, write)  # does not wait for the dead worker's lock
    assert got is not None and (got / "x").read_bytes() == b"whole"
    assert sorted(p.name for p in snap_dir.iterdir()) == [got.name]


def test_a_worker_imports_with_the_collector_off_and_switches_it_on_once_loaded(data_dir: Path) -> None:
    """api/worker.py (the factory of ``serve --workers N``) switches the cyclic collector off for
    the imports and the load; the load switches it on again, with the snapshot frozen."""
    import subprocess
    import sys

    code = (
        "import gc, sys\n"
        "from pathlib import Path\n"
        "import api.worker\n"
        "off = gc.isenabled()\n"
        "from fastapi import FastAPI\n"
        "from api.live import load\n"
        "from api.settings import Settings\n"
        "load(FastAPI(), Settings(data=Path(sys.argv[1])))\n"
        "print(off, gc.isenabled(), gc.get_freeze_count() > 100000)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(data_dir)], capture_output=True, text=True, timeout=300, check=True
    )
    assert out.stdout.split() == ["False", "True", "True"], out.stderr[-2000:]


def test_a_cache_copied_with_its_snapshot_into_another_is_not_served(data_dir: Path, tmp_path: Path) -> None:
    """A snapshot directory copied with its serving cache (layers' Arrow copies, feature bytes)
    into a new snapshot with other sites: the new snapshot is served from its own files."""
    from api.views import load_snapshot
    from tests.layers._snapshots import publish_sites

    root = tmp_path / "data"
    shutil.copytree(data_dir, root, ignore=shutil.ignore_patterns("*.sqlite*", "keys*", "audit"))
    store = Store(root)
    old_id = store.current_id()
    assert old_id
    build_views(load_snapshot(store, old_id))  # writes the old snapshot's cache
    assert servecache.existing(store.snapshots / old_id) is not None
    old = store.load(old_id).layers["sites"]
    new_id = publish_sites(store, old_id, old.iloc[7:].reset_index(drop=True))  # copies the cache too
    assert list((store.snapshots / new_id).glob("serve-*")), "the helper copies the cache along"
    assert servecache.existing(store.snapshots / new_id) is None
    snap = load_snapshot(store, new_id)
    assert len(snap.layers["sites"]) == len(old) - 7
    views = build_views(snap)
    assert len(views["full"].collections["sites"].ids) == len(old) - 7
    assert servecache.existing(store.snapshots / new_id) is not None  # rewritten for it
    assert len(load_snapshot(store, new_id).layers["sites"]) == len(old) - 7
