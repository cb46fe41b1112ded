"""The web UI in a real chromium against a real server (issue 10 §8, DESIGN §7).

The tests drive the page only through its stable hooks:
``<html data-ready="true">``, ``[data-testid=ranking] [data-site-id]`` in rank order,
``input[type=range][data-criterion=<name>]`` holding ``w_<name>``, ``[data-testid=detail]``
with ``[data-testid=breakdown]``, and ``[data-testid=lang]`` with ``<html lang>`` following it.
"""

from __future__ import annotations

import json
import random
from typing import Any

import httpx
import pytest

from tests.browser.conftest import UI
from tests.browser.harness import AXE, MAP_ONLY_CSS, colour_counts, decode_png, parse_css_colour

RANKING = "[data-testid=ranking]"
ENTRY = "[data-testid=ranking] [data-site-id]"
SLIDER = "input[type=range][data-criterion]"
DETAIL = "[data-testid=detail]"
BREAKDOWN = "[data-testid=detail] [data-testid=breakdown]"
LANG = "[data-testid=lang]"
PROFILE = "select[data-control=profile]"
COMPARE = "#compare"
TOP = 100


# -- page helpers -----------------------------------------------------------------------------
def ranking_ids(page: Any) -> list[str]:
    """The site ids of the ranking list, in the order shown."""
    return page.eval_on_selector_all(ENTRY, "els => els.map(e => e.dataset.siteId)")


def sliders(page: Any) -> dict[str, dict[str, Any]]:
    """Each weight slider: criterion → {min, max, step, value}."""
    rows = page.eval_on_selector_all(
        SLIDER,
        """els => els.map(e => ({
        name: e.dataset.criterion, min: Number(e.min || 0), max: Number(e.max || 100),
        step: e.step, value: Number(e.value)}))""",
    )
    return {r["name"]: r for r in rows}


def set_weights(page: Any, weights: dict[str, float]) -> dict[str, float]:
    """Move sliders as a user would (value, then ``input`` and ``change``); return their values."""
    return page.evaluate(
        """ws => {
        const out = {};
        for (const [name, w] of Object.entries(ws)) {
            const el = document.querySelector(`input[type=range][data-criterion="${name}"]`);
            el.value = String(w);
            el.dispatchEvent(new Event('input', {bubbles: true}));
            el.dispatchEvent(new Event('change', {bubbles: true}));
            out[name] = Number(el.value);
        }
        return out;
    }""",
        weights,
    )


def random_weights(rng: random.Random, spec: dict[str, dict[str, Any]]) -> dict[str, float]:
    """A random weight per slider on its step grid (at least one weight non-zero)."""
    while True:
        out = {}
        for name, s in spec.items():
            lo, hi = s["min"], s["max"]
            if s["step"] in ("", "any", None):  # a continuous slider: two decimals
                out[name] = round(rng.uniform(lo, hi), 2) if rng.random() > 0.1 else lo
                continue
            step = float(s["step"])
            n = int(round((hi - lo) / step))
            out[name] = round(lo + step * rng.randint(0, n), 6)
        if any(v > 0 for v in out.values()):
            return out


def api_order(
    api: httpx.Client, profile: str | None, weights: dict[str, float], limit: int = TOP, **filters: Any
) -> list[str]:
    """``/api/ranking``'s site ids for a profile and weights."""
    params: dict[str, Any] = {"limit": limit, **filters}
    if profile:
        params["profile"] = profile
    params.update({f"w_{k}": v for k, v in weights.items()})
    r = api.get("/api/ranking", params=params)
    assert r.status_code == 200, r.text
    return [it["site_id"] for it in r.json()["items"]]


def wait_for_order(page: Any, expected: list[str], timeout: int = 10_000) -> list[str]:
    """Wait until the list shows ``expected`` (compared over the entries shown); return it."""
    try:
        page.wait_for_function(
            """exp => {
            const ids = [...document.querySelectorAll('[data-testid=ranking] [data-site-id]')]
                .map(e => e.dataset.siteId);
            const n = Math.min(ids.length, exp.length);
            return n > 0 && ids.slice(0, n).every((id, i) => id === exp[i]);
        }""",
            arg=expected,
            timeout=timeout,
        )
    except Exception:  # noqa: BLE001 - reported by the assertion below with the diff
        pass
    return ranking_ids(page)


