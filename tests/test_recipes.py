"""The recipes of CONTRIBUTING.md stay true: each one does what it says, with only the edits it lists.

- Add a criterion over a new layer: a layer module (reader, schema, demo generator,
  ``register_layer``) and one declaration (``register``), here one temporary plug-in module, reach
  the build, ``/api/profiles`` (the sliders), ``w_<name>``, the ranking's breakdown and sources,
  an OGC item's properties, the OpenAPI ``Breakdown`` schema and the GeoPackage columns. The
  registry is read at import, so a fresh interpreter imports the plug-in first.
- Add an OGC collection: ``api.geojson.ID_FIELDS`` and ``api.routes_features.TITLES``.
- Add a source format for a layer: a reader and its entries in ``layers.sources``.
- Add a UI string: the i18n parity tests named there exist (tests/js/i18n.test.mjs, run by
  tests/maps/test_js.py), and every file a recipe names exists.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from tests.conftest import DemoCache

ROOT = Path(__file__).resolve().parents[1]
NEW = "probe"

# The recipe "Add a criterion over a new layer" (CONTRIBUTING.md), as one plug-in module: the
# layer module (reader, schema, demo generator, registration) and the criterion's declaration.
# In the project these are layers/<layer>.py and one entry in geo/catalogue.py; here they are
# written to a temporary module, so the registry the test sees is its own.
PLUGIN = textwrap.dedent('''
    """A plug-in: transformer substations (points with a voltage), and a distance criterion."""

    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely

    from geo.criteria import register
    from geo.measures import Nearest
    from geo.registry import Criterion, Indicator
    from geo.values import Ramp
    from layers.io import to_work_crs
    from layers.schema import Schema, check
    from layers.sources import Format, LayerSpec, register_layer

    LAYER = "probe_substations"


    def read_csv(path, cfg):
        """x;y;voltage_kv in EPSG:25832, one substation per line."""
        df = pd.read_csv(path, sep=";")
        gdf = gpd.GeoDataFrame(
            {"substation_id": [f"s{i}" for i in range(len(df))], "voltage_kv": df["voltage_kv"]},
            geometry=gpd.points_from_xy(df["x"], df["y"]), crs=25832)
        return check(LAYER, to_work_crs(gdf, path), path)


    def demo(rng, municipalities):
        """40 substations at points inside random municipalities (SYNTHETIC)."""
        pick = rng.choice(len(municipalities), 40, replace=False)
        points = shapely.point_on_surface(municipalities.geometry.values[pick])
        return gpd.GeoDataFrame(
            {"substation_id": [f"demo-{i}" for i in range(40)],
             "voltage_kv": rng.choice([110, 220, 380], 40)},
            geometry=np.asarray(points), crs=25832)


    register_layer(LayerSpec(
        LAYER,
        formats={"probe-csv": Format(read_csv, "dl-de/by-2-0", "© Probe Netz GmbH")},
        schema=Schema("substation_id", ("substation_id", "voltage_kv"), ("Point",)),
        demo=demo,
        note="probe substations: SYNTHETIC",
    ))
    register(Criterion(
        name="{new}",
        layer=LAYER,
        group="energy",
        label_de="Rezeptprobe Umspannwerk",
        label_en="Recipe probe substation",
        description="Straight-line distance to the nearest probe substation: 1 at ≤ 3 km, 0 at ≥ 30 km.",
        indicator_specs=(
            Indicator(name="{new}_km", unit="km", decimals=3, label_de="Umspannwerk (km)",
                      label_en="Substation (km)", shp="probe_km"),
            Indicator(name="{new}_voltage_kv", type="int", unit="kV", label_de="Spannung (kV)",
                      label_en="Voltage (kV)", shp="probe_kv"),
        ),
        function=Ramp(full=3, zero=30),
        measure=Nearest(layer=LAYER, attribute="voltage_kv"),
        weights={"balanced": 1.0, "hydrogen": 2.0},
    ))
''').replace("{new}", NEW)

# Runs in a fresh interpreter: import the plug-in, build a small demo, ask the app.
CRITERION_SCRIPT = textwrap.dedent("""
    import json, sys, warnings
    from pathlib import Path

    sys.path.insert(0, sys.argv[2])
    import recipe_plugin  # noqa: F401 - registers the layer and the criterion

    import geopandas as gpd
    import pyogrio
    import shapely

    from api.main import create_app
    from api.settings import Settings
    from layers.build import build
    from layers.store import Store

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    data = Path(sys.argv[1])
    build(Store(data), n_sites=300, seed=1)
    snap = Store(data).load()
    sites, subs = snap.layers["sites"], snap.layers["probe_substations"]
    # independent: the distance from each site polygon to the nearest substation, with geopandas
    nearest = gpd.sjoin_nearest(sites[["site_id", "geometry"]], subs, distance_col="d")
    nearest = nearest.drop_duplicates("site_id").set_index("site_id")
    out = {{"expected_km": (nearest["d"] / 1000).to_dict(),
           "expected_kv": nearest["voltage_kv"].astype(int).to_dict(),
           "manifest": snap.manifest["layers"]["probe_substations"]}}
    with TestClient(create_app(Settings(data=data))) as c:
        out["profiles"] = c.get("/api/profiles").json()
        r = c.get("/api/ranking", params={{"profile": "balanced", "limit": 20, "w_{new}": 3}})
        out["ranking_status"] = r.status_code
        out["ranking"] = r.json()
        item = out["ranking"]["items"][0]
        out["site"] = c.get(f"/api/sites/{{item['site_id']}}/score").json()
        out["item"] = c.get(f"/api/collections/sites/items/{{item['site_id']}}").json()
        out["openapi"] = c.get("/api/openapi.json").json()["components"]["schemas"]["Breakdown"]
        out["table_criteria"] = c.get("/api/sites/table").json().get("criteria")
        gpkg = c.get(f"/api/exports/municipalities/{{item['ags']}}.gpkg")
        out["gpkg_status"] = gpkg.status_code
        path = data / "export.gpkg"
        path.write_bytes(gpkg.content)
        out["gpkg_columns"] = list(pyogrio.read_info(path, layer="sites")["fields"])
    print(json.dumps(out, default=str))
