"""Exports of a municipality, a Kreis and NRW: which sites, flat columns, and the four formats.

The reference for "which sites" is computed independently with geopandas predicates on the
stored layers; the files are read back with pyogrio (GDAL), sqlite3, csv and zipfile.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import xml.dom.minidom
import zipfile

import numpy as np
import pyogrio
import pytest
import shapely

from api import cli
from api.exports import export_municipalities
from api.fields import INDICATORS, KNOWN, shp_names, site_fields
from geo.access import RESTRICTED_FIELDS
from geo.criteria import CRITERIA, CRITERIA_ORDER
from geo.errors import NotFound
from maps.report import Site, municipality_map
from tests.api.conftest import GEOJSON, assert_problem, assert_rfc7946

TOP_LEVEL = {"name", "attribution", "licence", "generated", "snapshot", "profile", "synthetic"}
REMOTE_ASSET = re.compile(r"<(script|link)\b[^>]*(src|href)\s*=\s*[\"']?\s*(https?:)?//", re.I)
FLAT = [
    "site_id",
    "name",
    "kind",
    "planning_category",
    "plan",
    "contamination",
    "availability",
    "available_from",
    "restrictions",
    "marketable",
    "former_use",
    "ags",
    "municipality",
    "kreis_ags",
    "kreis",
    "source_id",
    "area_ha",
    "score",
    "rank",
    "rank_nrw",
    "excluded_by",
    "crosses_boundary",
    "h2_distance_km",
    "h2_commissioning_year",
    "fibre_share",
    "mobile_5g_share",
    "funding_region",
]


def reference(svc, ags: str | None = None, kreis: str | None = None):
    """Site ids whose interior overlaps the area, and which of them reach beyond it
    (plain geopandas, independent of api/exports.py).
    """
    muni = svc.snap.layers["municipalities"]
    keep = muni["ags"] == ags if ags else muni["kreis_ags"] == kreis
    area = shapely.union_all(muni.geometry[keep].values)
    sites = svc.sites
    hit = sites.intersects(area) & ~sites.touches(area)
    crossing = hit & ~sites.within(area.buffer(1e-6))
    return set(sites["site_id"][hit]), set(sites["site_id"][crossing])


@pytest.fixture(scope="module")
def crossing(svc) -> tuple[str, str, str]:
    """A site across a municipal boundary and the two municipalities it overlaps."""
    muni = svc.snap.layers["municipalities"]
    tree = shapely.STRtree(muni.geometry.values)
    for sid, g in zip(svc.sites["site_id"], svc.sites.geometry, strict=True):
        hits = [
            i
            for i in tree.query(g, predicate="intersects")
            if shapely.relate_pattern(g, muni.geometry.values[i], "T********")
        ]
        if len(hits) == 2:
            a, b = (str(muni["ags"].iloc[i]) for i in hits)
            return sid, a, b
    pytest.fail("the test snapshot has no site across a municipal boundary")


@pytest.fixture(scope="module")
def busiest(svc) -> str:
    """The AGS with the most sites."""
    return str(svc.sites["ags"].value_counts().index[0])


def geojson(client, path: str) -> dict:
    r = client.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == GEOJSON
    assert_rfc7946(r.json(), r.content)
    return r.json()


# -- which sites --------------------------------------------------------------------------------
def test_a_municipality_export_holds_exactly_the_sites_intersecting_it(client, svc, busiest):
    doc = geojson(client, f"/api/exports/municipalities/{busiest}.geojson")
    ids, crossing = reference(svc, ags=busiest)
    assert {f["id"] for f in doc["features"]} == ids
    assert {f["id"] for f in doc["features"] if f["properties"]["crosses_boundary"]} == crossing
    assert doc["numberMatched"] == len(ids)
    assert doc["numberCrossingBoundary"] == len(crossing)


def test_a_site_across_a_border_is_in_both_exports_and_keeps_its_majority_ags(client, svc, crossing):
    sid, a, b = crossing
    props = []
    for ags in (a, b):
        doc = geojson(client, f"/api/exports/municipalities/{ags}.geojson")
        [f] = [f for f in doc["features"] if f["id"] == sid]
        props.append(f["properties"])
    assert props[0]["crosses_boundary"] is props[1]["crosses_boundary"] is True
    own = svc.sites.set_index("site_id").loc[sid, "ags"]
    assert props[0]["ags"] == props[1]["ags"] == own and own in (a, b)
    assert props[0]["rank_nrw"] == props[1]["rank_nrw"]  # one ranking, two local ranks


def test_kreis_and_nrw_exports(client, svc, busiest):
    kreis = busiest[:5]
    doc = geojson(client, f"/api/exports/kreise/{kreis}.geojson")
    ids, crossing = reference(svc, kreis=kreis)
    assert {f["id"] for f in doc["features"]} == ids
    assert {f["id"] for f in doc["features"] if f["properties"]["crosses_boundary"]} == crossing
    assert doc["kreis_ags"] == kreis and doc["area"]["kind"] == "kreis"
    nrw = geojson(client, "/api/exports/nrw.geojson")
    assert {f["id"] for f in nrw["features"]} == set(svc.sites["site_id"])
    assert [f["properties"]["rank"] for f in nrw["features"]] == [
        f["properties"]["rank_nrw"] for f in nrw["features"]
    ]


def test_the_public_export_holds_no_confidential_field_and_no_non_public_site(client, svc):
    doc = geojson(client, "/api/exports/nrw.geojson")
    props = doc["features"][0]["properties"]
    assert not set(RESTRICTED_FIELDS) & set(props)
    assert {f["id"] for f in doc["features"]} == set(svc.sites["site_id"])  # the public view


# -- flat columns and order ---------------------------------------------------------------------
def test_geojson_has_flat_columns_that_serialise_the_scoring_result(client, svc, busiest):
    doc = geojson(client, f"/api/exports/municipalities/{busiest}.geojson")
    assert TOP_LEVEL <= doc.keys() and "crs" not in doc
    assert doc["type"] == "FeatureCollection" and doc["profile"] == "balanced"
    assert doc["snapshot"] == svc.snap.id and doc["synthetic"] is True
    assert all(x["url"].startswith("https://") for x in doc["licences"] if x["url"])
    assert any(x["url"] == "https://www.govdata.de/dl-de/zero-2-0" for x in doc["licences"])
    assert all("licence_url" in a for a in doc["attribution"])
    items = {i["site_id"]: i for i in client.get("/api/ranking?limit=10000").json()["items"]}
    for f in doc["features"]:
        p = f["properties"]
        assert list(p)[: len(FLAT) - 5] == FLAT[: len(FLAT) - 5]
        assert set(FLAT) <= set(p)
        assert not any(isinstance(v, (dict, list)) for v in p.values())  # flat
        assert isinstance(p["ags"], str) and re.fullmatch(r"\d{8}", p["ags"])
        assert p["h2_commissioning_year"] is None or isinstance(p["h2_commissioning_year"], int)
        item = items[f["id"]]
        for c in CRITERIA_ORDER:  # every criterion of the registry, from the breakdown
            assert p[f"v_{c}"] == item["breakdown"][c]["v"]
            assert p[f"pts_{c}"] == item["breakdown"][c]["points"]
        for k in ("score", "kreis_ags", "contamination", "plan", "source_id", "fibre_share"):
            assert p[k] == item[k]
        assert p["rank_nrw"] == item["rank"]
    ranks = [f["properties"]["rank"] for f in doc["features"]]
    assert ranks == list(range(1, len(ranks) + 1))  # ranked, best first, local ranks
    scores = [f["properties"]["score"] for f in doc["features"]]
    assert scores == sorted(scores, reverse=True)


def test_sites_a_profile_excludes_come_last_with_the_filter_named(client, svc, busiest):
    doc = geojson(client, f"/api/exports/municipalities/{busiest}.geojson?profile=large_scale")
    props = [f["properties"] for f in doc["features"]]
    ranked = [p for p in props if p["rank"] is not None]
    excluded = [p for p in props if p["rank"] is None]
    assert props == ranked + excluded and excluded
    assert all(p["excluded_by"] == "min_area_ha" and p["score"] is None for p in excluded)
    assert all(p["area_ha"] < 50 for p in excluded) and all(p["area_ha"] >= 50 for p in ranked)
    assert doc["numberNotRanked"] == len(excluded)


# -- GeoPackage ---------------------------------------------------------------------------------
def gpkg(client, tmp_path, path: str):
    r = client.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/geopackage+sqlite3"
    assert r.headers["content-disposition"].startswith("attachment")
    file = tmp_path / "x.gpkg"
    file.write_bytes(r.content)
    return file, r


def test_geopackage_layers_crs_columns_styles_and_metadata(client, svc, busiest, tmp_path):
    file, r = gpkg(client, tmp_path, f"/api/exports/municipalities/{busiest}.gpkg")
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/25832>"
    layers = dict(pyogrio.list_layers(file).tolist())
    assert list(layers) == [
        "sites",
        "regional_plan",
        "brownfields",
        "lep_sites",
        "hydrogen",
        "municipalities",
        "layer_styles",
    ]
    info = pyogrio.read_info(file, layer="sites")
    assert info["crs"] == "EPSG:25832" and info["geometry_type"] == "MultiPolygon"
    ids, _ = reference(svc, ags=busiest)
    assert info["features"] == len(ids)
    fields = dict(zip(info["fields"], info["dtypes"], strict=True))
    assert [f.name for f in site_fields()] == list(fields)
    assert fields["ags"] == "object" and fields["h2_commissioning_year"] == "int64"
    assert fields["crosses_boundary"] == "bool" and fields["v_h2"] == "float64"
    df = pyogrio.read_dataframe(file, layer="sites")
    assert set(df["site_id"]) == ids and (df["ags"].str.len() == 8).all()
    boundary = pyogrio.read_dataframe(file, layer="municipalities")
    assert boundary["ags"].tolist() == [busiest]
    con = sqlite3.connect(file)
    try:
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47  # "GPKG"
        assert con.execute("PRAGMA user_version").fetchone()[0] == 10200  # GeoPackage 1.2
        styles = con.execute(
            "SELECT f_table_name, f_geometry_column, styleQML, useAsDefault FROM layer_styles"
        ).fetchall()
        assert {s[0] for s in styles} == set(layers) - {"layer_styles"}
        assert all(s[1] == "geom" and s[3] == 1 for s in styles)
        qml = dict((s[0], s[2]) for s in styles)
        xml.dom.minidom.parseString(qml["sites"].split("\n", 1)[1])
        assert 'type="RuleRenderer"' in qml["sites"] and "sehr hoch (80–100)" in qml["sites"]
        assert "nicht bewertet" in qml["sites"] and "Punktzahl (0–100)" in qml["sites"]
        titles = dict(
            con.execute(
                "SELECT column_name, title FROM gpkg_data_columns WHERE table_name = 'sites'"
            ).fetchall()
        )
        assert titles["score"] == "Punktzahl (0–100)"
        assert titles[f"v_{CRITERIA_ORDER[0]}"].startswith("Wert ")
        assert set(titles) == set(fields)
        ext = {row[0] for row in con.execute("SELECT extension_name FROM gpkg_extensions")}
        assert {"gpkg_schema", "gpkg_metadata"} <= ext
        [(md,)] = con.execute(
            "SELECT m.metadata FROM gpkg_metadata m JOIN "
            "gpkg_metadata_reference r ON r.md_file_id = m.id WHERE "
            "r.reference_scope = 'geopackage'"
        ).fetchall()
        meta = json.loads(md)
        assert meta["@type"] == "dcat:Dataset" and busiest in meta["dct:identifier"]
        assert "https://www.govdata.de/dl-de/zero-2-0" in {x["@id"] for x in meta["dct:license"]}
        tables = {
            row[0]
            for row in con.execute(
                "SELECT table_name FROM gpkg_metadata_reference WHERE reference_scope = 'table'"
            )
        }
        assert tables == set(layers) - {"layer_styles"}
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()


def test_geopackage_in_english_and_in_wgs84(client, busiest, tmp_path):
    file, r = gpkg(client, tmp_path, f"/api/exports/municipalities/{busiest}.gpkg?lang=en&crs=EPSG:4326")
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4326>"
    assert pyogrio.read_info(file, layer="sites")["crs"] == "EPSG:4326"
    xy = shapely.get_coordinates(pyogrio.read_dataframe(file, layer="sites").geometry.values)
    assert (5.8 < xy[:, 0]).all() and (xy[:, 0] < 9.5).all()  # files store x = longitude
    con = sqlite3.connect(file)
    try:
        qml = con.execute("SELECT styleQML FROM layer_styles WHERE f_table_name = 'sites'").fetchone()[0]
        assert "very high (80–100)" in qml and "not ranked" in qml
        title = con.execute(
            "SELECT title FROM gpkg_data_columns WHERE table_name = 'sites' AND column_name = 'score'"
        ).fetchone()[0]
        assert title == "Score (0–100)"
    finally:
        con.close()


def test_all_of_nrw_as_geopackage(client, svc, tmp_path):
    file, _ = gpkg(client, tmp_path, "/api/exports/nrw.gpkg")
    assert pyogrio.read_info(file, layer="sites")["features"] == len(svc.sites)
    assert pyogrio.read_info(file, layer="municipalities")["features"] == 396
    assert pyogrio.read_info(file, layer="hydrogen")["features"] == len(svc.snap.layers["hydrogen"])


# -- CSV ----------------------------------------------------------------------------------------
def test_csv_for_excel_in_german_and_english(client, svc, busiest):
    r = client.get(f"/api/exports/municipalities/{busiest}.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the umlauts
    text = r.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    head, body = rows[0], rows[1:]
    ids, _ = reference(svc, ags=busiest)
    assert len(body) == len(ids)
    assert head[:3] == ["Standort-ID", "Name", "Art"]
    assert {
        "Punktzahl (0–100)",
        "Rechtswert (EPSG:25832)",
        "Hochwert (EPSG:25832)",
        "Länge (WGS84)",
        "Breite (WGS84)",
        "AGS (Gemeindeschlüssel)",
    } <= set(head)
    col = {h: [row[i] for row in body] for i, h in enumerate(head)}
    assert all(re.fullmatch(r"\d{8}", a) for a in col["AGS (Gemeindeschlüssel)"])
    assert all("," in x or x.isdigit() for x in col["Fläche (ha)"])  # decimal comma
    assert not any("." in x for x in col["Rechtswert (EPSG:25832)"])
    assert set(col["über die Gebietsgrenze"]) <= {"ja", "nein"}
    assert set(col["Art"]) <= {"Brachfläche", "Regionalplan-Bereich", "LEP-Großstandort"}
    assert not any(h.lower() in ("geometry", "geom", "wkt") for h in head)
    by_id = svc.sites.set_index("site_id")
    for sid, x, y in zip(
        col["Standort-ID"], col["Rechtswert (EPSG:25832)"], col["Hochwert (EPSG:25832)"], strict=True
    ):
        c = by_id.loc[sid, "geometry"].centroid
        assert float(x.replace(",", ".")) == pytest.approx(c.x, abs=0.01)
        assert float(y.replace(",", ".")) == pytest.approx(c.y, abs=0.01)
    en = client.get(f"/api/exports/municipalities/{busiest}.csv?lang=en").content
    head_en = next(csv.reader(io.StringIO(en.decode("utf-8-sig")), delimiter=";"))
    assert head_en[:3] == ["Site ID", "Name", "Kind"] and "Easting (EPSG:25832)" in head_en
    assert len(head_en) == len(head)
    strict = client.get(f"/api/exports/municipalities/{busiest}.csv?profile=large_scale")
    rows = list(csv.DictReader(io.StringIO(strict.content.decode("utf-8-sig")), delimiter=";"))
    excluded = [x for x in rows if x["ausgeschlossen durch"]]
    assert excluded and all(x["Rang im Gebiet"] == "" and x["Punktzahl (0–100)"] == "" for x in excluded)
    assert {x["ausgeschlossen durch"] for x in excluded} == {"Mindestfläche"}


# -- Shapefile ----------------------------------------------------------------------------------
def test_shapefile_zip(client, svc, busiest, tmp_path):
    r = client.get(f"/api/exports/municipalities/{busiest}.shp.zip")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    file = tmp_path / "x.shp.zip"
    file.write_bytes(r.content)
    with zipfile.ZipFile(file) as z:
        names = set(z.namelist())
        assert {f"sites.{e}" for e in ("shp", "shx", "dbf", "prj", "cpg")} <= names
        assert {"municipalities.shp", "fields.csv", "LIESMICH.txt"} <= names
        assert z.read("sites.cpg").decode().strip().upper() in ("UTF-8", "UTF8")
        assert "UTM" in z.read("sites.prj").decode() and "32N" in z.read("sites.prj").decode()
        mapping = list(csv.DictReader(io.StringIO(z.read("fields.csv").decode("utf-8-sig")), delimiter=";"))
        readme = z.read("LIESMICH.txt").decode()
    assert "https://www.govdata.de/dl-de/zero-2-0" in readme
    info = pyogrio.read_info(f"/vsizip/{file}/sites.shp")
    assert info["crs"] == "EPSG:25832"
    ids, _ = reference(svc, ags=busiest)
    assert info["features"] == len(ids)
    site_map = {m["field"]: m["shapefile_field"] for m in mapping if m["layer"] == "sites"}
    assert list(info["fields"]) == list(site_map.values())
    assert all(len(n) <= 10 for n in info["fields"])
    df = pyogrio.read_dataframe(f"/vsizip/{file}/sites.shp")
    assert set(df["site_id"]) == ids and (df["ags"].str.len() == 8).all()
    assert site_map["mobile_5g_share"] == "mobile5g" and site_map["v_mobile_5g"] == "v_mobile5g"


def test_shapefile_names_are_unique_ascii_and_at_most_10_characters():
    fields = site_fields(list(RESTRICTED_FIELDS))
    names = shp_names(fields)
    assert len(set(names.values())) == len(fields)
    assert all(len(n) <= 10 and n.isascii() for n in names.values())
    for c in CRITERIA:  # the registry's criteria, also those added later
        assert names[f"v_{c}"].startswith("v_") and names[f"pts_{c}"].startswith("p_")


def test_every_field_has_labels_in_both_languages():
    for f in site_fields(list(RESTRICTED_FIELDS)):
        assert f.name.isascii() and re.fullmatch(r"[a-z0-9_]+", f.name)
        assert f.de and f.en
        if f.name in KNOWN or f.name in INDICATORS or f.name.startswith(("v_", "pts_")):
            assert f.de != f.name and f.en != f.name


# -- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path, status",
    [
        ("/api/exports/municipalities/05999999.geojson", 404),
        ("/api/exports/municipalities/abc.gpkg", 404),
        ("/api/exports/kreise/05999.csv", 404),
        ("/api/exports/kreise/0551.csv", 404),
        ("/api/exports/municipalities/05513000.geojson?profile=x", 400),
        ("/api/exports/municipalities/05513000.gpkg?crs=EPSG:9999", 400),
        ("/api/exports/municipalities/05513000.geojson?crs=EPSG:25832", 400),
        ("/api/exports/municipalities/05513000.csv?lang=fr", 400),
        ("/api/exports/nrw.gpkg?colour=red", 400),
        ("/api/exports/municipalities/05513000.kml", 404),
    ],
)
def test_bad_exports(client, path, status):
    assert_problem(client.get(path), status)


# -- the command line and the report map ----------------------------------------------------------
def test_export_files(tmp_path, client, svc, busiest):
    empty = next(a for a in svc.snap.layers["municipalities"]["ags"] if not reference(svc, ags=a)[0])
    index = export_municipalities(svc, [busiest, empty], tmp_path, "hydrogen")
    assert [m["ags"] for m in index["municipalities"]] == [busiest, empty]
    assert json.loads((tmp_path / "index.json").read_text()) == index
    assert index["profile"] == "hydrogen" and index["synthetic"] is True

    doc = json.loads((tmp_path / f"{busiest}.geojson").read_bytes())
    api = client.get(f"/api/exports/municipalities/{busiest}.geojson?profile=hydrogen").json()
    assert doc["features"] == api["features"]
    assert {k: v for k, v in doc.items() if k not in ("features", "generated")} == {
        k: v for k, v in api.items() if k not in ("features", "generated")
    }
    assert_rfc7946(doc, (tmp_path / f"{busiest}.geojson").read_bytes())
    assert json.loads((tmp_path / f"{empty}.geojson").read_bytes())["features"] == []

    page = (tmp_path / f"{busiest}.html").read_text()
    assert not REMOTE_ASSET.search(page)
    assert "<script src" not in page and "<link" not in page  # Leaflet is inlined
    assert "L.map(" in page and "Leaflet" in page
    assert "SYNTHETIC demo data" in page
    assert "Sources and licences" in page and "CC0-1.0" in page
    first = doc["features"][0]["properties"]
    assert f"Score \\u003cb>{first['score']:.1f}\\u003c/b>" in page  # tooltip, '<' escaped
    assert (tmp_path / f"{empty}.html").exists()


def test_export_all_from_the_command_line(tmp_path, data_dir, capsys):
    out = tmp_path / "all"
    assert cli.main(["export", "--all", "--out", str(out), "--data", str(data_dir)]) == 0
    index = json.loads((out / "index.json").read_text())
    assert len(index["municipalities"]) == 396
    assert len(list(out.glob("*.geojson"))) == len(list(out.glob("*.html"))) == 396
    assert "wrote 396 municipalities" in capsys.readouterr().out


def test_export_kreis_and_nrw_in_every_format_from_the_command_line(tmp_path, data_dir, svc, capsys):
    out = tmp_path / "k"
    kreis = str(svc.sites["kreis_ags"].value_counts().index[0])
    assert (
        cli.main(
            [
                "export",
                "--kreis",
                kreis,
                "--nrw",
                "--format",
                "gpkg",
                "csv",
                "shp.zip",
                "geojson",
                "--lang",
                "en",
                "--out",
                str(out),
                "--data",
                str(data_dir),
            ]
        )
        == 0
    )
    assert "1 Kreise, 1 NRW" in capsys.readouterr().out
    for stem in (kreis, "nrw"):
        for ext in ("gpkg", "csv", "shp.zip", "geojson"):
            assert (out / f"{stem}.{ext}").stat().st_size > 0
    assert pyogrio.read_info(out / "nrw.gpkg", layer="sites")["features"] == len(svc.sites)
    assert (out / "nrw.csv").read_bytes().decode("utf-8-sig").startswith("Site ID;")
    index = json.loads((out / "index.json").read_text())
    assert [a["kind"] for a in index["areas"]] == ["kreis", "nrw"]
    assert index["crs"]["gpkg"] == "EPSG:25832" and index["crs"]["geojson"] == "OGC:CRS84"
    assert cli.main(["export", "--out", str(out), "--data", str(data_dir)]) == 2


def test_unknown_municipality_in_an_export_run(tmp_path, svc):
    with pytest.raises(NotFound):
        export_municipalities(svc, ["05999999"], tmp_path, None)
    assert not list(tmp_path.iterdir())


def test_report_map_escapes_names():
    hostile = "<script>alert(1)</script>{{ x }}{% y %}"
    item = {
        "site_id": "x-1",
        "name": hostile,
        "kind": "brownfield",
        "area_ha": 2.0,
        "score": 50.0,
        "rank": 1,
        "rank_nrw": 3,
        "breakdown": {},
    }
    page = municipality_map(
        name=hostile,
        ags="05513000",
        sites=[Site('{"type":"Point","coordinates":[7.0,51.5]}', item)],
        outline='{"type":"Point","coordinates":[7.0,51.5]}',
        neighbours=[(hostile, "null")],
        hydrogen=[],
        bounds=(7.0, 51.5, 7.1, 51.6),
        attribution=[{"layer": "x", "attribution": hostile, "licence": hostile}],
        synthetic=False,
        profile=hostile,
        generated="now",
    )
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{ x }}{% y %}" in page  # shown as text
    assert "SYNTHETIC" not in page


def test_flat_columns_cover_every_attribute_of_a_site(svc):
    names = {f.name for f in site_fields()}
    assert {
        "contamination",
        "availability",
        "former_use",
        "plan",
        "kreis_ags",
        "source_id",
        "h2_commissioning_year",
        "fibre_share",
        "mobile_5g_share",
        "funding_region",
    } <= names
    assert all(f"v_{c}" in names and f"pts_{c}" in names for c in CRITERIA_ORDER)
    assert np.all([INDICATORS["h2_commissioning_year"].kind == "int"])