def first_difference(a: list[str], b: list[str]) -> str:
    """Where two orders part, for assertion messages."""
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"first difference at rank {i + 1}: page {x!r}, API {y!r}"
    return f"lengths {len(a)} vs {len(b)}"


def visible_text(page: Any) -> str:
    """The page's rendered text (``innerText`` of the body) without the transient toast."""
    return page.evaluate("""() => {
      const toast = document.querySelector('[data-toast]');
      const text = document.body.innerText;
      return toast && !toast.hidden ? text.replace(toast.innerText, '') : text;
    }""")


def switch_language(page: Any, lang: str) -> None:
    """Switch the UI to ``lang`` through ``[data-testid=lang]`` (a select, or a toggle button)."""
    el = page.locator(LANG).first
    tag = el.evaluate("e => e.tagName.toLowerCase()")
    if tag == "select":
        el.select_option(lang)
    else:
        current = page.evaluate("() => document.documentElement.lang")
        if current != lang:
            target = page.locator(
                f'{LANG} [lang="{lang}"], {LANG} [value="{lang}"], {LANG} [data-lang="{lang}"]'
            )
            (target.first if target.count() else el).click()
    page.wait_for_function("l => document.documentElement.lang === l", arg=lang, timeout=5000)


def site_colours(page: Any) -> list[tuple[int, int, int]]:
    """The site colour ramp the UI is given: ``bands.colors`` of ``api/ui/config`` (maps/bands.py,
    which the map and its legend draw), or else the swatches of the score legend (``--c`` /
    background colour).
    """
    raw = page.evaluate("""async () => {
        try {
            const r = await fetch(new URL('api/ui/config', document.baseURI).href);
            const colors = (await r.json()).bands?.colors;
            if (Array.isArray(colors)) return colors;
        } catch (e) { /* fall back to the DOM */ }
        const root = document.querySelector('[data-score-legend]')
            || document.querySelector('[data-testid=legend]');
        if (!root) return [];
        return [...root.querySelectorAll('.sw, [data-color]')].map(el =>
            el.dataset.color || getComputedStyle(el).getPropertyValue('--c')
            || getComputedStyle(el).backgroundColor);
    }""")
    cols = [c for c in (parse_css_colour(x) for x in raw) if c is not None]
    return list(dict.fromkeys(cols))


# The detail panel of ``sid`` is complete: its entry selected, breakdown bars drawn, and the
# server's part (indicators, sources, rank stability) arrived: no "loading" hint left.
DETAIL_DONE_JS = """sid => {
    const li = document.querySelector(`[data-testid=ranking] [data-site-id="${sid}"]`);
    const rest = document.querySelector('[data-testid=detail] [data-detail-rest]');
    return !!li && li.getAttribute('aria-selected') === 'true'
        && document.querySelectorAll('[data-testid=breakdown] li').length > 0
        && (!rest || !!rest.querySelector(':scope > :not(p.hint)'));
}"""


def wait_detail(page: Any, sid: str) -> None:
    """Wait until the detail panel shows ``sid`` completely."""
    page.wait_for_function(DETAIL_DONE_JS, arg=sid, timeout=15_000)


def open_detail(page: Any, sid: str) -> None:
    """Click the ranking entry of ``sid``; wait until its detail panel is complete."""
    page.locator(f'{RANKING} [data-site-id="{sid}"]').first.click()
    page.locator(BREAKDOWN).first.wait_for(state="visible", timeout=10_000)
    wait_detail(page, sid)


def open_first_detail(ui: UI) -> str:
    """Click the first ranking entry; wait for the detail panel and its breakdown; return its id."""
    sid = ranking_ids(ui.page)[0]
    open_detail(ui.page, sid)
    return sid


def wait_for_query(page: Any, text: str, timeout: int = 5000) -> None:
    """Wait until the page's URL query contains ``text`` (the permalink is written debounced)."""
    page.wait_for_function("t => decodeURIComponent(location.search).includes(t)", arg=text, timeout=timeout)


