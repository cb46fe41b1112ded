"""Export files, written with pyogrio (GDAL): GeoPackage, Shapefile (zip), GeoJSON, and CSV.

An export is a list of ``ExportLayer``s (the sites first, then context layers) in EPSG:25832
plus the export's metadata; the writers here only transform coordinates and serialise.

- GeoPackage: GPKG 1.2 (readable by GDAL ≥ 2.2, QGIS 3.x, ArcGIS Pro), one table per layer with
  an R-tree index, ``layer_styles`` (QGIS's table: the default style of each layer, QML),
  ``gpkg_data_columns`` (column titles and descriptions: the GeoPackage Schema extension) and
  ``gpkg_metadata`` (the dataset and each layer described in DCAT-AP JSON-LD: title, licence
  with URL, attribution, snapshot, profile). The metadata tables are added with SQL after GDAL
  wrote the features, as the GeoPackage standard defines them; nothing newer than GPKG 1.2 is
  used (no CRS WKT 2 extension, no related tables), so GDAL 3.6 reads every part.
- Shapefile: a zip of ``sites`` and ``boundary`` (.shp, .shx, .dbf, .prj, .cpg = UTF-8) with
  10-character field names (``api.fields.shp_names``), ``fields.csv`` mapping them to the full
  names and labels, and ``LIESMICH.txt``/``README.txt`` with the licences.
- GeoJSON: RFC 7946 (WGS84, counter-clockwise outer rings, 7 decimals, no ``crs`` member) by
  GDAL's ``RFC7946=YES``; the export's metadata as foreign members of the FeatureCollection.
- CSV for Excel: UTF-8 with BOM, ``;``, decimal comma, labels as headers and for coded values,
  the centroid as Rechtswert/Hochwert (EPSG:25832) and longitude/latitude, no geometry.

SQLite is told not to fsync while writing (``OGR_SQLITE_SYNCHRONOUS=OFF``): export files are
written to a temporary directory and discarded if anything fails.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.raw
import shapely

from api.fields import BOOL_WORDS, Field, code_label, shp_names
from geo.crs import WORK_OUT, OutputCrs, project_xy, transformer

pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})

FORMATS = ("geojson", "gpkg", "csv", "shp.zip")
MEDIA_TYPES = {
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "csv": "text/csv; charset=utf-8",
    "shp.zip": "application/zip",
}
GPKG_VERSION = "1.2"
GEOMETRY_COLUMN = "geom"


@dataclass
class ExportLayer:
    """One layer of an export: table name, titles, EPSG:25832 frame, fields and style."""

    name: str
    title: Mapping[str, str]  # lang → title
    frame: gpd.GeoDataFrame  # EPSG:25832; columns named as ``fields``
    fields: Sequence[Field]
    style: Mapping[str, str] = field(default_factory=dict)  # lang → QML
    codes: Mapping[str, Mapping[str, tuple[str, str]]] = field(default_factory=dict)
    licence: Sequence[Mapping[str, Any]] = ()  # attribution entries of the layer


@dataclass
class ExportMeta:
    """What an export says about itself (top-level members, gpkg_metadata, README)."""

    title: Mapping[str, str]
    area: Mapping[str, Any]  # {"kind": "municipality", "key": ags, "name": ...}
    snapshot: str
    synthetic: bool
    profile: str
    weights: Mapping[str, float]
    generated: str
    attribution: Sequence[Mapping[str, Any]]
    sources: Mapping[str, Any]
    extra: Mapping[str, Any] = field(default_factory=dict)

    def licences(self) -> list[dict[str, Any]]:
        """Each distinct licence with its URL."""
        seen: dict[str, dict[str, Any]] = {}
        for a in self.attribution:
            if a.get("licence"):
                seen.setdefault(str(a["licence"]), {"licence": a["licence"], "url": a.get("licence_url")})
        return list(seen.values())


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
GEOMETRY_TYPES = {
    0: "Point",
    1: "LineString",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
}
MULTI = {"Point": "MultiPoint", "LineString": "MultiLineString", "Polygon": "MultiPolygon"}


@dataclass
class RawLayer:
    """A layer as pyogrio's raw writer takes it: WKB, one array (and null mask) per field."""

    wkb: np.ndarray
    data: list[np.ndarray]
    masks: list[np.ndarray | None]
    names: list[str]
    geometry_type: str


