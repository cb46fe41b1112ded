"""Staff in the web map (issue 18 §1–2): sign in with a key, see confidential fields and
non-public sites, share shortlists with notes, sign out; the public page, its data and its tiles
hold none of the confidential values.
"""

from __future__ import annotations

import gzip
from typing import Any

import httpx
import pytest

from layers.keys import KeyStore
from tests.browser.conftest import UI

DETAIL = "[data-testid=detail]"
CONF = f"{DETAIL} [data-testid=confidential]"


@pytest.fixture(scope="module")
def keys(bt_data) -> dict[str, str]:
    store = KeyStore(bt_data)
    return {name: store.add(f"browser-{name}", "staff") for name in ("anna", "ben")}


@pytest.fixture(scope="module")
def secrets(api: httpx.Client, keys: dict[str, str]) -> dict[str, Any]:
    """Hidden site ids and every confidential value, read with a staff key."""
    auth = {"Authorization": f"Bearer {keys['anna']}"}
    cols = api.get("/api/sites/table", headers=auth).json()["columns"]
    hidden = [sid for sid, fid in zip(cols["site_id"], cols["fid"], strict=True) if fid == -1]
    assert len(hidden) > 20
    items = api.get("/api/ranking", params={"limit": 2000, "breakdown": "false"}, headers=auth).json()[
        "items"
    ]
    owners = sorted({it["owner_contact"] for it in items if it.get("owner_contact")})
    assert len(owners) > 20
    first = next(it for it in items if it["site_id"] in set(hidden) and it.get("owner_contact"))
    return {"hidden": hidden, "owners": owners, "site": first}


def sign_in(ui: UI, key: str, path: str = "/") -> Any:
    """Sign in on the start page, then open ``path`` (a public page cannot link a hidden site)."""
    page = ui.goto("/")
    page.click("[data-testid=signin]")
    page.fill("[data-dialog=signin] input[name=key]", key)
    page.click("[data-dialog=signin] button[type=submit]")
    page.wait_for_selector("[data-session-who]:not([hidden])", timeout=30_000)
    ui.wait_ready()
    return ui.goto(path) if path != "/" else page


def test_signed_in_staff_see_the_confidential_fields_of_a_non_public_site(ui: UI, keys, secrets) -> None:
    site = secrets["site"]
    page = sign_in(ui, keys["anna"], f"/?sel={site['site_id']}")
    box = page.locator(CONF)
    box.wait_for(state="visible", timeout=15_000)
    text = box.inner_text()
    assert site["owner_contact"] in text and "nicht öffentlich" in text
    assert "Vertraulich" in text
    assert page.locator("[data-testid=signin]").inner_text().strip() == "Abmelden"
    assert "browser-anna" in page.locator("[data-session-who]").inner_text()
    # the key is nowhere in the page's reach: not in the URL, a readable cookie or storage
    stored = page.evaluate(
        "() => [location.href, document.cookie, JSON.stringify(localStorage), JSON.stringify(sessionStorage)]"
    )
    assert not any(keys["anna"] in s for s in stored)
    assert "nrw_session" not in stored[1]  # HttpOnly
    # the non-public sites are on the map, one point each, ringed
    drawn = page.evaluate(
        "() => { const h = window.nrwSites; return h.map.getLayer('staff-site-points') ?"
        " h.points[1].drawn().rows.map((r) => h.prep.ids[r]) : []; }"
    )
    assert sorted(drawn) == sorted(secrets["hidden"])
    ui.screenshot("staff-detail", page.locator(DETAIL).first)


def test_the_public_page_data_and_tiles_hold_no_confidential_value(ui: UI, secrets) -> None:
    bodies: list[bytes] = []

    def keep(response: Any) -> None:
        try:
            body = response.body()
        except Exception:  # noqa: BLE001 - redirects and aborted requests have no body
            return
        bodies.append(gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body)

    ui.page.on("response", keep)
    page = ui.goto("/")
    page.wait_for_timeout(1500)
    page.mouse.wheel(0, -600)  # zoom in: more tiles
    ui.settle()
    assert page.locator(CONF).count() == 0
    assert page.locator("[data-testid=signin]").inner_text().strip() == "Anmelden"
    assert page.evaluate(
        "() => !window.nrwSites.map.getLayer('staff-site-points') && window.nrwSites.points.length === 1"
    )
    assert len(bodies) > 10
    blob = b"\n".join(bodies) + page.content().encode()
    leaked = [o for o in secrets["owners"] if o.encode() in blob]
    assert leaked == []
    assert [h for h in secrets["hidden"] if h.encode() in blob] == []


