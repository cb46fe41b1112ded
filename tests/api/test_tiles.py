"""The map's PMTiles archive and coverage overlays over HTTP: ranges, caching, errors."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import warnings
from pathlib import Path

import httpx
import numpy as np
import pytest
from pmtiles.reader import MmapSource, Reader, all_tiles

from api.main import create_app
from api.routes_tiles import parse_ranges
from api.settings import Settings
from geo.access import public_mask
from layers.store import Store
from tests.api.conftest import assert_problem

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

IMMUTABLE = "public, max-age=31536000, immutable"
IDENTITY = {"Accept-Encoding": "identity"}


@pytest.fixture(scope="module")
def archive(svc) -> Path:
    return svc.snap.path / "map.pmtiles"


@pytest.fixture(scope="module")
def url(svc) -> str:
    return f"/api/tiles/{svc.snap.id}.pmtiles"


@pytest.fixture(scope="module")
def body(archive: Path) -> bytes:
    return archive.read_bytes()


def get(client, url: str, rng: str | None = None, **headers: str) -> httpx.Response:
    h = {**IDENTITY, **headers}
    if rng is not None:
        h["Range"] = rng
    return client.get(url, headers=h)


# -- the archive ---------------------------------------------------------------------------
def test_whole_archive(client, url, body, svc):
    r = get(client, url)
    assert r.status_code == 200 and r.content == body
    assert r.headers["content-type"] == "application/vnd.pmtiles"
    assert r.headers["content-length"] == str(len(body))
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["cache-control"] == IMMUTABLE
    assert r.headers["etag"] == f'"{svc.snap.manifest["tiles"]["sha256"][:40]}"'
    # with gzip accepted the bytes still arrive intact
    assert client.get(url).content == body


def test_first_16_kib_as_the_pmtiles_js_client_asks(client, url, body):
    r = get(client, url, "bytes=0-16383")
    assert r.status_code == 206 and r.content == body[:16384]
    assert r.headers["content-range"] == f"bytes 0-16383/{len(body)}"
    assert r.headers["content-length"] == "16384"
    assert "content-encoding" not in r.headers
    assert r.headers["cache-control"] == IMMUTABLE and r.headers["etag"]


@pytest.mark.parametrize(
    ("rng", "start", "end"),
    [
        ("bytes=100-199", 100, 200),
        ("bytes=0-0", 0, 1),
        ("bytes=-500", -500, None),
        ("bytes=1000-", 1000, None),
        (" BYTES = 5 - 9 ", 5, 10),
    ],
)
def test_single_ranges(client, url, body, rng, start, end):
    r = get(client, url, rng)
    want = body[start:end]
    assert r.status_code == 206 and r.content == want
    first = start % len(body)
    assert r.headers["content-range"] == f"bytes {first}-{first + len(want) - 1}/{len(body)}"


def test_range_past_the_end_is_clipped(client, url, body):
    r = get(client, url, f"bytes={len(body) - 10}-{len(body) + 5000}")
    assert r.status_code == 206 and r.content == body[-10:]
    assert r.headers["content-range"] == f"bytes {len(body) - 10}-{len(body) - 1}/{len(body)}"


def test_multiple_ranges_are_multipart_byteranges(client, url, body):
    r = get(client, url, "bytes=5000-5009, 0-9,100-109")
    assert r.status_code == 206
    m = re.fullmatch(r"multipart/byteranges; boundary=(\S+)", r.headers["content-type"])
    assert m
    assert int(r.headers["content-length"]) == len(r.content)
    parts = [p for p in r.content.split(b"--" + m[1].encode()) if p.strip(b"\r\n-")]
    got = []
    for part in parts:
        head, _, data = part.lstrip(b"\r\n").partition(b"\r\n\r\n")
        cr = re.search(rb"Content-Range: bytes (\d+)-(\d+)/(\d+)", head)
        a, b = int(cr[1]), int(cr[2])
        got.append((a, b))
        assert data.removesuffix(b"\r\n") == body[a : b + 1]
    assert got == [(0, 9), (100, 109), (5000, 5009)]


def test_overlapping_ranges_are_coalesced(client, url, body):
    r = get(client, url, "bytes=0-99,50-149,150-199")
    assert r.status_code == 206 and r.content == body[:200]
    assert r.headers["content-range"] == f"bytes 0-199/{len(body)}"


@pytest.mark.parametrize(
    "rng",
    [
        "bytes=999999999999-",
        "bytes=abc",
        "bytes=5-1",
        "bytes=-0",
        "bytes=1-2-3",
        "bytes=",
        "bytes=99999999999999999999999-",
        "bytes=" + ",".join(f"{i * 1000}-{i * 1000}" for i in range(40)),
        "bytes=" + ",".join(["0-1"] * 500),
    ],
)
def test_bad_ranges_are_416_problems(client, url, body, rng):
    r = get(client, url, rng)
    doc = assert_problem(r, 416)
    assert r.headers["content-range"] == f"bytes */{len(body)}"
    assert doc["title"] == "Range Not Satisfiable"
    sent = rng.split("=", 1)[1]
    assert len(sent) < 5 or sent[:20] not in r.text


def test_other_range_units_are_ignored(client, url, body):
    r = get(client, url, "items=0-5")
    assert r.status_code == 200 and r.content == body


def test_conditional_requests(client, url, body):
    etag = get(client, url, "bytes=0-0").headers["etag"]
    for value in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        r = get(client, url, **{"If-None-Match": value})
        assert r.status_code == 304 and r.content == b""
        assert r.headers["etag"] == etag and r.headers["cache-control"] == IMMUTABLE
    assert get(client, url, "bytes=0-9", **{"If-None-Match": '"other"'}).status_code == 206
    # If-Range: the range only if the archive is still the one the client had
    assert get(client, url, "bytes=0-9", **{"If-Range": etag}).status_code == 206
    r = get(client, url, "bytes=0-9", **{"If-Range": '"old"'})
    assert r.status_code == 200 and r.content == body
    assert get(client, url, "bytes=0-9", **{"If-Range": f"W/{etag}"}).status_code == 200
    assert get(client, url, "bytes=0-9", **{"If-Match": etag}).status_code == 206
    assert_problem(get(client, url, "bytes=0-9", **{"If-Match": '"other"'}), 412)


def test_head(client, url, body):
    r = client.head(url, headers=IDENTITY)
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-length"] == str(len(body))
    r = client.head(url, headers={**IDENTITY, "Range": "bytes=10-19"})
    assert r.status_code == 206 and r.headers["content-range"] == f"bytes 10-19/{len(body)}"


def test_a_pmtiles_reader_over_http_sees_the_same_tiles(client, url, archive):
    """The pmtiles reader fed by range requests (like the JS client: header + root directory,
    then leaf directories and tiles) reads the same tiles as from the file.
    """
    calls = []

    def get_bytes(offset: int, length: int) -> bytes:
        r = get(client, url, f"bytes={offset}-{offset + length - 1}")
        assert r.status_code == 206 and len(r.content) == length
        calls.append(length)
        return r.content

    remote = Reader(get_bytes)
    with open(archive, "rb") as f:
        local = Reader(MmapSource(f))
        assert remote.header() == local.header()
        assert remote.metadata() == local.metadata()
        some = [zxy for zxy, _ in all_tiles(local.get_bytes) if zxy[0] in (5, 9, 12)][:40]
        for zxy in some:
            assert remote.get(*zxy) == local.get(*zxy)
        tile = gzip.decompress(remote.get(*some[0]))
        assert tile[:1] == b"\x1a"  # field 3 (layers), length-delimited
    assert calls


def test_unknown_snapshot_is_404_without_echo(client):
    for path in (
        "/api/tiles/20000101T000000Z.pmtiles",
        "/api/tiles/evil%3Cscript%3E.pmtiles",
        "/api/tiles/..%2F..%2Fmanifest.pmtiles",
        "/api/tiles/zzzz-echo-me.pmtiles",
    ):
        r = client.get(path)
        doc = assert_problem(r, 404)
        assert "script" not in r.text and "echo-me" not in r.text and "2000" not in r.text
        assert doc["type"] in ("urn:nrw-sites:problem:not-found", "about:blank")  # no route


def test_unknown_query_parameters_are_refused(client, url):
    r = client.get(url + "?evilparam=1")
    assert_problem(r, 400)
    assert "evilparam" not in r.text


def test_tiles_info(client, svc, url):
    r = client.get("/api/tiles")
    assert r.status_code == 200
    doc = r.json()
    assert doc["url"].endswith(url) and doc["snapshot"] == svc.snap.id
    assert doc["synthetic"] is True
    assert (doc["minzoom"], doc["maxzoom"]) == (5, 14)
    assert doc["layers"]["site_points"]["maxzoom"] == 9 and doc["layers"]["sites"]["minzoom"] == 10
    assert doc["promote_id"] == {"sites": "site_id", "site_points": "fid"}
    assert r.headers["etag"] and "must-revalidate" in r.headers["cache-control"]
    assert client.get("/api/tiles", headers={"If-None-Match": r.headers["etag"]}).status_code == 304


def test_the_ui_config_names_the_archives_zooms_and_bounds_as_its_header_holds_them(client, archive):
    """The map builds its tile source from these without reading the header first: a bound
    narrower than the archive's would leave tiles at the edge unrequested."""
    tileset = client.get("/api/ui/config").json()["tileset"]
    with open(archive, "rb") as f:
        h = Reader(MmapSource(f)).header()
    assert (tileset["minzoom"], tileset["maxzoom"]) == (h["min_zoom"], h["max_zoom"])
    header = [h["min_lon_e7"] / 1e7, h["min_lat_e7"] / 1e7, h["max_lon_e7"] / 1e7, h["max_lat_e7"] / 1e7]
    assert np.allclose(tileset["bounds"], header, atol=2e-7)


