"""Memory of the serving workers: PSS summed over the processes, time to the first answer, a swap.

Usage: python bench/memory.py [--data DIR] [--sites 50000] [--workers 2] [--swap] [--out FILE]

Builds (or reuses) the demo snapshot in DIR, starts ``nrw-sites serve --workers N`` on 127.0.0.1
and a free port and times the first 200 of ``/healthz`` after the start and the moment every
worker has loaded the snapshot. It then warms each worker with items pages, items by id, the
ranking, the UI table and the tiles, and reads ``/proc/<pid>/smaps_rollup`` of the server and
its workers: RSS, PSS (a shared page counts 1/n in each of the n processes mapping it) and the
anonymous and file-backed parts of PSS. The sum of PSS over the processes is the memory the
server really holds.

With ``--swap`` a copy of the live snapshot under a new id is activated (as a publish does) and
the PSS of each worker is sampled every 20 ms until every worker serves it: the peak during the
switch and the PSS after it. Only 127.0.0.1 is contacted; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

HOST = "127.0.0.1"  # loopback only
PY = sys.executable
ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # the project, not bench/, first

from bench._measure import demo_data, free_port  # noqa: E402

WARM = [
    "/api/collections/sites/items?limit=100",
    "/api/collections/sites/items?limit=1000&offset=20000",
    "/api/collections/sites/items?limit=100&crs=http://www.opengis.net/def/crs/EPSG/0/25832",
    "/api/collections/brownfields/items?limit=500",
    "/api/collections/regional_plan/items?limit=500",
    "/api/collections/municipalities/items?limit=50",
    "/api/ranking?limit=20",
    "/api/ranking?limit=50&profile=logistics",
    "/api/sites/table",
    "/api/sites/values",
    "/api/tiles",
    "/api/collections",
]
FIELDS = ("Rss", "Pss", "Pss_Anon", "Pss_File", "Shared_Clean", "Private_Dirty")


def rollup(pid: int) -> dict[str, float]:
    """The fields of /proc/<pid>/smaps_rollup in MB (missing fields: 0)."""
    out = dict.fromkeys(FIELDS, 0.0)
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[0].rstrip(":") in out:
                out[parts[0].rstrip(":")] = int(parts[1]) / 1024
    return out


def mappings(pid: int, top: int = 12) -> list[tuple[float, float, str]]:
    """The largest mappings of a process by PSS: (PSS MB, RSS MB, file or [heap]/[anon])."""
    out: dict[str, list[float]] = {}
    name = ""
    with open(f"/proc/{pid}/smaps", encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and not parts[0].endswith(":"):
                name = parts[5] if len(parts) > 5 else "[anon]"
                out.setdefault(name, [0.0, 0.0])
            elif parts[0] in ("Pss:", "Rss:"):
                out[name][parts[0] == "Rss:"] += int(parts[1]) / 1024
    return sorted(((p, r, n) for n, (p, r) in out.items()), reverse=True)[:top]


def processes(server: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """The server process and every process below it (uvicorn's workers)."""
    p = psutil.Process(server.pid)
    return [p, *p.children(recursive=True)]


def workers(server: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """The worker processes (those that opened the snapshot: the children of the server)."""
    return [p for p in processes(server)[1:] if "resource_tracker" not in " ".join(p.cmdline())]


def loaded(log: Path, marker: bytes = b"loaded and pre-serialised") -> int:
    return log.read_bytes().count(marker)


def copy_snapshot(data: Path) -> str:
    """Copy the live snapshot under a new id (hard links: the files are immutable); return it."""
    from layers.store import MANIFEST, Store, _write_json_atomic

    store = Store(data)
    sid = store.current_id()
    assert sid is not None
    new = store.new_id()
    if new <= sid:
        new = sid + "-swap"
    src, dst = store.snapshots / sid, store.snapshots / new
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir()
    for f in src.iterdir():
        if f.is_file() and f.name != MANIFEST:
            os.link(f, dst / f.name)
    manifest = json.loads((src / MANIFEST).read_text(encoding="utf-8"))
    manifest["id"] = new
    _write_json_atomic(dst / MANIFEST, manifest)
    return new


def table(rows: dict[str, dict[str, float]]) -> None:
    print(f"{'process':<22} " + " ".join(f"{k:>13}" for k in FIELDS))
    for name, r in rows.items():
        print(f"{name:<22} " + " ".join(f"{r[k]:>13.0f}" for k in FIELDS))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT / "data-bench-50k"))
    ap.add_argument("--sites", type=int, default=50_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--swap", action="store_true", help="also activate a copy and sample the switch")
    ap.add_argument("--detail", action="store_true", help="print a worker's largest mappings")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "memory.json"))
    args = ap.parse_args()
    data = Path(args.data)
    demo_data(data, args.sites)
    import httpx

    port = free_port()
    base = f"http://{HOST}:{port}"
    logfile = data / "memory-server.log"
    log = open(logfile, "wb")  # noqa: SIM115 - closed below
    argv = [PY, "-m", "api.cli", "serve", "--data", str(data), "--host", HOST, "--port", str(port)]
    t0 = time.perf_counter()
    server = subprocess.Popen(
        [*argv, "--workers", str(args.workers)], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    doc: dict[str, object] = {"workers": args.workers, "data": str(data)}
    # one client for the polls: a new one per poll (httpx.get) costs ~20 ms of CPU, which on two
    # cores was taken from the workers being timed (the first 200 came 0.2-0.4 s later)
    poll = httpx.Client(timeout=2)
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if poll.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                print("the server did not start; see", logfile, file=sys.stderr)
                return 1
            time.sleep(0.02)
        doc["first_200_s"] = round(time.perf_counter() - t0, 2)
        while loaded(logfile) < args.workers:
            if server.poll() is not None or time.monotonic() > deadline:
                print("the workers did not load; see", logfile, file=sys.stderr)
                return 1
            time.sleep(0.02)
        doc["all_loaded_s"] = round(time.perf_counter() - t0, 2)
        # on a shared machine the wall time depends on the others' load: CPU seconds do not
        cpu = [round(sum(p.cpu_times()[:2]), 2) for p in workers(server)]
        doc["worker_cpu_s_to_load"] = cpu
        doc["load_average"] = os.getloadavg()[0]
        print(
            f"first 200 after {doc['first_200_s']} s; every worker loaded after {doc['all_loaded_s']} s "
            f"(CPU s per worker until then: {cpu}; load average {doc['load_average']:.1f})"
        )
        with httpx.Client(base_url=base, timeout=120) as c:
            ids = [f["id"] for f in c.get("/api/collections/sites/items?limit=200").json()["features"]]
            for _ in range(4 * args.workers):  # new connections: the kernel spreads them over the workers
                for url in WARM:
                    c.get(url, headers={"Connection": "close"}).raise_for_status()
                for fid in ids[:50]:
                    c.get(f"/api/collections/sites/items/{fid}", headers={"Connection": "close"})
        procs = processes(server)
        rows = {f"{'server' if i == 0 else 'child'} {p.pid}": rollup(p.pid) for i, p in enumerate(procs)}
        total = {k: sum(r[k] for r in rows.values()) for k in FIELDS}
        table({**rows, "total": total})
        doc["processes"] = rows
        if args.detail:
            for pss, rss, name in mappings(procs[-1].pid):
                print(f"  {pss:8.1f} {rss:8.1f}  {name}")
        doc["total"] = total
        if args.swap:
            doc["swap"] = swap(server, data, logfile, args.workers)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        poll.close()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"total PSS {total['Pss']:.0f} MB (RSS {total['Rss']:.0f} MB); wrote {out}")
    return 0