def test_a_shared_shortlist_carries_notes_from_one_member_of_staff_to_another(
    ui: UI, browser, server, keys, secrets
) -> None:
    page = sign_in(ui, keys["anna"])
    first = page.locator("[data-testid=ranking] [role=option]").first
    sid = first.get_attribute("data-site-id")
    first.click()
    page.click(f"{DETAIL} [data-detail-action=shortlist]")  # into this browser's shortlist
    assert page.locator("[data-shortlist-count]").first.inner_text() == "1"
    page.once("dialog", lambda d: d.accept("Elektrolyseur Q1/2027"))
    page.click("[data-action=shortlist-open]")
    page.click("[data-shared-action=new]")
    page.wait_for_selector("[data-shared-select] option", state="attached", timeout=10_000)
    page.click("[data-shared-action=add-local]")
    note = page.locator(f"textarea[data-note='{sid}']")
    note.wait_for(timeout=10_000)
    note.fill("Eigentümer ruft zurück")
    note.blur()
    page.locator("[data-note-status]", has_text="gespeichert").wait_for(timeout=10_000)
    ui.screenshot("shared-list", page.locator("[data-dialog=shortlist]"))

    other = UI(browser, server, ui.name + "-ben")
    try:
        page2 = sign_in(other, keys["ben"])
        page2.click("[data-action=shortlist-open]")
        got = page2.locator(f"textarea[data-note='{sid}']")
        got.wait_for(timeout=10_000)
        assert got.input_value() == "Eigentümer ruft zurück"
        assert "Elektrolyseur Q1/2027" in page2.locator("[data-shared-select]").inner_text()
        assert other.log.problems() == []
    finally:
        other.close()


def test_sign_out_takes_the_confidential_view_away(ui: UI, keys, secrets) -> None:
    site = secrets["site"]
    page = sign_in(ui, keys["ben"], f"/?sel={site['site_id']}")
    page.locator(CONF).wait_for(state="visible", timeout=15_000)
    page.click("[data-testid=signin]")  # now "Abmelden"
    page.wait_for_selector("[data-session-who][hidden]", state="attached", timeout=30_000)
    ui.wait_ready()
    assert page.locator("[data-testid=signin]").inner_text().strip() == "Anmelden"
    assert page.locator(CONF).count() == 0
    assert site["owner_contact"] not in page.content()
    assert site["site_id"] not in page.url  # the hidden site left the link with the session


def test_a_wrong_key_says_so_in_the_page_language(ui: UI) -> None:
    page = ui.goto("/?lang=en")
    page.click("[data-testid=signin]")
    page.fill("[data-dialog=signin] input[name=key]", "nrw_00000000_" + "x" * 43)
    page.click("[data-dialog=signin] button[type=submit]")
    err = page.locator("[data-signin-error]")
    err.wait_for(state="visible", timeout=15_000)
    assert err.inner_text() == "This key is not valid."
    assert page.locator("[data-dialog=signin] input[name=key]").input_value() == ""
    # the 401 is the expected answer (chromium logs it as a failed resource)
    ui.log.console_errors = [m for m in ui.log.console_errors if "401" not in m]


def test_staff_see_confidential_rows_in_compare_the_list_and_the_expose(ui: UI, keys, secrets) -> None:
    site = secrets["site"]
    page = sign_in(ui, keys["anna"], f"/?sel={site['site_id']}&cmp={site['site_id']}")
    # the list marks the non-public site (it is selected, so it is listed even beyond the top)
    row = page.locator(f"[data-testid=ranking] [data-site-id='{site['site_id']}']")
    row.wait_for(timeout=15_000)
    assert "nicht öffentlich" in row.inner_text()
    # compare (open: the link names a comparison): the confidential rows under the facts
    owner = page.locator("#compare tr[data-fact=owner_contact]")
    owner.wait_for(timeout=15_000)
    assert site["owner_contact"] in owner.inner_text()
    # the exposé (the same session): the confidential box
    ex = page.context.new_page()
    ex.goto(f"{ui.base}/expose.html?site={site['site_id']}")
    ui.wait_ready(ex)
    box = ex.locator("[data-testid=confidential]")
    assert site["owner_contact"] in box.inner_text() and "nicht öffentlich" in box.inner_text()
    ex.close()


