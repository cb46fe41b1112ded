"""Exports of a municipality, a Kreis or all of NRW: GeoJSON, GeoPackage, CSV, Shapefile (zip),
and the offline HTML report map of a municipality.

An export holds exactly the sites that intersect its area (their interiors overlap; touching
along the boundary does not count), so a site across a municipal boundary is in the export of
each municipality it lies in, with ``crosses_boundary = true``. Each site keeps its ``ags``:
the municipality holding most of its area. Ranked sites come first, best first (``rank``: within
the export; ``rank_nrw``: among all sites of the state), then the sites a hard filter of the
profile excluded (``excluded_by`` says which, no score).

The columns are the flat columns of ``api.fields`` (serialised from ``geo.result.SiteResult``);
the files are written by ``api.formats`` with GDAL. One ranking serves every area of a run, and a
run over many areas builds the site table once and slices it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import shapely

from api.fields import LAYER_CODES, Field, flat_columns, layer_field, site_fields
from api.formats import (
    FORMATS,
    MEDIA_TYPES,
    ExportLayer,
    ExportMeta,
    csv_bytes,
    geojson_bytes,
    write_gpkg,
    write_shp_zip,
)
from api.geojson import DECIMALS, geometry_json, to_wgs84
from api.service import Service
from geo.criteria import H2_ZERO_KM, get_profile
from geo.crs import CRS84_OUT, WORK_CRS, WORK_OUT, OutputCrs, output_crs
from geo.errors import InvalidParameter, NotFound
from geo.scoring import Ranking
from maps import qgis
from maps.report import Site, municipality_map

Progress = Callable[[str], None]
AreaKind = Literal["municipality", "kreis", "nrw"]
CONTEXT_SIMPLIFY_DEG = 0.0002  # ≈ 15–20 m: neighbour outlines on the report map
HYDROGEN_MARGIN_DEG = 0.1
NRW_KEY = "05"
CONTEXT_LAYERS = ("regional_plan", "brownfields", "lep_sites", "hydrogen")
TITLES = {
    "sites": ("Standorte (bewertet)", "Candidate sites (scored)"),
    "regional_plan": ("Regionalplan: GIB und weitere Bereiche", "Regional plans: industrial areas"),
    "brownfields": ("Brachflächen", "Brownfields"),
    "lep_sites": ("LEP-NRW-Großstandorte", "LEP NRW large sites"),
    "hydrogen": (
        "Wasserstoff-Kernnetz (bis 20 km um das Gebiet)",
        "Hydrogen core network (within 20 km of the area)",
    ),
    "municipalities": ("Gemeindegrenzen", "Municipal boundaries"),
}
AREA_WORDS = {
    "municipality": ("Gemeinde", "municipality"),
    "kreis": ("Kreis", "Kreis"),
    "nrw": ("Land", "state"),
}


def generated_now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def attribution(svc: Service) -> list[dict[str, Any]]:
    """The snapshot's attribution entries, each with the URL of its licence."""
    return svc.attribution()


# -- areas and which sites they hold ------------------------------------------------------------
@dataclass(frozen=True)
class Area:
    """A municipality, a Kreis or the state: its key, name and municipality rows."""

    kind: AreaKind
    key: str
    name: str
    units: np.ndarray  # rows of the municipalities layer
    kreis: str | None = None

    @property
    def slug(self) -> str:
        """The file name stem: the AGS, the Kreis key or ``nrw``."""
        return "nrw" if self.kind == "nrw" else self.key


