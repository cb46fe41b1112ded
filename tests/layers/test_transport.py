"""Transport readers (OSM, DB Haltestellen, OpenFlights, OurAirports), fact tables and demo layers."""

from __future__ import annotations

import importlib.util
import shutil
import warnings
from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from api.cli import main
from geo.crs import transformer
from layers import osm, transport, transport_airports, transport_facts, transport_osm, transport_stations
from layers.demo_transport import FREIGHT, MOTORWAYS, PORTS, demo_transport
from layers.errors import SourceError
from layers.sources import load_sources
from layers.store import Store

ROOT = Path(__file__).resolve().parents[2]
TRANSPORT = ROOT / "tests" / "fixtures" / "transport"


# ---------------------------------------------------------------------------------------------
# OSM XML written by the tests, with the tag mix of a real extract


def _osm_xml(
    nodes: list[tuple[int, float, float, dict[str, str]]],
    ways: list[tuple[int, list[int], dict[str, str]]],
    relations: list[tuple[int, list[tuple[str, int, str]], dict[str, str]]],
) -> str:
    def tags(t: dict[str, str]) -> str:
        return "".join(f"\n    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in t.items())

    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<osm version="0.6" generator="tests/layers/test_transport.py">',
        '  <bounds minlat="51.0" minlon="6.0" maxlat="52.0" maxlon="8.0"/>',
    ]
    for nid, lat, lon, t in nodes:
        attrs = f'id="{nid}" lat="{lat}" lon="{lon}" version="3" timestamp="2024-05-01T10:00:00Z"'
        out.append(f"  <node {attrs}/>" if not t else f"  <node {attrs}>{tags(t)}\n  </node>")
    for wid, refs, t in ways:
        nds = "".join(f'\n    <nd ref="{r}"/>' for r in refs)
        out.append(f'  <way id="{wid}" version="1">{nds}{tags(t)}\n  </way>')
    for rid, members, t in relations:
        mem = "".join(f'\n    <member type="{ty}" ref="{ref}" role="{role}"/>' for ty, ref, role in members)
        out.append(f'  <relation id="{rid}" version="1">{mem}{tags(t)}\n  </relation>')
    out.append("</osm>")
    return "\n".join(out) + "\n"


def _square(first_id: int, lat: float, lon: float, d: float = 0.004) -> list[tuple[int, float, float, dict]]:
    """Four untagged nodes of a square (the way closes it by repeating the first)."""
    return [
        (first_id, lat, lon, {}),
        (first_id + 1, lat + d, lon, {}),
        (first_id + 2, lat + d, lon + d, {}),
        (first_id + 3, lat, lon + d, {}),
    ]


def _ring(first_id: int) -> list[int]:
    return [first_id, first_id + 1, first_id + 2, first_id + 3, first_id]


