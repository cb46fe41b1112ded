"""The snapshot store (DESIGN §3.1).

``DATA_DIR/snapshots/<id>/`` holds one GeoParquet per vector layer (EPSG:25832), the coverage
layers (``<name>.npy`` grids or ``<name>_units.parquet`` tables), the scored ``sites`` layer and
``manifest.json``. ``DATA_DIR/CURRENT`` names the live snapshot and is switched atomically (write a
temporary file, fsync, ``os.replace``). A build writes into ``DATA_DIR/.tmp-<id>`` and renames it
into ``snapshots/`` only when complete, so a failed or killed build leaves the previous snapshot
live; leftovers are swept by the next writer. Snapshots are immutable; ``rollback`` re-points
CURRENT at an older one.
"""

from __future__ import annotations

import builtins
import contextlib
import fcntl
import functools
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geo.errors import NotFound
from layers.errors import BuildRunning, CorruptSnapshot, IncompatibleSnapshot

if TYPE_CHECKING:  # the data libraries are imported where data is read or written: the parent
    import geopandas as gpd  # process of `serve --workers N` only checks files (~100 MB less)
    import pyproj

    from geo.grid import Coverage

log = logging.getLogger("nrw_sites.layers")
MANIFEST = "manifest.json"
ARROW = ".arrow"  # a vector layer's copy in the serving cache (write_arrow_copies)
VERIFIED = ".verified.json"  # Store.verify: the files whose checksum matched, by their stat
# The snapshot format this release writes (``format_version`` in the manifest) and the oldest it
# reads. 1: the releases before the field existed (0.1.x: no issue-21 layers and indicators; their
# criteria load as "no data"). 2: the manifest names its format; layers of issue 21 may be present.
SNAPSHOT_FORMAT = 2
OLDEST_FORMAT = 1


