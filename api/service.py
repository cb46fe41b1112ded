"""The loaded snapshot as a service: ranking, per-site and ad-hoc scoring, attribution.

One ``Service`` is built per live snapshot (at start-up, or by the command line) and shared by
all requests; it holds the scorer and STRtrees so a request does no set-up work.
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from api import audit
from api.geojson import dumps, geometry_json, invalid_reason, to_wgs84
from geo.access import RESTRICTED_FIELDS, public_mask
from geo.areas import AreaIndex, nearest_lep, oversized, too_large_text
from geo.criteria import CRITERIA_ORDER, get_profile
from geo.errors import InvalidGeometry, NotFound
from geo.filters import FILTERS, docs
from geo.layer_index import LayerIndex
from geo.query import RankingCache, RankingQuery, with_horizon
from geo.result import SiteResult, plain_column, plain_list
from geo.scoring import V_DECIMALS, Ranking, Scorer, percentile
from geo.sites import indicator_columns
from layers.build import load_funding
from layers.io import read_vector
from layers.provenance import criterion_sources, layer_attribution
from layers.store import Snapshot, Store

NO_VALUE = 65535  # "no data" in the compact value array


def _is_na(v: Any) -> bool:
    """True for None and NaN-like scalars (not for lists or strings)."""
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


class Service:
    """Everything a request needs from the live snapshot."""

    def __init__(self, snap: Snapshot, scorer: Scorer | None = None):
        """``scorer``: the sites' Scorer if already made (api/views.py: the public view's, a
        subset of the full view's)."""
        self.snap = snap
        self.sites: gpd.GeoDataFrame = snap.layers["sites"]
        self.scorer = scorer or Scorer(self.sites)
        self.areas = AreaIndex(snap.layers)  # geo/areas.py: built on first use (exports)
        self.funding = load_funding()
        # the context layers' trees and arrays, for ad-hoc scoring (geo/layer_index.py)
        self.index = LayerIndex({k: v for k, v in snap.layers.items() if k != "sites"})
        self._rankings = RankingCache(self.scorer.run, size=16)  # by query; the profiles' own kept
        self._ui: dict[Any, Any] = {}
        self._attribution: list[dict[str, Any]] | None = None
        h2 = snap.layers.get("hydrogen")
        quality = (
            str(h2["geometry_quality"].mode().iloc[0])
            if h2 is not None and len(h2) and "geometry_quality" in h2
            else None
        )
        self.sources = criterion_sources(snap.manifest, quality)
        self.view = "full"  # api/views.py names the public view
        # confidential columns travel with the items of the full view (staff, admin)
        self.restricted = {
            c: plain_column(self.sites[c]) for c in RESTRICTED_FIELDS if c in self.sites.columns
        }

    @functools.cached_property
    def row_of(self) -> dict[str, int]:
        """The row of each site id (made at the first lookup, not at a worker's start)."""
        return {sid: i for i, sid in enumerate(self.scorer.site_id)}

    @classmethod
    def open(cls, data_dir: Path, snapshot_id: str | None = None) -> Service:
        """Load the live (or a named) snapshot from a data directory."""
        return cls(Store(data_dir).load(snapshot_id))

    @property
    def synthetic(self) -> bool:
        """True when the snapshot is the generated demo dataset."""
        return self.snap.synthetic

    def attribution(self) -> list[dict[str, Any]]:
        """Attribution and licence of every layer, as they travel with every answer (made once;
        read-only: every answer shares it)."""
        if self._attribution is None:
            self._attribution = layer_attribution(self.snap.manifest)
        return self._attribution

    # -- rankings ---------------------------------------------------------------------------
    def run(self, q: RankingQuery) -> Ranking:
        """The ranking of all stored sites for a query (its page is not applied); cached by the
        query without its page (geo/query.py).
        """
        return self._rankings.ranking(q)

    def rank(
        self, profile: str | None, weights: dict[str, Any] | None = None, h2_year: int | None = None
    ) -> Ranking:
        """A profile's ranking of all stored sites (exports, views): ``run`` with that query."""
        return self.run(RankingQuery.of(profile, weights, h2_year=h2_year))

    def results(
        self,
        r: Ranking,
        rows: np.ndarray,
        breakdown: bool = True,
        scorer: Scorer | None = None,
        inline_sources: bool = True,
    ) -> list[SiteResult]:
        """The typed results of some rows of ``r``; ``scorer`` is the one that made ``r``
        (default: the stored sites' scorer). Without ``inline_sources`` the breakdown entries
        leave out their source (lists of many sites carry ``sources_doc()`` once instead).
        """
        return (scorer or self.scorer).results(r, rows, self.sources if inline_sources else None, breakdown)

    def items(
        self,
        r: Ranking,
        rows: np.ndarray,
        breakdown: bool = True,
        scorer: Scorer | None = None,
        inline_sources: bool = True,
    ) -> list[dict[str, Any]]:
        """Sites as ranking items: the results serialised (identity, indicators, score, rank,
        breakdown).
        """
        out = [x.to_dict() for x in self.results(r, rows, breakdown, scorer, inline_sources)]
        if self.restricted and scorer is None:
            for item, row in zip(out, np.asarray(rows).tolist(), strict=True):
                for c, values in self.restricted.items():
                    item[c] = values[row]
            audit.note_rows(self.scorer.site_id, np.asarray(rows).tolist(), self.restricted)
        return out

    def sources_doc(self) -> dict[str, dict[str, Any]]:
        """The source of every criterion (the same for every site of the snapshot)."""
        return {c: s.to_dict() for c, s in self.sources.items()}

    def ranking(self, q: RankingQuery, breakdown: bool = True) -> dict[str, Any]:
        """The ranking response of DESIGN §5.3: the page of ``q``."""
        r = self.run(q)
        page = r.order[q.page.of(len(r.order))]
        out: dict[str, Any] = {
            "profile": r.profile.name,
            "weights": r.weights,
            "h2_year": r.profile.h2_horizon,
            "numberMatched": int(len(r.order)),
            "numberReturned": int(len(page)),
            "excluded": r.excluded,
            "synthetic": self.synthetic,
            "snapshot": self.snap.id,
        }
        if r.stability is not None:
            out["stability"] = r.stability_params
        out["sources"] = self.sources_doc()  # once, not in every item's breakdown
        out["items"] = self.items(r, page, breakdown, inline_sources=False)
        return out

    def ranking_bytes(self, q: RankingQuery, breakdown: bool, extra: Callable[[], dict[str, Any]]) -> bytes:
        """``ranking`` with the ``extra()`` fields as JSON bytes; the pages of the profiles' own
        rankings are kept (they are fixed per snapshot view), so a kept page costs no work.
        """
        body = self._rankings.page(q, breakdown, lambda _: dumps({**self.ranking(q, breakdown), **extra()}))
        if self.restricted:  # a kept page is read again: the audit trail hears of every read
            r = self.run(q)
            audit.note_rows(self.scorer.site_id, r.order[q.page.of(len(r.order))].tolist(), self.restricted)
        return body

    def site_score(self, site_id: str, q: RankingQuery) -> dict[str, Any]:
        """One stored site's score and breakdown (with its rank among the sites that pass
        ``q``'s filters: ``numberRanked`` of them), its distance to the nearest LEP large site
        and, with ``q.stability``, its rank stability among those sites.
        """
        row = self.row_of.get(site_id)
        if row is None:
            raise NotFound("no site with this id")
        r = self.run(q)
        out = self.items(r, np.array([row]))[0]
        out.update(self.nearest_lep(row))
        if r.stability is not None:
            out["stability_params"] = r.stability_params
        out.update(
            profile=r.profile.name,
            weights=r.weights,
            h2_year=r.profile.h2_horizon,
            synthetic=self.synthetic,
            numberRanked=int(len(r.order)),
        )
        return out

    def nearest_lep(self, row: int) -> dict[str, Any]:
        """Straight-line distance (km, from the site's edge) to the nearest LEP large site."""
        return nearest_lep(self.sites.geometry.values[row], self.snap.layers.get("lep_sites"))

    # -- compact data for the web UI ------------------------------------------------------------
    def table(self) -> dict[str, Any]:
        """Per-site columns the web UI needs to filter, list and re-rank in the browser."""
        if "table" not in self._ui:
            c = self.scorer.indicators(get_profile(None))
            pts = to_wgs84(shapely.point_on_surface(self.sites.geometry.values))
            xy = shapely.get_coordinates(pts)
            names = (
                "site_id",
                "name",
                "kind",
                "ags",
                "municipality",
                "kreis_ags",
                "kreis",
                "area_ha",
                "fibre_share",
                "planning_category",
                # and every column a filter reads (the horizon's H2 distance is in values_bytes)
                *(f.column for f in FILTERS.values() if not f.at_horizon),
            )
            cols = {k: plain_list(np.asarray(c[k])) if k in c else [None] * self.scorer.n for k in names}
            cols["lon"], cols["lat"] = xy[:, 0].tolist(), xy[:, 1].tolist()
            public = public_mask(self.sites)  # the tiles number the public sites in this order
            cols["fid"] = np.where(public, np.cumsum(public) - 1, -1).tolist()
            self._ui["table"] = {
                "snapshot": self.snap.id,
                "synthetic": self.synthetic,
                "count": self.scorer.n,
                "criteria": list(CRITERIA_ORDER),
                "h2_years": self.scorer.h2_years,
                "filters": docs(),  # how each filter masks: maps/static/js/scoring.js follows it
                "columns": cols,
            }
        return self._ui["table"]

    def table_bytes(self) -> bytes:
        """``table`` as JSON bytes (built once)."""
        if "table-bytes" not in self._ui:
            self._ui["table-bytes"] = dumps(self.table())
        return self._ui["table-bytes"]

    def gzipped(self, name: Any, body: bytes) -> bytes:
        """``body`` (the UI data cached under ``name``) gzip-compressed once, at level 6 and
        without a timestamp (every replica sends the same bytes under the same ETag)."""
        key = ("gzip", name)
        if key not in self._ui:
            self._ui[key] = gzip.compress(body, compresslevel=6, mtime=0)
        return self._ui[key]

    def values_bytes(self, profile: str | None, h2_year: int | None) -> bytes:
        """The values the browser re-ranks with, compact: first the H2 distance (km) for the
        horizon per site as little-endian float64 (NaN = none), then v per site and criterion as
        little-endian uint16 ``k`` = v · 10⁴ (65535 = no data), row-major n × C; rows as in
        ``table``. ``v = k / 10⁴`` is exactly the scorer's v (4 decimals).
        """
        p = with_horizon(get_profile(profile), h2_year)
        key = ("values", p.name, p.h2_horizon)
        if key not in self._ui:
            h2 = self.scorer.indicators(p)["h2_distance_km"].astype("<f8")
            v = self.scorer.values(p)
            k = np.where(np.isnan(v), NO_VALUE, np.rint(np.nan_to_num(v) * 10**V_DECIMALS))
            self._ui[key] = h2.tobytes() + np.ascontiguousarray(k.astype("<u2")).tobytes()
        return self._ui[key]

    # -- ad-hoc scoring ---------------------------------------------------------------------
    def _score_adhoc(
        self,
        geoms: np.ndarray,
        q: RankingQuery,
        names: Sequence[str | None] | None = None,
        ids: list[str | None] | None = None,
    ) -> tuple[Scorer, Ranking]:
        """Rank polygons (EPSG:25832) among themselves under ``q``, from indicators computed
        against the stored layers.
        """
        bad = ~np.isin(shapely.get_type_id(geoms), (3, 6))
        if bad.any():
            raise InvalidGeometry("only Polygon and MultiPolygon geometries can be scored")
        n = len(geoms)
        given = {
            "site_id": np.array(
                [sid or f"adhoc-{i + 1}" for i, sid in enumerate(ids or [None] * n)], dtype=object
            ),
            "name": np.array(list(names) if names is not None else [None] * n, dtype=object),
            "kind": np.full(n, "adhoc", dtype=object),
            "planning_category": np.full(n, None, dtype=object),
        }
        cols = indicator_columns(
            given, geoms, self.index.layers, self.snap.coverage, self.funding, index=self.index
        )
        scorer = Scorer(cols)
        return scorer, scorer.run(q)

    def _adhoc_items(
        self, scorer: Scorer, r: Ranking, rows: np.ndarray, q: RankingQuery
    ) -> list[dict[str, Any]]:
        """Items of ad-hoc polygons, each with its percentile among the stored sites' scores
        under the same weights and horizon.
        """
        stored = self.run(q.scores_only())
        out = self.items(r, rows, scorer=scorer)
        for item, score in zip(out, r.score[rows], strict=True):
            item["percentile"] = None if np.isnan(score) else round(percentile(stored.score, float(score)), 2)
        return out

    def score_geometries(
        self,
        geoms: np.ndarray,
        q: RankingQuery,
        names: Sequence[str | None] | None = None,
        ids: list[str | None] | None = None,
    ) -> list[dict[str, Any]]:
        """Score polygons (EPSG:25832) against the stored layers, in input order, with their
        percentile; they are not ranked among the stored sites (rank None).
        """
        if not len(geoms):
            return []
        scorer, r = self._score_adhoc(np.asarray(geoms), q, names, ids)
        r.rank[:] = 0
        return self._adhoc_items(scorer, r, np.arange(len(geoms)), q)

    def inside_nrw(self, geoms: np.ndarray) -> np.ndarray:
        """Whether each geometry (EPSG:25832) touches a municipality of the snapshot."""
        tree = self.index.tree("municipalities")
        inside = np.zeros(len(geoms), dtype=bool)
        inside[tree.query(geoms, predicate="intersects")[0]] = True
        return inside

    def score_file(self, path: Path, q: RankingQuery) -> tuple[list[dict[str, Any]], np.ndarray]:
        """Rank the polygons of any OGR file with a CRS (GeoJSON is WGS84 by definition) by the
        rules of the stored ranking: the query's filters by the same mask, score descending,
        ties by site_id. Every feature is checked first (polygonal, valid, inside NRW, at most
        ``geo.areas.MAX_OWN_AREA_HA``).

        Returns the page ``q.page`` of the ranked items and their geometries (EPSG:25832).
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
        for i in np.flatnonzero(polygonal & oversized(geoms))[:10]:
            problems.append(f"feature {i + 1}: {too_large_text(geoms[i])}")
        if problems:
            raise InvalidGeometry(f"{path.name}: " + "; ".join(problems))
        if not len(geoms):
            return [], geoms
        name_col = next((c for c in ("name", "Name", "NAME", "bezeichnung") if c in gdf.columns), None)
        names = gdf[name_col].astype(str).tolist() if name_col else None
        ids = (
            [None if pd.isna(x) or not str(x).strip() else str(x) for x in gdf["site_id"]]
            if "site_id" in gdf.columns
            else None
        )
        scorer, r = self._score_adhoc(geoms, q, names, ids)
        rows = r.order[q.page.of(len(r.order))]
        items = self._adhoc_items(scorer, r, rows, q)
        props = pd.DataFrame(gdf.drop(columns="geometry")).iloc[rows]
        for item, extra in zip(items, props.to_dict("records"), strict=True):
            for k, v in extra.items():  # the caller's other properties travel along
                if k not in item:
                    item[str(k)] = None if _is_na(v) else v  # column names are strings
        return items, geoms[rows]

    # -- GeoJSON ----------------------------------------------------------------------------
    def feature_collection(self, geoms: np.ndarray, items: list[dict[str, Any]], profile: str | None) -> str:
        """A FeatureCollection (WGS84, RFC 7946) of geometries (EPSG:25832) with their items."""
        feats = [
            {"type": "Feature", "id": it["site_id"], "properties": it, "geometry": json.loads(g)}
            for g, it in zip(geometry_json(to_wgs84(geoms)), items, strict=True)
        ]
        return json.dumps(
            {
                "type": "FeatureCollection",
                "features": feats,
                "profile": get_profile(profile).name,
                "synthetic": self.synthetic,
                "snapshot": self.snap.id,
                "attribution": self.attribution(),
                "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            },
            ensure_ascii=False,
        )

    def items_geojson(self, items: list[dict[str, Any]], profile: str | None) -> str:
        """A FeatureCollection of stored sites' ranking items."""
        rows = [self.row_of[i["site_id"]] for i in items]
        return self.feature_collection(np.asarray(self.sites.geometry.values)[rows], items, profile)