@pytest.fixture()
def osm_file(tmp_path: Path) -> Path:
    """A small extract: junctions, ports, terminals, yards and everything a reader must drop."""
    nodes = [
        # untagged nodes and nodes with only insignificant tags
        (1, 51.40, 6.70, {}),
        (2, 51.41, 6.71, {"created_by": "JOSM"}),
        (3, 51.42, 6.72, {"source": "survey"}),
        # motorway junctions
        (
            10,
            51.4501,
            6.8002,
            {
                "highway": "motorway_junction",
                "name": "Kreuz Kaiserberg",
                "ref": "18",
                "destination": "Düsseldorf; Köln, Bonn",
            },
        ),
        (
            11,
            51.2800,
            6.7700,
            {
                "highway": "motorway_junction",
                "name": 'Düsseldorf-Flughafen "Nord"',
                "ref": "3a",
                "exit_to": 'Messe, "Arena", Stockum',
                "note": 'nicht "öffentlich", bitte prüfen',
            },
        ),
        (12, 51.5100, 7.4600, {"highway": "motorway_junction", "ref": "41"}),  # no name
        (13, 51.5200, 7.4700, {"highway": "motorway_junction", "name": "Dortmund-Nord"}),  # no ref
        # not junctions
        (20, 51.43, 6.78, {"highway": "traffic_signals"}),
        (21, 51.43, 6.77, {"railway": "station", "name": "Duisburg Hbf", "operator": "DB InfraGO"}),
        (22, 51.44, 6.76, {"amenity": "fuel", "name": 'Tankstelle "Süd", Autohof'}),
        # rail freight nodes
        (
            30,
            51.5350,
            7.4350,
            {
                "railway": "container_terminal",
                "name": "Containerterminal Dortmund",
                "operator": "CTD, Dortmunder Hafen AG",
            },
        ),
        (31, 51.3850, 7.4350, {"railway": "yard", "name": "Hagen-Vorhalle Rbf"}),
        (32, 51.3860, 7.4360, {"railway": "yard"}),  # unnamed yard: dropped
        (
            33,
            50.9050,
            6.9300,
            {"industrial": "intermodal_freight_terminal", "name": "KV-Terminal Köln Eifeltor"},
        ),
        (34, 51.3900, 7.4400, {"railway": "switch", "ref": "W 12"}),
        *_square(100, 51.450, 6.730),  # landuse=port way "Hafen Ruhrort"
        *_square(110, 51.380, 6.700),  # industrial=port, no name
        *_square(120, 51.650, 6.600),  # harbour=yes with name
        *_square(130, 51.660, 6.610),  # harbour=yes + leisure=marina: dropped
        *_square(140, 51.670, 6.620),  # harbour=yes, no name: dropped
        *_square(150, 51.680, 6.630),  # harbour=yes, seamark marina: dropped
        *_square(160, 51.200, 6.700),  # landuse=industrial: dropped
        *_square(170, 50.910, 7.010),  # railway=yard named area
        *_square(180, 50.920, 7.020),  # railway=yard, no name: dropped
        *_square(190, 51.190, 6.690),  # intermodal terminal area (landuse=industrial + industrial=...)
        # a multipolygon relation: two untagged outer ways forming one ring, one inner ring
        (200, 51.300, 6.650, {}),
        (201, 51.300, 6.680, {}),
        (202, 51.320, 6.680, {}),
        (203, 51.320, 6.650, {}),
        *_square(210, 51.305, 6.655, 0.005),
        # line nodes
        (300, 51.45, 6.80, {}),
        (301, 51.46, 6.81, {}),
        (302, 51.47, 6.82, {}),
    ]
    ways = [
        (1000, _ring(100), {"landuse": "port", "name": "Hafen Ruhrort"}),
        (1001, _ring(110), {"industrial": "port", "landuse": "industrial"}),
        (1002, _ring(120), {"harbour": "yes", "name": "Rhein-Lippe-Hafen Wesel"}),
        (1003, _ring(130), {"harbour": "yes", "leisure": "marina", "name": "Yachthafen Wesel"}),
        (1004, _ring(140), {"harbour": "yes"}),
        (
            1005,
            _ring(150),
            {"harbour": "yes", "name": "Sportboothafen", "seamark:harbour:category": "marina_no_facilities"},
        ),
        (1006, _ring(160), {"landuse": "industrial", "name": "Industriegebiet Hafen"}),
        (1007, _ring(170), {"railway": "yard", "name": "Köln-Gremberg Rbf", "service": "yard"}),
        (1008, _ring(180), {"railway": "yard"}),
        (
            1009,
            _ring(190),
            {
                "landuse": "industrial",
                "industrial": "intermodal_freight_terminal",
                "name": 'KV-Terminal Neuss "Hessentor", Umschlag',
            },
        ),
        (1010, [200, 201, 202], {}),  # untagged outer parts of the relation
        (1011, [202, 203, 200], {}),
        (1012, _ring(210), {}),
        (1020, [300, 301, 302], {"highway": "motorway", "ref": "A 3", "oneway": "yes"}),  # no name
        (1021, [300, 302], {"railway": "rail", "usage": "main"}),
    ]
    relations = [
        (
            5000,
            [("way", 1010, "outer"), ("way", 1011, "outer"), ("way", 1012, "inner")],
            {
                "type": "multipolygon",
                "landuse": "port",
                "name": 'Krefelder Rheinhafen "Linn", Becken 1 – Ölhafen',
            },
        ),
        (5001, [("way", 1020, "")], {"type": "route", "route": "road", "ref": "A 3"}),
    ]
    path = tmp_path / "nrw-sample.osm"
    path.write_text(_osm_xml(nodes, ways, relations), encoding="utf-8")
    return path


def test_osm_junctions_keep_motorway_junction_nodes_only(osm_file):
    gdf = transport_osm.read_osm_junctions(osm_file, {})
    assert gdf.crs.to_epsg() == 25832
    assert sorted(gdf["junction_id"]) == ["node/10", "node/11", "node/12", "node/13"]
    by_id = gdf.set_index("junction_id")
    assert by_id.loc["node/10", "name"] == "Kreuz Kaiserberg"
    assert by_id.loc["node/10", "ref"] == "18"
    assert by_id.loc["node/11", "name"] == 'Düsseldorf-Flughafen "Nord"'
    assert by_id.loc["node/11", "ref"] == "3a"
    assert pd.isna(by_id.loc["node/12", "name"]) and pd.isna(by_id.loc["node/13", "ref"])
    assert set(gdf["source"]) == {"OpenStreetMap"}
    assert set(gdf.geom_type) == {"Point"}
    x, y = transformer(4326, 25832).transform(6.8002, 51.4501)
    p = by_id.loc["node/10", "geometry"]
    assert abs(p.x - x) < 0.01 and abs(p.y - y) < 0.01


