"""Land constraints (issue 21 §4): Natura 2000 and floodplain readers, bad input, the demo layers,
CoveredShare over them and ``geo.constraints.covering_names`` against geopandas overlay.

``layers.constraints`` registers the two plug-in layers at import; it is imported for this module
only (``tests/layers/_plugins.py``), and the readers and demo generators are called directly.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.constraints import covering_names
from geo.measures import CoveredShare
from layers import demo_constraints
from layers.errors import SourceError
from layers.municipalities import boundaries
from layers.schema import check
from layers.sources import FORMATS, PLUGIN_LAYERS, load_sources
from tests.layers._plugins import plugin

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
NATURA = FIXTURES / "natura2000" / "Natura2000_sample.shp"
UESG = FIXTURES / "floodplains" / "uesg_sample.shp"
UESG_MAPPING = {
    "columns": {"area_id": "UESG_ID", "name": "GEWAESSER", "status": "VERFAHREN"},
    "values": {"status": {"vorl. gesichert": "vorläufig gesichert"}},
}


constraints: ModuleType  # layers.constraints, imported by the fixture below


@pytest.fixture(scope="module", autouse=True)
def registered() -> Iterator[None]:
    global constraints
    with plugin("layers.constraints") as (constraints,):
        yield


@pytest.fixture(scope="module")
def municipalities() -> gpd.GeoDataFrame:
    return boundaries()


@pytest.fixture(scope="module")
def nrw(municipalities: gpd.GeoDataFrame) -> shapely.Geometry:
    return shapely.union_all(municipalities.geometry.values)


@pytest.fixture(scope="module")
def natura(municipalities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return demo_constraints.demo_natura2000(np.random.default_rng(5), municipalities)


@pytest.fixture(scope="module")
def floods(municipalities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return demo_constraints.demo_floodplains(np.random.default_rng(5), municipalities)


@pytest.fixture(scope="module")
def sites(municipalities: gpd.GeoDataFrame) -> np.ndarray:
    """1,500 candidate-like sites (5–60 ha rectangles) at random places in NRW."""
    rng = np.random.default_rng(11)
    x0, y0, x1, y1 = municipalities.total_bounds
    nrw = shapely.union_all(municipalities.geometry.values)
    x, y = rng.uniform(x0, x1, 4000), rng.uniform(y0, y1, 4000)
    keep = shapely.contains_xy(nrw, x, y)
    x, y = x[keep][:1500], y[keep][:1500]
    w = np.sqrt(rng.uniform(5e4, 6e5, len(x)))
    h = w * rng.uniform(0.5, 2.0, len(x))
    return shapely.box(x - w / 2, y - h / 2, x + w / 2, y + h / 2)


# ---------------------------------------------------------------------------------------------
# registration and readers


def test_layers_are_registered_with_their_formats():
    assert set(FORMATS["natura2000"]) == {"natura2000", "mapped"}
    assert set(FORMATS["floodplains"]) == {"mapped"}
    for name in ("natura2000", "floodplains"):
        assert "SYNTHETIC" in PLUGIN_LAYERS[name].note and PLUGIN_LAYERS[name].demo is not None


def test_natura2000_reads_the_eea_shapefile_and_keeps_nrw():
    gdf = constraints.read_natura2000(NATURA, {})
    assert gdf.crs.to_epsg() == 25832 and gdf.is_valid.all()
    by_code = gdf.set_index("site_code")
    # the Bavarian site is outside NRW + 10 km; the Dutch one across the border is kept
    assert sorted(by_code.index) == ["DE4309301", "DE4309401", "DE4310302", "DE4410301", "NL2003037"]
    assert by_code.loc["DE4309401", "site_type"] == "A" and by_code.loc["DE4309301", "site_type"] == "B"
    assert by_code.loc["DE4309301", "name"] == "Lippeaue"
    # two features of one site are one MultiPolygon; the bow tie is repaired to its two triangles
    assert by_code.loc["DE4410301", "geometry"].geom_type == "MultiPolygon"
    assert by_code.loc["DE4410301", "geometry"].area == pytest.approx(500_000, rel=1e-3)
    assert by_code.loc["DE4310302", "geometry"].area == pytest.approx(500_000, rel=1e-3)
    # EPSG:3035 in the file, EPSG:25832 out: the 2 × 1 km box comes back where it was written
    assert by_code.loc["DE4309301", "geometry"].bounds == pytest.approx(
        (378000, 5721000, 380000, 5722000), abs=0.01
    )
    assert set(gdf["source"]) == {"Natura2000_sample.shp"}


def _natura_file(tmp_path: Path, name: str, crs: int | None = 25832, **columns: list[object]) -> Path:
    data: dict[str, list[object]] = {"SITECODE": ["DE4309301"], "SITENAME": ["Lippeaue"], "SITETYPE": ["B"]}
    data.update(columns)
    data = {k: v for k, v in data.items() if v}
    n = len(next(iter(data.values())))
    geoms = [shapely.box(378000 + 3000 * i, 5721000, 380000 + 3000 * i, 5722000) for i in range(n)]
    path = tmp_path / f"{name}.shp"
    gpd.GeoDataFrame(data, geometry=geoms, crs=crs).to_file(path, engine="pyogrio")
    return path


@pytest.mark.filterwarnings("ignore:'crs' was not provided", "ignore:Value 'XXX")  # on purpose
def test_natura2000_bad_input_is_refused(tmp_path):
    with pytest.raises(SourceError) as err:
        constraints.read_natura2000(_natura_file(tmp_path, "no_type", SITETYPE=[]), {})
    assert "missing Natura 2000 column(s) SITETYPE" in str(err.value) and "no_type.shp" in str(err.value)
    bad = _natura_file(
        tmp_path,
        "bad_values",
        SITECODE=["DE-4309-301", "DE43093", "de4309303", "X" * 300],
        SITENAME=["a", "b", "c", "d"],
        SITETYPE=["B", "B", "D", "A"],
    )
    with pytest.raises(SourceError) as err:
        constraints.read_natura2000(bad, {})
    text = str(err.value)
    assert "SITECODE must be" in text and "'DE43093'" in text and "feature 1" in text
    assert "SITETYPE must be A" in text and "'D'" in text and "feature 2" in text
    assert "X" * 21 not in text  # hostile input is not echoed in full
    assert "feature 0" not in text  # DE-4309-301 is the national spelling of DE4309301
    with pytest.raises(SourceError, match="coordinate reference system"):
        constraints.read_natura2000(_natura_file(tmp_path, "no_crs", crs=None), {})
    with pytest.raises(SourceError, match="file not found"):
        constraints.read_natura2000(tmp_path / "missing.shp", {})
    text_file = tmp_path / "natura.csv.shp"
    text_file.write_text("not a shapefile", encoding="utf-8")
    with pytest.raises(SourceError, match="cannot be read"):
        constraints.read_natura2000(text_file, {})


def test_natura2000_national_spelling_and_lower_case_type_are_read(tmp_path):
    path = _natura_file(tmp_path, "national", SITECODE=["DE-4309-301"], SITETYPE=["b"])
    gdf = constraints.read_natura2000(path, {})
    assert gdf[["site_code", "site_type"]].values.tolist() == [["DE4309301", "B"]]


def test_floodplains_mapped_reads_the_shapefile_with_its_mapping():
    gdf = constraints.read_mapped("floodplains", UESG, UESG_MAPPING)
    assert gdf.crs.to_epsg() == 25832
    assert gdf[["area_id", "name", "status"]].values.tolist() == [
        ["UESG-0101", "Lippe", "festgesetzt"],
        ["UESG-0102", "Lippe", "vorläufig gesichert"],
        ["UESG-0201", "Dattelner Mühlenbach", "festgesetzt"],
    ]
    one_status = constraints.read_mapped(
        "floodplains", UESG, {"columns": {"name": "GEWAESSER"}, "defaults": {"status": "festgesetzt"}}
    )
    assert list(one_status["area_id"]) == ["floodplains-1", "floodplains-2", "floodplains-3"]
    assert set(one_status["status"]) == {"festgesetzt"}


def test_floodplains_bad_input_is_refused(tmp_path):
    with pytest.raises(SourceError) as err:  # a status value with no mapping
        constraints.read_mapped("floodplains", UESG, {"columns": UESG_MAPPING["columns"]})
    assert "status must be one of" in str(err.value) and "vorl. gesichert" in str(err.value)
    with pytest.raises(SourceError, match="source column"):
        constraints.read_mapped("floodplains", UESG, {"columns": {"name": "GEW_NAME"}})
    lines = tmp_path / "lines.gpkg"
    gpd.GeoDataFrame(
        {"n": ["x"]}, geometry=[shapely.LineString([(380000, 5720000), (381000, 5720000)])], crs=25832
    ).to_file(lines)
    with pytest.raises(SourceError, match="geometry type must be Polygon"):
        constraints.read_mapped("floodplains", lines, {})


def test_sources_toml_names_the_new_formats(tmp_path):
    toml = tmp_path / "sources.toml"
    toml.write_text(
        f"""
