"""GET /api, /api/conformance, /healthz, /, and the OpenAPI document."""

from __future__ import annotations

from api import main
from tests.api.conftest import TestClient, assert_problem

CONF = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"


def test_landing_page_links(client, svc):
    r = client.get("/api")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    rels = {link["rel"]: link for link in body["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= rels.keys()
    assert rels["service-desc"]["href"].endswith("/api/openapi.json")
    assert rels["service-desc"]["type"].startswith("application/vnd.oai.openapi+json")
    assert rels["conformance"]["href"].endswith("/api/conformance")
    assert rels["data"]["href"].endswith("/api/collections")
    assert body["snapshot"] == svc.snap.id
    assert body["synthetic"] is True
    assert {a["layer"] for a in body["attribution"]} == set(svc.snap.manifest["layers"])
    assert all("licence" in a for a in body["attribution"])
    assert "CC0-1.0" in body["licence"]


def test_conformance_classes(client):
    r = client.get("/api/conformance")
    assert r.status_code == 200
    assert set(r.json()["conformsTo"]) >= {CONF + "core", CONF + "geojson"}
    # the API description is OpenAPI 3.1, so the 3.0 class is not claimed
    assert CONF + "oas30" not in r.json()["conformsTo"]
    assert client.get("/api/openapi.json").json()["openapi"].startswith("3.1")


def test_healthz(client, svc):
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    loaded_s = body.pop("loaded_s")
    assert body == {"status": "ok", "snapshot": svc.snap.id, "synthetic": True, "log_dropped": 0}
    assert 0 < loaded_s < 60  # this worker's load of the snapshot it serves, in seconds


def test_root_serves_the_web_ui_and_api_paths_stay_api(client):
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert 'data-testid="ranking"' in r.text
    assert_problem(client.get("/api/score"), 405)  # not swallowed by the UI's static files
    assert_problem(client.get("/api/nowhere"), 404)


def test_openapi_documents_every_endpoint_with_examples(client):
    r = client.get("/api/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    paths = doc["paths"]
    expected = {
        "/api",
        "/api/conformance",
        "/api/collections",
        "/api/collections/{cid}",
        "/api/collections/{cid}/items",
        "/api/collections/{cid}/items/{fid}",
        "/api/profiles",
        "/api/ranking",
        "/api/sites/{site_id}/score",
        "/api/score",
        "/api/exports/municipalities/{ags}.geojson",
        "/healthz",
    }
    assert expected <= paths.keys()
    for path in expected:
        for method, op in paths[path].items():
            assert op.get("summary"), (path, method)
            content = op["responses"]["200"]["content"]
            assert any("example" in c for c in content.values()), (path, method)
    ranking = {p["name"]: p for p in paths["/api/ranking"]["get"]["parameters"]}
    assert {"w_area", "w_h2", "w_fibre", "profile", "limit", "offset", "stability"} <= ranking.keys()
    assert ranking["profile"]["schema"]["anyOf"][0]["enum"] == [
        "balanced",
        "hydrogen",
        "digital",
        "large_scale",
        "logistics",
    ]
    items = {p["name"]: p for p in paths["/api/collections/{cid}/items"]["get"]["parameters"]}
    assert "capped" in items["limit"]["description"]  # above 10,000: 10,000, not a 400
    assert {"crs", "bbox-crs"} <= items.keys()
    assert "example" in paths["/api/score"]["post"]["requestBody"]["content"]["application/geo+json"]


def test_docs_page_works_offline(client):
    r = client.get("/api/docs")
    assert r.status_code == 200
    assert "swagger" in r.text.lower()
    assert "http://" not in r.text and "https://" not in r.text  # no CDN
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        a = client.get(f"/static/vendor/swagger-ui/{asset}")
        assert a.status_code == 200 and len(a.content) > 100_000


def test_root_serves_the_ui_when_it_exists(tmp_path, monkeypatch, settings):
    (tmp_path / "index.html").write_text("<html><body>the UI</body></html>")
    monkeypatch.setattr(main, "STATIC", tmp_path)
    with TestClient(main.create_app(settings)) as c:
        r = c.get("/")
        assert r.status_code == 200 and "the UI" in r.text
        assert c.get("/api/conformance").status_code == 200
        assert_problem(c.get("/no-such-file.js"), 404)
