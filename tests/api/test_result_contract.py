"""One typed scoring result (issue 10 §0): response models, per-criterion sources, breakdown=false,
the H2 horizon year, and the compact data the web UI re-ranks with.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from api.models import (
    AdhocScoreResponse,
    ProfilesResponse,
    RankingResponse,
    SiteScoreResponse,
    SitesTable,
    UIConfig,
)
from geo.criteria import CRITERIA, CRITERIA_ORDER, PROFILES
from tests.api.conftest import assert_problem

POLYGON = {
    "type": "Polygon",
    "coordinates": [[[7.40, 51.64], [7.4064, 51.64], [7.4064, 51.644], [7.40, 51.644], [7.40, 51.64]]],
}


def test_responses_match_their_declared_models(client, svc):
    sid = svc.scorer.site_id[0]
    RankingResponse.model_validate(client.get("/api/ranking?limit=50&stability=5").json())
    RankingResponse.model_validate(client.get("/api/ranking?breakdown=false&kind=lep").json())
    ProfilesResponse.model_validate(client.get("/api/profiles").json())
    SiteScoreResponse.model_validate(client.get(f"/api/sites/{sid}/score?stability=5").json())
    AdhocScoreResponse.model_validate(client.post("/api/score", json=POLYGON).json())
    SitesTable.model_validate(client.get("/api/sites/table").json())
    UIConfig.model_validate(client.get("/api/ui/config").json())


def test_openapi_describes_every_scoring_response(client):
    doc = client.get("/api/openapi.json").json()
    schemas = doc["components"]["schemas"]
    for path, method, model in [
        ("/api/ranking", "get", "RankingResponse"),
        ("/api/profiles", "get", "ProfilesResponse"),
        ("/api/sites/{site_id}/score", "get", "SiteScoreResponse"),
        ("/api/score", "post", "AdhocScoreResponse"),
        ("/api/sites/table", "get", "SitesTable"),
    ]:
        content = doc["paths"][path][method]["responses"]["200"]["content"]["application/json"]
        assert content["schema"]["$ref"].endswith(f"/{model}")
        assert model in schemas
    breakdown = schemas["Breakdown"]["properties"]
    assert list(breakdown) == list(CRITERIA_ORDER)  # one documented field per criterion
    item = schemas["SiteItem"]["properties"]
    assert {"site_id", "score", "rank", "excluded_by", "breakdown", "h2_commissioning_year"} <= set(item)


def test_every_breakdown_entry_names_its_source(client, svc):
    sid = client.get("/api/ranking?limit=1").json()["items"][0]["site_id"]
    item = client.get(f"/api/sites/{sid}/score").json()
    manifest = svc.snap.manifest["layers"]
    for c, entry in item["breakdown"].items():
        src = entry["source"]
        assert src["layer"] == CRITERIA[c].layer
        assert src["resolution"] and src["title"]
        if src["layer"] in manifest:  # as recorded in the manifest of the snapshot
            assert src["licence"] == manifest[src["layer"]]["licence"]
            assert src["attribution"] == manifest[src["layer"]]["attribution"]
            assert src["date"] == (manifest[src["layer"]].get("date") or svc.snap.manifest["created"][:10])
    fibre = item["breakdown"]["fibre"]["source"]
    assert fibre["resolution"].startswith("100 m grid")  # the demo's fibre is a 100 m grid
    assert fibre["synthetic"] is True and "SYNTHETIC" in fibre["title"]
    assert fibre["licence_url"] == "https://creativecommons.org/publicdomain/zero/1.0/"
    assert "schematic" in item["breakdown"]["h2"]["source"]["resolution"]
    # lists of many sites carry the same sources once
    ranking = client.get("/api/ranking?limit=5").json()
    assert ranking["sources"] == {c: e["source"] for c, e in item["breakdown"].items()}
    assert all("source" not in e for i in ranking["items"] for e in i["breakdown"].values())


def test_breakdown_false_gives_the_same_scores_without_breakdowns(client):
    full = client.get("/api/ranking?limit=200&profile=digital").json()
    lean = client.get("/api/ranking?limit=200&profile=digital&breakdown=false").json()
    assert all("breakdown" not in i for i in lean["items"])
    assert [(i["site_id"], i["score"]) for i in lean["items"]] == [
        (i["site_id"], i["score"]) for i in full["items"]
    ]


def test_commissioning_year_is_an_integer(client):
    items = client.get("/api/ranking?limit=300").json()["items"]
    years = [i["h2_commissioning_year"] for i in items if i["h2_commissioning_year"] is not None]
    assert years and all(type(y) is int for y in years)


def test_h2_year_moves_the_horizon(client, svc):
    """An earlier horizon leaves out later segments: distances never shrink, years ≤ horizon."""
    late = {
        i["site_id"]: i
        for i in client.get("/api/ranking?limit=10000&h2_year=2032&breakdown=false").json()["items"]
    }
    early = client.get("/api/ranking?limit=10000&h2_year=2026&breakdown=false").json()
    assert early["h2_year"] == 2026
    for i in early["items"]:
        if i["h2_distance_km"] is not None:
            assert i["h2_commissioning_year"] <= 2026
            assert i["h2_distance_km"] >= late[i["site_id"]]["h2_distance_km"] - 1e-9
    # the hydrogen profile's own horizon (2030) is the default for it
    assert client.get("/api/ranking?profile=hydrogen&limit=1").json()["h2_year"] == 2030
    assert_problem(client.get("/api/ranking?h2_year=2024"), 400)


def test_site_score_has_nearest_lep_and_stability(client, svc):
    row = 3
    sid = svc.scorer.site_id[row]
    body = client.get(f"/api/sites/{sid}/score?stability=10").json()
    lep = svc.snap.layers["lep_sites"]
    d = lep.distance(svc.sites.geometry.iloc[row])  # plain geopandas, metres
    assert body["nearest_lep"] == lep["name"].iloc[int(d.argmin())]
    assert body["nearest_lep_km"] == pytest.approx(d.min() / 1e3, abs=1e-3)
    assert body["stability"]["top"] == 10 and 0 <= body["stability"]["probability"] <= 1
    assert body["stability_params"] == {"draws": 200, "spread": 0.25, "seed": 0, "top": 10}


def test_table_and_values_reproduce_the_ranking(client):
    """The browser's data and formula give exactly /api/ranking's order (checked here in
    Python with the formula of maps/static/js/scoring.js: criterion-order sums, site_id ties).
    """
    table = client.get("/api/sites/table").json()
    cols = table["columns"]
    n, crits = table["count"], table["criteria"]
    assert crits == list(CRITERIA_ORDER) and len(cols["site_id"]) == n
    rng = np.random.default_rng(5)
    for profile in PROFILES.values():
        resp = client.get(f"/api/sites/values?profile={profile.name}")
        assert resp.headers["x-criteria-count"] == str(len(crits))
        vals = decode_values(resp.content, len(crits))
        for _ in range(5):
            w = {c: float(rng.choice([0, 0.5, 1, 2, 3.5])) for c in crits}
            w[crits[int(rng.integers(len(crits)))]] = 1.0
            query = "&".join(f"w_{c}={x}" for c, x in w.items())
            api = client.get(f"/api/ranking?profile={profile.name}&{query}&limit=100&breakdown=false").json()
            scores = []
            for i in range(n):
                num = den = 0.0
                for k, c in enumerate(crits):
                    v = vals[i, k]
                    if not np.isnan(v):
                        num += w[c] * v
                        den += w[c]
                ok = profile.min_area_ha is None or cols["area_ha"][i] >= profile.min_area_ha
                if ok and den > 0:
                    scores.append((-(100 * num / den), cols["site_id"][i]))
            mine = [s for _, s in sorted(scores)[:100]]
            assert mine == [i["site_id"] for i in api["items"]]


def decode_values(raw: bytes, c: int) -> np.ndarray:
    """The compact value array as the browser decodes it (maps/static/js/api.js decodeValues):
    n × (C + 1), v = k / 10⁴ (NaN for 65535), then the H2 km."""
    n = len(raw) // (8 + 2 * c)
    assert len(raw) == n * (8 + 2 * c)
    km = np.frombuffer(raw[: 8 * n], dtype="<f8")
    k = np.frombuffer(raw[8 * n :], dtype="<u2").reshape(n, c)
    v = np.where(k == 65535, np.nan, k / 10000)
    return np.column_stack([v, km])


def test_values_are_the_scorers_exactly(client, svc):
    from geo.criteria import get_profile

    p = get_profile("hydrogen")
    resp = client.get("/api/sites/values?profile=hydrogen")
    vals = decode_values(resp.content, len(CRITERIA_ORDER))
    assert np.array_equal(vals[:, :-1], svc.scorer.values(p), equal_nan=True)  # bit for bit
    km = svc.scorer.indicators(p)["h2_distance_km"].astype(float)
    assert np.array_equal(vals[:, -1], km, equal_nan=True)
    assert len(resp.content) < 0.3 * len(svc.sites) * (len(CRITERIA_ORDER) + 1) * 8 + 8 * len(svc.sites)


def test_values_cache_headers(client):
    r = client.get("/api/sites/values?profile=balanced&h2_year=2028")
    assert r.headers["content-type"] == "application/octet-stream"
    again = client.get(
        "/api/sites/values?profile=balanced&h2_year=2028", headers={"If-None-Match": r.headers["etag"]}
    )
    assert again.status_code == 304 and not again.content
    other = client.get("/api/sites/values?profile=balanced&h2_year=2026")
    assert other.headers["etag"] != r.headers["etag"] and other.content != r.content
    assert_problem(client.get("/api/sites/values?profile=nope"), 400)


def test_table_points_lie_on_their_sites(client, svc):
    cols = client.get("/api/sites/table").json()["columns"]
    sites = svc.sites.to_crs(4326)
    for i in range(0, len(sites), 37):
        assert cols["site_id"][i] == sites["site_id"].iloc[i]
        p = shapely.Point(cols["lon"][i], cols["lat"][i])
        assert sites.geometry.iloc[i].buffer(1e-6).contains(p)
