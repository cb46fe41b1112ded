"""Report maps: one self-contained folium (Leaflet) HTML page per municipality.

The page works offline: Leaflet is inlined from ``maps/static/vendor/leaflet`` (folium's CDN
links are switched off) and there is no tile layer; context comes from the municipality outline,
its neighbours and the hydrogen core network. Sites are coloured by score; tooltips show the
score and the criteria that contribute most, popups the whole breakdown.

Data goes into the page as JSON inside one script (``<`` escaped), never through Jinja, so names
from official files cannot break the page; every text shown is HTML-escaped.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, cast

import folium
from branca.element import Element, Figure, MacroElement

from geo.criteria import CRITERIA, CRITERIA_ORDER
from maps import bands

VENDOR = Path(__file__).parent / "static" / "vendor"

CSS = """
.nrw-box{position:absolute;z-index:1100;background:#fff;padding:6px 9px;border-radius:4px;
 box-shadow:0 1px 4px rgba(0,0,0,.35);font:13px/1.35 system-ui,sans-serif;max-width:46%}
.nrw-title{top:10px;left:54px}.nrw-title h1{font-size:16px;margin:0 0 2px}
.nrw-legend{bottom:40px;right:10px}.nrw-legend svg{vertical-align:middle;margin-right:5px}
.nrw-legend .nrw-sep{margin-top:4px}
.nrw-attr{bottom:60px;left:10px;font-size:11px;max-height:30%;overflow:auto}
.nrw-synthetic{top:10px;right:10px;background:#b00020;color:#fff;font-weight:600}
.nrw-pop table{border-collapse:collapse}.nrw-pop td,.nrw-pop th{padding:1px 5px;text-align:left}
.nrw-pop td.n{text-align:right}
@page{size:A4 landscape;margin:8mm}
/* print: a fixed-size map (the A4 landscape width inside the margins), fitted again to the
   municipality when the print layout applies (see the script), the sources below it */
@media print{
 *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 html,body{height:auto!important;width:auto!important}
 body{display:flex;flex-direction:column}
 .folium-map{order:1;position:relative!important;width:280mm!important;height:128mm!important;
  border:1px solid #999;box-sizing:border-box}
 .leaflet-control-zoom,.leaflet-control-attribution{display:none!important}
 .nrw-box{box-shadow:none;border:1px solid #999}
 .nrw-title{top:3mm;left:3mm}.nrw-synthetic{top:3mm;right:3mm}
 .nrw-legend{top:14mm;bottom:auto;right:3mm}
 .nrw-attr{order:2;position:static!important;max-height:none!important;overflow:visible!important;
  max-width:none!important;margin-top:2mm;font-size:7.5pt;line-height:1.25;columns:2;
  column-gap:6mm}
 .nrw-attr ul{margin:0!important}
 .nrw-attr a[href]::after{content:" <" attr(href) ">"}}
"""
JS = """(function () {
  var map = %(map)s, D = %(data)s;
  L.geoJSON(D.neighbours, {style: {color: "#777", weight: 1, fill: false},
    onEachFeature: function (f, l) { l.bindTooltip(f.properties.t); }}).addTo(map);
  L.geoJSON(D.outline, {style: {color: "#111", weight: 2.5, fill: false},
    interactive: false}).addTo(map);
  L.geoJSON(D.hydrogen, {style: {color: "#0b63c4", weight: 3, dashArray: "8 6"},
    onEachFeature: function (f, l) { l.bindTooltip(f.properties.t); }}).addTo(map);
  L.geoJSON(D.sites, {
    style: function (f) {
      return {color: "#333", weight: 1, fillColor: f.properties.c, fillOpacity: 0.8,
              dashArray: f.properties.x ? "3 2" : null}; },
    onEachFeature: function (f, l) {
      l.bindTooltip(f.properties.t, {sticky: true});
      l.bindPopup(f.properties.p, {maxWidth: 380}); }}).addTo(map);
  // not animated: a zoom animation still running when the print layout refits the map would
  // end by setting its own (screen) zoom over the refit
  map.fitBounds(D.bounds, {animate: false});
  map.attributionControl.addAttribution(D.attribution);
  // printing changes the map's size: fit the municipality again for paper and back for screen
  var refit = function () {
    map.invalidateSize({animate: false, pan: false});
    map.fitBounds(D.bounds, {animate: false});
  };
  window.addEventListener("beforeprint", refit);
  window.addEventListener("afterprint", refit);
  var mq = window.matchMedia && window.matchMedia("print");
  if (mq) { if (mq.addEventListener) { mq.addEventListener("change", refit); }
            else if (mq.addListener) { mq.addListener(refit); } }
})();"""


class _Raw(Element):
    """Text put into the page as is (not compiled as a Jinja template)."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def render(self, **kwargs: Any) -> str:
        """Return the text unchanged."""
        return self.text


class _Layers(MacroElement):
    """The report's GeoJSON layers, drawn by one script on the parent map."""

    def __init__(self, data: str):
        super().__init__()
        self._name = "NrwReportLayers"
        self.data = data

    # override: branca's Element.render returns the HTML; a MacroElement's adds to its root
    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Add the layer script after the map's own script."""
        assert self._parent is not None
        js = JS % {"map": self._parent.get_name(), "data": self.data}
        cast(Figure, self.get_root()).script.add_child(_Raw(js), name=self.get_name())


@dataclass
class Site:
    """One site on the map: its GeoJSON geometry text (WGS84) and its ranking item."""

    geometry: str
    item: dict[str, Any]


@lru_cache(maxsize=1)
def leaflet_assets() -> str:
    """Leaflet's CSS and JS, inlined (the source-map comment removed)."""
    css = (VENDOR / "leaflet" / "leaflet.css").read_text(encoding="utf-8")
    js = (VENDOR / "leaflet" / "leaflet.js").read_text(encoding="utf-8")
    js = "\n".join(line for line in js.splitlines() if not line.startswith("//# sourceMappingURL"))
    # inlined text must not close its own element
    js, css = js.replace("</script", "<\\/script"), css.replace("</style", "<\\/style")
    return f"<style>{css}</style>\n<script>{js}</script>"


def _js(obj: Any) -> str:
    """JSON that is safe inside a <script> element."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def _e(x: Any) -> str:
    return html.escape("–" if x is None else str(x))


def _fmt(x: Any, unit: str = "", digits: int = 2) -> str:
    if x is None:
        return "no data"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        return f"{x:,.{digits}f}{unit}"
    return f"{x}{unit}"


def indicator_text(criterion: str, indicator: dict[str, Any]) -> str:
    """A short human reading of a criterion's indicator values."""
    match criterion:
        case "area":
            return _fmt(indicator.get("area_ha"), " ha", 1)
        case "h2":
            d, y = indicator.get("h2_distance_km"), indicator.get("h2_commissioning_year")
            return _fmt(d, " km", 1) + (f" (in service {int(y)})" if y is not None else "")
        case "fibre" | "mobile_5g":
            v = next(iter(indicator.values()), None)
            return "no data" if v is None else f"{100 * v:.0f} %"
    return _fmt(next(iter(indicator.values()), None))


def top_criteria(item: dict[str, Any], n: int = 3) -> list[tuple[str, float]]:
    """The n criteria contributing the most points, as (English label, points)."""
    parts = [
        (CRITERIA[c].label_en, b["points"]) for c, b in item.get("breakdown", {}).items() if b.get("points")
    ]
    return sorted(parts, key=lambda x: -x[1])[:n]


def tooltip(item: dict[str, Any], n_sites: int) -> str:
    """Tooltip HTML: name, score, rank and the top criteria."""
    score = item.get("score")
    head = f"<b>{_e(item.get('name') or item.get('site_id'))}</b><br>"
    if score is None:
        return head + "not ranked under this profile"
    tops = ", ".join(f"{_e(label)} {pts:.1f}" for label, pts in top_criteria(item))
    return head + f"Score <b>{score:.1f}</b> · rank {item.get('rank')} of {n_sites}<br>Top: {tops}"


def popup(item: dict[str, Any]) -> str:
    """Popup HTML: identity, score, and the breakdown per criterion."""
    rows = []
    for c in CRITERIA_ORDER:
        b = item.get("breakdown", {}).get(c)
        if b is None:
            continue
        pts = "missing" if b["missing"] else f"{b['points']:.1f}"
        rows.append(
            f"<tr><td>{_e(CRITERIA[c].label_en)}</td>"
            f"<td>{_e(indicator_text(c, b['indicator']))}</td>"
            f"<td class=n>{b['weight']:g}</td><td class=n>{pts}</td></tr>"
        )
    score = item.get("score")
    return (
        f"<div class=nrw-pop><b>{_e(item.get('name'))}</b><br>"
        f"{_e(item.get('site_id'))} · {_e(item.get('kind'))} · "
        f"{_fmt(item.get('area_ha'), ' ha', 1)}<br>"
        f"Score <b>{'–' if score is None else f'{score:.1f}'}</b>"
        f" · rank {_e(item.get('rank'))} in the municipality, {_e(item.get('rank_nrw'))} "
        f"in NRW<table><tr><th>criterion</th><th>indicator</th><th>weight</th>"
        f"<th>points</th></tr>{''.join(rows)}</table></div>"
    )


def _fc(features: Sequence[tuple[str, dict[str, Any]]]) -> str:
    """A FeatureCollection from (geometry text, properties) pairs."""
    feats = ",".join(f'{{"type":"Feature","geometry":{g},"properties":{_js(p)}}}' for g, p in features)
    return f'{{"type":"FeatureCollection","features":[{feats}]}}'


def _licence(a: dict[str, Any]) -> str:
    """A licence name, linked to its text when the URL is known (printed after the link)."""
    name, url = _e(a.get("licence")), a.get("licence_url")
    if not (isinstance(url, str) and re.fullmatch(r"https?://[^\s\"'<>]+", url)):
        return name
    return f'<a href="{html.escape(url)}">{name}</a>'


def _swatch(
    fill: str | None = None, stroke: str = "#333", dash: str | None = None, line: bool = False
) -> str:
    """A legend symbol as inline SVG (printed even without background graphics)."""
    d = f' stroke-dasharray="{dash}"' if dash else ""
    if line:
        return (
            f"<svg width='22' height='10' aria-hidden='true'><line x1='1' y1='5' x2='21' "
            f"y2='5' stroke='{stroke}' stroke-width='2.5'{d}/></svg>"
        )
    return (
        f"<svg width='16' height='11' aria-hidden='true'><rect x='0.5' y='0.5' width='15' "
        f"height='10' fill='{fill}' stroke='{stroke}'{d}/></svg>"
    )


LEGEND_LINES = (
    ("#111", None, "the municipality"),
    ("#777", None, "neighbouring municipalities"),
    ("#0b63c4", "8 6", "hydrogen core network (Kernnetz)"),
)


def _legend() -> str:
    """Every symbol on the map: the score classes, not ranked, sites across the boundary,
    the boundaries and the hydrogen network.
    """
    classes = reversed(list(enumerate(bands.COLOURS)))  # highest first
    rows = [f"<div>{_swatch(c)}{_e(bands.label(k, 'en'))}</div>" for k, c in classes]
    rows.append(f"<div>{_swatch(bands.NO_SCORE)}{bands.NO_SCORE_LABEL['en']} (excluded by the profile)</div>")
    rows.append(
        f"<div class=nrw-sep>{_swatch('#ffffff', dash='3 2')}site across the municipal boundary</div>"
    )
    rows += [f"<div>{_swatch(stroke=c, dash=d, line=True)}{_e(label)}</div>" for c, d, label in LEGEND_LINES]
    return f"<div class='nrw-box nrw-legend' data-testid=legend><b>Score (0–100)</b>{''.join(rows)}</div>"


def municipality_map(
    *,
    name: str,
    ags: str,
    sites: Sequence[Site],
    outline: str,
    neighbours: Sequence[tuple[str, str]],
    hydrogen: Sequence[tuple[str, str]],
    bounds: tuple[float, float, float, float],
    attribution: Sequence[dict],
    synthetic: bool,
    profile: str,
    generated: str,
) -> str:
    """Render the report map of one municipality as a self-contained HTML page.

    Geometries are GeoJSON texts in WGS84; ``neighbours`` and ``hydrogen`` are (label, geometry)
    pairs; ``bounds`` is (minLon, minLat, maxLon, maxLat); ``attribution`` the layer list of
    ``Service.attribution()``.
    """
    x0, y0, x1, y1 = bounds
    m = folium.Map(
        location=[(y0 + y1) / 2, (x0 + x1) / 2], zoom_start=12, tiles=None, control_scale=True, zoom_snap=0.25
    )
    m.default_js, m.default_css = [], []  # no CDN: Leaflet is inlined below
    fig = cast(Figure, m.get_root())  # a Map's root is its Figure
    fig.title = html.escape(f"{name} ({ags}) – industrial sites – NRW Site Finder")
    fig.header.add_child(_Raw(leaflet_assets()), name="leaflet")
    fig.header.add_child(_Raw(f"<style>{CSS}</style>"), name="nrw_css")

    n = len(sites)
    data = {
        "sites": _fc(
            [
                (
                    s.geometry,
                    {
                        "c": bands.colour(s.item.get("score")),
                        "t": tooltip(s.item, n),
                        "p": popup(s.item),
                        "x": bool(s.item.get("crosses_boundary")),
                    },
                )
                for s in sites
            ]
        ),
        "outline": outline,
        "neighbours": _fc([(g, {"t": html.escape(label)}) for label, g in neighbours]),
        "hydrogen": _fc([(g, {"t": html.escape(label)}) for label, g in hydrogen]),
    }
    # the full attribution of every layer is in the "Sources and licences" panel
    attr_short = "NRW Site Finder · sources and licences: see the panel"
    payload = (
        "{"
        + ",".join(f'"{k}":{v}' for k, v in data.items())
        + f',"bounds":{_js([[y0, x0], [y1, x1]])},"attribution":{_js(html.escape(attr_short))}'
        + "}"
    )
    m.add_child(_Layers(payload.replace("<", "\\u003c")))

    # layers with the same attribution and licence share one line (the demo's synthetic layers)
    groups: dict[tuple[str, str], list[str]] = {}
    for a in attribution:
        groups.setdefault((_e(a.get("attribution")), _licence(a)), []).append(_e(a.get("layer")))
    rows = "".join(
        f"<li><b>{', '.join(layers)}</b>: {text} ({licence})</li>"
        for (text, licence), layers in groups.items()
    )
    boxes = [
        f"<div class='nrw-box nrw-title'><h1>{_e(name)} <small>({_e(ags)})</small></h1>"
        f"{n} candidate site{'s' if n != 1 else ''} · profile {_e(profile)} · generated "
        f"{_e(generated)}</div>",
        _legend(),
        f"<div class='nrw-box nrw-attr'><b>Sources and licences</b><ul style='margin:2px 0;"
        f"padding-left:16px'>{rows}</ul></div>",
    ]
    if synthetic:
        boxes.append("<div class='nrw-box nrw-synthetic'>SYNTHETIC demo data – not official sites</div>")
    fig.html.add_child(_Raw("\n".join(boxes)), name="nrw_boxes")
    return fig.render()
