"""Shared shortlists of staff (issue 18 §2): the API, conflicts, the store's migrations and a
kill test (a committed change survives SIGKILL).
"""

from __future__ import annotations

import signal
import sqlite3
import textwrap
import time

import pytest
from fastapi.testclient import TestClient

from geo.errors import DomainError
from layers.keys import KeyStore
from layers.shortlists import ShortlistStore
from layers.statedb import MIGRATIONS, STATE_FILE, StateDB
from tests.api.conftest import assert_problem, writer


@pytest.fixture(scope="module")
def staff(data_dir) -> dict[str, str]:
    store = KeyStore(data_dir)
    return {
        "ana": {"Authorization": f"Bearer {store.add('shortlist-ana', 'staff')}"},
        "ben": {"Authorization": f"Bearer {store.add('shortlist-ben', 'staff')}"},
    }


@pytest.fixture(scope="module")
def site_ids(svc) -> list[str]:
    return [str(s) for s in svc.scorer.site_id[:4]]


def test_the_public_has_no_shared_shortlists(client):
    assert_problem(client.get("/api/shortlists"), 401)
    assert_problem(client.post("/api/shortlists", json={"name": "x"}), 401)


def test_staff_share_a_list_with_notes(client, staff, site_ids):
    ana, ben = staff["ana"], staff["ben"]
    r = client.post("/api/shortlists", json={"name": "  Elektrolyseur   Q1/2027 "}, headers=ana)
    assert r.status_code == 201 and r.headers["cache-control"] == "no-store"
    lst = r.json()
    assert lst["name"] == "Elektrolyseur Q1/2027" and lst["created_by"] == "shortlist-ana"
    url = f"/api/shortlists/{lst['id']}"
    client.put(f"{url}/sites/{site_ids[0]}", json={"note": "Eigentümer angefragt"}, headers=ana)
    client.put(f"{url}/sites/{site_ids[1]}", headers=ben)
    r = client.put(f"{url}/sites/{site_ids[2]}", json={"note": "Zufahrt\nprüfen"}, headers=ben)
    assert r.status_code == 200
    # Ben sees Ana's note; Ana sees Ben's sites, in the order they were added
    got = client.get(url, headers=ana).json()
    assert [s["site_id"] for s in got["sites"]] == site_ids[:3]
    assert [s["note"] for s in got["sites"]] == ["Eigentümer angefragt", "", "Zufahrt\nprüfen"]
    assert [s["added_by"] for s in got["sites"]] == ["shortlist-ana", "shortlist-ben", "shortlist-ben"]
    assert all(s["present"] for s in got["sites"]) and got["count"] == 3 and got["version"] == 4
    # a note changes in place (the site keeps its position); putting it again without a note keeps it
    client.put(f"{url}/sites/{site_ids[0]}", json={"note": "Preis 45 €/m²"}, headers=ben)
    client.put(f"{url}/sites/{site_ids[0]}", headers=ana)
    got = client.get(url, headers=ben).json()
    assert got["sites"][0]["note"] == "Preis 45 €/m²" and got["sites"][0]["updated_by"] == "shortlist-ben"
    assert [s["site_id"] for s in got["sites"]] == site_ids[:3]
    listing = client.get("/api/shortlists", headers=ben).json()["shortlists"]
    assert (listing[0]["id"], listing[0]["count"], listing[0]["updated_by"]) == (
        lst["id"],
        3,
        "shortlist-ana",
    )
    assert "sites" not in listing[0]
    # take one off, rename, and delete
    r = client.delete(f"{url}/sites/{site_ids[1]}", headers=ana)
    assert [s["site_id"] for s in r.json()["sites"]] == [site_ids[0], site_ids[2]]
    assert_problem(client.delete(f"{url}/sites/{site_ids[1]}", headers=ana), 404)
    r = client.patch(url, json={"name": "Elektrolyseur 2027"}, headers=ben)
    assert r.json()["name"] == "Elektrolyseur 2027"
    assert client.delete(url, headers=ana).status_code == 204
    assert_problem(client.get(url, headers=ana), 404)


