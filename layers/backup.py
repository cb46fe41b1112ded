"""Backup and restore of a data directory (issue 23): snapshots, the live pointer, keys, the
state database (sessions, shared shortlists, inquiries) and the audit trail, as one tar archive.

``backup`` may run while servers use the directory. It reads ``CURRENT`` once; published
snapshots never change (a publish moves a complete directory into place, so a snapshot with a
manifest is complete); ``keys.json`` is replaced atomically and read once; the state database is
copied with SQLite's online backup API, a consistent copy even while staff write. The archive is
written to a temporary name and renamed, so a failed or killed backup leaves no file that looks
complete. ``backup.json``, the archive's last member, lists every file with its size and SHA-256.

``restore`` writes into an empty directory only, refuses any member it does not list (links,
absolute or ``..`` paths, unknown names), checks every size and checksum, and writes ``CURRENT``
last: an interrupted restore never looks like a data directory.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any

from geo.errors import InvalidParameter
from layers.audit import AUDIT_DIR
from layers.keys import KEYS_FILE
from layers.statedb import STATE_FILE
from layers.store import MANIFEST, Store

BACKUP_FORMAT = 1
INDEX = "backup.json"
CHUNK = 1 << 20
Progress = Callable[[str], None]


def _hash_copy(src: IO[bytes], dst: IO[bytes] | None = None) -> tuple[str, int]:
    h, n = hashlib.sha256(), 0
    while chunk := src.read(CHUNK):
        h.update(chunk)
        n += len(chunk)
        if dst is not None:
            dst.write(chunk)
    return h.hexdigest(), n


def _snapshot_files(store: Store) -> Iterator[tuple[Path, str]]:
    if not store.snapshots.exists():
        return
    for d in sorted(store.snapshots.iterdir()):
        if d.is_dir() and (d / MANIFEST).is_file():  # complete: published snapshots only
            for f in sorted(d.iterdir()):
                if f.is_file() and not f.name.startswith("."):  # not Store.verify's stamp: it names inodes
                    yield f, f"snapshots/{d.name}/{f.name}"


def backup(root: Path, out: Path, progress: Progress | None = None) -> dict[str, Any]:
    """Write the archive ``out`` of data directory ``root``; return its index."""
    say = progress or (lambda _m: None)
    store = Store(root)
    current = store.current_id()
    if current is None:
        raise InvalidParameter(f"{root} holds no published snapshot: nothing to back up")
    out = out.resolve()
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    files: dict[str, dict[str, Any]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="nrw-backup-") as td, tarfile.open(tmp, "w") as tar:

            def add(path: Path, name: str) -> None:
                with open(path, "rb") as f:
                    digest, size = _hash_copy(f)
                info = tar.gettarinfo(str(path), arcname=name)
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.size = size
                with open(path, "rb") as f:
                    tar.addfile(info, f)
                files[name] = {"bytes": size, "sha256": digest}

            for path, name in _snapshot_files(store):
                add(path, name)
            say(f"{len(files)} snapshot files")
            for path in sorted((root / AUDIT_DIR).glob("*.jsonl")):  # the audit trail, month by month
                add(path, f"{AUDIT_DIR}/{path.name}")
            if (root / KEYS_FILE).is_file():
                copy = Path(td) / KEYS_FILE
                shutil.copyfile(root / KEYS_FILE, copy)  # one read of an atomically replaced file
                os.chmod(copy, 0o600)
                add(copy, KEYS_FILE)
            if (root / STATE_FILE).is_file():
                copy = Path(td) / STATE_FILE
                with contextlib.closing(sqlite3.connect(root / STATE_FILE)) as src:
                    with contextlib.closing(sqlite3.connect(copy)) as dst:
                        src.backup(dst)  # a consistent copy while others write
                add(copy, STATE_FILE)
            index = {
                "format": BACKUP_FORMAT,
                "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "current": current,
                "snapshots": sorted({n.split("/")[1] for n in files if n.startswith("snapshots/")}),
                "files": files,
            }
            body = json.dumps(index, indent=1).encode()
            info = tarfile.TarInfo(INDEX)
            info.size = len(body)
            info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
            tar.addfile(info, io.BytesIO(body))
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    say(f"wrote {out} ({out.stat().st_size:,} bytes, {len(files)} files, live snapshot {current})")
    return index


def _index(tar: tarfile.TarFile, archive: Path) -> dict[str, Any]:
    try:
        member = tar.getmember(INDEX)
        f = tar.extractfile(member)
        index: dict[str, Any] = json.loads(f.read() if f else b"")
    except (KeyError, ValueError) as exc:
        raise InvalidParameter(f"{archive} is not an nrw-sites backup (no readable {INDEX})") from exc
    if index.get("format") != BACKUP_FORMAT:
        raise InvalidParameter(
            f"{archive} has backup format {index.get('format')!r}; this release reads format {BACKUP_FORMAT}"
        )
    return index


def _safe_target(name: str, listed: dict[str, Any]) -> PurePosixPath:
    p = PurePosixPath(name)
    if name not in listed or p.is_absolute() or ".." in p.parts or name in ("", "."):
        raise InvalidParameter(f"the backup holds a member it does not list or may not write: {name[:80]!r}")
    return p


def restore(archive: Path, root: Path, progress: Progress | None = None) -> dict[str, Any]:
    """Restore ``archive`` into the empty (or new) directory ``root``; return the index."""
    say = progress or (lambda _m: None)
    if root.exists() and any(root.iterdir()):
        raise InvalidParameter(f"{root} is not empty: restore into an empty or new directory")
    try:
        tar = tarfile.open(archive, "r")
    except (OSError, tarfile.TarError) as exc:
        raise InvalidParameter(f"{archive} is not a readable tar archive: {exc}") from exc
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".restore-", dir=root))
    try:
        with tar:
            index = _index(tar, archive)
            listed = index["files"]
            seen = set()
            for member in tar:
                if member.name == INDEX:
                    continue
                rel = _safe_target(member.name, listed)
                if not member.isfile():
                    raise InvalidParameter(f"the backup member {member.name[:80]!r} is not a regular file")
                target = work / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                src = tar.extractfile(member)
                assert src is not None  # a regular file
                with open(target, "wb") as dst:
                    digest, size = _hash_copy(src, dst)
                    os.fsync(dst.fileno())
                want = listed[member.name]
                if (size, digest) != (want["bytes"], want["sha256"]):
                    raise InvalidParameter(f"{archive} is damaged: {member.name} does not match its checksum")
                seen.add(member.name)
            missing = sorted(set(listed) - seen)
            if missing:
                raise InvalidParameter(
                    f"{archive} is incomplete: {len(missing)} files missing, e.g. {missing[0]}"
                )
        for child in work.iterdir():
            os.replace(child, root / child.name)
        if (root / KEYS_FILE).exists():
            os.chmod(root / KEYS_FILE, 0o600)
        work.rmdir()
        Store(root).set_current(index["current"])  # last: only now is it a data directory
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    say(f"restored {len(index['files'])} files into {root}; live snapshot {index['current']}")
    return index
