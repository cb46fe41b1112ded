"""The loaded snapshot as a service: ranking, per-site and ad-hoc scoring, attribution.

One ``Service`` is built per live snapshot (at start-up, or by the command line) and shared by
all requests; it holds the scorer and STRtrees so a request does no set-up work.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from api.geojson import geometry_json, invalid_reason, to_wgs84
from geo.criteria import CRITERIA, CRITERIA_ORDER, get_profile
from geo.crs import WORK_CRS
from geo.errors import InvalidGeometry, NotFound
from geo.scoring import Filters, Ranking, Scorer, _plain, percentile
from geo.sites import compute_indicators
from layers.build import load_funding
from layers.io import read_vector
from layers.store import Snapshot, Store

INDICATOR_FIELDS = ("planning_category", "is_brownfield", "h2_distance_km",
                    "h2_commissioning_year", "fibre_share", "mobile_5g_share", "funding_region")
ITEM_FIELDS = ("site_id", "name", "ags", "municipality", "kreis", "kind", "area_ha")


def _plain_list(a: np.ndarray) -> list[Any]:
    """Like ``[_plain(x) for x in a]``, fast for numeric and boolean arrays."""
    if a.dtype.kind == "f":
        return [None if x != x else round(x, 6) for x in a.tolist()]
    if a.dtype.kind in "biu":
        return a.tolist()
    return [_plain(x) for x in a]


class Service:
    """Everything a request needs from the live snapshot."""

    def __init__(self, snap: Snapshot):
        self.snap = snap
        self.sites: gpd.GeoDataFrame = snap.layers["sites"]
        self.scorer = Scorer(self.sites)
        self.row_of = {sid: i for i, sid in enumerate(self.scorer.site_id)}
        self.funding = load_funding()
        self.trees: dict[str, shapely.STRtree] = {}
        self._base: dict[str, Ranking] = {}

    @classmethod
    def open(cls, data_dir: Path, snapshot_id: str | None = None) -> Service:
        """Load the live (or a named) snapshot from a data directory."""
        return cls(Store(data_dir).load(snapshot_id))

    @property
    def synthetic(self) -> bool:
        """True when the snapshot is the generated demo dataset."""
        return self.snap.synthetic

    def attribution(self) -> list[dict[str, Any]]:
        """Attribution and licence of every layer, as they travel with every answer."""
        return [{"layer": name, "attribution": m.get("attribution"), "licence": m.get("licence"),
                 "source": m.get("source"), "date": m.get("date"),
                 "synthetic": bool(m.get("synthetic", False))}
                for name, m in self.snap.manifest["layers"].items()]

    # -- rankings ---------------------------------------------------------------------------
    def rank(self, profile: str | None, weights: dict[str, Any] | None,
             filters: Filters | None = None, stability_top: int | None = None,
             draws: int = 200, spread: float = 0.25, seed: int = 0) -> Ranking:
        """Rank all stored sites (cached for the profile's default weights and no filters)."""
        if not weights and filters in (None, Filters()) and not stability_top:
            key = get_profile(profile).name
            if key not in self._base:
                self._base[key] = self.scorer.rank(key)
            return self._base[key]
        return self.scorer.rank(profile, weights, filters, stability_top=stability_top,
                                draws=draws, spread=spread, seed=seed)

    def item(self, r: Ranking, row: int, breakdown: bool = True) -> dict[str, Any]:
        """One site as a ranking item: identity, indicators, score, rank, breakdown."""
        return self.items(r, np.array([row]), breakdown)[0]

    def items(self, r: Ranking, rows: np.ndarray, breakdown: bool = True,
              scorer: Scorer | None = None) -> list[dict[str, Any]]:
        """Sites as ranking items (see ``item``), built column-wise for many rows at once.

        ``scorer`` is the one that made ``r`` (default: the stored sites' scorer).
        """
        rows = np.asarray(rows, dtype=np.int64)
        ind = (scorer or self.scorer).indicators(r.profile, rows)
        crits = [CRITERIA[c] for c in CRITERIA_ORDER]
        names = set(ITEM_FIELDS) | set(INDICATOR_FIELDS) | {k for c in crits for k in c.indicators}
        cols = {k: _plain_list(ind[k]) for k in names if k in ind}
        score = [None if s != s else round(s, 3) for s in r.score[rows].tolist()]
        rank = [k or None for k in r.rank[rows].tolist()]
        v = r.values[rows]
        miss = np.isnan(v)
        miss_l = miss.tolist()
        stab = None if r.stability is None else r.stability[rows].tolist()
        if breakdown:
            w = [r.weights[c] for c in CRITERIA_ORDER]
            avail = np.zeros(len(rows))
            for i, wi in enumerate(w):  # summed in criterion order, as breakdown_of does
                avail = avail + np.where(miss[:, i], 0.0, wi)
            with np.errstate(invalid="ignore", divide="ignore"):
                pts = np.where(avail[:, None] == 0, 0.0, 100.0 * np.array(w) * v / avail[:, None])
            v_l, pts_l = v.tolist(), np.round(pts, 3).tolist()  # as round(np.float64, 3)
        out = []
        for j in range(len(rows)):
            item: dict[str, Any] = {k: cols[k][j] for k in ITEM_FIELDS}
            item["score"] = score[j]
            item["rank"] = rank[j]
            if rank[j] is None and r.excluded_by is not None:
                item["excluded_by"] = r.excluded_by[rows[j]]
            for k in INDICATOR_FIELDS:
                item[k] = cols[k][j]
            item["missing"] = [c for i, c in enumerate(CRITERIA_ORDER) if miss_l[j][i]]
            if stab is not None:
                item["stability"] = {"top": r.stability_top, "probability": round(stab[j], 4)}
            if breakdown:
                item["breakdown"] = {c.name: {
                    "indicator": {k: cols[k][j] for k in c.indicators if k in cols},
                    "v": None if miss_l[j][i] else round(v_l[j][i], 4), "weight": w[i],
                    "points": None if miss_l[j][i] else pts_l[j][i],
                    "missing": miss_l[j][i]} for i, c in enumerate(crits)}
            out.append(item)
        return out

    def ranking(self, profile: str | None, weights: dict[str, Any] | None,
                filters: Filters | None = None, limit: int = 100, offset: int = 0,
                stability_top: int | None = None, draws: int = 200, spread: float = 0.25,
                seed: int = 0) -> dict[str, Any]:
        """The ranking response of DESIGN §5.3."""
        r = self.rank(profile, weights, filters, stability_top, draws, spread, seed)
        page = r.order[offset: offset + limit]
        out: dict[str, Any] = {
            "profile": r.profile.name, "weights": r.weights,
            "numberMatched": int(len(r.order)), "numberReturned": int(len(page)),
            "excluded": r.excluded, "synthetic": self.synthetic,
            "snapshot": self.snap.id,
        }
        if r.stability is not None:
            out["stability"] = r.stability_params
        out["items"] = self.items(r, page)
        return out

    def site_score(self, site_id: str, profile: str | None,
                   weights: dict[str, Any] | None) -> dict[str, Any]:
        """One stored site's score and breakdown (with its rank among all sites)."""
        row = self.row_of.get(site_id)
        if row is None:
            raise NotFound("no site with this id")
        r = self.rank(profile, weights)
        out = self.item(r, row)
        out.update(profile=r.profile.name, weights=r.weights, synthetic=self.synthetic,
                   numberRanked=int(len(r.order)))
        return out

    # -- ad-hoc scoring ---------------------------------------------------------------------
    def score_geometries(self, geoms: np.ndarray, profile: str | None,
                         weights: dict[str, Any] | None,
                         names: list[str] | None = None) -> list[dict[str, Any]]:
        """Score polygons (EPSG:25832) against the stored layers; add their percentile."""
        if not len(geoms):
            return []
        bad = ~np.isin(shapely.get_type_id(geoms), (3, 6))
        if bad.any():
            raise InvalidGeometry("only Polygon and MultiPolygon geometries can be scored")
        layers = {k: v for k, v in self.snap.layers.items() if k != "sites"}
        sites = gpd.GeoDataFrame({
            "site_id": [f"adhoc-{i + 1}" for i in range(len(geoms))],
            "name": names or [None] * len(geoms), "kind": "adhoc", "planning_category": None,
        }, geometry=list(geoms), crs=WORK_CRS)
        ind_df = compute_indicators(sites, layers, self.snap.coverage, self.funding,
                                    trees=self.trees)
        scorer = Scorer(pd.DataFrame(ind_df.drop(columns="geometry")))
        r = scorer.rank(profile, weights)
        r.rank[:] = 0  # ad-hoc polygons are not ranked among the stored sites...
        stored = self.rank(profile, weights)
        out = self.items(r, np.arange(len(geoms)), scorer=scorer)
        for item, score in zip(out, r.score, strict=True):  # ...but placed by their percentile
            item["percentile"] = (None if np.isnan(score)
                                  else round(percentile(stored.score, float(score)), 2))
        return out

    def inside_nrw(self, geoms: np.ndarray) -> np.ndarray:
        """Whether each geometry (EPSG:25832) touches a municipality of the snapshot."""
        tree = self.trees.get("municipalities")
        if tree is None:
            tree = self.trees["municipalities"] = shapely.STRtree(
                self.snap.layers["municipalities"].geometry.values)
        inside = np.zeros(len(geoms), dtype=bool)
        inside[tree.query(geoms, predicate="intersects")[0]] = True
        return inside

    def score_file(self, path: Path, profile: str | None, weights: dict[str, Any] | None,
                   filters: Filters | None = None) -> tuple[list[dict[str, Any]], np.ndarray]:
        """Score the polygons of any OGR file with a CRS (GeoJSON is WGS84 by definition).

        Every feature is checked first (polygonal, valid, inside NRW); returns the ranked items
        and their geometries (EPSG:25832) in the same order.
        """
        gdf = read_vector("sites", path)
        geoms = np.asarray(gdf.geometry.values)
        problems = []
        types = shapely.get_type_id(geoms)
        for i in np.flatnonzero(~np.isin(types, (3, 6)))[:10]:
            problems.append(f"feature {i + 1}: only Polygon and MultiPolygon can be scored")
        polygonal = np.isin(types, (3, 6))
        for i in np.flatnonzero(polygonal & ~shapely.is_valid(geoms))[:10]:
            problems.append(f"feature {i + 1}: invalid geometry: {invalid_reason(geoms[i])}")
        for i in np.flatnonzero(polygonal & ~self.inside_nrw(geoms))[:10]:
            problems.append(f"feature {i + 1} lies outside North Rhine-Westphalia")
        if problems:
            raise InvalidGeometry(f"{path.name}: " + "; ".join(problems))
        name_col = next((c for c in ("name", "Name", "NAME", "bezeichnung") if c in gdf.columns),
                        None)
        names = gdf[name_col].astype(str).tolist() if name_col else None
        items = self.score_geometries(geoms, profile, weights, names)
        keep = [k for k, i in enumerate(items)
                if not (filters and filters.min_area_ha is not None
                        and i["area_ha"] < filters.min_area_ha)]
        keep.sort(key=lambda k: -1 if items[k]["score"] is None else items[k]["score"],
                  reverse=True)
        for rank, k in enumerate(keep, 1):
            items[k]["rank"] = rank
        return [items[k] for k in keep], geoms[keep]

    # -- GeoJSON ----------------------------------------------------------------------------
    def feature_collection(self, geoms: np.ndarray, items: list[dict[str, Any]],
                           profile: str | None) -> str:
        """A FeatureCollection (WGS84, RFC 7946) of geometries (EPSG:25832) with their items."""
        feats = [{"type": "Feature", "id": it["site_id"], "properties": it,
                  "geometry": json.loads(g)}
                 for g, it in zip(geometry_json(to_wgs84(geoms)), items, strict=True)]
        return json.dumps({"type": "FeatureCollection", "features": feats,
                           "profile": get_profile(profile).name,
                           "synthetic": self.synthetic, "snapshot": self.snap.id,
                           "attribution": self.attribution(),
                           "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")},
                          ensure_ascii=False)

    def items_geojson(self, items: list[dict[str, Any]], profile: str | None) -> str:
        """A FeatureCollection of stored sites' ranking items."""
        rows = [self.row_of[i["site_id"]] for i in items]
        return self.feature_collection(self.sites.geometry.values[rows], items, profile)
