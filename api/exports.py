"""Municipality exports: ``<AGS>.geojson`` (RFC 7946), ``<AGS>.html`` (report map), ``index.json``.

One ranking is computed for the profile and sliced per municipality, so exporting all 396
municipalities costs one ranking, one bulk item build and one coordinate transform. A
municipality's features are exactly its items of ``/api/ranking?ags=<AGS>`` (same score, same
rank within the municipality), plus ``rank_nrw``, the rank among all sites of the state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import shapely

from api.geojson import DECIMALS, dumps, features_bytes, geometry_json, to_wgs84
from api.service import Service
from geo.criteria import get_profile
from geo.errors import NotFound
from geo.scoring import Ranking
from maps.report import Site, municipality_map

Progress = Callable[[str], None]
CONTEXT_SIMPLIFY_DEG = 0.0002  # ≈ 15–20 m: neighbour outlines on the report map
HYDROGEN_MARGIN_DEG = 0.1


def generated_now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def municipalities(svc: Service) -> dict[str, dict[str, Any]]:
    """AGS → name, Kreis and row of the municipalities layer."""
    muni = svc.snap.layers["municipalities"]
    return {a: {"row": i, "name": n, "kreis": k} for i, (a, n, k) in enumerate(
        zip(muni["ags"].astype(str), muni["name"], muni["kreis_name"], strict=True))}


def ranked_rows(svc: Service, r: Ranking, ags: str) -> tuple[np.ndarray, int]:
    """A municipality's ranked rows (best first) and how many of its sites were not ranked."""
    site_ags = svc.sites["ags"].to_numpy(object)
    mine = site_ags == ags
    return r.order[mine[r.order]], int(mine.sum()) - int(mine[r.order].sum())


