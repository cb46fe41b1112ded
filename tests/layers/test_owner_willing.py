"""``owner_willing`` (issue 19): a confidential field, mapped from sources.toml with its codes,
checked (an unmapped value names the field, the rows and the value), carried into the sites
layer, dropped from the public view, and filled by the demo."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo.access import CONFIDENTIAL_FIELDS, public_view
from geo.crs import WORK_CRS
from geo.sites import derive_sites
from layers import demo
from layers.errors import SourceError
from layers.planning import read_mapped


def _file(tmp_path, values):
    geoms = [shapely.box(350_000 + i * 1000, 5_700_000, 350_500 + i * 1000, 5_700_500) for i in range(3)]
    gdf = gpd.GeoDataFrame({"FL_NR": ["A", "B", "C"], "VERKAUF": values}, geometry=geoms, crs=WORK_CRS)
    path = tmp_path / "brachen.gpkg"
    gdf.to_file(path, layer="brachen")
    return path


def _cfg(table):
    cfg = {"layer": "brachen", "columns": {"area_id": "FL_NR", "owner_willing": "VERKAUF"}}
    if table is not None:
        cfg["values"] = {"owner_willing": table}
    return cfg


def test_mapped_into_sites_and_out_of_the_public_view(tmp_path):
    path = _file(tmp_path, ["ja", "nein", None])
    bf = read_mapped("brownfields", path, _cfg({"ja": "yes", "nein": "no"}))
    assert bf["owner_willing"].tolist() == ["yes", "no", None]
    sites = derive_sites({"brownfields": bf})
    assert sites["owner_willing"].tolist()[:2] == ["yes", "no"] and pd.isna(sites["owner_willing"][2])
    assert "owner_willing" in CONFIDENTIAL_FIELDS
    assert "owner_willing" not in public_view(sites).columns


def test_without_the_column_it_is_unknown(tmp_path):
    bf = read_mapped(
        "brownfields", _file(tmp_path, ["x", "y", "z"]), {"layer": "brachen", "columns": {"area_id": "FL_NR"}}
    )
    assert set(bf["owner_willing"]) == {"unknown"}


@pytest.mark.parametrize("table", [{"ja": "yes"}, None])
def test_an_unmapped_value_names_field_rows_and_value(tmp_path, table):
    with pytest.raises(SourceError) as e:
        read_mapped("brownfields", _file(tmp_path, ["ja", "vielleicht", "ja"]), _cfg(table))
    msg = str(e.value)
    assert "owner_willing" in msg or "VERKAUF" in msg
    assert "vielleicht" in msg and "2" in msg


def test_demo_fills_owner_willing_only_where_an_owner_is_known():
    rng = np.random.default_rng(3)
    layer = gpd.GeoDataFrame(
        {"area_id": [f"A{i}" for i in range(400)]},
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(400)],
        crs=WORK_CRS,
    )
    out = demo._confidential(layer, rng, owner_share=0.4)
    assert set(out["owner_willing"]) <= {"yes", "no", "unknown"}
    assert (out.loc[out["owner_contact"].isna(), "owner_willing"] == "unknown").all()
    known = out.loc[out["owner_contact"].notna(), "owner_willing"].value_counts(normalize=True)
    assert 0.3 < known["yes"] < 0.6 and 0.05 < known["no"] < 0.25
    again = demo._confidential(layer, np.random.default_rng(3), owner_share=0.4)
    assert out["owner_willing"].tolist() == again["owner_willing"].tolist()  # deterministic
