"""The site points below zoom 10 (maps/static/js/map-points.js, a custom WebGL layer drawn from
the site table, not from the tiles): a point under the pointer shows its tip and a click selects
it, as with the tiles' points before; the points follow the layer toggle and give way to the
polygons from zoom 10.
"""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import UI
from tests.browser.harness import MAP_ONLY_CSS, decode_png

# The pixel (page coordinates) of a site's point, and whether it lies in the free map area.
POINT_AT_JS = """(id) => {
  const h = window.nrwSites, m = h.map, row = h.prep.rowOf.get(id);
  const p = m.project([h.prep.columns.lon[row], h.prep.columns.lat[row]]);
  const r = m.getCanvas().getBoundingClientRect();
  const x = r.left + p.x, y = r.top + p.y;
  const el = document.elementFromPoint(x, y);
  return {x, y, free: el === m.getCanvas()};
}"""


def _centre_on(page: Any, sid: str, zoom: float) -> None:
    """Move the camera to the site at ``zoom`` and wait until the map is idle."""
    page.evaluate(
        """([id, z]) => { const h = window.nrwSites, row = h.prep.rowOf.get(id);
           h.map.jumpTo({center: [h.prep.columns.lon[row], h.prep.columns.lat[row]], zoom: z}); }""",
        [sid, zoom],
    )
    page.wait_for_function("() => window.nrwSites.map.loaded() && window.nrwSites.map.areTilesLoaded()")


def _top_site(page: Any) -> str:
    return page.evaluate("() => window.nrwSites.prep.ids[window.nrwSites.store.state.ranking.order[0]]")


def test_a_point_under_the_pointer_shows_its_tip_and_a_click_selects_it(ui: UI) -> None:
    page = ui.goto("/")
    sid = _top_site(page)
    _centre_on(page, sid, 8.5)
    at = page.evaluate(POINT_AT_JS, sid)
    assert at["free"], "the site's point is covered by a panel"
    page.mouse.move(at["x"], at["y"])
    page.wait_for_function("id => window.nrwSites.store.state.hover === id", arg=sid, timeout=5000)
    name = page.evaluate("id => window.nrwSites.prep.columns.name[window.nrwSites.prep.rowOf.get(id)]", sid)
    tip = page.locator(".hover-tip")
    tip.wait_for(state="visible", timeout=5000)
    assert name in tip.inner_text()
    assert page.evaluate("() => window.nrwSites.map.getCanvas().style.cursor") == "pointer"
    page.mouse.click(at["x"], at["y"])
    page.wait_for_function("id => window.nrwSites.store.state.sel === id", arg=sid, timeout=5000)
    assert name in page.locator(".site-pop").inner_text()
    # off the map: no hover
    page.keyboard.press("Escape")
    page.mouse.move(at["x"], 20)
    page.wait_for_function("() => window.nrwSites.store.state.hover === null", timeout=5000)
    ui.screenshot()


def test_points_follow_the_sites_toggle_and_give_way_to_polygons_from_zoom_10(ui: UI) -> None:
    page = ui.goto("/")
    sid = _top_site(page)
    _centre_on(page, sid, 8.5)
    at = page.evaluate(POINT_AT_JS, sid)
    page.mouse.move(at["x"], at["y"])
    page.wait_for_function("id => window.nrwSites.store.state.hover === id", arg=sid, timeout=5000)
    page.mouse.move(at["x"], 20)
    page.wait_for_function("() => window.nrwSites.store.state.hover === null", timeout=5000)
    # the sites layer switched off in the layer list: the point is neither drawn nor found
    page.click("[role=tab][aria-controls=pane-layers]")
    page.uncheck("input[data-layer=sites]")
    assert page.evaluate("() => window.nrwSites.map.getLayoutProperty('site-points', 'visibility')") == "none"
    page.mouse.move(at["x"], at["y"])
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.nrwSites.store.state.hover") is None
    page.check("input[data-layer=sites]")
    # from zoom 10 the polygon (feature-state band of the tiles) is what the pointer finds
    page.mouse.move(at["x"], 20)
    _centre_on(page, sid, 12)
    at = page.evaluate(POINT_AT_JS, sid)
    page.mouse.move(at["x"], at["y"])
    page.wait_for_function("id => window.nrwSites.store.state.hover === id", arg=sid, timeout=5000)
    band = page.evaluate(
        "id => window.nrwSites.map.getFeatureState({source: 'nrw', sourceLayer: 'sites', id}).band", sid
    )
    assert band is not None and band >= 0, "the polygon has no score band in its feature-state"


# Counts the site points' draws (50,000 points in one gl.POINTS call) and the copies of their
# texture (one triangle) in the page's WebGL contexts.
COUNT_DRAWS_JS = """() => {
  const n = window.__draws = {points: 0, copies: 0};
  for (const C of [WebGLRenderingContext, WebGL2RenderingContext]) {
    const draw = C.prototype.drawArrays;
    C.prototype.drawArrays = function (mode, first, count) {
      if (mode === this.POINTS) n.points++;
      else if (mode === this.TRIANGLES && count === 3) n.copies++;
      return draw.call(this, mode, first, count);
    };
  }
}"""
REPAINT_JS = """async (frames) => {
  const m = window.nrwSites.map;
  for (let i = 0; i < frames; i++) await new Promise((r) => { m.once('render', r); m.triggerRepaint(); });
  const n = {...window.__draws};
  window.__draws.points = window.__draws.copies = 0;
  return n;
}"""


def test_a_frame_with_the_same_view_and_bands_copies_the_points_instead_of_drawing_them(ui: UI) -> None:
    ui.context.add_init_script(f"({COUNT_DRAWS_JS})()")
    page = ui.goto("/")
    ui.settle()
    page.evaluate(REPAINT_JS, 1)  # counters to zero
    before = ui.screenshot("map-before", style=MAP_ONLY_CSS)
    # frames that change nothing (as while tiles arrive): the texture is copied, no point drawn
    n = page.evaluate(REPAINT_JS, 3)
    assert n["points"] == 0 and n["copies"] >= 3
    after = ui.screenshot("map-after", style=MAP_ONLY_CSS)
    assert decode_png(after).tobytes() == decode_png(before).tobytes()
    # new bands, then a new view: the points drawn into the texture again, then copied
    for change in (
        "() => window.nrwSites.setWeights({area: 3})",
        "() => { const m = window.nrwSites.map; m.jumpTo({zoom: m.getZoom() + 0.5}); }",
    ):
        page.evaluate(change)
        ui.settle()
        n = page.evaluate(REPAINT_JS, 1)
        assert n["points"] >= 1 and n["copies"] >= 1
        n = page.evaluate(REPAINT_JS, 2)
        assert n["points"] == 0 and n["copies"] >= 2
