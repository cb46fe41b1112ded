"""The `nrw-sites` command line: score (stored sites and files), layers, snapshots, serve."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from api import views
from api.cli import main
from geo.crs import WORK_CRS
from layers import servecache
from layers.build import build
from layers.store import Store


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A 300-site demo snapshot."""
    root = tmp_path_factory.mktemp("cli") / "data"
    build(Store(root), n_sites=300, seed=5)
    return root


def run(capsys, *args):
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_build_prints_id_and_counts(tmp_path, capsys):
    code, out, _ = run(capsys, "build", "--demo", "--sites", "120", "--data", str(tmp_path))
    assert code == 0
    assert out.startswith("snapshot ") and "SYNTHETIC demo data" in out
    assert "sites" in out and "124" in out  # 120 + 4 LEP sites


def test_build_prepares_the_serving_cache_before_the_snapshot_goes_live(tmp_path, capsys, monkeypatch):
    """``nrw-sites build`` writes the serving cache (api/views.py ``prepare``) before CURRENT
    names the snapshot, so no serving worker has to write it while the others wait."""
    seen = {}
    real = views.prepare

    def watching(store: Store, sid: str) -> None:
        seen["live while preparing"] = store.current_id()
        real(store, sid)

    monkeypatch.setattr(views, "prepare", watching)
    code, out, err = run(capsys, "build", "--demo", "--sites", "120", "--data", str(tmp_path))
    assert code == 0, err
    sid = Store(tmp_path).current_id()
    assert seen == {"live while preparing": None}  # not yet live
    assert (tmp_path / "snapshots" / sid / f"{servecache.PREFIX}{servecache.code_key()}").is_dir()
    assert f"prepared snapshot {sid} for serving" in err


def test_a_build_whose_preparing_fails_still_goes_live_and_says_so(tmp_path):
    said: list[str] = []

    def failing(store: Store, sid: str) -> None:
        raise OSError(28, "No space left on device")

    manifest = build(Store(tmp_path), n_sites=30, seed=1, progress=said.append, prepare=failing)
    assert Store(tmp_path).current_id() == manifest["id"]
    assert any("not prepared for serving (OSError" in m and "No space left" in m for m in said)


def test_score_json_has_the_contract_fields_and_is_ranked(data, capsys):
    code, out, _ = run(capsys, "score", "--data", str(data), "--format", "json", "--top", "15")
    assert code == 0
    items = json.loads(out)
    assert len(items) == 15
    for key in (
        "site_id",
        "name",
        "ags",
        "kind",
        "area_ha",
        "h2_distance_km",
        "fibre_share",
        "mobile_5g_share",
        "funding_region",
        "planning_category",
        "is_brownfield",
        "score",
        "rank",
        "breakdown",
    ):
        assert key in items[0]
    assert [i["rank"] for i in items] == list(range(1, 16))
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True)
    # the score is the weighted mean of v over the criteria with data, computed here by hand
    b = items[0]["breakdown"]
    avail = [c for c in b.values() if not c["missing"]]
    expected = 100 * sum(c["weight"] * c["v"] for c in avail) / sum(c["weight"] for c in avail)
    assert items[0]["score"] == pytest.approx(expected, abs=0.01)


def test_score_weight_override_and_min_area(data, capsys):
    code, out, _ = run(
        capsys,
        "score",
        "--data",
        str(data),
        "--format",
        "json",
        "--top",
        "500",
        "--weight",
        "h2=5",
        "--weight",
        "fibre=0",
        "--min-area-ha",
        "20",
    )
    assert code == 0
    items = json.loads(out)
    assert all(i["area_ha"] >= 20 for i in items)
    assert items[0]["breakdown"]["h2"]["weight"] == 5.0
    assert items[0]["breakdown"]["fibre"]["weight"] == 0.0


@pytest.mark.parametrize(
    "weight, message",
    [
        ("speed=1", "unknown criterion 'speed'"),
        ("h2=-1", "weight of h2 must be finite and ≥ 0"),
        ("h2=nan", "weight of h2 must be finite and ≥ 0"),
        ("h2", "--weight takes CRITERION=WEIGHT"),
    ],
)
def test_score_rejects_bad_weights(data, capsys, weight, message):
    code, _, err = run(capsys, "score", "--data", str(data), "--weight", weight)
    assert code == 1
    assert message in err


def test_score_unknown_profile(data, capsys):
    code, _, err = run(capsys, "score", "--data", str(data), "--profile", "cheap")
    assert code == 1 and "unknown profile 'cheap'" in err and "balanced" in err


