"""Licences with URLs in every answer, and the DCAT-AP.de catalogue at /api/catalog."""

from __future__ import annotations

import json

from api.exports import export_municipalities
from layers.provenance import dcat_licence
from tests.api.conftest import assert_problem

DCAT_DE_LICENCES = "http://dcat-ap.de/def/licenses/"


def test_items_name_every_licence_with_its_url(client):
    doc = client.get("/api/collections/municipalities/items?limit=1").json()
    [muni] = doc["attribution"]
    assert muni["licence"] == "dl-de/zero-2-0"
    assert muni["licence_url"] == "https://www.govdata.de/dl-de/zero-2-0"
    sites = client.get("/api/collections/sites/items?limit=1").json()["attribution"]
    urls = {a["layer"]: a["licence_url"] for a in sites}
    assert urls["regional_plan"] == "https://creativecommons.org/publicdomain/zero/1.0/"
    assert all(u is None or u.startswith("https://") for u in urls.values())
    sid = client.get("/api/collections/sites/items?limit=1").json()["features"][0]["id"]
    one = client.get(f"/api/collections/sites/items/{sid}").json()
    assert {a["licence_url"] for a in one["attribution"]} == set(urls.values())


def test_the_report_links_each_licence(tmp_path, svc):
    ags = str(svc.sites["ags"].value_counts().index[0])
    export_municipalities(svc, [ags], tmp_path, None)
    page = (tmp_path / f"{ags}.html").read_text()
    assert '<a href="https://www.govdata.de/dl-de/zero-2-0">dl-de/zero-2-0</a>' in page
    assert 'href="https://creativecommons.org/publicdomain/zero/1.0/"' in page


def test_dcat_licences_come_from_the_dcat_ap_de_vocabulary():
    assert dcat_licence("dl-de/zero-2-0") == DCAT_DE_LICENCES + "dl-zero-de/2.0"
    assert dcat_licence("dl-de/by-2-0") == DCAT_DE_LICENCES + "dl-by-de/2.0"
    assert dcat_licence("CC-BY-4.0 (https://x)") == DCAT_DE_LICENCES + "cc-by/4.0"
    assert dcat_licence("ODbL-1.0") == DCAT_DE_LICENCES + "odbl"
    assert dcat_licence("CC0-1.0 (generated demo data)") == DCAT_DE_LICENCES + "cc-zero"
    assert dcat_licence("Breitbandatlas terms") == DCAT_DE_LICENCES + "other-open"


def test_catalogue(client, svc):
    r = client.get("/api/catalog")
    assert r.status_code == 200 and r.headers["content-type"] == "application/ld+json"
    doc = r.json()
    assert doc["@type"] == "dcat:Catalog"
    assert doc["@context"]["dcat"] == "http://www.w3.org/ns/dcat#"
    assert doc["@context"]["dcatde"] == "http://dcat-ap.de/def/dcatde/"
    assert doc["dct:publisher"]["foaf:name"] == "NRW Site Finder"
    datasets = {d["@id"].rsplit("#", 1)[1]: d for d in doc["dcat:dataset"]}
    assert {"sites", "municipalities", "regional_plan", "brownfields", "hydrogen"} <= set(datasets)
    sites = datasets["sites"]
    created = svc.snap.manifest["created"]
    assert sites["dct:modified"]["@value"] == created
    assert sites["dcatde:politicalGeocodingURI"]["@id"].endswith("/stateKey/05")
    assert "POLYGON" in sites["dct:spatial"]["dcat:bbox"]["@value"]
    period = sites["dct:temporal"]
    assert period["dcat:startDate"] <= period["dcat:endDate"]
    assert period["dcat:startDate"] == "2022-03-08"  # the DVG2 boundaries
    formats = {
        d["dct:format"]["@id"].rsplit("/", 1)[1] for d in sites["dcat:distribution"] if "dct:format" in d
    }
    assert formats == {"GEOJSON", "GPKG", "CSV", "SHP"}
    for d in sites["dcat:distribution"] + [
        x for ds in datasets.values() for x in ds.get("dcat:distribution", [])
    ]:
        assert d["@type"] == "dcat:Distribution"
        assert d["dct:license"]["@id"].startswith(DCAT_DE_LICENCES)
        assert d["dcat:accessURL"]["@id"].startswith("http://testserver/api/")
    downloads = [d["dcat:downloadURL"]["@id"] for d in sites["dcat:distribution"] if "dcat:downloadURL" in d]
    for url in downloads:  # every download works
        assert client.get(url.replace("http://testserver", "")).status_code == 200
    # the demo holds an ODbL source (OpenFlights airports): the derived sites stay ODbL
    layers = {a["layer"]: a["licence"] for a in svc.attribution()}
    if any("ODbL" in str(x) for x in layers.values()):
        assert sites["dcat:distribution"][0]["dct:license"]["@id"] == DCAT_DE_LICENCES + "odbl"
    munis = datasets["municipalities"]["dcat:distribution"][0]
    assert munis["dct:license"]["@id"] == DCAT_DE_LICENCES + "dl-zero-de/2.0"
    assert "DVG2" in munis["dcatde:licenseAttributionByText"]
    json.dumps(doc)  # plain JSON-LD
    assert_problem(client.get("/api/catalog?x=1"), 400)


def test_landing_links_the_catalogue(client):
    links = client.get("/api").json()["links"]
    assert any(x["href"].endswith("/api/catalog") and x["type"] == "application/ld+json" for x in links)
