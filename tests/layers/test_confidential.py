"""Confidential fields of candidate areas: mapped from source columns, checked, carried into
the sites layer, filled by the demo."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.crs import WORK_CRS
from geo.sites import derive_sites
from layers import demo
from layers.errors import SourceError
from layers.planning import read_mapped


def _file(tmp_path, **cols):
    geoms = [shapely.box(350_000 + i * 1000, 5_700_000, 350_500 + i * 1000, 5_700_500) for i in range(3)]
    gdf = gpd.GeoDataFrame({"FL_NR": ["A", "B", "C"], **cols}, geometry=geoms, crs=WORK_CRS)
    path = tmp_path / "brachen.gpkg"
    gdf.to_file(path, layer="brachen")
    return path


CFG = {
    "layer": "brachen",
    "columns": {
        "area_id": "FL_NR",
        "owner_contact": "KONTAKT",
        "asking_price_eur_m2": "PREIS",
        "public": "OEFFENTLICH",
        "notes": "BEMERKUNG",
    },
}


def test_mapped_brownfields_take_the_confidential_fields(tmp_path):
    path = _file(
        tmp_path,
        KONTAKT=["Stadt X, 0211 1", None, " "],
        PREIS=["45,50", None, "80"],
        OEFFENTLICH=["ja", "Nein", None],
        BEMERKUNG=["vertraulich", None, None],
    )
    bf = read_mapped("brownfields", path, CFG)
    assert bf["owner_contact"].tolist() == ["Stadt X, 0211 1", None, None]
    assert bf["asking_price_eur_m2"].tolist()[0] == 45.5 and np.isnan(bf["asking_price_eur_m2"][1])
    assert bf["public"].tolist() == [True, False, True]  # empty means public
    sites = derive_sites({"brownfields": bf})
    assert sites["public"].tolist() == [True, False, True]
    assert sites["owner_contact"].iloc[0] == "Stadt X, 0211 1"


def test_without_the_columns_every_area_is_public(tmp_path):
    bf = read_mapped("brownfields", _file(tmp_path), {"layer": "brachen", "columns": {"area_id": "FL_NR"}})
    assert bf["public"].all() and bf["owner_contact"].isna().all()


def test_bad_confidential_values_are_reported_with_rows(tmp_path):
    path = _file(
        tmp_path,
        KONTAKT=["a", "b", "c"],
        PREIS=["teuer", "-3", "10"],
        OEFFENTLICH=["vielleicht", "ja", "nein"],
        BEMERKUNG=[None, None, None],
    )
    with pytest.raises(SourceError) as err:
        read_mapped("brownfields", path, CFG)
    text = str(err.value)
    assert "PREIS" in text and "rows 1, 2" in text
    assert "OEFFENTLICH" in text and "rows 1" in text


def test_the_demo_fills_the_confidential_fields_deterministically():
    a = demo.generate(400, seed=3)
    b = demo.generate(400, seed=3)
    bf, rp = a.layers["brownfields"], a.layers["regional_plan"]
    assert bf["owner_contact"].notna().all()  # every brownfield has an owner contact
    assert all("SYNTHETIC" in x for x in bf["owner_contact"])
    hidden = (~np.concatenate([bf["public"].to_numpy(bool), rp["public"].to_numpy(bool)])).mean()
    assert 0.02 < hidden < 0.09
    assert bf["owner_contact"].tolist() == b.layers["brownfields"]["owner_contact"].tolist()
    assert bf["public"].tolist() == b.layers["brownfields"]["public"].tolist()
