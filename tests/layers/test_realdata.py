"""Real official files from ../shared/data/raw (skipped with a reason when absent; required in CI)."""

from __future__ import annotations

import pandas as pd
import pytest

from api.cli import main
from geo.query import RankingQuery
from layers import coverage, municipalities
from layers.municipalities import facts
from layers.store import Store

pytestmark = pytest.mark.realdata


def test_dvg2_gives_396_municipalities_with_correct_ags(shared_raw):
    gdf = municipalities.read_dvg(shared_raw / "geobasis_nrw_dvg2" / "dvg2gem_nw.shp", {})
    assert len(gdf) == 396
    assert gdf["ags"].str.fullmatch(r"05\d{6}").all()
    by_ags = gdf.set_index("ags")
    assert by_ags.loc["05562008", "name"] == "Datteln"
    assert by_ags.loc["05111000", "name"] == "Düsseldorf"
    assert by_ags.loc["05315000", "kreis_name"] == "Köln"
    assert gdf["kreis_ags"].nunique() == 53
    # the built-in fact table agrees with the official file, key by key
    assert sorted(gdf["ags"]) == sorted(facts()["ags"])
    assert (by_ags.loc[facts()["ags"], "name"].to_numpy() == facts()["name"].to_numpy()).all()
    assert gdf.area.sum() / 1e6 == pytest.approx(34_100, rel=0.01)  # NRW: 34,112 km²


def test_breitbandatlas_municipal_csv_joins_all_396(shared_raw):
    path = shared_raw / "breitbandatlas_2021" / "nrw_gemeinde_breitband_gewerbegebiete_2021_mitte.csv"
    cov = coverage.read_breitbandatlas_municipal("fibre", path, {})
    assert len(cov.units) == 396
    assert set(cov.units.index) == set(facts()["ags"])
    raw = pd.read_csv(path, dtype={"AGS": str}).set_index("AGS")
    assert cov.units["05111000"] == pytest.approx(raw.loc["05111000", "FTTH/B ≥ 1000 Mbit/s"] / 100)


def test_kreis_mobile_csv_gives_53_kreise_with_5g_on_commercial_land(shared_raw):
    path = shared_raw / "breitbandatlas_2021" / "nrw_kreis_mobilfunk_2021_1.csv"
    cov = coverage.read_breitbandatlas_kreis("mobile_5g", path, {})
    assert len(cov.units) == 53
    assert set(cov.units.index) == set(facts()["kreis_ags"])
    raw = pd.read_csv(path, dtype={"AGS": str})
    row = raw[
        (raw.AGS == "05562") & (raw.Technologie == "5G2") & (raw.Flaechenart == "Gewerbliche Nutzfläche")
    ]
    assert cov.units["05562"] == pytest.approx(float(row["Verfügbarkeit"].iloc[0]) / 100)


def write_real_sources(shared_raw, folder):
    """A sources.toml for every real layer the shared folder has."""
    toml = folder / "sources.toml"
    toml.write_text(
        f"""
[municipalities]
path = "{shared_raw}/geobasis_nrw_dvg2/dvg2gem_nw.shp"
format = "dvg"
date = "2022-03-08"

[lep_sites]
format = "facts"

[fibre]
path = "{shared_raw}/breitbandatlas_2021/nrw_gemeinde_breitband_gewerbegebiete_2021_mitte.csv"
format = "breitbandatlas-municipal"
column = "FTTH/B ≥ 1000 Mbit/s"
date = "2021-06"

[mobile_5g]
path = "{shared_raw}/breitbandatlas_2021/nrw_kreis_mobilfunk_2021_1.csv"
format = "breitbandatlas-kreis"
date = "2021-H1"
""",
        encoding="utf-8",
    )
    return toml


def test_build_from_real_sources_names_every_source_and_licence(shared_raw, tmp_path, capsys):
    toml = write_real_sources(shared_raw, tmp_path)
    assert main(["build", "--sources", str(toml), "--data", str(tmp_path / "data")]) == 0
    m = Store(tmp_path / "data").manifest()
    assert m["synthetic"] is False
    for name in ("municipalities", "fibre", "mobile_5g"):
        assert m["layers"][name]["source"].startswith(str(shared_raw))
        assert len(m["layers"][name]["sha256"]) == 64
        assert m["layers"][name]["licence"]
        assert m["layers"][name]["attribution"]
    assert m["layers"]["municipalities"]["licence"] == "dl-de/zero-2-0"
    assert "Breitbandatlas" in m["layers"]["fibre"]["attribution"]
    assert m["layers"]["fibre"]["units_joined"] == 396
    assert m["layers"]["mobile_5g"]["units_joined"] == 53
    assert set(m["missing_layers"]) == {
        "regional_plan",
        "brownfields",
        "hydrogen",
        "motorway_junctions",
        "ports",
        "rail_freight",
        "rail_stations",
        "airports",
        "substations",
        "renewable_units",
        "industrial_heat",
        "natura2000",
        "floodplains",
        "population",
    }
    assert main(["layers", "--data", str(tmp_path / "data")]) == 0
    assert "dl-de/zero-2-0" in capsys.readouterr().out


def test_site_inside_one_municipality_gets_its_breitbandatlas_share(shared_raw, tmp_path):
    from api.service import Service

    toml = write_real_sources(shared_raw, tmp_path)
    assert main(["build", "--sources", str(toml), "--data", str(tmp_path / "data")]) == 0
    svc = Service.open(tmp_path / "data")
    muni = svc.snap.layers["municipalities"].set_index("ags")
    fibre = pd.read_csv(
        shared_raw / "breitbandatlas_2021" / "nrw_gemeinde_breitband_gewerbegebiete_2021_mitte.csv",
        dtype={"AGS": str},
    ).set_index("AGS")["FTTH/B ≥ 1000 Mbit/s"]
    mobile = pd.read_csv(
        shared_raw / "breitbandatlas_2021" / "nrw_kreis_mobilfunk_2021_1.csv", dtype={"AGS": str}
    )
    mobile = mobile[(mobile.Technologie == "5G2") & (mobile.Flaechenart == "Gewerbliche Nutzfläche")]
    for ags in ("05562008", "05111000", "05958004"):
        site = muni.loc[ags, "geometry"].representative_point().buffer(150)  # ~7 ha
        assert muni.loc[ags, "geometry"].contains(site)
        [item] = svc.score_geometries([site], RankingQuery.of("balanced"))
        assert item["ags"] == ags
        assert item["fibre_share"] == pytest.approx(fibre[ags] / 100, abs=1e-6)
        expected_5g = float(mobile.set_index("AGS").loc[ags[:5], "Verfügbarkeit"]) / 100
        assert item["mobile_5g_share"] == pytest.approx(expected_5g, abs=1e-6)
        assert "h2" in item["missing"]  # no hydrogen layer configured: missing, not zero
