"""The recipes of CONTRIBUTING.md stay true: each one does what it says, with only the edits it lists.

- Add a criterion: one entry in ``geo.criteria``'s registry (``CRITERIA``, ``CRITERIA_ORDER``,
  weights in ``PROFILES``) reaches ``/api/profiles``, the ranking's breakdown and sources, the
  ``w_<name>`` parameter, the OpenAPI ``Breakdown`` schema and the exports. The registry is read
  at import, so a fresh interpreter patches it before anything else imports it.
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

ROOT = Path(__file__).resolve().parents[1]
NEW = "recipe_probe"

# Runs in a fresh interpreter: register a criterion, build a small demo, ask the app.
CRITERION_SCRIPT = textwrap.dedent('''
    import json, sys, warnings
    from pathlib import Path
    from types import MappingProxyType

    import numpy as np

    import geo.criteria as gc  # the registry, patched before any other module reads it

    class Probe(gc.Criterion):
        """A linear function of an existing indicator: 1 - fibre share."""

        def value(self, ind, p):
            x = np.asarray(ind["fibre_share"], dtype=float)
            return np.clip(1.0 - x, 0.0, 1.0)

    probe = Probe(name="{new}", layer="fibre", indicators=("fibre_share",),
                  label_en="Recipe probe", label_de="Rezeptprobe",
                  description="1 minus the fibre share (test of the recipe)")
    gc.CRITERIA = MappingProxyType({{**gc.CRITERIA, "{new}": probe}})
    gc.CRITERIA_ORDER = (*gc.CRITERIA_ORDER, "{new}")
    gc.PROFILES = MappingProxyType({{
        name: gc.Profile(**{{**p.model_dump(), "weights": {{**p.weights, "{new}": 2.0}}}})
        for name, p in gc.PROFILES.items()}})

    from api.main import create_app
    from api.settings import Settings
    from layers.build import build
    from layers.store import Store

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    data = Path(sys.argv[1])
    build(Store(data), n_sites=300, seed=1)
    out = {{}}
    with TestClient(create_app(Settings(data=data))) as c:
        out["profiles"] = c.get("/api/profiles").json()
        r = c.get("/api/ranking", params={{"profile": "balanced", "limit": 5, "w_{new}": 3}})
        out["ranking_status"] = r.status_code
        out["ranking"] = r.json()
        item = out["ranking"]["items"][0]
        out["site"] = c.get(f"/api/sites/{{item['site_id']}}/score").json()
        out["openapi"] = c.get("/api/openapi.json").json()["components"]["schemas"]["Breakdown"]
        ags = item["ags"]
        out["export"] = c.get(f"/api/exports/municipalities/{{ags}}.geojson").json()
    print(json.dumps(out))
''').format(new=NEW)


@pytest.fixture(scope="module")
def with_new_criterion(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data = tmp_path_factory.mktemp("recipe-criterion")
    p = subprocess.run(
        [sys.executable, "-c", CRITERION_SCRIPT, str(data)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_new_criterion_is_listed_in_profiles(with_new_criterion: dict[str, Any]) -> None:
    doc = with_new_criterion["profiles"]
    names = json.dumps(doc)
    assert f'"{NEW}"' in names
    assert "Rezeptprobe" in names and "Recipe probe" in names


def test_new_criterion_is_scored_in_the_ranking(with_new_criterion: dict[str, Any]) -> None:
    assert with_new_criterion["ranking_status"] == 200
    ranking = with_new_criterion["ranking"]
    assert ranking["weights"][NEW] == 3.0  # the w_<name> parameter exists without an edit
    assert NEW in ranking["sources"] and ranking["sources"][NEW]["layer"] == "fibre"
    for item in ranking["items"]:
        entry = item["breakdown"][NEW]
        share = entry["indicator"]["fibre_share"]
        if share is None:
            assert entry["missing"] and NEW in item["missing"]
        else:
            assert entry["v"] == pytest.approx(max(0.0, min(1.0, 1 - share)), abs=1e-4)
            assert entry["weight"] == 3.0
        points = [e["points"] or 0 for e in item["breakdown"].values()]
        assert sum(points) == pytest.approx(item["score"], abs=0.01)
    site = with_new_criterion["site"]
    assert site["breakdown"][NEW]["source"]["layer"] == "fibre"


def test_new_criterion_is_in_the_openapi_breakdown(with_new_criterion: dict[str, Any]) -> None:
    props = with_new_criterion["openapi"]["properties"]
    assert NEW in props and props[NEW].get("description") == "Recipe probe"


def test_new_criterion_is_in_the_export(with_new_criterion: dict[str, Any]) -> None:
    fc = with_new_criterion["export"]
    assert fc["type"] == "FeatureCollection" and fc["features"]
    props = fc["features"][0]["properties"]
    if any(k.startswith("v_") for k in props):  # flat export columns v_<criterion>, pts_<...>
        assert f"v_{NEW}" in props and f"pts_{NEW}" in props
    else:  # nested breakdown
        assert NEW in props["breakdown"]


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
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from layers.build import build
    from layers.store import Store

    root = tmp_path_factory.mktemp("recipe-demo")
    build(Store(root), n_sites=300, seed=1)
    return root


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
