"""Hydrogen Kernnetz segments: FNB measure lists (`fnb-measures`) and line files (`lines`)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from openpyxl import load_workbook
from pyproj import Geod, Transformer

from layers.errors import SourceError
from layers.hydrogen import read_fnb_measures, read_lines
from layers.schema import check

FIXTURES = Path(__file__).parents[1] / "fixtures"
CSV = FIXTURES / "fnb" / "kernnetz_massnahmen.csv"
XLSX = FIXTURES / "fnb" / "kernnetz_massnahmen.xlsx"
PLACES = FIXTURES / "fnb" / "orte.csv"
LINES = FIXTURES / "lines" / "h2_lines.geojson"
CFG = {"places": str(PLACES.resolve())}
PIPELINES = [
    "101-Epe-Legden",
    "102-Legden-Dorsten",
    "103-Dorsten-Marl",
    "104-Marl-Hamborn",
    "105-Hamborn-Dormagen",
    "106-Dormagen-Wesseling",
    "107-Wesseling-Kalscheuren",
]
LINES_CFG = {
    "columns": {
        "segment_id": "LEITUNG_NR",
        "name": "BEZEICHNUNG",
        "kind": "STATUS",
        "commissioning_year": "IBN",
        "dn_mm": "NENNWEITE",
        "pressure_bar": "DRUCK_BAR",
        "operator": "BETREIBER",
    },
    "values": {"kind": {"Umstellung": "conversion", "Neubau": "new_build"}},
}
TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)


@pytest.fixture(scope="module")
def measures() -> gpd.GeoDataFrame:
    return read_fnb_measures(CSV, CFG)


def csv_lines() -> list[str]:
    return CSV.read_text(encoding="utf-8").splitlines()


def write_csv(tmp_path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path = tmp_path / "massnahmen.csv"
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


def replace_in_line(lines: list[str], number: int, old: str, new: str) -> list[str]:
    """Replace text in the 1-based line ``number`` of a CSV."""
    assert old in lines[number - 1]
    return [*lines[: number - 1], lines[number - 1].replace(old, new), *lines[number:]]


# --- fnb-measures: the fixture as read ------------------------------------------------------------


def test_pipeline_rows_become_segments_and_the_rest_is_skipped(measures):
    assert list(measures["segment_id"]) == PIPELINES
    # V-201 (Verdichter, no end point), G-301 (GDRM-Anlage; Gladbeck is not even in orte.csv) and
    # 401 (Niedersachsen, places not in orte.csv) do not become segments.


def test_attributes_come_from_the_columns(measures):
    assert list(measures["kind"]) == [
        "conversion",
        "conversion",
        "new_build",
        "conversion",
        "conversion",
        "new_build",
        "conversion",
    ]
    # 2025, 31.12.2027, Q4 2027, 2028, 2025, 01.10.2030, 30.06.2029
    assert list(measures["commissioning_year"]) == [2025, 2027, 2027, 2028, 2025, 2030, 2029]
    assert list(measures["dn_mm"]) == [1200, 1000, 600, 800, 1000, 500, 400]
    assert list(measures["pressure_bar"]) == [84, 84, 67.5, 70, 70, 40.5, 35]
    assert list(measures["operator"][:3]) == ["Betreiber A", "Betreiber A", "Betreiber B"]
    assert list(measures["name"][:2]) == ["Epe – Legden", "Legden – Dorsten"]
    assert set(measures["geometry_quality"]) == {"schematic"}


def test_output_is_the_canonical_layer(measures):
    assert measures.crs.to_epsg() == 25832
    assert list(measures.columns) == [
        "segment_id",
        "name",
        "kind",
        "commissioning_year",
        "dn_mm",
        "pressure_bar",
        "operator",
        "geometry_quality",
        "geometry",
    ]
    assert measures["commissioning_year"].dtype == "int64"
    assert check("hydrogen", measures) is measures


def test_segments_are_straight_lines_between_the_places(measures):
    places = pd.read_csv(PLACES).set_index("name")
    geod = Geod(ellps="GRS80")
    for name, line in zip(measures["name"], measures.geometry, strict=True):
        start, end = name.split(" – ")
        a = TO_UTM.transform(places.lon[start], places.lat[start])
        b = TO_UTM.transform(places.lon[end], places.lat[end])
        assert len(line.coords) == 2
        assert line.coords[0] == pytest.approx(a, abs=1e-6)
        assert line.coords[1] == pytest.approx(b, abs=1e-6)
        assert line.length == pytest.approx(math.dist(a, b), rel=1e-9)
        on_ellipsoid = geod.inv(places.lon[start], places.lat[start], places.lon[end], places.lat[end])[2]
        assert line.length == pytest.approx(on_ellipsoid, rel=1e-3)  # UTM scale error < 0.1 %


def test_csv_and_xlsx_give_identical_frames(measures):
    # the xlsx has line breaks in three header cells, real Excel dates and numeric cells
    assert_geodataframe_equal(read_fnb_measures(XLSX, CFG), measures)


def test_windows_1252_csv_gives_the_same_frame(tmp_path, measures):
    path = write_csv(tmp_path, csv_lines(), encoding="cp1252")
    assert_geodataframe_equal(read_fnb_measures(path, CFG), measures)


def test_place_names_match_ignoring_case_and_spaces(tmp_path, measures):
    lines = replace_in_line(csv_lines(), 4, ";Dorsten;Marl;", ";  DORSTEN ;marl;")
    read = read_fnb_measures(write_csv(tmp_path, lines), CFG)
    assert read.geometry.geom_equals_exact(measures.geometry, tolerance=0).all()


def test_built_in_places_table_is_used_without_places(measures):
    read = read_fnb_measures(CSV, {})
    # Lemförde and Reiningen are in the built-in table, so the Niedersachsen row is drawn too
    assert list(read["segment_id"]) == [*PIPELINES, "401-Lemförde-Reiningen"]
    assert read.geometry[:7].geom_equals_exact(measures.geometry, tolerance=1e-6).all()


def test_places_from_config_are_used(tmp_path, measures):
    shifted = PLACES.read_text(encoding="utf-8").replace("Epe,7.02834,", "Epe,7.12834,")
    (tmp_path / "orte.csv").write_text(shifted, encoding="utf-8")
    read = read_fnb_measures(CSV, {"places": str(tmp_path / "orte.csv")})
    x, _ = TO_UTM.transform(7.12834, 52.17019)
    assert read.geometry[0].coords[0][0] == pytest.approx(x)
    assert read.geometry[0].coords[0][0] != pytest.approx(measures.geometry[0].coords[0][0])


# --- fnb-measures: bad input ----------------------------------------------------------------------


def test_unknown_place_is_listed_with_its_lines(tmp_path):
    places = tmp_path / "orte.csv"
    kept = [line for line in PLACES.read_text().splitlines() if not line.startswith("Marl,")]
    places.write_text("\n".join(kept), encoding="utf-8")
    with pytest.raises(SourceError) as err:
        read_fnb_measures(CSV, {"places": str(places)})
    assert err.value.problems == [f"unknown place 'Marl' in line 4, line 6: add it with lon/lat to {places}"]


def test_missing_year_and_unknown_kind_are_reported_together(tmp_path):
    lines = replace_in_line(csv_lines(), 9, ";01.10.2030;", ";;")
    lines = replace_in_line(lines, 2, ";Umstellung;", ";Stilllegung;")
    with pytest.raises(SourceError) as err:
        read_fnb_measures(write_csv(tmp_path, lines), CFG)
    problems = err.value.problems
    assert len(problems) == 2
    assert problems[0].startswith("line 2: 'Stilllegung' in column 'Bestand/Umstellung/Neubau'")
    assert problems[1].startswith("line 9: no commissioning year")


def test_xlsx_problems_name_the_excel_row(tmp_path):
    book = load_workbook(XLSX)
    book.active["I9"] = None  # 106-Dormagen-Wesseling: date cell
    path = tmp_path / "massnahmen.xlsx"
    book.save(path)
    with pytest.raises(SourceError, match="row 9: no commissioning year"):
        read_fnb_measures(path, CFG)


def test_duplicate_segment_ids_are_reported_with_their_lines(tmp_path):
    lines = replace_in_line(csv_lines(), 3, "102-Legden-Dorsten", "101-Epe-Legden")
    with pytest.raises(SourceError, match="duplicate segment_id 101-Epe-Legden in line 2, line 3"):
        read_fnb_measures(write_csv(tmp_path, lines), CFG)


def test_same_start_and_end_place_is_refused(tmp_path):
    lines = replace_in_line(csv_lines(), 4, ";Dorsten;Marl;", ";Dorsten;Dorsten;")
    with pytest.raises(SourceError, match="line 4: start and end are the same place"):
        read_fnb_measures(write_csv(tmp_path, lines), CFG)


def test_missing_required_column_is_named(tmp_path):
    lines = replace_in_line(csv_lines(), 1, "Endpunkt(Ort)", "Ende")
    with pytest.raises(SourceError, match="missing column.*'Endpunkt\\(Ort\\)'"):
        read_fnb_measures(write_csv(tmp_path, lines), CFG)


def test_places_table_without_coordinates_is_refused(tmp_path):
    places = tmp_path / "orte.csv"
    places.write_text("name,lon,lat\nEpe,52.17019,\n", encoding="utf-8")
    with pytest.raises(SourceError, match="line 2: lon/lat .* of 'Epe' are not WGS84 degrees"):
        read_fnb_measures(CSV, {"places": str(places)})


# --- lines ----------------------------------------------------------------------------------------


def test_line_file_is_mapped_to_the_canonical_layer():
    read = read_lines(LINES, LINES_CFG)
    assert read.crs.to_epsg() == 25832
    assert list(read["segment_id"]) == ["H2-L-001", "H2-L-002", "H2-L-003"]
    assert list(read["kind"]) == ["conversion", "new_build", "conversion"]
    assert list(read["commissioning_year"]) == [2027, 2029, 2030]  # 31.12.2027, 2029, 2030-06-30
    assert list(read["dn_mm"][:2]) == [600, 500] and read["dn_mm"].isna().tolist()[2]
    assert set(read["geometry_quality"]) == {"surveyed"}
    assert list(read.geom_type) == ["LineString", "LineString", "MultiLineString"]
    assert check("hydrogen", read) is read


def test_line_lengths_match_an_independent_transform():
    read = read_lines(LINES, LINES_CFG)
    features = json.loads(LINES.read_text(encoding="utf-8"))["features"]
    for line, feature in zip(read.geometry, features, strict=True):
        coords = feature["geometry"]["coordinates"]
        parts = coords if feature["geometry"]["type"] == "MultiLineString" else [coords]
        expected = sum(
            math.dist(TO_UTM.transform(*p), TO_UTM.transform(*q))
            for part in parts
            for p, q in zip(part, part[1:], strict=False)
        )
        assert line.length == pytest.approx(expected, rel=1e-9)


def test_unmapped_kind_value_is_reported():
    cfg = {**LINES_CFG, "values": {"kind": {"Umstellung": "conversion"}}}
    with pytest.raises(SourceError, match="unmapped value\\(s\\) 'Neubau'.*hydrogen.values.kind"):
        read_lines(LINES, cfg)


def test_line_without_a_year_is_reported(tmp_path):
    data = json.loads(LINES.read_text(encoding="utf-8"))
    data["features"][1]["properties"]["IBN"] = "offen"
    path = tmp_path / "lines.geojson"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SourceError, match="no commissioning year in rows 2"):
        read_lines(path, LINES_CFG)