def _column(values: np.ndarray, kind: str) -> tuple[np.ndarray, np.ndarray | None]:
    if kind == "float":
        return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(float), None
    null = pd.isna(values)
    if kind == "int":
        return np.where(null, 0, values).astype(np.int64), null if null.any() else None
    if kind == "bool":
        return np.where(null, False, values).astype(bool), null if null.any() else None
    out = np.asarray(values, dtype=object).copy()  # text: a missing value is written as NULL
    out[null] = None
    return out, None


def raw_layer(layer: ExportLayer, crs: OutputCrs, default_type: str = "MultiPolygon") -> RawLayer:
    """Columns as typed arrays and geometries as WKB in ``crs`` (x/y order, 1 cm)."""
    geoms = np.asarray(layer.frame.geometry.values)
    geoms = shapely.transform(geoms, lambda xy: project_xy(xy, crs))
    types = {GEOMETRY_TYPES.get(int(t), "Unknown") for t in np.unique(shapely.get_type_id(geoms)) if t >= 0}
    simple = {t.replace("Multi", "") for t in types}
    gtype = (
        MULTI[simple.pop()]
        if len(simple) == 1 and not types - set(GEOMETRY_TYPES.values())
        else (default_type if not types else "Unknown")
    )
    data, masks = [], []
    for f in layer.fields:
        d, m = _column(layer.frame[f.name].to_numpy(object), f.kind)
        data.append(d)
        masks.append(m)
    return RawLayer(shapely.to_wkb(geoms), data, masks, [f.name for f in layer.fields], gtype)


def _write_raw(
    path: Path | io.BytesIO, raw: RawLayer, crs: OutputCrs, names: Sequence[str], **kw: Any
) -> None:
    pyogrio.raw.write(
        path,
        raw.wkb,
        raw.data,
        list(names),
        field_mask=raw.masks,
        geometry_type=raw.geometry_type,
        crs=f"EPSG:{crs.epsg}",
        promote_to_multi=True,
        **kw,
    )


DEFAULT_TYPES = {"hydrogen": "MultiLineString"}


# -- GeoPackage ---------------------------------------------------------------------------------
def write_gpkg(
    path: Path, layers: Sequence[ExportLayer], meta: ExportMeta, crs: OutputCrs, lang: str
) -> None:
    """Write the layers, their QGIS styles, column titles and metadata into a GeoPackage."""
    for k, layer in enumerate(layers):
        raw = raw_layer(layer, crs, DEFAULT_TYPES.get(layer.name, "MultiPolygon"))
        opts = {
            "SPATIAL_INDEX": "YES",
            "GEOMETRY_NAME": GEOMETRY_COLUMN,
            "FID": "fid",
            "IDENTIFIER": layer.title[lang],
            "DESCRIPTION": _layer_description(layer, lang),
        }
        _write_raw(
            path,
            raw,
            crs,
            raw.names,
            layer=layer.name,
            driver="GPKG",
            append=k > 0,
            layer_options=opts,
            dataset_options={"VERSION": GPKG_VERSION} if k == 0 else None,
        )
    styled = [x for x in layers if lang in x.style]
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    k = len(styled)

    def text(values: list[Any]) -> np.ndarray:
        return np.array(values, dtype=object)

    columns = {  # QGIS's layer_styles table
        "f_table_catalog": text([""] * k),
        "f_table_schema": text([""] * k),
        "f_table_name": text([x.name for x in styled]),
        "f_geometry_column": text([GEOMETRY_COLUMN] * k),
        "styleName": text([x.title[lang] for x in styled]),
        "styleQML": text([x.style[lang] for x in styled]),
        "styleSLD": text([""] * k),
        "useAsDefault": np.ones(k, dtype=bool),
        "description": text([f"NRW Site Finder ({lang})"] * k),
        "owner": text([""] * k),
        "ui": text([None] * k),
        "update_time": np.array([now] * k, dtype="datetime64[ms]"),
    }
    pyogrio.raw.write(
        path,
        None,
        list(columns.values()),
        list(columns),
        layer="layer_styles",
        driver="GPKG",
        append=True,
        geometry_type=None,
        layer_options={"FID": "id", "IDENTIFIER": "layer_styles", "DESCRIPTION": "QGIS layer styles"},
    )
    _gpkg_tables(path, layers, meta, lang)