def test_osm_ports_keep_port_areas_and_named_harbours_not_marinas(osm_file):
    gdf = transport_osm.read_osm_ports(osm_file, {})
    got = dict(zip(gdf["port_id"], gdf["name"].fillna("-"), strict=True))
    assert got == {
        "way/1000": "Hafen Ruhrort",
        "way/1001": "-",
        "way/1002": "Rhein-Lippe-Hafen Wesel",
        "relation/5000": 'Krefelder Rheinhafen "Linn", Becken 1 – Ölhafen',
    }
    assert set(gdf.geom_type) <= {"Polygon", "MultiPolygon"}
    assert gdf.geometry.is_valid.all()
    rel = gdf.set_index("port_id").loc["relation/5000", "geometry"]
    assert len(shapely.get_interior_ring(shapely.get_geometry(rel, 0), 0).coords) == 5  # the inner ring


def test_osm_rail_freight_nodes_and_areas(osm_file):
    gdf = transport_osm.read_osm_rail_freight(osm_file, {})
    got = {i: (n, t) for i, n, t in zip(gdf["terminal_id"], gdf["name"], gdf["type"], strict=True)}
    assert got == {
        "node/30": ("Containerterminal Dortmund", "container_terminal"),
        "node/31": ("Hagen-Vorhalle Rbf", "yard"),
        "node/33": ("KV-Terminal Köln Eifeltor", "intermodal_freight_terminal"),
        "way/1007": ("Köln-Gremberg Rbf", "yard"),
        "way/1009": ('KV-Terminal Neuss "Hessentor", Umschlag', "intermodal_freight_terminal"),
    }
    kinds = dict(zip(gdf["terminal_id"], gdf.geom_type, strict=True))
    assert kinds["node/30"] == "Point" and kinds["way/1007"] in ("Polygon", "MultiPolygon")


def test_a_changed_extract_is_read_again(osm_file):
    assert len(transport_osm.read_osm_junctions(osm_file, {})) == 4
    text = osm_file.read_text(encoding="utf-8").replace(
        "</osm>",
        '  <node id="99" lat="51.6" lon="7.6"><tag k="highway" v="motorway_junction"/>'
        '<tag k="name" v="Kamener Kreuz"/></node>\n</osm>',
    )
    osm_file.write_text(text, encoding="utf-8")
    gdf = transport_osm.read_osm_junctions(osm_file, {})
    assert len(gdf) == 5 and "Kamener Kreuz" in set(gdf["name"])
    gdf.loc[0, "name"] = "changed by a caller"  # callers get copies of the kept pass
    assert "changed by a caller" not in set(transport_osm.read_osm_junctions(osm_file, {})["name"])


def test_other_tags_with_quotes_commas_and_umlauts():
    text = r'"destination"=>"Düsseldorf; Köln, Bonn","exit_to"=>"Messe, \"Arena\", Stockum","x"=>"a\\b"'
    assert osm.parse_other_tags(text) == {
        "destination": "Düsseldorf; Köln, Bonn",
        "exit_to": 'Messe, "Arena", Stockum',
        "x": "a\\b",
    }
    assert osm.parse_other_tags(None) == {}


def test_osm_invalid_area_is_repaired(tmp_path):
    # a self-intersecting "bow tie" port area, as OSM sometimes has
    nodes = [(1, 51.40, 6.70, {}), (2, 51.41, 6.71, {}), (3, 51.40, 6.71, {}), (4, 51.41, 6.70, {})]
    path = tmp_path / "bowtie.osm"
    path.write_text(
        _osm_xml(nodes, [(10, [1, 2, 3, 4, 1], {"landuse": "port", "name": "Bow"})], []), encoding="utf-8"
    )
    gdf = transport_osm.read_osm_ports(path, {})
    assert len(gdf) == 1 and gdf.geometry.is_valid.all() and gdf.area.iloc[0] > 0


