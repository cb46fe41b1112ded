"""The industrial_heat layer (issue 21 §3): the Hotmaps reader, its bad input, the real fact table,
the demo's real facts and the suggested SumWithin indicator against geopandas."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.crs import transformer
from geo.measures import SumWithin
from layers.demo import nrw_outline
from layers.errors import SourceError
from layers.sources import FORMATS, NO_PATH_FORMATS, PLUGIN_LAYERS

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "waste_heat" / "Industrial_Database.csv"
SHARED_FILE = "hotmaps_industrial_sites/nrw_hotmaps_industrial_sites.geojson"


@pytest.fixture(scope="module")
def wh() -> ModuleType:
    """The layer module, imported (and so registered) when these tests run, not at collection:
    until layers/sources.py imports it, other test modules' builds do not see the layer.
    """
    return importlib.import_module("layers.waste_heat")


def utm(lon: float, lat: float) -> tuple[float, float]:
    x, y = transformer(4326, 25832).transform(lon, lat)
    return float(x), float(y)


# -- the Hotmaps format --------------------------------------------------------------------


def test_hotmaps_reader_reads_the_official_layout(wh):
    gdf = wh.read_hotmaps(FIXTURE, {})
    assert gdf.crs.to_epsg() == 25832
    # 9005 has no geom (skipped), 9006 is in Linz (outside NRW + 10 km)
    assert list(gdf["installation_id"]) == ["9001", "9002", "9003", "9004"]
    assert gdf.attrs == {"skipped_no_geometry": 1, "skipped_outside": 1}
    first = gdf.iloc[0]
    assert first["name"] == "Fixture Stahl AG, Werk Rheinufer" and first["company"] == "Fixture Stahl AG"
    assert first["sector"] == "Iron and steel" and first["city"] == "Duisburg"
    assert first["excess_heat_gwh"] == 900.50  # GWh/a as published: no conversion
    assert first.geometry.x == pytest.approx(utm(6.74, 51.45)[0], abs=1e-6)
    assert first.geometry.y == pytest.approx(utm(6.74, 51.45)[1], abs=1e-6)
    assert gdf.iloc[1]["name"] == "Fixture Chemie GmbH"  # no SiteName: the company
    assert gdf.iloc[1]["excess_heat_gwh"] == 0.0  # 0.00 in Hotmaps stays 0 (no estimate)
    assert gdf.iloc[3]["country"] == "Netherland"  # Venlo, a few km from the border: kept
    assert (gdf["source"] == "Hotmaps Industrial Database").all()
    assert gdf["excess_heat_gwh"].sum() == pytest.approx(900.50 + 72.25 + 60.00)


def test_layer_is_registered_as_a_plugin_with_both_formats(wh):
    spec = PLUGIN_LAYERS["industrial_heat"]
    assert set(spec.formats) == {"hotmaps", "facts"} and spec.kind == "vector"
    assert ("industrial_heat", "facts") in NO_PATH_FORMATS
    assert FORMATS["industrial_heat"]["hotmaps"][1]["licence"] == "CC BY 4.0"
    assert spec.demo_real is not None and spec.demo_real["licence"] == "CC BY 4.0"
    assert "Manz" in spec.demo_real["attribution"] and "SYNTHETIC" not in spec.note


# -- bad input -------------------------------------------------------------------------------


def variant(tmp_path: Path, old: str, new: str) -> Path:
    text = FIXTURE.read_text(encoding="utf-8")
    assert old in text
    out = tmp_path / "Industrial_Database.csv"
    out.write_text(text.replace(old, new), encoding="utf-8")
    return out


def refused(path: Path) -> str:
    with pytest.raises(SourceError) as exc:
        importlib.import_module("layers.waste_heat").read_hotmaps(path, {})
    assert exc.value.layer == "industrial_heat" and exc.value.path == str(path)
    return str(exc.value)


def test_missing_columns_are_named(tmp_path):
    msg = refused(variant(tmp_path, '"Excess_Heat_Total"', '"Excess_Heat_Sum"'))
    assert "missing column(s) 'Excess_Heat_Total'" in msg and "'Excess_Heat_Sum'" in msg
    msg = refused(variant(tmp_path, '"geom";"Subsector"', '"location";"Sector"'))
    assert "'geom'" in msg and "'Subsector'" in msg


def test_bad_geometry_wkt_is_refused_with_its_line(tmp_path):
    msg = refused(variant(tmp_path, "POINT(6.90 51.02)", "POINT(6.90 fifty-one)"))
    assert "line 3" in msg and "not valid WKT" in msg
    msg = refused(variant(tmp_path, "POINT(6.90 51.02)", "LINESTRING(6.90 51.02, 6.91 51.03)"))
    assert "line 3" in msg and "not a point" in msg
    msg = refused(variant(tmp_path, '"SRID=4326;POINT(6.90 51.02)"', '"POINT(6.90 51.02)"'))
    assert "line 3" in msg and "not EWKT" in msg


def test_wrong_srid_is_refused(tmp_path):
    msg = refused(variant(tmp_path, "SRID=4326;POINT(8.04 51.76)", "SRID=3035;POINT(4140000 3180000)"))
    assert "line 4" in msg and "SRID=3035" in msg and "SRID=4326" in msg
    msg = refused(variant(tmp_path, "POINT(8.04 51.76)", "POINT(420000 5735000)"))
    assert "line 4" in msg and "not in degrees" in msg


def test_negative_or_non_numeric_heat_is_refused(tmp_path):
    msg = refused(variant(tmp_path, ";0.00;72.25;0.00;72.25", ";0.00;72.25;0.00;-72.25"))
    assert "line 4" in msg and "negative excess heat -72.25" in msg
    msg = refused(variant(tmp_path, ";0.00;72.25;0.00;72.25", ";0.00;72.25;0.00;72,25"))  # decimal comma
    assert "line 4" in msg and "not a number" in msg


def test_every_row_problem_is_reported_at_once_and_long_cells_are_cut(tmp_path):
    path = variant(tmp_path, "POINT(6.90 51.02)", "POINT(" + "9" * 5000 + ")")
    text = path.read_text(encoding="utf-8").replace('9003;"Fixture Zement KG"', ';"Fixture Zement KG"')
    path.write_text(text, encoding="utf-8")
    msg = refused(path)
    assert "line 3" in msg and "line 4: empty 'SiteID'" in msg
    assert len(msg) < 1000  # the hostile cell is not echoed whole


def test_duplicate_or_non_numeric_site_ids_are_refused(tmp_path):
    msg = refused(variant(tmp_path, '9003;"Fixture Zement KG"', '9001;"Fixture Zement KG"'))
    assert "duplicate installation_id 9001" in msg
    msg = refused(variant(tmp_path, '9003;"Fixture Zement KG"', "x" * 500 + ';"Fixture Zement KG"'))
    assert "line 4" in msg and "is not a whole number" in msg and "x" * 61 not in msg


# -- the fact table (real data, committed) -----------------------------------------------------


def test_fact_table_reads_with_the_expected_count(wh):
    gdf = wh.read_facts()
    assert len(gdf) == 298 and gdf.crs.to_epsg() == 25832
    assert gdf["installation_id"].is_unique
    assert gdf["sector"].value_counts().to_dict() == {
        "Chemical industry": 61,
        "Non-metallic mineral products": 61,
        "Iron and steel": 58,
        "Paper and printing": 45,
        "Cement": 31,
        "Glass": 19,
        "Non-ferrous metals": 17,
        "Refineries": 6,
    }
    heat = gdf["excess_heat_gwh"]
    assert heat.notna().all() and (heat >= 0).all()
    assert int((heat > 0).sum()) == 63 and heat.sum() == pytest.approx(5580.15)
    # every installation lies within 10 km of NRW (the outline is generalised to ±1.5 km)
    assert (shapely.distance(nrw_outline(), gdf.geometry.values) <= 11_500).all()


def test_demo_is_the_real_fact_table(wh):
    a = wh.demo(np.random.default_rng(1), gpd.GeoDataFrame())
    b = wh.demo(np.random.default_rng(2), gpd.GeoDataFrame())
    pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b))
    assert len(a) == 298


def test_sum_within_10_km_matches_geopandas(wh):
    """The indicator the lead declares, against a brute-force geopandas distance sum."""
    layer = wh.read_facts()
    rng = np.random.default_rng(7)
    x, y = rng.uniform(300_000, 520_000, 200), rng.uniform(5_590_000, 5_810_000, 200)
    x[:3], y[:3] = zip(
        utm(6.74, 51.45), utm(7.0, 51.45), utm(8.9, 52.3), strict=True
    )  # Duisburg, Essen, edge
    sites = shapely.box(x - 300, y - 200, x + 300, y + 200)
    got = SumWithin(layer="industrial_heat", attribute="excess_heat_gwh", radius_km=10).compute(sites, layer)[
        0
    ]
    centres = gpd.GeoSeries(shapely.centroid(sites), crs=25832)
    want = np.array([layer.loc[layer.distance(c) <= 10_000, "excess_heat_gwh"].sum() for c in centres])
    np.testing.assert_allclose(got, want, atol=1e-9)
    assert got[0] > 1000  # Duisburg's steelworks


# -- real data ------------------------------------------------------------------------------------


def _derive_module():
    spec = importlib.util.spec_from_file_location(
        "derive_industrial_heat", ROOT / "layers" / "facts" / "derive_industrial_heat.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.realdata
def test_fact_table_is_derived_from_the_staged_file(shared_raw):
    frame = _derive_module().derive_industrial_heat(shared_raw)
    committed = (ROOT / "layers" / "facts" / "industrial_heat.csv").read_text(encoding="utf-8")
    assert frame.to_csv(index=False, lineterminator="\n") == committed


@pytest.mark.realdata
def test_facts_equal_the_shared_files_installations(wh, shared_raw):
    real = gpd.read_file(shared_raw / SHARED_FILE).to_crs(25832)
    facts = wh.read_facts()
    assert len(real) == len(facts) == 298 and int(real["in_nrw"].sum()) == 237
    real = real.set_index(real["SiteID"].astype(str)).loc[facts["installation_id"]]
    np.testing.assert_array_equal(facts["excess_heat_gwh"].to_numpy(), real["Excess_Heat_Total"].to_numpy())
    assert list(facts["sector"]) == list(real["Subsector"])
    assert list(facts["company"].fillna("")) == list(real["CompanyName"].fillna(""))
    assert list(facts["city"].fillna("")) == list(real["City"].fillna(""))
    moved = shapely.distance(facts.geometry.values, real.geometry.values)
    assert moved.max() < 0.2  # metres: lon/lat rounded to 6 decimals
