"""Investor inquiries (issue 19 §4): the API, matches against /api/ranking, re-runs per snapshot
with the reasons a site dropped out, idempotent recording, the Atom feed and its token, bad
input, and a kill test (a committed change survives SIGKILL).
"""

from __future__ import annotations

import signal
import sqlite3
import textwrap
import threading
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.routes_inquiries import target_of
from api.service import Service
from geo.criteria import CRITERIA_ORDER
from geo.scoring import Scorer
from layers.inquiries import InquiryStore, criteria_of
from layers.inquiry_criteria import Target, clean_criteria
from layers.keys import KeyStore
from layers.statedb import STATE_FILE, StateDB
from tests.api.conftest import assert_problem, writer

A = "{http://www.w3.org/2005/Atom}"
SPEC = {
    "name": "Elektrolyseur Q1/2027",
    "note": "Investor X, Kontakt über Frau Y — vertraulich",
    "profile": "hydrogen",
    "weights": {"area": 2.0},
    "filters": {"min_area_ha": 2, "kind": ["regional_plan", "brownfield"]},
    "min_score": 40,
    "top_n": 25,
}


@pytest.fixture(scope="module")
def staff(data_dir) -> dict[str, str]:
    return {"Authorization": f"Bearer {KeyStore(data_dir).add('inquiry-ana', 'staff')}"}


def _expected(client, staff, doc) -> list[str]:
    """The matches computed independently from GET /api/ranking with the same parameters."""
    r = client.get("/api/ranking", params={**doc["ranking_params"], "limit": 1000}, headers=staff)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    if doc["min_score"] is not None:
        items = [i for i in items if i["score"] is not None and i["score"] >= doc["min_score"]]
    return [i["site_id"] for i in items][: doc["top_n"] or 1000]


def test_the_public_has_no_inquiries(client):
    assert_problem(client.get("/api/inquiries"), 401)
    assert_problem(client.post("/api/inquiries", json=SPEC), 401)
    assert_problem(client.get("/api/inquiries/aaaaaaaaaaaa/feed.atom"), 401)


def test_save_read_change_and_delete_an_inquiry(client, staff):
    r = client.post("/api/inquiries", json=SPEC, headers=staff)
    assert r.status_code == 201 and r.headers["cache-control"] == "no-store"
    doc = r.json()
    assert doc["name"] == SPEC["name"] and doc["note"] == SPEC["note"] and doc["created_by"] == "inquiry-ana"
    assert doc["filters"] == {"min_area_ha": 2.0, "kind": ["brownfield", "regional_plan"]}
    run = doc["last_run"]
    assert run["baseline"] and run["new"] == 0 and run["snapshot"] == doc["snapshot"]
    url = f"/api/inquiries/{doc['id']}"
    matches = client.get(f"{url}/matches", headers=staff).json()
    expected = _expected(client, staff, doc)
    assert 0 < len(expected) <= 25
    assert matches["runs"][0]["sites"] == expected  # same sites, same order
    # the listing leaves the note out; one inquiry has it
    listing = client.get("/api/inquiries", headers=staff).json()["inquiries"]
    assert any(i["id"] == doc["id"] and "note" not in i for i in listing)
    # rename: same criteria version; new criteria: a new baseline
    r = client.patch(url, json={"name": "Elektrolyseur 2027", "version": doc["version"]}, headers=staff)
    assert r.json()["criteria_version"] == 1 and r.json()["name"] == "Elektrolyseur 2027"
    r = client.patch(url, json={"profile": "logistics", "min_score": 30}, headers=staff)
    changed = r.json()
    assert changed["criteria_version"] == 2 and changed["top_n"] is None and changed["filters"] == {}
    runs = client.get(f"{url}/matches", headers=staff).json()["runs"]
    assert [x["criteria_version"] for x in runs] == [2, 1] and runs[0]["baseline"]
    assert runs[0]["sites"] == _expected(client, staff, changed)
    # a stale version is a conflict, not an overwrite
    assert_problem(client.patch(url, json={"name": "alt", "version": doc["version"]}, headers=staff), 409)
    assert_problem(client.delete(f"{url}?version={doc['version']}", headers=staff), 409)
    assert client.delete(url, headers=staff).status_code == 204
    assert_problem(client.get(url, headers=staff), 404)
    assert_problem(client.get(f"{url}/matches", headers=staff), 404)


