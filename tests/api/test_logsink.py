"""Logging never blocks serving (issue 23): a stalled log sink drops and counts lines, the server
keeps answering.
"""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import threading
import time
from pathlib import Path

import httpx

from api.logsink import LogSink
from tests.api.conftest import serving
from tests.api.test_score import POLYGON

ROOT = Path(__file__).resolve().parents[2]


class StalledStream(io.StringIO):
    """A sink whose writes block until released (a pipe nobody reads)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def write(self, s: str) -> int:
        self.release.wait()
        return super().write(s)


def test_a_stalled_sink_drops_and_counts_instead_of_blocking():
    stream = StalledStream()
    sink = LogSink(stream, maxsize=10)
    t0 = time.perf_counter()
    for i in range(100):
        sink.put(f"line {i}")
    assert time.perf_counter() - t0 < 0.5  # never waited for the sink
    time.sleep(0.05)
    assert 89 <= sink.dropped <= 90  # 10 queued, at most one taken by the blocked writer
    stream.release.set()
    sink.flush()
    time.sleep(0.05)
    lines = stream.getvalue().splitlines()
    notice = json.loads(lines[0]) if lines[0].startswith("{") else json.loads(lines[1])
    assert notice["event"] == "log_dropped" and notice["lines"] == sink.dropped
    assert len([x for x in lines if x.startswith("line ")]) == 100 - sink.dropped


async def _hammer(url: str, seconds: float, clients: int) -> tuple[int, list[float], int]:
    """``clients`` clients posting scores and fetching the ranking; /healthz timed meanwhile.
    Returns the answers, the probe's times and the clients' connection errors (a loaded machine
    drops a connection now and then; a blocked server would answer nothing at all)."""
    stop = time.monotonic() + seconds
    done = lost = 0
    health: list[float] = []
    # a connection per request: no race with the server closing an idle keep-alive connection
    fresh = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=fresh) as c:

        async def client(k: int) -> None:
            nonlocal done, lost
            while time.monotonic() < stop:
                try:
                    r = await (c.post("/api/score", json=POLYGON) if k % 2 else c.get("/api/ranking?limit=5"))
                except httpx.TransportError:
                    lost += 1
                    continue
                assert r.status_code in (200, 429), r.text[:200]
                done += 1

        async def probe() -> None:
            while time.monotonic() < stop:
                t = time.perf_counter()
                r = await c.get("/healthz")
                assert r.status_code == 200
                health.append(time.perf_counter() - t)
                await asyncio.sleep(0.5)

        await asyncio.gather(probe(), *(client(k) for k in range(clients)))
    return done, health, lost


def test_a_server_whose_stderr_nobody_reads_keeps_serving(data_dir):
    # stderr is a pipe never read while the clients run: it (64 KiB) and the queue fill
    env = {"NRW_SITES_LOG_QUEUE_LINES": "200"}
    with serving(data_dir, env=env, stderr=subprocess.PIPE) as (proc, port):
        url = f"http://127.0.0.1:{port}"
        done, health, lost = asyncio.run(_hammer(url, 30, 32))
        assert lost <= max(5, done // 20), (lost, done)
        # blocked in a log write, the server would not answer /healthz at all for the rest of the
        # run (the clients' 30 s timeouts); a loaded CI machine still answers within seconds
        assert max(health) < 5.0, (max(health), done)
        dropped = httpx.get(f"{url}/healthz", timeout=5).json()["log_dropped"]
        assert dropped > 0, done  # the pipe and the queue were full: lines were dropped, not waited on
        proc.terminate()
        try:
            out = proc.communicate(timeout=20)[1]
        except subprocess.TimeoutExpired:
            proc.kill()
            out = proc.communicate()[1]
    assert b'"event": "log_dropped"' in out  # reported once the sink drained
