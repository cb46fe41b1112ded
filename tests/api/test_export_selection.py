"""Exports of chosen sites (the web map's shortlist, issue 18 defect 7) and the provenance
columns every CSV export carries: the SYNTHETIC label, profile, weights, snapshot, date, licences.
"""

from __future__ import annotations

import csv
import io
import json

import pyogrio
import pytest

from api.fields import INDICATORS
from geo.criteria import CRITERIA_ORDER, get_profile
from tests.api.conftest import assert_problem


def rows_of(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


@pytest.fixture(scope="module")
def chosen(client) -> list[str]:
    """Five ranked sites and one the large_scale profile's minimum area excludes."""
    items = client.get("/api/ranking", params={"limit": 300, "breakdown": "false"}).json()["items"]
    small = next(it["site_id"] for it in items if it["area_ha"] < get_profile("large_scale").min_area_ha)
    return [it["site_id"] for it in items[40:45]] + [small]


def test_a_shortlist_csv_is_labelled_scored_with_the_weights_and_has_the_indicators(client, chosen):
    q = {"ids": ",".join(reversed(chosen)), "w_h2": 5, "w_fibre": 0, "name": "Elektrolyseur Q1/2027"}
    r = client.get("/api/exports/sites.csv", params=q)
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"] == 'attachment; filename="Elektrolyseur-Q1-2027.csv"'
    rows = rows_of(r.content)
    assert sorted(x["Standort-ID"] for x in rows) == sorted(chosen)
    # the reference: the API's own ranking with the same weights, independent of the export code
    ref = client.get("/api/ranking", params={"w_h2": 5, "w_fibre": 0, "limit": 10_000, "breakdown": "false"})
    by_id = {it["site_id"]: it for it in ref.json()["items"]}
    for x in rows:
        it = by_id[x["Standort-ID"]]
        assert float(x["Punktzahl (0–100)"].replace(",", ".")) == pytest.approx(it["score"], abs=0.05)
        assert x["Rang in NRW"] == str(it["rank"])
        assert x["Art"] in {"Brachfläche", "Regionalplan-Bereich", "LEP-Großstandort"}  # labels, not codes
        assert x["Datenhinweis"] == "SYNTHETISCH – Demodaten"
        assert x["Profil"] == "balanced" and "h2=5" in x["Gewichte"] and "fibre=0" in x["Gewichte"]
        assert x["Datenstand (Snapshot)"] and x["Erstellt"].startswith("20") and "dl-de" in x["Lizenzen"]
        assert not any(k.startswith("pts_") for k in x)
    # best first; the rank within the selection counts 1, 2, 3 …
    ranks = [int(x["Rang in NRW"]) for x in rows]
    assert ranks == sorted(ranks)
    head = list(rows[0])
    assert INDICATORS["h2_distance_km"].label("de") in head and INDICATORS["fibre_share"].label("de") in head
    area = [x["Fläche (ha)"] for x in rows]
    assert all(len(a.split(",")[-1]) <= 2 for a in area if "," in a)  # no six decimals


def test_an_excluded_site_says_why_and_the_english_file_speaks_english(client, chosen):
    r = client.get(
        "/api/exports/sites.csv", params={"ids": ",".join(chosen), "profile": "large_scale", "lang": "en"}
    )
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    excluded = [x for x in rows if x["Excluded by"]]
    assert chosen[-1] in {x["Site ID"] for x in excluded}
    assert rows[-len(excluded) :] == excluded  # ranked ones first, then the excluded
    assert all(x["Score (0–100)"] == "" and x["Excluded by"] == "minimum area" for x in excluded)
    assert all(x["Data notice"] == "SYNTHETIC – demo data" and x["Profile"] == "large_scale" for x in rows)


def test_geojson_and_geopackage_of_a_selection(client, chosen, tmp_path):
    r = client.get("/api/exports/sites.geojson", params={"ids": ",".join(chosen), "name": "Prüfliste"})
    doc = json.loads(r.content)
    assert doc["name"] == "Prüfliste" and doc["synthetic"] is True and doc["profile"] == "balanced"
    assert set(doc["weights"]) == set(CRITERIA_ORDER)
    assert {f["properties"]["site_id"] for f in doc["features"]} == set(chosen)
    g = client.get("/api/exports/sites.gpkg", params={"ids": ",".join(chosen), "name": "Prüfliste"})
    assert 'filename="Pruefliste.gpkg"' in g.headers["content-disposition"]
    path = tmp_path / "x.gpkg"
    path.write_bytes(g.content)
    sites = pyogrio.read_dataframe(path, layer="sites")
    assert set(sites["site_id"]) == set(chosen)
    assert len(pyogrio.read_dataframe(path, layer="municipalities")) >= 1


def test_bad_selections_are_refused_without_echoing(client, chosen):
    assert_problem(client.get("/api/exports/sites.csv", params={"ids": ""}), 400)
    assert_problem(client.get("/api/exports/sites.csv", params={"ids": ",".join(["x"] * 501 + ["y"])}), 404)
    too_many = ",".join(f"s{i}" for i in range(501))
    assert_problem(client.get("/api/exports/sites.csv", params={"ids": too_many}), 400)
    r = client.get("/api/exports/sites.csv", params={"ids": f"{chosen[0]},<script>alert(1)</script>"})
    body = assert_problem(r, 404)
    assert "<script>" not in r.text and "alert" not in r.text and body["detail"].startswith("1 of the ids")
    body = assert_problem(
        client.get("/api/exports/sites.csv", params={"ids": f"{chosen[0]},bf-BF-999999"}), 404
    )
    assert "bf-BF-999999" not in body["detail"] and "(position 2)" in body["detail"]  # said, not echoed
    assert_problem(client.get("/api/exports/sites.csv", params={"ids": chosen[0], "w_h2": -1}), 400)
    assert_problem(client.get("/api/exports/sites.csv", params={"ids": chosen[0], "nonsense": 1}), 400)


def test_municipal_csv_exports_carry_the_provenance_columns_too(client, svc):
    ags = str(svc.sites["ags"].value_counts().index[0])
    rows = rows_of(client.get(f"/api/exports/municipalities/{ags}.csv").content)
    assert rows and all(x["Datenhinweis"] == "SYNTHETISCH – Demodaten" for x in rows)