def test_score_sites_from_a_file_gives_percentiles(data, tmp_path, capsys):
    snap = Store(data).load()
    stored = snap.layers["sites"]
    # two polygons in WGS84 GeoJSON: copies of two stored sites, so their indicators are known
    pick = stored.iloc[[0, 5]]
    gpd.GeoDataFrame({"name": ["copy A", "copy B"]}, geometry=pick.geometry.values, crs=WORK_CRS).to_crs(
        4326
    ).to_file(tmp_path / "mine.geojson")
    code, out, _ = run(
        capsys, "score", "--data", str(data), "--sites", str(tmp_path / "mine.geojson"), "--format", "json"
    )
    assert code == 0
    items = json.loads(out)
    assert {i["name"] for i in items} == {"copy A", "copy B"}
    for item in items:
        assert 0 <= item["percentile"] <= 100
        assert item["ags"] in set(stored["ags"])
    by_name = {i["name"]: i for i in items}
    a = pick.iloc[0]
    assert by_name["copy A"]["area_ha"] == pytest.approx(a["area_ha"], rel=1e-6)
    assert by_name["copy A"]["fibre_share"] == pytest.approx(a["fibre_share"], abs=1e-6)
    assert by_name["copy A"]["h2_distance_km"] == pytest.approx(a["h2_distance_km"], abs=1e-3)


def test_score_a_file_without_crs_is_refused(data, tmp_path, capsys):
    gdf = gpd.GeoDataFrame(geometry=[shapely.box(380000, 5720000, 380500, 5720500)])
    gdf.to_file(tmp_path / "nocrs.shp")
    (tmp_path / "nocrs.prj").unlink(missing_ok=True)
    code, _, err = run(capsys, "score", "--data", str(data), "--sites", str(tmp_path / "nocrs.shp"))
    assert code == 1 and "no coordinate reference system" in err


def test_score_geojson_output_is_wgs84(data, capsys):
    code, out, _ = run(capsys, "score", "--data", str(data), "--format", "geojson", "--top", "3")
    assert code == 0
    fc = json.loads(out)
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 3
    assert fc["synthetic"] is True
    xy = np.array(fc["features"][0]["geometry"]["coordinates"][0])
    assert (5.8 < xy[:, 0]).all() and (xy[:, 0] < 9.5).all() and (50.3 < xy[:, 1]).all()


def test_table_output_warns_synthetic(data, capsys):
    code, out, _ = run(capsys, "score", "--data", str(data), "--top", "3")
    assert code == 0 and out.startswith("SYNTHETIC demo data")


def test_layers_and_snapshots(data, capsys):
    code, out, _ = run(capsys, "layers", "--data", str(data))
    assert code == 0 and "SYNTHETIC" in out and "CC0-1.0" in out
    code, out, _ = run(capsys, "snapshots", "--data", str(data))
    assert code == 0 and out.startswith("* ")


