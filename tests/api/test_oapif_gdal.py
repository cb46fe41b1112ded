"""GDAL's OGC API – Features driver (as QGIS uses it) reads the API from a real server."""

from __future__ import annotations

import pytest

pyogrio = pytest.importorskip("pyogrio")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def oapif(live_server: str) -> str:
    """The GDAL dataset name of the live API."""
    if "OAPIF" not in pyogrio.list_drivers():
        pytest.skip("this GDAL build has no OAPIF driver")
    return f"OAPIF:{live_server}/api"


def test_gdal_lists_every_collection(oapif):
    layers = dict(pyogrio.list_layers(oapif))
    assert layers == {"sites": "Polygon", "municipalities": "MultiPolygon",
                      "regional_plan": "Polygon", "brownfields": "Polygon",
                      "lep_sites": "Polygon", "hydrogen": "LineString",
                      "motorway_junctions": "Point", "rail_stations": "Point", "ports": "Polygon",
                      "rail_freight": "Polygon", "airports": "Point"}


def test_gdal_reads_every_site(oapif, svc):
    df = pyogrio.read_dataframe(oapif, layer="sites")
    assert len(df) == len(svc.sites)
    assert df["site_id"].tolist() == svc.sites["site_id"].tolist()
    assert df.crs.to_epsg() == 4326
    assert {"score", "rank", "fibre_share", "h2_distance_km", "ags"} <= set(df.columns)
    ref = svc.sites.to_crs(4326).geometry.normalize().set_axis(df.index)
    assert df.geometry.normalize().geom_equals_exact(ref, 1e-6).all()


def test_gdal_reads_the_municipalities(oapif, svc):
    df = pyogrio.read_dataframe(oapif, layer="municipalities")
    assert sorted(df["ags"]) == sorted(svc.snap.layers["municipalities"]["ags"])