[municipalities]
path = "{FIXTURES / "dvg" / "dvg2gem_nw.shp"}"
format = "dvg"

[natura2000]
path = "{NATURA}"
format = "natura2000"

[floodplains]
path = "{UESG}"
format = "mapped"
licence = "dl-de/zero-2-0"
[floodplains.columns]
area_id = "UESG_ID"
name = "GEWAESSER"
status = "VERFAHREN"
[floodplains.values.status]
"vorl. gesichert" = "vorläufig gesichert"
""",
        encoding="utf-8",
    )
    cfg = load_sources(toml)
    assert len(cfg["natura2000"].read()) == 5 and len(cfg["floodplains"].read()) == 3
    assert cfg["natura2000"].licence.startswith("EEA") and cfg["floodplains"].licence == "dl-de/zero-2-0"


# ---------------------------------------------------------------------------------------------
# demo layers


def test_demo_layers_are_valid_deterministic_and_inside_nrw(natura, floods, municipalities, nrw):
    for name, gdf in (("natura2000", natura), ("floodplains", floods)):
        check(name, gdf)
        assert gdf.is_valid.all() and (gdf.geom_type.isin(["Polygon", "MultiPolygon"])).all()
        assert shapely.get_num_coordinates(gdf.geometry.values).max() < 3000
        assert shapely.area(shapely.difference(shapely.union_all(gdf.geometry.values), nrw)) < 1.0
        assert set(gdf["source"]) == {"SYNTHETIC demo"}
    again = demo_constraints.demo_natura2000(np.random.default_rng(5), municipalities)
    assert again.equals(natura)
    assert demo_constraints.demo_floodplains(np.random.default_rng(5), municipalities).equals(floods)


def test_demo_natura2000_looks_like_the_real_network(natura, nrw):
    share = shapely.union_all(natura.geometry.values).area / nrw.area
    assert 0.08 <= share <= 0.095  # real: ≈ 8.4–8.9 % of NRW
    kinds = natura["site_type"].value_counts().to_dict()
    assert kinds["B"] > 300 and 15 <= kinds["A"] <= 30 and kinds.get("C", 0) <= 5
    assert natura["site_code"].str.fullmatch(r"DE\d{4}[34]\d{2}").all() and natura["name"].is_unique
    ffh = natura[natura["site_type"] == "B"]
    assert ffh.area.median() < 3e6  # many small FFH sites
    hellweg = natura.set_index("name").loc["Hellwegbörde"]
    assert hellweg["site_code"] == "DE4415401" and 3.5e8 < hellweg["geometry"].area < 5.5e8


def test_demo_floodplains_follow_the_rivers(floods, nrw):
    assert set(floods["name"]) == set(demo_constraints.RIVERS)
    assert set(floods["status"]) <= {"festgesetzt", "vorläufig gesichert", "ermittelt"}
    assert (floods["status"] == "festgesetzt").mean() > 0.5
    share = shapely.union_all(floods.geometry.values).area / nrw.area
    assert 0.015 < share < 0.06
    lines = demo_constraints.river_lines()
    for name, group in floods.groupby("name"):
        band = shapely.union_all(group.geometry.values)
        inside = shapely.intersection(lines[name], nrw)
        assert (
            band.buffer(600).covers(inside.buffer(-1))
            or band.buffer(600).intersection(inside).length > 0.9 * inside.length
        )
        width = band.area / max(shapely.intersection(lines[name], band).length, 1.0)
        assert (1200 if name == "Rhein" else 250) < width < (3500 if name == "Rhein" else 1600), (name, width)


# ---------------------------------------------------------------------------------------------
# CoveredShare and covering_names


def _overlay_shares(sites: np.ndarray, layer: gpd.GeoDataFrame) -> np.ndarray:
    frame = gpd.GeoDataFrame({"i": range(len(sites))}, geometry=sites, crs=25832)
    merged = layer.dissolve()[["geometry"]]
    cut = gpd.overlay(frame, merged, how="intersection")
    covered = cut.assign(a=cut.area).groupby("i")["a"].sum().reindex(range(len(sites)), fill_value=0)
    return covered.to_numpy() / shapely.area(sites)


@pytest.mark.parametrize("layer", ["natura2000", "floodplains"])
def test_covered_share_of_the_demo_layers_is_exact_and_plausible(layer, sites, natura, floods):
    gdf = natura if layer == "natura2000" else floods
    (share,) = CoveredShare(layer=layer).compute(sites, gdf)
    np.testing.assert_allclose(share, _overlay_shares(sites, gdf), atol=1e-9)
    touched = share > 0
    partly = touched & (share < 1)
    assert 0.02 < touched.mean() < 0.30  # some sites are (partly) covered, most are not
    assert partly.sum() >= 10 and (share[touched] == 1).sum() >= 1


def test_covering_names_match_geopandas_overlay(sites, natura, floods):
    for gdf in (natura, floods):
        got = covering_names(sites, gdf, "name")
        frame = gpd.GeoDataFrame({"i": range(len(sites))}, geometry=sites, crs=25832)
        cut = gpd.overlay(frame, gdf[["name", "geometry"]], how="intersection", keep_geom_type=True)
        area = cut.assign(a=cut.area).groupby(["i", "name"], as_index=False)["a"].sum()
        area = area[area["a"] > 0].sort_values(["i", "a", "name"], ascending=[True, False, True])
        expected = [[] for _ in range(len(sites))]
        for i, name in zip(area["i"], area["name"], strict=True):
            expected[i].append(name)
        assert got == expected
        assert sum(1 for names in got if names) > 20


def test_covering_names_by_hand():
    layer = gpd.GeoDataFrame(
        {"name": ["Lippeaue", "Hellwegbörde", "Lippeaue", None, "Feld"]},
        geometry=[
            shapely.box(0, 0, 10, 10),
            shapely.box(0, 0, 100, 100),
            shapely.box(50, 50, 60, 60),  # a second part of "Lippeaue"
            shapely.box(0, 0, 100, 100),  # no name: left out
            shapely.box(200, 0, 300, 100),  # only touches the second site
        ],
        crs=25832,
    )
    sites = [shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100), shapely.box(500, 500, 600, 600)]
    assert covering_names(sites, layer, "name") == [["Hellwegbörde", "Lippeaue"], [], []]
    assert covering_names(sites, layer.iloc[:0], "name") == [[], [], []]
    assert covering_names([], layer, "name") == []


# ---------------------------------------------------------------------------------------------
# the demo build (a fresh interpreter: the plug-ins register before layers.build is imported)

BUILD_SCRIPT = """
import json, sys
from pathlib import Path