def test_osm_file_name_and_broken_xml_are_refused(tmp_path, osm_file):
    renamed = tmp_path / "extract.xml"
    shutil.copy(osm_file, renamed)
    with pytest.raises(SourceError) as err:
        transport_osm.read_osm_junctions(renamed, {})
    assert "extract.xml" in str(err.value) and "*.osm.pbf" in str(err.value)
    broken = tmp_path / "broken.osm"
    broken.write_text(
        '<?xml version="1.0"?>\n<osm version="0.6">\n  <node id="1" lat="51.4" lon=', encoding="utf-8"
    )
    with pytest.raises(SourceError) as err:
        transport_osm.read_osm_ports(broken, {})
    assert "layer 'ports'" in str(err.value) and "broken.osm" in str(err.value)
    with pytest.raises(SourceError, match="file not found"):
        transport_osm.read_osm_rail_freight(tmp_path / "missing.osm.pbf", {})


def test_mapped_files_for_the_osm_layers(tmp_path):
    x, y = transformer(4326, 25832).transform([6.80, 7.46], [51.45, 51.51])
    junctions = tmp_path / "anschlussstellen.gpkg"
    gpd.GeoDataFrame(
        {"AS_NR": ["18", "41"], "AS_NAME": ["Kaiserberg", "Dortmund-Nord"]},
        geometry=shapely.points(x, y),
        crs=25832,
    ).to_file(junctions)
    gdf = transport.read_mapped(
        "motorway_junctions",
        junctions,
        {"columns": {"junction_id": "AS_NR", "name": "AS_NAME", "ref": "AS_NR"}},
    )
    assert list(gdf["name"]) == ["Kaiserberg", "Dortmund-Nord"]
    assert set(gdf["source"]) == {"anschlussstellen.gpkg"}
    terminals = tmp_path / "kv.geojson"
    gpd.GeoDataFrame(
        {"NAME": ["Eifeltor", "Gremberg"], "ART": ["KV", "Rbf"]}, geometry=shapely.points(x, y), crs=25832
    ).to_crs(4326).to_file(terminals)
    cfg = {
        "columns": {"name": "NAME", "type": "ART"},
        "values": {"type": {"KV": "intermodal_freight_terminal", "Rbf": "yard"}},
    }
    gdf = transport.read_mapped("rail_freight", terminals, cfg)
    assert list(gdf["type"]) == ["intermodal_freight_terminal", "yard"]
    assert list(gdf["terminal_id"]) == ["rail_freight-1", "rail_freight-2"]
    with pytest.raises(SourceError) as err:
        transport.read_mapped("rail_freight", terminals, {"columns": {"name": "NAME", "type": "ART"}})
    assert "kv.geojson" in str(err.value) and "type must be one of" in str(err.value)


# ---------------------------------------------------------------------------------------------
# DB Haltestellendaten


def test_db_stations_csv():
    gdf = transport_stations.read_db_stations(TRANSPORT / "D_Bahnhof_2020_sample.csv", {})
    assert gdf.crs.to_epsg() == 25832
    assert len(gdf) == 8
    s = gdf.set_index("eva_nr")
    assert s.loc["8000085", "name"] == "Düsseldorf Hbf" and s.loc["8000085", "traffic"] == "FV"
    assert bool(s.loc["8000085", "long_distance"]) is True
    assert s.loc["8004371", "traffic"] == "nur DPN" and not s.loc["8004371", "long_distance"]
    assert s.loc["8002535", "traffic"] == "RV"
    assert s.loc["8000294", "ds100"] == "HO,HO  O,HO  U"
    assert gdf["long_distance"].dtype == bool and int(gdf["long_distance"].sum()) == 6
    assert all(isinstance(e, str) for e in gdf["eva_nr"])
    x, y = transformer(4326, 25832).transform(6.794319, 51.219962)
    assert s.loc["8000085", "geometry"].distance(shapely.Point(x, y)) < 0.01


def _db_csv(tmp_path: Path, edit) -> Path:
    lines = (TRANSPORT / "D_Bahnhof_2020_sample.csv").read_text(encoding="utf-8").splitlines()
    lines = edit(lines)
    path = tmp_path / "D_Bahnhof_edit.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_db_stations_missing_column_names_file_and_column(tmp_path):
    path = _db_csv(tmp_path, lambda ls: [ls[0].replace("Verkehr", "Verk")] + ls[1:])
    with pytest.raises(SourceError) as err:
        transport_stations.read_db_stations(path, {})
    msg = str(err.value)
    assert "layer 'rail_stations'" in msg and "D_Bahnhof_edit.csv" in msg and "'Verkehr'" in msg


def test_db_stations_bad_number_names_line_and_column(tmp_path):
    path = _db_csv(tmp_path, lambda ls: ls[:3] + [ls[3].replace("7,45929", "7,45x29")] + ls[4:])
    with pytest.raises(SourceError) as err:
        transport_stations.read_db_stations(path, {})
    msg = str(err.value)
    assert "D_Bahnhof_edit.csv" in msg and "line 4" in msg and "'Laenge'" in msg and "7,45x29" in msg


