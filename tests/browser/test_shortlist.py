"""The shortlist's downloads in the page (issue 18 defect 7): the CSV an Excel user opens carries
the SYNTHETIC notice, the profile and the weights set in the page, the date, labelled columns
in the page's language, kinds as words, areas to two decimals and the indicators.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from tests.browser.conftest import UI

DETAIL = "[data-testid=detail]"


def shortlist_three(ui: UI, path: str) -> tuple[Any, list[str]]:
    page = ui.goto(path)
    ids = page.eval_on_selector_all(
        "[data-testid=ranking] [data-site-id]", "els => els.map(e => e.dataset.siteId)"
    )[:3]
    for sid in ids:
        page.evaluate("id => window.nrwSites.store.select(id)", sid)
        page.locator(f"{DETAIL} [data-detail-action=shortlist]").first.click()
    page.locator("[data-action=shortlist-open]").first.click()
    return page, ids


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_shortlist_csv_is_labelled_and_complete(ui: UI, api: httpx.Client, lang: str) -> None:
    page, ids = shortlist_three(ui, f"/?profile=hydrogen&w_h2=5&w_fibre=0&lang={lang}")
    with page.expect_download() as dl:
        page.locator("[data-action=download-csv]").first.click()
    path = ui.artefact(f"shortlist-{lang}.csv")
    dl.value.save_as(path)
    text = path.read_bytes().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    de = lang == "de"
    sid, notice, profile, weights = (
        ("Standort-ID", "Datenhinweis", "Profil", "Gewichte")
        if de
        else ("Site ID", "Data notice", "Profile", "Weights")
    )
    assert sorted(r[sid] for r in rows) == sorted(ids)
    head = list(rows[0])
    assert not any(h.startswith("pts_") for h in head)
    h2 = "Entfernung H2-Kernnetz (km)" if de else "Distance to H2 network (km)"
    assert h2 in head  # the indicator itself, not only its points
    # the server's own ranking with the page's weights is the reference for the scores
    ref = api.get("/api/ranking", params={"profile": "hydrogen", "w_h2": 5, "w_fibre": 0, "limit": 50}).json()
    by_id = {it["site_id"]: it for it in ref["items"]}
    score = "Punktzahl (0–100)" if de else "Score (0–100)"
    for r in rows:
        assert r[notice] == ("SYNTHETISCH – Demodaten" if de else "SYNTHETIC – demo data")
        assert r[profile] == "hydrogen" and "h2=5" in r[weights] and "fibre=0" in r[weights]
        assert float(r[score].replace(",", ".")) == pytest.approx(by_id[r[sid]]["score"], abs=0.05)
        kind = r["Art" if de else "Kind"]
        assert kind and "_" not in kind  # a word, not the code regional_plan
    area = r["Fläche (ha)" if de else "Area (ha)"]
    assert len(area.replace(",", ".").split(".")[-1]) <= 2


def test_the_whole_shortlist_prints_as_one_expose(ui: UI, api: httpx.Client) -> None:
    from pypdf import PdfReader

    page, ids = shortlist_three(ui, "/?profile=hydrogen&min_area_ha=5")
    link = page.locator("[data-shortlist-expose]")
    href = link.get_attribute("href")
    assert "sites=" in href and "min_area_ha=5" in href and "profile=hydrogen" in href
    with page.context.expect_page() as new:
        link.click()
    ex = new.value
    ui.wait_ready(ex)
    cover = ex.locator("[data-testid=expose-cover]")
    rows = cover.locator("tbody tr")
    assert rows.count() == 3
    names = [ex.locator("main.sheet h1").nth(k).inner_text() for k in range(3)]
    ref = api.get("/api/ranking", params={"profile": "hydrogen", "min_area_ha": 5, "limit": 100}).json()[
        "items"
    ]
    by_id = {it["site_id"]: it for it in ref}
    assert names == [by_id[i]["name"] for i in ids]
    assert [rows.nth(k).locator("td").first.inner_text() for k in range(3)] == [
        str(by_id[i]["rank"]) for i in ids
    ]
    out = ui.artefact("shortlist-expose.pdf")
    ex.pdf(path=str(out), format="A4", print_background=True)
    pages = [p.extract_text() for p in PdfReader(str(out)).pages]
    assert len(pages) >= 4  # a cover and a page per site at least
    starts = [k for k, p in enumerate(pages) if any(n in p for n in names)]
    assert len(starts) >= 3
    ui.screenshot("shortlist-expose", page=ex)