class SiteIndex:
    """Which municipalities each site's interior overlaps, and which sites stick out of NRW.

    Built once per Service: sites wholly inside one municipality are found with
    ``contains_properly``; only the others are tested pair by pair (interiors intersect,
    DE-9IM ``T********``).
    """

    def __init__(self, svc: Service):
        muni = svc.snap.layers["municipalities"]
        units = np.asarray(muni.geometry.values)
        sites = np.asarray(svc.sites.geometry.values)
        n = len(sites)
        self.ags = muni["ags"].astype(str).to_numpy(object)
        self.names = muni["name"].to_numpy(object)
        self.kreis_ags = muni["kreis_ags"].astype(str).to_numpy(object)
        self.kreis_names = muni["kreis_name"].to_numpy(object)
        self.units = units
        u_in, s_in = shapely.STRtree(sites).query(units, predicate="contains_properly")
        inside = np.zeros(n, dtype=bool)
        inside[s_in] = True
        rest = np.flatnonzero(~inside)
        s_x, u_x = shapely.STRtree(units).query(sites[rest], predicate="intersects")
        s_x = rest[s_x]
        interior = shapely.relate_pattern(sites[s_x], units[u_x], "T********")
        s_x, u_x = s_x[interior], u_x[interior]
        self.site = np.concatenate([s_in, s_x])
        self.unit = np.concatenate([u_in, u_x])
        state = shapely.coverage_union_all(units)
        shapely.prepare(state)
        self.outside = np.zeros(n, dtype=bool)  # partly outside every municipality (NRW)
        if len(rest):
            self.outside[rest] = ~shapely.covered_by(sites[rest], state)
        self.n_units = np.bincount(self.site, minlength=n)
        self.state = state
        self._outline: dict[str, shapely.Geometry] = {}
        self._layers: dict[str, tuple[np.ndarray, shapely.STRtree, pd.DataFrame]] = {}
        self._snap_layers = svc.snap.layers

    def layer(self, name: str) -> tuple[np.ndarray, shapely.STRtree, pd.DataFrame] | None:
        """A context layer's geometries, STRtree and public columns (cached)."""
        if name not in self._layers:
            gdf = self._snap_layers.get(name)
            if gdf is None:
                return None
            geoms = np.asarray(gdf.geometry.values)
            cols = [c for c in gdf.columns if c != gdf.geometry.name and not c.startswith("_")]
            self._layers[name] = (
                geoms,
                shapely.STRtree(geoms),
                pd.DataFrame(gdf[cols]).reset_index(drop=True),
            )
        return self._layers[name]

    def area(self, kind: AreaKind, key: str | None) -> Area:
        """The area of a municipality (8-digit AGS), a Kreis (5 digits) or NRW."""
        if kind == "nrw":
            return Area("nrw", NRW_KEY, "Nordrhein-Westfalen", np.arange(len(self.ags)))
        if kind == "municipality":
            rows = np.flatnonzero(self.ags == key)
            if not len(rows):
                raise NotFound("no municipality with this AGS")
            return Area(kind, str(key), str(self.names[rows[0]]), rows, str(self.kreis_names[rows[0]]))
        rows = np.flatnonzero(self.kreis_ags == key)
        if not len(rows):
            raise NotFound("no Kreis with this key")
        return Area(kind, str(key), str(self.kreis_names[rows[0]]), rows)

    def outline(self, area: Area) -> shapely.Geometry:
        """The area's polygon (the union of its municipalities)."""
        if area.kind == "nrw":
            return self.state
        if area.key not in self._outline:
            self._outline[area.key] = shapely.coverage_union_all(self.units[area.units])
        return self._outline[area.key]

    def rows(self, area: Area) -> tuple[np.ndarray, np.ndarray]:
        """The sites intersecting ``area`` (row positions, ascending) and per site whether it
        crosses the area's boundary (lies partly in another municipality or outside NRW).
        """
        mine = np.isin(self.unit, area.units)
        rows = np.unique(self.site[mine])
        if area.kind == "nrw":
            inside_pairs = self.n_units[rows]
        else:
            inside_pairs = np.bincount(self.site[mine], minlength=len(self.n_units))[rows]
        crosses = (inside_pairs < self.n_units[rows]) | self.outside[rows]
        return rows, crosses


_INDEX: weakref.WeakKeyDictionary[Service, SiteIndex] = weakref.WeakKeyDictionary()


def site_index(svc: Service) -> SiteIndex:
    """The SiteIndex of a Service (built on first use)."""
    if svc not in _INDEX:
        _INDEX[svc] = SiteIndex(svc)
    return _INDEX[svc]


