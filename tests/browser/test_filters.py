"""The filter tab follows the served filter registry (issue 22 §2/§4, issue 18 defect 3).

For every filter of ``GET /api/sites/table``'s ``filters`` the test sets it through the page, as a
person would (type into ``input[data-filter=<name>]``, untick ``input[data-filter-choice=<name>]``,
pick a place in the autocomplete), checks that the page's ranking equals ``/api/ranking`` with the
same filter, and that the permalink carries it by its API name and restores it. A number typed
with a decimal comma (``20,5``) is 20.5 in German and in English; unreadable text is marked
invalid and changes nothing.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from geo.availability import month_text
from tests.browser.conftest import UI
from tests.browser.test_ui import TOP, api_order, first_difference, ranking_ids, wait_for_order

STATE_JS = "n => window.nrwSites.store.state.filters[n]"


@pytest.fixture(scope="module")
def table(api: httpx.Client) -> dict[str, Any]:
    """``/api/sites/table`` (columns and the filter registry)."""
    r = api.get("/api/sites/table")
    r.raise_for_status()
    return r.json()


def _median(values: list[Any]) -> float | None:
    xs = sorted(float(x) for x in values if x is not None and not math.isnan(float(x)))
    return xs[len(xs) // 2] if xs else None


def choose(spec: dict[str, Any], table: dict[str, Any]) -> tuple[str, Any]:
    """How to set a filter in the page and its API value: (typed text or codes, API value)."""
    col = table["columns"].get(spec["column"])
    if spec.get("format") == "month":  # a month field: typed and sent as YYYY-MM
        med = _median(col) if col is not None else None
        month = month_text(float(math.floor(med))) if med is not None else "2027-06"
        return month, month
    if spec["kind"] in ("min", "max"):
        share = spec.get("upper") == 1
        med = _median(col) if col is not None else None
        if share:
            pct = round(100 * med) if med is not None else 50
            pct = min(max(pct, 10), 90)
            return str(pct), pct / 100
        x = 20.5 if med is None else math.floor(med) + 0.5
        return f"{x:g}".replace(".", ","), x  # German input: the decimal comma
    if spec.get("choices"):
        present = [c for c in spec["choices"] if col is None or c in col]
        keep = present[:2] if len(present) > 2 else present[:1]
        return "choices", keep
    # a key filter without choices (ags, kreis): the first site's own key
    key = next(x for x in col if x)
    return "keys", [key]


def set_filter(page: Any, spec: dict[str, Any], how: str, value: Any, table: dict[str, Any]) -> None:
    """Set one filter through the page's controls."""
    name = spec["name"]
    number = page.locator(f'input[data-filter="{name}"]')
    boxes = page.locator(f'input[data-filter-choice="{name}"]')
    free = page.locator(f'input[data-filter-list="{name}"]')
    if number.count():
        number.fill(how)
        number.dispatch_event("change")
    elif boxes.count():
        for i in range(boxes.count()):
            b = boxes.nth(i)
            b.set_checked(b.get_attribute("value") in value)
    elif free.count():
        free.fill(",".join(value))
        free.dispatch_event("change")
    else:
        picks = page.locator("[data-picks]").get_attribute("data-picks") or ""
        assert name in picks.split(), f"the page has no control for the filter {name!r}"
        cols = table["columns"]
        key = value[0]
        if spec["column"] == "ags":
            place = cols["municipality"][cols["ags"].index(key)]
        else:
            place = cols["kreis"][cols[spec["column"]].index(key)]
        inp = page.locator("#place-input")
        inp.fill(place)
        page.locator(f"#place-options [data-index]:has-text('{place}')").first.wait_for(state="visible")
        options = page.eval_on_selector_all(
            "#place-options [data-index]", "els => els.map(e => e.textContent)"
        )
        want = "Gemeinde," if spec["column"] == "ags" else "Kreis / kreisfreie Stadt"
        idx = next(i for i, t in enumerate(options) if t.startswith(place) and want in t[len(place) :])
        page.locator(f'#place-options [data-index="{idx}"]').dispatch_event("mousedown")
    page.wait_for_function(
        "([n, v]) => JSON.stringify(window.nrwSites.store.state.filters[n]) === JSON.stringify(v)",
        arg=[name, value],
        timeout=5000,
    )


def test_every_served_filter_through_the_page_and_the_permalink(
    ui: UI, api: httpx.Client, table: dict[str, Any]
) -> None:
    specs = table["filters"]
    assert specs, "the table serves no filter registry"
    page = ui.goto("/")
    page.locator("#tab-filters").click()
    for spec in specs:
        name = spec["name"]
        page.locator("[data-action=reset-filters]").click()
        how, value = choose(spec, table)
        set_filter(page, spec, how, value, table)
        api_value = ",".join(value) if isinstance(value, list) else value
        expected = api_order(api, None, {}, **{name: api_value})
        excluded = api.get("/api/ranking", params={name: api_value, "limit": 1}).json()
        ui.settle()
        shown = wait_for_order(page, expected)
        assert shown, f"{name}={api_value}: the page ranks nothing"
        assert shown[:TOP] == expected[: len(shown[:TOP])], (
            f"{name}={api_value}: {first_difference(shown, expected)}"
        )
        page_excluded = page.evaluate("() => window.nrwSites.store.state.ranking.excluded")
        assert page_excluded.get(name) == excluded["excluded"].get(name), (
            f"{name}: {page_excluded} vs {excluded}"
        )
        assert excluded["excluded"].get(name), f"{name}={api_value} excludes no site: it would test nothing"
        # the permalink carries it by its API name and restores it
        try:  # the link is written 250 ms after the last change
            page.wait_for_function(
                "([n, v]) => new URLSearchParams(location.search).get(n) === v",
                arg=[name, str(api_value)],
                timeout=5000,
            )
        except Exception:  # noqa: BLE001 - reported by the assertion below
            pass
        q = parse_qs(urlparse(page.url).query)
        assert q[name] == [str(api_value)], f"{name}: the link says {q[name]}"
        page2 = ui.context.new_page()
        page2.goto(page.url)
        ui.wait_ready(page2)
        assert page2.evaluate(STATE_JS, name) == page.evaluate(STATE_JS, name), name
        restored = wait_for_order(page2, shown)
        assert restored[:TOP] == shown[:TOP], f"{name} restored: {first_difference(restored, shown)}"
        if spec["kind"] != "any_of":
            assert page2.locator(f'input[data-filter="{name}"]').input_value() == how
        elif page2.locator(f'input[data-filter-choice="{name}"]').count():
            ticked = page2.eval_on_selector_all(
                f'input[data-filter-choice="{name}"]', "els => els.filter(e => e.checked).map(e => e.value)"
            )
            assert ticked == value, name
        page2.close()
    ui.screenshot("all")


