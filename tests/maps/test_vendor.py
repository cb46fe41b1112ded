"""The vendored front-end packages are exactly the files listed in maps/static/vendor/README.md.

Every file under ``maps/static/vendor/`` has its sha256 in the README's list, every listed file exists
with that hash, and every package directory carries a licence file.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

VENDOR = Path(__file__).resolve().parents[2] / "maps" / "static" / "vendor"
LINE = re.compile(r"^([0-9a-f]{64})  (\S+)$")


def listed() -> dict[str, str]:
    """``path -> sha256`` from the README's sha256 block."""
    out: dict[str, str] = {}
    for line in (VENDOR / "README.md").read_text(encoding="utf-8").splitlines():
        m = LINE.match(line)
        if m:
            assert m.group(2) not in out, f"{m.group(2)} listed twice"
            out[m.group(2)] = m.group(1)
    return out


def on_disk() -> list[str]:
    return sorted(
        p.relative_to(VENDOR).as_posix() for p in VENDOR.rglob("*") if p.is_file() and p.name != "README.md"
    )


def test_every_vendored_file_is_listed_and_every_listed_file_exists() -> None:
    assert set(on_disk()) == set(listed())


@pytest.mark.parametrize("path", on_disk())
def test_vendored_file_matches_its_sha256(path: str) -> None:
    digest = hashlib.sha256((VENDOR / path).read_bytes()).hexdigest()
    assert digest == listed().get(path), f"{path} differs from the hash in vendor/README.md"


@pytest.mark.parametrize("package", sorted(p.name for p in VENDOR.iterdir() if p.is_dir()))
def test_every_package_has_a_licence_and_a_row(package: str) -> None:
    names = [p.name.upper() for p in (VENDOR / package).iterdir() if p.is_file()]
    assert any(n.startswith(("LICENSE", "LICENCE")) for n in names), f"{package} has no licence"
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    assert f"`{package}/LICENSE" in readme, f"{package} has no row with its licence in the README"


def test_no_source_maps_or_dev_builds() -> None:
    assert not [p for p in on_disk() if p.endswith(".map") or "-dev." in p]