# -- the site table -----------------------------------------------------------------------------
def export_order(r: Ranking, rows: np.ndarray, site_ids: np.ndarray) -> np.ndarray:
    """Ranked rows by rank, then the excluded ones by site_id."""
    rank = r.rank[rows]
    ranked = rows[rank > 0][np.argsort(rank[rank > 0], kind="stable")]
    other = rows[rank == 0]
    return np.concatenate([ranked, other[np.argsort(site_ids[other], kind="stable")]])


def site_table(svc: Service, r: Ranking, rows: np.ndarray) -> pd.DataFrame:
    """The flat columns of ``rows`` (any order), from the results of ranking ``r`` (as columns);
    ``rank`` is still the rank in NRW (``local_ranks`` makes it the export's).
    """
    results = svc.scorer.columns(r, rows)
    restricted = {c: [v[i] for i in rows.tolist()] for c, v in getattr(svc, "restricted", {}).items()}
    rank_nrw = [int(k) or None for k in r.rank[rows].tolist()]
    cols = flat_columns(results, {"rank_nrw": rank_nrw, "crosses_boundary": [False] * len(rows)}, restricted)
    return pd.DataFrame(cols)


def restricted_names(svc: Service) -> list[str]:
    """The confidential columns of the caller's view (none for the public)."""
    return list(getattr(svc, "restricted", {}))


def area_sites(
    svc: Service, table: pd.DataFrame, table_rows: np.ndarray, r: Ranking, area: Area
) -> gpd.GeoDataFrame:
    """The sites of ``area`` from a table of flat columns (``table_rows``: its site rows)."""
    rows, crosses = site_index(svc).rows(area)
    order = export_order(r, rows, svc.scorer.site_id)
    pos = np.searchsorted(table_rows, order) if len(table_rows) else np.zeros(0, int)
    df = table.iloc[pos].reset_index(drop=True)
    cross_of = dict(zip(rows.tolist(), crosses.tolist(), strict=True))
    df["crosses_boundary"] = [cross_of[i] for i in order.tolist()]
    ranked = r.rank[order] > 0
    df["rank"] = pd.array(np.where(ranked, np.cumsum(ranked), 0), dtype="Int64")
    df.loc[~ranked, "rank"] = pd.NA
    return gpd.GeoDataFrame(df, geometry=np.asarray(svc.sites.geometry.values)[order], crs=WORK_CRS)


# -- layers of an export ------------------------------------------------------------------------
def _aliases(fields: Sequence[Field], lang: str) -> list[tuple[str, str]]:
    return [(f.name, f.label(lang)) for f in fields]


def _title(name: str, lang: str) -> str:
    de, en = TITLES[name]
    return de if lang == "de" else en


def _codes_labels(attr: str, lang: str) -> dict[str, str]:
    return {k: (v[0] if lang == "de" else v[1]) for k, v in LAYER_CODES[attr].items()}


def _styles(name: str, fields: Sequence[Field]) -> dict[str, str]:
    return _styles_cached(name, tuple(fields))


