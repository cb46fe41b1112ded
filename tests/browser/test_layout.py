"""Layout and language of the web map (issue 18 §1, §4, §5, §6) in a real chromium.

- the exposé prints completely on as many A4 pages as it needs (PDF text, DE and EN);
- the skip link focuses the ranking and never scrolls the page;
- a phone (390×844 upright, 844×390 landscape) gets the map first and the panels as sheets: no
  horizontal overflow, no overlapping header, the map canvas visible, tap targets ≥ 44 px;
  desktop (1366×768) and tablet (1024×768) keep their three columns;
- the page speaks one language: the API's refusal of an uploaded polygon, the sources and
  licences, the map credits (also after switching), and the open credits never cover the H₂
  timeline or the score legend.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import UI
from tests.browser.test_ui import (
    BREAKDOWN,
    ENTRY,
    LANG,
    RANKING,
    SLIDER,
    describe_violations,
    open_first_detail,
    ranking_ids,
    run_axe,
    switch_language,
    wait_detail,
)

PHONE = {"width": 390, "height": 844}
LANDSCAPE = {"width": 844, "height": 390}
TABLET_UPRIGHT = {"width": 820, "height": 1180}  # the header's actions overlapped the title here
TAP = 44  # px, the smallest tap target on a phone (WCAG 2.5.5)


def rect(page: Any, selector: str) -> dict[str, float] | None:
    """The bounding box of the first element matching ``selector`` (None when not rendered)."""
    return page.evaluate(
        """s => { const e = document.querySelector(s); if (!e) return null;
        const r = e.getBoundingClientRect();
        return r.width && r.height ? {x: r.left, y: r.top, w: r.width, h: r.height} : null; }""",
        selector,
    )


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    """True when two boxes share more than a pixel of area."""
    return min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"]) > 1 and (
        min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"]) > 1
    )


def scroll_state(page: Any) -> dict[str, Any]:
    """The document's scroll position and sizes."""
    return page.evaluate("""() => { const se = document.scrollingElement;
        return {y: window.scrollY, x: window.scrollX, top: se.scrollTop, width: se.scrollWidth,
                height: se.scrollHeight, cw: se.clientWidth, ch: se.clientHeight}; }""")


