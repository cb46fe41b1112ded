"""Every export format read by real clients: the installed pyogrio (GDAL 3.12), GDAL 3.6's
``ogrinfo`` (Debian 12 ``gdal-bin``, the QGIS 3.22 era) and QGIS 3.22 itself (Debian's
``python3-qgis``). The last two run where installed and skip with the reason otherwise.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pyogrio
import pytest

from api.exports import export_many
from api.fields import site_fields
from maps import bands
from tests.conftest import need_client

LAYERS = ["sites", "regional_plan", "brownfields", "lep_sites", "hydrogen", "municipalities"]
FLAT = [f.name for f in site_fields()]
QGIS_PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="module")
def files(svc, tmp_path_factory) -> tuple[Path, str, int]:
    """Every format for the municipality with the most sites (the public view)."""
    ags = str(svc.sites["ags"].value_counts().index[0])
    out = tmp_path_factory.mktemp("clients")
    index = svc.areas
    areas = [index.area("municipality", ags)]
    export_many(svc, areas, out, None, ["gpkg", "csv", "shp.zip", "geojson"], workers=1)
    return out, ags, len(index.rows(areas[0])[0])


def test_pyogrio_reads_every_format(files):
    out, ags, n = files
    info = pyogrio.read_info(out / f"{ags}.gpkg", layer="sites")
    assert info["crs"] == "EPSG:25832" and info["features"] == n
    assert list(info["fields"]) == FLAT
    assert [x[0] for x in pyogrio.list_layers(out / f"{ags}.gpkg")][:6] == LAYERS
    shp = pyogrio.read_info(f"/vsizip/{out / f'{ags}.shp.zip'}/sites.shp")
    assert shp["crs"] == "EPSG:25832" and shp["features"] == n
    assert len(shp["fields"]) == len(FLAT)
    geo = pyogrio.read_info(out / f"{ags}.geojson")
    assert geo["crs"] == "EPSG:4326" and geo["features"] == n  # RFC 7946
    assert set(FLAT) <= set(geo["fields"])
    csv = pyogrio.read_dataframe(out / f"{ags}.csv", read_geometry=False)  # GDAL's CSV driver
    assert len(csv) == n and "Rechtswert (EPSG:25832)" in csv.columns
    assert csv["AGS (Gemeindeschlüssel)"].astype(str).str.fullmatch(r"\d{8}").all()


def _ogrinfo() -> str:
    exe = shutil.which("ogrinfo")
    need_client(exe is not None, "ogrinfo (Debian gdal-bin) is not installed")
    return str(exe)


def test_ogrinfo_reads_every_format(files):
    exe = _ogrinfo()
    out, ags, n = files
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    for source, layer, epsg in [
        (out / f"{ags}.gpkg", "sites", "25832"),
        (f"/vsizip/{out / f'{ags}.shp.zip'}/sites.shp", "sites", "25832"),
        (out / f"{ags}.geojson", None, "4326"),
    ]:
        args = [exe, "-so", str(source), *([layer] if layer else ["-al"])]
        r = subprocess.run(args, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, (version, r.stderr)
        assert f"Feature Count: {n}" in r.stdout, (version, r.stdout[-2000:])
        assert f'ID["EPSG",{epsg}]' in r.stdout, (source, r.stdout[-2000:])
        for field in ("site_id", "score", "ags"):
            assert re.search(rf"^{field}: ", r.stdout, re.M), (source, field)
    r = subprocess.run([exe, "-so", str(out / f"{ags}.gpkg")], capture_output=True, text=True)
    for layer in LAYERS:  # every layer listed, without warnings about the file
        assert re.search(rf"^\d+: {layer} ", r.stdout, re.M), r.stdout
    assert "Warning" not in r.stderr and "ERROR" not in r.stderr, r.stderr


def _qgis() -> None:
    ok = (
        Path(QGIS_PYTHON).exists()
        and subprocess.run([QGIS_PYTHON, "-c", "import qgis.core"], capture_output=True).returncode == 0
    )
    need_client(ok, "Debian's python3-qgis is not installed (apt-get install python3-qgis)")


QGIS_CHECK = """
import json, sys
from qgis.core import Qgis, QgsApplication, QgsVectorLayer
app = QgsApplication([], False); app.initQgis()
out = {"version": Qgis.QGIS_VERSION, "layers": {}}
for name in sys.argv[2:]:
    lyr = QgsVectorLayer(f"{sys.argv[1]}|layername={name}", name, "ogr")
    r = lyr.renderer()
    out["layers"][name] = {
        "valid": lyr.isValid(), "count": lyr.featureCount(), "crs": lyr.crs().authid(),
        "renderer": r.type() if r else None,
        "legend": [i.label() for i in r.legendSymbolItems()] if r else [],
        "aliases": {f.name(): lyr.attributeAlias(i) for i, f in enumerate(lyr.fields())}}
print(json.dumps(out))
"""


@pytest.mark.parametrize(
    "lang, legend, alias",
    [
        ("de", ["sehr hoch (80–100)", "nicht bewertet"], "Punktzahl (0–100)"),
        ("en", ["very high (80–100)", "not ranked"], "Score (0–100)"),
    ],
)
def test_qgis_loads_every_geopackage_layer_with_its_style(svc, tmp_path, lang, legend, alias):
    _qgis()
    ags = str(svc.sites["ags"].value_counts().index[0])
    index = svc.areas
    export_many(svc, [index.area("municipality", ags)], tmp_path, None, ["gpkg"], lang=lang, workers=1)
    r = subprocess.run(
        [QGIS_PYTHON, "-c", QGIS_CHECK, str(tmp_path / f"{ags}.gpkg"), *LAYERS],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert r.returncode == 0, r.stderr[-2000:]
    doc = json.loads(r.stdout.strip().splitlines()[-1])
    assert doc["version"].startswith("3.")
    layers = doc["layers"]
    for name in LAYERS:
        assert layers[name]["valid"], name
        assert layers[name]["crs"] == "EPSG:25832", name
    sites = layers["sites"]
    assert sites["count"] == len(index.rows(index.area("municipality", ags))[0])
    assert sites["renderer"] == "RuleRenderer" and len(sites["legend"]) == len(bands.COLOURS) + 1
    assert all(x in sites["legend"] for x in legend)
    assert sites["aliases"]["score"] == alias
    assert layers["regional_plan"]["renderer"] == "categorizedSymbol"
    assert layers["hydrogen"]["renderer"] == "categorizedSymbol"
    assert layers["brownfields"]["renderer"] == "categorizedSymbol"


def test_the_shapefile_zip_holds_only_what_it_documents(files):
    out, ags, _ = files
    with zipfile.ZipFile(out / f"{ags}.shp.zip") as z:
        assert sorted(z.namelist()) == sorted(
            [
                f"{layer}.{e}"
                for layer in ("sites", "municipalities")
                for e in ("shp", "shx", "dbf", "prj", "cpg")
            ]
            + ["fields.csv", "LIESMICH.txt"]
        )
