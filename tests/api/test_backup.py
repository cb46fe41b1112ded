"""Backup and restore (issue 23): a backup taken while the server runs and staff write restores
into an empty directory that serves exactly what was served before; damaged, hostile or
incomplete archives and non-empty targets are refused, and nothing half-restored looks live.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import cli
from api.main import create_app
from api.settings import Settings
from geo.errors import InvalidParameter
from layers.audit import AuditLog
from layers.backup import INDEX, backup, restore
from layers.keys import KeyStore
from layers.shortlists import ShortlistStore
from layers.statedb import StateDB

ANSWERS = (
    "/api/collections/sites/items?limit=1000",
    "/api/ranking?limit=300&profile=hydrogen",
    "/api/sites/table",
    "/api/exports/nrw.csv",
)


@pytest.fixture(scope="module")
def taken(client, data_dir, tmp_path_factory) -> dict:
    """A backup of the API's data directory taken while a thread keeps writing shortlists."""
    key = KeyStore(data_dir).add("backup-staff", "staff")
    AuditLog(data_dir).append({"key": "backup-staff", "route": "/api/ranking", "sites": ["x"], "count": 1})
    lists = ShortlistStore(StateDB(data_dir))
    lst = lists.create("Backup", "test")
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            lists.put_site(lst.id, f"x-{i}", f"note {i}", "test")
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    out = tmp_path_factory.mktemp("backup") / "nrw.tar"
    try:
        assert cli.main(["backup", "--data", str(data_dir), "--out", str(out)]) == 0
    finally:
        stop.set()
        t.join()
    auth = {"Authorization": f"Bearer {key}"}
    before = {p: client.get(p, headers=auth).content for p in ANSWERS}
    return {"archive": out, "key": key, "auth": auth, "before": before, "list": lst.id}


def _timeless(body: bytes) -> bytes:
    """The answer without the moment it was made (OGC timeStamp, the CSV's generated column)."""
    body = re.sub(rb'"timeStamp":"[^"]+"', b"", body)
    return re.sub(rb";20\d\d-\d\d-\d\dT[0-9:]+\+00:00;", b";", body)


def test_a_restored_directory_serves_exactly_what_was_served(taken, tmp_path):
    target = tmp_path / "restored"
    assert cli.main(["restore", str(taken["archive"]), "--data", str(target)]) == 0
    with TestClient(create_app(Settings(data=target))) as restored:
        for path, body in taken["before"].items():
            got = restored.get(path, headers=taken["auth"])
            assert got.status_code == 200
            assert _timeless(got.content) == _timeless(body), path
    assert KeyStore(target).verify(taken["key"]).name == "backup-staff"  # the key still works
    assert any(r["key"] == "backup-staff" for r in AuditLog(target).records())  # the audit trail too
    assert (target / "keys.json").stat().st_mode & 0o777 == 0o600
    restored_list = ShortlistStore(StateDB(target)).get(taken["list"])
    notes = {e.site_id: e.note for e in restored_list.sites}
    assert notes and all(notes[f"x-{i}"] == f"note {i}" for i in range(len(notes)))  # a prefix, consistent


def test_restore_refuses_a_directory_that_is_not_empty(taken, tmp_path):
    (tmp_path / "something").write_text("x")
    with pytest.raises(InvalidParameter, match="not empty"):
        restore(taken["archive"], tmp_path)


def _rewrite(src: Path, dst: Path, change) -> None:
    with tarfile.open(src) as a, tarfile.open(dst, "w") as b:
        for m in a:
            data = a.extractfile(m).read()
            m, data = change(m, data)
            if m is not None:
                m.size = len(data)
                b.addfile(m, io.BytesIO(data))


@pytest.mark.parametrize(
    ("what", "message"),
    [
        ("flip", "does not match its checksum"),
        ("drop", "incomplete"),
        ("escape", "does not list"),
        ("index", "not an nrw-sites backup"),
    ],
)
def test_damaged_or_hostile_archives_are_refused_and_leave_nothing_live(taken, tmp_path, what, message):
    first = {}

    def change(m, data):
        if m.name == INDEX:
            return (None, b"") if what == "index" else (m, data)
        if not first:
            first[m.name] = True
            if what == "flip":
                return m, bytes([data[0] ^ 1]) + data[1:]
            if what == "drop":
                return None, b""
            if what == "escape":
                m.name = "../../outside"
        return m, data

    bad = tmp_path / "bad.tar"
    _rewrite(taken["archive"], bad, change)
    target = tmp_path / "target"
    with pytest.raises(InvalidParameter, match=message):
        restore(bad, target)
    assert not (target / "CURRENT").exists()
    assert not (tmp_path / "outside").exists()
    assert cli.main(["restore", str(bad), "--data", str(tmp_path / "t2")]) == 1


def test_the_index_lists_every_file_with_its_checksum(taken):
    with tarfile.open(taken["archive"]) as t:
        index = json.loads(t.extractfile(INDEX).read())
        names = {m.name for m in t if m.name != INDEX}
    assert set(index["files"]) == names
    assert {"keys.json", "state.sqlite"} <= names and index["current"] in index["snapshots"]


def test_a_failed_backup_leaves_no_archive(tmp_path):
    with pytest.raises(InvalidParameter, match="nothing to back up"):
        backup(tmp_path / "empty", tmp_path / "x.tar")
    assert not list(tmp_path.glob("*.tar*")) and not list(tmp_path.glob(".x.tar*"))
