"""Bad input: a clear message naming layer, file and row; non-zero exit; previous snapshot live."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from api.cli import main
from layers.store import Store


@pytest.fixture(scope="module")
def built(tmp_path_factory, fixtures):
    """The fixtures and a data dir with one good snapshot built from them, once per module."""
    root = tmp_path_factory.mktemp("bad-input")
    src = root / "src"
    shutil.copytree(fixtures, src)
    data = root / "data"
    assert main(["build", "--sources", str(src / "sources.toml"), "--data", str(data)]) == 0
    return src, data


@pytest.fixture()
def workspace(tmp_path, built):
    """A copy of the fixtures and a data dir holding one good snapshot (copies of ``built``,
    which each test may break as it likes)."""
    src = tmp_path / "src"
    data = tmp_path / "data"
    shutil.copytree(built[0], src)
    shutil.copytree(built[1], data)
    return src, data


def _fails(src: Path, data: Path, capsys) -> str:
    """Run a build that must fail; check nothing changed; return stderr."""
    store = Store(data)
    before = (store.current_id(), sorted(p.name for p in (data / "snapshots").iterdir()))
    capsys.readouterr()
    code = main(["build", "--sources", str(src / "sources.toml"), "--data", str(data)])
    err = capsys.readouterr().err
    assert code == 1
    assert "previous snapshot is still live" in err
    assert (store.current_id(), sorted(p.name for p in (data / "snapshots").iterdir())) == before
    assert not list(data.glob(".tmp-*")), "staging directory left behind"
    store.load()  # the live snapshot still loads completely
    return err


def _edit_toml(src: Path, old: str, new: str) -> None:
    toml = src / "sources.toml"
    text = toml.read_text(encoding="utf-8")
    assert old in text
    toml.write_text(text.replace(old, new), encoding="utf-8")


def _edit_brownfield(src: Path, row: int, column: str, value) -> None:
    """Change one cell of the brownfield fixture."""
    path = src / "mapped" / "brachen.geojson"
    gdf = gpd.read_file(path)
    gdf.loc[row, column] = value
    gdf.to_file(path)


def test_missing_file(workspace, capsys):
    src, data = workspace
    _edit_toml(src, 'path = "mapped/brachen.geojson"', 'path = "mapped/nowhere.geojson"')
    err = _fails(src, data, capsys)
    assert "[brownfields]: file not found" in err and "nowhere.geojson" in err


def test_unknown_format(workspace, capsys):
    src, data = workspace
    _edit_toml(src, 'format = "breitbandatlas-municipal"', 'format = "excel-magic"')
    err = _fails(src, data, capsys)
    assert "[fibre]: unknown format 'excel-magic'" in err
    assert "breitbandatlas-municipal" in err  # names the formats that exist


def test_shapefile_without_prj(workspace, capsys):
    src, data = workspace
    (src / "dvg" / "dvg2gem_nw.prj").unlink()
    err = _fails(src, data, capsys)
    assert "layer 'municipalities'" in err and "dvg2gem_nw.shp" in err
    assert "no coordinate reference system" in err and ".prj" in err


def test_csv_with_ags_written_as_numbers(workspace, capsys):
    src, data = workspace
    csv = src / "breitbandatlas" / "gemeinden_gewerbegebiete.csv"
    df = pd.read_csv(csv, dtype=str)
    df["AGS"] = df["AGS"].str.lstrip("0")  # what a spreadsheet does to 05562008
    df.to_csv(csv, index=False)
    err = _fails(src, data, capsys)
    assert "layer 'fibre'" in err and "gemeinden_gewerbegebiete.csv" in err
    assert "line 2: AGS '5562008' is not a 8-digit key (leading zero lost" in err
    assert "line 4" in err


def test_invalid_geometries(workspace, capsys):
    src, data = workspace
    bowtie = shapely.Polygon([(7.30, 51.66), (7.31, 51.67), (7.31, 51.66), (7.30, 51.67)])
    _edit_brownfield(src, 1, "geometry", bowtie)
    err = _fails(src, data, capsys)
    assert "layer 'brownfields'" in err and "brachen.geojson" in err
    assert "invalid geometry in row 2: Self-intersection" in err


def test_duplicate_ids(workspace, capsys):
    src, data = workspace
    _edit_brownfield(src, 2, "FL_NR", "B1")
    err = _fails(src, data, capsys)
    assert "duplicate area_id B1 in rows 1, 3" in err


def test_unmapped_code_value(workspace, capsys):
    src, data = workspace
    _edit_brownfield(src, 1, "ALTLASTEN", "teilweise saniert")
    err = _fails(src, data, capsys)
    assert "unmapped value(s) 'teilweise saniert' in column 'ALTLASTEN' (rows 2)" in err
    assert "[brownfields.values.contamination]" in err


def test_every_problem_is_reported_at_once(workspace, capsys):
    src, data = workspace
    _edit_toml(src, 'format = "breitbandatlas-municipal"', 'format = "nope"')
    _edit_toml(src, 'path = "mapped/brachen.geojson"', 'path = "gone.geojson"')
    err = _fails(src, data, capsys)
    assert "[fibre]: unknown format" in err and "[brownfields]: file not found" in err


def test_not_toml(workspace, capsys):
    src, data = workspace
    (src / "sources.toml").write_text("[municipalities\npath = 1", encoding="utf-8")
    err = _fails(src, data, capsys)
    assert "not valid TOML" in err


def test_build_needs_demo_or_sources(tmp_path, capsys):
    assert main(["build", "--data", str(tmp_path)]) == 2
    assert "exactly one of --demo or --sources" in capsys.readouterr().err


def test_a_percentage_that_is_not_a_number(workspace, capsys):
    src, data = workspace
    csv = src / "breitbandatlas" / "gemeinden_gewerbegebiete.csv"
    csv.write_text(csv.read_text(encoding="utf-8").replace("50.0", "abc"), encoding="utf-8")
    err = _fails(src, data, capsys)
    assert "layer 'fibre'" in err and "line 3: value 'abc' is not a number" in err


def test_a_csv_with_only_a_header(workspace, capsys):
    src, data = workspace
    csv = src / "breitbandatlas" / "gemeinden_gewerbegebiete.csv"
    csv.write_text(csv.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    assert "the file has no data rows" in _fails(src, data, capsys)


def test_kreis_csv_errors_give_the_line_in_the_file(workspace, capsys):
    src, data = workspace
    csv = src / "breitbandatlas" / "kreise_mobilfunk.csv"
    lines = csv.read_text(encoding="utf-8").splitlines()
    bad = next(i for i, line in enumerate(lines) if line.startswith("05913,5G2,Gew"))
    lines[bad] = lines[bad].rsplit(",", 1)[0] + ",150"
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert f"line {bad + 1}: value '150' is not a percentage" in _fails(src, data, capsys)


@pytest.mark.parametrize(
    "old, new, message",
    [
        (
            'column = "FTTH/B ≥ 1000 Mbit/s"',
            'colum = "FTTH/B ≥ 1000 Mbit/s"',
            "[fibre]: unknown option 'colum' for format 'breitbandatlas-municipal' "
            "(options: column, number_format)",
        ),
        ('technology = "5G2"', "technology = 5", "[mobile_5g]: option 'technology' must be a string"),
        ("[brownfields.columns]\n", "[brownfields.values2]\n", "[brownfields]: unknown option 'values2'"),
    ],
)
def test_unknown_or_mistyped_options(workspace, capsys, old, new, message):
    src, data = workspace
    _edit_toml(src, old, new)
    assert message in _fails(src, data, capsys)


def test_a_csv_with_a_broken_utf8_byte(workspace, capsys):
    src, data = workspace
    csv = src / "breitbandatlas" / "gemeinden_gewerbegebiete.csv"
    raw = csv.read_bytes().replace(b"05562036", b"0556203\xff")
    csv.write_bytes(raw)
    assert "line 3 is not valid UTF-8 (byte 0xff); save the file as UTF-8" in _fails(src, data, capsys)


def test_a_windows_1252_export_is_read(workspace, capsys):
    src, data = workspace
    csv = src / "breitbandatlas" / "gemeinden_gewerbegebiete.csv"
    text = csv.read_text(encoding="utf-8").replace("≥", ">=")
    csv.write_bytes(text.encode("cp1252") + "05999999,1,ä\n".encode("cp1252"))
    _edit_toml(src, 'column = "FTTH/B ≥ 1000 Mbit/s"', 'column = "FTTH/B >= 1000 Mbit/s"')
    err = _fails(src, data, capsys)  # decoded fine; the bad row is reported by its content
    assert "line 5: value 'ä' is not a number" in err


def test_no_candidate_layer(workspace, capsys):
    src, data = workspace
    text = (src / "sources.toml").read_text(encoding="utf-8")
    (src / "sources.toml").write_text(text.split("[regional_plan]")[0], encoding="utf-8")
    assert "no candidate sites: configure at least one of regional_plan, brownfields" in _fails(
        src, data, capsys
    )
