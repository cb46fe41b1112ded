"""What a report map shows around its municipality: the neighbours' outlines and the hydrogen
core network nearby (``maps.report.municipality_map`` draws them).

Built once per export run from the snapshot's layers: every municipality's outline simplified
in WGS84 (≈ 15–20 m) with an STRtree to find the neighbours, and the hydrogen segments with
their labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from api.geojson import DECIMALS, geometry_json, to_wgs84
from geo.areas import Area

SIMPLIFY_DEG = 0.0002  # ≈ 15–20 m: neighbour outlines on the report map
HYDROGEN_MARGIN_DEG = 0.1


@dataclass
class ReportContext:
    """Report-map context: simplified WGS84 outlines of all municipalities, hydrogen lines."""

    outlines: np.ndarray
    outline_json: list[str]
    labels: list[str]
    tree: shapely.STRtree
    lines: list[tuple[str, str, shapely.Geometry]]

    @classmethod
    def of(cls, layers: Mapping[str, gpd.GeoDataFrame]) -> ReportContext:
        """Build the context once per export run."""
        layer = layers["municipalities"]
        outlines = shapely.simplify(to_wgs84(layer.geometry.values), SIMPLIFY_DEG, preserve_topology=True)
        labels = [f"{n} ({a})" for n, a in zip(layer["name"], layer["ags"], strict=True)]
        lines: list[tuple[str, str, shapely.Geometry]] = []
        h2 = layers.get("hydrogen")
        if h2 is not None and len(h2):
            geoms = to_wgs84(h2.geometry.values)
            lines = [
                (f"Hydrogen core network: {n} ({k}, in service {y})", t.decode(), g)
                for n, k, y, t, g in zip(
                    h2["name"], h2["kind"], h2["commissioning_year"], geometry_json(geoms), geoms, strict=True
                )
            ]
        return cls(
            outlines, [g.decode() for g in geometry_json(outlines)], labels, shapely.STRtree(outlines), lines
        )

    def report(
        self,
        area: Area,
        items: list[dict[str, Any]],
        geoms: list[bytes],
        attrib: list[dict[str, Any]],
        synthetic: bool,
        profile_label: str,
        generated: str,
    ) -> str:
        """The report map of one municipality, with its neighbours and nearby pipelines."""
        from maps.report import Site, municipality_map  # folium on first use, not at a worker's start

        row = int(area.units[0])
        x0, y0, x1, y1 = (round(float(v), DECIMALS) for v in shapely.bounds(self.outlines[row]))
        near = [i for i in self.tree.query(shapely.box(x0, y0, x1, y1)).tolist() if i != row]
        m = HYDROGEN_MARGIN_DEG
        view = shapely.box(x0 - m, y0 - m, x1 + m, y1 + m)
        h2 = [(label, text) for label, text, g in self.lines if shapely.intersects(view, g)]
        return municipality_map(
            name=area.name,
            ags=area.key,
            sites=[Site(g.decode(), it) for g, it in zip(geoms, items, strict=True)],
            outline=self.outline_json[row],
            neighbours=[(self.labels[i], self.outline_json[i]) for i in near],
            hydrogen=h2,
            bounds=(x0, y0, x1, y1),
            attribution=attrib,
            synthetic=synthetic,
            profile=profile_label,
            generated=generated,
        )
