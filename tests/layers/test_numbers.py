"""Number cells in German and English formats: a declared format reads them right, an undeclared
ambiguous one is an error (never a guess), and the readers declare or take their file's format.
"""

from __future__ import annotations

import math

import pytest

from layers import coverage, sources
from layers.errors import SourceError
from layers.io import AmbiguousNumber, number_format, parse_number, read_table


@pytest.mark.parametrize(
    "text, fmt, value",
    [
        ("1.234", "de", 1234.0),  # the example: German thousands separator
        ("1.234", "en", 1.234),
        ("1.234,5", "de", 1234.5),
        ("1.234.567,25", "de", 1234567.25),
        ("1234,5", "de", 1234.5),
        ("1 234,5", "de", 1234.5),
        ("1\u00a0234,5", "de", 1234.5),
        ("-0,75", "de", -0.75),
        ("12,5 %", "de", 12.5),
        (",5", "de", 0.5),
        ("7", "de", 7.0),
        ("1,234.5", "en", 1234.5),
        ("1,234,567.25", "en", 1234567.25),
        ("1234.5", "en", 1234.5),
        ("1e3", "en", 1000.0),
        ("-.5", "en", -0.5),
        ("45 %", "en", 45.0),
    ],
)
def test_declared_formats(text, fmt, value):
    assert parse_number(text, fmt) == value


@pytest.mark.parametrize(
    "text, fmt",
    [
        ("1.5", "de"),
        ("1.23", "de"),
        ("1.234.5", "de"),
        ("1,2,3", "de"),
        ("1,5", "en"),
        ("1,23", "en"),
        ("1,234,5", "en"),
        ("1.2.3", "en"),
        ("abc", "de"),
        ("12 kg", "en"),
        ("0x10", "en"),
    ],
)
def test_cells_that_are_not_numbers_in_the_declared_format_are_errors(text, fmt):
    with pytest.raises(ValueError, match="is not a number in"):
        parse_number(text, fmt)


@pytest.mark.parametrize(
    "text, value",
    [
        ("1.5", 1.5),
        ("1,5", 1.5),
        ("1.234,5", 1234.5),
        ("1,234.5", 1234.5),
        ("1234", 1234.0),
        ("12.345.678", 12345678.0),
        ("1.2345", 1.2345),
        ("1,2345", 1.2345),
        ("0.123", 0.123),
    ],
)
def test_without_a_declared_format_unambiguous_cells_are_read(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["1.234", "1,234", "12.500", "-5,000", "999.999"])
def test_without_a_declared_format_ambiguity_is_an_error_not_a_guess(text):
    with pytest.raises(AmbiguousNumber, match="ambiguous.*number_format"):
        parse_number(text)


def test_empty_and_typed_cells():
    assert math.isnan(parse_number("")) and math.isnan(parse_number(None))
    assert math.isnan(parse_number(" - ")) and math.isnan(parse_number(float("nan")))
    assert parse_number(12.5) == 12.5 and parse_number(3) == 3.0  # xlsx numbers pass
    with pytest.raises(ValueError, match="unknown number format"):
        parse_number("1", "fr")


def test_csv_files_say_their_format_and_sources_may_declare_it(tmp_path):
    de = tmp_path / "de.csv"
    de.write_text("AGS;Wert\n05111000;1.234,5\n", encoding="utf-8")
    en = tmp_path / "en.csv"
    en.write_text('AGS,value\n05111000,"1,234.5"\n', encoding="utf-8")
    assert read_table("fibre", de).attrs["number_format"] == "de"
    assert read_table("fibre", en).attrs["number_format"] == "en"
    assert number_format({}, read_table("fibre", de)) == "de"
    assert number_format({"number_format": "en"}, read_table("fibre", de)) == "en"
    assert number_format({}) is None


def _municipal(tmp_path, rows: str, sep: str = ";", **cfg):
    path = tmp_path / "m.csv"
    path.write_text(f"AGS{sep}FTTH/B ≥ 1000 Mbit/s\n{rows}", encoding="utf-8")
    return coverage.read_breitbandatlas_municipal("fibre", path, cfg)


def test_a_german_breitbandatlas_csv_reads_decimal_commas(tmp_path):
    cov = _municipal(tmp_path, "05111000;12,5\n05112000;99,75\n")
    assert cov.units["05111000"] == pytest.approx(0.125)
    assert cov.units["05112000"] == pytest.approx(0.9975)


def test_a_declared_format_wins_and_a_wrong_cell_names_its_line(tmp_path):
    cov = _municipal(tmp_path, "05111000,12.5\n", sep=",", number_format="en")
    assert cov.units["05111000"] == pytest.approx(0.125)
    with pytest.raises(SourceError, match=r"line 3: value '12\.5' is not a number in German"):
        _municipal(tmp_path, "05111000;12,5\n05112000;12.5\n")


def test_sources_toml_checks_number_format(tmp_path, fixtures):
    (tmp_path / "m.csv").write_text("AGS;FTTH/B ≥ 1000 Mbit/s\n05111000;12,5\n", encoding="utf-8")
    toml = tmp_path / "sources.toml"
    dvg = (fixtures / "dvg" / "dvg2gem_nw.shp").as_posix()
    toml.write_text(
        f'[municipalities]\npath = "{dvg}"\nformat = "dvg"\n\n'
        '[fibre]\npath = "m.csv"\nformat = "breitbandatlas-municipal"\n'
        'number_format = "fr"\n',
        encoding="utf-8",
    )
    with pytest.raises(SourceError, match='number_format must be "de"'):
        sources.load_sources(toml)
    toml.write_text(toml.read_text().replace('"fr"', '"de"'), encoding="utf-8")
    cov = sources.load_sources(toml)["fibre"].read()
    assert cov.units["05111000"] == pytest.approx(0.125)
