"""One score, one colour: the web map, the report map and the QGIS style agree for every score at
and around every class break (issue 22, maps/bands.py).

- web map: the classes ``GET /api/ui/config`` serves, put through the browser's own code in node
  (``band()`` of scoring.js as the map's feature-state sync calls it, the ``match`` colour
  expression of the sites' layers in layers.js, the legend rows and the floating legend's ranges);
- report map: the fill colour each site gets in the page ``maps.report.municipality_map`` writes,
  and its legend swatches;
- QGIS: the ``.qml`` ``maps.qgis.score_style`` writes, parsed, each rule's filter evaluated.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from maps import bands
from maps.qgis import score_style
from maps.report import Site, municipality_map
from tests.maps.test_js import node

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "maps" / "static" / "js"
SCORES: list[float | None] = sorted(
    {0.0, 100.0, 99.99} | {b + d for b in bands.BREAKS for d in (-1.0, -0.05, -1e-9, 0.0, 1e-9, 0.05, 1.0)}
) + [None]

# The browser's path from a score to a colour, for each score (null = no score: NaN in a ranking).
WEB = """
const [cfg, scores] = JSON.parse(process.argv[1]);
const { band } = await import(process.argv[2] + '/scoring.js');
const L = await import(process.argv[2] + '/layers.js');
const { scoreBands } = await import(process.argv[2] + '/bands.js');
const bands = scoreBands(cfg);
const style = L.style({ tiles: 'x', bands });
const colourOf = (id, k) => {
  const paint = style.layers.find((l) => l.id === id).paint;
  const m = paint['fill-color'] ?? paint['circle-color'];
  for (let i = 2; i < m.length - 1; i += 2) if (m[i] === k) return m[i + 1];
  return m[m.length - 1];
};
// the points are map-points.js's custom layer: colour k + 2 of its table (-1: no score, faded)
const P = L.sitePoints({ bands });
const pointOf = (k) => (k >= 0 ? P.colors[k] : k === -1 ? P.excluded : P.unscored);
const legend = L.groups({ bands }).find((g) => g.id === 'sites').legend;
const out = scores.map((s) => {
  const k = band(s ?? NaN, cfg.breaks);  // as map-sync.js writes the feature-state
  const row = k < 0 ? legend[legend.length - 1] : legend[legend.length - 2 - k];
  return { band: k, fill: colourOf('site-fill', k), point: pointOf(k),
    list: bands.colorOf(s), legend: row.swatch.color, range: k < 0 ? null : bands.range(k),
    label: row.label ? row.label('en') : null };
});
console.log(JSON.stringify(out));
"""


def web_colours(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    p = subprocess.run(
        [node(), "--input-type=module", "-e", WEB, json.dumps([cfg, SCORES]), JS.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout)


def report_colours() -> tuple[list[str], str]:
    """The fill colour of one site per score in the report page, and the page's legend."""
    point = '{"type":"Point","coordinates":[7.0,51.5]}'
    sites = [Site(point, {"site_id": f"s{i}", "name": f"s{i}", "score": s}) for i, s in enumerate(SCORES)]
    page = municipality_map(
        name="Testdorf",
        ags="05513000",
        sites=sites,
        outline=point,
        neighbours=[],
        hydrogen=[],
        bounds=(7.0, 51.5, 7.1, 51.6),
        attribution=[],
        synthetic=False,
        profile="default",
        generated="now",
    )
    data = page[page.index('"sites":{"type":"FeatureCollection"') :]
    fills = re.findall(r'"c":"(#[0-9a-fA-F]{6})"', data)[: len(SCORES)]
    legend = re.search(r"<div class='nrw-box nrw-legend'.*?</div></div>", page, re.S)
    assert legend is not None
    return fills, legend.group(0)


def _qgis_rule_matches(expr: str, score: float | None) -> bool:
    """A rule filter as score_style writes it: comparisons of "score" joined by AND, or IS NULL."""
    if expr == '"score" IS NULL':
        return score is None
    if score is None:
        return False  # a comparison with NULL is not true in QGIS
    ops = {">=": float.__ge__, "<": float.__lt__, ">": float.__gt__, "<=": float.__le__}
    ok = True
    for part in expr.split(" AND "):
        m = re.fullmatch(r'"score" (>=|<=|<|>) (-?[\d.]+)', part.strip())
        assert m, f"unexpected filter {expr!r}"
        ok &= ops[m.group(1)](float(score), float(m.group(2)))
    return ok


def qgis_colours(lang: str) -> tuple[list[str], list[str]]:
    """Per score the colour of the one rule of the .qml that draws it, and that rule's label."""
    root = ET.fromstring(score_style(lang, [("score", "Score")]).split("\n", 1)[1])
    symbols = {}
    for sym in root.iter("symbol"):
        rgba = next(o.get("value") for o in sym.iter("Option") if o.get("name") == "color")
        r, g, b, _ = (int(x) for x in str(rgba).split(","))
        symbols[sym.get("name")] = f"#{r:02x}{g:02x}{b:02x}"
    rules = list(root.iter("rule"))
    colours, labels = [], []
    for s in SCORES:
        hits = [r for r in rules if _qgis_rule_matches(str(r.get("filter")), s)]
        assert len(hits) == 1, f"score {s}: {len(hits)} QGIS rules draw it"
        colours.append(symbols[hits[0].get("symbol")])
        labels.append(str(hits[0].get("label")))
    return colours, labels


def test_the_same_score_has_the_same_colour_on_every_map(client: Any) -> None:
    cfg = client.get("/api/ui/config").json()["bands"]
    assert cfg == bands.served()
    web = web_colours(cfg)
    report, report_legend = report_colours()
    qgis = {lang: qgis_colours(lang) for lang in bands.LANGS}
    for i, s in enumerate(SCORES):
        expected = bands.colour(s)
        k = bands.band(s)
        w = web[i]
        where = f"score {s} (class {k})"
        assert w["band"] == k, where
        assert w["fill"] == w["list"] == w["legend"] == expected, (where, w)
        if k < 0:
            assert w["point"].startswith("rgba("), (where, w)  # the no-score grey, faded
        else:
            assert w["point"] == expected, (where, w)
            lo, hi = w["range"]
            assert s is not None and (lo <= s < hi or s == hi == 100), (where, w)
            assert w["label"] == bands.label(k, "en"), (where, w)
        assert report[i] == expected, where
        assert f"fill='{expected}'" in report_legend, where
        for lang in bands.LANGS:
            colours, labels = qgis[lang]
            assert colours[i] == expected, (where, lang)
            assert labels[i] == (bands.label(k, lang) if k >= 0 else bands.NO_SCORE_LABEL[lang])
        if k >= 0:
            assert bands.label(k, "en") in report_legend, where


def test_the_classes_cover_0_to_100_with_distinct_colours() -> None:
    assert bands.band(None) == bands.band(math.nan) == -1
    assert bands.band(0) == 0 and bands.band(100) == len(bands.BREAKS)
    assert [bands.band(b) for b in bands.BREAKS] == list(range(1, len(bands.BREAKS) + 1))
    assert len(set(bands.COLOURS) | {bands.NO_SCORE}) == len(bands.COLOURS) + 1
    assert bands.label(len(bands.BREAKS), "de") == "sehr hoch (80–100)"


@pytest.mark.parametrize("lang", bands.LANGS)
def test_every_class_has_a_label(lang: str) -> None:
    labels = bands.served()["labels"][lang]
    assert len(labels) == len(bands.COLOURS) == len(set(labels))