def test_db_stations_unknown_traffic_code_and_its_mapping(tmp_path):
    path = _db_csv(tmp_path, lambda ls: ls[:6] + [ls[6].replace(";RV;", ";RVnur DPN;")] + ls[7:])
    with pytest.raises(SourceError) as err:
        transport_stations.read_db_stations(path, {})
    assert "line 7" in str(err.value) and "[rail_stations.values.traffic]" in str(err.value)
    gdf = transport_stations.read_db_stations(path, {"values": {"traffic": {"RVnur DPN": "RV"}}})
    assert gdf.set_index("eva_nr").loc["8002535", "traffic"] == "RV"


def test_db_stations_duplicate_eva_and_bad_eva(tmp_path):
    path = _db_csv(
        tmp_path,
        lambda ls: ls + [ls[1], "80x1;XX;;Irgendwo;RV;7,0;51,0;DB;;", ";XY;;Nirgendwo;RV;7,1;51,1;DB;;"],
    )
    with pytest.raises(SourceError) as err:
        transport_stations.read_db_stations(path, {})
    msg = str(err.value)
    assert "duplicate eva_nr 8000001" in msg and "'80x1'" in msg and "line 11" in msg
    assert "line 12: '' in column 'EVA_NR'" in msg
    with pytest.raises(SourceError, match="maps only 'traffic'"):
        transport_stations.read_db_stations(TRANSPORT / "D_Bahnhof_2020_sample.csv", {"values": {"name": {}}})


def test_db_stations_from_an_ogr_file_with_or_without_crs(tmp_path):
    src = pd.read_csv(TRANSPORT / "D_Bahnhof_2020_sample.csv", sep=";", decimal=",", dtype={"EVA_NR": str})
    pts = gpd.points_from_xy(src["Laenge"], src["Breite"])
    gpkg = tmp_path / "haltestellen.gpkg"
    gpd.GeoDataFrame(src, geometry=pts, crs=4326).to_file(gpkg)
    assert len(transport_stations.read_db_stations(gpkg, {})) == 8
    # no Laenge/Breite: the geometry is used, and a file without a CRS is refused
    shp = tmp_path / "haltestellen.shp"
    with warnings.catch_warnings():  # "'crs' was not provided": that is the point
        warnings.simplefilter("ignore", UserWarning)
        gpd.GeoDataFrame(src[["EVA_NR", "DS100", "NAME", "Verkehr"]], geometry=pts).to_file(shp)
    with pytest.raises(SourceError) as err:
        transport_stations.read_db_stations(shp, {})
    assert "haltestellen.shp" in str(err.value) and "no coordinate reference system" in str(err.value)
    shp.with_suffix(".prj").write_text(_wgs84_prj(), encoding="utf-8")
    gdf = transport_stations.read_db_stations(shp, {})
    assert len(gdf) == 8 and gdf.crs.to_epsg() == 25832


def _wgs84_prj() -> str:
    from pyproj import CRS

    return CRS.from_epsg(4326).to_wkt("WKT1_ESRI")


# ---------------------------------------------------------------------------------------------
# airports


def test_openflights_dat_without_header():
    gdf = transport_airports.read_openflights(TRANSPORT / "airports.dat", {})
    assert gdf.crs.to_epsg() == 25832
    assert "9999001" not in set(gdf["airport_id"])  # Type = station is skipped
    assert len(gdf) == 7
    a = gdf.set_index("airport_id")
    assert a.loc["345", "iata"] == "DUS" and a.loc["345", "icao"] == "EDDL"
    assert pd.isna(a.loc["6840", "iata"]) and a.loc["6840", "name"] == "Dinslaken/Schwarze Heide Airport"
    assert sorted(gdf.loc[gdf["commercial"], "iata"]) == ["CGN", "DTM", "DUS"]
    assert gdf["commercial"].dtype == bool
    assert a.loc["370", "name"] == "Mönchengladbach Airport"


def test_openflights_with_header_quotes_and_commercial_option(tmp_path):
    text = (TRANSPORT / "airports.dat").read_text(encoding="utf-8")
    header = ",".join(f'"{c}"' for c in transport_airports.OPENFLIGHTS_COLUMNS)
    extra = (
        '4198,"Weeze Airport, ""Niederrhein""","Weeze","Germany","NRN","EDLV",51.602402,'
        '6.14217,106,1,"E","Europe/Berlin","airport","OurAirports"'
    )
    path = tmp_path / "airports_with_header.csv"
    path.write_text(header + "\n" + text + extra + "\n", encoding="utf-8")
    gdf = transport_airports.read_openflights(path, {})
    assert gdf.set_index("airport_id").loc["4198", "name"] == 'Weeze Airport, "Niederrhein"'
    assert sorted(gdf.loc[gdf["commercial"], "iata"]) == ["CGN", "DTM", "DUS", "NRN"]
    only = transport_airports.read_openflights(path, {"commercial": ["dus", "ESS"]})
    assert sorted(only.loc[only["commercial"], "iata"]) == ["DUS", "ESS"]