@lru_cache(maxsize=64)
def _styles_cached(name: str, fields: tuple[Field, ...]) -> dict[str, str]:
    out = {}
    for lang in ("de", "en"):
        al = _aliases(fields, lang)
        if name == "sites":
            out[lang] = qgis.score_style(lang, al)
        elif name == "regional_plan":
            lab = _codes_labels("category", lang)
            colours = {"GIB": "#6a3d9a", "GIB_Z": "#cab2d6", "LARGE_PROJECT": "#e31a1c", "ASB_GE": "#fdbf6f"}
            out[lang] = qgis.categorised_style(
                "category",
                [(k, lab[k], qgis.Symbol("fill", c, opacity=0.45)) for k, c in colours.items()],
                2,
                al,
                other=("andere" if lang == "de" else "other", qgis.Symbol("fill", "#bbbbbb", opacity=0.45)),
            )
        elif name == "brownfields":
            lab = _codes_labels("contamination", lang)
            colours = {
                "none": "#b2df8a",
                "remediated": "#33a02c",
                "suspected": "#fdbf6f",
                "confirmed": "#e31a1c",
                "unknown": "#999999",
            }
            out[lang] = qgis.categorised_style(
                "contamination",
                [(k, lab[k], qgis.Symbol("fill", c, "#7f2704", opacity=0.6)) for k, c in colours.items()],
                2,
                al,
            )
        elif name == "lep_sites":
            out[lang] = qgis.single_style(qgis.Symbol("fill", "#1f78b4", "#08306b", 0.6, opacity=0.35), 2, al)
        elif name == "hydrogen":
            lab = _codes_labels("kind", lang)
            out[lang] = qgis.categorised_style(
                "kind",
                [
                    (
                        "conversion",
                        lab["conversion"],
                        qgis.Symbol("line", "#0b63c4", width_mm=0.8, dashed=True),
                    ),
                    ("new_build", lab["new_build"], qgis.Symbol("line", "#08306b", width_mm=0.8)),
                ],
                1,
                al,
            )
        else:
            out[lang] = qgis.single_style(qgis.Symbol("fill", "", "#111111", 0.6), 2, al)
    return out


def _context(
    svc: Service, name: str, outline: shapely.Geometry, nrw: bool, attrib: list[dict[str, Any]]
) -> ExportLayer | None:
    found = site_index(svc).layer(name)
    if found is None:
        return None
    geoms, tree, df = found
    if nrw:
        hit = np.arange(len(geoms))
    elif name == "hydrogen":  # the segments that can score: within 20 km
        hit = np.sort(tree.query(outline, predicate="dwithin", distance=H2_ZERO_KM * 1000))
    else:
        hit = np.sort(tree.query(outline, predicate="intersects"))
        hit = hit[shapely.relate_pattern(geoms[hit], outline, "T********")]
    fields = [layer_field(c) for c in df.columns]
    frame = gpd.GeoDataFrame(df.iloc[hit].reset_index(drop=True), geometry=geoms[hit], crs=WORK_CRS)
    return ExportLayer(
        name,
        {"de": _title(name, "de"), "en": _title(name, "en")},
        frame,
        fields,
        _styles(name, fields),
        LAYER_CODES,
        [a for a in attrib if a["layer"] == name],
    )


def _boundary(svc: Service, area: Area, attrib: list[dict[str, Any]]) -> ExportLayer:
    muni = svc.snap.layers["municipalities"]
    cols = ["ags", "name", "kreis_ags", "kreis_name"]
    fields = [layer_field(c) for c in cols]
    frame = gpd.GeoDataFrame(
        muni[cols].iloc[area.units].reset_index(drop=True),
        geometry=np.asarray(muni.geometry.values)[area.units],
        crs=WORK_CRS,
    )
    return ExportLayer(
        "municipalities",
        {"de": _title("municipalities", "de"), "en": _title("municipalities", "en")},
        frame,
        fields,
        _styles("municipalities", fields),
        {},
        [a for a in attrib if a["layer"] == "municipalities"],
    )


def sites_layer(svc: Service, frame: gpd.GeoDataFrame, attrib: list[dict[str, Any]]) -> ExportLayer:
    """The scored sites as an export layer (flat columns, score style)."""
    fields = site_fields(restricted_names(svc))
    return ExportLayer(
        "sites",
        {"de": _title("sites", "de"), "en": _title("sites", "en")},
        frame[[f.name for f in fields] + ["geometry"]],
        fields,
        _styles("sites", fields),
        {},
        attrib,
    )


def export_meta(
    svc: Service,
    area: Area,
    r: Ranking,
    frame: gpd.GeoDataFrame,
    generated: str,
    attrib: list[dict[str, Any]],
) -> ExportMeta:
    """What the export says about itself."""
    word = AREA_WORDS[area.kind]
    not_ranked = int(frame["rank"].isna().sum())
    title = {
        "de": f"Gewerbe- und Industriestandorte: {word[0]} {area.name}",
        "en": f"Industrial sites: {word[1]} {area.name}",
    }
    return ExportMeta(
        title,
        {"kind": area.kind, "key": area.key, "name": area.name},
        svc.snap.id,
        svc.synthetic,
        r.profile.name,
        r.weights,
        generated,
        attrib,
        svc.sources_doc(),
        {
            "numberMatched": len(frame),
            "numberNotRanked": not_ranked,
            "numberCrossingBoundary": int(frame["crosses_boundary"].sum()),
        },
    )