def select_profile(page: Any, name: str) -> None:
    """Choose an investor profile in the profile selector."""
    page.locator(PROFILE).select_option(name)
    page.wait_for_function(
        "n => window.nrwSites && window.nrwSites.store.state.profile === n", arg=name, timeout=5000
    )


def run_axe(page: Any) -> list[dict[str, Any]]:
    """Inject the vendored axe-core and return the serious and critical violations."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    res = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [v for v in res["violations"] if v.get("impact") in ("serious", "critical")]


def describe_violations(vs: list[dict[str, Any]]) -> str:
    """One line per axe violation with its first targets."""
    lines = []
    for v in vs:
        targets = [" ".join(map(str, n.get("target", []))) for n in v.get("nodes", [])[:4]]
        lines.append(
            f"{v['impact']}: {v['id']} ({v.get('help')}) x{len(v.get('nodes', []))}: {'; '.join(targets)}"
        )
    return "\n  ".join(lines)


# -- tests ------------------------------------------------------------------------------------
def test_page_loads_ready_without_errors(ui: UI) -> None:
    page = ui.goto("/")
    assert page.evaluate("() => document.documentElement.dataset.ready") == "true"
    assert page.locator(ENTRY).count() > 0, "the ranking list is empty once ready"
    assert len(ui.log.requests) > 0
    assert ui.log.offsite() == []
    assert ui.log.console_errors == [] and ui.log.page_errors == []


def test_tile_requests_that_fail_once_are_retried(ui: UI) -> None:
    """Every PMTiles range (header, directories, tiles) fails on its first request, as over a
    dropped connection: the map retries, draws every colour and tells the user nothing."""
    failed: list[str] = []

    def flaky(route: Any) -> None:
        rng = route.request.headers.get("range", "")
        if rng not in failed:
            failed.append(rng)
            route.abort("connectionreset")
        else:
            route.continue_()

    ui.context.route("**/api/tiles/*.pmtiles", flaky)
    page = ui.goto("/")
    assert len(failed) >= 3, failed  # the header, a directory and tiles did fail once
    counts = colour_counts(
        decode_png(ui.screenshot("map-only", style=MAP_ONLY_CSS)), site_colours(page), tol=12
    )
    assert sum(counts) >= 2000, counts
    assert page.locator("[data-toast]").is_hidden(), page.locator("[data-toast]").inner_text()
    ui.log.console_errors = [m for m in ui.log.console_errors if "ERR_CONNECTION_RESET" not in m]


def test_sites_are_drawn_in_the_legend_colours(ui: UI) -> None:
    page = ui.goto("/")
    colours = site_colours(page)
    assert len(colours) >= 3, f"the legend declares no site colour ramp (found {colours})"
    png = ui.screenshot("map-only", style=MAP_ONLY_CSS)
    counts = colour_counts(decode_png(png), colours, tol=12)
    found = dict(zip(map(str, colours), counts, strict=True))
    assert sum(counts) >= 2000, f"few site pixels in the map: {found}"
    assert sum(c >= 50 for c in counts) >= 4, f"sites drawn in few of the ramp's colours: {found}"


def test_initial_list_is_the_api_order(ui: UI, api: httpx.Client, profiles: dict[str, Any]) -> None:
    page = ui.goto("/")
    shown = ranking_ids(page)
    weights = {k: v["value"] for k, v in sliders(page).items()}
    expected = api_order(api, profiles["default"], weights)
    n = min(len(shown), TOP)
    assert n >= 10, f"the list shows {len(shown)} entries"
    assert shown[:n] == expected[:n], first_difference(shown, expected)


def test_sliders_reorder_the_list_into_the_api_order(
    ui: UI, api: httpx.Client, profiles: dict[str, Any]
) -> None:
    page = ui.goto("/")
    spec = sliders(page)
    names = {c["name"] for c in profiles["criteria"]}
    assert set(spec) == names, f"sliders {sorted(spec)} vs criteria {sorted(names)}"
    rng = random.Random(10)
    before = ranking_ids(page)
    changed = False
    for i in range(5):
        weights = set_weights(page, random_weights(rng, spec))
        expected = api_order(api, profiles["default"], weights)
        shown = wait_for_order(page, expected)
        n = min(len(shown), TOP)
        assert shown[:n] == expected[:n], f"weights {weights}: {first_difference(shown, expected)}"
        changed |= shown != before
        if i == 0:
            ui.screenshot("after-slider")
    assert changed, "five random weight vectors never changed the list"


def test_slider_recolours_the_sites(ui: UI) -> None:
    """The map's site colours follow the weights (feature-state), not only the list."""
    page = ui.goto("/")
    colours = site_colours(page)
    before = colour_counts(decode_png(ui.screenshot("before", style=MAP_ONLY_CSS)), colours, tol=12)
    spec = sliders(page)
    only = "h2" if "h2" in spec else next(iter(spec))
    set_weights(page, {k: (spec[k]["max"] if k == only else spec[k]["min"]) for k in spec})
    ui.settle()
    after = colour_counts(decode_png(ui.screenshot("after", style=MAP_ONLY_CSS)), colours, tol=12)
    moved = sum(abs(a - b) for a, b in zip(before, after, strict=True))
    assert moved >= 0.2 * sum(before), f"site colours barely changed: {before} → {after}"


