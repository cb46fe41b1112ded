"""Each official format's reader on a fixture written in that format (tests/fixtures/README.md)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.crs import WORK_CRS, transformer
from geo.grid import NRW_GRID
from layers import coverage, lep, municipalities, planning
from layers.io import read_vector, to_work_crs
from layers.sources import load_sources


def test_dvg_reads_gemeinden_with_string_keys_and_kreis_names(fixtures):
    gdf = municipalities.read_dvg(fixtures / "dvg" / "dvg2gem_nw.shp", {})
    assert gdf.crs == WORK_CRS
    assert list(gdf["ags"]) == ["05562008", "05562036", "05913000"]
    assert list(gdf["kreis_ags"]) == ["05562", "05562", "05913"]
    assert list(gdf["kreis_name"]) == ["Recklinghausen", "Recklinghausen", "Dortmund"]
    assert (gdf.geometry.geom_type == "MultiPolygon").all()
    assert gdf.area.sum() == pytest.approx(3 * 25e6)


def test_vg250_keeps_land_areas_of_nrw_only(fixtures):
    gdf = municipalities.read_vg250(fixtures / "vg250" / "vg250_gem.gpkg", {"layer": "vg250_gem"})
    assert list(gdf["ags"]) == ["05562008", "05562036", "05913000"]  # water (GF 2), Osnabrück out
    assert gdf.set_index("ags").area["05562008"] == pytest.approx(25e6)  # water part not merged
    assert list(gdf["name"]) == ["Datteln", "Waltrop", "Dortmund"]


def test_mapped_regional_plan_detects_zone_prefix_and_maps_codes(fixtures):
    cfg = load_sources(fixtures / "sources.toml")["regional_plan"]
    gdf = cfg.read()
    assert list(gdf["category"]) == ["GIB", "GIB_Z", "LARGE_PROJECT"]
    assert list(gdf["plan"]) == ["Regionalplan Ruhr"] * 3
    minx, miny, maxx, maxy = gdf.total_bounds
    # The file holds 32_381_000 m eastings (EPSG:4647); the layer is plain UTM 32N.
    assert (minx, miny, maxx, maxy) == pytest.approx((381000, 5721000, 387500, 5728000))


def test_mapped_brownfields_from_wgs84_geojson(fixtures):
    gdf = load_sources(fixtures / "sources.toml")["brownfields"].read()
    assert list(gdf["contamination"]) == ["confirmed", "none", "suspected"]
    assert list(gdf["availability"]) == ["now", "gt_3y", "1_3y"]  # the legacy codes gt2y, lt2y, read
    assert list(gdf["ags"]) == ["05562008", "05913000", "05562036"]
    # 800 m × 800 m written in WGS84 comes back within a square metre of 64 ha
    assert gdf.area.iloc[0] == pytest.approx(640_000, rel=1e-4)


def test_lep_facts_are_the_four_sites_with_their_reported_areas():
    gdf = lep.read_facts(None, {})
    assert list(gdf["area_id"]) == ["LEP-DAT", "LEP-EU", "LEP-GK", "LEP-GV"]
    assert gdf.area.to_numpy() / 1e4 == pytest.approx([290, 220, 240, 325], rel=0.01)
    lon, lat = transformer(25832, 4326).transform(*shapely.get_coordinates(gdf.geometry.centroid.values).T)
    assert lat[0] == pytest.approx(51.65, abs=1e-3) and lon[0] == pytest.approx(7.40, abs=1e-3)
    assert gdf["accuracy"].str.startswith("approximate").all()


def test_breitbandatlas_municipal_gives_shares(fixtures):
    cov = coverage.read_breitbandatlas_municipal(
        "fibre",
        fixtures / "breitbandatlas" / "gemeinden_gewerbegebiete.csv",
        {"column": "FTTH/B ≥ 1000 Mbit/s"},
    )
    assert cov.resolution == "municipal"
    assert cov.units.to_dict() == {"05562008": 0.25, "05562036": 0.5, "05913000": 0.755}


def test_breitbandatlas_kreis_selects_technology_and_area_type(fixtures):
    cov = coverage.read_breitbandatlas_kreis(
        "mobile_5g", fixtures / "breitbandatlas" / "kreise_mobilfunk.csv", {}
    )
    assert cov.resolution == "kreis"
    assert cov.units.to_dict() == {"05562": 0.885, "05913": 0.9725}


def test_breitbandatlas_kreis_unknown_technology_lists_the_known_ones(fixtures):
    with pytest.raises(Exception, match="technologies: 5G2, LTE2"):
        coverage.read_breitbandatlas_kreis(
            "mobile_5g", fixtures / "breitbandatlas" / "kreise_mobilfunk.csv", {"technology": "6G"}
        )


def test_inspire_grid_cells_land_on_the_25832_grid(fixtures):
    cov = coverage.read_inspire_grid(
        "fibre",
        fixtures / "inspire" / "gigabit_grid.csv",
        {"id_column": "id", "value_column": "down_fn_hh_ftthb_1000"},
    )
    g = cov.grid
    assert g.shape == NRW_GRID.shape
    assert np.isfinite(g).sum() == 16
    assert set(np.unique(g[np.isfinite(g)])) == {0.0, 1.0}
    # each value sits in the 25832 cell holding the 3035 cell's centre
    row, col, _ = NRW_GRID.cell_of(*transformer(3035, 25832).transform(*_first_cell_centre(fixtures)))
    assert g[row, col] == 1.0


def _first_cell_centre(fixtures):
    import pandas as pd

    first = pd.read_csv(fixtures / "inspire" / "gigabit_grid.csv").iloc[0]["id"]
    n, e = first.removeprefix("CRS3035RES100mN").split("E")
    return float(e) + 50, float(n) + 50


def test_bnetza_grid_threshold_and_scale(fixtures):
    path = fixtures / "bnetza" / "mobilfunk_monitoring.gpkg"
    cov = coverage.read_bnetza_grid(
        "mobile_5g", path, {"value_column": "mobilesBB_AnzahlMNB", "threshold": 1}
    )
    g = cov.grid
    row, col, _ = NRW_GRID.cell_of(np.array([381050.0]), np.array([5726050.0]))
    assert g[row[0], col[0]] == 0.0  # (a+b) % 4 == 0 → no operator
    row, col, _ = NRW_GRID.cell_of(np.array([381150.0]), np.array([5726050.0]))
    assert g[row[0], col[0]] == 1.0
    assert np.isfinite(g).sum() == 25
    scaled = coverage.read_bnetza_grid(
        "mobile_5g", path, {"value_column": "mobilesBB_AnzahlMNB", "scale": 1 / 3}
    )
    assert np.nanmax(scaled.grid) == pytest.approx(1.0)


def test_zone_prefix_is_stripped_even_when_declared_25832():
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(32_385_000, 5_725_000)], crs=25832)
    out = to_work_crs(gdf)
    assert out.geometry.iloc[0].x == 385_000


def test_mapped_reader_accepts_defaults_for_constant_fields(fixtures):
    cfg = load_sources(fixtures / "sources.toml")["regional_plan"]
    gdf = planning.read_mapped("regional_plan", cfg.path, cfg.options)
    assert gdf["area_id"].tolist() == ["D-17", "D-18", "D-19"]


def test_read_vector_refuses_unreadable_files(tmp_path):
    bad = tmp_path / "broken.gpkg"
    bad.write_text("not a geopackage")
    with pytest.raises(Exception, match="cannot be read as a vector file"):
        read_vector("brownfields", bad)
