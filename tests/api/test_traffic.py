"""Request ids, the per-request log line (no keys, no query, no body) and load shedding."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time

import pytest

from api.traffic import InFlightLimit, cpu_bound
from layers.keys import KeyStore


def test_request_id_in_and_out(client):
    r = client.get("/api/profiles", headers={"X-Request-ID": "abc-123.X_y"})
    assert r.headers["x-request-id"] == "abc-123.X_y"
    r = client.get("/api/profiles", headers={"X-Request-ID": "<script>" + "x" * 100})
    rid = r.headers["x-request-id"]
    assert len(rid) == 16 and "<" not in rid  # a hostile id is replaced, not echoed
    assert client.get("/api/nowhere").headers["x-request-id"]


def test_one_structured_line_per_request_without_keys_query_or_body(client, data_dir, caplog):
    token = KeyStore(data_dir).add("log-test", "staff")
    with caplog.at_level(logging.INFO, logger="nrw_sites.access"):
        client.get(
            "/api/ranking?limit=1&w_h2=2",
            headers={"Authorization": f"Bearer {token}", "X-Request-ID": "req-1"},
        )
        client.post(
            "/api/score",
            content=b'{"secret-body": 1}',
            headers={"content-type": "application/json", "X-Request-ID": "req-2"},
        )
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "nrw_sites.access"]
    by_id = {x["request_id"]: x for x in lines}
    assert {"req-1", "req-2"} <= by_id.keys()
    assert len([x for x in lines if x["request_id"] == "req-1"]) == 1
    one = by_id["req-1"]
    assert one["method"] == "GET" and one["path"] == "/api/ranking" and one["status"] == 200
    assert one["role"] == "staff" and one["ms"] >= 0 and one["bytes"] > 0
    assert by_id["req-2"]["status"] == 422
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert token not in text and token.split("_")[-1] not in text
    assert "w_h2" not in text and "secret-body" not in text


def test_overload_is_shed_quickly_with_retry_after():
    async def slow_app(scope, receive, send):
        await asyncio.sleep(0.2)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    limit = InFlightLimit(slow_app, max_in_flight=4, max_wait_s=0.02)

    async def one():
        out = {}

        async def send(m):
            if m["type"] == "http.response.start":
                out["status"] = m["status"]
                out["headers"] = dict(m["headers"])
                out["t"] = time.perf_counter() - t0

        async def receive():
            return {"type": "http.request", "body": b""}

        await limit({"type": "http", "path": "/api/ranking", "headers": []}, receive, send)
        return out

    async def main():
        return await asyncio.gather(*[one() for _ in range(40)])

    t0 = time.perf_counter()
    results = asyncio.run(main())
    ok = [r for r in results if r["status"] == 200]
    shed = [r for r in results if r["status"] == 429]
    assert len(ok) == 4 and len(shed) == 36  # the in-flight bound holds; nothing queued long
    assert all(r["headers"][b"retry-after"] == b"1" for r in shed)
    assert all(r["headers"][b"connection"] == b"close" for r in shed)  # may reconnect elsewhere
    assert all(r["headers"][b"content-type"] == b"application/problem+json" for r in shed)
    assert max(r["t"] for r in shed) < 0.05
    assert limit.in_flight == 0 and limit.waiting == 0


def test_refusals_are_paced_so_a_client_asking_again_at_once_asks_seldom():
    """With ``pace_s`` a 429 comes that long after its request, not at once: a client that
    ignores Retry-After and asks again at once is refused at most 1/pace_s times a second."""

    async def busy_app(scope, receive, send):
        await asyncio.sleep(1.0)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    limit = InFlightLimit(busy_app, max_in_flight=1, max_wait_s=0.0, pace_s=0.04)
    times: list[float] = []

    async def ask() -> int:
        status = {}

        async def send(m):
            if m["type"] == "http.response.start":
                status["code"] = m["status"]

        async def receive():
            return {"type": "http.request", "body": b""}

        await limit({"type": "http", "path": "/api/score", "headers": []}, receive, send)
        return status["code"]

    async def impatient() -> None:
        end = time.perf_counter() + 0.4
        while time.perf_counter() < end:
            t = time.perf_counter()
            assert await ask() == 429
            times.append(time.perf_counter() - t)

    async def main():
        admitted = asyncio.create_task(ask())
        await asyncio.sleep(0.01)  # the one slot is taken
        await impatient()
        admitted.cancel()

    asyncio.run(main())
    assert 5 <= len(times) <= 11  # 0.4 s / 0.04 s, not thousands
    assert min(times) >= 0.04 and max(times) < 0.09


@pytest.mark.parametrize("service_s, ok_expected", [(0.01, 4), (0.2, 2)])
def test_a_request_waits_only_when_its_expected_wait_fits(service_s, ok_expected):
    """2 slots, a queue of 2, 50 ms: with 10 ms per request two more wait and are served; with
    200 ms one more would wait 100 ms, so the excess is refused at once instead of after 50 ms.
    """

    async def app(scope, receive, send):
        await asyncio.sleep(service_s)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    limit = InFlightLimit(app, max_in_flight=2, max_wait_s=0.05)

    async def one(t0):
        out = {}

        async def send(m):
            if m["type"] == "http.response.start":
                out.update(status=m["status"], t=time.perf_counter() - t0)

        async def receive():
            return {"type": "http.request", "body": b""}

        await limit({"type": "http", "path": "/api/ranking", "headers": []}, receive, send)
        return out

    async def main():
        await one(time.perf_counter())  # the first request measures the time per request
        t0 = time.perf_counter()
        return await asyncio.gather(*[one(t0) for _ in range(6)])

    results = asyncio.run(main())
    assert abs(limit.mean_s - service_s) < service_s  # measured, roughly
    ok = [r for r in results if r["status"] == 200]
    shed = [r for r in results if r["status"] == 429]
    assert len(ok) == ok_expected and len(shed) == 6 - ok_expected
    assert max(r["t"] for r in shed) < 0.04  # refused at arrival, not after waiting 50 ms


def test_cpu_bound_work_runs_one_call_at_a_time_off_the_loop():
    """Scoring (api/traffic.py cpu_bound): at most one call per event loop runs at once, on a
    worker thread; the others wait in the loop, which keeps serving (a ticker keeps ticking)."""
    running, most, threads = [0], [0], set()

    def work(i: int) -> int:
        running[0] += 1
        most[0] = max(most[0], running[0])
        threads.add(threading.get_ident())
        busy = time.perf_counter() + 0.01
        while time.perf_counter() < busy:  # holds the GIL like a score does
            pass
        running[0] -= 1
        return i * i

    async def main():
        ticks = 0
        done = asyncio.Event()

        async def ticker():
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.001)

        tick = asyncio.create_task(ticker())
        out = await asyncio.gather(*[cpu_bound(work, i) for i in range(8)])
        done.set()
        await tick
        return out, ticks

    out, ticks = asyncio.run(main())
    assert out == [i * i for i in range(8)]
    assert most[0] == 1
    assert threading.get_ident() not in threads  # never on the loop's own thread
    assert ticks >= 8  # the loop ran between the calls