def _layer_description(layer: ExportLayer, lang: str) -> str:
    lic = "; ".join(
        f"{a.get('attribution')} ({a.get('licence')}"
        + (f", {a['licence_url']}" if a.get("licence_url") else "")
        + ")"
        for a in layer.licence
    )
    return (
        f"{layer.title[lang]}. "
        + ("Quellen und Lizenzen: " if lang == "de" else "Sources and licences: ")
        + lic
    )


_SCHEMA_DDL = """
CREATE TABLE IF NOT EXISTS gpkg_extensions (table_name TEXT, column_name TEXT,
  extension_name TEXT NOT NULL, definition TEXT NOT NULL, scope TEXT NOT NULL,
  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
CREATE TABLE IF NOT EXISTS gpkg_data_columns (table_name TEXT NOT NULL,
  column_name TEXT NOT NULL, name TEXT, title TEXT, description TEXT, mime_type TEXT,
  constraint_name TEXT, CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
  CONSTRAINT gdc_tn UNIQUE (table_name, name));
CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (constraint_name TEXT NOT NULL,
  constraint_type TEXT NOT NULL, value TEXT, min NUMERIC, min_is_inclusive BOOLEAN,
  max NUMERIC, max_is_inclusive BOOLEAN, description TEXT,
  CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value));
CREATE TABLE IF NOT EXISTS gpkg_metadata (id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL,
  md_scope TEXT NOT NULL DEFAULT 'dataset', md_standard_uri TEXT NOT NULL,
  mime_type TEXT NOT NULL DEFAULT 'text/xml', metadata TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS gpkg_metadata_reference (reference_scope TEXT NOT NULL,
  table_name TEXT, column_name TEXT, row_id_value INTEGER,
  timestamp DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  md_file_id INTEGER NOT NULL, md_parent_id INTEGER,
  CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES gpkg_metadata(id),
  CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES gpkg_metadata(id));
"""
_EXTENSIONS = (
    ("gpkg_data_columns", "gpkg_schema", "http://www.geopackage.org/spec/#extension_schema"),
    ("gpkg_data_column_constraints", "gpkg_schema", "http://www.geopackage.org/spec/#extension_schema"),
    ("gpkg_metadata", "gpkg_metadata", "http://www.geopackage.org/spec/#extension_metadata"),
    ("gpkg_metadata_reference", "gpkg_metadata", "http://www.geopackage.org/spec/#extension_metadata"),
)
DCAT_URI = "http://www.w3.org/ns/dcat#"


def _gpkg_tables(path: Path, layers: Sequence[ExportLayer], meta: ExportMeta, lang: str) -> None:
    """Add gpkg_data_columns and gpkg_metadata (+ their gpkg_extensions rows)."""
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA synchronous = OFF")
        con.executescript(_SCHEMA_DDL)
        con.executemany(
            "INSERT OR IGNORE INTO gpkg_extensions VALUES (?, NULL, ?, ?, 'read-write')", _EXTENSIONS
        )
        rows = [
            (x.name, f.name, f.name, f.label(lang), f.description(lang) or None)
            for x in layers
            for f in x.fields
        ]
        con.executemany(
            "INSERT INTO gpkg_data_columns (table_name, column_name, name, title, "
            "description) VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        cur = con.execute(
            "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, "
            "metadata) VALUES ('dataset', ?, 'application/ld+json', ?)",
            (DCAT_URI, json.dumps(dataset_jsonld(meta, lang), ensure_ascii=False)),
        )
        root = cur.lastrowid
        con.execute(
            "INSERT INTO gpkg_metadata_reference (reference_scope, md_file_id) VALUES ('geopackage', ?)",
            (root,),
        )
        for x in layers:
            doc = {
                "@type": "dcat:Dataset",
                "dct:title": x.title[lang],
                "dct:license": [
                    {"@id": a.get("licence_url") or "", "rdfs:label": a.get("licence")} for a in x.licence
                ],
                "dct:rightsHolder": [a.get("attribution") for a in x.licence],
            }
            cur = con.execute(
                "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, "
                "metadata) VALUES ('dataset', ?, 'application/ld+json', ?)",
                (DCAT_URI, json.dumps(doc, ensure_ascii=False)),
            )
            con.execute(
                "INSERT INTO gpkg_metadata_reference (reference_scope, table_name, "
                "md_file_id, md_parent_id) VALUES ('table', ?, ?, ?)",
                (x.name, cur.lastrowid, root),
            )
        con.commit()
    finally:
        con.close()


