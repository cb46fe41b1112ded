"""The audit trail of personal data (issue 23): every answer that carries a confidential site
field to staff leaves a record (who, when, route, which sites); public answers and answers
without such fields leave none; the command line lists and filters it; old months are purged.
"""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from api import cli
from geo.access import CONFIDENTIAL_FIELDS
from layers.audit import AuditLog
from layers.keys import KeyStore
from layers.store import Store


@pytest.fixture(scope="module")
def staff(data_dir) -> dict[str, str]:
    return {"Authorization": f"Bearer {KeyStore(data_dir).add('audit-anna', 'staff')}"}


@pytest.fixture(scope="module")
def owned(data_dir) -> list[str]:
    """Sites with a confidential value (owner contact, asking price or notes), owner first."""
    sites = Store(data_dir).load().layers["sites"]
    has = sites[list(CONFIDENTIAL_FIELDS)].notna().any(axis=1)
    owner = sites["owner_contact"].notna()
    return sites.loc[has & owner, "site_id"].tolist() + sites.loc[has & ~owner, "site_id"].tolist()


def _now() -> int:
    """How many records there are (the audit write ends after the answer is sent: let it land)."""
    time.sleep(0.2)
    return len(list(AUDIT[0].records()))


def _new(client, before: int) -> list[dict]:
    time.sleep(0.2)
    return list(client.app.state.audit.records())[before:]


AUDIT: list[AuditLog] = []


@pytest.fixture(autouse=True)
def _log(client) -> None:
    AUDIT[:] = [client.app.state.audit]


def test_a_staff_read_of_an_owner_contact_is_recorded(client, staff, owned):
    t = _now()
    sid = owned[0]
    r = client.get(f"/api/collections/sites/items/{sid}?crs=EPSG:25832", headers=staff)
    assert r.status_code == 200 and r.json()["properties"]["owner_contact"]
    rec = _new(client, t)
    assert len(rec) == 1
    assert rec[0]["key"] == "audit-anna" and rec[0]["role"] == "staff" and rec[0]["method"] == "GET"
    assert rec[0]["route"] == "/api/collections/{cid}/items/{fid}" and rec[0]["sites"] == [sid]
    assert "EPSG" not in json.dumps(rec[0])  # the route, never the query string


@pytest.mark.parametrize(
    "path",
    ["/api/ranking?limit=50", "/api/collections/sites/items?limit=200", "/api/exports/nrw.csv"],
)
def test_every_route_that_carries_the_fields_names_the_sites_it_carried(client, staff, owned, path):
    t = _now()
    r = client.get(path, headers=staff)
    assert r.status_code == 200
    rec = _new(client, t)
    assert len(rec) == 1
    text = r.text
    shown = {s for s in owned if s in text}  # the owned sites this answer holds
    assert set(rec[0]["sites"]) == shown and rec[0]["count"] == len(shown) > 0


def test_the_public_and_answers_without_the_fields_leave_no_record(client, staff):
    t = _now()
    assert client.get("/api/ranking?limit=50").status_code == 200  # the public
    assert client.get("/api/profiles", headers=staff).status_code == 200  # staff, nothing personal
    assert client.get("/api/collections/municipalities/items?limit=5", headers=staff).status_code == 200
    assert _new(client, t) == []


def test_the_command_line_lists_and_filters_by_key(client, staff, owned, data_dir, capsys):
    client.get(f"/api/collections/sites/items/{owned[1]}", headers=staff)
    assert cli.main(["audit", "--data", str(data_dir), "--key", "audit-anna", "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines and all(x["key"] == "audit-anna" for x in lines)
    assert any(owned[1] in x["sites"] for x in lines)
    assert cli.main(["audit", "--data", str(data_dir), "--key", "nobody"]) == 0
    assert capsys.readouterr().out == ""
    assert cli.main(["audit", "--data", str(data_dir), "--since", "not a date"]) == 2


def test_the_audit_files_are_private_and_old_months_are_purged(tmp_path):
    log = AuditLog(tmp_path, retention_days=30)
    log.append({"key": "k", "sites": ["a"], "count": 1})
    files = list((tmp_path / "audit").glob("*.jsonl"))
    assert len(files) == 1 and files[0].stat().st_mode & 0o777 == 0o600
    old = tmp_path / "audit" / "2020-01.jsonl"
    old.write_text('{"time": "2020-01-05T00:00:00+00:00", "key": "k"}\n')
    recent = dt.datetime.now(dt.UTC) - dt.timedelta(days=20)
    keep = tmp_path / "audit" / f"{recent:%Y-%m}.jsonl"
    keep.touch()
    assert log.purge() == ["2020-01.jsonl"]
    assert keep.exists() and files[0].exists()


def test_a_kept_ranking_page_is_recorded_each_time_it_is_read(client, staff):
    before = _now()
    for _ in range(3):
        assert client.get("/api/ranking", headers=staff).status_code == 200  # the profile's own page
    rec = _new(client, before)
    assert len(rec) == 3 and rec[0]["sites"] == rec[2]["sites"] and rec[0]["count"] > 0
