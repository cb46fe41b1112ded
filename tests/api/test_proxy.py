"""deploy/Caddyfile as shipped, on loopback in front of two replicas over one data directory.

Skipped with the reason when Debian's ``caddy`` is not installed; required (fails instead) where
NRW_SITES_REQUIRE_CLIENTS is set (.ci/run installs it).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from layers.build import build
from layers.keys import KeyStore
from layers.store import Store
from tests.api.conftest import _port, serving
from tests.conftest import need_client

pytestmark = pytest.mark.slow
CADDYFILE = Path(__file__).resolve().parents[2] / "deploy" / "Caddyfile"


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    caddy = shutil.which("caddy")
    need_client(caddy is not None, "caddy (Debian package caddy) is not installed")
    root = tmp_path_factory.mktemp("proxied")
    old = build(Store(root), n_sites=30, seed=3)["id"]
    new = build(Store(root), n_sites=30, seed=4, activate=False)["id"]
    admin = {"Authorization": f"Bearer {KeyStore(root).add('proxy-admin', 'admin')}"}
    with ExitStack() as stack:
        ports = [stack.enter_context(serving(root))[1] for _ in range(2)]
        listen = _port()
        env = {
            **os.environ,
            "NRW_SITES_LISTEN": f"127.0.0.1:{listen}",
            "NRW_SITES_REPLICAS": " ".join(f"127.0.0.1:{p}" for p in ports),
            "HOME": str(root),  # caddy keeps its state under $HOME/.local/share/caddy
            "XDG_DATA_HOME": str(root / ".caddy"),
            "XDG_CONFIG_HOME": str(root / ".caddy"),
        }
        proc = subprocess.Popen(
            [str(caddy), "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            url = f"http://127.0.0.1:{listen}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None, "caddy exited"
                assert time.monotonic() < deadline, "caddy did not answer within 30 s"
                time.sleep(0.1)
            yield {"url": url, "ports": ports, "old": old, "new": new, "admin": admin}
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)


def test_requests_through_the_proxy_reach_both_replicas(proxied):
    seen: Counter[str] = Counter()
    with httpx.Client(base_url=proxied["url"], timeout=10) as c:
        for _ in range(10):
            r = c.get("/api/profiles")
            assert r.status_code == 200 and r.json()
            seen[r.headers["x-replica"]] += 1
    assert set(seen) == {f"127.0.0.1:{p}" for p in proxied["ports"]}, seen


def test_304_and_the_caching_headers_pass_through(proxied):
    with httpx.Client(base_url=proxied["url"], timeout=10) as c:
        r = c.get("/api/ranking?limit=20")
        assert r.headers["cache-control"] == "public, max-age=0, s-maxage=60"
        assert "Authorization" in r.headers["vary"] and r.headers["content-encoding"] == "gzip"
        for _ in range(4):  # whichever replica answers: the same bytes, the same tag
            nm = c.get("/api/ranking?limit=20", headers={"If-None-Match": r.headers["etag"]})
            assert nm.status_code == 304 and nm.content == b"" and nm.headers["etag"] == r.headers["etag"]


def test_a_publish_is_seen_through_the_proxy(proxied):
    url, new, old = proxied["url"], proxied["new"], proxied["old"]
    with httpx.Client(base_url=url, timeout=30) as c:
        before = c.get("/api/ranking?limit=5")
        assert before.json()["snapshot"] == old
        r = c.post(f"/api/admin/snapshots/{new}/activate", headers=proxied["admin"])
        assert r.status_code == 200, r.text
        deadline = time.monotonic() + 10
        streak: list[str] = []  # the replicas that answered with the new snapshot since the last old one
        while len(streak) < 6:
            assert time.monotonic() < deadline, "the proxy still serves the old snapshot after 10 s"
            x = c.get("/healthz")
            streak = [*streak, x.headers["x-replica"]] if x.json()["snapshot"] == new else []
        assert len(set(streak)) == 2
        after = c.get("/api/ranking?limit=5", headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200 and after.json()["snapshot"] == new  # the old tag is stale