def dataset_jsonld(meta: ExportMeta, lang: str) -> dict[str, Any]:
    """The export as a DCAT-AP dataset (JSON-LD), for gpkg_metadata and the README."""
    return {
        "@context": {
            "dcat": DCAT_URI,
            "dct": "http://purl.org/dc/terms/",
            "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
        },
        "@type": "dcat:Dataset",
        "dct:title": meta.title[lang],
        "dct:description": ("SYNTHETIC demo data – not official sites. " if meta.synthetic else "")
        + f"Profile {meta.profile}; snapshot {meta.snapshot}.",
        "dct:issued": meta.generated,
        "dct:identifier": f"{meta.snapshot}/{meta.area['key']}",
        "dct:spatial": {"rdfs:label": f"{meta.area['name']} ({meta.area['key']})"},
        "dct:license": [{"@id": x["url"] or "", "rdfs:label": x["licence"]} for x in meta.licences()],
        "dct:rightsHolder": sorted({str(a["attribution"]) for a in meta.attribution if a.get("attribution")}),
        "dct:source": [dict(a) for a in meta.attribution],
    }


# -- Shapefile ---------------------------------------------------------------------------------
def write_shp_zip(
    path: Path, layers: Sequence[ExportLayer], meta: ExportMeta, crs: OutputCrs, lang: str
) -> None:
    """A zip of one Shapefile per layer (UTF-8, .prj), the field-name mapping and the licences."""
    with tempfile.TemporaryDirectory(prefix="nrw-shp-") as tmp:
        names: dict[str, dict[str, str]] = {}
        for layer in layers:
            mapping = shp_names(layer.fields)
            names[layer.name] = mapping
            raw = raw_layer(layer, crs)
            _write_raw(
                Path(tmp) / f"{layer.name}.shp",
                raw,
                crs,
                [mapping[n] for n in raw.names],
                driver="ESRI Shapefile",
                encoding="UTF-8",
            )
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
            for layer in layers:
                for ext in ("shp", "shx", "dbf", "prj", "cpg"):
                    z.write(Path(tmp) / f"{layer.name}.{ext}", f"{layer.name}.{ext}")
            buf = io.StringIO()
            w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
            w.writerow(["layer", "shapefile_field", "field", "label_de", "label_en"])
            for layer in layers:
                for f in layer.fields:
                    w.writerow([layer.name, names[layer.name][f.name], f.name, f.de, f.en])
            z.writestr("fields.csv", "\ufeff" + buf.getvalue())
            z.writestr("LIESMICH.txt" if lang == "de" else "README.txt", readme_text(meta, lang))


def readme_text(meta: ExportMeta, lang: str) -> str:
    """A plain-text description with every source and licence (URL)."""
    de = lang == "de"
    lines = [meta.title[lang], ""]
    if meta.synthetic:
        lines += [
            "SYNTHETISCHE Demo-Daten – keine amtlichen Flächen."
            if de
            else "SYNTHETIC demo data – not official sites.",
            "",
        ]
    lines += [
        f"{'Stand' if de else 'Snapshot'}: {meta.snapshot}",
        f"{'Erzeugt' if de else 'Generated'}: {meta.generated}",
        f"{'Profil' if de else 'Profile'}: {meta.profile}",
        "",
        "Quellen und Lizenzen:" if de else "Sources and licences:",
    ]
    for a in meta.attribution:
        url = f" <{a['licence_url']}>" if a.get("licence_url") else ""
        lines.append(f"- {a.get('layer')}: {a.get('attribution')} – {a.get('licence')}{url}")
    return "\r\n".join(lines) + "\r\n"