def test_browser_ranking_equals_api_for_random_weights_and_every_profile(
    ui: UI, api: httpx.Client, profiles: dict[str, Any]
) -> None:
    """≥ 50 random weight vectors × every profile: the page's top 100 is the API's, in order."""
    page = ui.goto("/")
    spec = sliders(page)
    rng = random.Random(42)
    failures = []
    checked = 0
    for prof in profiles["profiles"]:
        name = prof["name"]
        vectors = [random_weights(rng, spec) for _ in range(50)]
        got_all = page_rankings(page, name, vectors, TOP)
        for weights, got in zip(vectors, got_all, strict=True):
            expected = api_order(api, name, weights)
            checked += 1
            assert len(expected) == TOP
            if got != expected:
                failures.append(f"{name} {weights}: {first_difference(got, expected)}")
    assert checked >= 50 * len(profiles["profiles"])
    assert not failures, f"{len(failures)}/{checked} differ:\n" + "\n".join(failures[:10])


def test_profile_and_sliders_in_the_page_give_the_api_order(
    ui: UI, api: httpx.Client, profiles: dict[str, Any]
) -> None:
    """Through the controls: every profile from the selector, then two slider moves each."""
    page = ui.goto("/")
    rng = random.Random(3)
    for prof in profiles["profiles"]:
        select_profile(page, prof["name"])
        shown_w = {k: v["value"] for k, v in sliders(page).items()}
        assert shown_w == {k: float(v) for k, v in prof["weights"].items()}, (
            f"{prof['name']}: the sliders do not show the profile's weights"
        )
        expected = api_order(api, prof["name"], shown_w)
        shown = wait_for_order(page, expected)
        assert shown[:TOP] == expected[: len(shown[:TOP])], (
            f"{prof['name']}: {first_difference(shown, expected)}"
        )
        for _ in range(2):
            weights = set_weights(page, random_weights(rng, sliders(page)))
            expected = api_order(api, prof["name"], weights)
            shown = wait_for_order(page, expected)
            assert len(shown) >= min(TOP, len(expected))
            assert shown[:TOP] == expected[: len(shown[:TOP])], (
                f"{prof['name']} {weights}: {first_difference(shown, expected)}"
            )


# The page's scoring module ranking the page's own data: the prepared site table the app holds
# (window.nrwSites.prep), the value array from the app's api.js cache, the profile's horizon and
# minimum area as the app takes them, and no other filter.
PAGE_RANK_JS = """async ([profile, weightsList, limit]) => {
    const base = document.baseURI;
    const S = await import(new URL('js/scoring.js', base).href);
    const A = await import(new URL('js/api.js', base).href);
    const prep = window.nrwSites.prep;
    const [table, prof] = await Promise.all([A.table(), A.profiles()]);
    const names = table.criteria || prof.criteria.map(c => c.name);
    const p = prof.profiles.find(x => x.name === profile);
    const years = table.h2_years && table.h2_years.length
        ? [Math.min(...table.h2_years), Math.max(...table.h2_years)] : [2025, 2032];
    const year = Math.min(years[1], Math.max(years[0], (p.parameters || {}).h2_horizon ?? years[1]));
    const values = await A.values(profile, year);
    const minArea = (p.parameters || {}).min_area_ha ?? null;
    return weightsList.map(w => {
        const r = S.rank(prep, values, names.length, S.weightVector(names, w), {}, minArea);
        return Array.from(r.order.subarray(0, limit), row => prep.ids[row]);
    });
}"""