def geojson_members(meta: ExportMeta, area: Area) -> dict[str, Any]:
    """Top-level members of the GeoJSON export (DESIGN §5.3)."""
    head: dict[str, Any] = {"name": area.name, "area": dict(meta.area)}
    if area.kind == "municipality":
        head.update(ags=area.key, municipality=area.name, kreis=area.kreis)
    elif area.kind == "kreis":
        head.update(kreis_ags=area.key, kreis=area.name)
    licences = meta.licences()
    head.update(
        {
            "profile": meta.profile,
            "weights": dict(meta.weights),
            **meta.extra,
            "snapshot": meta.snapshot,
            "synthetic": meta.synthetic,
            "generated": meta.generated,
            "licence": "; ".join(sorted(str(x["licence"]) for x in licences)),
            "licences": licences,
            "attribution": list(meta.attribution),
            "sources": dict(meta.sources),
        }
    )
    return head


def render(
    svc: Service,
    area: Area,
    fmt: str,
    r: Ranking,
    frame: gpd.GeoDataFrame,
    crs: OutputCrs,
    lang: str,
    generated: str,
) -> bytes:
    """One export file as bytes."""
    attrib = attribution(svc)
    meta = export_meta(svc, area, r, frame, generated, attrib)
    sites = sites_layer(svc, frame, attrib)
    if fmt == "geojson":
        return geojson_bytes(sites, geojson_members(meta, area))
    if fmt == "csv":
        return csv_bytes(sites, crs, lang)
    index = site_index(svc)
    with tempfile.TemporaryDirectory(prefix="nrw-export-") as tmp:
        path = Path(tmp) / f"{area.slug}.{fmt}"
        if fmt == "gpkg":
            outline = index.outline(area)
            layers = [
                sites,
                *[
                    x
                    for x in (_context(svc, n, outline, area.kind == "nrw", attrib) for n in CONTEXT_LAYERS)
                    if x is not None
                ],
                _boundary(svc, area, attrib),
            ]
            write_gpkg(path, layers, meta, crs, lang)
        elif fmt == "shp.zip":
            write_shp_zip(path, [sites, _boundary(svc, area, attrib)], meta, crs, lang)
        else:
            raise InvalidParameter(f"unknown export format; formats: {', '.join(FORMATS)}")
        return path.read_bytes()


def check_options(fmt: str, crs: str | None, lang: str | None) -> tuple[OutputCrs, str]:
    """Validate format, CRS and language; GeoJSON stays RFC 7946 (WGS84)."""
    if fmt not in FORMATS:
        raise NotFound(f"unknown export format; formats: {', '.join(FORMATS)}")
    if lang not in (None, "de", "en"):
        raise InvalidParameter("lang takes de or en")
    if fmt == "geojson":
        out = output_crs(crs, CRS84_OUT)
        if out.epsg != 4326:
            raise InvalidParameter(
                "GeoJSON exports are RFC 7946 (WGS84 longitude/latitude); "
                "for EPSG:25832 use .gpkg, .shp.zip or .csv"
            )
        return CRS84_OUT, lang or "de"
    return output_crs(crs, WORK_OUT), lang or "de"


def export_area(
    svc: Service,
    kind: AreaKind,
    key: str | None,
    fmt: str,
    profile: str | None,
    crs: str | None = None,
    lang: str | None = None,
) -> tuple[bytes, str, str, str]:
    """One export (HTTP): the bytes, the file name, the media type and the CRS URI."""
    out_crs, out_lang = check_options(fmt, crs, lang)
    index = site_index(svc)
    area = index.area(kind, key)
    r = svc.rank(get_profile(profile).name, None)
    rows, _ = index.rows(area)
    table = site_table(svc, r, rows)
    frame = area_sites(svc, table, rows, r, area)
    body = render(svc, area, fmt, r, frame, out_crs, out_lang, generated_now())
    return body, f"{area.slug}.{fmt}", MEDIA_TYPES[fmt], out_crs.uri


