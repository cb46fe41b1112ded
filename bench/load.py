"""Load and overload on loopback: 8/32/64 concurrent clients against items, ranking and POST /api/score.

Usage: python bench/load.py [--data DIR] [--sites 50000] [--workers 2] [--clients 8,32,64]
                            [--seconds 8] [--max-requests 30000] [--max-in-flight 16]

Builds (or reuses) the demo snapshot in DIR, starts ``nrw-sites serve --workers N`` on 127.0.0.1
and a free port, and runs each scenario with each client count for a bounded time and request
count: one asyncio keep-alive HTTP/1.1 connection per client, the next request as soon as the
answer is read (a 429 counts as shed, and the client sends its next request at once: the
worst case, a client that ignores Retry-After). Prints p50/p95/p99 of
admitted requests, throughput, shed count and the slowest shed answer, 5xx count and the server's
peak RSS (all worker processes), and writes bench/results/load.json. Only 127.0.0.1 is ever
contacted; nothing is asserted (targets of issue 11 are printed beside the figures).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil

HOST = "127.0.0.1"  # loopback only
PY = sys.executable
ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)  # the project, not bench/, first

from bench._measure import demo_data, free_port  # noqa: E402

POLYGON = json.dumps(
    {
        "type": "Polygon",
        "coordinates": [[[7.40, 51.64], [7.4064, 51.64], [7.4064, 51.644], [7.40, 51.644], [7.40, 51.64]]],
    }
).encode()
SCENARIOS = {
    "items": ("GET", "/api/collections/sites/items?limit=100", None),
    "ranking": ("GET", "/api/ranking?limit=20", None),
    "score": ("POST", "/api/score", POLYGON),
}
TARGETS = {
    ("ranking", 32): "p99 ≤ 150 ms, ≥ 331 req/s (1.6 × 207)",
    ("ranking", 64): "shed ≤ 50 ms, admitted p99 ≤ 200 ms",
}


def request_bytes(method: str, path: str, body: bytes | None) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: keep-alive\r\n"
    if body is not None:
        head += f"Content-Type: application/geo+json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + (body or b"")


async def client(
    port: int, raw: bytes, deadline: float, budget: list[int], out: list[tuple[int, float]]
) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        while time.perf_counter() < deadline and budget[0] > 0:
            budget[0] -= 1
            t = time.perf_counter()
            writer.write(raw)
            await writer.drain()
            status_line = await reader.readline()
            if not status_line:
                break
            status = int(status_line.split()[1])
            length, close = 0, False
            while (line := await reader.readline()) not in (b"\r\n", b""):
                k, _, v = line.decode("latin-1").partition(":")
                if k.lower() == "content-length":
                    length = int(v)
                elif k.lower() == "connection" and "close" in v.lower():
                    close = True
            await reader.readexactly(length)
            out.append((status, time.perf_counter() - t))
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection(HOST, port)
    finally:
        writer.close()


def run_scenario(
    port: int, name: str, clients: int, seconds: float, max_requests: int
) -> list[tuple[int, float]]:
    method, path, body = SCENARIOS[name]
    raw = request_bytes(method, path, body)
    out: list[tuple[int, float]] = []
    budget = [max_requests]

    async def main() -> None:
        deadline = time.perf_counter() + seconds
        await asyncio.gather(*[client(port, raw, deadline, budget, out) for _ in range(clients)])

    asyncio.run(main())
    return out


class RSS:
    """Peak resident memory of a process and its children, sampled every 0.2 s."""

    def __init__(self, pid: int):
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.stop.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs))
            except psutil.Error:
                pass
            time.sleep(0.2)


def stats(results: list[tuple[int, float]], seconds: float) -> dict[str, float | int]:
    ok = np.array([t for s, t in results if s < 400]) * 1e3
    shed = np.array([t for s, t in results if s in (429, 503)]) * 1e3
    return {
        "requests": len(results),
        "ok": int(len(ok)),
        "shed": int(len(shed)),
        "5xx": sum(1 for s, _ in results if s >= 500 and s != 503),
        "503": sum(1 for s, _ in results if s == 503),
        "other_4xx": sum(1 for s, _ in results if 400 <= s < 500 and s != 429),
        "throughput_rps": round(len(ok) / seconds, 1),
        "p50_ms": round(float(np.percentile(ok, 50)), 1) if len(ok) else None,
        "p95_ms": round(float(np.percentile(ok, 95)), 1) if len(ok) else None,
        "p99_ms": round(float(np.percentile(ok, 99)), 1) if len(ok) else None,
        "shed_max_ms": round(float(shed.max()), 1) if len(shed) else None,
        "shed_p99_ms": round(float(np.percentile(shed, 99)), 1) if len(shed) else None,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/tmp/sec-load")
    ap.add_argument("--sites", type=int, default=50_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--clients", default="8,32,64")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--max-requests", type=int, default=30_000)
    ap.add_argument("--max-in-flight", type=int, default=16)
    ap.add_argument("--scenarios", default="items,ranking,score")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "load.json"))
    args = ap.parse_args()
    data = Path(args.data)
    demo_data(data, args.sites)
    port = free_port()
    env = {**os.environ, "NRW_SITES_MAX_IN_FLIGHT": str(args.max_in_flight)}
    log = open(data / "load-server.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [
            PY,
            "-m",
            "api.cli",
            "serve",
            "--data",
            str(data),
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    rss = RSS(server.pid)
    results: dict[str, dict] = {}
    try:
        import httpx

        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"http://{HOST}:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                print("the server did not start; see", data / "load-server.log", file=sys.stderr)
                return 1
            time.sleep(0.5)
        # every worker loads the snapshot itself: wait until each has said so (a worker still
        # loading would take a CPU from the first scenario)
        while (data / "load-server.log").read_bytes().count(b"loaded and pre-serialised") < args.workers:
            if server.poll() is not None or time.monotonic() > deadline:
                print("the workers did not load; see", data / "load-server.log", file=sys.stderr)
                return 1
            time.sleep(0.5)
        for name in args.scenarios.split(","):
            run_scenario(port, name, 4, 1.0, 200)  # warm caches in both workers
            for n in (int(c) for c in args.clients.split(",")):
                t = time.perf_counter()
                res = run_scenario(port, name, n, args.seconds, args.max_requests)
                s = stats(res, time.perf_counter() - t)
                results[f"{name}@{n}"] = s
                target = TARGETS.get((name, n), "")
                print(
                    f"{name:<8} {n:>3} clients: {s['throughput_rps']:>7} req/s  p50 "
                    f"{s['p50_ms']} p95 {s['p95_ms']} p99 {s['p99_ms']} ms  shed {s['shed']} "
                    f"(max {s['shed_max_ms']} ms)  5xx {s['5xx']}  {target}",
                    flush=True,
                )
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        rss.stop.set()
        log.close()
    doc = {
        "workers": args.workers,
        "max_in_flight_per_worker": args.max_in_flight,
        "seconds": args.seconds,
        "cpus": os.cpu_count(),
        "sites": args.sites,
        "peak_rss_mb": round(rss.peak / 2**20, 1),
        "results": results,
    }
    print(f"peak RSS of the server (all workers): {doc['peak_rss_mb']} MB")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(doc, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