def page_rankings(page: Any, profile: str, weights: list[dict[str, float]], limit: int) -> list[list[str]]:
    """The page's own top ``limit`` for a profile and each weight vector."""
    return page.evaluate(PAGE_RANK_JS, [profile, weights, limit])


def test_clicking_an_entry_opens_its_breakdown(ui: UI, api: httpx.Client) -> None:
    page = ui.goto("/")
    sid = ranking_ids(page)[2]
    open_detail(page, sid)
    detail = page.locator(DETAIL).first
    assert detail.is_visible()
    item = api.get(f"/api/sites/{sid}/score").json()
    text = detail.inner_text()
    assert item["name"] in text, f"the detail panel does not name {sid} ({item['name']!r})"
    rows = page.locator(f"{BREAKDOWN} li")
    assert rows.count() == len(item["breakdown"]), (
        f"breakdown bars {rows.count()} vs criteria {len(item['breakdown'])}"
    )
    ui.screenshot("detail")


TRANSPORT_GROUPS = ["motorway_junctions", "rail_stations", "rail_freight", "ports", "airports"]


def test_transport_layers_toggle_through_visibility(ui: UI) -> None:
    """The five transport layers: off at first, switched on from the Layers tab by visibility
    (the same layer objects, not rebuilt), each with a legend row and an attribution."""
    page = ui.goto("/")
    page.click("[role=tab][aria-controls=pane-layers]")
    vis_js = """(ids) => ids.map((g) => {
      const m = window.nrwSites.map;
      return m.getStyle().layers.filter((l) => l.source === 'nrw' && ['motorway_junctions', 'rail_stations',
        'rail_freight', 'ports', 'airports'].includes(l['source-layer']) && l['source-layer'] === g)
        .map((l) => m.getLayoutProperty(l.id, 'visibility') || 'visible');
    })"""
    before = page.evaluate(vis_js, TRANSPORT_GROUPS)
    assert all(v and set(v) == {"none"} for v in before), f"transport layers not all off: {before}"
    n_layers = page.evaluate("() => window.nrwSites.map.getStyle().layers.length")
    for g in TRANSPORT_GROUPS:
        row = page.locator(f"#layer-{g}").locator("xpath=ancestor::li[1]")
        assert row.locator(".legend li").count() >= 1, f"{g}: no legend row"
        assert row.locator(".attr").inner_text().startswith("©"), f"{g}: no attribution"
        page.check(f"#layer-{g}")
    after = page.evaluate(vis_js, TRANSPORT_GROUPS)
    assert all(set(v) == {"visible"} for v in after), f"not switched on: {after}"
    count = page.evaluate("() => window.nrwSites.map.getStyle().layers.length")
    assert count == n_layers, "layers were rebuilt"
    ui.settle()
    ui.screenshot("transport")


MAP_IDLE_JS = """() => new Promise((r) => {
    const m = window.nrwSites.map;
    const check = () => (m.loaded() && m.areTilesLoaded() ? r() : m.once('idle', check));
    m.once('idle', check);
    m.triggerRepaint();
})"""
H2_DRAWN_JS = """(layer) => window.nrwSites.map.queryRenderedFeatures({ layers: [layer] })
    .map((f) => Number(f.properties.commissioning_year))"""


