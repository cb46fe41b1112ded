"""GDAL's OGC API – Features driver (as QGIS uses it) reads the API from a real server."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from tests.conftest import need_client

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
    assert layers == {
        "sites": "Polygon",
        "municipalities": "MultiPolygon",
        "regional_plan": "Polygon",
        "brownfields": "Polygon",
        "lep_sites": "Polygon",
        "hydrogen": "LineString",
        "motorway_junctions": "Point",
        "rail_stations": "Point",
        "ports": "Polygon",
        "rail_freight": "Polygon",
        "airports": "Point",
    }


def test_gdal_reads_every_site(oapif, svc):
    # GDAL ≥ 3.7 asks for the collection's storageCrs (EPSG:25832) unless told otherwise
    df = pyogrio.read_dataframe(oapif, layer="sites")
    assert len(df) == len(svc.sites)
    assert df["site_id"].tolist() == svc.sites["site_id"].tolist()
    assert df.crs.to_epsg() == 25832
    assert {"score", "rank", "fibre_share", "h2_distance_km", "ags"} <= set(df.columns)
    wgs = pyogrio.read_dataframe(oapif, layer="sites", CRS="OGC:CRS84")
    assert wgs.crs.to_authority() == ("OGC", "CRS84")
    ref = svc.sites.to_crs(4326).geometry.normalize().set_axis(wgs.index)
    assert wgs.geometry.normalize().geom_equals_exact(ref, 1e-6).all()


def test_gdal_reads_the_municipalities(oapif, svc):
    df = pyogrio.read_dataframe(oapif, layer="municipalities")
    assert sorted(df["ags"]) == sorted(svc.snap.layers["municipalities"]["ags"])


def test_gdal_pages_through_every_site_in_epsg_25832(oapif, svc):
    """The README's command: GDAL (≥ 3.7) asks for EPSG:25832 (Part 2) and pages by itself."""
    df = pyogrio.read_dataframe(oapif, layer="sites", CRS="EPSG:25832", PAGE_SIZE=100)
    assert len(df) == len(svc.sites) > 100  # several pages
    assert df.crs.to_epsg() == 25832
    assert df["site_id"].tolist() == svc.sites["site_id"].tolist()
    got, ref = (shapely.get_coordinates(g.geometry.values) for g in (df, svc.sites))
    assert got.shape == ref.shape and np.abs(got - ref).max() <= 0.005 + 1e-9  # 1 cm rounding
    assert {"score", "rank", "ags", "kreis_ags", "contamination"} <= set(df.columns)


def test_ogr2ogr_of_an_older_gdal_copies_every_site(live_server, svc, tmp_path):
    """GDAL 3.6 (QGIS 3.22 era; no Part 2 in its OAPIF driver): pages in CRS84, -t_srs
    reprojects. Runs where Debian's gdal-bin is installed.
    """
    import shutil
    import subprocess

    need_client(shutil.which("ogr2ogr") is not None, "ogr2ogr (Debian gdal-bin) is not installed")
    out = tmp_path / "sites.gpkg"
    subprocess.run(
        [
            "ogr2ogr",
            "-f",
            "GPKG",
            str(out),
            f"OAPIF:{live_server}/api",
            "sites",
            "-oo",
            "PAGE_SIZE=100",
            "-t_srs",
            "EPSG:25832",
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    info = pyogrio.read_info(out)
    assert info["features"] == len(svc.sites) and info["crs"] == "EPSG:25832"


def test_qgis_oapif_provider_loads_every_site(live_server, svc):
    """QGIS's own OGC API – Features provider (Debian python3-qgis, QGIS 3.22) with paging."""
    import shutil
    import subprocess

    python = shutil.which("python3", path="/usr/bin")
    probe = subprocess.run([python or "python3", "-c", "import qgis.core"], capture_output=True)
    need_client(python is not None and probe.returncode == 0, "Debian's python3-qgis is not installed")
    script = (
        "import os\nos.environ.setdefault('QT_QPA_PLATFORM', 'offscreen')\n"
        "from qgis.core import QgsApplication, QgsVectorLayer\n"
        "app = QgsApplication([], False); app.initQgis()\n"
        f"uri = \"url='{live_server}/api' typename='sites' pagingEnabled='true' "
        "pageSize='100' restrictToRequestBBOX='0'\"\n"
        "lyr = QgsVectorLayer(uri, 'sites', 'OAPIF')\n"
        "print(lyr.isValid(), sum(1 for _ in lyr.getFeatures()))\n"
    )
    r = subprocess.run(
        [python, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert r.stdout.split()[-2:] == ["True", str(len(svc.sites))], r.stderr[-1000:]
