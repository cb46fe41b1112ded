"""Publishing jobs: a sources bundle built into a snapshot by a separate process.

``DATA_DIR/jobs/<id>/`` holds ``bundle.zip`` (the upload), ``job.json`` (state, progress, error,
snapshot; rewritten atomically) and, while it runs, ``bundle/`` (the extracted files). The job
runs as ``python -m layers.jobs DATA_DIR JOB_ID`` (any server worker can start one and read any
job's state from disk): extract and check the bundle (layers/bundle.py), check that every path
of its sources.toml stays inside the bundle, then build and publish (without or with activation).
A failed build changes nothing: its error is in ``job.json``. A job whose process died (killed,
out of memory) is reported failed by whoever reads it.

The publish lock ``DATA_DIR/.publish.lock`` is taken by the server before the process starts and
inherited by it, so a second publish from any worker is refused (409) until the first ends.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import importlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from geo.errors import Conflict, DomainError, NotFound
from layers import bundle
from layers.store import Store, _write_json_atomic

JOBS = "jobs"
PUBLISH_LOCK = ".publish.lock"
MAX_PROGRESS = 50
_ID = "0123456789abcdef"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def job_dir(data: Path, job_id: str) -> Path:
    """The directory of a job (NotFound for ids that are not ours)."""
    if len(job_id) != 16 or any(c not in _ID for c in job_id):
        raise NotFound("no job with this id")
    d = Path(data) / JOBS / job_id
    if not (d / "job.json").is_file():
        raise NotFound("no job with this id")
    return d


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (exited, not yet reaped by its parent) counts as dead
    with contextlib.suppress(OSError):
        with open(f"/proc/{pid}/stat") as f:
            if f.read().split(") ", 1)[1].startswith("Z"):
                return False
    return True


def read(data: Path, job_id: str) -> dict[str, Any]:
    """A job's state; a running job whose process is gone is reported failed."""
    doc: dict[str, Any] = json.loads((job_dir(data, job_id) / "job.json").read_text(encoding="utf-8"))
    if doc["state"] in ("queued", "running") and not _alive(doc.get("pid")):
        started = doc.get("started") or doc["created"]
        age = time.time() - dt.datetime.fromisoformat(started).timestamp()
        if doc.get("pid") or age > 30:
            doc.update(
                state="failed",
                error="the build process ended without finishing "
                "(killed or out of memory); nothing was changed",
            )
    return doc


def _write(d: Path, doc: dict[str, Any]) -> None:
    _write_json_atomic(d / "job.json", doc)