""").format(new=NEW)


@pytest.fixture(scope="module")
def with_new_criterion(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data = tmp_path_factory.mktemp("recipe-criterion")
    plugin_dir = tmp_path_factory.mktemp("recipe-plugin")
    (plugin_dir / "recipe_plugin.py").write_text(PLUGIN, encoding="utf-8")
    p = subprocess.run(
        [sys.executable, "-c", CRITERION_SCRIPT, str(data), str(plugin_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_new_criterion_is_listed_in_profiles_for_the_sliders(with_new_criterion: dict[str, Any]) -> None:
    doc = with_new_criterion["profiles"]
    crit = next(c for c in doc["criteria"] if c["name"] == NEW)
    assert crit["label_de"] == "Rezeptprobe Umspannwerk" and crit["label_en"] == "Recipe probe substation"
    weights = {p["name"]: p["weights"] for p in doc["profiles"]}
    assert (
        weights["balanced"][NEW] == 1.0 and weights["hydrogen"][NEW] == 2.0 and weights["digital"][NEW] == 0
    )
    # the web map builds one slider per criterion of the site table, labelled from /api/profiles
    assert NEW in with_new_criterion["table_criteria"]


def test_new_layer_is_built_from_its_demo_generator_and_labelled_synthetic(
    with_new_criterion: dict[str, Any],
) -> None:
    meta = with_new_criterion["manifest"]
    assert meta["synthetic"] is True and "SYNTHETIC" in meta["note"] and meta["count"] == 40


def test_new_criterion_is_scored_in_the_ranking(with_new_criterion: dict[str, Any]) -> None:
    assert with_new_criterion["ranking_status"] == 200
    ranking = with_new_criterion["ranking"]
    assert ranking["weights"][NEW] == 3.0  # the w_<name> parameter exists without an edit
    assert NEW in ranking["sources"] and ranking["sources"][NEW]["layer"] == "probe_substations"
    assert "nearest feature" in ranking["sources"][NEW]["resolution"]
    expected_km, expected_kv = with_new_criterion["expected_km"], with_new_criterion["expected_kv"]
    for item in ranking["items"]:
        entry = item["breakdown"][NEW]
        km = expected_km[item["site_id"]]
        assert entry["indicator"][f"{NEW}_km"] == pytest.approx(km, abs=1e-3)
        assert entry["indicator"][f"{NEW}_voltage_kv"] == expected_kv[item["site_id"]]
        assert entry["v"] == pytest.approx(min(1.0, max(0.0, (30 - km) / 27)), abs=1e-4)
        assert entry["weight"] == 3.0
        points = [e["points"] or 0 for e in item["breakdown"].values()]
        assert sum(points) == pytest.approx(item["score"], abs=0.01)
    site = with_new_criterion["site"]
    assert site["breakdown"][NEW]["source"]["layer"] == "probe_substations"


def test_new_criterion_is_in_the_item_properties_and_openapi(with_new_criterion: dict[str, Any]) -> None:
    props = with_new_criterion["item"]["properties"]
    assert props[f"{NEW}_km"] == pytest.approx(with_new_criterion["expected_km"][props["site_id"]], abs=1e-3)
    schema = with_new_criterion["openapi"]["properties"]
    assert NEW in schema and schema[NEW].get("description") == "Recipe probe substation"


def test_new_criterion_is_in_the_geopackage(with_new_criterion: dict[str, Any]) -> None:
    assert with_new_criterion["gpkg_status"] == 200
    columns = set(with_new_criterion["gpkg_columns"])
    assert {f"{NEW}_km", f"{NEW}_voltage_kv", f"v_{NEW}", f"pts_{NEW}"} <= columns


# -- add an OGC collection -------------------------------------------------------------------
# Runs in a fresh interpreter: the collection's two registry entries are set (or removed) before
# the app is built; every other part of the OGC API follows them.
COLLECTION_SCRIPT = textwrap.dedent("""
    import json, sys, warnings
    from pathlib import Path

    import api.geojson
    import api.routes_features

    cid, mode = sys.argv[2], sys.argv[3]
    if mode == "add":
        api.geojson.ID_FIELDS[cid] = api.geojson.ID_FIELDS.pop(cid, None) or "airport_id"
        api.routes_features.TITLES[cid] = ("Recipe collection", "Added by the recipe test.")
    else:
        api.geojson.ID_FIELDS.pop(cid, None)
        api.routes_features.TITLES.pop(cid, None)

    from api.main import create_app
    from api.settings import Settings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    out = {}
    with TestClient(create_app(Settings(data=Path(sys.argv[1])))) as c:
        colls = c.get("/api/collections").json()["collections"]
        out["collections"] = {x["id"]: x.get("title") for x in colls}
        r = c.get(f"/api/collections/{cid}")
        out["collection_status"] = r.status_code
        r = c.get(f"/api/collections/{cid}/items", params={"limit": 3})
        out["items_status"] = r.status_code
        out["items"] = r.json() if r.status_code == 200 else None
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory: pytest.TempPathFactory, demo_cache: DemoCache) -> Path:
    return demo_cache.copy(tmp_path_factory.mktemp("recipe-demo"), n_sites=300, seed=1)