def test_openflights_bad_input(tmp_path):
    lines = (TRANSPORT / "airports.dat").read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "airports.dat"
    bad.write_text(
        "\n".join([lines[0].replace("50.8658981323", "50.86.5x")] + lines[1:]) + "\n", encoding="utf-8"
    )
    with pytest.raises(SourceError) as err:
        transport_airports.read_openflights(bad, {})
    msg = str(err.value)
    assert "layer 'airports'" in msg and "airports.dat" in msg and "line 1" in msg and "'Latitude'" in msg
    short = tmp_path / "short.dat"
    short.write_text("\n".join(",".join(ln.split(",")[:9]) for ln in lines) + "\n", encoding="utf-8")
    with pytest.raises(SourceError, match="9 columns, expected 14"):
        transport_airports.read_openflights(short, {})
    with pytest.raises(SourceError, match="list of IATA codes"):
        transport_airports.read_openflights(TRANSPORT / "airports.dat", {"commercial": [1, 2]})


def test_ourairports_csv():
    gdf = transport_airports.read_ourairports(TRANSPORT / "airports.csv", {})
    assert gdf.crs.to_epsg() == 25832
    assert sorted(gdf["airport_id"]) == ["EDDL", "EDLD", "EDLE", "EDLW"]  # heliport, closed skipped
    a = gdf.set_index("airport_id")
    assert a.loc["EDLE", "iata"] == "ESS" and not a.loc["EDLE", "commercial"]
    assert a.loc["EDLD", "icao"] == "EDLD" and pd.isna(a.loc["EDLD", "iata"])  # from gps_code
    assert sorted(gdf.loc[gdf["commercial"], "iata"]) == ["DTM", "DUS"]
    assert a.loc["EDLE", "name"] == "Essen/Mülheim Airport"


def test_ourairports_missing_column_and_old_column_set(tmp_path):
    text = (TRANSPORT / "airports.csv").read_text(encoding="utf-8")
    path = tmp_path / "airports.csv"
    path.write_text(text.replace('"iata_code"', '"iata"', 1), encoding="utf-8")
    with pytest.raises(SourceError) as err:
        transport_airports.read_ourairports(path, {})
    assert "airports.csv" in str(err.value) and "'iata_code'" in str(err.value)
    # the older column set without icao_code (gps_code holds the ICAO code)
    old = pd.read_csv(TRANSPORT / "airports.csv", dtype=str).drop(columns=["icao_code"])
    old.to_csv(path, index=False)
    gdf = transport_airports.read_ourairports(path, {})
    assert gdf.set_index("airport_id").loc["EDDL", "icao"] == "EDDL"


# ---------------------------------------------------------------------------------------------
# facts, sources.toml and the build


def test_fact_tables_read_and_check():
    stations = transport_facts.read_station_facts()
    airports = transport_facts.read_airport_facts()
    assert len(stations) == 579 and int(stations["long_distance"].sum()) == 53
    assert set(stations["traffic"]) == {"FV", "RV"}
    assert len(airports) == 44
    assert set(airports.loc[airports["commercial"], "iata"]) == transport.COMMERCIAL_IATA_NRW
    assert {"ESS", "MGL", "BFE", "SGE"} <= set(airports.loc[~airports["commercial"], "iata"])


TRANSPORT_TOML = """
[motorway_junctions]
path = "{osm}"
format = "osm"

[ports]
path = "{osm}"
format = "osm"

[rail_freight]
path = "{osm}"
format = "osm"

[rail_stations]
path = "transport/D_Bahnhof_2020_sample.csv"
format = "db-haltestellen"
date = "2020"

[airports]
path = "transport/airports.dat"
format = "openflights"
"""


