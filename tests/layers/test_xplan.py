"""XPlanGML regional plans (format `xplan-rp`): RP_IndustrieGewerbe areas become `regional_plan`."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from layers.errors import SourceError
from layers.schema import check
from layers.xplan import read_xplan_rp

FIXTURE = Path(__file__).parents[1] / "fixtures" / "xplan" / "regionalplan_rp.gml"
IDS = [f"GML_a1000001-0000-4000-8000-00000000000{n}" for n in range(1, 6)]
FREIRAUM = "GML_f2000001-0000-4000-8000-000000000001"
ANY_SRS = re.compile(r'\s+srsName="[^"]*"')


@pytest.fixture(scope="module")
def plan() -> gpd.GeoDataFrame:
    return read_xplan_rp(FIXTURE, {})


def variant(tmp_path: Path, text: str, name: str = "variant.gml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def fixture_text() -> str:
    return FIXTURE.read_text(encoding="utf-8")


def shoelace(coords: list[tuple[float, float]]) -> float:
    """Area of a simple polygon from its vertices, computed by hand."""
    pairs = zip(coords, coords[1:] + coords[:1], strict=True)
    return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in pairs)) / 2


# --- the fixture as read -------------------------------------------------------------------------


def test_only_industry_features_become_rows(plan):
    assert list(plan["area_id"]) == IDS
    assert FREIRAUM not in set(plan["area_id"])


def test_typ_codes_and_zweckbindung_give_the_categories(plan):
    assert dict(zip(plan["area_id"], plan["category"], strict=True)) == {
        IDS[0]: "GIB",  # typ 9000 (the nested XP_SpezExterneReferenz typ 3100 is ignored)
        IDS[1]: "LARGE_PROJECT",  # typ 5000
        IDS[2]: "GIB_Z",  # typ 1000 with istZweckbindung = true
        IDS[3]: "GIB",  # typ 2000
        IDS[4]: "GIB_Z",  # typ 7000
    }


def test_plan_is_the_rp_plan_name_and_name_the_text(plan):
    assert set(plan["plan"]) == {"Regionalplan Ruhr (Testauszug)"}
    names = dict(zip(plan["area_id"], plan["name"], strict=True))
    assert names[IDS[0]] == "GIB Testfläche Nord"
    assert pd.isna(names[IDS[2]])  # neither xplan:name nor xplan:text


def test_output_is_the_canonical_layer(plan):
    assert plan.crs.to_epsg() == 25832
    assert list(plan.columns) == ["area_id", "category", "plan", "name", "geometry"]
    assert plan.is_valid.all()
    assert check("regional_plan", plan) is plan


def test_multisurface_with_hole_has_the_hand_computed_area(plan):
    geom = plan.set_index("area_id").geometry[IDS[3]]
    assert geom.geom_type == "MultiPolygon"
    square, triangle = geom.geoms
    assert len(square.interiors) == 1
    assert square.area == 1000 * 1000 - 200 * 300
    assert triangle.area == 400 * 500 / 2
    assert geom.area == pytest.approx(1_040_000.0)


def test_polygons_keep_their_coordinates(plan):
    geoms = plan.set_index("area_id").geometry
    assert geoms[IDS[0]].bounds == (351000.0, 5691000.0, 351800.0, 5691500.0)
    pentagon = [(354000, 5694000), (356000, 5694000), (356500, 5695500), (355000, 5696500), (353500, 5695500)]
    assert geoms[IDS[1]].area == pytest.approx(shoelace(pentagon))
    # gml:Surface with one PolygonPatch of gml:pos points is a plain polygon
    assert geoms[IDS[4]].geom_type == "Polygon"
    assert geoms[IDS[4]].area == pytest.approx(1000 * 600)


# --- CRS ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "srs", ["EPSG:25832", "urn:ogc:def:crs:EPSG::25832", "http://www.opengis.net/def/crs/EPSG/0/25832"]
)
def test_every_epsg_notation_of_25832_works(tmp_path, plan, srs):
    text = re.sub(r'srsName="[^"]*"', f'srsName="{srs}"', fixture_text())
    assert_geodataframe_equal(read_xplan_rp(variant(tmp_path, text), {}), plan)


def test_srs_is_inherited_from_the_root_envelope(tmp_path, plan):
    text = ANY_SRS.sub("", fixture_text())
    text = text.replace("<gml:Envelope>", '<gml:Envelope srsName="EPSG:25832">', 1)  # root only
    assert_geodataframe_equal(read_xplan_rp(variant(tmp_path, text), {}), plan)


def test_srs_is_inherited_from_the_root_element(tmp_path, plan):
    text = ANY_SRS.sub("", fixture_text())
    text = text.replace("<xplan:XPlanAuszug ", '<xplan:XPlanAuszug srsName="EPSG:25832" ', 1)
    assert_geodataframe_equal(read_xplan_rp(variant(tmp_path, text), {}), plan)


def test_epsg_4647_zone_prefix_is_removed(tmp_path, plan):
    text = re.sub(r'srsName="[^"]*"', 'srsName="EPSG:4647"', fixture_text())
    text = re.sub(r"(?<![\d.])(3[56]\d{4}\.\d{3})", lambda m: f"{float(m[1]) + 32e6:.3f}", text)
    assert "32351000.000 5691000.000" in text
    read = read_xplan_rp(variant(tmp_path, text), {})
    assert read.crs.to_epsg() == 25832
    assert all(shapely.equals_exact(read.geometry.values, plan.geometry.values, tolerance=1e-6))


def test_no_srsname_anywhere_is_refused_with_the_fix(tmp_path):
    path = variant(tmp_path, ANY_SRS.sub("", fixture_text()))
    with pytest.raises(SourceError) as err:
        read_xplan_rp(path, {})
    message = str(err.value)
    assert "no coordinate reference system" in message
    assert 'srsName="EPSG:25832"' in message
    assert str(path) in message


# --- versions, configuration ----------------------------------------------------------------------


def test_xplangml_6_namespace_reads_the_same(tmp_path, plan):
    text = fixture_text().replace("xplangml/5/4", "xplangml/6/0")
    assert_geodataframe_equal(read_xplan_rp(variant(tmp_path, text), {}), plan)


def test_config_values_override_the_category_table(plan):
    read = read_xplan_rp(FIXTURE, {"values": {"category": {"9000": "GIB_Z"}}})
    assert read.set_index("area_id")["category"][IDS[0]] == "GIB_Z"
    assert list(read["category"][1:]) == list(plan["category"][1:])


def test_plan_name_falls_back_to_defaults_then_file_stem(tmp_path):
    text = re.sub(
        r"<gml:featureMember>\s*<xplan:RP_Plan .*?</gml:featureMember>",
        "",
        fixture_text(),
        count=1,
        flags=re.DOTALL,
    )
    assert "RP_Plan " not in text
    path = variant(tmp_path, text, "rp_ruhr.gml")
    assert set(read_xplan_rp(path, {})["plan"]) == {"rp_ruhr"}
    read = read_xplan_rp(path, {"defaults": {"plan": "Regionalplan Ruhr"}})
    assert set(read["plan"]) == {"Regionalplan Ruhr"}


# --- bad input ------------------------------------------------------------------------------------


def test_unknown_typ_codes_are_listed_with_their_features(tmp_path):
    text = fixture_text().replace("<xplan:typ>9000</xplan:typ>", "<xplan:typ>8000</xplan:typ>")
    text = text.replace("<xplan:typ>7000</xplan:typ>", "<xplan:typ>8000</xplan:typ>")
    with pytest.raises(SourceError) as err:
        read_xplan_rp(variant(tmp_path, text), {})
    assert err.value.problems == [err.value.problems[0]]  # one problem per unknown code
    problem = err.value.problems[0]
    assert "unknown typ code '8000'" in problem
    assert IDS[0] in problem and IDS[4] in problem
    assert "[regional_plan.values.category]" in problem


def test_unknown_typ_code_can_be_mapped_in_config(tmp_path):
    text = fixture_text().replace("<xplan:typ>9000</xplan:typ>", "<xplan:typ>8000</xplan:typ>")
    read = read_xplan_rp(variant(tmp_path, text), {"values": {"category": {"8000": "GIB"}}})
    assert read.set_index("area_id")["category"][IDS[0]] == "GIB"


def test_self_intersecting_ring_is_reported_with_other_problems(tmp_path):
    square = (
        "351000.000 5691000.000 351800.000 5691000.000 351800.000 5691500.000 "
        "351000.000 5691500.000 351000.000 5691000.000"
    )
    bow_tie = (
        "351000.000 5691000.000 351800.000 5691500.000 351800.000 5691000.000 "
        "351000.000 5691500.000 351000.000 5691000.000"
    )
    text = fixture_text().replace(square, bow_tie)
    text = text.replace("<xplan:typ>5000</xplan:typ>", "<xplan:typ>4711</xplan:typ>")
    with pytest.raises(SourceError) as err:
        read_xplan_rp(variant(tmp_path, text), {})
    problems = err.value.problems
    assert len(problems) == 2
    assert any(f"invalid geometry in feature {IDS[0]}" in p and "Self-intersection" in p for p in problems)
    assert any("unknown typ code '4711'" in p and IDS[1] in p for p in problems)


def test_point_position_is_refused_naming_the_feature(tmp_path):
    text = fixture_text()
    start = text.index("<gml:Polygon", text.index(IDS[2] + '">'))
    end = text.index("</gml:Polygon>", start) + len("</gml:Polygon>")
    text = (
        text[:start]
        + ('<gml:Point srsName="EPSG:25832" gml:id="pt"><gml:pos>357300 5691200</gml:pos></gml:Point>')
        + text[end:]
    )
    with pytest.raises(SourceError) as err:
        read_xplan_rp(variant(tmp_path, text), {})
    expected = f"feature {IDS[2]}: cannot read its geometry: gml:Point is not supported"
    assert expected in str(err.value)


def test_file_without_industry_features_names_what_it_found(tmp_path):
    text = re.sub(
        r"<gml:featureMember>\s*<xplan:RP_IndustrieGewerbe .*?</gml:featureMember>",
        "",
        fixture_text(),
        flags=re.DOTALL,
    )
    with pytest.raises(
        SourceError, match="no RP_IndustrieGewerbe features.*RP_Bereich, RP_Freiraum, RP_Plan"
    ):
        read_xplan_rp(variant(tmp_path, text), {})


def test_broken_xml_is_reported_with_its_position(tmp_path):
    path = variant(tmp_path, fixture_text().replace("</xplan:RP_Plan>", "</xplan:RP_Pla>"))
    with pytest.raises(SourceError, match=r"not a well-formed XML file: mismatched tag: line \d+"):
        read_xplan_rp(path, {})


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(SourceError, match="file not found"):
        read_xplan_rp(tmp_path / "missing.gml", {})


def test_3d_poslist_drops_the_height(tmp_path, plan):
    square = (
        '<gml:posList srsDimension="2" count="5">351000.000 5691000.000 '
        "351800.000 5691000.000 351800.000 5691500.000 351000.000 5691500.000 "
        "351000.000 5691000.000"
    )
    square_3d = (
        '<gml:posList srsDimension="3" count="5">351000 5691000 31.5 351800 5691000 32 '
        "351800 5691500 33 351000 5691500 34 351000 5691000 31.5"
    )
    text = fixture_text()
    assert square in text
    read = read_xplan_rp(variant(tmp_path, text.replace(square, square_3d)), {})
    assert_geodataframe_equal(read, plan)


# --- hostile XML ---------------------------------------------------------------------------------
def _with_doctype(doctype: str, entity: str) -> str:
    """The fixture with a DOCTYPE after the XML declaration and ``entity`` as the first plan name."""
    head, rest = fixture_text().split("?>", 1)
    text = f"{head}?>\n{doctype}{rest}"
    return re.sub(r"<xplan:name>[^<]*</xplan:name>", f"<xplan:name>{entity}</xplan:name>", text, count=1)


def test_an_external_entity_is_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("MARKER-7f3a-external-entity", encoding="utf-8")
    doctype = f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>\n'
    path = variant(tmp_path, _with_doctype(doctype, "&xxe;"))
    try:
        out = read_xplan_rp(path, {})
    except SourceError as exc:
        assert "MARKER" not in str(exc)
    else:
        assert "MARKER" not in out.to_json()


def test_an_entity_expansion_bomb_is_refused(tmp_path):
    lol = ['<!ENTITY a0 "lollollollollollollollollollol">']
    lol += [f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
    path = variant(tmp_path, _with_doctype(f"<!DOCTYPE x [{''.join(lol)}]>\n", "&a9;"))
    with pytest.raises(SourceError, match="not a well-formed XML file"):
        read_xplan_rp(path, {})
