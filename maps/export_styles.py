"""QGIS styles of the export layers (the GeoPackage's ``layer_styles``), in German and English.

The sites are coloured by score (``maps.qgis.score_style``); the context layers by their
category: regional-plan areas, brownfields by contamination, LEP large sites, the hydrogen core
network by kind, and the municipal boundaries as outlines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from maps import qgis

REGIONAL_PLAN = {"GIB": "#6a3d9a", "GIB_Z": "#cab2d6", "LARGE_PROJECT": "#e31a1c", "ASB_GE": "#fdbf6f"}
CONTAMINATION = {
    "none": "#b2df8a",
    "remediated": "#33a02c",
    "suspected": "#fdbf6f",
    "confirmed": "#e31a1c",
    "unknown": "#999999",
}


def layer_style(
    name: str,
    lang: str,
    aliases: Sequence[tuple[str, str]],
    codes: Mapping[str, Mapping[str, tuple[str, str]]],
) -> str:
    """The QGIS style (qml) of export layer ``name`` in ``lang``: ``aliases`` are the
    (field, label) pairs, ``codes`` the (German, English) labels of coded values per attribute.
    """

    def labels(attr: str) -> dict[str, str]:
        return {k: (v[0] if lang == "de" else v[1]) for k, v in codes[attr].items()}

    if name == "sites":
        return qgis.score_style(lang, aliases)
    if name == "regional_plan":
        lab = labels("category")
        return qgis.categorised_style(
            "category",
            [(k, lab[k], qgis.Symbol("fill", c, opacity=0.45)) for k, c in REGIONAL_PLAN.items()],
            2,
            aliases,
            other=("andere" if lang == "de" else "other", qgis.Symbol("fill", "#bbbbbb", opacity=0.45)),
        )
    if name == "brownfields":
        lab = labels("contamination")
        return qgis.categorised_style(
            "contamination",
            [(k, lab[k], qgis.Symbol("fill", c, "#7f2704", opacity=0.6)) for k, c in CONTAMINATION.items()],
            2,
            aliases,
        )
    if name == "lep_sites":
        return qgis.single_style(qgis.Symbol("fill", "#1f78b4", "#08306b", 0.6, opacity=0.35), 2, aliases)
    if name == "hydrogen":
        lab = labels("kind")
        return qgis.categorised_style(
            "kind",
            [
                ("conversion", lab["conversion"], qgis.Symbol("line", "#0b63c4", width_mm=0.8, dashed=True)),
                ("new_build", lab["new_build"], qgis.Symbol("line", "#08306b", width_mm=0.8)),
            ],
            1,
            aliases,
        )
    return qgis.single_style(qgis.Symbol("fill", "", "#111111", 0.6), 2, aliases)
