"""GET /api/collections/{cid}/items and /items/{fid} (OGC API Features Core + GeoJSON)."""

from __future__ import annotations

import json

import pytest
import shapely

from tests.api.conftest import GEOJSON, assert_problem, assert_rfc7946


def test_default_page_of_sites(client, svc):
    r = client.get("/api/collections/sites/items")
    assert r.status_code == 200
    assert r.headers["content-type"] == GEOJSON
    body = r.json()
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == len(svc.sites)
    assert body["numberReturned"] == len(body["features"]) == 100
    assert body["timeStamp"].endswith("Z")
    assert body["snapshot"] == svc.snap.id and body["synthetic"] is True and body["attribution"]
    rels = {link["rel"] for link in body["links"]}
    assert rels == {"self", "next"}
    assert [f["id"] for f in body["features"]] == svc.sites["site_id"].tolist()[:100]
    assert_rfc7946(body, r.content)


def test_paging_with_next_links_returns_every_feature_once(client, svc):
    ids, url, pages = [], "/api/collections/sites/items?limit=70", 0
    while url:
        body = client.get(url).json()
        ids += [f["id"] for f in body["features"]]
        pages += 1
        if pages > 1:
            assert any(link["rel"] == "prev" for link in body["links"])
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    assert ids == svc.sites["site_id"].tolist()
    assert pages == -(-len(svc.sites) // 70)


def test_sites_carry_indicators_and_the_balanced_score_and_rank(client, svc):
    feats = client.get("/api/collections/sites/items?limit=10000").json()["features"]
    ranking = client.get("/api/ranking?limit=10000").json()["items"]
    by_id = {i["site_id"]: i for i in ranking}
    for f in feats:
        p, ref = f["properties"], by_id[f["id"]]
        assert p["score"] == ref["score"] and p["rank"] == ref["rank"]
        for k in ("area_ha", "fibre_share", "h2_distance_km", "planning_category", "ags", "kind"):
            assert p[k] == pytest.approx(ref[k]) if isinstance(ref[k], float) else p[k] == ref[k]


@pytest.mark.parametrize("bbox", [(6.5, 51.0, 7.2, 51.6), (7.31, 51.417, 7.9, 52.04), (5.0, 49.0, 6.0, 50.0)])
def test_bbox_count_equals_a_plain_geopandas_intersects(client, sites_wgs84, bbox):
    expected = sites_wgs84[sites_wgs84.intersects(shapely.box(*bbox))]
    r = client.get("/api/collections/sites/items", params={"bbox": ",".join(map(str, bbox)), "limit": 10000})
    assert r.status_code == 200
    body = r.json()
    assert body["numberMatched"] == len(expected)
    assert sorted(f["id"] for f in body["features"]) == sorted(expected["site_id"])
    assert len(sites_wgs84.cx[bbox[0] : bbox[2], bbox[1] : bbox[3]]) == len(expected)


def test_property_filters_on_the_collections_properties(client, svc):
    sites = svc.sites
    ags = sites["ags"].value_counts().index[0]
    expected = sites[(sites["kind"] == "brownfield") & (sites["ags"] == ags)]
    body = client.get(f"/api/collections/sites/items?kind=brownfield&ags={ags}").json()
    assert body["numberMatched"] == len(expected)
    assert sorted(f["id"] for f in body["features"]) == sorted(expected["site_id"])
    h2 = svc.snap.layers["hydrogen"]
    year = int(h2["commissioning_year"].iloc[0])
    body = client.get(f"/api/collections/hydrogen/items?commissioning_year={year}").json()
    assert body["numberMatched"] == int((h2["commissioning_year"] == year).sum())
    body = client.get("/api/collections/sites/items?is_brownfield=true&limit=10000").json()
    assert body["numberMatched"] == int(sites["is_brownfield"].sum())


@pytest.mark.parametrize("cid", ["municipalities", "regional_plan", "brownfields", "lep_sites", "hydrogen"])
def test_every_collection_serves_all_features(client, svc, cid):
    r = client.get(f"/api/collections/{cid}/items?limit=10000")
    assert r.status_code == 200 and r.headers["content-type"] == GEOJSON
    body = r.json()
    assert body["numberMatched"] == body["numberReturned"] == len(svc.snap.layers[cid])
    assert_rfc7946(body, r.content)


def test_limit_bounds(client):
    assert client.get("/api/collections/sites/items?limit=10000").status_code == 200
    capped = client.get("/api/collections/sites/items?limit=10001")  # capped, not refused
    assert capped.status_code == 200 and capped.json()["numberReturned"] <= 10_000
    assert_problem(client.get("/api/collections/sites/items?limit=0"), 400)
    assert_problem(client.get("/api/collections/sites/items?offset=-1"), 400)
    assert_problem(client.get("/api/collections/sites/items?limit=ten"), 400)


def test_offset_past_the_end_is_an_empty_page(client, svc):
    body = client.get(f"/api/collections/sites/items?offset={len(svc.sites) + 5}").json()
    assert body["numberReturned"] == 0 and body["features"] == []
    assert body["numberMatched"] == len(svc.sites)


@pytest.mark.parametrize(
    "query",
    [
        "bbox=1,2,3",
        "bbox=a,b,c,d",
        "bbox=7,52,8,51",
        "bbox=7,91,8,92",
        "bbox=nan,51,8,52",
        "colour=red",
        "area_ha=large",
        "is_brownfield=perhaps",
        "datetime=yesterday",
        "datetime=2020-13-45",
    ],
)
def test_bad_query_parameters_are_400(client, query):
    assert_problem(client.get(f"/api/collections/sites/items?{query}"), 400)


def test_a_bbox_crossing_the_antimeridian_is_two_boxes(client, svc):
    # minLon > maxLon: from 170°E eastwards across 180° to 7°E, i.e. western NRW only
    body = client.get("/api/collections/sites/items?bbox=170,50,7,53&limit=10000").json()
    west = client.get("/api/collections/sites/items?bbox=-180,50,7,53&limit=10000").json()
    assert body["numberMatched"] == west["numberMatched"] > 0
    assert {f["id"] for f in body["features"]} == {f["id"] for f in west["features"]}
    nothing = client.get("/api/collections/sites/items?bbox=170,50,-170,53").json()
    assert nothing["numberMatched"] == 0


def test_a_property_given_twice_matches_either_value(client, svc):
    both = client.get("/api/collections/sites/items?kind=brownfield&kind=lep&limit=1").json()
    kinds = svc.sites["kind"]
    assert both["numberMatched"] == int(kinds.isin(["brownfield", "lep"]).sum())


def test_bbox_with_min_lat_above_max_lat_says_so(client):
    r = client.get("/api/collections/sites/items?bbox=7,52,8,51")
    assert "minLat is greater than maxLat" in assert_problem(r, 400)["detail"]


def test_datetime_is_accepted_and_does_not_restrict(client, svc):
    body = client.get("/api/collections/sites/items?datetime=2025-01-01T00:00:00Z/..").json()
    assert body["numberMatched"] == len(svc.sites)


def test_one_feature_by_id(client, svc):
    fid = svc.sites["site_id"].iloc[3]
    r = client.get(f"/api/collections/sites/items/{fid}")
    assert r.status_code == 200 and r.headers["content-type"] == GEOJSON
    body = r.json()
    assert body["type"] == "Feature" and body["id"] == fid
    assert body["properties"]["site_id"] == fid
    assert {link["rel"] for link in body["links"]} == {"self", "collection"}
    assert body["snapshot"] == svc.snap.id
    ags = svc.snap.layers["municipalities"]["ags"].iloc[0]
    body = client.get(f"/api/collections/municipalities/items/{ags}").json()
    assert body["geometry"]["type"] == "MultiPolygon" and body["properties"]["ags"] == ags
    assert_problem(client.get("/api/collections/sites/items/rp-NOPE"), 404)


def test_feature_bytes_are_plain_json(client, svc):
    """Pre-serialised bytes parse as JSON, keep slashes unescaped, and match the geometry."""
    raw = client.get("/api/collections/lep_sites/items").content
    assert b"\\/" not in raw
    body = json.loads(raw)
    names = {f["properties"]["name"] for f in body["features"]}
    assert "newPark Datteln/Waltrop" in names
    lep = svc.snap.layers["lep_sites"].to_crs(4326)
    for f, geom in zip(body["features"], lep.geometry, strict=True):
        got = shapely.normalize(shapely.geometry.shape(f["geometry"]))
        assert got.equals_exact(shapely.normalize(geom), 1e-6)