BAD = [
    ({"weights": {"area": -1}}, "weights"),
    ({"weights": {"<script>x</script>": 1}}, "weights"),
    ({"weights": {"area": "viel"}}, "weights"),
    ({"weights": dict.fromkeys(CRITERIA_ORDER, 0)}, "weights"),
    ({"filters": {"min_fibre": 2}}, "filters"),
    ({"filters": {"<img src=x>": 1}}, "filters"),
    ({"filters": {"kind": ["<b>castle</b>"]}}, "filters"),
    ({"profile": "<script>"}, "profile"),
    ({"min_score": 101}, "min_score"),
    ({"min_score": None, "top_n": None}, "min_score or top_n"),
    ({"top_n": 0}, "top_n"),
    ({"top_n": 1.5}, "top_n"),
    ({"h2_year": 1999}, "h2_year"),
    ({"name": "   "}, "name"),
    ({"note": "a\x00b"}, "note"),
]


@pytest.mark.parametrize(("change", "field"), BAD)
def test_bad_input_is_refused_naming_the_field_and_stores_nothing(client, staff, change, field):
    before = len(client.get("/api/inquiries", headers=staff).json()["inquiries"])
    r = client.post("/api/inquiries", json={**SPEC, **change}, headers=staff)
    body = assert_problem(r, 400)
    assert field in body["detail"], body["detail"]
    assert "<" not in r.text and "viel" not in r.text
    assert len(client.get("/api/inquiries", headers=staff).json()["inquiries"]) == before


def test_bad_patches_change_nothing_and_unknown_ids_are_404(client, staff):
    doc = client.post("/api/inquiries", json=SPEC, headers=staff).json()
    url = f"/api/inquiries/{doc['id']}"
    assert_problem(client.patch(url, json={"filters": {"min_5g": -1}, "name": "neu"}, headers=staff), 400)
    assert_problem(client.patch(url, json={"unknown": 1}, headers=staff), 400)
    assert client.get(url, headers=staff).json()["name"] == SPEC["name"]
    for bad in ("zzzzzzzzzzzz", "..%2F..%2Fetc", "<script>"):
        r = client.get(f"/api/inquiries/{bad}", headers=staff)
        assert r.status_code == 404 and "<script>" not in r.text
    assert_problem(client.get(f"{url}/matches?since=<script>", headers=staff), 400)
    assert_problem(client.get(f"{url}/matches?since=20991231T000000Z", headers=staff), 404)
    assert_problem(client.post("/api/inquiries/zzzzzzzzzzzz/feed-token", headers=staff), 404)
    client.delete(url, headers=staff)


def test_a_15_mb_body_is_413_and_stores_nothing(client, staff):
    before = len(client.get("/api/inquiries", headers=staff).json()["inquiries"])
    big = {**SPEC, "note": "x" * (15 * 1024 * 1024)}
    assert_problem(client.post("/api/inquiries", json=big, headers=staff), 413)
    assert len(client.get("/api/inquiries", headers=staff).json()["inquiries"]) == before