def local_ranks(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Turn one municipality's items (best first) to ``rank`` within it, ``rank_nrw`` in NRW."""
    for k, it in enumerate(items, 1):
        it["rank_nrw"] = it["rank"]
        it["rank"] = k
    return items


def feature_collection(svc: Service, ags: str, meta: dict[str, Any], r: Ranking,
                       items: list[dict[str, Any]], geoms: list[bytes], not_ranked: int,
                       generated: str) -> bytes:
    """The RFC 7946 FeatureCollection of one municipality (no ``crs`` member)."""
    attribution = svc.attribution()
    head = {
        "type": "FeatureCollection", "name": meta["name"], "ags": ags,
        "municipality": meta["name"], "kreis": meta["kreis"],
        "profile": r.profile.name, "weights": r.weights,
        "numberMatched": len(items), "numberNotRanked": not_ranked,
        "snapshot": svc.snap.id, "synthetic": svc.synthetic, "generated": generated,
        "licence": "; ".join(sorted({str(a["licence"]) for a in attribution if a["licence"]})),
        "attribution": attribution, "sources": svc.sources_doc(),
    }
    feats = features_bytes([it["site_id"] for it in items], geoms, [dumps(it) for it in items])
    return dumps(head)[:-1] + b',"features":[' + b",".join(feats) + b"]}"


def municipality_geojson(svc: Service, ags: str, profile: str | None) -> bytes:
    """One municipality's export as GeoJSON bytes (the HTTP endpoint)."""
    meta = municipalities(svc).get(ags)
    if meta is None:
        raise NotFound("no municipality with this AGS")
    r = svc.rank(get_profile(profile).name, None)
    rows, not_ranked = ranked_rows(svc, r, ags)
    geoms = geometry_json(to_wgs84(svc.sites.geometry.values[rows]))
    return feature_collection(svc, ags, meta, r, local_ranks(svc.items(r, rows, inline_sources=False)), geoms,
                              not_ranked, generated_now())


@dataclass
class _Context:
    """Report-map context: simplified WGS84 outlines of all municipalities, hydrogen lines."""

    outlines: np.ndarray
    outline_json: list[str]
    labels: list[str]
    tree: shapely.STRtree
    lines: list[tuple[str, str, shapely.Geometry]]

    @classmethod
    def of(cls, svc: Service) -> _Context:
        """Build the context once per export run."""
        layer = svc.snap.layers["municipalities"]
        outlines = shapely.simplify(to_wgs84(layer.geometry.values), CONTEXT_SIMPLIFY_DEG,
                                    preserve_topology=True)
        labels = [f"{n} ({a})" for n, a in zip(layer["name"], layer["ags"], strict=True)]
        lines: list[tuple[str, str, shapely.Geometry]] = []
        h2 = svc.snap.layers.get("hydrogen")
        if h2 is not None and len(h2):
            geoms = to_wgs84(h2.geometry.values)
            lines = [(f"Hydrogen core network: {n} ({k}, in service {y})", t.decode(), g)
                     for n, k, y, t, g in zip(h2["name"], h2["kind"], h2["commissioning_year"],
                                              geometry_json(geoms), geoms, strict=True)]
        return cls(outlines, [g.decode() for g in geometry_json(outlines)], labels,
                   shapely.STRtree(outlines), lines)

    def report(self, meta: dict[str, Any], ags: str, items: list[dict[str, Any]],
               geoms: list[bytes], attribution: list[dict[str, Any]], synthetic: bool,
               profile_label: str, generated: str) -> str:
        """The report map of one municipality, with its neighbours and nearby pipelines."""
        row = meta["row"]
        x0, y0, x1, y1 = (round(float(v), DECIMALS) for v in shapely.bounds(self.outlines[row]))
        near = [i for i in self.tree.query(shapely.box(x0, y0, x1, y1)).tolist() if i != row]
        m = HYDROGEN_MARGIN_DEG
        view = shapely.box(x0 - m, y0 - m, x1 + m, y1 + m)
        h2 = [(label, text) for label, text, g in self.lines if shapely.intersects(view, g)]
        return municipality_map(
            name=meta["name"], ags=ags,
            sites=[Site(g.decode(), it) for g, it in zip(geoms, items, strict=True)],
            outline=self.outline_json[row],
            neighbours=[(self.labels[i], self.outline_json[i]) for i in near], hydrogen=h2,
            bounds=(x0, y0, x1, y1), attribution=attribution, synthetic=synthetic,
            profile=profile_label, generated=generated)


def export_municipalities(svc: Service, ags_list: list[str] | None, out_dir: Path,
                          profile: str | None, progress: Progress | None = None
                          ) -> dict[str, Any]:
    """Write ``<AGS>.geojson``, ``<AGS>.html`` and ``index.json`` for the given municipalities
    (all when ``ags_list`` is None) into ``out_dir``; return the index.
    """
    say = progress or (lambda _m: None)
    p = get_profile(profile)
    metas = municipalities(svc)
    wanted = list(metas) if ags_list is None else list(dict.fromkeys(ags_list))
    unknown = [a for a in wanted if a not in metas]
    if unknown:
        shown = ", ".join(repr(a[:12]) for a in unknown[:5])
        raise NotFound(f"no municipality with AGS {shown} in snapshot {svc.snap.id}")
    out_dir.mkdir(parents=True, exist_ok=True)
    generated = generated_now()

    say(f"ranking {len(svc.sites):,} sites under profile {p.name}")
    r = svc.rank(p.name, None)
    site_ags = svc.sites["ags"].to_numpy(object).astype(str)
    rows_of = _group(r.order, site_ags[r.order], wanted)
    counts = dict(zip(*np.unique(site_ags, return_counts=True), strict=True))
    all_rows = np.concatenate([rows_of[a] for a in wanted]) if wanted else np.array([], int)
    say(f"{len(all_rows):,} ranked sites in {len(wanted)} municipalities: items and geometries")
    items = svc.items(r, all_rows, inline_sources=False)
    geoms = geometry_json(to_wgs84(svc.sites.geometry.values[all_rows]))
    ctx = _Context.of(svc)
    attribution = svc.attribution()

    index = []
    start = 0
    for n, ags in enumerate(wanted, 1):
        meta, k = metas[ags], len(rows_of[ags])
        its, gs = local_ranks(items[start: start + k]), geoms[start: start + k]
        start += k
        not_ranked = int(counts.get(ags, 0)) - k
        (out_dir / f"{ags}.geojson").write_bytes(
            feature_collection(svc, ags, meta, r, its, gs, not_ranked, generated))
        (out_dir / f"{ags}.html").write_text(
            ctx.report(meta, ags, its, gs, attribution, svc.synthetic, p.label_en, generated),
            encoding="utf-8")
        index.append({"ags": ags, "name": meta["name"], "kreis": meta["kreis"], "sites": k,
                      "not_ranked": not_ranked,
                      "best_score": its[0]["score"] if its else None,
                      "geojson": f"{ags}.geojson", "html": f"{ags}.html"})
        if n % 50 == 0:
            say(f"{n}/{len(wanted)} municipalities written")
    doc = {"snapshot": svc.snap.id, "synthetic": svc.synthetic, "profile": p.name,
           "generated": generated, "attribution": attribution, "municipalities": index}
    (out_dir / "index.json").write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    say(f"wrote {len(index)} municipalities to {out_dir}")
    return doc


def _group(order: np.ndarray, order_ags: np.ndarray, wanted: list[str]) -> dict[str, np.ndarray]:
    """Split ranked rows by AGS, keeping rank order within each group."""
    empty = np.array([], dtype=order.dtype)
    if not len(order):
        return {a: empty for a in wanted}
    keys = order_ags.astype(str)
    idx = np.argsort(keys, kind="stable")
    sk = keys[idx]
    bounds = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1], True])
    groups = {sk[a]: order[idx[a:b]] for a, b in zip(bounds[:-1], bounds[1:], strict=True)}
    return {a: groups.get(a, empty) for a in wanted}

