"""The serving cache: what every worker serves of a snapshot, in files that the workers map.

A worker serves pre-serialised feature bytes, WGS84 geometries and bounds of every OGC collection
(api/geojson.py, api/views.py). Built in each worker's heap they cost ~0.6 GB per view of a
50,000-site snapshot and ~15 s of CPU per worker. The first worker to load a snapshot writes them
once into ``snapshots/<id>/serve-<key>/`` and every worker then maps them read-only
(``mmap``): the pages live once in the page cache and count once, shared, in the workers'
memory; a request copies out only the bytes of its page.

``<key>`` is a digest of the code that shapes the bytes (every module of api/, geo/ and layers/
and their fact tables), so an upgrade writes a new cache instead of serving stale bytes; caches
of other keys and of the other snapshots are removed when one is written (only the snapshot
being switched to keeps one on disk). It names the digest of the manifest it was written from
(``manifest.sha256``): a snapshot directory copied with its cache into another snapshot gets a
new one. The cache is derived data and not part of the snapshot's manifest or
checksums. It is written into ``.serve-tmp-<pid>`` and renamed into place while holding an
exclusive ``flock`` on the snapshot directory, so two workers never both build it and a killed
build leaves nothing half-written behind. A read-only data directory has no cache: the caller
builds the same objects in memory.

Files: a byte sequence ``<name>`` is ``<name>.bin`` (the items back to back) and
``<name>.off`` (n + 1 little-endian int64 offsets); arrays are ``.npy``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import hashlib
import logging
import mmap
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np
import shapely

from layers.io import sha256
from layers.store import MANIFEST

log = logging.getLogger("nrw_sites.layers")
PREFIX = "serve-"
ROOT = Path(__file__).resolve().parents[1]
READ_ONLY = (errno.EROFS, errno.EACCES, errno.EPERM)


@functools.cache
def code_key() -> str:
    """A digest of the code and fact tables that shape what is served (16 hex digits)."""
    h = hashlib.sha256()
    for pkg in ("api", "geo", "layers"):
        for f in sorted((ROOT / pkg).rglob("*")):
            if f.is_file() and f.suffix in (".py", ".csv", ".toml", ".json", ".ini"):
                h.update(str(f.relative_to(ROOT)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _map(path: Path) -> bytes | mmap.mmap:
    """A file mapped read-only (an empty file: empty bytes, which cannot be mapped)."""
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return b""
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


class ByteSeq(Sequence[bytes]):
    """A sequence of byte strings stored back to back in one buffer (a mapped file or bytes)."""

    __slots__ = ("_data", "_off", "_n")

    def __init__(self, data: bytes | mmap.mmap, offsets: Any):
        self._data = data
        self._off = memoryview(offsets).cast("B").cast("q")  # Python ints on indexing
        self._n = len(self._off) - 1

    @classmethod
    def of(cls, items: Iterable[bytes]) -> ByteSeq:
        """The items in one in-memory buffer."""
        items = list(items)
        off = np.zeros(len(items) + 1, dtype="<i8")
        np.cumsum([len(b) for b in items], out=off[1:])
        return cls(b"".join(items), off.tobytes())

    @classmethod
    def open(cls, path: Path) -> ByteSeq:
        """Map ``path.bin`` and ``path.off`` read-only."""
        return cls(_map(path.with_suffix(".bin")), _map(path.with_suffix(".off")) or np.zeros(1, "<i8"))

    def write(self, path: Path) -> None:
        """Write ``path.bin`` and ``path.off``."""
        write_seq(path, self)

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> bytes: ...
    @overload
    def __getitem__(self, i: slice) -> list[bytes]: ...
    def __getitem__(self, i: int | slice) -> bytes | list[bytes]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self._n))]
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError(i)
        return bytes(self._data[self._off[i] : self._off[i + 1]])

    def join(self, sep: bytes, rows: Iterable[int]) -> bytes:
        """``sep.join`` of the items at ``rows``, from views of the buffer: one copy of each
        item, into the result (slicing first copied each twice; 15 → 2 ms for 5,000 features)."""
        data, off = memoryview(self._data), self._off
        return sep.join([data[off[i] : off[i + 1]] for i in rows])

    def __iter__(self) -> Iterator[bytes]:
        data, off = self._data, self._off
        for i in range(self._n):
            yield bytes(data[off[i] : off[i + 1]])


def join(sep: bytes, items: Sequence[bytes], rows: Iterable[int]) -> bytes:
    """``sep.join`` of ``items`` at ``rows`` (a page of features), a mapped sequence's or a list's."""
    if isinstance(items, ByteSeq):
        return items.join(sep, rows)
    return sep.join([items[i] for i in rows])


class SeqWriter:
    """Write a byte sequence piece by piece (``extend``), then ``close``: ``path.bin`` and
    ``path.off`` as ``write_seq`` writes them."""

    def __init__(self, path: Path):
        self.path = path
        self._f = open(path.with_suffix(".bin"), "wb")  # noqa: SIM115 - closed by close()
        self._off = [0]

    def extend(self, items: Iterable[bytes]) -> None:
        """Append items."""
        for b in items:
            self._f.write(b)
            self._off.append(self._off[-1] + len(b))

    def close(self) -> None:
        """Finish both files."""
        self._f.close()
        self.path.with_suffix(".off").write_bytes(np.asarray(self._off, dtype="<i8").tobytes())


def write_seq(path: Path, items: Sequence[bytes]) -> None:
    """Write a byte sequence as ``path.bin`` and ``path.off``."""
    off = np.zeros(len(items) + 1, dtype="<i8")
    np.cumsum([len(b) for b in items], out=off[1:])
    with open(path.with_suffix(".bin"), "wb") as f:
        for b in items:
            f.write(b)
    path.with_suffix(".off").write_bytes(off.tobytes())


class WkbGeoms:
    """Geometries stored as WKB, decoded on use: ``g[rows]`` is an object array of the rows."""

    __slots__ = ("wkb",)

    def __init__(self, wkb: ByteSeq):
        self.wkb = wkb

    @classmethod
    def of(cls, geoms: np.ndarray) -> WkbGeoms:
        """Encode geometries (exact: WKB keeps every double; a missing one as empty bytes)."""
        wkb = shapely.to_wkb(np.asarray(geoms, dtype=object)).tolist() if len(geoms) else []
        return cls(ByteSeq.of(b"" if w is None else w for w in wkb))

    def __len__(self) -> int:
        return len(self.wkb)

    def __getitem__(self, rows: Any) -> Any:
        """One geometry (an int) or an object array of them (an index array, a slice)."""
        idx = np.arange(len(self.wkb))[rows]
        if np.ndim(idx) == 0:
            return shapely.from_wkb(self.wkb[int(idx)] or None)
        wkb = np.empty(len(idx), dtype=object)
        wkb[:] = [self.wkb[i] or None for i in np.asarray(idx).tolist()]
        return shapely.from_wkb(wkb) if len(wkb) else np.zeros(0, dtype=object)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self[:], dtype=object)


def open_array(path: Path) -> np.ndarray:
    """A ``.npy`` array mapped read-only."""
    arr: np.ndarray = np.load(path, mmap_mode="r")
    return arr


def _fsync_tree(path: Path) -> None:
    for f in [*path.rglob("*"), path]:
        fd = os.open(f, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive flock on a directory (waits for a worker that is writing the cache)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


KEEP = 2  # this code's caches kept: the snapshot switched to and the newest other (a rollback)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # removed meanwhile
        return 0.0


def _prune(snapshot_dir: Path, final: Path) -> None:
    """Remove earlier code's caches and this code's of all but the ``KEEP`` newest snapshots
    (~0.8 GB each at 50,000 sites): a rollback to the snapshot before finds its cache and loads
    in a moment. Files still mapped by a process stay valid."""
    caches = [*snapshot_dir.glob(f"{PREFIX}*"), *snapshot_dir.parent.glob(f"*/{PREFIX}*")]
    ours = sorted(
        (c for c in set(caches) if c.name == final.name and c != final),
        key=_mtime,
        reverse=True,
    )
    keep = {final, *ours[: KEEP - 1]}
    for old in caches:
        if old not in keep:
            shutil.rmtree(old, ignore_errors=True)


SOURCE = "manifest.sha256"  # in a cache: the digest of the manifest it was written from


def _digest(snapshot_dir: Path) -> str:
    try:
        return sha256(snapshot_dir / MANIFEST)
    except FileNotFoundError:  # a directory of derived data without a manifest
        return "-"


def _fits(cache: Path, snapshot_dir: Path) -> bool:
    """Whether ``cache`` was written from this snapshot's manifest: a snapshot directory copied
    with its cache into another snapshot (other sites, same code) must not serve the copy."""
    try:
        return (cache / SOURCE).read_text(encoding="ascii").strip() == _digest(snapshot_dir)
    except OSError:
        return False


def existing(snapshot_dir: Path) -> Path | None:
    """The snapshot's serving cache directory for this code, if a worker has written it from
    this snapshot's manifest."""
    final = snapshot_dir / f"{PREFIX}{code_key()}"
    return final if final.is_dir() and _fits(final, snapshot_dir) else None


def ensure(snapshot_dir: Path, build: Callable[[Path], None]) -> Path | None:
    """The snapshot's serving cache directory for this code, written by ``build(tmp)`` (which
    fills an empty directory) if no worker did yet; None when it cannot be written (a read-only
    data directory; a full disk, logged): then serve from memory.
    """
    final = snapshot_dir / f"{PREFIX}{code_key()}"
    if existing(snapshot_dir) is not None:
        return final
    try:
        with _locked(snapshot_dir):
            if existing(snapshot_dir) is not None:  # another worker wrote it while this one waited
                return final
            shutil.rmtree(final, ignore_errors=True)  # written from another manifest: stale
            tmp = snapshot_dir / f".serve-tmp-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            try:
                build(tmp)
                (tmp / SOURCE).write_text(_digest(snapshot_dir) + "\n", encoding="ascii")
                _fsync_tree(tmp)
                os.replace(tmp, final)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            _prune(snapshot_dir, final)
            for old in snapshot_dir.glob(".serve-tmp-*"):  # of killed workers
                shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        if exc.errno not in READ_ONLY:
            log.warning("cannot write the serving cache of %s (%s): serving from memory", snapshot_dir, exc)
        return None
    return final
