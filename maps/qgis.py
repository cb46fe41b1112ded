"""QGIS layer styles (QML) for the GeoPackage exports: a score ramp for the sites, categories for
plan areas, brownfields and the hydrogen network, and column titles (aliases), in German or
English.

The QML is the format of QGIS 3.x (written for 3.22, the oldest release municipalities in NRW
still run): a rule-based renderer for the sites (the score classes of maps/bands.py, the same as
the web map and the report maps, plus "not ranked" for sites without a score), categorised
renderers elsewhere. Symbol layers use the ``<Option type="Map">`` form that QGIS 3.22 writes
itself. Stored in a GeoPackage's ``layer_styles`` table as the default style, so a layer opens
styled.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from maps import bands

QGIS_VERSION = "3.22.16-Białowieża"


def _rgba(hex_colour: str, alpha: int = 255) -> str:
    h = hex_colour.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha}"


def _options(props: Mapping[str, str]) -> str:
    items = "".join(
        f'<Option type="QString" name={quoteattr(k)} value={quoteattr(v)}/>' for k, v in props.items()
    )
    return f'<Option type="Map">{items}</Option>'


_DDP = (
    '<data_defined_properties><Option type="Map"><Option type="QString" name="name" '
    'value=""/><Option name="properties"/><Option type="QString" name="type" '
    'value="collection"/></Option></data_defined_properties>'
)


@dataclass(frozen=True)
class Symbol:
    """One symbol: geometry kind (fill, line, marker) and its colours."""

    kind: str
    colour: str
    outline: str = "#333333"
    width_mm: float = 0.26
    dashed: bool = False
    opacity: float = 1.0

    def xml(self, name: str) -> str:
        """The ``<symbol>`` element."""
        if self.kind == "fill":
            props = {
                "color": _rgba(self.colour) if self.colour else "0,0,0,0",
                "style": "solid" if self.colour else "no",
                "outline_color": _rgba(self.outline),
                "outline_style": "solid",
                "outline_width": f"{self.width_mm:g}",
                "outline_width_unit": "MM",
                "joinstyle": "bevel",
                "border_width_map_unit_scale": "3x:0,0,0,0,0,0",
                "offset": "0,0",
                "offset_unit": "MM",
            }
            cls = "SimpleFill"
        elif self.kind == "line":
            props = {
                "line_color": _rgba(self.colour),
                "line_width": f"{self.width_mm:g}",
                "line_width_unit": "MM",
                "line_style": "solid",
                "capstyle": "round",
                "joinstyle": "round",
                "use_custom_dash": "1" if self.dashed else "0",
                "customdash": "5;3",
                "customdash_unit": "MM",
                "offset": "0",
                "offset_unit": "MM",
            }
            cls = "SimpleLine"
        else:
            props = {
                "color": _rgba(self.colour),
                "name": "circle",
                "size": "2.6",
                "size_unit": "MM",
                "outline_color": _rgba(self.outline),
                "outline_style": "solid",
                "outline_width": "0.2",
                "outline_width_unit": "MM",
                "angle": "0",
                "offset": "0,0",
                "offset_unit": "MM",
                "scale_method": "diameter",
            }
            cls = "SimpleMarker"
        return (
            f'<symbol type="{self.kind}" name={quoteattr(name)} alpha="{self.opacity:g}" '
            f'clip_to_extent="1" force_rhr="0">{_DDP}'
            f'<layer class="{cls}" enabled="1" locked="0" pass="0">{_options(props)}{_DDP}'
            f"</layer></symbol>"
        )


def _aliases(fields: Sequence[tuple[str, str]]) -> str:
    rows = "".join(
        f'<alias field={quoteattr(n)} index="{i}" name={quoteattr(label)}/>'
        for i, (n, label) in enumerate(fields)
    )
    return f"<aliases>{rows}</aliases>"


def _document(renderer: str, geometry_type: int, fields: Sequence[tuple[str, str]]) -> str:
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        f'<qgis version="{QGIS_VERSION}" styleCategories="Symbology|Fields" '
        f'hasScaleBasedVisibilityFlag="0">{renderer}{_aliases(fields)}'
        f"<blendMode>0</blendMode><featureBlendMode>0</featureBlendMode>"
        f"<layerOpacity>1</layerOpacity>"
        f"<layerGeometryType>{geometry_type}</layerGeometryType></qgis>\n"
    )


def score_style(lang: str, fields: Sequence[tuple[str, str]], field: str = "score") -> str:
    """The sites' style: a rule-based score ramp (the classes of maps/bands.py, highest first)
    and "not ranked" for null.
    """
    lang = lang if lang in bands.LANGS else "en"
    rules, symbols = [], []
    n = len(bands.COLOURS)
    for k in reversed(range(n)):
        # the first class is open below, the last open above: every number lands in one class
        cond = [f'"{field}" >= {bands.lower(k)}'] if k > 0 else []
        cond += [f'"{field}" < {bands.upper(k)}'] if k < n - 1 else []
        rules.append(
            f'<rule key="{{score-{k}}}" symbol="{k}" '
            f"label={quoteattr(bands.label(k, lang))} filter={quoteattr(' AND '.join(cond))}/>"
        )
        symbols.append(Symbol("fill", bands.COLOURS[k], opacity=0.85).xml(str(k)))
    rules.append(
        f'<rule key="{{score-none}}" symbol="{n}" label={quoteattr(bands.NO_SCORE_LABEL[lang])} '
        f"filter={quoteattr(f'{chr(34)}{field}{chr(34)} IS NULL')}/>"
    )
    symbols.append(Symbol("fill", bands.NO_SCORE, opacity=0.85).xml(str(n)))
    renderer = (
        '<renderer-v2 type="RuleRenderer" symbollevels="0" enableorderby="0" '
        f'forceraster="0"><rules key="{{root}}">{"".join(rules)}</rules>'
        f"<symbols>{''.join(symbols)}</symbols></renderer-v2>"
    )
    return _document(renderer, 2, fields)


def categorised_style(
    attr: str,
    categories: Sequence[tuple[str, str, Symbol]],
    geometry_type: int,
    fields: Sequence[tuple[str, str]],
    other: tuple[str, Symbol] | None = None,
) -> str:
    """A categorised renderer on ``attr``: (value, legend label, symbol) per category, and an
    optional catch-all category for any other value.
    """
    cats, symbols = [], []
    items = [(v, label, s) for v, label, s in categories]
    if other is not None:
        items.append(("", other[0], other[1]))
    for k, (value, label, sym) in enumerate(items):
        cats.append(
            f'<category render="true" symbol="{k}" value={quoteattr(value)} label={quoteattr(label)}/>'
        )
        symbols.append(sym.xml(str(k)))
    renderer = (
        f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(attr)} '
        'symbollevels="0" enableorderby="0" forceraster="0">'
        f"<categories>{''.join(cats)}</categories>"
        f"<symbols>{''.join(symbols)}</symbols></renderer-v2>"
    )
    return _document(renderer, geometry_type, fields)


def single_style(symbol: Symbol, geometry_type: int, fields: Sequence[tuple[str, str]]) -> str:
    """A single-symbol renderer."""
    renderer = (
        '<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" '
        f'forceraster="0"><symbols>{symbol.xml("0")}</symbols></renderer-v2>'
    )
    return _document(renderer, geometry_type, fields)
