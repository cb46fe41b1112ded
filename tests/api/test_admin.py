"""Admin publishing over HTTP: bundle checks, jobs outside the request, 409, activation, roles."""

from __future__ import annotations

import io
import stat
import time
import warnings
import zipfile
from pathlib import Path

import pytest

from api import views
from api.main import create_app
from api.settings import Settings
from layers import jobs, servecache
from layers.build import build
from layers.keys import KeyStore
from layers.store import Store
from tests.api.conftest import assert_problem
from tests.fixture_subset import FIXTURES, files, sources_text

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

MARKER = "zz-marker-7f3a"


def make_bundle(sources: str | None = None, extra: dict[str, bytes] | None = None) -> bytes:
    """A zip with sources.toml and the fixture files it names."""
    sources = sources_text() if sources is None else sources
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("sources.toml", sources)
        for f, rel in files(sources):  # shapefile sidecars too
            zf.write(f, rel)
        for name, body in (extra or {}).items():
            zf.writestr(name, body)
    return buf.getvalue()


@pytest.fixture(scope="module")
def admin_env(tmp_path_factory):
    root = tmp_path_factory.mktemp("admin")
    build(Store(root), n_sites=60, seed=2)
    keys = KeyStore(root)
    headers = {
        role: {"Authorization": f"Bearer {keys.add(f'a-{role}', role)}"} for role in ("staff", "admin")
    }
    headers["public"] = {}
    settings = Settings(
        data=root, max_bundle_bytes=3_000_000, max_unpacked_bytes=20_000_000, reload_check_s=0.05
    )
    with TestClient(create_app(settings)) as c:
        yield c, root, headers


def _zip_post(c, headers, body, query=""):
    return c.post(
        f"/api/admin/snapshots{query}", content=body, headers={**headers, "content-type": "application/zip"}
    )


def _wait(c, headers, url, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        doc = c.get(url, headers=headers).json()
        if doc["state"] in ("succeeded", "failed"):
            return doc
        time.sleep(0.3)
    raise AssertionError(f"job did not finish: {doc}")


def _state(root: Path) -> tuple:
    jobs = sorted(p.name for p in (root / "jobs").glob("*")) if (root / "jobs").exists() else []
    return Store(root).current_id(), sorted(p.name for p in (root / "snapshots").iterdir()), jobs


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/admin/snapshots"),
        ("POST", "/api/admin/snapshots"),
        ("GET", "/api/admin/jobs/0123456789abcdef"),
        ("POST", "/api/admin/snapshots/20250101T000000Z/activate"),
    ],
)
def test_public_401_staff_403(admin_env, method, path):
    c, root, h = admin_env
    before = _state(root)
    assert_problem(c.request(method, path, headers=h["public"]), 401)
    assert_problem(c.request(method, path, headers=h["staff"]), 403)
    assert _state(root) == before


def _symlink_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("sources.toml", "")
        info = zipfile.ZipInfo("link.csv")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


def _bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("sources.toml", "")
        zf.writestr("big.csv", b"0" * 30_000_000)  # ~1000-fold
    return buf.getvalue()


def _many_small_over_total() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("sources.toml", "")
        for i in range(3):
            zf.writestr(f"part{i}.csv", b"x" * 900_000)
    return buf.getvalue()


BAD_BUNDLES = {
    "not a zip": (b"PK\x03\x04 this is not a zip " + MARKER.encode(), 400),
    "empty": (b"", 400),
    "zip-slip ..": (make_bundle(extra={f"../{MARKER}.csv": b"x"}), 400),
    "zip-slip absolute": (make_bundle(extra={f"/tmp/{MARKER}.csv": b"x"}), 400),
    "backslash": (make_bundle(extra={f"..\\{MARKER}.csv": b"x"}), 400),
    "nul": (make_bundle(extra={f"a\x00{MARKER}.csv": b"x"}), 400),
    "hidden": (make_bundle(extra={f".{MARKER}.csv": b"x"}), 400),
    "executable": (make_bundle(extra={f"{MARKER}.py": b"import os"}), 400),
    "symlink": (_symlink_zip(), 400),
    "no sources.toml": (make_bundle(extra={}).replace(b"sources.toml", b"sourcez.toml"), 400),
    "zip bomb by ratio": (_bomb(), 413),
}


@pytest.mark.parametrize("case", list(BAD_BUNDLES))
def test_bad_bundles_are_refused_at_once_and_change_nothing(admin_env, case):
    c, root, h = admin_env
    body, status = BAD_BUNDLES[case]
    before = _state(root)
    t = time.perf_counter()
    r = _zip_post(c, h["admin"], body)
    assert time.perf_counter() - t < 1.0
    assert_problem(r, status)
    assert MARKER not in r.text
    assert _state(root) == before
    assert not list((root / "jobs").glob(".upload-*")) if (root / "jobs").exists() else True


