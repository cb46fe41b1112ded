"""The detail panel's surroundings (issue 21): the warning naming the floodplain or Natura 2000
area a site overlaps, the three nearest industrial installations, the substation's voltage, and
indicators formatted by their declared units, in German and English, against the API.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.conftest import UI

DETAIL = "[data-testid=detail]"
WARNING = f"{DETAIL} [data-testid=constraint-warning]"
INSTALLATIONS = f"{DETAIL} [data-testid=installations] li"
SUBSTATION = f"{DETAIL} [data-testid=substation]"
WORDS = {
    "de": {
        "no_estimate": "keine Schätzung",
        "flood": "Überschwemmungsgebiet",
        "natura": "Natura-2000-Gebiet",
    },
    "en": {"no_estimate": "no estimate", "flood": "floodplain", "natura": "Natura 2000 area"},
}


@pytest.fixture(scope="module")
def contexts(api: httpx.Client) -> dict[str, dict[str, Any]]:
    """The context of the first 400 sites of the default ranking, by id."""
    items = api.get("/api/ranking", params={"limit": 400, "breakdown": "false"}).json()["items"]
    return {it["site_id"]: api.get(f"/api/sites/{it['site_id']}/context").json() for it in items}


def _pick(contexts: dict[str, dict[str, Any]], block: str) -> tuple[str, dict[str, Any]]:
    for sid, ctx in contexts.items():
        if ctx[block]["areas"]:
            return sid, ctx
    pytest.fail(f"no site among the first {len(contexts)} overlaps {block}")


def _open(ui: UI, sid: str, lang: str) -> Any:
    page = ui.goto(f"/?sel={sid}&lang={lang}")
    page.locator(SUBSTATION).first.wait_for(state="visible", timeout=15_000)
    return page


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_warning_names_the_floodplain(ui: UI, contexts, lang: str) -> None:
    sid, ctx = _pick(contexts, "floodplains")
    page = _open(ui, sid, lang)
    warn = page.locator(WARNING)
    warn.wait_for(state="visible", timeout=10_000)
    text = warn.inner_text()
    for area in ctx["floodplains"]["areas"]:
        assert area["name"] in text
    assert WORDS[lang]["flood"] in text
    assert warn.get_attribute("role") == "note"
    ui.screenshot(f"floodplain-{lang}", page.locator(DETAIL).first)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_warning_names_the_natura_2000_area(ui: UI, contexts, lang: str) -> None:
    sid, ctx = _pick(contexts, "protected_areas")
    page = _open(ui, sid, lang)
    warn = page.locator(WARNING)
    warn.wait_for(state="visible", timeout=10_000)
    text = warn.inner_text()
    for area in ctx["protected_areas"]["areas"]:
        assert area["name"] in text
        assert all(code in text for code in area["codes"])
    assert WORDS[lang]["natura"] in text
    ui.screenshot(f"natura-{lang}", page.locator(DETAIL).first)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_three_installations_and_the_substation(ui: UI, contexts, lang: str) -> None:
    # a site without constraints, one of whose installations has no Hotmaps estimate if any
    free = [
        s for s, c in contexts.items() if not c["floodplains"]["areas"] and not c["protected_areas"]["areas"]
    ]
    zero = [
        s
        for s in free
        if any(not i["excess_heat_gwh"] for i in contexts[s]["industrial_heat"]["installations"])
    ]
    sid = (zero or free)[0]
    ctx = contexts[sid]
    page = _open(ui, sid, lang)
    assert page.locator(WARNING).count() == 0
    rows = page.locator(INSTALLATIONS)
    assert rows.count() == 3
    for li, inst in zip(rows.all_inner_texts(), ctx["industrial_heat"]["installations"], strict=True):
        assert inst["name"] in li
        if not inst["excess_heat_gwh"]:
            assert WORDS[lang]["no_estimate"] in li
        else:
            assert "GWh/a" in li
    grid = page.locator(f"{DETAIL} dd:has([data-testid=substation])").inner_text()
    assert ctx["substation"]["name"] in grid
    kv = ctx["substation"]["voltage_kv"]
    assert f"{kv}\u00a0kV" in grid or f"{kv} kV" in grid
    panel = page.locator(DETAIL).first.inner_text()
    assert "_km" not in panel and "_share" not in panel  # no raw names
    rows.last.scroll_into_view_if_needed()
    ui.screenshot(f"installations-{lang}", page.locator(DETAIL).first)
