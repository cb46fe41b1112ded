"""Browser fixtures: a demo snapshot (2,000 sites, seed 42), a real uvicorn, Debian chromium.

Every test here is marked ``browser``. They skip with a reason when chromium or playwright is
missing, unless CI (or NRW_SITES_REQUIRE_BROWSER) is set: then they fail. They skip while
``maps/static/index.html`` does not exist (the UI not built yet), in CI too.

The ``ui`` fixture gives a fresh browser context per test (viewport 1366×768) and records console
errors, page errors and every request URL; a test fails when any request left 127.0.0.1 or the
page logged an error. A screenshot of the page at the end of every test goes to
``tests/browser/artifacts/<test>.png``.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.harness import (
    ARTIFACTS,
    CONSOLE_DETAIL_JS,
    INDEX,
    READY_JS,
    VIEWPORT,
    PageLog,
    browser_required,
    chromium_path,
    launch,
    live_server,
)
from tests.conftest import DemoCache

N_SITES = 2000
SEED = 42
READY_TIMEOUT_MS = 30_000


def _unavailable(reason: str) -> None:
    if browser_required():
        pytest.fail(f"browser tests are required (CI is set) but {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/browser with ``browser``."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def ui_built() -> None:
    """Skip (in CI too) while the web UI does not exist yet."""
    if not INDEX.exists():
        pytest.skip("maps/static/index.html not built yet")


@pytest.fixture(scope="package")
def playwright_api(ui_built: None) -> Iterator[Any]:
    """The playwright sync API, started once for tests/browser and stopped after its last test:
    its event loop runs in the main thread while it is started, and ``asyncio.run`` in any test
    after it (tests/api/test_traffic.py, which `make test` may give the same worker) would fail
    with "cannot be called from a running event loop"."""
    exe = chromium_path()
    if exe is None:
        _unavailable("chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright_api: Any) -> Iterator[Any]:
    """Headless Debian chromium with SwiftShader WebGL (fresh temporary profile)."""
    b = launch(playwright_api)
    yield b
    b.close()


@pytest.fixture(scope="session")
def bt_data(ui_built: None, demo_cache: DemoCache) -> Iterator[Path]:
    """A data directory with one demo snapshot: 2,000 sites, seed 42 (this session's copy of
    the run's one build: each xdist worker serves its own)."""
    root = demo_cache.copy(Path(tempfile.mkdtemp(prefix="bt-data-")), N_SITES, SEED)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def server(bt_data: Path) -> Iterator[str]:
    """The base URL of a live ``nrw-sites serve`` on the demo snapshot (log in artifacts/)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with live_server(bt_data, log=ARTIFACTS / f"server{_worker_suffix()}.log") as url:
        yield url


@pytest.fixture(scope="session")
def api(server: str) -> Iterator[httpx.Client]:
    """An HTTP client on the live server (the reference the page is compared with)."""
    with httpx.Client(base_url=server, timeout=60) as c:
        yield c


@pytest.fixture(scope="session")
def profiles(api: httpx.Client) -> dict[str, Any]:
    """``/api/profiles``."""
    r = api.get("/api/profiles")
    r.raise_for_status()
    return r.json()


def _worker_suffix() -> str:
    """``-gw0``, ``-gw1``, … under pytest-xdist (each worker runs its own server), else ``""``."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"-{worker}" if worker else ""


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:120]


class UI:
    """One browser context and page on the live server, with its log and helpers."""

    def __init__(self, browser: Any, base: str, name: str, **context: Any):
        self.base = base
        self.name = name
        self.log = PageLog()
        opts = {
            "viewport": VIEWPORT,
            "base_url": base,
            "accept_downloads": True,
            "locale": "de-DE",
            "timezone_id": "Europe/Berlin",
            **context,
        }
        self.context = browser.new_context(**opts)
        self.context.add_init_script(CONSOLE_DETAIL_JS)
        self.log.attach(self.context)
        self.page = self.context.new_page()
        self.shots = 0

    # -- navigation ------------------------------------------------------------------------
    def goto(self, path: str = "/", wait: bool = True) -> Any:
        """Open ``path`` on the server and (by default) wait for ``data-ready``."""
        self.page.goto(path if path.startswith("http") else self.base + path)
        if wait:
            self.wait_ready()
        return self.page

    def wait_ready(self, page: Any = None, timeout: int = READY_TIMEOUT_MS) -> None:
        """Wait for ``<html data-ready="true">`` (sites drawn, map idle); say why on timeout."""
        p = page or self.page
        try:
            p.wait_for_function(READY_JS, timeout=timeout)
        except Exception as e:  # noqa: BLE001 - playwright's TimeoutError, re-raised with the log
            if "Timeout" not in type(e).__name__:
                raise
            try:
                p.screenshot(path=str(self.artefact("not-ready.png")))
            except Exception:  # noqa: BLE001
                pass
            lines = self.log.problems() + [f"failed request: {f}" for f in self.log.failed]
            lines += [f"console.error detail: {d}" for d in self.console_details()[:10]]
            raise AssertionError(
                f"<html data-ready> not 'true' after {timeout / 1000:.0f} s at {p.url} "
                f"(screenshot {self.artefact('not-ready.png').name}); page log:\n  "
                + ("\n  ".join(lines[:30]) or "(no errors)")
            ) from None

    def settle(self, page: Any = None, timeout: int = READY_TIMEOUT_MS) -> None:
        """Wait for two animation frames and then for ``data-ready`` again."""
        p = page or self.page
        p.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        self.wait_ready(p, timeout)

    # -- artefacts ---------------------------------------------------------------------------
    def screenshot(self, suffix: str = "", page: Any = None, **kw: Any) -> bytes:
        """Save a screenshot as ``artifacts/<test>[-suffix].png`` and return the PNG bytes."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = _slug(self.name + (f"-{suffix}" if suffix else ""))
        return (page or self.page).screenshot(path=str(ARTIFACTS / f"{name}.png"), **kw)

    def artefact(self, suffix: str) -> Path:
        """A path in artifacts/ named after the test."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        return ARTIFACTS / _slug(f"{self.name}-{suffix}")

    def console_details(self) -> list[str]:
        """Message and stack of every console.error call in the open pages (see harness)."""
        out: list[str] = []
        for p in self.context.pages:
            try:
                out += [f"{p.url}: {m}" for m in p.evaluate("() => window.__btConsoleErrors || []")]
            except Exception:  # noqa: BLE001 - a closed or navigating page has none to give
                pass
        return out

    def close(self) -> None:
        """Close the context (pages, downloads)."""
        self.context.close()


@pytest.fixture()
def ui(browser: Any, server: str, request: pytest.FixtureRequest) -> Iterator[UI]:
    """A fresh context and page; screenshot at the end; fails on errors or off-host requests."""
    u = UI(browser, server, request.node.name)
    request.node._bt_ui = u  # read by pytest_runtest_call below
    yield u
    try:
        if not u.page.is_closed():
            u.screenshot()
    except Exception:  # noqa: BLE001 - an artefact must not hide the test's own result
        pass
    u.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """After a page test's body: fail it for off-host requests, console or page errors."""
    res = yield
    u = getattr(item, "_bt_ui", None)
    if u is not None:
        problems = u.log.problems()
        if problems:
            details = u.console_details() if u.log.console_errors else []
            lines = problems[:30] + [f"console.error detail: {d}" for d in details[:10]]
            lines += [f"failed request: {f}" for f in u.log.failed[:10]]
            raise AssertionError("the page was not clean:\n  " + "\n  ".join(lines))
    return res