def test_sources_toml_formats_defaults_and_option_checks(tmp_path, fixtures, osm_file):
    toml = tmp_path / "sources.toml"
    toml.write_text(
        TRANSPORT_TOML.format(osm=osm_file)
        + '\n[municipalities]\npath = "{}"\nformat = "dvg"\n'.format(fixtures / "dvg" / "dvg2gem_nw.shp"),
        encoding="utf-8",
    )
    shutil.copytree(TRANSPORT, tmp_path / "transport")
    cfg = load_sources(toml)
    assert cfg["rail_stations"].licence.startswith("CC-BY-4.0")
    assert "Deutsche Bahn AG" in cfg["rail_stations"].attribution
    assert cfg["airports"].licence.startswith("ODbL-1.0") and cfg["airports"].attribution == "OpenFlights.org"
    assert cfg["ports"].attribution == "© OpenStreetMap contributors"
    assert len(cfg["motorway_junctions"].read()) == 4

    toml.write_text(
        toml.read_text(encoding="utf-8")
        .replace('format = "openflights"', 'format = "openflights"\ncommercial = "DUS"')
        .replace('format = "db-haltestellen"', 'format = "db-haltestellen"\ncolumn = "x"'),
        encoding="utf-8",
    )
    with pytest.raises(SourceError) as err:
        load_sources(toml)
    assert "option 'commercial' must be a list" in str(err.value)
    assert "unknown option 'column' for format 'db-haltestellen'" in str(err.value)

    toml.write_text(
        '[airports]\nformat = "facts"\n[rail_stations]\nformat = "facts"\n'
        '[municipalities]\npath = "{}"\nformat = "dvg"\n'.format(fixtures / "dvg" / "dvg2gem_nw.shp"),
        encoding="utf-8",
    )
    cfg = load_sources(toml)
    assert cfg["airports"].path is None and len(cfg["airports"].read()) == 44
    assert "share-alike" in cfg["airports"].licence


@pytest.fixture()
def workspace(tmp_path, fixtures):
    """A copy of the fixtures; their sources.toml names the five transport layers (the OSM
    extract is transport/nrw-sample.osm, written by ``osm_file``)."""
    src = tmp_path / "src"
    shutil.copytree(fixtures, src)
    return src, tmp_path / "data"


def test_build_takes_transport_layers_with_licence_into_the_manifest(workspace):
    src, data = workspace
    assert main(["build", "--sources", str(src / "sources.toml"), "--data", str(data)]) == 0
    m = Store(data).manifest()
    counts = {name: m["layers"][name]["count"] for name in transport.LAYERS}
    assert counts == {
        "motorway_junctions": 4,
        "ports": 4,
        "rail_freight": 5,
        "rail_stations": 8,
        "airports": 7,
    }
    assert not set(transport.LAYERS) & set(m["missing_layers"])
    assert m["layers"]["rail_stations"]["licence"].startswith("CC-BY-4.0")
    assert m["layers"]["airports"]["attribution"] == "OpenFlights.org"
    assert m["layers"]["ports"]["licence"].startswith("ODbL-1.0")
    snap = Store(data).load()
    assert snap.layers["rail_stations"]["long_distance"].dtype == bool
    assert snap.layers["ports"].crs.to_epsg() == 25832


def test_bad_transport_file_fails_the_build_and_keeps_the_snapshot(workspace, capsys):
    src, data = workspace
    assert main(["build", "--sources", str(src / "sources.toml"), "--data", str(data)]) == 0
    live = Store(data).current_id()
    csv = src / "transport" / "D_Bahnhof_2020_sample.csv"
    csv.write_text(csv.read_text(encoding="utf-8").replace("51,219962", "51;219962"), encoding="utf-8")
    capsys.readouterr()
    assert main(["build", "--sources", str(src / "sources.toml"), "--data", str(data)]) == 1
    err = capsys.readouterr().err
    assert "rail_stations" in err and "D_Bahnhof_2020_sample.csv" in err
    assert Store(data).current_id() == live


# ---------------------------------------------------------------------------------------------
# demo layers


@pytest.fixture(scope="module")
def demo_layers():
    from layers import demo

    muni, _ = demo._municipalities()
    return muni, demo_transport(muni, np.random.default_rng(7))


def test_demo_transport_is_deterministic_and_labelled(demo_layers):
    muni, layers = demo_layers
    again = demo_transport(muni, np.random.default_rng(7))
    other = demo_transport(muni, np.random.default_rng(8))
    assert list(layers) == list(transport.LAYERS)
    for name, gdf in layers.items():
        assert gdf.crs.to_epsg() == 25832
        assert gdf.equals(again[name]), name
    assert not layers["motorway_junctions"].equals(other["motorway_junctions"])
    for name in ("motorway_junctions", "ports", "rail_freight"):
        assert set(layers[name]["source"]) == {"SYNTHETIC demo"}
    assert set(layers["rail_stations"]["source"]) == {"DB Haltestellendaten"}
    assert (
        set(layers["airports"].loc[layers["airports"]["commercial"], "iata"]) == transport.COMMERCIAL_IATA_NRW
    )