def swap(server: subprocess.Popen[bytes], data: Path, logfile: Path, n: int) -> dict[str, object]:
    """Activate a copy of the live snapshot; sample each worker's PSS until all switched."""
    from layers.store import Store

    new = copy_snapshot(data)
    ws = workers(server)
    before = {p.pid: rollup(p.pid)["Pss"] for p in ws}
    peak = dict(before)
    done = loaded(logfile, b"switched to snapshot")
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for p in ws:
                try:
                    peak[p.pid] = max(peak[p.pid], rollup(p.pid)["Pss"])
                except OSError:
                    pass
            time.sleep(0.02)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t = time.perf_counter()
    Store(data).set_current(new)
    while loaded(logfile, b"switched to snapshot") < done + n:
        if server.poll() is not None or time.perf_counter() - t > 300:
            break
        time.sleep(0.02)
    switch_s = time.perf_counter() - t
    stop.set()
    th.join()
    after = {p.pid: rollup(p.pid)["Pss"] for p in ws}
    print(f"swap to {new} in {switch_s:.1f} s (PSS MB per worker before / peak / after):")
    for p in ws:
        print(f"  worker {p.pid}: {before[p.pid]:.0f} / {peak[p.pid]:.0f} / {after[p.pid]:.0f}")
    return {
        "snapshot": new,
        "switch_s": round(switch_s, 2),
        "before": before,
        "peak": peak,
        "after": after,
        "peak_total": sum(peak.values()),
    }


if __name__ == "__main__":
    sys.exit(main())