def test_a_shared_list_prints_with_its_notes(ui: UI, keys, api: httpx.Client) -> None:
    auth = {"Authorization": f"Bearer {keys['ben']}"}
    lst = api.post("/api/shortlists", json={"name": "Batteriewerk 2027"}, headers=auth).json()
    ids = [it["site_id"] for it in api.get("/api/ranking", params={"limit": 2}).json()["items"]]
    for k, sid in enumerate(ids):
        api.put(f"/api/shortlists/{lst['id']}/sites/{sid}", json={"note": f"Notiz {k}"}, headers=auth)
    page = sign_in(ui, keys["anna"])
    page.click("[data-action=shortlist-open]")
    page.select_option("[data-shared-select]", lst["id"])
    link = page.locator("[data-shared-expose]")
    link.wait_for(state="visible", timeout=10_000)
    with page.context.expect_page() as new:
        link.click()
    ex = new.value
    ui.wait_ready(ex)
    assert "Batteriewerk 2027" in ex.locator("[data-testid=expose-cover] h1").inner_text()
    notes = ex.locator(".team-note").all_inner_texts()
    assert [n.split("\n")[-1] for n in notes] == ["Notiz 0", "Notiz 1"]
    ex.close()


STAFF_POINTS_JS = """() => {
  const h = window.nrwSites, r = h.store.state.ranking, drawn = h.points[1].drawn();
  return drawn.rows.map((row, k) => [drawn.bands[k], Number.isNaN(r.score[row]) ? null : r.score[row]]);
}"""


def score_band(score: float | None, breaks: list[float]) -> int:
    """The score class of maps/bands.py (-1 without a score), computed here independently."""
    if score is None:
        return -1
    return sum(1 for b in breaks if score >= b)


def test_the_non_public_points_take_the_band_of_their_live_score(ui: UI, keys, api: httpx.Client) -> None:
    breaks = api.get("/api/ui/config").json()["bands"]["breaks"]
    page = sign_in(ui, keys["ben"])
    first = page.evaluate(STAFF_POINTS_JS)
    assert len(first) > 20
    assert [b for b, _ in first] == [score_band(s, breaks) for _, s in first]
    weights = page.evaluate("() => window.nrwSites.store.state.weights")
    page.evaluate("w => window.nrwSites.setWeights(w)", {k: (0 if k == "h2" else 100) for k in weights})
    moved = page.evaluate(STAFF_POINTS_JS)
    assert [b for b, _ in moved] == [score_band(s, breaks) for _, s in moved]
    assert [b for b, _ in moved] != [b for b, _ in first]  # the move changed some points' class
    ui.wait_ready()
    ui.screenshot("staff-points-moved")


def test_a_non_public_point_is_found_under_the_pointer_at_every_zoom(ui: UI, keys, secrets) -> None:
    """The staff points are a custom layer (map-points.js): hover and click find them by their own
    index, at the zoom of the public points and at that of the polygons alike."""
    page = sign_in(ui, keys["ben"])
    sid = secrets["hidden"][0]
    for zoom in (8.5, 12):
        page.evaluate(
            """([id, z]) => { const h = window.nrwSites, row = h.prep.rowOf.get(id);
               h.map.jumpTo({center: [h.prep.columns.lon[row], h.prep.columns.lat[row]], zoom: z}); }""",
            [sid, zoom],
        )
        ui.settle()
        at = page.evaluate(
            """(id) => { const h = window.nrwSites, m = h.map, row = h.prep.rowOf.get(id);
               const p = m.project([h.prep.columns.lon[row], h.prep.columns.lat[row]]);
               const r = m.getCanvas().getBoundingClientRect();
               return {x: r.left + p.x, y: r.top + p.y}; }""",
            sid,
        )
        page.mouse.move(at["x"], at["y"])
        page.wait_for_function("id => window.nrwSites.store.state.hover === id", arg=sid, timeout=5000)
        page.mouse.move(at["x"], 20)  # off the map
        page.wait_for_function("() => window.nrwSites.store.state.hover === null", timeout=5000)
    page.mouse.click(at["x"], at["y"])
    page.wait_for_function("id => window.nrwSites.store.state.sel === id", arg=sid, timeout=5000)
    box = page.locator(CONF)
    box.wait_for(state="visible", timeout=15_000)
    assert "nicht öffentlich" in box.inner_text()
