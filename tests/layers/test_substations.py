"""The substations layer (issue 21 §2): OSM and mapped readers, bad input, the demo, Nearest.

``layers.substations`` registers the plug-in layer at import; it is imported for this module only
(``tests/layers/_plugins.py``), and the readers and the demo generator are called directly.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.crs import transformer
from geo.measures import Nearest
from layers.errors import SourceError
from layers.municipalities import boundaries
from layers.schema import check
from layers.sources import FORMATS, PLUGIN_LAYERS
from tests.layers._plugins import plugin

ROOT = Path(__file__).resolve().parents[2]
OSM = ROOT / "tests" / "fixtures" / "substations" / "sample.osm"


substations: ModuleType  # layers.substations, imported by the fixture below


@pytest.fixture(scope="module", autouse=True)
def registered() -> Iterator[None]:
    global substations
    with plugin("layers.substations") as (substations,):
        yield


@pytest.fixture(scope="module")
def municipalities() -> gpd.GeoDataFrame:
    return boundaries()


@pytest.fixture(scope="module")
def demo(municipalities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return substations.demo(np.random.default_rng(7), municipalities)


def test_layer_is_registered_with_its_formats():
    spec = PLUGIN_LAYERS["substations"]
    assert set(spec.formats) == {"osm", "mapped"} and spec.kind == "vector"
    assert "SYNTHETIC" in spec.note
    assert spec.schema is not None and spec.schema.columns == (
        "substation_id",
        "name",
        "voltage_kv",
        "operator",
        "source",
    )
    assert set(FORMATS["substations"]) == {"osm", "mapped"}


@pytest.mark.parametrize(
    ("value", "unit", "kv"),
    [
        ("380000;110000", "V", 380),
        ("110000", "V", 110),
        ("220000; 110000", "V", 220),
        ("10000;400", "V", 10),
        ("high", "V", None),
        ("", "V", None),
        (None, "V", None),
        ("110", "auto", 110),
        ("380 kV", "auto", 380),
        ("380000;110", "auto", 380),
        (220.0, "auto", 220),
    ],
)
def test_voltage_is_the_highest_value_in_kv(value, unit, kv):
    assert substations.parse_voltage_kv(value, unit) == kv


def test_osm_keeps_grid_substations_of_110_kv_and_more():
    gdf = substations.read_osm_substations(OSM, {})
    assert gdf.crs.to_epsg() == 25832
    got = dict(zip(gdf["substation_id"], gdf["voltage_kv"], strict=True))
    # node 2 (10 kV), 3 (no voltage), 4 and 8 (16.7 Hz traction), 5 (tower), 7 (disused), way 13
    # (voltage "high") are dropped; way 10 is a closed line, way 11 an area, relation 20 a multipolygon
    assert got == {"node/1": 380, "node/6": 110, "way/10": 220, "way/11": 110, "relation/20": 380}
    assert gdf["voltage_kv"].dtype == np.int64
    row = gdf.set_index("substation_id")
    assert row.loc["node/1", "name"] == "Umspannwerk Datteln"
    assert row.loc["node/1", "operator"] == "Amprion GmbH"
    assert row.loc["way/11", "name"] == 'Umspannwerk "Am Kanal", Nord'
    assert row["name"].isna()["node/6"] and row["operator"].isna()["node/6"]
    assert set(gdf["source"]) == {"OpenStreetMap"}
    assert (gdf.geom_type == "Point").all()


def test_osm_areas_are_placed_inside_their_outline():
    gdf = substations.read_osm_substations(OSM, {}).set_index("substation_id")
    to_utm = transformer(4326, 25832)
    for sid, (lat0, lon0) in {
        "way/10": (51.62, 7.25),
        "way/11": (51.63, 7.25),
        "relation/20": (51.64, 7.25),
    }.items():
        xs, ys = to_utm.transform(
            [lon0, lon0 + 0.003, lon0 + 0.003, lon0], [lat0, lat0, lat0 + 0.002, lat0 + 0.002]
        )
        square = shapely.Polygon(zip(xs, ys, strict=True))
        assert square.contains(gdf.loc[sid, "geometry"]), sid


def test_osm_bad_files_are_refused(tmp_path):
    renamed = tmp_path / "extract.xml"
    shutil.copy(OSM, renamed)
    with pytest.raises(SourceError) as err:
        substations.read_osm_substations(renamed, {})
    assert "layer 'substations'" in str(err.value) and "extract.xml" in str(err.value)
    broken = tmp_path / "broken.osm"
    broken.write_text(
        '<?xml version="1.0"?>\n<osm version="0.6">\n  <node id="1" lat="51.4" lon=', encoding="utf-8"
    )
    with pytest.raises(SourceError) as err:
        substations.read_osm_substations(broken, {})
    assert "broken.osm" in str(err.value)
    with pytest.raises(SourceError, match="file not found"):
        substations.read_osm_substations(tmp_path / "missing.osm.pbf", {})


def _mapped_file(tmp_path: Path, volts: list[object], crs: int | None = 4326) -> Path:
    x = [7.30 + 0.01 * i for i in range(len(volts))]
    gdf = gpd.GeoDataFrame(
        {"UW_NR": [f"UW{i}" for i in range(len(volts))], "NAME": "UW", "U_KV": volts},
        geometry=gpd.points_from_xy(x, [51.65] * len(volts)),
        crs=crs,
    )
    path = tmp_path / "umspannwerke.gpkg"
    gdf.to_file(path, engine="pyogrio")
    return path


MAPPING = {"columns": {"substation_id": "UW_NR", "name": "NAME", "voltage_kv": "U_KV"}}


def test_mapped_reads_kv_or_volts_and_drops_below_110(tmp_path):
    path = _mapped_file(tmp_path, ["380", "110000", "20", "220;110", "380000;110000"])
    gdf = substations.read_mapped(path, MAPPING)
    assert dict(zip(gdf["substation_id"], gdf["voltage_kv"], strict=True)) == {
        "UW0": 380,
        "UW1": 110,
        "UW3": 220,
        "UW4": 380,
    }
    assert gdf.crs.to_epsg() == 25832 and set(gdf["source"]) == {"umspannwerke.gpkg"}
    assert gdf["operator"].isna().all()


def test_mapped_polygons_become_points_on_their_surface(tmp_path):
    ring = shapely.Polygon(
        [
            (380000, 5720000),
            (380400, 5720000),
            (380400, 5720100),
            (380100, 5720100),
            (380100, 5720400),
            (380000, 5720400),
        ]
    )  # an L: its centroid lies outside
    path = tmp_path / "uw_flaechen.gpkg"
    gpd.GeoDataFrame({"UW_NR": ["A"], "U_KV": [110]}, geometry=[ring], crs=25832).to_file(path)
    gdf = substations.read_mapped(path, {"columns": {"substation_id": "UW_NR", "voltage_kv": "U_KV"}})
    assert gdf.geom_type.tolist() == ["Point"] and ring.contains(gdf.geometry.iloc[0])


@pytest.mark.filterwarnings("ignore:'crs' was not provided")  # the file without a CRS, on purpose
def test_mapped_bad_input_is_refused(tmp_path):
    path = _mapped_file(tmp_path, ["380", "hoch", "x" * 500])
    with pytest.raises(SourceError) as err:
        substations.read_mapped(path, MAPPING)
    text = str(err.value)
    assert "umspannwerke.gpkg" in text and "'hoch'" in text and "rows 2, 3" in text
    assert "x" * 21 not in text  # hostile input is not echoed in full
    with pytest.raises(SourceError, match="source column"):
        substations.read_mapped(path, {"columns": {"substation_id": "UW_NR", "voltage_kv": "SPANNUNG"}})
    with pytest.raises(SourceError, match="voltage_kv"):
        substations.read_mapped(path, {"columns": {"substation_id": "UW_NR"}})
    no_crs = _mapped_file(tmp_path, ["380"], crs=None)
    with pytest.raises(SourceError, match="coordinate reference system"):
        substations.read_mapped(no_crs, MAPPING)


def test_demo_is_deterministic_checked_and_inside_nrw(demo, municipalities):
    check("substations", demo)
    again = substations.demo(np.random.default_rng(7), municipalities)
    assert demo.equals(again)
    other = substations.demo(np.random.default_rng(8), municipalities)
    assert not demo.geometry.equals(other.geometry)
    nrw = shapely.union_all(municipalities.geometry.values)
    assert shapely.contains_xy(nrw, demo.geometry.x, demo.geometry.y).all()
    assert 500 <= len(demo) <= 700
    counts = demo["voltage_kv"].value_counts().to_dict()
    assert set(counts) == {110, 220, 380} and counts[110] > 5 * (counts[220] + counts[380])
    assert (demo["voltage_kv"] >= 110).all() and set(demo["source"]) == {"SYNTHETIC demo"}
    assert demo["name"].is_unique


def test_demo_is_denser_in_rhine_ruhr_than_in_the_uplands(demo):
    to_utm = transformer(4326, 25832)

    def within(lon: float, lat: float, km: float = 20.0) -> int:
        x, y = to_utm.transform(lon, lat)
        return int((np.hypot(demo.geometry.x - x, demo.geometry.y - y) < km * 1000).sum())

    ruhr = within(7.10, 51.47)  # Essen / Gelsenkirchen
    assert ruhr > 3 * within(8.40, 51.15)  # Hochsauerland
    assert ruhr > 3 * within(6.45, 50.45)  # Eifel


def test_nearest_over_the_demo_matches_geopandas(demo, municipalities):
    rng = np.random.default_rng(3)
    towns = municipalities.sample(40, random_state=1)
    centres = shapely.point_on_surface(towns.geometry.values)
    sites = shapely.buffer(centres, rng.uniform(100, 800, len(centres)))
    km, kv = Nearest(layer="substations", attribute="voltage_kv").compute(sites, demo)
    frame = gpd.GeoDataFrame({"i": range(len(sites))}, geometry=sites, crs=25832)
    expected = gpd.sjoin_nearest(frame, demo, distance_col="d").drop_duplicates("i").set_index("i")
    np.testing.assert_allclose(km, expected["d"].sort_index().to_numpy() / 1000, atol=1e-6)
    # ties (two substations at the same distance) are vanishingly unlikely with random points
    np.testing.assert_array_equal(kv, expected["voltage_kv"].sort_index().to_numpy())
    assert np.median(km) < 10  # a substation is rarely far away in NRW
