"""A read-only data directory (issue 23): the server still starts and serves the live snapshot;
publishing, keys, sign-in and shortlists fail with a clear message (503, the command line's
error), never a 500. Needs a tmpfs it can remount read-only (root with CAP_SYS_ADMIN, as in CI);
skips with the reason otherwise.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api import cli
from layers.keys import KeyStore
from tests.api.conftest import serving


@pytest.fixture
def read_only(data_dir, tmp_path) -> Iterator[tuple[Path, str]]:
    mnt = tmp_path / "ro"
    mnt.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256m", "tmpfs", str(mnt)], capture_output=True
    ).returncode:
        pytest.skip(
            "cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN) to make a read-only data directory"
        )
    try:
        data = mnt / "data"
        shutil.copytree(
            data_dir, data, ignore=shutil.ignore_patterns(".lock", "*.lock", "state.sqlite*", "audit")
        )
        key = KeyStore(data).add("read-only-staff", "staff")
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        with pytest.raises(OSError):
            (data / "probe").write_text("x")
        yield data, key
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_read_only_data_directory_is_served_and_changes_fail_clearly(read_only, capsys):
    data, key = read_only
    with serving(data) as (_proc, port):
        base = f"http://127.0.0.1:{port}"
        auth = {"Authorization": f"Bearer {key}"}
        assert httpx.get(f"{base}/healthz").status_code == 200
        assert httpx.get(f"{base}/api/ranking?limit=3").status_code == 200
        assert httpx.get(f"{base}/api/ranking?limit=3", headers=auth).status_code == 200  # keys are read
        for r in (
            httpx.post(f"{base}/api/session", json={"key": key}),
            httpx.post(f"{base}/api/shortlists", json={"name": "x"}, headers=auth),
            httpx.get(f"{base}/api/shortlists", headers=auth),
        ):
            assert r.status_code == 503, r.text
            assert "not writable" in r.json()["detail"] or "read-only" in r.json()["detail"]
    assert cli.main(["keys", "add", "--role", "staff", "--name", "another", "--data", str(data)]) == 1
    assert "Read-only file system" in capsys.readouterr().err
    assert cli.main(["build", "--demo", "--sites", "20", "--data", str(data)]) == 1
    err = capsys.readouterr().err
    assert "Read-only file system" in err and "previous snapshot is still live" in err
