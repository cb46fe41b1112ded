"""The municipality report (HTML, offline) printed to PDF by Debian chromium: the map is on the
page with every site, the legend names every symbol, the sources with their licence URLs follow.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from maps import bands
from tests.browser.harness import ARTIFACTS

# the print layout: A4 landscape inside 8 mm margins, in CSS pixels (96 per inch)
MM = 96 / 25.4
PAGE_W, PAGE_H = (297 - 16) * MM, (210 - 16) * MM
LEGEND = [
    "Score (0–100)",
    *(bands.label(k, "en") for k in reversed(range(len(bands.COLOURS)))),
    "not ranked (excluded by the profile)",
    "site across the municipal boundary",
    "the municipality",
    "neighbouring municipalities",
    "hydrogen core network (Kernnetz)",
]
PRINT_STATE_JS = """() => {
  const map = document.querySelector('.folium-map').getBoundingClientRect();
  const sites = [...document.querySelectorAll('path.leaflet-interactive')]
    .filter(p => p.getAttribute('fill') && p.getAttribute('fill') !== 'none')
    .map(p => { const r = p.getBoundingClientRect();
                return {fill: p.getAttribute('fill'), l: r.left, t: r.top, r: r.right,
                        b: r.bottom}; });
  const legend = document.querySelector('[data-testid=legend]').innerText;
  return {map: {l: map.left, t: map.top, r: map.right, b: map.bottom}, sites, legend};
}"""


OUTLINE_FITS_JS = """() => {
  const map = document.querySelector('.folium-map').getBoundingClientRect();
  const o = document.querySelector('path[stroke="#111"]').getBoundingClientRect();
  return map.width < 1100 && o.left >= map.left - 1 && o.top >= map.top - 1
    && o.right <= map.right + 1 && o.bottom <= map.bottom + 1;
}"""


@pytest.fixture(scope="module")
def report(bt_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The report page of the municipality with the most sites, and its number of sites."""
    from api.exports import export_municipalities
    from api.service import Service
    from api.views import public_snapshot
    from layers.store import Store

    svc = Service(public_snapshot(Store(bt_data).load()))  # as `nrw-sites export` does
    ags = str(svc.sites["ags"].value_counts().index[0])
    out = tmp_path_factory.mktemp("report")
    export_municipalities(svc, [ags], out, None)
    index = svc.areas
    n = len(index.rows(index.area("municipality", ags))[0])
    return out / f"{ags}.html", n


def _rgb(fill: str) -> tuple[float, float, float]:
    h = fill.lstrip("#")
    return tuple(int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def test_the_report_prints_its_map_with_every_site_and_a_complete_legend(browser: Any, report) -> None:
    from pypdf import PdfReader

    page_file, n_sites = report
    assert n_sites > 3
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_file.as_uri())
    page.wait_for_function(f"() => document.querySelectorAll('path.leaflet-interactive').length >= {n_sites}")
    page.emulate_media(media="print")  # what the print dialog and page.pdf lay out
    # the print layout's media-query change refits the map; it lands a frame or more later
    page.wait_for_function(OUTLINE_FITS_JS, timeout=10_000)
    # and it stays fitted: nothing still running (a zoom animation takes 250 ms) moves it again
    page.wait_for_timeout(600)
    assert page.evaluate(OUTLINE_FITS_JS), "the map moved after the print layout's refit"
    state = page.evaluate(PRINT_STATE_JS)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = ARTIFACTS / "report-print.pdf"
    page.pdf(path=str(pdf), format="A4", landscape=True, print_background=True)
    page.screenshot(path=str(ARTIFACTS / "report-print.png"), full_page=True)
    context.close()

    assert not errors, errors
    assert all(re.match(r"(file|data|about|blob):", u) for u in requests), requests  # offline
    m = state["map"]
    assert m["l"] >= 0 and m["t"] >= 0 and m["r"] <= PAGE_W + 1 and m["b"] <= PAGE_H + 1
    assert m["b"] - m["t"] > 100 * MM  # a real map, not a sliver
    sites = [s for s in state["sites"] if s["fill"] not in ("#777", "#111")]
    assert len(sites) >= n_sites
    for s in sites:  # every site is drawn inside the printed map
        assert s["r"] > m["l"] and s["l"] < m["r"] and s["b"] > m["t"] and s["t"] < m["b"], s
    for label in LEGEND:
        assert label in state["legend"], label

    reader = PdfReader(pdf)
    assert len(reader.pages) == 1, f"the report prints on {len(reader.pages)} pages"
    text = re.sub(r"\s+", " ", reader.pages[0].extract_text())
    for label in (
        "Sources and licences",
        "Score (0–100)",
        "not ranked",
        "neighbouring",
        "https://www.govdata.de/dl-de/zero-2-0",
        "SYNTHETIC",
    ):
        assert label in text, label
    content = reader.pages[0].get_contents().get_data()
    used = {s["fill"] for s in sites}
    for fill in used:  # the sites' fill colours are painted on the PDF page
        r, g, b = _rgb(fill)
        pattern = rb"%s %s %s rg" % tuple(
            re.escape(f"{v:.4f}".rstrip("0").rstrip(".").lstrip("0") or "0").encode() for v in (r, g, b)
        )
        assert re.search(pattern, content), fill
