"""One area's export as a file: the flat site table, the layers, the metadata and the bytes of
each format (GeoJSON, GeoPackage, CSV, zipped Shapefile) and the report map's items.

The columns are the flat columns of ``api.fields`` (serialised from ``geo.result``'s result
columns of the rows ``geo.areas`` chose, in export order); the files are written by
``api.formats`` with GDAL, the QGIS styles come from ``maps.export_styles``. ``api.exports``
runs this over one area (HTTP) or many (the command line).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from api import audit
from api.export_changes import area_changes, changes_layer, with_change_column
from api.fields import LAYER_CODES, Field, flat_columns, layer_field, site_fields
from api.formats import (
    FORMATS,
    ExportLayer,
    ExportMeta,
    csv_bytes,
    geojson_bytes,
    write_gpkg,
    write_shp_zip,
)
from api.service import Service
from geo.areas import Area, AreaSites
from geo.crs import CRS84_OUT, WORK_CRS, WORK_OUT, OutputCrs, output_crs
from geo.errors import InvalidParameter, NotFound
from geo.filters import Filters
from geo.scoring import Ranking
from maps.export_styles import layer_style

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
    "selection": ("Auswahl", "selection"),
}


def attribution(svc: Service) -> list[dict[str, Any]]:
    """The snapshot's attribution entries, each with the URL of its licence."""
    return svc.attribution()


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


# -- the site table -----------------------------------------------------------------------------
def restricted_names(svc: Service) -> list[str]:
    """The confidential columns of the caller's view (none for the public)."""
    return list(getattr(svc, "restricted", {}))


def site_table(svc: Service, r: Ranking, rows: np.ndarray) -> pd.DataFrame:
    """The flat columns of ``rows`` (in their order), from the results of ranking ``r`` (as
    columns); ``rank`` is still the rank in NRW (``area_frame`` makes it the export's).
    """
    results = svc.scorer.columns(r, rows)
    restricted = {c: [v[i] for i in rows.tolist()] for c, v in getattr(svc, "restricted", {}).items()}
    audit.note_rows(svc.scorer.site_id, rows.tolist(), getattr(svc, "restricted", {}))
    rank_nrw = [int(k) or None for k in r.rank[rows].tolist()]
    cols = flat_columns(results, {"rank_nrw": rank_nrw, "crosses_boundary": [False] * len(rows)}, restricted)
    return pd.DataFrame(cols)


def area_frame(
    svc: Service, table: pd.DataFrame, chosen: AreaSites, table_rows: np.ndarray | None = None
) -> gpd.GeoDataFrame:
    """The sites of an area: its rows of ``table`` (``table_rows``: the table's site rows,
    ascending; None: the table holds ``chosen.rows`` in their order) with the area's
    ``crosses_boundary`` and ``rank``, and their geometry.
    """
    if table_rows is not None:
        pos = np.searchsorted(table_rows, chosen.rows) if len(table_rows) else np.zeros(0, int)
        table = table.iloc[pos]
    df = table.reset_index(drop=True)
    df["crosses_boundary"] = chosen.crosses.tolist()
    ranked = chosen.rank > 0
    df["rank"] = pd.array(chosen.rank, dtype="Int64")
    df.loc[~ranked, "rank"] = pd.NA
    return gpd.GeoDataFrame(df, geometry=np.asarray(svc.sites.geometry.values)[chosen.rows], crs=WORK_CRS)


def report_items(svc: Service, r: Ranking, frame: gpd.GeoDataFrame, rows: np.ndarray) -> list[dict[str, Any]]:
    """The report map's items (with breakdown) of ``rows`` (export order), ranks as in the export."""
    items = svc.items(r, rows, inline_sources=False)
    for it, rank, cross in zip(items, frame["rank"].tolist(), frame["crosses_boundary"], strict=True):
        it["rank_nrw"] = it["rank"]
        it["rank"] = None if rank is pd.NA else rank
        it["crosses_boundary"] = bool(cross)
    return items


# -- layers of an export ------------------------------------------------------------------------
def _title(name: str, lang: str) -> str:
    de, en = TITLES[name]
    return de if lang == "de" else en


def _titles(name: str) -> dict[str, str]:
    return {"de": _title(name, "de"), "en": _title(name, "en")}


def _styles(name: str, fields: Sequence[Field]) -> dict[str, str]:
    return _styles_cached(name, tuple(fields))


@lru_cache(maxsize=64)
def _styles_cached(name: str, fields: tuple[Field, ...]) -> dict[str, str]:
    return {
        lang: layer_style(name, lang, [(f.name, f.label(lang)) for f in fields], LAYER_CODES)
        for lang in ("de", "en")
    }


def _context(svc: Service, name: str, area: Area, attrib: list[dict[str, Any]]) -> ExportLayer | None:
    hit = svc.areas.features(name, area)
    if hit is None:
        return None
    gdf = svc.snap.layers[name]
    cols = [c for c in gdf.columns if c != gdf.geometry.name and not c.startswith("_")]
    fields = [layer_field(c) for c in cols]
    frame = gpd.GeoDataFrame(
        pd.DataFrame(gdf[cols]).iloc[hit].reset_index(drop=True),
        geometry=np.asarray(gdf.geometry.values)[hit],
        crs=WORK_CRS,
    )
    return ExportLayer(
        name,
        _titles(name),
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
        _titles("municipalities"),
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
        _titles("sites"),
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
    filters: Filters | None = None,
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
            **({"filters": filters.to_dict()} if filters else {}),
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
    filters: Filters | None = None,
) -> bytes:
    """One export file as bytes (``filters``: the hard filters the ranking applied)."""
    attrib = attribution(svc)
    meta = export_meta(svc, area, r, frame, generated, attrib, filters)
    sites = sites_layer(svc, frame, attrib)
    # a municipality's or a Kreis's export says what changed there since the previous release
    ch = area_changes(svc, area, frame, r.profile.name) if area.kind in ("municipality", "kreis") else None
    if fmt == "geojson":
        members = geojson_members(meta, area)
        if ch is not None:
            members["changes"] = ch.member
        return geojson_bytes(sites, members)
    if fmt == "csv":
        return csv_bytes(sites if ch is None else with_change_column(sites, ch), crs, lang, meta)
    with tempfile.TemporaryDirectory(prefix="nrw-export-") as tmp:
        path = Path(tmp) / f"{area.slug}.{fmt}"
        if fmt == "gpkg":
            context = [_context(svc, n, area, attrib) for n in CONTEXT_LAYERS]
            changed = None if ch is None else changes_layer(ch, attrib)
            layers = [sites, *[x for x in context if x is not None], _boundary(svc, area, attrib)]
            if changed is not None:
                layers.insert(1, changed)
            write_gpkg(path, layers, meta, crs, lang)
        elif fmt == "shp.zip":
            write_shp_zip(path, [sites, _boundary(svc, area, attrib)], meta, crs, lang)
        else:
            raise InvalidParameter(f"unknown export format; formats: {', '.join(FORMATS)}")
        return path.read_bytes()