def test_h2_timeline_redraws_the_network_and_rescores(ui: UI) -> None:
    """The year slider: the network in service by that year is drawn solid, the rest as the
    dotted future network, and the ranking is computed again with that horizon."""
    page = ui.goto("/")
    start = page.evaluate("() => window.nrwSites.store.state.year")
    drawn = page.evaluate(H2_DRAWN_JS, "h2-line")
    assert drawn and max(drawn) <= start, (start, sorted(set(drawn)))
    first = ranking_ids(page)[:20]
    year = page.locator("[data-control=h2-year]")
    early = int(year.get_attribute("min"))
    assert early < start
    year.fill(str(early))
    year.dispatch_event("input")
    year.dispatch_event("change")
    page.wait_for_function("y => window.nrwSites.store.state.year === y", arg=early, timeout=5000)
    page.evaluate(MAP_IDLE_JS)
    now = page.evaluate(H2_DRAWN_JS, "h2-line")
    future = page.evaluate(H2_DRAWN_JS, "h2-future")
    assert now and max(now) <= early and len(now) < len(drawn), (early, sorted(set(now)))
    assert future and min(future) > early
    top20_changed = """ids => [...document.querySelectorAll('[data-testid=ranking] [data-site-id]')]
        .slice(0, 20).map((e) => e.dataset.siteId).join() !== ids.join()"""
    page.wait_for_function(top20_changed, arg=first, timeout=10_000)
    ui.screenshot("h2-2025")


def test_language_switch_changes_the_strings(ui: UI) -> None:
    page = ui.goto("/")
    assert page.evaluate("() => document.documentElement.lang") == "de", "German is the default"
    sid = open_first_detail(ui)
    de = visible_text(page)
    switch_language(page, "en")
    ui.settle()
    wait_detail(page, sid)
    en = visible_text(page)
    changed = set(de.split()) ^ set(en.split())
    assert len(changed) >= 30, f"only a few words changed: {sorted(changed)[:40]}"
    for word in ("Rangliste", "Gewichtung", "Punktzahl"):
        assert word in de and word not in en, f"{word!r} is still shown in English"
    ui.screenshot("en")
    switch_language(page, "de")
    ui.settle()
    wait_detail(page, sid)
    assert visible_text(page).split() == de.split(), "switching back does not restore German"


def add_from_detail(page: Any, sid: str, action: str) -> None:
    """Open ``sid``'s detail and press its shortlist or compare button (``data-detail-action``)."""
    open_detail(page, sid)
    btn = page.locator(f'{DETAIL} [data-detail-action="{action}"]').first
    btn.click()
    page.wait_for_function(
        "b => b.getAttribute('aria-pressed') === 'true'", arg=btn.element_handle(), timeout=5000
    )


def test_shortlist_downloads_as_geojson(ui: UI) -> None:
    page = ui.goto("/")
    ids = ranking_ids(page)[:3]
    for sid in ids:
        add_from_detail(page, sid, "shortlist")
    page.locator("[data-action=shortlist-open]").first.click()
    with page.expect_download() as dl:
        page.locator("[data-action=download-geojson]").first.click()
    path = ui.artefact("shortlist.geojson")
    dl.value.save_as(path)
    ui.screenshot("dialog")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection"
    got = [f.get("id") or f["properties"].get("site_id") for f in doc["features"]]
    assert got == ids
    for f in doc["features"]:
        assert f["type"] == "Feature"
        assert f["geometry"]["type"] in ("Polygon", "MultiPolygon")
        lon, lat = (
            f["geometry"]["coordinates"][0][0][:2]
            if f["geometry"]["type"] == "Polygon"
            else f["geometry"]["coordinates"][0][0][0][:2]
        )
        assert 5.8 < lon < 9.5 and 50.3 < lat < 52.6, "not WGS84 inside NRW"


def test_permalink_round_trips(ui: UI, api: httpx.Client) -> None:
    page = ui.goto("/")
    weights = set_weights(page, random_weights(random.Random(7), sliders(page)))
    page.locator("#tab-filters").click()
    page.locator("[data-filter=min_area_ha]").fill("8")
    page.locator("[data-filter=min_area_ha]").dispatch_event("change")
    ui.settle()
    expected = api_order(api, None, weights, min_area_ha=8)
    order = wait_for_order(page, expected)
    assert order[:TOP] == expected[:TOP], f"min_area_ha=8: {first_difference(order, expected)}"
    sid = order[4]
    open_detail(page, sid)
    wait_for_query(page, f"sel={sid}")
    wait_for_query(page, "min_area_ha=8")
    url = page.url
    page2 = ui.context.new_page()
    page2.goto(url)
    ui.wait_ready(page2)
    assert {k: v["value"] for k, v in sliders(page2).items()} == weights
    assert page2.locator("[data-filter=min_area_ha]").input_value() == "8"
    assert ranking_ids(page2)[:TOP] == order[:TOP]
    wait_detail(page2, sid)
    assert page.locator(DETAIL).inner_text() == page2.locator(DETAIL).inner_text()
    ui.screenshot("restored", page=page2)


