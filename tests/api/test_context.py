"""GET /api/sites/{id}/context against independent geopandas computations on the demo snapshot."""

from __future__ import annotations

import geopandas as gpd
import pytest

from api.models import SiteContextResponse
from tests.api.conftest import PROBLEM


@pytest.fixture(scope="module")
def contexts(client, svc):
    """The context of every public site, by id."""
    return {sid: client.get(f"/api/sites/{sid}/context").json() for sid in svc.sites["site_id"]}


def _site(svc, sid):
    return svc.sites[svc.sites["site_id"] == sid]


def test_the_answer_follows_its_model_and_names_its_sources(client, svc, contexts):
    manifest = svc.snap.manifest["layers"]
    for sid, body in list(contexts.items())[:20]:
        SiteContextResponse.model_validate(body)
        assert body["site_id"] == sid
        for block, layer in [
            ("industrial_heat", "industrial_heat"),
            ("protected_areas", "natura2000"),
            ("floodplains", "floodplains"),
            ("substation", "substations"),
        ]:
            src = body[block]["source"]
            assert src["layer"] == layer
            assert src["licence"] == manifest[layer]["licence"]
            assert src["attribution"] == manifest[layer]["attribution"]
    heat = next(iter(contexts.values()))["industrial_heat"]["source"]
    assert heat["licence"] == "CC BY 4.0" and not heat["synthetic"]


def test_the_three_nearest_installations(svc, contexts):
    layer = svc.snap.layers["industrial_heat"]
    for sid in list(contexts)[::15]:
        site = _site(svc, sid)
        d = layer.geometry.distance(site.geometry.iloc[0]) / 1000.0
        expected = layer.assign(d=d).sort_values("d", kind="stable").head(3)
        got = contexts[sid]["industrial_heat"]["installations"]
        assert len(got) == 3
        assert [g["distance_km"] for g in got] == pytest.approx(expected["d"].round(3).tolist(), abs=1e-3)
        assert [g["sector"] for g in got] == expected["sector"].tolist()
        assert [g["excess_heat_gwh"] for g in got] == pytest.approx(expected["excess_heat_gwh"].tolist())


def test_the_nearest_substation_and_its_voltage(svc, contexts):
    layer = svc.snap.layers["substations"]
    for sid in list(contexts)[::15]:
        site = _site(svc, sid)
        d = layer.geometry.distance(site.geometry.iloc[0]) / 1000.0
        best = layer.iloc[int(d.to_numpy().argmin())]
        got = contexts[sid]["substation"]
        assert got["distance_km"] == pytest.approx(float(d.min()), abs=1e-3)
        assert got["voltage_kv"] == int(best["voltage_kv"])
        assert got["name"] == best["name"]


@pytest.mark.parametrize(
    ("block", "layer"), [("protected_areas", "natura2000"), ("floodplains", "floodplains")]
)
def test_overlapped_areas_largest_first(svc, contexts, block, layer):
    areas = svc.snap.layers[layer]
    sites = svc.sites[["site_id", "geometry"]].assign(site_area=svc.sites.geometry.area)
    inter = gpd.overlay(sites, areas[["name", "geometry"]], how="intersection", keep_geom_type=True)
    inter["a"] = inter.geometry.area
    per = inter[inter["a"] > 0].groupby(["site_id", "name"])["a"].sum().reset_index()
    seen = 0
    for sid, body in contexts.items():
        exp = per[per["site_id"] == sid].sort_values(["a", "name"], ascending=[False, True])
        got = body[block]["areas"]
        assert [g["name"] for g in got] == exp["name"].tolist(), sid
        site_area = float(sites.loc[sites["site_id"] == sid, "site_area"].iloc[0])
        assert [g["share"] for g in got] == pytest.approx((exp["a"] / site_area).round(4).tolist(), abs=2e-4)
        seen += bool(got)
    assert seen >= 3, "the demo should put some sites into such areas"


def test_codes_and_status_come_with_the_names(svc, contexts):
    n2k = svc.snap.layers["natura2000"]
    fp = svc.snap.layers["floodplains"]
    for body in contexts.values():
        for a in body["protected_areas"]["areas"]:
            assert set(a["codes"]) <= set(n2k.loc[n2k["name"] == a["name"], "site_code"])
            assert a["codes"] and set(a["site_types"]) <= {"A", "B", "C"}
        for a in body["floodplains"]["areas"]:
            assert set(a["statuses"]) <= set(fp.loc[fp["name"] == a["name"], "status"].dropna())


@pytest.mark.parametrize(
    "sid", ["nothing-here", "<script>alert(1)</script>", "x" * 300, "%00", "rp-RP-999999"]
)
def test_unknown_ids_are_404_without_echo(client, sid):
    r = client.get(f"/api/sites/{sid}/context")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith(PROBLEM)
    assert "script" not in r.text and "xxxx" not in r.text


def test_unknown_parameters_are_refused(client, svc):
    sid = svc.sites["site_id"].iloc[0]
    assert client.get(f"/api/sites/{sid}/context?foo=1").status_code == 400


def test_a_non_public_site_is_404_for_the_public(client, data_dir):
    from layers.keys import KeyStore
    from layers.store import Store

    sites = Store(data_dir).load().layers["sites"]
    hidden = str(sites.loc[~sites["public"].to_numpy(bool), "site_id"].iloc[0])
    a = client.get(f"/api/sites/{hidden}/context")
    b = client.get("/api/sites/rp-RP-999999/context")
    assert (a.status_code, a.json()) == (b.status_code, b.json()) == (404, b.json())
    token = KeyStore(data_dir).add("context-staff", "staff")
    staff = client.get(f"/api/sites/{hidden}/context", headers={"Authorization": f"Bearer {token}"})
    assert staff.status_code == 200 and staff.json()["site_id"] == hidden


def test_a_missing_layer_gives_a_null_block(svc):
    from api.routes_context import site_context

    sid = str(svc.sites["site_id"].iloc[0])
    saved = svc.snap.layers.pop("floodplains")
    try:
        assert site_context(svc, sid)["floodplains"] is None
    finally:
        svc.snap.layers["floodplains"] = saved
