"""The "Flächenbilanz" view (issue 19 §3) on a demo told twice a year apart (the fixtures of
test_changes.py): the choropleth's feature-state per unit equals ``/api/statistics/reserves``,
the legend has five classes, a unit's charts show the API's figures, the downloads link the
level in the page's language, English works, closing takes the fill off. Screenshots go to
/tmp/choro-*.png (DE and EN, 1366×768; the phone layout 390×844).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.conftest import UI
from tests.browser.test_changes import hist_api, hist_data, hist_server, hui  # noqa: F401 (fixtures)

STATE = "([layer, key]) => window.nrwSites.map.getFeatureState({source: 'nrw', sourceLayer: layer, id: key})"


def open_reserves(page: Any, level: str = "municipality") -> None:
    page.click("[data-testid=reserves-open]")
    page.wait_for_selector(f"[data-testid=reserves][data-loaded={level}]", timeout=30_000)


def test_reserves_choropleth_legend_chart_and_downloads(hui: UI, hist_api: httpx.Client) -> None:  # noqa: F811
    ref = hist_api.get("/api/statistics/reserves", params={"level": "municipality"}).json()
    page = hui.goto("/")
    open_reserves(page)
    assert page.locator("[data-reserves-synthetic]").is_visible() == bool(ref["synthetic"])
    units = ref["units"]
    some = sorted((u for u in units if u["reserve_ha"] > 0), key=lambda u: -u["reserve_ha"])[:3]
    some += [next(u for u in units if u["reserve_ha"] == 0)]
    for u in some:
        st = page.evaluate(STATE, ["municipalities", u["key"]])
        assert st["rv"] == pytest.approx(u["reserve_ha"])
        assert (st["rc"] == -1) == (u["reserve_ha"] == 0)
    # every unit has a value; the largest reserve is in the top class
    n_set = page.evaluate(
        "(keys) => keys.filter(k => window.nrwSites.map.getFeatureState("
        "{source: 'nrw', sourceLayer: 'municipalities', id: k}).rv !== undefined).length",
        [u["key"] for u in units],
    )
    assert n_set == len(units)
    assert page.evaluate(STATE, ["municipalities", some[0]["key"]])["rc"] == 4
    vis = page.evaluate("() => window.nrwSites.map.getLayoutProperty('reserves-muni-fill', 'visibility')")
    assert vis == "visible"
    assert page.locator("[data-reserves-legend] li.class").count() == 5
    legend = page.locator("[data-reserves-legend]").inner_text()
    assert "," in legend and "ha" in legend  # German decimal comma
    links = {k: page.locator(f"[data-reserves-{k}]").get_attribute("href") for k in ("csv", "xlsx")}
    assert links == {
        "csv": "api/statistics/reserves.csv?level=municipality&lang=de",
        "xlsx": "api/statistics/reserves.xlsx?level=municipality&lang=de",
    }
    assert hist_api.get("/" + links["csv"]).status_code == 200
    # a unit on the map, beside the panel: click it where it is drawn
    page.wait_for_timeout(500)
    hit = page.evaluate(
        "() => { const m = window.nrwSites.map; const r = m.getCanvas().getBoundingClientRect();"
        " const p = document.querySelector('[data-testid=reserves]').getBoundingClientRect();"
        " for (let y = 40; y < r.height - 40; y += 17)"
        "  for (let x = p.right - r.left + 20; x < r.width - 60; x += 17) {"
        "  const f = m.queryRenderedFeatures([x, y], {layers: ['reserves-muni-fill']})[0];"
        "  if (f && f.state.rv > 0) return {key: String(f.id), x: x + r.left, y: y + r.top}; }"
        " return null; }"
    )
    assert hit is not None
    page.mouse.click(hit["x"], hit["y"])
    page.wait_for_function(
        f"() => document.querySelector('[data-reserves-unit]').value === '{hit['key']}'", timeout=10_000
    )
    big = next(u for u in units if u["key"] == hit["key"])
    box = page.locator("[data-testid=reserves-unit]")
    box.wait_for(state="visible")
    assert box.locator("h3").first.inner_text() == big["name"]
    cells = page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('[data-testid=reserves-unit] [data-figure]')]"
        ".filter(e => e.dataset.figure.startsWith('reserve') || e.dataset.figure.startsWith('avail')"
        " || e.dataset.figure.startsWith('market') || e.dataset.figure.startsWith('takeup'))"
        ".map(e => [e.dataset.figure, e.dataset.value === '' ? null : Number(e.dataset.value)]))"
    )
    for k in (
        "reserve_ha",
        "reserve_ha_gib",
        "reserve_ha_lep",
        "reserve_ha_brownfield",
        "available_now_ha",
        "available_unknown_ha",
        "marketable_ha",
        "takeup_ha",
    ):
        assert cells[k] == pytest.approx(big[k]), k
    assert page.evaluate(STATE, ["municipalities", big["key"]])["rsel"] is True
    # the charts: category and availability bars, take-up per snapshot (one with a predecessor)
    page.wait_for_selector("[data-chart=takeup]", timeout=15_000)
    assert page.locator("[data-chart=category] rect").count() == 7
    assert page.locator("[data-chart=availability] rect").count() == 4
    assert page.locator("[data-chart=takeup] rect").count() == 1
    page.set_viewport_size({"width": 1366, "height": 768})
    page.wait_for_timeout(600)
    page.screenshot(path="/tmp/choro-de.png")
    page.locator("[data-chart=takeup]").scroll_into_view_if_needed()
    page.screenshot(path="/tmp/choro-chart.png")
    # another figure re-classes the fill
    page.select_option("[data-reserves-figure]", "brownfield_share")
    nb = next(u for u in units if u["brownfield_share"] is None)
    assert page.evaluate(STATE, ["municipalities", nb["key"]])["rc"] == -2
    # "show sites": the ranking's place filter becomes the unit
    page.click("[data-reserves-filter]")
    page.wait_for_function(f"() => window.nrwSites.store.state.filters.ags?.[0] === '{big['key']}'")
    # Kreise
    page.select_option("[data-reserves-level]", "kreis")
    page.wait_for_selector("[data-testid=reserves][data-loaded=kreis]")
    kref = hist_api.get("/api/statistics/reserves", params={"level": "kreis"}).json()
    k0 = kref["units"][0]
    assert page.evaluate(STATE, ["kreise", k0["key"]])["rv"] == pytest.approx(k0["brownfield_share"])
    assert page.evaluate(STATE, ["municipalities", big["key"]]) == {}
    assert "level=kreis" in (page.locator("[data-reserves-csv]").get_attribute("href") or "")
    # English
    page.select_option("[data-reserves-figure]", "reserve_ha")
    page.click("[data-testid=lang]")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert page.locator("#reserves-title").inner_text() == "Land reserves"
    assert page.locator("[data-reserves-csv]").get_attribute("href") == (
        "api/statistics/reserves.csv?level=kreis&lang=en"
    )
    assert "." in page.locator("[data-reserves-legend]").inner_text()
    page.select_option("[data-reserves-unit]", k0["key"])
    page.wait_for_timeout(600)
    page.screenshot(path="/tmp/choro-en.png")
    # closing takes the fill off
    page.click("[data-action=reserves-close]")
    assert page.locator("[data-testid=reserves]").is_hidden()
    assert page.evaluate(STATE, ["kreise", k0["key"]]) == {}
    vis = page.evaluate("() => window.nrwSites.map.getLayoutProperty('reserves-kreis-fill', 'visibility')")
    assert vis == "none"


def test_reserves_on_a_phone(browser: Any, hist_server: str, request: pytest.FixtureRequest) -> None:  # noqa: F811
    u = UI(browser, hist_server, request.node.name, viewport={"width": 390, "height": 844}, has_touch=True)
    request.node._bt_ui = u
    try:
        page = u.goto("/")
        page.click("[data-menu-toggle]")
        open_reserves(page)
        box = page.locator("[data-testid=reserves]").bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390
        page.wait_for_timeout(600)
        page.screenshot(path="/tmp/choro-phone.png")
    finally:
        u.close()