def test_a_signed_in_change_needs_the_csrf_token(client, data_dir):
    key = KeyStore(data_dir).add("inquiry-browser", "staff")
    browser = TestClient(client.app)
    csrf = browser.post("/api/session", json={"key": key}).json()["csrf"]
    assert_problem(browser.post("/api/inquiries", json=SPEC), 403)
    r = browser.post("/api/inquiries", json=SPEC, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201 and r.json()["created_by"] == "inquiry-browser"
    browser.delete(f"/api/inquiries/{r.json()['id']}", headers={"X-CSRF-Token": csrf})


def _changed_target(svc: Service, drop: list[str], zero_area: list[str], boost: list[str]) -> Target:
    """The snapshot with some sites removed, some shrunk to 0.5 ha, others made bigger."""
    sites = svc.sites.drop(columns="geometry").copy()
    sites.loc[sites["site_id"].isin(zero_area), "area_ha"] = 0.5
    sites.loc[sites["site_id"].isin(boost), "area_ha"] = 400.0
    sites = sites[~sites["site_id"].isin(drop)].reset_index(drop=True)
    scorer = Scorer(sites)
    row_of = {s: i for i, s in enumerate(scorer.site_id)}
    return Target("S2", "2099-01-01T00:00:00+00:00", scorer.site_id, scorer.run, lambda row: {}, row_of)


def test_a_new_snapshot_records_new_sites_and_why_others_dropped_out(tmp_path, svc):
    store = InquiryStore(StateDB(tmp_path))
    t1 = target_of(svc)
    by_score = clean_criteria({"profile": "balanced", "filters": {"min_area_ha": 1}, "min_score": 45})
    by_top = clean_criteria({"profile": "balanced", "top_n": 10})
    a = store.create("nach Score", "", by_score, "test", store.baseline(by_score, t1))
    b = store.create("die besten 10", "", by_top, "test", store.baseline(by_top, t1))
    sa = store.runs(a.id)[0]["sites"]
    sb = store.runs(b.id)[0]["sites"]
    assert len(sa) > 5 and len(sb) == 10
    r1 = svc.scorer.run(by_score.query)
    outside = [str(s) for s in t1.site_id[r1.order] if str(s) not in sa and str(s) not in sb][-3:]
    shrunk = next(s for s in sa[1:] if s != sb[1])  # not one of the dropped sites
    t2 = _changed_target(svc, drop=[sa[0], sb[1]], zero_area=[shrunk], boost=outside)
    assert store.run_all(t2)["recorded"] == 2
    assert store.run_all(t2)["recorded"] == 0  # once per (inquiry, criteria, snapshot)
    for inquiry, before in ((a, sa), (b, sb)):
        c = criteria_of_inquiry(store, inquiry.id)
        r2 = t2.rank(c.query)
        run = store.runs(inquiry.id)[0]
        assert run["previous"] == svc.snap.id and run["snapshot"] == "S2"
        # independently: the matches by the rule, and the set differences
        order = [str(t2.site_id[i]) for i in r2.order if c.min_score is None or r2.score[i] >= c.min_score]
        assert run["sites"] == order[: c.limit]
        assert {n["site_id"] for n in run["new"]} == set(run["sites"]) - set(before)
        assert {g["site_id"] for g in run["gone"]} == set(before) - set(run["sites"])
        for g in run["gone"]:
            row = t2.row_of.get(g["site_id"])
            if row is None:
                assert g["reason"] == "removed"
            elif r2.excluded_by[row] is not None:
                assert (g["reason"], g["filter"]) == ("filter", r2.excluded_by[row])
            elif c.min_score is not None and r2.score[row] < c.min_score:
                assert g["reason"] == "below_min_score"
            else:
                assert g["reason"] == "out_of_top_n" and r2.rank[row] > c.limit
    gone_a = {g["site_id"]: g for g in store.runs(a.id)[0]["gone"]}
    assert gone_a[sa[0]]["reason"] == "removed"
    assert (gone_a[shrunk]["reason"], gone_a[shrunk]["filter"]) == ("filter", "min_area_ha")
    gone_b = {g["site_id"]: g["reason"] for g in store.runs(b.id)[0]["gone"]}
    assert gone_b[sb[1]] == "removed" and "out_of_top_n" in gone_b.values()
    assert store.runs(b.id)[0]["new"]
    # since: a date before S2 lists its run; a later date none
    assert len(store.runs(a.id, since=None)) == 2
    from layers.inquiry_criteria import parse_since

    assert [x["snapshot"] for x in store.runs(a.id, parse_since("2098-12-31"))] == ["S2"]
    assert store.runs(a.id, parse_since("2099-01-02")) == []


def criteria_of_inquiry(store: InquiryStore, inquiry_id: str):
    with store.db.connect() as con:
        return criteria_of(
            con.execute("SELECT criteria FROM inquiries WHERE id = ?", (inquiry_id,)).fetchone()[0]
        )


def test_two_workers_re_running_at_once_record_each_run_once(tmp_path, svc):
    store = InquiryStore(StateDB(tmp_path))
    t1 = target_of(svc)
    for i in range(5):
        c = clean_criteria({"profile": "balanced", "top_n": 5 + i})
        store.create(f"Anfrage {i}", "", c, "test", store.baseline(c, t1))
    t2 = _changed_target(svc, drop=[str(t1.site_id[0])], zero_area=[], boost=[])
    results: list[int] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(InquiryStore(StateDB(tmp_path)).run_all(t2)["recorded"])
        )
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 5
    with sqlite3.connect(tmp_path / STATE_FILE) as con:
        assert con.execute("SELECT COUNT(*) FROM inquiry_runs WHERE snapshot = 'S2'").fetchone()[0] == 5