def test_expose_pdf_names_the_site(ui: UI) -> None:
    """The exposé prints as a PDF naming the site (as many A4 pages as it needs: test_layout.py)."""
    from pypdf import PdfReader

    page = ui.goto("/")
    sid = open_first_detail(ui)
    link = page.locator(f'[data-testid=expose], {DETAIL} a[href*="expose"]').first
    with ui.context.expect_page() as new:
        link.click()
    expose = new.value
    expose.wait_for_load_state("load")
    ui.wait_ready(expose)
    ui.screenshot("expose", page=expose)
    out = ui.artefact("expose.pdf")
    expose.pdf(path=str(out), format="A4", print_background=True)
    reader = PdfReader(str(out))
    text = reader.pages[0].extract_text()
    name = api_name(ui, sid)
    assert name.split(",")[0] in text, "the exposé PDF does not name the site"


def api_name(ui: UI, sid: str) -> str:
    """A site's name from the API."""
    with httpx.Client(base_url=ui.base) as c:
        return c.get(f"/api/sites/{sid}/score").json()["name"]


@pytest.mark.parametrize("lang", ["de", "en"])
def test_axe_detail_panel(ui: UI, lang: str) -> None:
    page = ui.goto("/")
    switch_language(page, lang)
    open_first_detail(ui)
    ui.settle()
    vs = run_axe(page)
    assert not vs, "axe: serious or critical violations\n  " + describe_violations(vs)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_axe_compare_view(ui: UI, lang: str) -> None:
    page = ui.goto("/")
    switch_language(page, lang)
    for sid in ranking_ids(page)[:3]:
        add_from_detail(page, sid, "compare")
    if not page.locator(COMPARE).is_visible():
        page.locator("[data-action=compare-open]").first.click()
    page.locator(COMPARE).wait_for(state="visible", timeout=5000)
    ui.settle()
    ui.screenshot("compare")
    vs = run_axe(page)
    assert not vs, "axe: serious or critical violations\n  " + describe_violations(vs)


# -- keyboard: one check per row of the help's key table (data-test-id), in one page -----------
def _active(page: Any) -> str:
    return (page.locator(RANKING).get_attribute("aria-activedescendant") or "").removeprefix("site-")


def _selected(page: Any) -> str | None:
    return page.evaluate("() => window.nrwSites.store.state.sel")


def _zoom(page: Any) -> float:
    return float(page.evaluate("() => (location.hash.match(/map=([\\d.]+)/) || [0, 0])[1]"))


def _key_listbox_arrows(page: Any) -> None:
    ids = ranking_ids(page)
    page.locator(RANKING).focus()
    assert _active(page) == ids[0], "focusing the list does not make its first entry active"
    page.keyboard.press("ArrowDown")
    assert _active(page) == ids[1] and _selected(page) == ids[1], "ArrowDown does not move on"
    page.keyboard.press("ArrowUp")
    assert _active(page) == ids[0] and _selected(page) == ids[0], "ArrowUp does not move back"


def _key_listbox_home_end(page: Any) -> None:
    page.locator(RANKING).focus()
    page.keyboard.press("End")
    ids = ranking_ids(page)
    assert _active(page) == ids[-1], "End does not go to the last entry"
    page.keyboard.press("Home")
    assert _active(page) == ranking_ids(page)[0], "Home does not go to the first entry"


def _key_listbox_m(page: Any) -> None:
    page.locator(RANKING).focus()
    before = int(page.locator("[data-shortlist-count]").first.inner_text())
    page.keyboard.press("m")
    page.wait_for_function(
        "n => +document.querySelector('[data-shortlist-count]').textContent === n",
        arg=before + 1,
        timeout=3000,
    )
    assert _active(page) in page.evaluate("() => window.nrwSites.store.state.shortlist")


def _key_listbox_v(page: Any) -> None:
    page.locator(RANKING).focus()
    page.keyboard.press("v")
    assert _active(page) in page.evaluate("() => window.nrwSites.store.state.cmp")