# -- many areas at once (the command line) ----------------------------------------------------
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
        outlines = shapely.simplify(
            to_wgs84(layer.geometry.values), CONTEXT_SIMPLIFY_DEG, preserve_topology=True
        )
        labels = [f"{n} ({a})" for n, a in zip(layer["name"], layer["ags"], strict=True)]
        lines: list[tuple[str, str, shapely.Geometry]] = []
        h2 = svc.snap.layers.get("hydrogen")
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


def report_items(svc: Service, r: Ranking, frame: gpd.GeoDataFrame, rows: np.ndarray) -> list[dict[str, Any]]:
    """The report map's items (with breakdown) in export order, ranks as in the export."""
    by_id = {sid: i for i, sid in enumerate(frame["site_id"].tolist())}
    items = svc.items(r, rows, inline_sources=False)
    items.sort(key=lambda it: by_id[it["site_id"]])
    for it, rank, cross in zip(items, frame["rank"].tolist(), frame["crosses_boundary"], strict=True):
        it["rank_nrw"] = it["rank"]
        it["rank"] = None if rank is pd.NA else rank
        it["crosses_boundary"] = bool(cross)
    return items


def areas_of(
    svc: Service,
    municipalities: Sequence[str] | None = None,
    kreise: Sequence[str] | None = None,
    nrw: bool = False,
    all_municipalities: bool = False,
) -> list[Area]:
    """The areas a command-line run names (unknown keys: NotFound naming them)."""
    index = site_index(svc)
    out: list[Area] = []
    wanted = list(index.ags) if all_municipalities else list(dict.fromkeys(municipalities or []))
    unknown = [a for a in wanted if a not in set(index.ags)]
    unknown += [k for k in dict.fromkeys(kreise or []) if k not in set(index.kreis_ags)]
    if unknown:
        shown = ", ".join(repr(a[:12]) for a in unknown[:5])
        raise NotFound(f"no municipality or Kreis with key {shown} in snapshot {svc.snap.id}")
    out += [index.area("municipality", a) for a in wanted]
    out += [index.area("kreis", k) for k in dict.fromkeys(kreise or [])]
    if nrw:
        out.append(index.area("nrw", None))
    return out


