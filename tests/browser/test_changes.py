"""The "Changes" view and the staff's "Anfragen" dialog (issue 19) on a demo told twice a year
apart (``build_demo_history``, 300 sites): counts equal ``/api/changes``, the overlay holds
one point per added and removed site, a list entry selects its site; staff save an inquiry from
the page's state, open it (the state comes back) and delete it; the public has no such dialog.
Screenshots go to /tmp/ui19-*.png (DE and EN, 1366×768; the phone layout 390×844).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from layers.keys import KeyStore
from tests.browser.conftest import UI, _worker_suffix
from tests.browser.harness import ARTIFACTS, live_server
from tests.conftest import DemoCache

N_SITES = 300
SEED = 42
OVERLAY = "() => window.nrwSites.map.getSource('changes')?.serialize().data.features.length ?? -1"


@pytest.fixture(scope="module")
def hist_data(ui_built: None, demo_cache: DemoCache) -> Iterator[Path]:
    """A data directory with two demo snapshots a year apart (the later one live): a copy of
    the run's one such build, which test_reserves.py shares."""
    root = demo_cache.copy(Path(tempfile.mkdtemp(prefix="bt-hist-")), N_SITES, SEED, history=True)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def hist_server(hist_data: Path) -> Iterator[str]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with live_server(hist_data, log=ARTIFACTS / f"server-hist{_worker_suffix()}.log") as url:
        yield url


@pytest.fixture(scope="module")
def hist_api(hist_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hist_server, timeout=60) as c:
        yield c


@pytest.fixture()
def hui(browser: Any, hist_server: str, request: pytest.FixtureRequest) -> Iterator[UI]:
    """A fresh page on the two-snapshot server (fails on page errors like ``ui``)."""
    u = UI(browser, hist_server, request.node.name)
    request.node._bt_ui = u
    yield u
    u.close()


@pytest.fixture(scope="module")
def staff_key(hist_data: Path) -> str:
    return KeyStore(hist_data).add("browser-clara", "staff")


def open_changes(page: Any) -> None:
    page.click("[data-testid=changes-open]")
    page.wait_for_selector("[data-testid=changes-counts] dd[data-count=added]", timeout=30_000)
    page.wait_for_function(f"() => ({OVERLAY})() >= 0", timeout=15_000)


def counts(page: Any) -> dict[str, int]:
    return page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('[data-testid=changes-counts] dd')]"
        ".map(d => [d.dataset.count, Number(d.textContent)]))"
    )


def test_changes_view_counts_overlay_and_list(hui: UI, hist_api: httpx.Client) -> None:
    snaps = hist_api.get("/api/snapshots").json()["snapshots"]
    assert len(snaps) == 2 and snaps[0]["live"]
    ref = hist_api.get("/api/changes").json()
    assert ref["from"] == snaps[1]["id"] and ref["counts"]["added"] > 0 and ref["counts"]["removed"] > 0
    page = hui.goto("/")
    open_changes(page)
    assert page.locator("[data-changes-since]").input_value() == snaps[1]["id"]  # the predecessor
    got = counts(page)
    assert got == ref["counts"]
    assert page.evaluate(OVERLAY) == ref["counts"]["added"] + ref["counts"]["removed"]
    kinds = page.evaluate(
        "() => window.nrwSites.map.getSource('changes').serialize().data.features"
        ".map(f => f.properties.change)"
    )
    assert (
        kinds.count("added") == ref["counts"]["added"] and kinds.count("removed") == ref["counts"]["removed"]
    )
    assert page.locator("[data-changes-list=added] li").count() == ref["counts"]["added"]
    page.screenshot(path="/tmp/ui19-changes-de.png")
    # a new site in the list: its detail opens (it is in the live snapshot)
    first = ref["added"][0]["site_id"]
    page.click(f"[data-changes-list=added] [data-change-site='{first}']")
    page.wait_for_function(f"() => window.nrwSites.store.state.sel === '{first}'", timeout=10_000)
    page.locator("[data-testid=detail] [data-detail-body]").wait_for(state="visible", timeout=10_000)
    # a removed site: the map flies there, next to the panel, and shows it as a red cross
    gone = ref["removed"][0]["site_id"]
    page.click(f"[data-changes-list=removed] [data-change-site='{gone}']")
    page.wait_for_function("() => !window.nrwSites.map.isMoving()", timeout=10_000)
    page.wait_for_timeout(1200)
    hui.wait_ready()
    assert (
        page.evaluate("() => window.nrwSites.map.queryRenderedFeatures({layers: ['changes-removed']}).length")
        >= 1
    )
    page.screenshot(path="/tmp/ui19-changes-removed.png")
    # a changed site: field from → to and the score change in the page's profile
    moved = next((c for c in ref["changed"] if c["score"].get("balanced")), None)
    if moved is not None:
        entry = page.locator(f"[data-changes-list] [data-change-site='{moved['site_id']}']").first
        assert "→" in entry.locator("xpath=..").inner_text()
    # English
    page.click("[data-testid=lang]")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert page.locator("#changes-title").inner_text() == "Changes"
    assert "New sites" in page.locator("[data-changes-list=added] h3").inner_text()
    page.wait_for_timeout(800)
    page.screenshot(path="/tmp/ui19-changes-en.png")
    # closing removes the overlay
    page.click("[data-action=changes-close]")
    assert page.evaluate(OVERLAY) == -1
    assert page.locator("[data-testid=changes]").is_hidden()