def test_an_unknown_filter_in_the_link_is_ignored(ui: UI, api: httpx.Client) -> None:
    page = ui.goto("/?max_no_such_share=0.2&min_5g=7&kind=nope&min_area_ha=12")
    filters = page.evaluate("() => window.nrwSites.store.state.filters")
    assert "max_no_such_share" not in filters
    assert filters["min_5g"] is None and filters["kind"] == [] and filters["min_area_ha"] == 12
    expected = api_order(api, None, {}, min_area_ha=12)
    shown = wait_for_order(page, expected)
    assert shown[:TOP] == expected[: len(shown[:TOP])], first_difference(shown, expected)


@pytest.mark.parametrize(("lang", "locale"), [("de", "de-DE"), ("en", "en-US")])
def test_a_decimal_comma_is_a_decimal_mark(
    browser: Any, server: str, api: httpx.Client, lang: str, locale: str
) -> None:
    u = UI(browser, server, f"test_a_decimal_comma_{lang}", locale=locale)
    try:
        page = u.goto(f"/?lang={lang}")
        page.locator("#tab-filters").click()
        table = api.get("/api/sites/table").json()
        numbers = [f for f in table["filters"] if f["kind"] in ("min", "max") and f.get("upper") != 1]
        spec = next(f for f in numbers if f["kind"] == "max")
        name = spec["name"]
        inp = page.locator(f'input[data-filter="{name}"]')
        inp.click()
        inp.press_sequentially("20,5")
        inp.dispatch_event("change")
        page.wait_for_function(f"() => window.nrwSites.store.state.filters.{name} === 20.5", timeout=5000)
        assert inp.get_attribute("aria-invalid") is None
        page.wait_for_function("n => new URLSearchParams(location.search).get(n) === '20.5'", arg=name)
        u.settle()
        expected = api_order(api, None, {}, **{name: 20.5})
        shown = wait_for_order(page, expected)
        assert shown[:TOP] == expected[: len(shown[:TOP])], first_difference(shown, expected)
        # a share in %: 20,5 % is 0.205
        share = next((f for f in table["filters"] if f.get("upper") == 1), None)
        if share:
            s = page.locator(f'input[data-filter="{share["name"]}"]')
            s.fill("20,5")
            s.dispatch_event("change")
            page.wait_for_function(
                f"() => window.nrwSites.store.state.filters.{share['name']} === 0.205", timeout=5000
            )
        # unreadable input is marked invalid with a message and changes nothing
        inp.fill("20 km")
        inp.dispatch_event("change")
        assert inp.get_attribute("aria-invalid") == "true"
        err = page.locator(f"#filter-{name}-error")
        assert err.is_visible() and err.inner_text().strip()
        assert page.evaluate(f"() => window.nrwSites.store.state.filters.{name}") == 20.5
        u.screenshot("filters-tab")
        inp.fill("7,25")
        inp.dispatch_event("change")
        page.wait_for_function(f"() => window.nrwSites.store.state.filters.{name} === 7.25", timeout=5000)
        assert inp.get_attribute("aria-invalid") is None and not err.is_visible()
        assert ranking_ids(page)
        assert not u.log.problems(), u.log.problems()
    finally:
        u.close()


def test_the_place_list_stays_open_when_the_focus_comes_back(ui: UI, table: dict[str, Any]) -> None:
    """A click elsewhere and typing again at once (within the list's 150 ms close delay) kept a
    closed list: the delayed close fired after the new input opened it."""
    page = ui.goto("/")
    page.locator("#tab-filters").click()
    place = table["columns"]["municipality"][0]
    inp = page.locator("#place-input")
    inp.focus()
    # blur, come back and type within the same task: well inside the 150 ms
    page.evaluate(
        """p => { const i = document.querySelector('#place-input'); i.blur(); i.focus();
                  i.value = p; i.dispatchEvent(new Event('input', { bubbles: true })); }""",
        place,
    )
    page.wait_for_timeout(400)
    assert page.locator("#place-options").is_visible(), "the list closed while the input has the focus"
    assert page.locator(f"#place-options [data-index]:has-text('{place}')").count() >= 1
    # the focus really leaving still closes it
    page.locator("[data-action=reset-filters]").focus()
    page.wait_for_function("() => document.querySelector('#place-options').hidden", timeout=2000)
