"""Renewable units from the Marktstammdatenregister export (format `mastr`) and their demo.

The fixtures (tests/fixtures/renewables, written by make_renewables.py) are UTF-16 files in the
Gesamtdatenexport's layout with invented units around Paderborn; the capacity within 15 km of
Paderborn is summed by hand below. Importing ``layers.renewables`` registers the plug-in layer,
as the lead's one import line in layers/sources.py will.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer

from geo.crs import NRW_BOUNDS
from geo.measures import SumWithin
from layers import sources
from layers.errors import SourceError
from layers.municipalities import boundaries
from layers.renewables import LAYER, SCHEMA, read_mastr
from layers.renewables_demo import demo
from layers.schema import check

FIXTURES = Path(__file__).parents[1] / "fixtures" / "renewables"
BAD = FIXTURES / "bad"
PADERBORN = (8.7544, 51.7189)  # lon, lat
# By hand (make_renewables.py gives each unit's distance from Paderborn): in operation, with
# coordinates and within 15 km are wind 001 (3000 kW, 12.8 km) and 002 (2350.5 kW, 5 km), solar 001
# (99.9 kW, 1 km), 004 (7500 kW, 12.9 km) and 006 (30.6 kW, 1.2 km). Out: wind 003 and solar 005
# (23-24 km), wind 004/005 and solar 007 (not in operation), 006/007/008 (far away).
WITHIN_15KM_MW = (3000 + 2350.5 + 99.9 + 7500 + 30.6) / 1000  # 12.981
WITHIN = {"SEE900000000001", "SEE900000000002", "SEE910000000001", "SEE910000000004", "SEE910000000006"}


@pytest.fixture(scope="module")
def units() -> gpd.GeoDataFrame:
    return read_mastr(FIXTURES, {})


def test_reads_wind_and_numbered_solar_files_in_operation_near_nrw(units: gpd.GeoDataFrame) -> None:
    assert units.crs is not None and units.crs.to_epsg() == 25832
    assert list(units.columns) == ["unit_id", "technology", "capacity_mw", "status", "geometry"]
    mw = units["capacity_mw"].round(6)
    got = dict(zip(units["unit_id"], zip(units["technology"], mw, strict=True), strict=True))
    assert got == {
        "SEE900000000001": ("wind", 3.0),
        "SEE900000000002": ("wind", 2.3505),
        "SEE900000000003": ("wind", 4.2),
        "SEE900000000007": ("wind", 2.0),  # Lower Saxony, within NRW's extent + 15 km
        "SEE910000000001": ("solar", 0.0999),
        "SEE910000000004": ("solar", 7.5),
        "SEE910000000005": ("solar", 1.2345),  # listed in two numbered files, kept once
        "SEE910000000006": ("solar", 0.0306),
    }
    assert (units["status"] == 35).all()
    check(LAYER, units, FIXTURES)


def test_points_are_the_wgs84_coordinates_in_utm32(units: gpd.GeoDataFrame) -> None:
    t = Transformer.from_crs(4326, 25832, always_xy=True)
    x, y = t.transform(8.70, 51.75)  # wind 002
    p = units.set_index("unit_id").geometry["SEE900000000002"]
    assert (shapely.get_x(p), shapely.get_y(p)) == pytest.approx((x, y), abs=0.01)


def test_summary_counts_what_was_left_out(units: gpd.GeoDataFrame) -> None:
    s = units.attrs["mastr"]
    assert s["files"] == ["EinheitenWind.xml", "EinheitenSolar_1.xml", "EinheitenSolar_2.xml"]
    assert s["units_read"] == 16 and s["duplicates"] == 1 and s["not_in_operation"] == 3
    assert s["outside_extent"] == 2 and s["kept"] == 8
    assert s["kept_mw"] == pytest.approx(20.4155, abs=1e-4)
    # small PV without coordinates: 9.8 kW in NRW (Bundesland 1409) and 7.2 kW in Bavaria
    assert s["without_coordinates"] == 2 and s["without_coordinates_mw"] == pytest.approx(0.017)
    assert s["without_coordinates_nrw"] == 1 and s["without_coordinates_nrw_mw"] == pytest.approx(0.0098)


def test_capacity_within_15_km_matches_the_hand_sum(units: gpd.GeoDataFrame) -> None:
    # the hand classification holds on the ellipsoid (no unit within 1.5 km of the 15 km circle)
    geod = Geod(ellps="GRS80")
    t = Transformer.from_crs(25832, 4326, always_xy=True)
    lon, lat = t.transform(units.geometry.x.to_numpy(), units.geometry.y.to_numpy())
    _, _, d = geod.inv(np.full(len(lon), PADERBORN[0]), np.full(len(lon), PADERBORN[1]), lon, lat)
    assert set(units["unit_id"][d < 15_000]) == WITHIN
    assert not ((d > 13_500) & (d < 16_500)).any()
    # the measure the lead declares, over a 200 m site centred on Paderborn
    cx, cy = Transformer.from_crs(4326, 25832, always_xy=True).transform(*PADERBORN)
    site = shapely.box(cx - 100, cy - 100, cx + 100, cy + 100)
    far = shapely.box(300_000, 5_800_000, 300_200, 5_800_200)  # Kreis Borken: nothing within 15 km
    got = SumWithin(layer=LAYER, attribute="capacity_mw", radius_km=15).compute(np.array([site, far]), units)
    assert got[0] == pytest.approx([WITHIN_15KM_MW, 0.0])


def test_one_file_and_the_technology_option(units: gpd.GeoDataFrame) -> None:
    wind = read_mastr(FIXTURES / "EinheitenWind.xml", {})
    assert set(wind["technology"]) == {"wind"} and len(wind) == 4
    solar = read_mastr(FIXTURES, {"technology": "solar"})
    assert (
        set(solar["technology"]) == {"solar"} and solar.attrs["mastr"]["files"][0] == "EinheitenSolar_1.xml"
    )
    with pytest.raises(SourceError, match="technology must be"):
        read_mastr(FIXTURES, {"technology": "biomass"})


def test_directory_without_export_files_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"no MaStR export files \(EinheitenWind\*\.xml or EinheitenSolar"):
        read_mastr(tmp_path, {})


def test_registered_as_a_plug_in_layer() -> None:
    spec = sources.PLUGIN_LAYERS[LAYER]
    assert spec.kind == "vector" and spec.schema is SCHEMA and "SYNTHETIC" in spec.note
    fmt = spec.formats["mastr"]
    assert fmt.licence == "dl-de/by-2-0" and "Bundesnetzagentur" in fmt.attribution
    assert fmt.options == ("technology",) and sources.FORMAT_OPTIONS["mastr"] == ("technology",)


# -- bad input: each refused with the file, the element or line, and the reason ----------------


def refused(path: Path) -> SourceError:
    with pytest.raises(SourceError) as exc:
        read_mastr(path, {})
    assert exc.value.layer == LAYER
    return exc.value


def test_not_utf16_is_refused() -> None:
    err = refused(BAD / "not_utf16.xml")
    assert err.path is not None and err.path.endswith("not_utf16.xml")
    assert "not UTF-16" in str(err) and "3c 3f 78 6d" in str(err)


def test_cut_off_mid_element_is_refused() -> None:
    err = refused(BAD / "cut_off.xml")
    assert "cut off" in str(err) and "line 22" in str(err) and "after 1 complete unit" in str(err)


def test_coordinates_outside_germany_are_refused() -> None:
    err = refused(BAD / "outside_germany.xml")
    assert "outside_germany.xml: <EinheitWind> element 3 (SEE900000000009)" in str(err)
    assert "51.72, 8.75 lie outside Germany" in str(err)


def test_entity_bomb_is_refused_before_parsing() -> None:
    err = refused(BAD / "entity_bomb.xml")
    assert "line 2" in str(err) and "DOCTYPE" in str(err) and "entity bomb" in str(err)


def test_non_numeric_capacity_is_refused_once() -> None:
    err = refused(BAD / "bad_capacity.xml")
    assert err.problems == [
        "bad_capacity.xml: <EinheitWind> element 2 (SEE900000000010): Bruttoleistung '2,5 MW' is not a number"
    ]


def utf16_file(tmp_path: Path, text: str, codec: str = "utf-16", name: str = "EinheitenWind.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(codec))
    return path


UNIT = (
    "<EinheitWind><EinheitMastrNummer>SEE1</EinheitMastrNummer><Laengengrad>7.0</Laengengrad>"
    "<Breitengrad>51.5</Breitengrad><Bruttoleistung>{kw}</Bruttoleistung>"
    "<EinheitBetriebsstatus>35</EinheitBetriebsstatus>{extra}</EinheitWind>"
)


def doc(kw: str = "2000", extra: str = "", prolog: str = "") -> str:
    body = UNIT.format(kw=kw, extra=extra)
    return f'<?xml version="1.0" encoding="utf-16"?>{prolog}<EinheitenWind>{body}</EinheitenWind>'


def test_doctype_after_a_comment_and_undeclared_entities_are_refused(tmp_path: Path) -> None:
    hidden = doc(prolog='<!-- <EinheitenWind> --><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>')
    assert "DOCTYPE" in str(refused(utf16_file(tmp_path, hidden)))
    err = refused(utf16_file(tmp_path, doc(extra="<Ort>&e;</Ort>")))
    assert "not well-formed XML at line 1" in str(err) and "undefined entity" in str(err)


def test_big_endian_and_bomless_utf16_are_read(tmp_path: Path) -> None:
    be = utf16_file(tmp_path, "\ufeff" + doc(), "utf-16-be")
    assert be.read_bytes()[:2] == codecs.BOM_UTF16_BE and read_mastr(be, {})["capacity_mw"].tolist() == [2.0]
    le = utf16_file(tmp_path, doc(), "utf-16-le")
    assert read_mastr(le, {})["unit_id"].tolist() == ["SEE1"]


def test_wrong_root_empty_file_and_huge_values(tmp_path: Path) -> None:
    other = doc().replace("EinheitenWind>", "AnlagenEegWind>")
    assert "root element is <AnlagenEegWind>" in str(refused(utf16_file(tmp_path, other)))
    (tmp_path / "EinheitenWind.xml").write_bytes(b"")
    assert "empty" in str(refused(tmp_path / "EinheitenWind.xml"))
    err = refused(utf16_file(tmp_path, doc(kw="9" * 50_000 + "x")))
    assert "is not a number" in str(err) and len(str(err)) < 400  # hostile input is not echoed


# -- demo ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_units() -> gpd.GeoDataFrame:
    return demo(np.random.default_rng(7), boundaries())


def test_demo_is_deterministic_valid_and_inside_nrw(demo_units: gpd.GeoDataFrame) -> None:
    check(LAYER, demo_units, "demo generator")
    again = demo(np.random.default_rng(7), boundaries())
    assert again.equals(demo_units)
    nrw = shapely.union_all(boundaries().geometry.values)
    assert shapely.contains(nrw, demo_units.geometry.values).all()
    x0, y0, x1, y1 = NRW_BOUNDS
    b = demo_units.total_bounds
    assert b[0] >= x0 and b[1] >= y0 and b[2] <= x1 and b[3] <= y1


def test_demo_has_the_real_order_of_magnitude(demo_units: gpd.GeoDataFrame) -> None:
    wind = demo_units[demo_units["technology"] == "wind"]
    solar = demo_units[demo_units["technology"] == "solar"]
    assert 3_500 <= len(wind) <= 4_000 and 6_500 <= wind["capacity_mw"].sum() <= 8_000
    assert wind["capacity_mw"].between(0.5, 6.0).all() and (wind["capacity_mw"] >= 2).mean() > 0.75
    assert 1_500 <= solar["capacity_mw"].sum() <= 5_000 and solar["capacity_mw"].min() >= 0.03
    parks = solar[solar["capacity_mw"] >= 1]
    assert len(parks) >= 40 and parks["capacity_mw"].max() <= 20


def test_demo_wind_is_in_the_north_and_east_not_in_the_ruhr(demo_units: gpd.GeoDataFrame) -> None:
    muni = boundaries()
    wind = demo_units[demo_units["technology"] == "wind"]
    per_kreis = gpd.sjoin(wind, muni[["kreis_name", "geometry"]]).groupby("kreis_name")["capacity_mw"].sum()
    north_east = per_kreis.reindex(["Paderborn", "Steinfurt", "Borken", "Höxter", "Coesfeld", "Soest"]).sum()
    ruhr = per_kreis.reindex(
        ["Essen", "Bochum", "Dortmund", "Duisburg", "Gelsenkirchen", "Oberhausen"]
    ).fillna(0)
    assert north_east > 0.3 * wind["capacity_mw"].sum()
    assert ruhr.sum() < 0.02 * wind["capacity_mw"].sum()
    assert per_kreis.idxmax() == "Paderborn"


def test_sources_toml_names_the_export_directory(tmp_path: Path) -> None:
    dvg = (FIXTURES.parent / "dvg" / "dvg2gem_nw.shp").resolve()
    toml = tmp_path / "sources.toml"
    toml.write_text(
        f'[municipalities]\npath = "{dvg}"\nformat = "dvg"\n\n'
        f'[renewable_units]\npath = "{FIXTURES.resolve()}"\nformat = "mastr"\ntechnology = "wind"\n',
        encoding="utf-8",
    )
    src = sources.load_sources(toml)["renewable_units"]
    assert src.licence == "dl-de/by-2-0" and src.options == {"technology": "wind"}
    assert sorted(src.read()["unit_id"]) == [
        "SEE900000000001",
        "SEE900000000002",
        "SEE900000000003",
        "SEE900000000007",
    ]
    toml.write_text(toml.read_text(encoding="utf-8").replace('"wind"', "1"), encoding="utf-8")
    with pytest.raises(SourceError, match="option 'technology' must be a string"):
        sources.load_sources(toml)