import layers.constraints, layers.substations  # noqa: F401 - register the plug-in layers

import numpy as np
from geo.constraints import covering_names
from geo.measures import CoveredShare, Nearest
from layers.build import build
from layers.store import Store

data = Path(sys.argv[1])
manifest = build(Store(data), n_sites=300, seed=1)
snap = Store(data).load()
sites = np.asarray(snap.layers["sites"].geometry.values, dtype=object)
out = {"manifest": {k: manifest["layers"][k] for k in ("substations", "natura2000", "floodplains")},
       "missing": manifest["missing_layers"]}
for name in ("natura2000", "floodplains"):
    (share,) = CoveredShare(layer=name).compute(sites, snap.layers[name])
    names = covering_names(sites, snap.layers[name], "name")
    out[name] = {"touched": int((share > 0).sum()), "n": len(sites),
                 "named": int(sum(1 for x in names if x)), "max": float(share.max())}
km, kv = Nearest(layer="substations", attribute="voltage_kv").compute(sites, snap.layers["substations"])
out["substations"] = {"median_km": float(np.median(km)), "kv": sorted({int(v) for v in kv})}
print(json.dumps(out, default=str))
"""


def test_demo_build_stores_the_layers_labelled_synthetic(tmp_path):
    p = subprocess.run(
        [sys.executable, "-c", BUILD_SCRIPT, str(tmp_path / "data")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["missing"] == []
    for name, meta in out["manifest"].items():
        assert meta["synthetic"] is True and "SYNTHETIC" in meta["note"], name
        assert meta["count"] > 50, name
    for name in ("natura2000", "floodplains"):
        # sites that overlap an area are named after it; most sites are outside every area
        assert out[name]["named"] == out[name]["touched"] < out[name]["n"] / 2
    assert out["natura2000"]["touched"] > 0 and out["substations"]["median_km"] < 15