def test_a_server_loading_a_new_snapshot_re_runs_the_inquiries(tmp_path, demo_cache):
    from api.live import reload
    from api.main import create_app
    from api.settings import Settings
    from layers.build import build
    from layers.store import Store

    demo_cache.copy(tmp_path, n_sites=300, seed=1)
    key = KeyStore(tmp_path).add("inquiry-reload", "staff")
    h = {"Authorization": f"Bearer {key}"}
    settings = Settings(data=tmp_path)
    with TestClient(create_app(settings)) as c:
        doc = c.post("/api/inquiries", json={**SPEC, "filters": {}, "min_score": 30}, headers=h).json()
        time.sleep(1.1)  # a new snapshot id (ids are stamped to the second)
        m2 = build(Store(tmp_path), n_sites=300, seed=2)
        reload(c.app, settings, m2["id"])
        c.app.state.inquiry_run.join(30)
        runs = c.get(f"/api/inquiries/{doc['id']}/matches", headers=h).json()["runs"]
        assert [r["snapshot"] for r in runs] == [m2["id"], doc["snapshot"]]
        assert runs[0]["previous"] == doc["snapshot"] and not runs[0]["baseline"]
        assert runs[0]["sites"] == _expected(c, h, doc)
        assert {n["site_id"] for n in runs[0]["new"]} == set(runs[0]["sites"]) - set(runs[1]["sites"])
        since = c.get(f"/api/inquiries/{doc['id']}/matches?since={doc['snapshot']}", headers=h).json()
        assert [r["snapshot"] for r in since["runs"]] == [m2["id"]]
        assert set(since["new_sites"]) == {n["site_id"] for n in runs[0]["new"]}
        # the Atom feed: a token, valid Atom, "N new sites for …", no note
        r = c.get(f"/api/inquiries/{doc['id']}/feed.atom")
        assert_problem(r, 401)
        tok = c.post(f"/api/inquiries/{doc['id']}/feed-token", headers=h).json()
        assert tok["token"] != key and key not in tok["feed"]
        feed = c.get(f"/api/inquiries/{doc['id']}/feed.atom", params={"token": tok["token"]})
        assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
        assert feed.headers["cache-control"] == "no-store"
        _check_atom(feed.content, doc, runs[0])
        assert SPEC["note"] not in feed.text and "owner_contact" not in feed.text
        assert tok["token"] not in feed.text
        # the token opens nothing else, a wrong one nothing at all, revoking ends it
        assert_problem(c.get("/api/inquiries", headers={"Authorization": f"Bearer {tok['token']}"}), 401)
        assert_problem(c.get(f"/api/inquiries/{doc['id']}/feed.atom", params={"token": "feed_x"}), 401)
        assert c.delete(f"/api/inquiries/{doc['id']}/feed-token", headers=h).status_code == 204
        assert_problem(c.get(f"/api/inquiries/{doc['id']}/feed.atom", params={"token": tok["token"]}), 401)
        # a token dies with the staff key that made it
        tok = c.post(f"/api/inquiries/{doc['id']}/feed-token", headers=h).json()
        assert (
            c.get(f"/api/inquiries/{doc['id']}/feed.atom", params={"token": tok["token"]}).status_code == 200
        )
        KeyStore(tmp_path).revoke("inquiry-reload")
        assert_problem(c.get(f"/api/inquiries/{doc['id']}/feed.atom", params={"token": tok["token"]}), 401)
    with sqlite3.connect(tmp_path / STATE_FILE) as con:
        stored = [r[0] for r in con.execute("SELECT token_hash FROM inquiry_feed_tokens")]
    assert stored and tok["token"] not in stored[0] and len(stored[0]) == 64


