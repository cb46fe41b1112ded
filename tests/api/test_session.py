"""Sign-in for the web map (issue 18 §1): session cookie, CSRF, expiry, revocation, caching.

Each test uses its own TestClient on the shared app, so a session's cookie never leaks into the
other tests' client.
"""

from __future__ import annotations

import time
from http.cookies import SimpleCookie

import pytest
from fastapi.testclient import TestClient

from layers.keys import KeyStore
from layers.sessions import SessionStore
from layers.statedb import StateDB
from layers.store import Store
from tests.api.conftest import assert_problem
from tests.api.test_score import POLYGON

OWNER = "owner_contact"


@pytest.fixture(scope="module")
def keys(data_dir) -> dict[str, str]:
    store = KeyStore(data_dir)
    return {role: store.add(f"session-{role}", role) for role in ("staff", "admin")}


@pytest.fixture(scope="module")
def hidden(data_dir) -> str:
    sites = Store(data_dir).load().layers["sites"]
    return str(sites.loc[~sites["public"].to_numpy(bool), "site_id"].iloc[0])


@pytest.fixture
def browser(client) -> TestClient:
    """A fresh cookie jar on the shared, already loaded app."""
    return TestClient(client.app)


def sign_in(browser: TestClient, key: str) -> dict:
    r = browser.post("/api/session", json={"key": key})
    assert r.status_code == 201, r.text
    return r.json()


def set_cookie(r) -> SimpleCookie:
    c = SimpleCookie()
    c.load(r.headers["set-cookie"])
    return c


def test_sign_in_sets_a_strict_http_only_cookie_and_never_returns_the_key(browser, keys):
    r = browser.post("/api/session", json={"key": keys["staff"]})
    assert r.status_code == 201
    morsel = set_cookie(r)["nrw_session"]
    assert morsel["httponly"] and morsel["samesite"] == "strict" and morsel["path"] == "/"
    assert not morsel["secure"]  # plain http (a test client); see the https test
    assert int(morsel["max-age"]) == 10 * 3600
    assert keys["staff"] not in r.text and keys["staff"] not in morsel.value
    body = r.json()
    assert body["signed_in"] and body["role"] == "staff" and body["name"] == "session-staff"
    assert len(body["csrf"]) >= 40 and r.headers["cache-control"] == "no-store"
    assert browser.get("/api/session").json()["csrf"] == body["csrf"]


def test_the_cookie_is_secure_over_https(client, keys):
    browser = TestClient(client.app, base_url="https://testserver")
    r = browser.post("/api/session", json={"key": keys["staff"]})
    assert set_cookie(r)["nrw_session"]["secure"]


def test_signed_in_staff_see_confidential_fields_privately(browser, keys, hidden):
    assert_problem(browser.get(f"/api/collections/sites/items/{hidden}"), 404)
    public = browser.get("/api/collections/sites/items?limit=5")
    assert "Cookie" in public.headers["vary"] and "Authorization" in public.headers["vary"]
    assert "private" not in public.headers.get("cache-control", "")
    sign_in(browser, keys["staff"])
    r = browser.get(f"/api/collections/sites/items/{hidden}")
    assert r.status_code == 200 and OWNER in r.json()["properties"]
    assert r.headers["cache-control"].startswith("private")
    table = browser.get("/api/sites/table")
    assert table.headers["cache-control"].startswith("private")
    assert hidden in table.json()["columns"]["site_id"]


def test_a_change_without_the_csrf_token_is_refused(browser, keys):
    csrf = sign_in(browser, keys["staff"])["csrf"]
    body = assert_problem(browser.post("/api/score", json=POLYGON), 403)
    assert "x-csrf-token" in body["detail"]
    assert_problem(browser.post("/api/score", json=POLYGON, headers={"X-CSRF-Token": "x" * 43}), 403)
    ok = browser.post("/api/score", json=POLYGON, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200, ok.text
    # a public caller (no cookie) needs no token
    assert TestClient(browser.app).post("/api/score", json=POLYGON).status_code == 200


def test_a_wrong_key_or_a_foreign_origin_opens_no_session(browser, keys):
    for key in ("nrw_00000000_" + "a" * 43, "nonsense", keys["staff"][:-1] + "x"):
        r = browser.post("/api/session", json={"key": key})
        assert_problem(r, 401)
        assert "set-cookie" not in r.headers and key not in r.text
    r = browser.post("/api/session", json={"key": keys["staff"]}, headers={"Origin": "https://evil.example"})
    assert_problem(r, 403)
    assert "set-cookie" not in r.headers
    assert_problem(browser.post("/api/session", json={"key": "k", "extra": 1}), 400)
    assert not browser.get("/api/session").json()["signed_in"]


def test_sign_out_ends_the_session_for_good(browser, keys, hidden):
    csrf = sign_in(browser, keys["admin"])["csrf"]
    token = browser.cookies["nrw_session"]
    assert_problem(browser.delete("/api/session"), 403)  # the token is needed to sign out, too
    r = browser.delete("/api/session", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204 and 'nrw_session=""' in r.headers["set-cookie"]
    replay = TestClient(browser.app, cookies={"nrw_session": token})
    assert_problem(replay.get(f"/api/collections/sites/items/{hidden}"), 404)
    assert replay.get("/api/session").json() == {"signed_in": False, "role": "public"}


def test_revoking_the_key_ends_its_sessions_at_once(browser, data_dir, hidden):
    store = KeyStore(data_dir)
    key = store.add("session-revoked", "staff")
    sign_in(browser, key)
    assert browser.get(f"/api/collections/sites/items/{hidden}").status_code == 200
    store.revoke("session-revoked")
    assert_problem(browser.get(f"/api/collections/sites/items/{hidden}"), 404)
    assert not browser.get("/api/session").json()["signed_in"]


def test_a_bogus_cookie_is_the_public(client, hidden):
    for value in ("x", "y" * 500, "<script>"):
        b = TestClient(client.app, cookies={"nrw_session": value})
        assert_problem(b.get(f"/api/collections/sites/items/{hidden}"), 404)
        assert b.get("/healthz").status_code == 200


def test_idle_and_absolute_expiry(tmp_path, monkeypatch):
    keys = KeyStore(tmp_path)
    key = keys.verify(keys.add("expiry", "staff"))
    assert key is not None
    store = SessionStore(StateDB(tmp_path), keys, idle_s=60, absolute_s=300)
    clock = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    token, s = store.open(key)
    assert s.expires == 1_000_060
    for _ in range(4):  # used every 50 s: the idle limit moves on, up to the absolute one
        clock[0] += 50
        assert store.get(token) is not None
    clock[0] += 50  # 250 s after the start, 50 s after the last use
    assert store.get(token) is not None
    clock[0] += 51  # 301 s: past the absolute limit although used 51 s ago
    assert store.get(token) is None and store.count() == 0
    token, _ = store.open(key)
    clock[0] += 61  # idle
    assert store.get(token) is None
