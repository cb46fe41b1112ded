"""Municipality exports: GET /api/exports/municipalities/{ags}.geojson and export_municipalities."""

from __future__ import annotations

import json
import re

import pytest

from api import cli
from api.exports import export_municipalities
from geo.errors import NotFound
from maps.report import Site, municipality_map
from tests.api.conftest import GEOJSON, assert_problem, assert_rfc7946

TOP_LEVEL = {"name", "attribution", "licence", "generated", "snapshot", "profile", "synthetic"}
REMOTE_ASSET = re.compile(r"<(script|link)\b[^>]*(src|href)\s*=\s*[\"']?\s*(https?:)?//", re.I)


@pytest.fixture(scope="module")
def busiest(svc) -> str:
    """The AGS with the most sites."""
    return str(svc.sites["ags"].value_counts().index[0])


def test_export_equals_the_ranking_of_that_municipality(client, svc, busiest):
    r = client.get(f"/api/exports/municipalities/{busiest}.geojson")
    assert r.status_code == 200
    assert r.headers["content-type"] == GEOJSON
    doc = r.json()
    assert TOP_LEVEL <= doc.keys()
    assert doc["type"] == "FeatureCollection" and doc["profile"] == "balanced"
    assert doc["snapshot"] == svc.snap.id and doc["synthetic"] is True
    assert {a["layer"] for a in doc["attribution"]} == set(svc.snap.manifest["layers"])
    assert all("licence" in a for a in doc["attribution"])
    assert_rfc7946(doc, r.content)

    ranking = client.get(f"/api/ranking?ags={busiest}&limit=10000").json()["items"]
    statewide = {i["site_id"]: i["rank"]
                 for i in client.get("/api/ranking?limit=10000").json()["items"]}
    assert len(doc["features"]) == len(ranking) == int((svc.sites["ags"] == busiest).sum())
    for f, item in zip(doc["features"], ranking, strict=True):
        props = dict(f["properties"])
        assert props.pop("rank_nrw") == statewide[item["site_id"]]
        assert props == item  # same indicators, score, rank and breakdown
        assert f["id"] == item["site_id"]


def test_export_with_a_profile(client, svc, busiest):
    doc = client.get(f"/api/exports/municipalities/{busiest}.geojson?profile=large_scale").json()
    ranking = client.get(f"/api/ranking?ags={busiest}&profile=large_scale&limit=10000").json()
    assert doc["profile"] == "large_scale"
    assert [f["id"] for f in doc["features"]] == [i["site_id"] for i in ranking["items"]]
    mine = svc.sites[svc.sites["ags"] == busiest]
    assert doc["numberNotRanked"] == int((mine["area_ha"] < 50).sum())  # large_scale: ≥ 50 ha


def test_unknown_municipality(client):
    assert_problem(client.get("/api/exports/municipalities/05999999.geojson"), 404)
    assert_problem(client.get("/api/exports/municipalities/abc.geojson"), 404)
    assert_problem(client.get("/api/exports/municipalities/05513000.geojson?profile=x"), 400)


def test_export_files(tmp_path, client, svc, busiest):
    empty = next(a for a in svc.snap.layers["municipalities"]["ags"]
                 if a not in set(svc.sites["ags"]))
    index = export_municipalities(svc, [busiest, empty], tmp_path, "hydrogen")
    assert [m["ags"] for m in index["municipalities"]] == [busiest, empty]
    assert json.loads((tmp_path / "index.json").read_text()) == index
    assert index["profile"] == "hydrogen" and index["synthetic"] is True

    doc = json.loads((tmp_path / f"{busiest}.geojson").read_bytes())
    api = client.get(f"/api/exports/municipalities/{busiest}.geojson?profile=hydrogen").json()
    assert doc["features"] == api["features"]
    assert {k: v for k, v in doc.items() if k not in ("features", "generated")} == \
        {k: v for k, v in api.items() if k not in ("features", "generated")}
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


def test_unknown_municipality_in_an_export_run(tmp_path, svc):
    with pytest.raises(NotFound):
        export_municipalities(svc, ["05999999"], tmp_path, None)
    assert not list(tmp_path.iterdir())


def test_report_map_escapes_names():
    hostile = "<script>alert(1)</script>{{ x }}{% y %}"
    item = {"site_id": "x-1", "name": hostile, "kind": "brownfield", "area_ha": 2.0,
            "score": 50.0, "rank": 1, "rank_nrw": 3, "breakdown": {}}
    page = municipality_map(
        name=hostile, ags="05513000",
        sites=[Site('{"type":"Point","coordinates":[7.0,51.5]}', item)],
        outline='{"type":"Point","coordinates":[7.0,51.5]}', neighbours=[(hostile, "null")],
        hydrogen=[], bounds=(7.0, 51.5, 7.1, 51.6),
        attribution=[{"layer": "x", "attribution": hostile, "licence": hostile}],
        synthetic=False, profile=hostile, generated="now")
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{ x }}{% y %}" in page  # shown as text
    assert "SYNTHETIC" not in page