# -- GeoJSON -----------------------------------------------------------------------------------
def geojson_bytes(layer: ExportLayer, members: Mapping[str, Any]) -> bytes:
    """RFC 7946 FeatureCollection of one layer (id = site_id), ``members`` at the top level."""
    raw = raw_layer(layer, WORK_OUT)
    raw.data.insert(0, raw.data[0])  # the id (GDAL moves the ID_FIELD out of properties)
    raw.masks.insert(0, None)
    buf = io.BytesIO()
    options = {
        "RFC7946": "YES",
        "ID_FIELD": "_fid",
        "ID_TYPE": "String",
        "WRITE_NAME": "NO",
        "COORDINATE_PRECISION": "7",
        "FOREIGN_MEMBERS_COLLECTION": json.dumps(members, ensure_ascii=False),
    }
    _write_raw(
        buf, raw, WORK_OUT, ["_fid", *raw.names], driver="GeoJSON", layer=layer.name, layer_options=options
    )
    return buf.getvalue()


# -- CSV ---------------------------------------------------------------------------------------
def defuse(value: Any) -> Any:
    """A text cell Excel would run as a formula (= + - @, tab, CR first) is prefixed with '."""
    return f"'{value}" if isinstance(value, str) and value[:1] in FORMULA_START else value


def csv_provenance(meta: ExportMeta, lang: str) -> dict[str, str]:
    """The columns that say where a CSV's rows come from, repeated on every row (a CSV has no
    other place that survives a copy into Excel): synthetic or not, profile and weights, the
    snapshot, when it was written, and the licences.
    """
    de = lang == "de"
    weights = "; ".join(f"{k}={v:g}" for k, v in meta.weights.items())
    licences = "; ".join(sorted(str(x["licence"]) for x in meta.licences()))
    synthetic = ("SYNTHETISCH – Demodaten" if de else "SYNTHETIC – demo data") if meta.synthetic else ""
    return {
        "Datenhinweis" if de else "Data notice": synthetic,
        "Profil" if de else "Profile": meta.profile,
        "Gewichte" if de else "Weights": weights,
        "Datenstand (Snapshot)" if de else "Snapshot": meta.snapshot,
        "Erstellt" if de else "Generated": meta.generated,
        "Lizenzen" if de else "Licences": licences,
    }


def csv_bytes(layer: ExportLayer, crs: OutputCrs, lang: str, meta: ExportMeta | None = None) -> bytes:
    """The CSV of one layer for Excel: labels, decimal comma, centroid coordinates, and (with
    ``meta``) the provenance columns."""
    de = lang == "de"
    frame = layer.frame
    c = shapely.centroid(frame.geometry.values)
    xy = np.column_stack([shapely.get_x(c), shapely.get_y(c)])
    cols: dict[str, Any] = {}
    yes, no = BOOL_WORDS["de" if de else "en"]
    for f in layer.fields:
        values = frame[f.name].to_numpy(object)
        if f.kind == "bool":
            cols[f.label(lang)] = [None if pd.isna(v) else yes if v else no for v in values]
        elif f.kind == "float":
            arr = pd.to_numeric(pd.Series(values), errors="coerce").astype(float)
            cols[f.label(lang)] = arr.round(f.decimals) if f.decimals is not None else arr
        elif f.kind == "int":
            cols[f.label(lang)] = pd.array([None if pd.isna(v) else int(v) for v in values], dtype="Int64")
        else:
            cols[f.label(lang)] = [defuse(code_label(f.name, v, lang)) for v in values]
    utm = np.round(xy, 2)
    lonlat = np.column_stack(transformer(25832, 4326).transform(xy[:, 0], xy[:, 1]))
    cols["Rechtswert (EPSG:25832)" if de else "Easting (EPSG:25832)"] = utm[:, 0]
    cols["Hochwert (EPSG:25832)" if de else "Northing (EPSG:25832)"] = utm[:, 1]
    cols["Länge (WGS84)" if de else "Longitude (WGS84)"] = np.round(lonlat[:, 0], 7)
    cols["Breite (WGS84)" if de else "Latitude (WGS84)"] = np.round(lonlat[:, 1], 7)
    if crs.epsg not in (25832, 4326):
        other = project_xy(xy, crs)
        cols[f"X ({crs.curie})"] = other[:, 0]
        cols[f"Y ({crs.curie})"] = other[:, 1]
    for label, value in (csv_provenance(meta, lang) if meta is not None else {}).items():
        cols[label] = [value] * len(frame)
    df = pd.DataFrame(cols)
    text = df.to_csv(sep=";", decimal=",", index=False, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    return ("\ufeff" + text).encode("utf-8")