def test_a_stale_version_is_a_conflict_not_an_overwrite(client, staff):
    ana, ben = staff["ana"], staff["ben"]
    lst = client.post("/api/shortlists", json={"name": "Logistik"}, headers=ana).json()
    url = f"/api/shortlists/{lst['id']}"
    assert (
        client.patch(url, json={"name": "Logistik Nord", "version": lst["version"]}, headers=ben).status_code
        == 200
    )
    body = assert_problem(
        client.patch(url, json={"name": "Logistik Süd", "version": lst["version"]}, headers=ana), 409
    )
    assert "reload" in body["detail"]
    assert_problem(client.delete(f"{url}?version={lst['version']}", headers=ana), 409)
    assert client.get(url, headers=ana).json()["name"] == "Logistik Nord"


def test_bad_input_is_refused_clearly(client, staff, site_ids):
    ana = staff["ana"]
    lst = client.post("/api/shortlists", json={"name": "Prüfung"}, headers=ana).json()
    url = f"/api/shortlists/{lst['id']}"
    assert_problem(client.post("/api/shortlists", json={"name": "   "}, headers=ana), 400)
    assert_problem(client.post("/api/shortlists", json={"name": "x" * 121}, headers=ana), 400)
    r = client.put(f"{url}/sites/<script>alert(1)</script>", headers=ana)
    assert_problem(r, 404)
    assert "<script>" not in r.text
    assert_problem(client.put(f"{url}/sites/{site_ids[0]}", json={"note": "a\x00b"}, headers=ana), 400)
    assert_problem(client.put(f"{url}/sites/{site_ids[0]}", json={"note": "x" * 4001}, headers=ana), 400)
    assert_problem(client.get("/api/shortlists/../../etc", headers=ana), 404)
    assert_problem(client.get("/api/shortlists/zzzzzzzzzzzz", headers=ana), 404)


def test_a_signed_in_change_needs_the_csrf_token(client, data_dir):
    key = KeyStore(data_dir).add("shortlist-browser", "staff")
    browser = TestClient(client.app)
    csrf = browser.post("/api/session", json={"key": key}).json()["csrf"]
    assert_problem(browser.post("/api/shortlists", json={"name": "ohne Token"}), 403)
    r = browser.post("/api/shortlists", json={"name": "mit Token"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201 and r.json()["created_by"] == "shortlist-browser"
    assert browser.get("/api/shortlists").status_code == 200  # reading needs no token


def test_migrations_bring_an_old_state_file_up_to_date_and_refuse_a_newer_one(tmp_path):
    path = tmp_path / STATE_FILE
    con = sqlite3.connect(path)
    con.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    con.execute("INSERT INTO sessions VALUES ('h', 'k', 'n', 'staff', 'c', 1, 1)")
    con.commit()
    con.close()
    store = ShortlistStore(StateDB(tmp_path))
    assert store.create("nach der Migration", "test").count == 0
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert con.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 1  # kept
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        con.execute("PRAGMA user_version = 99")
    with pytest.raises(DomainError, match="newer than this release"):
        ShortlistStore(StateDB(tmp_path)).list()


WRITER = textwrap.dedent(
    """
    import sys
    from layers.shortlists import ShortlistStore
    from layers.statedb import StateDB
    store = ShortlistStore(StateDB(sys.argv[1]))
    lst = store.create("kill test", "writer")
    print("LIST", lst.id, flush=True)
    i = 0
    while True:
        store.put_site(lst.id, f"site-{i:06d}", f"note {i}", "writer")
        print("DONE", i, flush=True)  # only after the commit returned
        i += 1
        if i % 400 == 0:
            lst = store.create(f"kill test {i}", "writer")
            print("LIST", lst.id, flush=True)
    """
)


def test_a_killed_writer_loses_no_committed_change(tmp_path):
    proc = writer(WRITER, tmp_path)
    assert proc.stdout is not None
    done, lists = -1, []
    deadline = time.monotonic() + 60
    while done < 150 and time.monotonic() < deadline:
        word, value = proc.stdout.readline().split()
        if word == "LIST":
            lists.append(value)
        else:
            done = int(value)
    time.sleep(0.05)  # let it be in the middle of further writes
    proc.send_signal(signal.SIGKILL)
    rest = proc.stdout.read().split()
    proc.wait()
    done = max([done, *(int(v) for w, v in zip(rest[::2], rest[1::2], strict=False) if w == "DONE")])
    assert done >= 150
    with sqlite3.connect(tmp_path / STATE_FILE) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = ShortlistStore(StateDB(tmp_path))
    notes = {e.site_id: e.note for lst in store.list() for e in store.get(lst.id).sites}
    missing = [i for i in range(done + 1) if notes.get(f"site-{i:06d}") != f"note {i}"]
    assert missing == []