def test_demo_transport_places_features_plausibly(demo_layers):
    muni, layers = demo_layers
    nrw = shapely.union_all(muni.geometry.values)
    for name, gdf in layers.items():
        assert (shapely.distance(gdf.geometry.values, nrw) <= 10_000).all(), name
    j = layers["motorway_junctions"]
    assert len(j) > 250 and j["junction_id"].is_unique
    roads = j["name"].str.extract(r"\((A\d+)\)$")[0]
    assert set(roads) == {road for road, _ in MOTORWAYS}
    for _, group in j.groupby(roads):
        pts = np.c_[group.geometry.x, group.geometry.y]
        step = np.hypot(*np.diff(pts, axis=0).T)
        step = step[step < 15_000]  # jumps between the stretches of one motorway excluded
        assert step.max() <= 8_000.001 and np.median(step) >= 4_500
    ports, freight = layers["ports"], layers["rail_freight"]
    assert list(ports["name"]) == [p[0] for p in PORTS] and list(freight["name"]) == [f[0] for f in FREIGHT]
    for gdf, table in ((ports, PORTS), (freight, FREIGHT)):
        x, y = transformer(4326, 25832).transform([t[1] for t in table], [t[2] for t in table])
        assert (shapely.distance(gdf.geometry.centroid.values, shapely.points(x, y)) < 450).all()
        ha = gdf.area.to_numpy() / 1e4
        assert np.allclose(ha, [t[4] for t in table], rtol=0.21)
    assert {"container_terminal", "intermodal_freight_terminal", "yard"} == set(freight["type"])


def test_demo_transport_on_a_few_municipalities(fixtures):
    muni = gpd.read_file(fixtures / "dvg" / "dvg2gem_nw.shp").rename(columns={"KN": "ags", "GN": "name"})
    layers = demo_transport(muni, np.random.default_rng(1))
    # Datteln, Waltrop, Dortmund as fixture squares: a handful of each, all near them
    area = shapely.union_all(muni.geometry.values)
    for name, gdf in layers.items():
        assert (shapely.distance(gdf.geometry.values, area) <= 10_000).all(), name


# ---------------------------------------------------------------------------------------------
# real data


def _nrw(shared_raw: Path) -> shapely.Geometry:
    return gpd.read_file(shared_raw / "geobasis_nrw_dvg2" / "dvg2bld_nw.shp").geometry.union_all()


@pytest.mark.realdata
def test_real_db_stations(shared_raw):
    path = shared_raw / "transport" / "db_haltestellen_2020_nrw10km.gpkg"
    gdf = transport_stations.read_db_stations(path, {})
    nrw = _nrw(shared_raw)
    assert gdf.crs.to_epsg() == 25832
    assert len(gdf) == 894
    assert int(shapely.contains_xy(nrw, gdf.geometry.x, gdf.geometry.y).sum()) == 779
    assert gdf["traffic"].value_counts().to_dict() == {"RV": 526, "nur DPN": 315, "FV": 53}
    assert int(gdf["long_distance"].sum()) == 53
    assert (shapely.distance(gdf.geometry.values, nrw) <= 10_000.5).all()
    assert gdf["eva_nr"].str.fullmatch(r"\d{7}").all()


@pytest.mark.realdata
def test_real_openflights_airports(shared_raw):
    path = shared_raw / "transport" / "openflights_airports_nrw10km.gpkg"
    gdf = transport_airports.read_openflights(path, {})
    nrw = _nrw(shared_raw)
    assert gdf.crs.to_epsg() == 25832
    assert len(gdf) == 44
    assert int(shapely.contains_xy(nrw, gdf.geometry.x, gdf.geometry.y).sum()) == 35
    assert set(gdf.loc[gdf["commercial"], "iata"]) == {"DUS", "CGN", "DTM", "FMO", "PAD", "NRN"}
    assert (shapely.distance(gdf.geometry.values, nrw) <= 10_000.5).all()


@pytest.mark.realdata
def test_fact_tables_are_derived_from_the_staged_files(shared_raw):
    spec = importlib.util.spec_from_file_location(
        "derive_transport", ROOT / "layers" / "facts" / "derive_transport.py"
    )
    derive = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(derive)
    for name, frame in (
        ("rail_stations", derive.derive_rail_stations(shared_raw)),
        ("airports", derive.derive_airports(shared_raw)),
    ):
        committed = (ROOT / "layers" / "facts" / f"{name}.csv").read_text(encoding="utf-8")
        assert frame.to_csv(index=False, lineterminator="\n") == committed, name
