"""Availability, dates and restrictions of candidate areas (issue 19 §1): mapped from
sources.toml like every other field, checked with errors that name field, rows and value,
carried into the sites layer, and filled plausibly by the demo."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.crs import WORK_CRS
from geo.sites import derive_sites
from layers import demo
from layers.errors import SourceError
from layers.planning import read_mapped


def _file(tmp_path, **cols):
    n = len(next(iter(cols.values())))
    geoms = [shapely.box(350_000 + i * 1000, 5_700_000, 350_500 + i * 1000, 5_700_500) for i in range(n)]
    gdf = gpd.GeoDataFrame({"ID": [f"A{i}" for i in range(n)], **cols}, geometry=geoms, crs=WORK_CRS)
    path = tmp_path / "gib.gpkg"
    gdf.to_file(path, layer="gib")
    return path


CFG = {
    "layer": "gib",
    "columns": {
        "area_id": "ID",
        "availability": "VERF",
        "available_from": "AB",
        "restrictions": "HEMMNIS",
    },
    "defaults": {"category": "GIB"},
    "values": {
        "availability": {
            "sofort": "now",
            "kurzfristig": "lt_1y",
            "mittelfristig": "1_3y",
            "langfristig": "gt_3y",
        },
        "restrictions": {"Eigentum": "ownership", "Altlast": "contamination", "keine": "none"},
    },
}


def test_plan_areas_carry_availability_dates_and_restrictions(tmp_path):
    path = _file(
        tmp_path,
        VERF=["sofort", "mittelfristig", None, "langfristig"],
        AB=["01.03.2027", "2028-05", None, "2031-01-01"],
        HEMMNIS=["Eigentum; Altlast", "keine", None, "Altlast,Eigentum"],
    )
    rp = read_mapped("regional_plan", path, CFG)
    assert rp["availability"].tolist() == ["now", "1_3y", "unknown", "gt_3y"]
    assert rp["available_from"].tolist()[:2] == ["2027-03-01", "2028-05-01"]
    assert pd.isna(rp["available_from"][2]) and rp["available_from"][3] == "2031-01-01"
    r = rp["restrictions"].tolist()
    assert r[0] == "ownership;contamination" and r[1] == "" and pd.isna(r[2]) and r[3] == r[0]
    sites = derive_sites({"regional_plan": rp})
    assert sites["availability"].tolist() == rp["availability"].tolist()
    assert sites["restrictions"].tolist()[:2] == ["ownership;contamination", ""]


def test_without_the_columns_availability_is_unknown(tmp_path):
    path = _file(tmp_path, X=[1, 2])
    rp = read_mapped(
        "regional_plan", path, {"layer": "gib", "columns": {"area_id": "ID"}, "defaults": {"category": "GIB"}}
    )
    assert rp["availability"].tolist() == ["unknown", "unknown"]
    assert rp["restrictions"].isna().all() and rp["available_from"].isna().all()


@pytest.mark.parametrize(
    ("cols", "words"),
    [
        (
            {"VERF": ["sofort", "bald"], "AB": [None, None], "HEMMNIS": [None, None]},
            ["VERF", "bald", "availability"],
        ),
        (
            {"VERF": ["sofort", "sofort"], "AB": ["nächstes Jahr", None], "HEMMNIS": [None, None]},
            ["AB", "1", "date"],
        ),
        (
            {"VERF": ["sofort", "sofort"], "AB": [None, None], "HEMMNIS": [None, "Lärm"]},
            ["HEMMNIS", "Lärm", "2"],
        ),
    ],
)
def test_bad_values_name_column_rows_and_value(tmp_path, cols, words):
    with pytest.raises(SourceError) as e:
        read_mapped("regional_plan", _file(tmp_path, **cols), CFG)
    msg = str(e.value)
    for w in words:
        assert w in msg


def test_demo_fills_plausibly():
    d = demo.generate(600, 7, data_date=dt.date(2026, 12, 6))
    rp, bf = d.layers["regional_plan"], d.layers["brownfields"]
    share = {k: g["availability"].value_counts(normalize=True) for k, g in (("rp", rp), ("bf", bf))}
    soon = {k: s.get("now", 0) + s.get("lt_1y", 0) for k, s in share.items()}
    assert soon["bf"] > soon["rp"] + 0.15  # GIB reserves come to market later than brownfields
    assert 0.08 < share["rp"]["unknown"] < 0.3 and 0.08 < share["bf"]["unknown"] < 0.3
    for layer in (rp, bf):
        dated = layer["available_from"].notna()
        assert 0.2 < dated.mean() < 0.4
        assert (layer.loc[dated, "availability"] != "unknown").all()
        assert 0.65 < layer["restrictions"].notna().mean() < 0.85
    polluted = bf["contamination"].isin(["suspected", "confirmed"]) & bf["restrictions"].notna()
    listed = bf.loc[polluted, "restrictions"].str.contains("contamination")
    assert listed.mean() > 0.6
    again = demo.generate(600, 7, data_date=dt.date(2026, 12, 6))
    assert again.layers["regional_plan"]["available_from"].equals(rp["available_from"])  # deterministic
    np.testing.assert_array_equal(again.layers["brownfields"]["area_id"], bf["area_id"])