@contextlib.contextmanager
def publish_lock(data: Path) -> Any:
    """Hold the publish lock (non-blocking): Conflict when another publish runs."""
    data.mkdir(parents=True, exist_ok=True)
    fd = os.open(data / PUBLISH_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict("a publish is already running; wait for its job to finish") from None
        yield fd
    finally:
        os.close(fd)


def start(
    data: Path, upload: Path, activate: bool, max_unpacked: int = 2_000_000_000, prepare: str | None = None
) -> dict[str, Any]:
    """Start a job for an uploaded bundle (moved into the job's directory); Conflict when a
    publish or a build is running. Returns the job's state. ``prepare`` names a function
    (``module:name``) the job runs on the published snapshot before it goes live (layers/build.py
    ``build``: the server names its serving cache's writer, which this layer does not import).
    """
    data = Path(data)
    with publish_lock(data) as fd:
        store = Store(data)
        try:  # a build from the command line holds the store's lock
            with store.lock():
                pass
        except RuntimeError:
            raise Conflict("a build is running on this data directory; try again later") from None
        job_id = secrets.token_hex(8)
        d = data / JOBS / job_id
        d.mkdir(parents=True)
        os.replace(upload, d / "bundle.zip")
        doc: dict[str, Any] = {
            "id": job_id,
            "state": "queued",
            "created": _now(),
            "started": None,
            "finished": None,
            "activate": activate,
            "snapshot": None,
            "error": None,
            "progress": [],
            "pid": None,
        }
        _write(d, doc)
        proc = subprocess.Popen(
            [sys.executable, "-m", "layers.jobs", str(data), job_id],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(fd,),
            env={
                **os.environ,
                "NRW_SITES_MAX_UNPACKED_BYTES": str(max_unpacked),
                "NRW_SITES_PUBLISH_LOCK_FD": str(fd),
                "NRW_SITES_JOB_PREPARE": prepare or "",
            },
            start_new_session=True,
        )
        _reap_later(proc)  # the process writes its pid and state into job.json itself
        return doc


def read_raw(d: Path) -> dict[str, Any]:
    """job.json as written."""
    doc: dict[str, Any] = json.loads((d / "job.json").read_text(encoding="utf-8"))
    return doc


def _reap_later(proc: subprocess.Popen[bytes]) -> None:
    """Wait for the job process in a daemon thread so it does not stay a zombie."""
    import threading

    threading.Thread(target=proc.wait, daemon=True, name="nrw-sites-job-reaper").start()


def list_jobs(data: Path) -> list[dict[str, Any]]:
    """Every job, newest first."""
    root = Path(data) / JOBS
    out = []
    if root.is_dir():
        for d in root.iterdir():
            with contextlib.suppress(NotFound, ValueError, OSError, KeyError):
                out.append(read(data, d.name))
    return sorted(out, key=lambda j: j["created"], reverse=True)


def _check_paths(sources: Path, root: Path) -> None:
    """Every path of the bundle's sources.toml must stay inside the bundle."""
    try:
        doc = tomllib.loads(sources.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DomainError(f"sources.toml is not valid TOML: {exc}") from None
    root = root.resolve()
    for layer, table in doc.items():
        if not isinstance(table, dict):
            continue
        for key in ("path", "places"):
            if key in table:
                target = (sources.parent / str(table[key])).resolve()
                if root not in target.parents:
                    raise DomainError(
                        f"[{layer[:40]}] {key} names a file outside the bundle; "
                        "paths are relative to sources.toml, inside the zip"
                    )


def run(data: Path, job_id: str, max_unpacked: int) -> int:
    """Run one job to its end (in the job's own process)."""
    from layers.build import build

    data = Path(data)
    d = job_dir(data, job_id)
    doc = read_raw(d)
    doc.update(state="running", started=_now(), pid=os.getpid())
    _write(d, doc)
    t0 = time.perf_counter()

    def say(msg: str) -> None:
        doc["progress"] = [*doc["progress"], f"[{time.perf_counter() - t0:6.1f}s] {msg}"][-MAX_PROGRESS:]
        _write(d, doc)

    try:
        say("checking and unpacking the bundle")
        sources = bundle.extract(d / "bundle.zip", d / "bundle", max_unpacked)
        _check_paths(sources, d / "bundle")
        manifest = build(
            Store(data), sources=sources, progress=say, activate=bool(doc["activate"]), prepare=_prepare(say)
        )
        doc.update(state="succeeded", snapshot=manifest["id"], activated=bool(doc["activate"]))
        say(
            f"published snapshot {manifest['id']}"
            + (" and made it live" if doc["activate"] else "; activate it to make it live")
        )
        code = 0
    except Exception as exc:  # the job reports every failure; nothing was changed
        doc.update(state="failed", error=_error_text(exc))
        code = 1
    finally:
        shutil.rmtree(d / "bundle", ignore_errors=True)
        (d / "bundle.zip").unlink(missing_ok=True)
        lock_fd = os.environ.get("NRW_SITES_PUBLISH_LOCK_FD")
        if lock_fd and lock_fd.isdigit():  # the next publish may start once this one is over
            with contextlib.suppress(OSError):
                os.close(int(lock_fd))
        doc["finished"] = _now()
        _write(d, doc)
    return code


def _prepare(say: Callable[[str], None]) -> Callable[[Store, str], None] | None:
    """The function ``start`` named for the job to prepare the snapshot with, if any."""
    name = os.environ.get("NRW_SITES_JOB_PREPARE", "")
    if not name:
        return None
    module, _, attr = name.partition(":")
    try:
        fn: Callable[[Store, str], None] = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        say(f"warning: cannot prepare the snapshot for serving with {name} ({exc})")
        return None
    return fn


def _error_text(exc: Exception) -> str:
    if isinstance(exc, DomainError | RuntimeError):
        return str(exc)[:4000]
    if isinstance(exc, OSError):
        return f"the build failed writing its files: {exc.strerror or type(exc).__name__}"
    return f"the build failed: {type(exc).__name__}"


if __name__ == "__main__":  # pragma: no cover - run by start()
    sys.exit(
        run(
            Path(sys.argv[1]), sys.argv[2], int(os.environ.get("NRW_SITES_MAX_UNPACKED_BYTES", 2_000_000_000))
        )
    )


def sweep(data: Path) -> list[str]:
    """Remove what jobs whose process is gone left behind (extracted bundles, uploads)."""
    root = Path(data) / JOBS
    removed: list[str] = []
    if not root.is_dir():
        return removed
    for d in root.iterdir():
        if d.name.startswith(".upload-"):
            if time.time() - d.stat().st_mtime > 3600:  # an upload still being received is new
                d.unlink(missing_ok=True)
                removed.append(d.name)
            continue
        with contextlib.suppress(NotFound, ValueError, OSError, KeyError):
            if read(data, d.name)["state"] in ("failed", "succeeded"):
                for leftover in (d / "bundle", d / "bundle.zip"):
                    if leftover.exists():
                        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
                        removed.append(f"{d.name}/{leftover.name}")
    return removed