# -- coverage overlays ---------------------------------------------------------------------
def test_coverage_listing_and_images(client, svc):
    r = client.get("/api/coverage")
    assert r.status_code == 200
    doc = r.json()
    assert doc["snapshot"] == svc.snap.id and doc["synthetic"] is True
    layers = {x["id"]: x for x in doc["layers"]}
    assert set(layers) == {"fibre", "mobile_5g"}
    for name, x in layers.items():
        assert x["kind"] == "image" and x["resolution"] == "grid_100m"
        assert len(x["coordinates"]) == 4 and all(len(c) == 2 for c in x["coordinates"])
        assert x["legend"]["breaks"][0] == 0 and x["legend"]["breaks"][-1] == 1
        assert len(x["legend"]["colors"]) == len(x["legend"]["breaks"]) - 1
        assert x["attribution"] and x["licence"]
        assert x["url"].endswith(f"/api/coverage/{svc.snap.id}/{name}.png")
        img = client.get(x["url"])
        assert img.status_code == 200 and img.content.startswith(b"\x89PNG\r\n\x1a\n")
        assert img.headers["content-type"] == "image/png"
        assert img.headers["cache-control"] == IMMUTABLE
        assert client.get(x["url"], headers={"If-None-Match": img.headers["etag"]}).status_code == 304
        live = client.get(f"/api/coverage/{name}.png")
        assert live.content == img.content and live.headers["etag"] == img.headers["etag"]
        assert "must-revalidate" in live.headers["cache-control"]
    etag = r.headers["etag"]
    assert client.get("/api/coverage", headers={"If-None-Match": etag}).status_code == 304


