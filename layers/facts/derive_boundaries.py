"""Derive the generalised municipality and Kreis boundaries from Geobasis NRW DVG2.

    .venv/bin/python layers/facts/derive_boundaries.py [RAW_DIR]   # default ../shared/data/raw

writes ``layers/facts/nrw_boundaries.topojson`` next to this script: the 396 Gemeinden of
``geobasis_nrw_dvg2/dvg2gem_nw.shp`` and the 53 Kreise formed from them, as one TopoJSON topology
in EPSG:25832 (not WGS84: the file says so in its ``crs`` member).

Method:
1. read ``dvg2gem_nw`` (EPSG:25832, STAND 2022-03-08) and check it is a valid coverage;
2. ``shapely.coverage_simplify(geoms, TOLERANCE_M)``: a topology-preserving simplification of the
   whole coverage (shared edges are simplified once, so neighbours stay gap- and overlap-free);
3. round every coordinate to whole metres (the TopoJSON quantisation); shared vertices round to
   the same point, so the coverage stays exact;
4. split the boundaries into arcs (edges between nodes where three or more units meet), each
   stored once, delta-encoded (TopoJSON);
5. Kreise: the union of their municipalities (``geo.areas.dissolve``), encoded with the
   same arcs, so Kreis and municipality edges coincide; Kreis names from ``dvg2krs_nw``.

Each unit carries ``area_m2_dvg2``, its area in the official file, so that a test can check the
generalised areas without the official file. A re-run gives the same file byte for byte.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import shapely

from geo.areas import dissolve

HERE = Path(__file__).resolve().parent
DEFAULT_RAW = HERE.parents[2] / "shared" / "data" / "raw"
OUT = HERE / "nrw_boundaries.topojson"
TOLERANCE_M = 50.0
DATE = "2022-03-08"


def _multipolygons(geoms: Iterable[Any]) -> np.ndarray:
    return np.array(
        [g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g]) for g in geoms], dtype=object
    )


def _rings(poly: shapely.Polygon) -> list[np.ndarray]:
    return [np.asarray(poly.exterior.coords)] + [np.asarray(r.coords) for r in poly.interiors]


class Arcs:
    """The shared arcs of a polygon coverage and the lookup from segments to arcs."""

    def __init__(self, geoms: np.ndarray):
        merged = shapely.line_merge(shapely.union_all(shapely.boundary(geoms)))
        parts = shapely.get_parts(merged)
        # a stable order: by first vertex, so that a re-run writes the same file
        coords = [np.rint(shapely.get_coordinates(a)).astype(np.int64) for a in parts]
        coords.sort(key=lambda c: (int(c[0, 0]), int(c[0, 1]), int(c[-1, 0]), int(c[-1, 1]), len(c)))
        self.coords = coords
        self.segment: dict[tuple[int, int, int, int], tuple[int, bool]] = {}
        self.nodes: set[tuple[int, int]] = set()
        for k, c in enumerate(coords):
            self.nodes.add((int(c[0, 0]), int(c[0, 1])))
            self.nodes.add((int(c[-1, 0]), int(c[-1, 1])))
            a, b = c[0], c[1]
            self.segment[(int(a[0]), int(a[1]), int(b[0]), int(b[1]))] = (k, True)
            a, b = c[-1], c[-2]
            self.segment[(int(a[0]), int(a[1]), int(b[0]), int(b[1]))] = (k, False)

    def encode_ring(self, ring: np.ndarray) -> list[int]:
        """The arc references of a closed ring (``~k`` = arc k reversed)."""
        r = np.rint(ring[:-1]).astype(np.int64)
        n = len(r)
        starts = [i for i in range(n) if (int(r[i, 0]), int(r[i, 1])) in self.nodes]
        first = starts[0] if starts else 0
        r = np.roll(r, -first, axis=0)
        r = np.vstack([r, r[:1]])
        out: list[int] = []
        k = 0
        while k < n:
            key = (int(r[k, 0]), int(r[k, 1]), int(r[k + 1, 0]), int(r[k + 1, 1]))
            arc, forward = self.segment[key]
            out.append(arc if forward else ~arc)
            k += len(self.coords[arc]) - 1
        if k != n:
            raise ValueError("a ring does not consist of whole arcs")
        return out

    def encode(self, geom: shapely.MultiPolygon) -> list[list[list[int]]]:
        """MultiPolygon arcs: polygons → rings → arc references."""
        return [[self.encode_ring(ring) for ring in _rings(p)] for p in geom.geoms]

    def deltas(self) -> list[list[list[int]]]:
        """Delta-encoded arcs (TopoJSON quantised positions), translate subtracted."""
        x0, y0 = self.translate
        out = []
        for c in self.coords:
            q = c - np.array([x0, y0])
            d = np.vstack([q[:1], np.diff(q, axis=0)])
            out.append(d.tolist())
        return out

    @property
    def translate(self) -> tuple[int, int]:
        """The lower-left corner of all arcs."""
        allc = np.vstack(self.coords)
        return int(allc[:, 0].min()), int(allc[:, 1].min())


def derive(raw: Path) -> dict[str, Any]:
    """The topology of the generalised DVG2 municipalities and Kreise."""
    folder = raw / "geobasis_nrw_dvg2"
    gem = pyogrio.read_dataframe(folder / "dvg2gem_nw.shp")
    krs = pyogrio.read_dataframe(folder / "dvg2krs_nw.shp", read_geometry=False)
    if gem.crs is None or gem.crs.to_epsg() != 25832:
        raise ValueError("dvg2gem_nw is expected in EPSG:25832")
    gem = gem[gem["ART"] == "G"].sort_values("KN").reset_index(drop=True)
    geoms = _multipolygons(gem.geometry.values)
    if not shapely.coverage_is_valid(geoms):
        raise ValueError("dvg2gem_nw is not a valid coverage")
    simple = shapely.coverage_simplify(geoms, TOLERANCE_M)
    # whole metres; drop vertices that collapse onto their neighbour
    rounded = shapely.remove_repeated_points(shapely.transform(simple, lambda xy: np.rint(xy)))
    rounded = _multipolygons(rounded)
    if not (shapely.is_valid(rounded).all() and shapely.coverage_is_valid(rounded)):
        raise ValueError("the generalised coverage is not valid; lower the tolerance")
    arcs = Arcs(rounded)
    ags = gem["KN"].astype(str).to_numpy()
    kreis_of = np.array([a[:5] for a in ags])
    kreis_names = dict(zip(krs["KN"].astype(str).str[:5], krs["GN"], strict=True))
    official_area = shapely.area(geoms)

    munis = [
        {
            "type": "MultiPolygon",
            "arcs": arcs.encode(g),
            "properties": {"ags": a, "name": n, "kreis_ags": k, "area_m2_dvg2": round(float(area))},
        }
        for g, a, n, k, area in zip(rounded, ags, gem["GN"], kreis_of, official_area, strict=True)
    ]
    kreise = []
    keys, _, unions = dissolve(rounded, kreis_of)
    for k, union in zip(keys, _multipolygons(unions), strict=True):
        mine = kreis_of == k
        kreise.append(
            {
                "type": "MultiPolygon",
                "arcs": arcs.encode(union),
                "properties": {
                    "kreis_ags": k,
                    "name": kreis_names[k],
                    "area_m2_dvg2": round(float(official_area[mine].sum())),
                },
            }
        )
    return {
        "type": "Topology",
        "crs": "EPSG:25832",
        "metadata": {
            "title": "NRW Gemeinden und Kreise, generalised from Geobasis NRW DVG2",
            "source": "Geobasis NRW, Digitale Verwaltungsgrenzen DVG2 (dvg2gem_nw, dvg2krs_nw)",
            "date": DATE,
            "licence": "dl-de/zero-2-0",
            "licence_url": "https://www.govdata.de/dl-de/zero-2-0",
            "attribution": "© Land NRW (Geobasis NRW), DVG2, dl-de/zero-2-0; generalised",
            "method": f"shapely.coverage_simplify, tolerance {TOLERANCE_M:g} m; coordinates "
            "rounded to 1 m; shared arcs (TopoJSON)",
            "crs": "EPSG:25832 (ETRS89 / UTM zone 32N), metres, easting/northing",
        },
        "transform": {"scale": [1, 1], "translate": list(arcs.translate)},
        "objects": {
            "municipalities": {"type": "GeometryCollection", "geometries": munis},
            "kreise": {"type": "GeometryCollection", "geometries": kreise},
        },
        "arcs": arcs.deltas(),
    }


def dumps(topology: dict[str, Any]) -> str:
    """Compact JSON, one arc per line (diffable, still small)."""
    head = {k: v for k, v in topology.items() if k != "arcs"}
    text = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
    arcs = ",\n".join(json.dumps(a, separators=(",", ":")) for a in topology["arcs"])
    return text[:-1] + ',"arcs":[\n' + arcs + "\n]}\n"


def main(argv: list[str]) -> int:
    """Derive and write the file."""
    raw = Path(argv[1]) if len(argv) > 1 else DEFAULT_RAW
    OUT.write_text(dumps(derive(raw)), encoding="utf-8")
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