def _key_slider(page: Any) -> None:
    s = page.locator(f"{SLIDER}").first
    s.focus()
    v0 = float(s.input_value())
    page.keyboard.press("ArrowRight")
    assert float(s.input_value()) > v0, "ArrowRight does not raise the weight"
    page.keyboard.press("PageDown")
    page.keyboard.press("PageDown")
    assert float(s.input_value()) < v0, "PageDown does not lower the weight"
    page.keyboard.press("End")
    assert float(s.input_value()) == float(s.get_attribute("max") or 100)


def _key_tabs(page: Any) -> None:
    page.locator("[role=tab][aria-selected=true]").first.focus()
    first = page.evaluate("() => document.activeElement.id")
    page.keyboard.press("ArrowRight")
    moved = page.evaluate("() => document.activeElement.id")
    assert moved != first, "ArrowRight does not move between the tabs"
    assert page.locator(f"#{first}").get_attribute("aria-selected") == "true", (
        "a tab activates on focus (the help says Enter)"
    )
    page.keyboard.press("Enter")
    assert page.locator(f"#{moved}").get_attribute("aria-selected") == "true"
    pane = page.locator(f"#{moved}").get_attribute("aria-controls")
    assert page.locator(f"#{pane}").is_visible()


def _key_escape(page: Any) -> None:
    page.locator("[data-action=help-open]").click()
    dlg = page.locator("[data-dialog=help]")
    assert dlg.evaluate("d => d.open")
    page.keyboard.press("Escape")
    assert not dlg.evaluate("d => d.open"), "Escape does not close the dialog"


def _key_map(page: Any) -> None:
    canvas = page.locator("canvas.maplibregl-canvas")
    canvas.focus()
    z0 = _zoom(page)
    page.keyboard.press("+")
    page.wait_for_function(
        "z => +(location.hash.match(/map=([\\d.]+)/) || [0, 0])[1] > z", arg=z0, timeout=5000
    )
    assert _zoom(page) > z0


KEY_CHECKS = {
    "key-listbox-arrows": _key_listbox_arrows,
    "key-listbox-home-end": _key_listbox_home_end,
    "key-listbox-m": _key_listbox_m,
    "key-listbox-v": _key_listbox_v,
    "key-slider": _key_slider,
    "key-tabs": _key_tabs,
    "key-escape": _key_escape,
    "key-map": _key_map,
}


def test_keyboard_contract_of_the_help_table(ui: UI) -> None:
    """Every row of the help's key table (``data-test-id``) does what it says."""
    page = ui.goto("/")
    rows = page.eval_on_selector_all("[data-test-id^=key-]", "els => els.map(e => e.dataset.testId)")
    assert rows, "the help has no key table with data-test-id rows"
    unknown = sorted(set(rows) - set(KEY_CHECKS))
    assert not unknown, f"help rows without a test here: {unknown}"
    failures = []
    for row in rows:
        try:
            KEY_CHECKS[row](page)
        except (AssertionError, Exception) as e:  # noqa: BLE001 - collected per row
            failures.append(f"{row}: {str(e).splitlines()[0][:200]}")
            page.keyboard.press("Escape")
    assert not failures, "keyboard rows that fail:\n  " + "\n  ".join(failures)


def test_tablet_touch_layout(browser: Any, server: str, request: pytest.FixtureRequest) -> None:
    """1024×768 with touch: ready, the list and a slider within the viewport, a tap opens a detail."""
    u = UI(browser, server, request.node.name, viewport={"width": 1024, "height": 768}, has_touch=True)
    request.node._bt_ui = u
    try:
        page = u.goto("/")
        for sel in (f"{ENTRY} >> nth=0", f"{SLIDER} >> nth=0", LANG):
            box = page.locator(sel).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 1024 + 1, (
                f"{sel} is outside the 1024 px viewport: {box}"
            )
        sid = ranking_ids(page)[1]
        page.locator(f'{RANKING} [data-site-id="{sid}"]').tap()
        wait_detail(page, sid)
        assert page.locator(BREAKDOWN).is_visible()
        u.screenshot()
    finally:
        u.close()
