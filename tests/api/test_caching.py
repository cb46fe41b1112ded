"""HTTP caching (api/caching.py): ETags, 304 on If-None-Match, Cache-Control for shared caches.

The strong ETag is checked against the SHA-256 of the bytes as they were sent, computed here.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import re
import time

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import StreamingResponse
from starlette.routing import Route

from api.caching import HttpCaching
from layers.keys import KeyStore
from layers.store import Store

PUBLIC = "public, max-age=0, s-maxage=60"


@pytest.fixture(scope="module")
def staff(data_dir) -> dict[str, str]:
    return {"Authorization": f"Bearer {KeyStore(data_dir).add('caching-carl', 'staff')}"}


@pytest.fixture(scope="module")
def place(data_dir) -> dict[str, str]:
    """A public site and the municipality it lies in, from the snapshot on disk."""
    sites = Store(data_dir).load().layers["sites"]
    public = sites[sites["public"].to_numpy(bool) & sites["ags"].notna()]
    return {"site": str(public["site_id"].iloc[0]), "ags": str(public["ags"].iloc[0])}


def _paths(place: dict[str, str]) -> list[str]:
    return [
        "/api/collections",
        "/api/collections/sites",
        "/api/profiles",
        "/api/ranking?profile=logistics&limit=20",
        f"/api/sites/{place['site']}/score",
        f"/api/collections/sites/items/{place['site']}",
        "/api/collections/sites/items?limit=5",
        f"/api/exports/municipalities/{place['ags']}.csv",
        "/api/coverage",
    ]


def test_every_get_answer_round_trips_with_304(client, place):
    for path in _paths(place):
        r = client.get(path)
        assert r.status_code == 200, path
        etag = r.headers["etag"]
        again = client.get(path)
        assert again.headers["etag"] == etag, path  # stable across identical requests
        nm = client.get(path, headers={"If-None-Match": etag})
        assert nm.status_code == 304 and nm.content == b"", path
        assert nm.headers["etag"] == etag
        assert nm.headers["cache-control"] == r.headers["cache-control"]
        assert nm.headers["vary"] == r.headers["vary"] and "Cookie" in nm.headers["vary"]
        assert "content-type" not in nm.headers
        other = client.get(path, headers={"If-None-Match": '"something-else"'})
        assert other.status_code == 200 and _timeless(other.content) == _timeless(r.content), path


def _timeless(body: bytes) -> bytes:
    """A body without its clock times (item pages' timeStamp, exports' generated): the rest is equal."""
    return re.sub(rb"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}[^\";\r\n]*", b"TIME", body)


def test_public_answers_may_be_kept_by_a_shared_cache_and_are_revalidated(client, place):
    for path in _paths(place)[:6]:
        assert client.get(path).headers["cache-control"] == PUBLIC, path
    assert client.get("/api/coverage").headers["cache-control"] == "public, max-age=0, must-revalidate"


def test_the_strong_etag_is_the_hash_of_the_bytes_sent_and_differs_with_them(client):
    raw = {"Accept-Encoding": "identity"}
    a = client.get("/api/ranking?profile=logistics&limit=20", headers=raw)
    b = client.get("/api/ranking?profile=hydrogen&limit=20", headers=raw)
    assert a.headers.get("content-encoding") is None
    assert a.headers["etag"] == f'"{hashlib.sha256(a.content).hexdigest()[:32]}"'
    assert b.headers["etag"] == f'"{hashlib.sha256(b.content).hexdigest()[:32]}"'
    assert a.content != b.content and a.headers["etag"] != b.headers["etag"]
    stale = client.get(
        "/api/ranking?profile=hydrogen&limit=20", headers={**raw, "If-None-Match": a.headers["etag"]}
    )
    assert stale.status_code == 200


def test_gzip_and_identity_are_different_representations_with_different_etags(client):
    path = "/api/ranking?profile=logistics&limit=50"
    with httpx.Client(transport=client._transport, base_url="http://testserver") as raw:  # no decoding
        with raw.stream("GET", path, headers={"Accept-Encoding": "gzip"}) as zipped:
            body = b"".join(zipped.iter_raw())
        plain = raw.get(path, headers={"Accept-Encoding": "identity"})
        assert zipped.headers["content-encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["vary"]
        assert gzip.decompress(body) == plain.content
        assert zipped.headers["etag"] == f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        assert zipped.headers["etag"] != plain.headers["etag"]
        again = raw.get(path, headers={"Accept-Encoding": "gzip"})
        assert again.headers["etag"] == zipped.headers["etag"]  # gzip writes no timestamp
        tag = zipped.headers["etag"]
        assert raw.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": tag}).status_code == 304
        # the gzip tag does not validate the identity representation
        assert raw.get(path, headers={"Accept-Encoding": "identity", "If-None-Match": tag}).status_code == 200
        # a strong tag a route set (the web map's site table) gets the encoding named
        table = raw.get("/api/sites/table", headers={"Accept-Encoding": "gzip"})
        table_plain = raw.get("/api/sites/table", headers={"Accept-Encoding": "identity"})
        assert table.headers["etag"] == f'{table_plain.headers["etag"][:-1]}-gzip"'
        nm = raw.get(
            "/api/sites/table", headers={"Accept-Encoding": "gzip", "If-None-Match": table.headers["etag"]}
        )
        assert nm.status_code == 304


def test_answers_with_a_time_in_them_carry_a_weak_etag_that_outlives_the_second(client, place):
    path = "/api/collections/sites/items?limit=3"
    first = client.get(path)
    second = int(first.json()["timeStamp"][17:19])
    while dt.datetime.now(dt.UTC).second == second:
        time.sleep(0.05)
    later = client.get(path)
    assert later.json()["timeStamp"] != first.json()["timeStamp"]
    assert first.headers["etag"].startswith("W/") and later.headers["etag"] == first.headers["etag"]
    assert client.get(path, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    # another page, another tag
    assert client.get("/api/collections/sites/items?limit=4").headers["etag"] != first.headers["etag"]


def test_staff_answers_are_private_and_confidential_ones_never_stored(client, staff, place):
    profiles = client.get("/api/profiles", headers=staff)
    assert profiles.headers["cache-control"] == "private, no-cache" and profiles.headers["etag"]
    nm = client.get("/api/profiles", headers={**staff, "If-None-Match": profiles.headers["etag"]})
    assert nm.status_code == 304 and nm.headers["cache-control"] == "private, no-cache"
    # the staff ranking carries owner contacts (api/audit.py notes them): no cache keeps it
    ranking = client.get("/api/ranking?limit=50", headers=staff)
    assert "owner_contact" in ranking.text
    assert ranking.headers["cache-control"] == "private, no-store" and "etag" not in ranking.headers


def test_no_etag_validates_another_roles_answer(client, staff):
    # the staff view of the collections counts the sites the public does not see
    for path in ("/api/collections", "/api/collections/sites", "/api/sites/table"):
        public, full = client.get(path), client.get(path, headers=staff)
        assert public.content != full.content, path
        assert public.headers["etag"] != full.headers["etag"], path
        assert client.get(path, headers={"If-None-Match": full.headers["etag"]}).status_code == 200
        refused = client.get(path, headers={**staff, "If-None-Match": public.headers["etag"]})
        assert refused.status_code == 200


def test_head_has_the_get_headers_and_answers_304(client, place):
    for path in ("/api/profiles", f"/api/exports/municipalities/{place['ags']}.csv"):
        get = client.get(path)
        head = client.head(path)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["etag"] == get.headers["etag"]
        assert head.headers["cache-control"] == get.headers["cache-control"]
        nm = client.head(path, headers={"If-None-Match": get.headers["etag"]})
        assert nm.status_code == 304 and nm.headers["etag"] == get.headers["etag"]


def test_errors_and_the_health_check_are_not_stored(client):
    missing = client.get("/api/sites/no-such-site/score")
    assert missing.status_code == 404 and missing.headers["cache-control"] == "no-store"
    assert "etag" not in missing.headers
    health = client.get("/healthz")
    assert health.headers["cache-control"] == "no-store" and "etag" not in health.headers


def test_a_streamed_answer_passes_through_unbuffered_and_untagged():
    sent: list[float] = []

    async def parts():
        for i in range(3):
            sent.append(time.monotonic())
            yield f"part {i}\n".encode()

    async def stream(_request):
        return StreamingResponse(parts(), media_type="text/plain")

    async def whole(_request):
        from starlette.responses import PlainTextResponse

        return PlainTextResponse("all at once")

    app = HttpCaching(Starlette(routes=[Route("/api/stream", stream), Route("/api/whole", whole)]))
    transport = httpx.ASGITransport(app=app)

    async def run() -> tuple[httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.get("/api/stream"), await c.get("/api/whole")

    import anyio

    streamed, whole_r = anyio.run(run)
    assert streamed.text == "part 0\npart 1\npart 2\n" and "etag" not in streamed.headers
    assert streamed.headers["cache-control"] == PUBLIC
    assert whole_r.headers["etag"] == f'"{hashlib.sha256(b"all at once").hexdigest()[:32]}"'


def test_the_web_maps_data_is_compressed_once_per_snapshot(client, monkeypatch):
    """/api/sites/table and /values: a client taking gzip gets bytes compressed once (then
    served from memory), identical on every request and decompressing to the identity body."""
    import api.service

    calls = []
    real = api.service.gzip.compress

    def counting(data, *args, **kwargs):
        calls.append(len(data))
        return real(data, *args, **kwargs)

    monkeypatch.setattr(api.service.gzip, "compress", counting)
    with httpx.Client(transport=client._transport, base_url="http://testserver") as raw:
        for path in ("/api/sites/table", "/api/sites/values?profile=hydrogen"):
            plain = raw.get(path, headers={"Accept-Encoding": "identity"})
            bodies, tags, made = set(), set(), []
            for _ in range(3):
                with raw.stream("GET", path, headers={"Accept-Encoding": "gzip, deflate"}) as zipped:
                    bodies.add(b"".join(zipped.iter_raw()))  # as sent, not decoded
                    assert zipped.headers["content-encoding"] == "gzip"
                    assert "Accept-Encoding" in zipped.headers["vary"]
                    tags.add(zipped.headers["etag"])
                made.append(len(calls))
            assert made[0] == made[1] == made[2]  # compressed at most by the first request
            # the bytes kept per snapshot: level 6, no timestamp (the middleware's level 1 differs)
            assert bodies == {real(plain.content, compresslevel=6, mtime=0)}
            assert tags == {f'{plain.headers["etag"][:-1]}-gzip"'}
