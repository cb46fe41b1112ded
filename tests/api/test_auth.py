"""Roles and keys: `nrw-sites keys add|list|revoke`, hashed storage, bearer keys, 401 without reason."""

from __future__ import annotations

import json
import logging
import stat
import time

import pytest

from api.cli import main
from layers.keys import KeyStore
from tests.api.conftest import assert_problem


@pytest.fixture(scope="session")
def keys(data_dir) -> dict[str, str]:
    """A staff and an admin key in the test data directory (the app reads them on use)."""
    store = KeyStore(data_dir)
    return {"staff": store.add("test-staff", "staff"), "admin": store.add("test-admin", "admin")}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_keys_add_prints_the_key_once_and_stores_only_a_salted_hash(tmp_path, capsys):
    assert main(["keys", "add", "--role", "staff", "--name", "alice", "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    token = out[-1]
    assert token.startswith("nrw_") and len(token) > 40
    path = tmp_path / "keys.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert token not in text and token.split("_")[-1] not in text
    entry = json.loads(text)["keys"][0]
    assert {"name", "role", "key_id", "salt", "hash", "scrypt", "created"} <= entry.keys()
    assert entry["role"] == "staff" and entry["name"] == "alice"
    assert KeyStore(tmp_path).verify(token).role == "staff"
    # a second key with the same secret would still get another salt and hash
    main(["keys", "add", "--role", "admin", "--name", "bob", "--data", str(tmp_path)])
    entries = json.loads(path.read_text())["keys"]
    assert len({e["salt"] for e in entries}) == 2
    assert not list(tmp_path.glob(".keys.json.tmp-*"))


def test_keys_list_and_revoke(tmp_path, capsys):
    main(["keys", "add", "--role", "admin", "--name", "ops", "--data", str(tmp_path)])
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["keys", "list", "--data", str(tmp_path)]) == 0
    listing = capsys.readouterr().out
    assert "ops" in listing and "admin" in listing and token not in listing
    store = KeyStore(tmp_path)
    assert store.verify(token) is not None
    assert main(["keys", "revoke", "ops", "--data", str(tmp_path)]) == 0
    assert store.verify(token) is None  # the running store sees the change of keys.json
    assert main(["keys", "revoke", "ops", "--data", str(tmp_path)]) == 1
    with pytest.raises(SystemExit):
        main(["keys", "add", "--role", "root", "--name", "x", "--data", str(tmp_path)])


def test_duplicate_and_bad_names_are_refused(tmp_path):
    store = KeyStore(tmp_path)
    store.add("a", "staff")
    for name, role in (("a", "staff"), ("../x", "staff"), ("", "admin"), ("ok", "public")):
        with pytest.raises(Exception):  # noqa: B017 - DomainError subclasses
            store.add(name, role)


@pytest.mark.parametrize(
    "header",
    [
        "Bearer nrw_00000000_" + "a" * 43,  # unknown id
        "Bearer nrw_zzzz_short",  # malformed
        "Bearer ",  # empty
        "Basic dXNlcjpwYXNz",  # another scheme
        "Bearer " + "x" * 5000,  # very long
    ],
)
def test_a_wrong_key_is_401_without_a_reason(client, header):
    r = client.get("/api/ranking?limit=1", headers={"Authorization": header})
    body = assert_problem(r, 401)
    assert body["detail"] == "the credentials are not valid"
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert "nrw_" not in r.text and "dXNlcjpwYXNz" not in r.text


def test_a_tampered_key_is_401_like_an_unknown_one(client, keys):
    token = keys["staff"]
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    a = client.get("/api/profiles", headers=bearer(tampered))
    b = client.get("/api/profiles", headers=bearer("nrw_00000000_" + "a" * 43))
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()


def test_unknown_and_known_ids_cost_the_same(keys, data_dir):
    """An unknown key id still costs a scrypt: the time does not tell which ids exist."""
    store = KeyStore(data_dir)
    known = keys["staff"][:-3] + "zzz"  # a real id with a wrong secret

    def cost(token: str) -> float:
        t = time.perf_counter()
        store.verify(token)
        return time.perf_counter() - t

    unknown = "nrw_00000000_" + "a" * 43
    assert min(cost(unknown) for _ in range(3)) > 0.005  # scrypt ran
    assert cost(known) > 0.005


def test_roles_and_keys_reach_the_app(client, keys):
    for role in ("staff", "admin"):
        assert client.get("/api/ranking?limit=1", headers=bearer(keys[role])).status_code == 200
    assert client.get("/api/ranking?limit=1").status_code == 200  # the public


def test_revoked_key_is_refused_by_the_running_app(client, data_dir):
    store = KeyStore(data_dir)
    token = store.add("short-lived", "staff")
    assert client.get("/api/profiles", headers=bearer(token)).status_code == 200
    store.revoke("short-lived")
    assert_problem(client.get("/api/profiles", headers=bearer(token)), 401)


def test_keys_are_never_logged(client, keys, caplog):
    with caplog.at_level(logging.DEBUG):
        client.get("/api/ranking?limit=1", headers=bearer(keys["staff"]))
        client.get("/api/ranking?limit=1", headers=bearer("nrw_00000000_" + "b" * 43))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert keys["staff"] not in text and "b" * 43 not in text
    assert keys["staff"].split("_", 2)[2] not in text  # the secret (it may itself hold "_")