def export_many(
    svc: Service,
    areas: Sequence[Area],
    out_dir: Path,
    profile: str | None,
    formats: Sequence[str] = ("geojson", "html"),
    crs: str | None = None,
    lang: str | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> dict[str, Any]:
    """Write ``<key>.<format>`` for every area and format, and ``index.json``; return the index.

    ``html`` is the report map (municipalities only). With ``workers`` > 1 the files are
    written by forked worker processes (the site table is built once, before forking).
    """
    say = progress or (lambda _m: None)
    unknown = [f for f in formats if f not in (*FORMATS, "html")]
    if unknown:
        raise InvalidParameter(f"unknown format; formats: {', '.join((*FORMATS, 'html'))}")
    options = {f: check_options(f, crs if f != "geojson" else None, lang) for f in formats if f != "html"}
    p = get_profile(profile)
    out_dir.mkdir(parents=True, exist_ok=True)
    generated = generated_now()
    say(f"ranking {len(svc.sites):,} sites under profile {p.name}")
    r = svc.rank(p.name, None)
    index = site_index(svc)
    all_rows = (
        np.unique(np.concatenate([index.rows(a)[0] for a in areas])) if areas else np.zeros(0, dtype=np.int64)
    )
    say(f"{len(all_rows):,} sites in {len(areas)} areas: flat columns")
    table = site_table(svc, r, all_rows)
    ctx = _Context.of(svc) if "html" in formats else None
    attrib = attribution(svc)

    def one(area: Area) -> dict[str, Any]:
        frame = area_sites(svc, table, all_rows, r, area)
        files = {}
        for fmt in formats:
            name = f"{area.slug}.{fmt}"
            if fmt == "html":
                if area.kind != "municipality" or ctx is None:
                    continue
                rows, _ = index.rows(area)
                items = report_items(svc, r, frame, rows)
                geoms = geometry_json(to_wgs84(frame.geometry.values))
                (out_dir / name).write_text(
                    ctx.report(area, items, geoms, attrib, svc.synthetic, p.label_en, generated),
                    encoding="utf-8",
                )
            else:
                c, lg = options[fmt]
                (out_dir / name).write_bytes(render(svc, area, fmt, r, frame, c, lg, generated))
            files[fmt] = name
        ranked = frame["rank"].notna()
        return {
            "kind": area.kind,
            "key": area.key,
            "name": area.name,
            **({"ags": area.key, "kreis": area.kreis} if area.kind == "municipality" else {}),
            "sites": int(len(frame)),
            "not_ranked": int((~ranked).sum()),
            "crossing_boundary": int(frame["crosses_boundary"].sum()),
            "best_score": (float(frame["score"][ranked].iloc[0]) if ranked.any() else None),
            "files": files,
        }

    entries = _run(one, areas, workers, say)
    doc = {
        "snapshot": svc.snap.id,
        "synthetic": svc.synthetic,
        "profile": p.name,
        "generated": generated,
        "formats": list(formats),
        "crs": {f: c.curie for f, (c, _) in options.items()},
        "lang": lang or "de",
        "attribution": attrib,
        "areas": entries,
        "municipalities": [e for e in entries if e["kind"] == "municipality"],
    }
    (out_dir / "index.json").write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    say(f"wrote {len(entries)} areas to {out_dir}")
    return doc


def _run(
    one: Callable[[Area], dict[str, Any]], areas: Sequence[Area], workers: int | None, say: Progress
) -> list[dict[str, Any]]:
    """Run ``one`` over the areas, in forked processes when ``workers`` > 1."""
    n = workers if workers is not None else min(os.cpu_count() or 1, 4)
    if n <= 1 or len(areas) < 8 or not hasattr(os, "fork"):
        out = []
        for k, a in enumerate(areas, 1):
            out.append(one(a))
            if k % 50 == 0:
                say(f"{k}/{len(areas)} areas written")
        return out
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    global _ONE, _AREAS
    _ONE, _AREAS = one, areas
    try:
        with ctx.Pool(n) as pool:
            out = []
            for k, entry in enumerate(pool.imap(_call, range(len(areas)), chunksize=4), 1):
                out.append(entry)
                if k % 50 == 0:
                    say(f"{k}/{len(areas)} areas written")
            return out
    finally:
        _ONE, _AREAS = None, ()


_ONE: Callable[[Area], dict[str, Any]] | None = None
_AREAS: Sequence[Area] = ()


def _call(k: int) -> dict[str, Any]:
    assert _ONE is not None
    return _ONE(_AREAS[k])


def export_municipalities(
    svc: Service,
    ags_list: list[str] | None,
    out_dir: Path,
    profile: str | None,
    progress: Progress | None = None,
    formats: Sequence[str] = ("geojson", "html"),
) -> dict[str, Any]:
    """Write ``<AGS>.geojson``, ``<AGS>.html`` and ``index.json`` for the given municipalities
    (all when ``ags_list`` is None) into ``out_dir``; return the index.
    """
    areas = areas_of(svc, ags_list, all_municipalities=ags_list is None)
    return export_many(svc, areas, out_dir, profile, formats, progress=progress)


def valid_key(kind: AreaKind, key: str) -> None:
    """Refuse malformed keys before any work (8 digits for municipalities, 5 for Kreise)."""
    digits = 8 if kind == "municipality" else 5
    if not re.fullmatch(rf"\d{{{digits}}}", key):
        word = "AGS" if kind == "municipality" else "Kreis key"
        raise NotFound(f"no {kind} with this key ({word}: {digits} digits)")
