"""GET /api/collections and /api/collections/{cid}."""

from __future__ import annotations

import numpy as np
import pytest

from tests.api.conftest import assert_problem

COLLECTIONS = [
    "sites",
    "municipalities",
    "regional_plan",
    "brownfields",
    "lep_sites",
    "hydrogen",
    "motorway_junctions",
    "rail_stations",
    "ports",
    "rail_freight",
    "airports",
]
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def test_collections_lists_every_layer(client, svc):
    r = client.get("/api/collections")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert [c["id"] for c in body["collections"]] == COLLECTIONS
    assert body["snapshot"] == svc.snap.id and body["synthetic"] is True
    for c in body["collections"]:
        rels = {link["rel"]: link for link in c["links"]}
        assert rels["items"]["href"].endswith(f"/api/collections/{c['id']}/items")
        assert rels["items"]["type"] == "application/geo+json"
        assert c["crs"][0] == CRS84 and len(c["crs"]) == 5  # Part 2: tests/api/test_crs.py
        assert c["itemType"] == "feature"


@pytest.mark.parametrize("cid", COLLECTIONS)
def test_collection_extent_is_the_wgs84_bounds_of_the_layer(client, svc, cid):
    r = client.get(f"/api/collections/{cid}")
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == cid and body["title"]
    assert body["extent"]["spatial"]["crs"] == CRS84
    expected = svc.snap.layers[cid].to_crs(4326).total_bounds  # plain geopandas
    np.testing.assert_allclose(body["extent"]["spatial"]["bbox"][0], expected, atol=2e-7)
    assert body["numberOfFeatures"] == len(svc.snap.layers[cid])
    layers = {a["layer"] for a in body["attribution"]}
    assert layers == (set(svc.snap.manifest["layers"]) if cid == "sites" else {cid})


def test_unknown_collection_is_404(client):
    body = assert_problem(client.get("/api/collections/parks"), 404)
    assert "parks" not in body["detail"]
    assert_problem(client.get("/api/collections/parks/items"), 404)