@dataclass
class Snapshot:
    """A loaded snapshot: vector layers, coverage layers and the manifest."""

    id: str
    path: Path
    manifest: dict[str, Any]
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    coverage: dict[str, Coverage] = field(default_factory=dict)

    @property
    def synthetic(self) -> bool:
        """True for the generated demo dataset."""
        return bool(self.manifest.get("synthetic"))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json_atomic(path: Path, obj: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


class Store:
    """Snapshots under one data directory."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.snapshots = self.root / "snapshots"

    # -- reading ---------------------------------------------------------------------------
    def current_id(self) -> str | None:
        """Return the id of the live snapshot, or None when nothing was published yet."""
        try:
            text = (self.root / "CURRENT").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return text or None

    def list(self) -> list[dict[str, Any]]:
        """Return the manifests of all complete snapshots, newest first."""
        out = []
        if self.snapshots.exists():
            for d in self.snapshots.iterdir():
                m = d / MANIFEST
                if m.exists():
                    out.append(json.loads(m.read_text(encoding="utf-8")))
        return sorted(out, key=lambda m: (m["created"], m["id"]), reverse=True)

    def manifest(self, snapshot_id: str | None = None) -> dict[str, Any]:
        """Return a snapshot's manifest (default: the live one); a snapshot in a format this
        release cannot read is refused with what to do (IncompatibleSnapshot)."""
        sid = snapshot_id or self.current_id()
        if sid is None:
            raise NotFound(f"no snapshot published in {self.root}; run `nrw-sites build --demo`")
        path = self.snapshots / sid / MANIFEST
        if not path.exists():
            raise NotFound(f"snapshot {sid!r} does not exist in {self.root}")
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        fmt = manifest.get("format_version", 1)
        if not isinstance(fmt, int) or not OLDEST_FORMAT <= fmt <= SNAPSHOT_FORMAT:
            raise IncompatibleSnapshot(
                f"snapshot {sid} in {self.root} has format {fmt!r} (written by release "
                f"{manifest.get('code_version', '?')}); this release reads formats {OLDEST_FORMAT} to "
                f"{SNAPSHOT_FORMAT}. Serve it with the release that wrote it, activate a snapshot this "
                "release wrote (`nrw-sites snapshots`, `nrw-sites rollback ID`), or build a new one"
            )
        return manifest

    def load(self, snapshot_id: str | None = None, copies: Path | None = None) -> Snapshot:
        """Load every layer of a snapshot (default: the live one); its vector layers from their
        Arrow copies in ``copies`` where there (``write_arrow_copies``)."""
        import numpy as np
        import pandas as pd

        from geo.grid import NRW_GRID, Coverage, GridSpec

        manifest = self.manifest(snapshot_id)
        sid = manifest["id"]
        path = self.snapshots / sid
        snap = Snapshot(sid, path, manifest)
        for name, meta in manifest["layers"].items():
            if meta.get("kind") == "vector":
                copy = None if copies is None else copies / f"{name}{ARROW}"
                snap.layers[name] = read_vector(path / meta["file"], copy)
            elif meta.get("kind") == "coverage":
                if meta["file"].endswith(".npy"):
                    grid = np.load(path / meta["file"], mmap_mode="r")  # on its own grid if not NRW's
                    spec = GridSpec(**meta["grid"]) if "grid" in meta else NRW_GRID
                    snap.coverage[name] = Coverage(meta["resolution"], grid=grid, spec=spec)
                else:
                    units = pd.read_parquet(path / meta["file"])
                    snap.coverage[name] = Coverage(meta["resolution"], units=units.set_index("key")["share"])
        return snap

    # -- writing ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the store's exclusive writer lock (one build or rollback at a time)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise BuildRunning(f"another build is running on {self.root}") from exc
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def sweep(self) -> builtins.list[str]:  # list: the method above
        """Remove half-written build directories left by failed or killed builds."""
        removed = []
        for d in self.root.glob(".tmp-*"):
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d.name)
        for f in self.root.glob(".CURRENT.tmp-*"):
            f.unlink(missing_ok=True)
            removed.append(f.name)
        return removed

    def new_id(self) -> str:
        """Return a fresh, sortable snapshot id."""
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        sid = stamp
        n = 1
        while (self.snapshots / sid).exists():
            n += 1
            sid = f"{stamp}-{n}"
        return sid

    def publish(self, staging: Path, snapshot_id: str, activate: bool = True) -> None:
        """Move a complete staging directory into place and (unless ``activate`` is false)
        switch CURRENT to it. The sha256 and size of every file go into the manifest first, so
        a file damaged later is found when the snapshot is loaded.
        """
        manifest = json.loads((staging / MANIFEST).read_text(encoding="utf-8"))
        files = {}
        for f in sorted(staging.iterdir()):
            if f.name != MANIFEST and f.is_file():
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
                files[f.name] = {"sha256": _sha256(f), "bytes": f.stat().st_size}
        manifest["files"] = files
        _write_json_atomic(staging / MANIFEST, manifest)
        _fsync_dir(staging)
        self.snapshots.mkdir(parents=True, exist_ok=True)
        os.replace(staging, self.snapshots / snapshot_id)
        _fsync_dir(self.snapshots)
        if activate:
            self.set_current(snapshot_id)

    def verify(self, snapshot_id: str | None = None, *, full: bool = False) -> dict[str, Any]:
        """Check every file of a snapshot against the checksums of its manifest; raise
        CorruptSnapshot naming the first bad file. Returns the manifest.

        A successful check leaves ``VERIFIED`` in the snapshot: each file's size, inode and
        change times as they were when its checksum matched. A later check (the serving parent,
        then each worker, then each replica's restart) hashes only the files whose stat differs
        (as git's index does): any write, truncation, replacement or copy changes it, and the
        ~180 MB of a 50,000-site snapshot are not read three times before the first answer.
        ``full`` hashes every file regardless.
        """
        manifest = self.manifest(snapshot_id)
        path = self.snapshots / manifest["id"]
        layer_files = {m.get("file") for m in manifest.get("layers", {}).values()}
        known = {} if full else _read_stamp(path)
        stamp: dict[str, list[int]] = {MANIFEST: _stat_key(path / MANIFEST)}
        if known.get(MANIFEST) != stamp[MANIFEST]:  # another manifest: nothing it vouched for counts
            known = {}
        for name, meta in manifest.get("files", {}).items():
            f = path / name
            problem = None
            if not f.is_file():
                if name not in layer_files:  # map data are optional: served without them
                    continue
                problem = "is missing"
            elif f.stat().st_size != meta["bytes"]:
                problem = f"has {f.stat().st_size:,} bytes, the manifest says {meta['bytes']:,}"
            else:
                key = _stat_key(f)
                if known.get(name) != key and _sha256(f) != meta["sha256"]:
                    problem = "does not match its sha256 in the manifest"
                stamp[name] = key
            if problem:
                raise CorruptSnapshot(
                    f"snapshot {manifest['id']} in {self.root} is damaged: {name} {problem}. "
                    "Activate another snapshot (`nrw-sites rollback ID`, see `nrw-sites "
                    "snapshots`) or build a new one"
                )
        if stamp != known:
            with contextlib.suppress(OSError):  # a read-only data directory: hash again next time
                _write_json_atomic(path / VERIFIED, stamp)
        return manifest

    def set_current(self, snapshot_id: str) -> None:
        """Atomically point CURRENT at a complete snapshot in a format this release reads."""
        self.manifest(snapshot_id)  # NotFound, or IncompatibleSnapshot saying what to do
        tmp = self.root / f".CURRENT.tmp-{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(snapshot_id + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.root / "CURRENT")
        _fsync_dir(self.root)


def _stat_key(path: Path) -> list[int]:
    """What changes whenever a file's bytes may have: size, device, inode, mtime and ctime (ns)."""
    st = path.stat()
    return [st.st_size, st.st_dev, st.st_ino, st.st_mtime_ns, st.st_ctime_ns]


def _read_stamp(path: Path) -> dict[str, Any]:
    """The ``VERIFIED`` stamp of a snapshot directory; empty when absent or unreadable."""
    try:
        stamp = json.loads((path / VERIFIED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stamp if isinstance(stamp, dict) else {}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@functools.lru_cache(maxsize=32)
def _crs(projjson: str) -> pyproj.CRS:
    """A CRS from its PROJJSON text, parsed once per process: PROJ takes 30-200 ms each time,
    which, once per layer, was most of a snapshot switch."""
    import pyproj

    return pyproj.CRS.from_user_input(json.loads(projjson))


def write_arrow_copies(snapshot_dir: Path, manifest: dict[str, Any], out: Path) -> None:
    """Write each vector layer's table as an uncompressed Arrow IPC file into ``out`` (a
    directory of the serving cache, written once per snapshot): mapped by ``read_vector``, it is
    read without decoding, and its text columns stay in the mapped pages, which every worker
    shares, instead of a copy in each worker's heap."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out.mkdir(parents=True, exist_ok=True)
    for name, meta in manifest.get("layers", {}).items():
        if meta.get("kind") == "vector":
            table = pq.read_table(snapshot_dir / meta["file"])
            with pa.OSFile(str(out / f"{name}{ARROW}"), "wb") as sink:
                with pa.ipc.new_file(sink, table.schema) as w:
                    w.write_table(table)


def _table(path: Path, copy: Path | None) -> Any:
    """The layer's Arrow table: its mapped copy if there and readable, else its GeoParquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if copy is not None and copy.is_file():
        try:
            return pa.ipc.open_file(pa.memory_map(str(copy))).read_all()
        except (OSError, pa.ArrowInvalid) as exc:  # a damaged cache: the snapshot's file is read
            log.warning("arrow copy %s unreadable (%s): reading %s", copy, exc, path.name)
    return pq.read_table(path)


def read_vector(path: Path, copy: Path | None = None) -> gpd.GeoDataFrame:
    """Read a GeoParquet layer as ``gpd.read_parquet`` does, parsing each distinct CRS once;
    from ``copy``, its Arrow copy (``write_arrow_copies``), when that is there."""
    import geopandas as gpd
    import numpy as np

    table = _table(path, copy)
    geo = json.loads((table.schema.metadata or {}).get(b"geo", b"{}") or b"{}")
    columns = [c for c in table.column_names if c in geo.get("columns", {})]
    if not columns or any(geo["columns"][c].get("encoding") != "WKB" for c in columns):
        return gpd.read_parquet(path)
    df = table.drop(columns).to_pandas()
    for c in columns:
        meta = geo["columns"][c]
        crs = _crs(json.dumps(meta["crs"], sort_keys=True)) if meta.get("crs") else "OGC:CRS84"
        df.insert(
            table.column_names.index(c), c, gpd.GeoSeries.from_wkb(np.asarray(table[c]), crs=crs).values
        )
    primary = geo.get("primary_column")
    return gpd.GeoDataFrame(df, geometry=primary if primary in columns else columns[0])


def write_vector(staging: Path, name: str, gdf: gpd.GeoDataFrame) -> str:
    """Write a vector layer as GeoParquet into the staging directory; return the file name."""
    file = f"{name}.parquet"
    gdf.to_parquet(staging / file, index=False, compression="zstd")
    return file


def write_coverage(staging: Path, name: str, cov: Coverage) -> str:
    """Write a coverage layer (grid as .npy, unit table as parquet); return the file name."""
    import numpy as np
    import pandas as pd

    if cov.grid is not None:
        file = f"{name}.npy"
        np.save(staging / file, np.ascontiguousarray(cov.grid, dtype=np.float32))
    else:
        file = f"{name}_units.parquet"
        assert cov.units is not None
        pd.DataFrame({"key": cov.units.index.astype(str), "share": cov.units.to_numpy(float)}).to_parquet(
            staging / file, index=False
        )
    return file


def write_manifest(staging: Path, manifest: dict[str, Any]) -> None:
    """Write manifest.json last: its presence marks a complete snapshot."""
    _write_json_atomic(staging / MANIFEST, manifest)