@pytest.fixture()
def device(browser: Any, server: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A factory of UIs with a given viewport (touch for phones and tablets), closed afterwards."""
    made: list[UI] = []

    def make(viewport: dict[str, int], touch: bool = True, **kw: Any) -> UI:
        name = f"{request.node.name}-{viewport['width']}x{viewport['height']}"
        u = UI(
            browser,
            server,
            name,
            viewport=viewport,
            has_touch=touch,
            is_mobile=touch and viewport["width"] < 600,
            **kw,
        )
        request.node._bt_ui = u  # the page-log check of conftest (console errors, off-host requests)
        made.append(u)
        return u

    yield make
    for u in made:
        try:
            u.screenshot()
        except Exception:  # noqa: BLE001 - an artefact must not hide the test's own result
            pass
        u.close()


# -- §1 the exposé prints completely ------------------------------------------------------------
@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_expose_prints_completely_on_a4(
    ui: UI, api: httpx.Client, profiles: dict[str, Any], lang: str
) -> None:
    from pypdf import PdfReader

    sid = api.get("/api/ranking", params={"limit": 1}).json()["items"][0]["site_id"]
    page = ui.goto(f"/expose.html?site={sid}&lang={lang}")
    out = ui.artefact(f"expose-{lang}.pdf")
    page.pdf(path=str(out), format="A4", print_background=True)
    pages = [p.extract_text() for p in PdfReader(str(out)).pages]
    text = "\n".join(pages)
    flat = " ".join(text.split())
    bare = "".join(text.split())  # pypdf puts spaces in odd places ("( ≥  110 kV)")
    # every criterion's row, the last one included, then profile and weights, date and licences
    label = "label_de" if lang == "de" else "label_en"
    missing = [c[label] for c in profiles["criteria"] if "".join(c[label].split()) not in bare]
    assert not missing, f"criteria missing from the printed exposé ({out.name}): {missing}"
    weights, created, sources = (
        ("Gewichte:", "Erstellt am", "Quellen und Lizenzen:")
        if lang == "de"
        else ("Weights:", "Made on", "Sources and licences:")
    )
    for needle in (weights, created, sources, "Natural Earth", "dl-de/zero-2-0"):
        assert needle in flat, f"{needle!r} is not in the printed exposé ({len(pages)} pages, {out.name})"
    assert sources in " ".join(pages[-1].split()), "the licences are not at the end"
    if lang == "de":  # the sources and licences in German too (issue 18 §6)
        for english in ("generated demo data", "SYNTHETIC, not official", "fact table", "area-weighted"):
            assert english not in flat, f"English {english!r} in the German exposé"
    # page n of m on every page; the sources table's header repeated on each page it runs over
    for i, p in enumerate(pages):
        assert f"{i + 1} / {len(pages)}" in p, f"page {i + 1} has no page number"
    head = "Kriterium Kennwert Punkte Quelle" if lang == "de" else "Criterion Indicator Points Source"
    last_rows = ["".join(c[label].split()) for c in profiles["criteria"][-4:]]
    with_rows = [i for i, p in enumerate(pages) if any(x in "".join(p.split()) for x in last_rows)]
    for i in with_rows:
        assert head in " ".join(pages[i].split()), f"page {i + 1} continues the table without its header"


# -- §4 the skip link ------------------------------------------------------------------------------
def test_the_skip_link_focuses_the_ranking_without_scrolling(ui: UI) -> None:
    page = ui.goto("/")
    page.wait_for_function("() => location.hash.includes('map=')")
    camera = page.evaluate("() => location.hash")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.classList.contains('skip')"), (
        "Tab does not reach the skip link"
    )
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement && document.activeElement.closest('#ranking')")
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    s = scroll_state(page)
    assert s["y"] == 0 and s["top"] == 0, f"the page scrolled: {s}"
    assert s["height"] == s["ch"], f"the document is taller than the window (it can scroll): {s}"
    for sel in ("[data-action=shortlist-open]", LANG):
        box = rect(page, sel)
        assert box and box["y"] >= 0, f"{sel} left the screen: {box}"
    assert page.evaluate("() => location.hash") == camera, "the skip link replaced the map's #map= camera"
    page.keyboard.press("ArrowDown")  # the list works from the keyboard at once
    assert page.locator(RANKING).get_attribute("aria-activedescendant")


# -- §5 phone layout -------------------------------------------------------------------------------
def assert_phone_basics(page: Any, vp: dict[str, int]) -> None:
    """No horizontal overflow, no page scroll, header parts apart and inside, the map visible."""
    s = scroll_state(page)
    assert s["width"] == vp["width"], f"the page is {s['width']} px wide on a {vp['width']} px screen"
    assert s["height"] == vp["height"] and s["y"] == 0, f"the page scrolls: {s}"
    parts = {k: rect(page, k) for k in (".brand", "[data-testid=synthetic]", "[data-menu-toggle]", LANG)}
    assert all(parts.values()), f"header parts not shown: {parts}"
    names = list(parts)
    for i, a in enumerate(names):
        box = parts[a]
        assert box["x"] >= 0 and box["x"] + box["w"] <= vp["width"] + 0.5, f"{a} is off screen: {box}"
        for b in names[i + 1 :]:
            assert not overlap(box, parts[b]), f"{a} overlaps {b}: {box} / {parts[b]}"
    canvas = rect(page, "canvas.maplibregl-canvas")
    assert canvas, "the map canvas is not shown"
    assert canvas["h"] >= 0.3 * vp["height"] - 60, f"the map is too small: {canvas}"
    # MapLibre resizes its canvas a frame after its container changed (a sheet opened): until
    # then the old canvas reaches under the sheet; a loaded machine may take a while for it
    from playwright.sync_api import TimeoutError as PlaywrightTimeout  # as conftest: only here

    try:
        page.wait_for_function(f"() => ({MAP_MIDDLE})() === 'map'", timeout=5000)
    except PlaywrightTimeout:
        pass
    hit = page.evaluate(MAP_MIDDLE)
    assert hit == "map", f"the middle of the map is covered by {hit}"


# What is at the middle of the map canvas: 'map', or the covering element's tag and classes
MAP_MIDDLE = """() => { const c = document.querySelector('canvas.maplibregl-canvas').getBoundingClientRect();
  const e = document.elementFromPoint(c.x + c.width / 2, c.y + c.height / 2);
  if (!e) return 'nothing';
  return e.classList.contains('maplibregl-canvas') ? 'map' : `${e.tagName}.${e.className}`; }"""


# Visible buttons, tabs, options, inputs and selects under a scope that are lower than ``min``
# (a checkbox counts by its label's row, which is the tap target)
SMALL_TARGETS_JS = """([scope, min]) => {
  const sel = 'button, [role=tab], [role=option], select, input:not([type=file]), label.btn, summary, a.btn';
  const low = (e) => e.getBoundingClientRect().height < min - 0.5;
  const shown = (e) => { const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'; };
  const row = (e) => e.type === 'checkbox' && (e.closest('label, .layer-head') || e.labels?.[0]);
  return [...document.querySelectorAll(scope)].flatMap((root) => [...root.querySelectorAll(sel)])
    .filter((e) => shown(e) && low(e) && !(row(e) && !low(row(e))))
    .map((e) => `${e.tagName.toLowerCase()}.${e.className || e.type || ''} `
      + `"${(e.textContent || e.value || '').trim().slice(0, 30)}" `
      + `${Math.round(e.getBoundingClientRect().height)} px`);
}"""


def small_targets(page: Any, scope: str) -> list[str]:
    """The tap targets under ``scope`` lower than TAP px."""
    return page.evaluate(SMALL_TARGETS_JS, [scope, TAP])


@pytest.mark.parametrize(
    "vp", [PHONE, LANDSCAPE, TABLET_UPRIGHT], ids=["upright", "landscape", "tablet-upright"]
)
def test_phone_layout_map_first_with_sheets(device: Any, vp: dict[str, int]) -> None:
    u = device(vp)
    page = u.goto("/")
    assert_phone_basics(page, vp)
    canvas = rect(page, "canvas.maplibregl-canvas")
    assert canvas["w"] == vp["width"], f"the map is not full width with no sheet open: {canvas}"
    for sel in (".panel-left", ".panel-right", "#compare"):
        assert rect(page, sel) is None, f"{sel} is open before the user opens it"
    small = small_targets(page, ".bar, .sheet-nav, .map-wrap")
    assert not small, "tap targets under 44 px:\n  " + "\n  ".join(small)
    u.screenshot("map")

    # the ranking sheet: the list and the map both visible
    page.locator("[data-sheet=ranking]").tap()
    page.locator(f"{ENTRY} >> nth=0").wait_for(state="visible")
    assert_phone_basics(page, vp)
    small = small_targets(page, ".panel-right")
    assert not small, "tap targets under 44 px in the ranking:\n  " + "\n  ".join(small)
    u.screenshot("ranking")

    # tapping an entry shows its detail
    sid = ranking_ids(page)[1]
    page.locator(f'{RANKING} [data-site-id="{sid}"]').tap()
    wait_detail(page, sid)
    assert page.locator(BREAKDOWN).is_visible() and not page.locator(RANKING).is_visible()
    assert page.locator("[data-sheet=detail]").get_attribute("aria-pressed") == "true"
    assert_phone_basics(page, vp)
    small = small_targets(page, "[data-testid=detail] .detail-actions")
    assert not small, "tap targets under 44 px in the detail:\n  " + "\n  ".join(small)
    vs = run_axe(page)
    assert not vs, "axe on the phone's detail sheet:\n  " + describe_violations(vs)
    page.locator('[data-testid=detail] [data-detail-action="compare"]').first.tap()
    u.screenshot("detail")

    # the settings: weights, filters and layers
    page.locator("[data-sheet=controls]").tap()
    page.locator(f"{SLIDER} >> nth=0").wait_for(state="visible")
    assert_phone_basics(page, vp)
    small = small_targets(page, ".panel-left")
    assert not small, "tap targets under 44 px in the settings:\n  " + "\n  ".join(small)
    page.locator("#tab-layers").tap()
    page.locator("#tab-layers").press("Enter")
    small = small_targets(page, ".panel-left")
    assert not small, "tap targets under 44 px in the layers:\n  " + "\n  ".join(small)
    u.screenshot("controls")

    # the comparison with one more site
    page.locator("[data-sheet=ranking]").tap()
    other = ranking_ids(page)[2]
    page.locator(f'{RANKING} [data-site-id="{other}"]').tap()
    wait_detail(page, other)
    page.locator('[data-testid=detail] [data-detail-action="compare"]').first.tap()
    page.locator("[data-sheet=compare]").tap()
    page.locator("#compare").wait_for(state="visible")
    assert_phone_basics(page, vp)
    u.screenshot("compare")

    # the header menu holds the other actions
    page.locator("[data-menu-toggle]").tap()
    assert page.locator("[data-menu-toggle]").get_attribute("aria-expanded") == "true"
    item = page.locator("[data-action=shortlist-open]")
    item.wait_for(state="visible")
    box = rect(page, "#bar-menu")
    assert (
        box
        and box["x"] >= 0
        and box["x"] + box["w"] <= vp["width"] + 0.5
        and box["y"] + box["h"] <= vp["height"]
    )
    small = small_targets(page, "#bar-menu")
    assert not small, "tap targets under 44 px in the menu:\n  " + "\n  ".join(small)
    u.screenshot("menu")
    vs = run_axe(page)
    assert not vs, "axe with the phone's menu open:\n  " + describe_violations(vs)
    item.tap()
    assert page.locator("[data-dialog=shortlist]").evaluate("d => d.open")
    assert page.locator("[data-menu-toggle]").get_attribute("aria-expanded") == "false"


def test_phone_skip_link_opens_the_ranking(device: Any) -> None:
    u = device(PHONE, touch=False)
    page = u.goto("/")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement && document.activeElement.closest('#ranking')")
    assert page.locator(f"{ENTRY} >> nth=0").is_visible()
    assert scroll_state(page)["y"] == 0


@pytest.mark.parametrize(
    "vp", [{"width": 1366, "height": 768}, {"width": 1024, "height": 768}], ids=["desktop", "tablet"]
)
def test_desktop_and_tablet_keep_three_columns(device: Any, vp: dict[str, int]) -> None:
    u = device(vp, touch=vp["width"] < 1366)
    page = u.goto("/")
    s = scroll_state(page)
    assert s["width"] == vp["width"] and s["height"] == vp["height"], s
    left, mapbox, right = (rect(page, s) for s in (".panel-left", ".map-wrap", ".panel-right"))
    assert left and mapbox and right, "a column is missing"
    assert left["x"] + left["w"] <= mapbox["x"] + 1 and mapbox["x"] + mapbox["w"] <= right["x"] + 1
    assert rect(page, ".sheet-nav") is None and rect(page, "[data-menu-toggle]") is None
    for sel in (
        "[data-action=shortlist-open]",
        "[data-action=compare-open]",
        "[data-action=permalink]",
        "[data-action=help-open]",
        LANG,
    ):
        box = rect(page, sel)
        assert box and box["x"] + box["w"] <= vp["width"] and box["y"] >= 0, f"{sel}: {box}"
    # a click in the list keeps list and detail side by side
    sid = open_first_detail(u)
    assert page.locator(RANKING).is_visible() and page.locator(BREAKDOWN).is_visible(), sid
    assert page.evaluate("() => document.body.dataset.sheetOpen") == "", "a sheet opened on a wide screen"


# -- §6 one language -----------------------------------------------------------------------------
def credits_text(page: Any) -> str:
    return page.evaluate("() => document.querySelector('.maplibregl-ctrl-attrib-inner').textContent")


@pytest.mark.parametrize("vp", [{"width": 1366, "height": 768}, PHONE], ids=["desktop", "phone"])
def test_credits_follow_the_language_and_never_cover_timeline_or_legend(
    device: Any, vp: dict[str, int]
) -> None:
    u = device(vp, touch=vp["width"] < 600)
    page = u.goto("/")
    if vp is PHONE:
        page.locator("[data-sheet=ranking]").tap()  # the smaller map, with a sheet open
    button = page.locator(".maplibregl-ctrl-attrib-button")
    if "maplibregl-compact-show" not in (
        page.locator(".maplibregl-ctrl-attrib").get_attribute("class") or ""
    ):
        button.click()
    for lang, word, other in (
        ("de", "Grenzen", "Borders"),
        ("en", "Borders", "Grenzen"),
        ("de", "Grenzen", "Borders"),
    ):
        switch_language(page, lang)
        page.wait_for_function(
            "w => document.querySelector('.maplibregl-ctrl-attrib-inner').textContent.includes(w)", arg=word
        )
        text = credits_text(page)
        assert other not in text, f"{lang}: the credits still say {other!r}: {text[:200]}"
        if lang == "de":
            assert "SYNTHETIC, not official" not in text and "fact table" not in text, text
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        box = rect(page, ".maplibregl-ctrl-attrib")
        assert box and "maplibregl-compact-show" in page.locator(".maplibregl-ctrl-attrib").get_attribute(
            "class"
        )
        for sel in (".timeline", "[data-score-legend]"):
            other_box = rect(page, sel)
            assert other_box, f"{sel} is not shown"
            assert not overlap(box, other_box), f"{lang}: the open credits cover {sel}: {box} / {other_box}"
            assert other_box["y"] >= rect(page, ".map-wrap")["y"], f"{sel} was pushed off the map"
        u.screenshot(f"credits-{lang}")


@pytest.mark.parametrize("lang", ["de", "en"])
def test_sources_and_licences_in_the_page_language(ui: UI, lang: str) -> None:
    page = ui.goto("/")
    switch_language(page, lang)
    page.locator("#tab-layers").click()
    page.locator("#tab-layers").press("Enter")
    page.locator("[data-sources] li >> nth=0").wait_for(state="visible")
    text = page.locator(".panel-left").inner_text()
    if lang == "de":
        for english in (
            "generated demo data",
            "SYNTHETIC, not official",
            "(facts",
            "fact table",
            "derived from",
        ):
            assert english not in text, f"English {english!r} in the German sources: {text[:400]}"
        assert "erzeugte Demodaten" in text and "Faktentabelle" in text
    else:
        assert "generated demo data" in text and "Faktentabelle" not in text
        assert "(facts (" not in text, "the bare licence word 'facts' is shown"
    assert "dl-de/zero-2-0" in text, "a licence identifier must stay as it is"


OUTSIDE = {
    "type": "Feature",
    "properties": {},
    "geometry": {
        "type": "Polygon",
        # about 330 ha in Bavaria: under the own-area limit (2,000 ha), outside NRW
        "coordinates": [[[12.0, 48.0], [12.02, 48.0], [12.02, 48.02], [12.0, 48.02], [12.0, 48.0]]],
    },
}


@pytest.mark.parametrize(
    ("locale", "lang", "word", "other"),
    [
        ("de-DE", "de", "außerhalb", "outside"),
        ("en-GB", "en", "outside", "außerhalb"),
        ("de-DE", "en", "outside", "außerhalb"),  # the page's language, not the browser's
    ],
)
def test_a_refused_upload_is_explained_in_the_page_language(
    device: Any, tmp_path: Path, locale: str, lang: str, word: str, other: str
) -> None:
    u = device({"width": 1366, "height": 768}, touch=False, locale=locale)
    page = u.goto(f"/?lang={lang}")
    assert page.evaluate("() => document.documentElement.lang") == lang
    f = tmp_path / "bayern.geojson"
    f.write_text(json.dumps(OUTSIDE), encoding="utf-8")
    page.locator("input[type=file][data-action=file]").set_input_files(str(f))
    alert = page.locator("[data-testid=detail] .alert")
    alert.wait_for(state="visible", timeout=15_000)
    text = alert.inner_text()
    assert word in text and other not in text, f"{lang} page: {text!r}"
    u.screenshot()
    # chromium logs the refusal (422) it was asked for as a console error: that one is expected
    u.log.console_errors[:] = [m for m in u.log.console_errors if not ("422" in m and "/api/score" in m)]
