"""POST /api/score: ad-hoc polygons (RFC 7946 GeoJSON in WGS84), checked before scoring."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely

from geo.criteria import CRITERIA_ORDER
from tests.api.conftest import assert_problem

# ≈ 20 ha (0.0064° × 0.004° at 51.6° N), near Datteln
SQUARE = [[7.40, 51.64], [7.4064, 51.64], [7.4064, 51.644], [7.40, 51.644], [7.40, 51.64]]
POLYGON = {"type": "Polygon", "coordinates": [SQUARE]}


def post(client, body, query="", content_type="application/geo+json"):
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(f"/api/score{query}", content=raw, headers={"content-type": content_type})


def test_polygon_is_scored(client, svc):
    r = post(client, POLYGON)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert 19 < body["area_ha"] < 21
    assert 0 <= body["score"] <= 100 and 0 <= body["percentile"] <= 100
    assert body["profile"] == "balanced" and body["kind"] == "adhoc" and body["rank"] is None
    assert list(body["breakdown"]) == list(CRITERIA_ORDER)
    assert body["snapshot"] == svc.snap.id and body["synthetic"] is True and body["attribution"]
    # the percentile is the share of stored sites scoring at or below it
    stored = np.array([i["score"] for i in client.get("/api/ranking?limit=10000").json()["items"]])
    assert body["percentile"] == pytest.approx(100 * (stored <= body["score"]).mean(), abs=0.01)


def test_feature_and_multipolygon_and_weights(client):
    feature = {"type": "Feature", "properties": {"name": "x"}, "geometry": POLYGON}
    a = post(client, feature, content_type="application/json").json()
    b = post(client, {"type": "MultiPolygon", "coordinates": [[SQUARE]]}).json()
    assert a["score"] == b["score"] == post(client, POLYGON).json()["score"]
    c = post(client, POLYGON, "?profile=hydrogen&w_h2=0").json()
    assert c["profile"] == "hydrogen" and c["weights"]["h2"] == 0
    assert c["breakdown"]["h2"]["weight"] == 0


def test_a_stored_sites_polygon_gets_its_indicators(client, svc, sites_wgs84):
    """Posting a stored site's own outline reproduces its stored indicators."""
    row = sites_wgs84[sites_wgs84["kind"] == "regional_plan"].iloc[0]
    feature = client.get(f"/api/collections/sites/items/{row['site_id']}").json()
    body = post(client, feature).json()
    assert body["area_ha"] == pytest.approx(row["area_ha"], rel=1e-3)
    assert body["ags"] == row["ags"]
    for k in ("fibre_share", "mobile_5g_share", "h2_distance_km"):
        assert body[k] == pytest.approx(row[k], abs=0.01), k
    # the same planning status and the same score as the stored site (WGS84 round trip aside)
    stored = client.get(f"/api/sites/{row['site_id']}/score").json()
    assert body["planning_category"] == stored["planning_category"]
    assert body["missing"] == stored["missing"]
    assert body["score"] == pytest.approx(stored["score"], abs=0.05)


def test_a_polygon_on_no_plan_area_and_no_brownfield_has_planning_none(client, svc):
    muni = svc.snap.layers["municipalities"]
    sites = svc.snap.layers["sites"]
    free = muni.geometry.values[0].representative_point()
    for _ in range(200):  # find a spot away from every site
        if sites.distance(free).min() > 300:
            break
        free = shapely.Point(free.x + 250, free.y + 170)
    square = shapely.box(free.x - 100, free.y - 100, free.x + 100, free.y + 100)
    lon, lat = zip(*[_to_wgs(x, y) for x, y in square.exterior.coords], strict=True)
    body = post(client, {"type": "Polygon", "coordinates": [list(map(list, zip(lon, lat, strict=True)))]})
    item = body.json()
    assert item["planning_category"] == "NONE"
    assert item["breakdown"]["planning"]["v"] == 0.0 and "planning" not in item["missing"]


def _to_wgs(x, y):
    from geo.crs import transformer

    return transformer(25832, 4326).transform(x, y)


def test_a_site_excluded_by_a_profile_says_which_filter(client, svc):
    sites = svc.snap.layers["sites"]
    small = sites[sites["area_ha"] < 50].iloc[0]["site_id"]
    body = client.get(f"/api/sites/{small}/score?profile=large_scale").json()
    assert body["rank"] is None and body["excluded_by"] == "min_area_ha"
    ranked = client.get(f"/api/sites/{small}/score").json()
    assert ranked["rank"] >= 1 and "excluded_by" not in ranked