def test_commands_on_an_empty_data_dir_say_what_to_do(tmp_path, capsys):
    code, _, err = run(capsys, "layers", "--data", str(tmp_path))
    assert code == 1 and "nrw-sites build --demo" in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_serve_builds_the_demo_first_then_serves_healthz(tmp_path):
    port = _free_port()
    env = {**os.environ, "NRW_SITES_DEMO_SITES": "200"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--data", str(tmp_path), "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 120
        body = None
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = json.loads(r.read())
                    break
            except OSError:
                time.sleep(0.5)
        assert body is not None, "server did not answer /healthz"
        assert body["status"] == "ok" and body["synthetic"] is True
        assert Store(tmp_path).current_id() == body["snapshot"]
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_a_scored_copy_of_a_stored_site_gets_the_stored_score(data, tmp_path, capsys):
    stored = Store(data).load().layers["sites"]
    pick = stored[stored["kind"] == "regional_plan"].iloc[:3]
    gpd.GeoDataFrame({"name": pick["site_id"].tolist()}, geometry=pick.geometry.values, crs=WORK_CRS).to_file(
        tmp_path / "copies.gpkg"
    )
    code, out, _ = run(
        capsys, "score", "--data", str(data), "--sites", str(tmp_path / "copies.gpkg"), "--format", "json"
    )
    assert code == 0
    code2, ranked, _ = run(capsys, "score", "--data", str(data), "--format", "json", "--top", "400")
    by_id = {i["site_id"]: i for i in json.loads(ranked)}
    for item in json.loads(out):
        original = by_id[item["name"]]
        assert item["planning_category"] == original["planning_category"]
        assert item["missing"] == original["missing"]
        assert item["score"] == pytest.approx(original["score"], abs=1e-6)


def test_score_sites_geojson_output_carries_the_input_geometries(data, tmp_path, capsys):
    poly = shapely.box(380_000, 5_720_000, 380_400, 5_720_500)
    gpd.GeoDataFrame({"name": ["mine"]}, geometry=[poly], crs=WORK_CRS).to_file(tmp_path / "mine.gpkg")
    code, out, _ = run(
        capsys, "score", "--data", str(data), "--sites", str(tmp_path / "mine.gpkg"), "--format", "geojson"
    )
    assert code == 0
    fc = json.loads(out)
    [feature] = fc["features"]
    assert feature["properties"]["name"] == "mine" and feature["properties"]["rank"] == 1
    back = gpd.GeoSeries([shapely.geometry.shape(feature["geometry"])], crs=4326).to_crs(WORK_CRS)
    assert back.area.iloc[0] == pytest.approx(poly.area, rel=1e-5)


@pytest.mark.parametrize(
    "geom, message",
    [
        (
            shapely.Polygon([(380000, 5720000), (380500, 5720500), (380500, 5720000), (380000, 5720500)]),
            "feature 1: invalid geometry: Self-intersection at",
        ),
        (
            shapely.box(800_000, 5_800_000, 800_500, 5_800_500),
            "feature 1 lies outside North Rhine-Westphalia",
        ),
        (shapely.Point(380000, 5720000), "feature 1: only Polygon and MultiPolygon can be scored"),
    ],
)
def test_score_sites_checks_every_feature_first(data, tmp_path, capsys, geom, message):
    gpd.GeoDataFrame({"name": ["x"]}, geometry=[geom], crs=WORK_CRS).to_file(tmp_path / "x.gpkg")
    code, _, err = run(capsys, "score", "--data", str(data), "--sites", str(tmp_path / "x.gpkg"))
    assert code == 1 and message in err


def test_score_sites_keeps_the_callers_ids_and_properties(data, tmp_path, capsys):
    polys = [shapely.box(380_000 + k * 1000, 5_720_000, 380_400 + k * 1000, 5_720_500) for k in range(3)]
    gpd.GeoDataFrame(
        {"site_id": ["mine-1", None, "mine-3"], "owner": ["Stadt", "Land", None], "parcels": [3, 5, 7]},
        geometry=polys,
        crs=WORK_CRS,
    ).to_file(tmp_path / "mine.gpkg")
    code, out, _ = run(
        capsys, "score", "--data", str(data), "--sites", str(tmp_path / "mine.gpkg"), "--format", "json"
    )
    assert code == 0
    items = {i["parcels"]: i for i in json.loads(out)}
    assert [items[k]["site_id"] for k in (3, 5, 7)] == ["mine-1", "adhoc-2", "mine-3"]
    assert [items[k]["owner"] for k in (3, 5, 7)] == ["Stadt", "Land", None]
    assert all(items[k]["score"] is not None for k in (3, 5, 7))


@pytest.mark.parametrize(
    "weights, ties",
    [
        ({"area": 1.0}, True),  # scores 100 · v_area only: sites tie at v = 1, broken by site_id
        ({"area": 2.0, "h2": 3.0, "fibre": 1.0, "mobile_5g": 1.0, "funding": 1.0}, False),
    ],
)
def test_score_sites_and_api_ranking_give_the_same_order_ties_included(data, tmp_path, capsys, weights, ties):
    """The same sites, weights and filters: ``score --sites`` orders a file like /api/ranking
    orders the stored sites (score descending, ties by site_id, the same filters by the same mask),
    whatever the file's order.
    """
    import warnings

    from api.main import create_app
    from api.settings import Settings
    from geo.access import public_mask

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    stored = Store(data).load().layers["sites"]
    # stored sites whose kind plays no part (a file's polygons are "adhoc", not brownfields)
    # written in EPSG:25832 (exact geometries) in reverse site_id order: file order never wins
    # (public ones: an anonymous /api/ranking sees only those)
    pick = stored[(stored["kind"] != "brownfield") & public_mask(stored)].sort_values(
        "site_id", ascending=False
    )
    gpd.GeoDataFrame(
        {"site_id": pick["site_id"].tolist()}, geometry=pick.geometry.values, crs=WORK_CRS
    ).to_file(tmp_path / "same.gpkg")
    all_weights = {c: weights.get(c, 0.0) for c in stored_criteria()}
    kreise = sorted(set(pick["kreis_ags"].dropna()))[::2]
    filters = {
        "min_area_ha": 2.0,
        "max_area_ha": float(pick["area_ha"].quantile(0.9)),
        "max_h2_km": 40.0,
        "min_fibre": 0.05,
        "min_5g": 0.05,
        "kreis": ",".join(kreise),
        "contamination": "none",
    }
    options = [x for c, w in all_weights.items() for x in ("--weight", f"{c}={w}")]
    options += [x for k, v in filters.items() for x in (f"--{k.replace('_', '-')}", str(v))]
    code, out, err = run(
        capsys, "score", "--data", str(data), "--sites", str(tmp_path / "same.gpkg"), "--format", "json",
        "--top", "10000", *options,
    )  # fmt: skip
    assert code == 0, err
    cli = json.loads(out)
    with TestClient(create_app(Settings(data=data))) as client:
        params = (
            {f"w_{c}": w for c, w in all_weights.items()} | filters | {"limit": 10000, "breakdown": "false"}
        )
        body = client.get("/api/ranking", params=params).json()
    in_file = set(pick["site_id"])
    api = [i for i in body["items"] if i["site_id"] in in_file]
    assert len(cli) > 20 and len(api) < len(pick)  # the filters excluded some, kept enough
    assert [i["site_id"] for i in cli] == [i["site_id"] for i in api]
    assert [i["score"] for i in cli] == pytest.approx([i["score"] for i in api], abs=1e-9)
    assert [i["rank"] for i in cli] == list(range(1, len(cli) + 1))
    scores = [i["score"] for i in cli]
    if ties:
        assert len(set(scores)) < len(scores), "no tie among the sites: the tie-break is not tested"


def stored_criteria() -> tuple[str, ...]:
    from geo.criteria import CRITERIA_ORDER

    return tuple(CRITERIA_ORDER)


def test_score_takes_every_filter_of_the_registry_and_refuses_bad_values(data, capsys):
    from api.cli import parser
    from geo.filters import FILTERS

    argv = ["score"]
    for f in FILTERS.values():  # one option per filter, named as the API's query parameter
        argv += [f"--{f.name.replace('_', '-')}", "x,y" if f.is_list else "2027-06" if f.month else "0.5"]
    args = parser().parse_args(argv)
    assert {name: getattr(args, name) for name in FILTERS} == {
        f.name: ["x,y"] if f.is_list else "2027-06" if f.month else 0.5 for f in FILTERS.values()
    }
    code, _, err = run(capsys, "score", "--data", str(data), "--kind", "castle")
    assert code == 1 and "kind takes comma-separated values from: regional_plan" in err
    code, _, err = run(capsys, "score", "--data", str(data), "--min-5g", "1.5")
    assert code == 1 and "min_5g is a share between 0 and 1" in err
    code, _, err = run(capsys, "score", "--data", str(data), "--available-by", "06/2027")
    assert code == 1 and "available_by: a month is written YYYY-MM" in err
    code, _, err = run(capsys, "score", "--data", str(data), "--h2-year", "2100")
    assert code == 1 and "h2_year must be between 2025 and 2050" in err
    code, out, _ = run(
        capsys, "score", "--data", str(data), "--format", "json", "--kind", "lep,brownfield", "--top", "400"
    )
    assert code == 0 and {i["kind"] for i in json.loads(out)} <= {"lep", "brownfield"}


def test_serve_writes_the_bytecode_its_workers_import(tmp_path) -> None:
    """``serve`` compiles the packages' bytecode where it is missing or stale (an editable
    install has none; under PYTHONDONTWRITEBYTECODE each worker compiled the source again), and
    a tree it cannot write is no error."""
    import importlib.util

    from api.cli import PACKAGES, compile_bytecode

    for pkg in PACKAGES:
        (tmp_path / pkg / "sub").mkdir(parents=True)
        (tmp_path / pkg / "__init__.py").write_text("X = 1\n")
        (tmp_path / pkg / "sub" / "m.py").write_text("Y = 2\n")
    compile_bytecode(tmp_path)
    pyc = Path(importlib.util.cache_from_source(str(tmp_path / "geo" / "sub" / "m.py")))
    assert pyc.is_file()
    for p in PACKAGES:
        assert Path(importlib.util.cache_from_source(str(tmp_path / p / "__init__.py"))).is_file(), p
    # a changed module is compiled again (its bytecode records the source's size and mtime)
    src = tmp_path / "geo" / "sub" / "m.py"
    src.write_text("Y = 'a longer module than before'\n")
    os.utime(src, (time.time() + 10, time.time() + 10))
    compile_bytecode(tmp_path)
    assert int.from_bytes(pyc.read_bytes()[12:16], "little") == src.stat().st_size
    compile_bytecode(tmp_path / "missing")  # nothing there: no error
