"""Shared fixtures: paths to the committed fixtures and to the real files in ../shared."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
SHARED_RAW = Path(os.environ.get("NRW_SITES_SHARED", ROOT.parent / "shared")) / "data" / "raw"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    """The folder of small committed fixtures (see tests/fixtures/README.md)."""
    return FIXTURES


@pytest.fixture(scope="session")
def shared_raw() -> Path:
    """../shared/data/raw; realdata tests skip with a reason when it is absent (fail in CI)."""
    if not SHARED_RAW.is_dir():
        if os.environ.get("NRW_SITES_REQUIRE_REALDATA"):
            pytest.fail(f"real data required but not found at {SHARED_RAW}")
        pytest.skip(f"real data not found at {SHARED_RAW} (set NRW_SITES_SHARED)")
    return SHARED_RAW


def need_client(available: bool, reason: str) -> None:
    """Skip a test of a real GIS client (GDAL's tools, QGIS) that is not installed, with the reason;
    fail instead where NRW_SITES_REQUIRE_CLIENTS is set (.ci/run installs them).
    """
    if available:
        return
    if os.environ.get("NRW_SITES_REQUIRE_CLIENTS"):
        pytest.fail(f"{reason}, and NRW_SITES_REQUIRE_CLIENTS is set")
    pytest.skip(reason)