@pytest.mark.parametrize(
    ("body", "status", "phrase"),
    [
        (b"not json", 400, "not valid JSON"),
        (b"", 400, "not valid JSON"),
        (b"[" * 100_000, 400, "not valid JSON"),
        ([1, 2], 422, "GeoJSON"),
        ({"type": "Point", "coordinates": [7.4, 51.6]}, 422, "Polygon"),
        ({"type": "FeatureCollection", "features": []}, 422, "Polygon"),
        ({"type": "Feature", "geometry": None}, 422, "no geometry"),
        ({"type": "Polygon", "coordinates": "7,51"}, 422, "nested arrays"),
        ({"type": "Polygon", "coordinates": []}, 422, "empty"),
        ({"type": "Polygon", "coordinates": [SQUARE[:-1]]}, 422, "closed"),
        ({"type": "Polygon", "coordinates": [[[7.4, 51.6], [7.5, 51.6], [7.4, 51.6]]]}, 422, "at least 4"),
        (
            {"type": "Polygon", "coordinates": [[[7.4, 51.6], ["a", 51.6], [7.5, 51.7], [7.4, 51.6]]]},
            422,
            "numbers",
        ),
        (
            b'{"type":"Polygon","coordinates":[[[7.4,51.6],[NaN,51.6],[7.5,51.7],[7.4,51.6]]]}',
            400,
            "not valid JSON",
        ),
        (
            b'{"type":"Polygon","coordinates":[[[7.4,51.6],[1e999,51.6],[7.5,51.7],[7.4,51.6]]]}',
            400,
            "not valid JSON",
        ),
    ],
)
def test_bad_bodies(client, body, status, phrase):
    detail = assert_problem(post(client, body), status)["detail"]
    assert phrase in detail


def test_outside_nrw_and_swapped_axes(client):
    berlin = [[13.40, 52.50], [13.41, 52.50], [13.41, 52.51], [13.40, 52.50]]
    detail = assert_problem(post(client, {"type": "Polygon", "coordinates": [berlin]}), 422)["detail"]
    assert "outside North Rhine-Westphalia" in detail
    swapped = [[y, x] for x, y in SQUARE]
    detail = assert_problem(post(client, {"type": "Polygon", "coordinates": [swapped]}), 422)["detail"]
    assert "coordinates look swapped: GeoJSON is longitude, latitude" in detail
    metres = [[390000, 5720000], [390400, 5720000], [390400, 5720500], [390000, 5720000]]
    detail = assert_problem(post(client, {"type": "Polygon", "coordinates": [metres]}), 422)["detail"]
    assert "outside North Rhine-Westphalia" in detail and "projected" in detail


def test_inside_the_bbox_but_outside_nrw(client):
    # Enschede (NL) lies inside NRW's bounding box but outside the state
    enschede = [[6.86, 52.21], [6.87, 52.21], [6.87, 52.22], [6.86, 52.21]]
    detail = assert_problem(post(client, {"type": "Polygon", "coordinates": [enschede]}), 422)["detail"]
    assert "outside North Rhine-Westphalia" in detail


def test_self_intersection_is_reported_not_repaired(client):
    bowtie = [[7.40, 51.64], [7.41, 51.65], [7.41, 51.64], [7.40, 51.65], [7.40, 51.64]]
    detail = assert_problem(post(client, {"type": "Polygon", "coordinates": [bowtie]}), 422)["detail"]
    assert "Self-intersection at 7.405,51.645" in detail
    expected = shapely.is_valid_reason(shapely.Polygon(bowtie))
    assert expected.startswith("Self-intersection")


def test_vertex_cap_is_413(client, settings):
    n = settings.max_vertices + 1
    t = np.linspace(0, 2 * np.pi, n)
    ring = np.column_stack([7.40 + 0.01 * np.cos(t), 51.64 + 0.006 * np.sin(t)])
    ring[-1] = ring[0]
    detail = assert_problem(post(client, {"type": "Polygon", "coordinates": [ring.tolist()]}), 413)["detail"]
    assert f"{settings.max_vertices:,} vertices" in detail