def _collections(data: Path, cid: str, mode: str) -> dict[str, Any]:
    p = subprocess.run(
        [sys.executable, "-c", COLLECTION_SCRIPT, str(data), cid, mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_a_snapshot_layer_becomes_a_collection_with_two_entries(demo_data: Path) -> None:
    """``airports`` is a snapshot layer: without its two entries there is no collection; with
    them (here with another title) it is listed, described and served as GeoJSON."""
    without = _collections(demo_data, "airports", "remove")
    assert "airports" not in without["collections"]
    assert without["collection_status"] == 404 and without["items_status"] == 404
    assert "sites" in without["collections"]
    added = _collections(demo_data, "airports", "add")
    assert added["collections"]["airports"] == "Recipe collection"
    assert added["collection_status"] == 200 and added["items_status"] == 200
    features = added["items"]["features"]
    assert features and all(f["id"] == f["properties"]["airport_id"] for f in features)


# -- add a source format for a layer ------------------------------------------------------------
def read_recipe_csv(path: Path, cfg: dict[str, Any]) -> gpd.GeoDataFrame:
    """A new brownfield format: a CSV with an id, a name and a WKT polygon in ``crs``."""
    from layers.io import to_work_crs
    from layers.schema import check

    df = pd.read_csv(path, dtype=str)
    gdf = gpd.GeoDataFrame(
        {
            "area_id": df["id"],
            "name": df["name"],
            "ags": None,
            "former_use": None,
            "contamination": "unknown",
            "availability": "unknown",
        },
        geometry=shapely.from_wkt(df["wkt"]),
        crs=cfg["crs"],
    )
    return check("brownfields", to_work_crs(gdf), path)


def test_a_new_source_format_needs_a_reader_and_its_registration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from layers import sources

    monkeypatch.setitem(
        sources.FORMATS["brownfields"],
        "recipe-csv",
        (read_recipe_csv, {"licence": "dl-de/by-2-0", "attribution": "Recipe town"}),
    )
    monkeypatch.setitem(sources.FORMAT_OPTIONS, "recipe-csv", ("crs",))
    monkeypatch.setitem(sources.OPTION_TYPES, "crs", str)
    src = tmp_path / "src"
    shutil.copytree(ROOT / "tests" / "fixtures", src, ignore=shutil.ignore_patterns("*.py"))
    (src / "brachen.csv").write_text(
        "id,name,wkt\n"
        'B1,Alte Zeche,"POLYGON ((7.01 51.45, 7.02 51.45, 7.02 51.46, 7.01 51.46, 7.01 51.45))"\n',
        encoding="utf-8",
    )
    toml = (src / "sources.toml").read_text(encoding="utf-8")
    start = toml.index("[brownfields]")
    end = toml.index("\n[", toml.index("[brownfields.values.availability]") + 1)
    toml = (
        toml[:start] + '[brownfields]\npath = "brachen.csv"\nformat = "recipe-csv"\n'
        'crs = "EPSG:4326"\n' + toml[end:]
    )
    (src / "sources.toml").write_text(toml, encoding="utf-8")

    layer = sources.load_sources(src / "sources.toml")["brownfields"]
    assert (layer.format, layer.licence, layer.attribution) == ("recipe-csv", "dl-de/by-2-0", "Recipe town")
    gdf = layer.read()
    assert list(gdf["area_id"]) == ["B1"] and gdf.crs.to_epsg() == 25832
    # an option the format does not declare is refused, as for every format
    (src / "sources.toml").write_text(
        toml.replace('crs = "EPSG:4326"', 'srs = "EPSG:4326"'), encoding="utf-8"
    )
    with pytest.raises(Exception, match="unknown option 'srs'"):
        sources.load_sources(src / "sources.toml")


# -- add a UI string, and every path a recipe names ---------------------------------------------
def test_every_path_named_in_contributing_exists() -> None:
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:geo|layers|api|maps|tests|bench)/[\w./{},-]+)`", text))
    assert "tests/js/i18n.test.mjs" in named and "tests/maps/test_js.py" in named
    missing = []
    for path in sorted(named):
        m = re.fullmatch(r"(.*)\{(.*)\}(.*)", path)  # maps/static/js/i18n/{de,en}.json
        for p in [m[1] + x + m[3] for x in m[2].split(",")] if m else [path]:
            if not (ROOT / p.rstrip("/")).exists():
                missing.append(p)
    assert not missing, f"CONTRIBUTING.md names files that do not exist: {missing}"


def test_ui_strings_have_the_same_keys_in_both_languages() -> None:
    """The short form of tests/js/i18n.test.mjs (which also checks placeholders)."""
    folder = ROOT / "maps" / "static" / "js" / "i18n"
    de = json.loads((folder / "de.json").read_text(encoding="utf-8"))
    en = json.loads((folder / "en.json").read_text(encoding="utf-8"))
    assert set(de) == set(en)
