"""Snapshot diff (issue 19 §2): geo/diff.py against an independent pandas/geopandas computation,
``nrw-sites diff`` and ``GET /api/changes`` (public view, bad input, no echo)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from api.cli import main
from api.main import create_app
from api.settings import Settings
from geo.criteria import CRITERIA_ORDER, PROFILES
from geo.scoring import Scorer
from layers.build import build
from layers.changes import changes, load_sites
from layers.store import Store
from tests.conftest import DemoCache
from tests.layers._snapshots import publish_sites

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, demo_cache: DemoCache) -> tuple[Store, str, str]:
    """A demo snapshot and a later one: 4 removed, 2 added far away, 1 re-keyed, 1 renamed and
    shrunk (no match), area, planning and fibre changed, one site made non-public, one new
    non-public site."""
    store = Store(demo_cache.copy(tmp_path_factory.mktemp("changes"), n_sites=300, seed=1))
    old_id = store.current_id()
    assert old_id
    old = load_sites(store, old_id)
    new = old.iloc[4:].copy().reset_index(drop=True)
    new.loc[0, "area_ha"] += 2.5
    new.loc[1, "planning_category"] = (
        "BROWNFIELD" if new.loc[1, "planning_category"] != "BROWNFIELD" else "GIB"
    )
    new.loc[2, "fibre_share"] = 1.0 - float(new.loc[2, "fibre_share"] or 0.0)
    new.loc[3, "site_id"] = "rp-rekeyed-1"
    new.loc[4, "site_id"] = "rp-shrunk-1"
    new.loc[4, "geometry"] = shapely.affinity.scale(new.loc[4, "geometry"], 0.6, 0.6)
    new.loc[5, "public"] = False
    extra = new.iloc[10:13].copy()
    extra["site_id"] = ["bf-new-1", "bf-new-2", "bf-new-secret"]
    extra["geometry"] = extra.geometry.translate(0, 60_000)  # far from any site of the old snapshot
    extra["public"] = [True, True, False]
    new = gpd.GeoDataFrame(pd.concat([new, extra], ignore_index=True), crs=old.crs)
    return store, old_id, publish_sites(store, old_id, new)


def _expected(old: gpd.GeoDataFrame, new: gpd.GeoDataFrame) -> dict[str, Any]:
    """The diff computed independently: set operations, geopandas overlay, Scorer.rank scores."""
    gone = set(old.site_id) - set(new.site_id)
    fresh = set(new.site_id) - set(old.site_id)
    a = old[old.site_id.isin(gone)][["site_id", "geometry"]]
    b = new[new.site_id.isin(fresh)][["site_id", "geometry"]]
    ov = gpd.overlay(a, b, how="intersection", keep_geom_type=True)
    ov["share"] = ov.area / np.maximum(
        ov.site_id_1.map(a.set_index("site_id").area), ov.site_id_2.map(b.set_index("site_id").area)
    )
    rk = {r.site_id_2: r.site_id_1 for r in ov[ov.share >= 0.8].itertuples()}
    score = {}
    for side, df in (("old", old), ("new", new)):
        sc = Scorer(pd.DataFrame(df.drop(columns="geometry")))
        score[side] = {}
        for p, prof in PROFILES.items():  # a plain weighted mean over the criteria with data
            v = pd.DataFrame(sc.values(prof), columns=CRITERIA_ORDER, index=df.site_id)
            w = pd.Series(prof.weights).reindex(CRITERIA_ORDER).fillna(0.0)
            score[side][p] = 100 * (v * w).sum(axis=1) / v.notna().mul(w).sum(axis=1)
    m = old.merge(new, on="site_id", suffixes=("_o", "_n"))
    pairs = [(r, r) for r in m.site_id] + [(o, n) for n, o in rk.items()]
    changed = set()
    for o, n in pairs:
        ro, rn = old.set_index("site_id").loc[o], new.set_index("site_id").loc[n]
        moved = any(
            abs(np.nan_to_num(score["new"][p][n]) - np.nan_to_num(score["old"][p][o])) >= 0.05
            for p in PROFILES
        )
        if (
            o != n
            or moved
            or abs(ro.area_ha - rn.area_ha) >= 0.01
            or ro.planning_category != rn.planning_category
            or (
                ro.availability != rn.availability
                and not (pd.isna(ro.availability) and pd.isna(rn.availability))
            )
        ):
            changed.add(n)
    return {
        "added": fresh - set(rk),
        "removed": gone - set(rk.values()),
        "changed": changed,
        "rekeyed": rk,
        "score": score,
    }


def test_diff_matches_independent_computation(pair):
    store, a, b = pair
    doc = changes(store, a, b, public=False)
    exp = _expected(load_sites(store, a), load_sites(store, b))
    assert (
        {s["site_id"] for s in doc["added"]}
        == exp["added"]
        == {"bf-new-1", "bf-new-2", "bf-new-secret", "rp-shrunk-1"}
    )
    assert {s["site_id"] for s in doc["removed"]} == exp["removed"]
    assert len(exp["removed"]) == 5
    assert {s["site_id"] for s in doc["changed"]} == exp["changed"]
    assert {c["site_id"]: c["rekeyed_from"] for c in doc["changed"] if "rekeyed_from" in c} == exp["rekeyed"]
    assert list(exp["rekeyed"]) == ["rp-rekeyed-1"]
    for c in doc["changed"]:
        for p, s in c["score"].items():
            assert s["to"] == pytest.approx(round(exp["score"]["new"][p][c["site_id"]], 1), abs=0.051)
    assert doc["counts"]["unchanged"] == len(load_sites(store, b)) - len(exp["added"]) - len(exp["changed"])


def test_changed_fields_and_criteria_that_moved(pair):
    store, a, b = pair
    old, new = load_sites(store, a), load_sites(store, b)
    doc = {c["site_id"]: c for c in changes(store, a, b, public=False)["changed"]}
    s0, s1, s2 = new.site_id[:3]
    assert doc[s0]["changes"]["area_ha"]["to"] == pytest.approx(round(new.area_ha[0], 2))
    assert doc[s1]["changes"]["planning_category"] == {
        "from": old.set_index("site_id").planning_category[s1],
        "to": new.planning_category[1],
    }
    fibre = [s for s in doc[s2]["score"].values()]
    assert fibre and all(s["criteria"][0]["criterion"] == "fibre" for s in fibre)
    assert doc[s2]["changes"] == {}


def test_public_diff_has_only_public_sites(pair):
    store, a, b = pair
    doc = changes(store, a, b, public=True)
    new = load_sites(store, b)
    hidden = set(new.site_id[new.public.eq(False)])
    ids = {s["site_id"] for k in ("added", "changed") for s in doc[k]}
    assert hidden and not ids & hidden
    assert "bf-new-secret" not in ids
    assert new.site_id[5] in {s["site_id"] for s in doc["removed"]}  # withdrawn from the public
    text = repr(doc)
    assert "owner_contact" not in text and "asking_price" not in text


def test_scope_by_ags_and_kreis(pair):
    store, a, b = pair
    new = load_sites(store, b)
    ags = new.loc[0, "ags"]
    doc = changes(store, a, b, ags=ags, public=False)
    assert {c["site_id"] for c in doc["changed"]} <= set(new.site_id[new.ags == ags])
    assert new.site_id[0] in {c["site_id"] for c in doc["changed"]}
    kdoc = changes(store, a, b, kreis=ags[:5], public=False)
    assert kdoc["counts"]["changed"] >= doc["counts"]["changed"]


@pytest.fixture(scope="module")
def client(pair) -> Iterator[TestClient]:
    store, _, _ = pair
    with TestClient(create_app(Settings(data=Path(store.root)))) as c:
        yield c


def test_api_defaults_to_live_against_predecessor(client, pair):
    _, a, b = pair
    r = client.get("/api/changes")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert (doc["from"], doc["to"]) == (a, b)
    assert doc["scope"]["view"] == "public"
    assert client.get("/api/changes", params={"from": a, "to": b}).json()["counts"] == doc["counts"]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"from": "20990101T000000Z"}, 404),
        ({"from": "<script>alert(1)</script>"}, 404),
        ({"to": "../../etc/passwd"}, 404),
        ({"ags": "<b>x</b>"}, 400),
        ({"kreis": "x<svg>"}, 400),
        ({"evil": "<i>"}, 400),
    ],
)
def test_api_bad_input(client, params, status):
    r = client.get("/api/changes", params=params)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/problem+json")
    for v in params.values():
        assert v not in r.text


def test_api_from_later_than_to_is_400(client, pair):
    _, a, b = pair
    r = client.get("/api/changes", params={"from": b, "to": a})
    assert r.status_code == 400
    assert "later" in r.json()["detail"]


def test_cli_diff(pair, capsys):
    store, a, b = pair
    assert main(["diff", "--data", str(store.root)]) == 0
    out = capsys.readouterr().out
    assert f"{a} -> {b}" in out and "re-keyed" in out and "+ bf-new-secret" in out
    assert main(["diff", b, a, "--data", str(store.root)]) == 1
    assert "later" in capsys.readouterr().err


def test_first_snapshot_has_no_predecessor(pair):
    store, a, _ = pair
    doc = changes(store, None, a)
    assert (doc["from"], doc["to"]) == (a, a) and doc["note"]
    assert doc["counts"]["added"] == doc["counts"]["removed"] == doc["counts"]["changed"] == 0


def test_api_snapshots_public_list(client, pair):
    store, a, b = pair
    r = client.get("/api/snapshots")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["current"] == b
    assert [s["id"] for s in doc["snapshots"]] == [b, a]  # newest first
    assert [s["live"] for s in doc["snapshots"]] == [True, False]
    for s in doc["snapshots"]:
        m = store.manifest(s["id"])
        assert set(s) == {"id", "created", "data_date", "synthetic", "live"}  # no paths, no sources
        assert (s["created"], s["synthetic"]) == (m["created"], bool(m["synthetic"]))
    assert str(store.root) not in r.text
    assert client.get("/api/snapshots", params={"x": "1"}).status_code == 400


def test_added_and_removed_carry_a_wgs84_point_on_the_site(client, pair):
    store, a, b = pair
    doc = client.get("/api/changes", params={"from": a, "to": b}).json()
    assert doc["added"] and doc["removed"]
    for key, sid in (("added", b), ("removed", a)):
        sites = load_sites(store, sid).set_index("site_id")
        for e in doc[key]:
            pt = gpd.GeoSeries([shapely.Point(e["lon"], e["lat"])], crs=4326).to_crs(25832).iloc[0]
            assert sites.geometry[e["site_id"]].buffer(0.5).contains(pt)  # on the site itself


def _export_expected(store: Store, a: str, b: str, ags: str, export_ids: set[str]) -> dict[str, str]:
    """site_id → change in the export of ``ags``, from the two snapshots with plain pandas:
    removed = old ids in ``ags`` gone from the new snapshot (not re-keyed), the rest by /api/changes."""
    old, new = load_sites(store, a), load_sites(store, b)
    old, new = old[old["public"].fillna(True).astype(bool)], new[new["public"].fillna(True).astype(bool)]
    gone = set(old.site_id) - set(new.site_id)
    doc = changes(store, a, b, public=True)
    rekeyed_old = {c["rekeyed_from"] for c in doc["changed"] if c.get("rekeyed_from")}
    out = {s: "removed" for s in gone - rekeyed_old if old.set_index("site_id").loc[s, "ags"] == ags}
    out |= {e["site_id"]: "added" for e in doc["added"] if e["site_id"] in export_ids}
    out |= {
        c["site_id"]: "rekeyed" if c.get("rekeyed_from") else "changed"
        for c in doc["changed"]
        if c["site_id"] in export_ids
    }
    return out


def test_municipal_export_carries_the_changes_since_the_predecessor(client, pair, tmp_path):
    import pyogrio

    store, a, b = pair
    old = load_sites(store, a)
    ags = str(old.loc[0, "ags"])  # the first four old sites were removed
    r = client.get(f"/api/exports/municipalities/{ags}.gpkg")
    assert r.status_code == 200, r.text
    path = tmp_path / "m.gpkg"
    path.write_bytes(r.content)
    assert "changes" in [name for name, _ in pyogrio.list_layers(path)]
    sites = pyogrio.read_dataframe(path, layer="sites")
    ch = pyogrio.read_dataframe(path, layer="changes")
    want = _export_expected(store, a, b, ags, set(sites.site_id))
    assert dict(zip(ch.site_id, ch.change, strict=True)) == want
    assert "removed" in set(ch.change)
    assert set(ch.snapshot_from) == {a} and set(ch.snapshot_to) == {b}
    # a removed site keeps its old geometry (EPSG:25832)
    gone = ch[ch.change == "removed"].iloc[0]
    ref = old.set_index("site_id").geometry[gone.site_id]
    assert abs(gone.geometry.area - ref.area) < 1e-3 * ref.area
    # a changed site names its fields, old → new
    for row in ch[ch.change == "changed"].itertuples():
        assert row.fields_changed is None or "→" in row.fields_changed
    # the CSV: a change column on the export's sites; the GeoJSON: a changes member
    csv = client.get(f"/api/exports/municipalities/{ags}.csv", params={"lang": "en"}).text
    assert "Change since the previous release" in csv.splitlines()[0]
    gj = client.get(f"/api/exports/municipalities/{ags}.geojson").json()
    assert gj["changes"]["from"] == a and gj["changes"]["to"] == b
    assert {s["site_id"]: s["change"] for s in gj["changes"]["sites"]} == want


def test_export_without_predecessor_says_so(tmp_path):
    store = Store(tmp_path)
    build(store, n_sites=60, seed=3)
    ags = str(load_sites(store, store.current_id()).ags.iloc[0])
    with TestClient(create_app(Settings(data=Path(store.root)))) as c:
        gj = c.get(f"/api/exports/municipalities/{ags}.geojson").json()
        assert gj["changes"]["note"] and gj["changes"]["sites"] == []
        r = c.get(f"/api/exports/municipalities/{ags}.gpkg")
    path = tmp_path / "m.gpkg"
    path.write_bytes(r.content)
    import pyogrio

    assert "changes" not in [name for name, _ in pyogrio.list_layers(path)]
