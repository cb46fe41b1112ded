"""Errors: problem+json from one status table, no echo of client input, body-size limit."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from api.errors import STATUS, status_of
from geo.errors import DomainError, InvalidGeometry, InvalidParameter, NotFound, TooLarge
from tests.api.conftest import assert_problem

HOSTILE = "<script>alert(1)</script>"


def test_one_status_table():
    assert STATUS[InvalidParameter] == 400
    assert STATUS[NotFound] == 404
    assert STATUS[TooLarge] == 413
    assert STATUS[InvalidGeometry] == 422

    class Special(InvalidGeometry):
        pass

    assert status_of(Special("x")) == 422
    assert status_of(DomainError("x")) == 400
    assert status_of(ValueError("x")) == 500


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", f"/api/ranking?profile={HOSTILE}", 400),
        ("GET", f"/api/ranking?kind={HOSTILE}", 400),
        ("GET", f"/api/ranking?ags={HOSTILE}", 400),
        ("GET", f"/api/ranking?w_h2={HOSTILE}", 400),
        ("GET", f"/api/ranking?{HOSTILE}=1", 400),
        ("GET", f"/api/ranking?w_{HOSTILE}=1", 400),
        ("GET", f"/api/collections/sites/items?bbox={HOSTILE}", 400),
        ("GET", f"/api/collections/sites/items?name={HOSTILE}", 200),
        ("GET", f"/api/collections/sites/items?area_ha={HOSTILE}", 400),
        ("GET", f"/api/collections/{HOSTILE}", 404),
        ("GET", f"/api/collections/sites/items/{HOSTILE}", 404),
        ("GET", f"/api/sites/{HOSTILE}/score", 404),
        ("GET", f"/api/exports/municipalities/{HOSTILE}.geojson", 404),
        ("GET", f"/{HOSTILE}", 404),
    ],
)
def test_hostile_input_is_never_echoed(client, method, url, status):
    r = client.request(method, url)
    assert r.status_code == status
    assert "<script" not in r.text and "alert(1)" not in r.text
    if status >= 400:
        assert_problem(r, status)


@pytest.mark.parametrize(
    "body",
    [
        {"type": HOSTILE},
        {"type": "Feature", "geometry": {"type": HOSTILE, "coordinates": []}},
        {"type": "Polygon", "coordinates": [[[HOSTILE, 51.6]]]},
        {"type": "Polygon", "coordinates": [[[7.4, 51.6], [HOSTILE, 51.6], [7.5, 51.7], [7.4, 51.6]]]},
        HOSTILE,
    ],
)
def test_hostile_body_is_never_echoed(client, body):
    raw = body if isinstance(body, str) else json.dumps(body)
    r = client.post("/api/score", content=raw)
    assert r.status_code in (400, 422)
    assert_problem(r, r.status_code)
    assert "<script" not in r.text and "alert(1)" not in r.text


def test_unknown_route_and_method(client):
    body = assert_problem(client.get("/api/nowhere"), 404)
    assert body["title"] == "Not Found"
    assert_problem(client.delete("/api/ranking"), 405)
    assert_problem(client.get("/api/score"), 405)


def test_client_input_never_causes_500(client):
    urls = [
        "/api/ranking?limit=1e9",
        "/api/ranking?offset=1e30",
        "/api/ranking?min_area_ha=1e400",
        "/api/ranking?max_h2_km=inf",
        "/api/ranking?stability=1000&draws=1&limit=1",
        "/api/collections/sites/items?bbox=-180,-90,180,90&limit=1",
        "/api/collections/sites/items?bbox=1,2,3,4,5,6",
        "/api/collections/sites/items?f=xml",
        "/api/collections/sites/items?offset=99999999999",
        "/api/ranking?spread=0.999&stability=1",
        "/api/collections/hydrogen/items?commissioning_year=nan",
        "/api/sites/%00/score",
        "/api/collections/sites/items/%2e%2e",
    ]
    for url in urls:
        assert client.get(url).status_code < 500, url


def test_body_limit_with_content_length(client, settings):
    r = client.post(
        "/api/score",
        content=b" " * (settings.max_body_bytes + 1),
        headers={"content-type": "application/json"},
    )
    detail = assert_problem(r, 413)["detail"]
    assert f"{settings.max_body_bytes:,} bytes" in detail


def test_body_limit_counts_chunked_bytes(client, settings):
    def chunks():
        for _ in range(settings.max_body_bytes // 65536 + 2):
            yield b" " * 65536

    r = client.post("/api/score", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in r.request.headers
    assert_problem(r, 413)


@pytest.mark.slow
def test_body_limit_on_a_real_server(live_server, settings):
    """Chunked transfer encoding over a real socket is limited too (uvicorn + h11)."""

    def chunks():
        for _ in range(settings.max_body_bytes // 65536 + 2):
            yield b" " * 65536

    with httpx.Client(base_url=live_server, timeout=30) as http:
        r = http.post("/api/score", content=chunks(), headers={"content-type": "application/json"})
        assert r.request.headers.get("transfer-encoding") == "chunked"
        assert_problem(r, 413)
        assert http.get("/healthz").status_code == 200


@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(
        [
            "/api/ranking",
            "/api/collections/sites/items",
            "/api/sites/rp-RP-000001/score",
            "/api/profiles",
            "/api",
        ]
    ),
    params=st.dictionaries(
        st.sampled_from(
            [
                "limit",
                "offset",
                "bbox",
                "profile",
                "w_h2",
                "w_area",
                "kind",
                "ags",
                "min_area_ha",
                "max_h2_km",
                "stability",
                "draws",
                "spread",
                "seed",
                "datetime",
                "area_ha",
                "is_brownfield",
                "f",
                "x",
            ]
        ),
        st.one_of(
            st.text(max_size=30), st.floats(allow_nan=True).map(str), st.integers(-(10**12), 10**12).map(str)
        ),
        max_size=4,
    ),
)
def test_fuzzed_query_parameters_never_cause_500(client, path, params):
    r = client.get(path, params=params)
    assert r.status_code in (200, 400, 404), (path, params, r.text)
    if r.status_code != 200:
        assert_problem(r, r.status_code)