def _check_atom(raw: bytes, doc: dict, run: dict) -> None:
    root = ET.fromstring(raw)
    assert root.tag == f"{A}feed"
    for tag in ("id", "title", "updated", "author"):
        assert root.find(f"{A}{tag}") is not None, tag
    entries = root.findall(f"{A}entry")
    n = len(run["new"])
    assert n > 0 and len(entries) == 1
    e = entries[0]
    for tag in ("id", "title", "updated", "link", "content"):
        assert e.find(f"{A}{tag}") is not None, tag
    assert e.find(f"{A}title").text == f"{n} new site{'s' if n != 1 else ''} for {doc['name']}"
    content = e.find(f"{A}content").text
    assert all(f"sel={s['site_id']}" in content for s in run["new"])
    assert time.strptime(e.find(f"{A}updated").text, "%Y-%m-%dT%H:%M:%SZ")


WRITER = textwrap.dedent(
    """
    import sys
    from layers.inquiries import InquiryStore
    from layers.inquiry_criteria import clean_criteria
    from layers.statedb import StateDB
    store = InquiryStore(StateDB(sys.argv[1]))
    c = clean_criteria({"profile": "balanced", "top_n": 10})
    i = 0
    while True:
        inq = store.create(f"kill {i:06d}", f"note {i}", c, "writer")
        print("DONE", i, inq.id, flush=True)  # only after the commit returned
        i += 1
    """
)


def test_a_killed_writer_loses_no_committed_inquiry(tmp_path):
    proc = writer(WRITER, tmp_path)
    assert proc.stdout is not None
    done: dict[int, str] = {}
    deadline = time.monotonic() + 60
    while len(done) < 150 and time.monotonic() < deadline:
        _, i, inquiry_id = proc.stdout.readline().split()
        done[int(i)] = inquiry_id
    time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    rest = proc.stdout.read().splitlines()
    proc.wait()
    for line in rest:
        parts = line.split()
        if len(parts) == 3:
            done[int(parts[1])] = parts[2]
    assert len(done) >= 150
    with sqlite3.connect(tmp_path / STATE_FILE) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = InquiryStore(StateDB(tmp_path))
    for i, inquiry_id in done.items():
        got = store.get(inquiry_id)
        assert (got.name, got.note) == (f"kill {i:06d}", f"note {i}")


def test_the_criteria_are_checked_by_the_ranking_query(svc):
    c = clean_criteria({"profile": "balanced", "weights": {"area": 1}, "min_score": 10})
    assert c.query.effective_weights()["area"] == 1.0
    assert np.isfinite(svc.scorer.run(c.query).score).any()


def test_the_command_line_re_runs_and_lists_the_inquiries(tmp_path, svc, capsys):
    from api.cli import main

    store = InquiryStore(StateDB(tmp_path))
    c = clean_criteria({"profile": "balanced", "top_n": 5})
    inquiry = store.create("Logistik Nord", "vertraulich", c, "test", store.baseline(c, target_of(svc)))
    with sqlite3.connect(tmp_path / STATE_FILE) as con:  # as if the baseline were on an older snapshot
        con.execute("UPDATE inquiry_runs SET snapshot = 'older'")
    src = svc.snap.path.parent.parent
    (tmp_path / "snapshots").symlink_to(src / "snapshots")
    (tmp_path / "CURRENT").write_text(svc.snap.id)
    assert main(["inquiries", "run", "--data", str(tmp_path)]) == 0
    assert "1 of 1 inquiries recorded" in capsys.readouterr().out
    assert main(["inquiries", "run", "--data", str(tmp_path)]) == 0
    assert "0 of 0 inquiries recorded" in capsys.readouterr().out
    runs = store.runs(inquiry.id)
    assert [r["snapshot"] for r in runs] == [svc.snap.id, "older"] and runs[0]["new"] == []
    assert main(["inquiries", "list", "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert inquiry.id in out and "Logistik Nord" in out and "vertraulich" not in out