def test_unknown_coverage_is_404_without_echo(client, svc):
    for path in (
        "/api/coverage/evilname.png",
        "/api/coverage/%3Cb%3E.png",
        "/api/coverage/20000101T000000Z/fibre.png",
        f"/api/coverage/{svc.snap.id}/x.png",
    ):
        r = client.get(path)
        assert_problem(r, 404)
        assert "evilname" not in r.text and "<b>" not in r.text and "2000" not in r.text


# -- an old snapshot without map data ------------------------------------------------------
def test_a_snapshot_without_map_data_is_served_without_tiles(tmp_path, data_dir, svc):
    """Snapshots built before the map data existed still load; their tiles are a 404."""
    root = tmp_path / "data"
    (root / "snapshots").mkdir(parents=True)
    old = root / "snapshots" / svc.snap.id
    shutil.copytree(svc.snap.path, old)
    for p in [old / "map.pmtiles", *old.glob("coverage_*.png")]:
        p.unlink()
    m = json.loads((old / "manifest.json").read_text())
    m = {k: v for k, v in m.items() if k not in ("tiles", "coverage_overlays")}
    if "files" in m:  # an old snapshot lists only the files it has
        m["files"] = {k: v for k, v in m["files"].items() if (old / k).exists()}
    (old / "manifest.json").write_text(json.dumps(m))
    Store(root).set_current(svc.snap.id)
    with TestClient(create_app(Settings(data=root))) as c:
        assert c.get("/healthz").status_code == 200
        assert_problem(c.get("/api/tiles"), 404)
        assert_problem(c.get(f"/api/tiles/{svc.snap.id}.pmtiles"), 404)
        r = c.get("/api/coverage")
        assert r.status_code == 200 and r.json()["layers"] == []
        assert_problem(c.get("/api/coverage/fibre.png"), 404)


# -- a real server, as a browser or GDAL reads it ----------------------------------------------
@pytest.mark.slow
def test_live_server_ranges_and_gdal_reads_the_archive(live_server, svc, body):
    url = f"{live_server}/api/tiles/{svc.snap.id}.pmtiles"
    r = httpx.get(url, headers={"Range": "bytes=0-16383", "Accept-Encoding": "gzip"})
    assert r.status_code == 206 and r.content == body[:16384]
    assert r.headers["content-length"] == "16384" and "content-encoding" not in r.headers
    pyogrio = pytest.importorskip("pyogrio")
    df = pyogrio.read_dataframe(f"/vsicurl/{url}", layer="site_points", ZOOM_LEVEL=9)
    public = svc.snap.layers["sites"][public_mask(svc.snap.layers["sites"])]
    assert sorted(df["fid"]) == list(range(len(public)))
    # the table's fid names the same site: its point is where the tile's point with that fid is
    cols = svc.table()["columns"]
    row = {f: i for i, f in enumerate(cols["fid"]) if f >= 0}
    assert len(row) == len(public) and (np.array(cols["fid"]) == -1).sum() == len(cols["fid"]) - len(public)
    pts = df.geometry.to_crs(4326)
    for fid, x, y in zip(df["fid"], pts.x, pts.y, strict=True):
        assert abs(cols["lon"][row[fid]] - x) < 2e-4 and abs(cols["lat"][row[fid]] - y) < 2e-4, fid


def test_parse_ranges_unit():
    assert parse_ranges("bytes=0-9", 100) == [(0, 10)]
    assert parse_ranges("bytes=90-", 100) == [(90, 100)]
    assert parse_ranges("bytes=-10", 100) == [(90, 100)]
    assert parse_ranges("bytes=-1000", 100) == [(0, 100)]
    assert parse_ranges("bytes=0-9,200-300", 100) == [(0, 10)]  # the unsatisfiable part dropped
    assert parse_ranges("none", 100) is None
    assert parse_ranges("pages=1-2", 100) is None