def test_total_unpacked_size_and_body_size_limits(admin_env, tmp_path):
    c, root, h = admin_env
    before = _state(root)
    settings = c.app.state.settings
    small = Settings(data=root, max_bundle_bytes=3_000_000, max_unpacked_bytes=2_000_000)
    from layers import bundle

    p = tmp_path / "b.zip"
    p.write_bytes(_many_small_over_total())
    with pytest.raises(Exception, match="unpacks to more than"):
        bundle.check(p, small.max_unpacked_bytes)
    r = _zip_post(c, h["admin"], b"\0" * (settings.max_bundle_bytes + 1))
    assert_problem(r, 413)
    r = c.post(
        "/api/admin/snapshots", content=make_bundle(), headers={**h["admin"], "content-type": "text/plain"}
    )
    assert_problem(r, 415)
    assert _state(root) == before


def test_publish_builds_outside_the_request_then_activate_and_roll_back(admin_env):
    c, root, h = admin_env
    first = Store(root).current_id()
    t = time.perf_counter()
    r = _zip_post(c, h["admin"], make_bundle())
    assert time.perf_counter() - t < 2.0  # the build runs in its own process
    assert r.status_code == 202, r.text
    url = r.headers["location"]
    assert url.endswith(f"/api/admin/jobs/{r.json()['id']}")
    # a second publish while the first runs is refused
    r2 = _zip_post(c, h["admin"], make_bundle())
    assert_problem(r2, 409)
    job = _wait(c, h["admin"], url)
    assert job["state"] == "succeeded", job
    new = job["snapshot"]
    assert Store(root).current_id() == first  # published, not live yet
    # ready to serve: the job wrote the serving cache (api/views.py prepare), no worker has to
    assert (root / "snapshots" / new / f"{servecache.PREFIX}{servecache.code_key()}").is_dir()
    assert any(f"prepared snapshot {new} for serving" in line for line in job["progress"])
    listing = c.get("/api/admin/snapshots", headers=h["admin"]).json()
    assert {s["id"] for s in listing["snapshots"]} >= {first, new}
    assert listing["current"] == first
    r = c.post(f"/api/admin/snapshots/{new}/activate", headers=h["admin"])
    assert r.status_code == 200 and r.json()["served"], r.text
    assert c.get("/healthz").json()["snapshot"] == new
    assert c.get("/api/collections/sites/items?limit=1").json()["numberMatched"] == 10
    r = c.post(f"/api/admin/snapshots/{first}/activate", headers=h["admin"])
    assert r.status_code == 200
    assert c.get("/healthz").json()["snapshot"] == first
    assert not (root / "jobs" / job["id"] / "bundle").exists()
    assert_problem(c.post("/api/admin/snapshots/20990101T000000Z/activate", headers=h["admin"]), 404)
    assert_problem(c.post(f"/api/admin/snapshots/{MARKER}/activate", headers=h["admin"]), 404)


@pytest.mark.parametrize(
    ("sources", "phrase"),
    [
        (
            sources_text().replace('path = "dvg/dvg2gem_nw.shp"', 'path = "../../../../etc/passwd"'),
            "outside the bundle",
        ),
        (sources_text().replace('name = "BEZ"', 'name = "NO_SUCH_COLUMN"'), "NO_SUCH_COLUMN"),
    ],
)
def test_a_failed_build_changes_nothing_and_its_error_is_in_the_job(admin_env, sources, phrase):
    c, root, h = admin_env
    before = _state(root)[:2]
    bundle = (
        make_bundle(sources)
        if "passwd" not in sources
        else make_bundle(
            sources, extra={"dvg/dvg2gem_nw.shp": (FIXTURES / "dvg/dvg2gem_nw.shp").read_bytes()}
        )
    )
    r = _zip_post(c, h["admin"], bundle, "?activate=true")
    assert r.status_code == 202, r.text
    job = _wait(c, h["admin"], r.headers["location"])
    assert job["state"] == "failed" and phrase in job["error"]
    assert _state(root)[:2] == before
    assert c.get("/healthz").json()["snapshot"] == before[0]
    assert_problem(c.get("/api/admin/jobs/ffffffffffffffff", headers=h["admin"]), 404)
    assert_problem(c.get(f"/api/admin/jobs/{MARKER}", headers=h["admin"]), 404)


def test_a_job_told_a_preparer_it_cannot_import_builds_without_and_says_so(monkeypatch):
    said: list[str] = []
    monkeypatch.setenv("NRW_SITES_JOB_PREPARE", "api.nowhere:prepare")
    assert jobs._prepare(said.append) is None
    assert said and "cannot prepare the snapshot for serving with api.nowhere:prepare" in said[0]
    monkeypatch.setenv("NRW_SITES_JOB_PREPARE", "api.views:prepare")
    assert jobs._prepare(said.append) is views.prepare
