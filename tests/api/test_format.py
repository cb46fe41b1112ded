"""Snapshot formats across releases (issue 23, upgrades): a snapshot written by the previous
release (format 1, a pruned fixture built by release 0.1.0) loads and serves, its criteria without
data reported as such; a snapshot in a format this release does not know is refused at start, at
rollback and at load with what to do; new snapshots carry their format.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import cli
from api.main import create_app
from api.settings import Settings
from layers.errors import IncompatibleSnapshot
from layers.store import SNAPSHOT_FORMAT, Store

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "snapshot_v1"
NEW_CRITERIA = ("workforce", "grid", "renewables", "waste_heat", "protected", "floodplain")


@pytest.fixture
def old(tmp_path) -> Path:
    root = tmp_path / "data"
    shutil.copytree(FIXTURE, root)
    return root


def test_a_snapshot_of_the_previous_release_loads_and_serves(old):
    store = Store(old)
    manifest = store.verify()  # every file matches its checksum
    assert "format_version" not in manifest and manifest["code_version"] == "0.1.0"
    with TestClient(create_app(Settings(data=old))) as c:
        assert c.get("/healthz").json()["status"] == "ok"
        ranking = c.get("/api/ranking", params={"limit": 100}).json()
        assert ranking["numberMatched"] + sum(ranking["excluded"].values()) == 34
        first = ranking["items"][0]
        for name in NEW_CRITERIA:  # the criteria this release added: no data, never zero
            assert first["breakdown"][name]["missing"] is True, name
        assert c.get("/api/collections/sites/items").json()["numberMatched"] == 34
        assert c.get("/api/sites/table").status_code == 200


def _bump(root: Path, fmt: object) -> str:
    sid = (root / "CURRENT").read_text().strip()
    path = root / "snapshots" / sid / "manifest.json"
    m = json.loads(path.read_text())
    m["format_version"] = fmt
    path.write_text(json.dumps(m))
    return sid


@pytest.mark.parametrize("fmt", [SNAPSHOT_FORMAT + 1, "2", None])
def test_a_format_this_release_does_not_read_is_refused_with_what_to_do(old, fmt, capsys):
    sid = _bump(old, fmt)
    with pytest.raises(
        IncompatibleSnapshot, match=rf"snapshot {sid} .* has format .*this release reads formats 1 to"
    ):
        Store(old).load()
    assert cli.main(["serve", "--data", str(old), "--port", "1"]) == 1  # refused before it binds
    err = capsys.readouterr().err
    assert "rollback" in err and "format" in err
    assert cli.main(["rollback", sid, "--data", str(old)]) == 1


def test_new_snapshots_carry_their_format(data_dir):
    assert Store(data_dir).manifest()["format_version"] == SNAPSHOT_FORMAT
