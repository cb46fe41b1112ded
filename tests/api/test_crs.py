"""OGC API – Features Part 2 (crs, bbox-crs, Content-Crs, crs lists), capped limits, queryables,
HEAD and OPTIONS on every route.

References come from plain geopandas/pyproj on the stored EPSG:25832 layers.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import shapely

from api.main import create_app
from api.settings import Settings
from tests.api.conftest import GEOJSON, assert_problem, max_decimals

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
PART2 = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"


def features(client, query: str) -> tuple[dict, dict]:
    r = client.get(f"/api/collections/sites/items?limit=10000&{query}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == GEOJSON
    return r.json(), r.headers


def test_conformance_and_collections_declare_part_2(client):
    assert PART2 in client.get("/api/conformance").json()["conformsTo"]
    for coll in client.get("/api/collections").json()["collections"]:
        assert coll["crs"] == [CRS84, EPSG + "4326", EPSG + "25832", EPSG + "4258", EPSG + "3035"]
        assert coll["storageCrs"] == EPSG + "25832"
        assert coll["extent"]["spatial"]["crs"] == CRS84


def test_default_is_crs84_and_says_so(client):
    _, headers = features(client, "")
    assert headers["content-crs"] == f"<{CRS84}>"


def test_epsg_25832_coordinates_are_the_stored_ones_to_the_centimetre(client, svc):
    body, headers = features(client, f"crs={EPSG}25832")
    assert headers["content-crs"] == f"<{EPSG}25832>"
    by_id = svc.sites.set_index("site_id").geometry
    raw = client.get(f"/api/collections/sites/items?limit=10000&crs={EPSG}25832").content
    assert max_decimals(raw) <= 2
    for f in body["features"]:
        got = shapely.get_coordinates(shapely.geometry.shape(f["geometry"]))
        ref = shapely.get_coordinates(by_id[f["id"]])
        assert got.shape == ref.shape and np.abs(got - ref).max() <= 0.005 + 1e-9


@pytest.mark.parametrize("code", [4326, 4258, 3035])
def test_other_crss_follow_their_axis_order(client, svc, code):
    body, headers = features(client, f"crs=EPSG:{code}")
    assert headers["content-crs"] == f"<{EPSG}{code}>"
    ref = svc.sites.to_crs(code).set_index("site_id").geometry
    tol = 1e-7 if code != 3035 else 0.01
    for f in body["features"][:50]:
        got = shapely.get_coordinates(shapely.geometry.shape(f["geometry"]))
        want = shapely.get_coordinates(ref[f["id"]])[:, ::-1]  # lat,lon / northing,easting
        assert np.abs(np.sort(got, axis=0) - np.sort(want, axis=0)).max() <= tol * 1.01
    lat = shapely.get_coordinates(shapely.geometry.shape(body["features"][0]["geometry"]))
    if code in (4326, 4258):
        assert (50 < lat[:, 0]).all() and (lat[:, 0] < 53).all()  # latitude first


def test_one_feature_in_a_crs(client, svc):
    sid = svc.sites["site_id"].iloc[0]
    r = client.get(f"/api/collections/sites/items/{sid}?crs=EPSG:25832")
    assert r.status_code == 200 and r.headers["content-crs"] == f"<{EPSG}25832>"
    got = shapely.get_coordinates(shapely.geometry.shape(r.json()["geometry"]))
    ref = shapely.get_coordinates(svc.sites.geometry.iloc[0])
    assert np.abs(got - ref).max() <= 0.005 + 1e-9


def test_bbox_in_epsg_25832_equals_a_geopandas_intersects(client, svc):
    x0, y0, x1, y1 = svc.sites.total_bounds
    box = (x0, y0, (x0 + x1) / 2, (y0 + y1) / 2)
    expected = set(svc.sites["site_id"][svc.sites.intersects(shapely.box(*box))])
    body, _ = features(client, "bbox=" + ",".join(map(str, box)) + f"&bbox-crs={EPSG}25832")
    assert {f["id"] for f in body["features"]} == expected and expected


def test_bbox_in_epsg_4326_is_latitude_first(client):
    crs84, _ = features(client, "bbox=6.5,51.0,7.2,51.6")
    lat_lon, _ = features(client, f"bbox=51.0,6.5,51.6,7.2&bbox-crs={EPSG}4326")
    assert [f["id"] for f in crs84["features"]] == [f["id"] for f in lat_lon["features"]]
    assert crs84["numberMatched"] > 0


def test_bbox_in_epsg_3035(client, svc):
    box = shapely.box(4_100_000, 3_030_000, 4_200_000, 3_130_000)  # easting, northing
    from pyproj import Transformer

    tr = Transformer.from_crs(3035, 25832, always_xy=True)
    area = shapely.transform(
        shapely.segmentize(box, 1000), lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))
    )
    expected = set(svc.sites["site_id"][svc.sites.intersects(area)])
    body, _ = features(client, "bbox=3030000,4100000,3130000,4200000&bbox-crs=EPSG:3035")
    assert {f["id"] for f in body["features"]} == expected and expected


@pytest.mark.parametrize(
    "query",
    [
        "crs=EPSG:9999",
        "crs=EPSG:31467",
        "bbox-crs=EPSG:2",
        "bbox=1,2,3&bbox-crs=EPSG:25832",
        "bbox=400000,5700000,300000,5800000&bbox-crs=EPSG:25832",
    ],
)
def test_bad_crs_parameters(client, query):
    body = assert_problem(client.get(f"/api/collections/sites/items?{query}"), 400)
    assert "EPSG:9999" not in body["detail"]  # the client's input is not echoed


def test_a_limit_above_the_maximum_is_capped_with_an_honest_next_link(settings):
    with TestClient(create_app(Settings(data=settings.data, max_limit=120))) as c:
        body = c.get("/api/collections/sites/items?limit=100000").json()
        assert body["numberReturned"] == 120 < body["numberMatched"]
        nxt = next(x["href"] for x in body["links"] if x["rel"] == "next")
        assert "offset=120" in nxt and "limit=120" in nxt
        ids = [f["id"] for f in body["features"]]
        while nxt:
            page = c.get(nxt).json()
            ids += [f["id"] for f in page["features"]]
            nxt = next((x["href"] for x in page["links"] if x["rel"] == "next"), None)
        assert len(ids) == len(set(ids)) == body["numberMatched"]


def test_queryables_list_the_filterable_properties(client):
    for cid in ("sites", "municipalities", "brownfields"):
        r = client.get(f"/api/collections/{cid}/queryables")
        assert r.status_code == 200 and r.headers["content-type"] == "application/schema+json"
        doc = r.json()
        assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert doc["type"] == "object" and doc["$id"].endswith(f"/{cid}/queryables")
        props = client.get(f"/api/collections/{cid}").json()["properties"]
        assert {k: v["type"] for k, v in doc["properties"].items() if k != "geometry"} == props
    doc = client.get("/api/collections/sites/queryables").json()
    assert doc["properties"]["ags"]["type"] == "string"
    ags = client.get("/api/collections/sites/items?limit=1").json()["features"][0]["properties"]
    got = client.get(f"/api/collections/sites/items?ags={ags['ags']}&limit=10000").json()
    assert got["numberMatched"] > 0
    assert all(f["properties"]["ags"] == ags["ags"] for f in got["features"])
    links = client.get("/api/collections/sites").json()["links"]
    assert any(x["rel"] == "http://www.opengis.net/def/rel/ogc/1.0/queryables" for x in links)


def _paths(client) -> list[str]:
    """Every GET path of the OpenAPI document with its parameters filled in."""
    doc = client.get("/api/openapi.json").json()
    sid = client.get("/api/collections/sites/items?limit=1").json()["features"][0]["id"]
    ags = client.get("/api/collections/sites/items?limit=1").json()["features"][0]["properties"]["ags"]
    snapshot = client.get("/healthz").json()["snapshot"]
    values = {
        "cid": "sites",
        "fid": sid,
        "site_id": sid,
        "ags": ags,
        "kreis": ags[:5],
        "snapshot": snapshot,
        "layer": "fibre",
    }
    out = []
    for path, ops in doc["paths"].items():
        if "get" not in ops or "admin" in path:
            continue
        p = path
        for name in re.findall(r"\{(\w+)\}", path):
            p = p.replace(f"{{{name}}}", values.get(name, "x"))
        out.append(p)
    return out


def test_head_and_options_on_every_get_route(client):
    paths = _paths(client)
    assert len(paths) > 20
    for p in paths:
        get = client.get(p)
        if get.status_code >= 400:  # e.g. an overlay the demo does not have: same answer
            assert client.head(p).status_code == get.status_code, p
            continue
        head = client.head(p)
        assert head.status_code == get.status_code, p
        assert head.content == b"", p
        for h in ("content-type", "content-crs", "etag"):
            assert head.headers.get(h) == get.headers.get(h), (p, h)
        opt = client.options(p)
        assert opt.status_code == 204, p
        allow = {m.strip() for m in opt.headers["allow"].split(",")}
        assert {"GET", "HEAD", "OPTIONS"} <= allow, p
    opt = client.options("/api/score")
    assert opt.status_code == 204 and "POST" in opt.headers["allow"]
    assert_problem(client.options("/api/nowhere"), 404)
    assert client.head("/api/nowhere").status_code == 404


def test_items_in_epsg_25832_are_pre_serialised(client):
    colls = client.app.state.collections  # type: ignore[attr-defined]
    assert all(EPSG + "25832" in c.by_crs for c in colls.values())