def test_changes_view_on_a_phone(browser: Any, hist_server: str, request: pytest.FixtureRequest) -> None:
    u = UI(browser, hist_server, request.node.name, viewport={"width": 390, "height": 844}, has_touch=True)
    request.node._bt_ui = u
    try:
        page = u.goto("/")
        page.click("[data-menu-toggle]")
        open_changes(page)
        box = page.locator("[data-testid=changes]").bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
        page.screenshot(path="/tmp/ui19-changes-phone.png")
    finally:
        u.close()


def sign_in(ui: UI, key: str) -> Any:
    page = ui.goto("/")
    page.click("[data-testid=signin]")
    page.fill("[data-dialog=signin] input[name=key]", key)
    page.click("[data-dialog=signin] button[type=submit]")
    page.wait_for_selector("[data-session-who]:not([hidden])", timeout=30_000)
    ui.wait_ready()
    return page


def test_inquiries_panel_is_absent_for_the_public(hui: UI) -> None:
    page = hui.goto("/")
    assert page.locator("[data-testid=inquiries-open]").is_hidden()
    assert page.evaluate("() => window.nrwSites.map.getSource('inquiry-new') === undefined")


def test_staff_create_open_and_delete_an_inquiry(hui: UI, hist_api: httpx.Client, staff_key: str) -> None:
    page = sign_in(hui, staff_key)
    auth = {"Authorization": f"Bearer {staff_key}"}
    # a state to keep: another profile, one weight changed, an availability filter
    page.select_option("[data-control=profile]", "logistics")
    page.evaluate("() => window.nrwSites.setWeights({area: 3})")
    page.evaluate("() => window.nrwSites.store.setFilters({available_by: '2027-06'})")
    page.click("[data-testid=inquiries-open]")
    dlg = page.locator("[data-testid=inquiries]")
    dlg.wait_for(state="visible")
    dlg.locator("input[name=name]").fill("Logistik West")
    dlg.locator("textarea[name=note]").fill("Investor A, Budget vertraulich")
    dlg.locator("input[name=top_n]").fill("25")
    dlg.locator("button[type=submit]").click()
    dlg.locator("[data-inquiry-list] li").first.wait_for(timeout=15_000)
    saved = hist_api.get("/api/inquiries", headers=auth).json()["inquiries"]
    assert len(saved) == 1
    inq = saved[0]
    assert (inq["name"], inq["profile"], inq["top_n"]) == ("Logistik West", "logistics", 25)
    assert inq["weights"] == {"area": 3.0} and inq["filters"] == {"available_by": "2027-06"}
    assert "Logistik West" in dlg.locator("[data-inquiry-list]").inner_text()
    assert dlg.locator("[data-inquiry-new]").first.get_attribute("data-inquiry-new") == "0"
    feed = dlg.locator("[data-feed]").first.get_attribute("href")
    assert feed == f"api/inquiries/{inq['id']}/feed.atom"
    page.screenshot(path="/tmp/ui19-inquiries-de.png")
    dlg.locator("[data-action=dialog-close]").click()
    # change the page, then open the inquiry: its ranking comes back
    page.select_option("[data-control=profile]", "balanced")
    page.evaluate("() => window.nrwSites.store.setFilters({available_by: null})")
    page.click("[data-testid=inquiries-open]")
    dlg.locator(f"[data-inquiry-action=open][data-inquiry='{inq['id']}']").click()
    page.wait_for_function("() => window.nrwSites.store.state.profile === 'logistics'", timeout=10_000)
    state = page.evaluate(
        "() => { const s = window.nrwSites.store.state; "
        "return {w: s.weights.area, f: s.filters.available_by}; }"
    )
    assert state == {"w": 3, "f": "2027-06"}
    assert page.locator("[data-control=profile]").input_value() == "logistics"
    seen = page.evaluate("() => JSON.parse(localStorage.getItem('nrw-sites.inquiries-seen'))")
    assert inq["id"] in seen
    # English, then delete
    page.click("[data-testid=lang]")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    page.click("[data-testid=inquiries-open]")
    assert dlg.locator("#inquiries-title").inner_text() == "Investor inquiries"
    page.screenshot(path="/tmp/ui19-inquiries-en.png")
    page.once("dialog", lambda d: d.accept())
    dlg.locator(f"[data-inquiry-action=delete][data-inquiry='{inq['id']}']").click()
    dlg.locator("[data-inquiry-empty]").wait_for(state="visible", timeout=10_000)
    assert hist_api.get("/api/inquiries", headers=auth).json()["inquiries"] == []
