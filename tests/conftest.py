"""Shared fixtures: paths to the committed fixtures and to the real files in ../shared."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

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


# -- the order the files run in, and how `make test` (pytest-xdist) splits them --------------------
# The slowest folders first, the many quick files of tests/geo last: under `make test` the two
# workers take the files in this order (--no-loadscope-reorder), so the last ones are short and
# neither worker waits long for the other at the end.
ORDER = ("browser", "api", "layers", "", "maps", "geo")  # "": the files directly in tests/


def _rank(item: pytest.Item) -> int:
    try:
        parts = Path(str(item.path)).resolve().relative_to(ROOT / "tests").parts
    except ValueError:
        return len(ORDER)
    folder = parts[0] if len(parts) > 1 else ""
    return ORDER.index(folder) if folder in ORDER else len(ORDER)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the folders in ``ORDER`` (a stable sort: the files and tests inside keep theirs)."""
    items.sort(key=_rank)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under ``--dist loadfile``: each file to one worker, except that all of tests/browser goes
    to one worker as one unit (one chromium, one live server, one copy of the 2,000-site demo;
    two browsers at once would also slow each other on two cores). Other modes: xdist's own."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class BrowserTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith("tests/browser/"):
                return "tests/browser"
            return str(super()._split_scope(nodeid))

    return BrowserTogether(config, log)


def need_client(available: bool, reason: str) -> None:
    """Skip a test of a real GIS client (GDAL's tools, QGIS) that is not installed, with the reason;
    fail instead where NRW_SITES_REQUIRE_CLIENTS is set (.ci/run installs them).
    """
    if available:
        return
    if os.environ.get("NRW_SITES_REQUIRE_CLIENTS"):
        pytest.fail(f"{reason}, and NRW_SITES_REQUIRE_CLIENTS is set")
    pytest.skip(reason)


# -- one demo build per parameters per run, shared by every test (and every xdist worker) ---------
class DemoCache:
    """Published demo snapshots built once per ``(n_sites, seed)`` and copied for each user.

    A demo build takes 10–30 s (most of it the map tiles), and the same ``build(n_sites=300,
    seed=1)`` used to run in five modules. The first fixture that asks builds it into a folder
    shared by the whole run (the parent of the xdist workers' temporary folders), under an
    exclusive ``flock`` so that two workers never build the same one; every user gets its own
    ``shutil.copytree`` of it, so a test may add keys, audit lines or snapshots to its copy.
    """

    def __init__(self, root: Path):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def template(self, n_sites: int, seed: int, history: bool = False) -> Path:
        """The built data directory (never hand it to a test: copy it). With ``history`` it is
        ``build_demo_history``'s: the demo published twice, a year apart."""
        import fcntl

        from layers.build import build, build_demo_history
        from layers.store import Store

        name = f"demo-{n_sites}-{seed}" + ("-history" if history else "")
        done = self.root / name
        with open(self.root / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not done.is_dir():
                staging = self.root / f".staging-{name}-{os.getpid()}"
                shutil.rmtree(staging, ignore_errors=True)
                if history:
                    build_demo_history(Store(staging), n_sites=n_sites, seed=seed)
                else:
                    build(Store(staging), n_sites=n_sites, seed=seed)
                staging.rename(done)
        return done

    def copy(self, dest: Path, n_sites: int, seed: int, history: bool = False) -> Path:
        """A private copy of the demo data directory at ``dest`` (missing or empty)."""
        template = self.template(n_sites, seed, history)
        shutil.copytree(template, dest, symlinks=True, dirs_exist_ok=True)
        return dest


@pytest.fixture(scope="session")
def demo_cache(tmp_path_factory: pytest.TempPathFactory) -> DemoCache:
    """The run's :class:`DemoCache` (one folder for all xdist workers of this run)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # pytest-N/popen-gwK → pytest-N, shared by the workers of this run
    return DemoCache(base / "demo-cache")
