"""Issue 18, defects 2, 8 and 9 in the page: rank stability among the filtered sites (detail and
exposé), the list's "100 von N" and "load more", the search box, the facts in the comparison,
and own areas (refused when too large, named "Eigene Fläche N", compared).

Every expected value comes from the API of the same server (the reference), not from the page.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

from tests.browser.conftest import UI
from tests.browser.test_ui import COMPARE, DETAIL, RANKING, open_detail, ranking_ids, set_weights, wait_detail

# the link: Marl Feldmark is 5th of the 11 sites that pass (demo: 2,000 sites, seed 42)
LINK = "/?profile=hydrogen&w_area=0.5&w_h2=5&w_fibre=2&min_area_ha=20&kreis=05562"
LINK_PARAMS = {
    "profile": "hydrogen",
    "w_area": 0.5,
    "w_h2": 5,
    "w_fibre": 2,
    "min_area_ha": 20,
    "kreis": "05562",
}
MARL = "rp-RP-000298"
SEARCH = "[data-testid=site-search]"
MORE = "[data-action=ranking-more]"


def de_int(n: int) -> str:
    """An integer as German writes it: 1.898."""
    return f"{n:,}".replace(",", ".")


def de_percent(p: float) -> str:
    return f"{round(100 * p)} %"


def norm(text: str) -> str:
    """Spaces of every kind (the number formats use no-break spaces) as plain spaces."""
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def texts(page: Any, selector: str) -> list[str]:
    return [norm(x) for x in page.eval_on_selector_all(selector, "els => els.map(e => e.textContent)")]


def test_detail_and_expose_rank_and_stability_among_the_filtered_sites(ui: UI, api: httpx.Client) -> None:
    ref = api.get(f"/api/sites/{MARL}/score", params={**LINK_PARAMS, "stability": 10}).json()
    listed = api.get("/api/ranking", params={**LINK_PARAMS, "limit": 100}).json()
    assert listed["numberMatched"] == 11 and ref["numberRanked"] == 11  # the "von 11"
    assert ref["rank"] == 5 == [i["site_id"] for i in listed["items"]].index(MARL) + 1
    page = ui.goto(LINK)
    assert len(ranking_ids(page)) == 11
    open_detail(page, MARL)
    detail = page.locator(DETAIL).first
    page.wait_for_function(
        "() => !!document.querySelector('[data-testid=detail] .stability')", timeout=15_000
    )
    text = detail.inner_text()
    assert "Rang 5 von 11" in text, text[:300]
    stability = norm(detail.locator(".stability").inner_text())
    # the API's probability among the 11, not among all 2,004 sites ("0 % unter den ersten 10")
    assert f"{de_percent(ref['stability']['probability'])} " in stability + " ", stability
    assert ref["stability"]["probability"] > 0.5
    ui.screenshot("detail")
    # the exposé of the same view says the same
    href = detail.locator("a[href^='expose.html']").get_attribute("href")
    assert "kreis=05562" in href and "min_area_ha=20" in href
    expose = ui.context.new_page()
    expose.goto(f"{ui.base}/{href}")
    expose.wait_for_function("() => document.documentElement.dataset.ready === 'true'", timeout=30_000)
    etext = norm(expose.locator("body").inner_text())
    assert "Rang 5 von 11" in etext and "von 2.004" not in etext, etext[:400]
    assert de_percent(ref["stability"]["probability"]) in etext
    ui.screenshot("expose", page=expose)
    expose.close()


def test_list_says_how_many_it_shows_and_reaches_every_site(ui: UI, api: httpx.Client) -> None:
    page = ui.goto("/")
    body = api.get("/api/ranking", params={"limit": 10_000, "breakdown": "false"}).json()
    n = body["numberMatched"]
    assert n > 1000
    footer = page.locator("[data-ranking-shown]")
    assert footer.inner_text() == f"100 von {de_int(n)} angezeigt"
    assert len(ranking_ids(page)) == 100
    page.locator(MORE).click()
    page.wait_for_function(f"() => document.querySelectorAll('{RANKING} [data-site-id]').length === 200")
    assert footer.inner_text() == f"200 von {de_int(n)} angezeigt"
    # the keyboard goes on past the end: ArrowDown on the last entry loads the next hundred
    page.locator(RANKING).focus()
    page.keyboard.press("End")
    page.keyboard.press("ArrowDown")
    page.wait_for_function(f"() => document.querySelectorAll('{RANKING} [data-site-id]').length === 300")
    while page.locator(MORE).is_visible():
        page.locator(MORE).click()
    assert footer.inner_text() == f"{de_int(n)} von {de_int(n)} angezeigt"
    assert ranking_ids(page) == [i["site_id"] for i in body["items"]]  # all of them, in the API's order
    # the whole list still re-ranks live: a slider move gives the API's order over all n
    weights = set_weights(page, {"h2": 0, "area": 3})
    params = {"limit": 10_000, "breakdown": "false", **{f"w_{k}": v for k, v in weights.items()}}
    expected = [i["site_id"] for i in api.get("/api/ranking", params=params).json()["items"]]
    page.wait_for_function(
        "exp => { const ids = [...document.querySelectorAll('[data-testid=ranking] [data-site-id]')]"
        ".map(e => e.dataset.siteId);"
        " return ids.length === exp.length && ids.every((x, i) => x === exp[i]); }",
        arg=expected,
        timeout=15_000,
    )
    switch = page.locator("[data-testid=lang]").first
    switch.click()
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert norm(footer.inner_text()) == f"{n:,} of {n:,} shown"


def test_search_finds_by_name_municipality_and_id_and_flies_there(ui: UI, api: httpx.Client) -> None:
    page = ui.goto("/")
    table = api.get("/api/sites/table").json()["columns"]
    row = table["site_id"].index(MARL)
    box = page.locator(SEARCH)
    # by name, in another case and with a word order of its own
    box.fill("FELDMARK marl")
    hits = page.locator("#site-search-results [role=option]")
    hits.first.wait_for(state="visible")
    assert "Marl Feldmark" in hits.first.inner_text()
    ui.screenshot("hits")
    box.press("Enter")
    wait_detail(page, MARL)
    assert page.evaluate("() => window.nrwSites.store.state.sel") == MARL
    assert "Marl Feldmark" in page.locator("#detail-name").inner_text()
    page.wait_for_function(
        "([x, y]) => { const c = window.nrwSites.map.getCenter(); "
        "return Math.abs(c.lng - x) < 1e-3 && Math.abs(c.lat - y) < 1e-3"
        " && window.nrwSites.map.getZoom() >= 13; }",
        arg=[table["lon"][row], table["lat"][row]],
        timeout=10_000,
    )
    # by municipality without its umlaut: every hit lies in Köln
    box.fill("koln")
    hits.first.wait_for(state="visible")
    koeln = [i for i, m in enumerate(table["municipality"]) if m == "Köln"]
    assert koeln, "the demo has sites in Köln"
    texts = hits.all_inner_texts()
    assert texts and all("Köln" in t for t in texts), texts
    # by id, with a click
    other = table["site_id"][koeln[0]]
    box.fill(other.upper())
    hits.first.wait_for(state="visible")
    hits.first.click()
    wait_detail(page, other)
    assert page.evaluate("() => window.nrwSites.store.state.sel") == other
    box.fill("zzzz-no-such-site")
    page.locator("#site-search-results .search-none").wait_for(state="visible")
    ui.screenshot("none")


def _fmt_km(x: float) -> str:
    return f"{x:.1f}".replace(".", ",") + " km"


def test_compare_shows_the_facts_under_the_points(
    ui: UI, api: httpx.Client, profiles: dict[str, Any]
) -> None:
    page = ui.goto("/")
    ids = ranking_ids(page)[:2]
    page.locator(RANKING).focus()
    page.keyboard.press("v")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("v")
    page.locator("[data-action=compare-open]").click()
    facts = f"{COMPARE} tr[data-fact]"
    page.wait_for_function(
        "sel => [...document.querySelectorAll(sel)].some(tr => tr.dataset.fact === 'h2_distance_km' "
        "&& ![...tr.querySelectorAll('td')].some(td => td.textContent === '–'))",
        arg=facts,
        timeout=15_000,
    )
    declared = {s["name"] for c in profiles["criteria"] for s in c["indicator_specs"]}
    shown = set(page.eval_on_selector_all(facts, "els => els.map(e => e.dataset.fact)"))
    assert declared | {"planning_category"} == shown
    # the columns are in rank order: the values are the API's, with their units
    order = page.eval_on_selector_all(
        f"{COMPARE} th.site-col [data-sort]", "els => els.map(e => e.dataset.sort)"
    )
    assert sorted(order) == sorted(ids)
    items = [api.get(f"/api/sites/{sid}/score").json() for sid in order]
    cells = texts(page, f"{COMPARE} tr[data-fact=h2_distance_km] td")
    assert cells == [_fmt_km(i["breakdown"]["h2"]["indicator"]["h2_distance_km"]) for i in items]
    fibre = texts(page, f"{COMPARE} tr[data-fact=fibre_share] td")
    assert fibre == [de_percent(i["fibre_share"]) for i in items]
    planning = texts(page, f"{COMPARE} tr[data-fact=planning_category] td")
    assert all(p and p != "–" for p in planning) and planning[0] != items[0]["planning_category"], planning
    page.locator(f"{COMPARE} tr.facts-head").scroll_into_view_if_needed()
    ui.screenshot("facts")


def _upload(page: Any, path: Path, fc: dict[str, Any]) -> None:
    path.write_text(json.dumps(fc))
    page.locator("[data-action=file]").set_input_files(str(path))


def _square(lon: float, lat: float, d: float) -> dict[str, Any]:
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d * 0.62], [lon, lat + d * 0.62], [lon, lat]]
    return {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def test_a_huge_polygon_is_refused_with_the_limit_named(ui: UI, tmp_path: Path) -> None:
    page = ui.goto("/")
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    # ~45 % of NRW, as in the issue
    ring = [[6.3, 50.8], [8.7, 50.8], [8.7, 51.8], [6.3, 51.8], [6.3, 50.8]]
    _upload(page, tmp_path / "nrw.geojson", {"type": "Polygon", "coordinates": [ring]})
    alert = page.locator(f"{DETAIL} [role=alert]")
    alert.wait_for(state="visible", timeout=10_000)
    text = norm(alert.inner_text())
    assert "2.000 ha" in text and "bewertet" in text.lower(), text
    assert not page.locator(f"{DETAIL} .score-big").count(), "the polygon got a score"
    assert not any("api/score" in u for u in posts)
    ui.screenshot()


def _draw_square(page: Any) -> None:
    page.locator("[data-action=draw]").click()
    page.wait_for_function("() => document.body.classList.contains('drawing')")
    box = page.locator("#map canvas").first.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    pts = [(x - 12, y - 12), (x + 12, y - 12), (x + 12, y + 12), (x - 12, y + 12), (x - 12, y - 12)]
    for px, py in pts:
        page.mouse.move(px, py)
        page.mouse.click(px, py)
        page.wait_for_timeout(150)


def test_own_areas_are_named_and_compared(ui: UI, tmp_path: Path) -> None:
    page = ui.goto("/")
    # first a file: its polygon is named after the file
    _upload(page, tmp_path / "werk-nord.geojson", _square(7.10, 51.62, 0.01))
    title = page.locator("#detail-name")
    page.wait_for_function(
        "() => !!document.querySelector('[data-testid=detail] .score-big')", timeout=20_000
    )
    assert title.inner_text() == "werk-nord.geojson"
    # then a drawn one: "Eigene Fläche 1", not the file's name
    page.evaluate("() => { location.hash = 'map=12/51.62/7.12'; }")
    page.wait_for_timeout(500)
    _draw_square(page)
    page.wait_for_function(
        "() => document.querySelector('#detail-name')?.textContent === 'Eigene Fläche 1' "
        "&& !!document.querySelector('[data-testid=detail] .score-big')",
        timeout=20_000,
    )
    # compare it with the best stored site
    best = ranking_ids(page)[0]
    page.locator(f"{DETAIL} [data-detail-action=compare-own]").click()
    page.wait_for_function("() => window.nrwSites.store.state.cmp.length === 1")
    page.locator(f'{RANKING} [data-site-id="{best}"]').click()
    page.locator(f"{DETAIL} [data-detail-action=compare]").click()
    page.locator(f"{COMPARE} .why-pair").first.wait_for(state="visible", timeout=10_000)
    heads = page.locator(f"{COMPARE} th.site-col").all_inner_texts()
    assert any("Eigene Fläche 1" in h and "eigene Fläche" in h for h in heads), heads
    own_col = next(i for i, h in enumerate(heads) if "Eigene Fläche 1" in h)
    area = texts(page, f"{COMPARE} tr[data-fact=area_ha] td")
    assert re.fullmatch(r"\d+,\d ha", area[own_col]), area
    rank = page.locator(f"{COMPARE} tbody tr").nth(1).locator("td").nth(own_col).inner_text()
    assert rank == "nicht in der Rangliste"
    # own areas stay out of the link; the stored site is in it
    page.wait_for_function(f"() => location.search.includes('cmp={best}')")
    assert "own" not in page.evaluate("() => location.search")
    ui.screenshot("compare")
