"""The embedded demo dataset: deterministic, inside NRW, real facts where they are facts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from geo.crs import NRW_BOUNDS
from layers import demo
from layers.build import build
from layers.municipalities import boundaries, facts
from layers.store import Store


@pytest.fixture(scope="module")
def small():
    """A 600-site demo."""
    return demo.generate(600, seed=7)


def test_same_seed_same_data_other_seed_other_data(small):
    again = demo.generate(600, seed=7)
    for name, gdf in small.layers.items():
        assert gdf.geometry.to_wkb().tolist() == again.layers[name].geometry.to_wkb().tolist(), name
        pd.testing.assert_frame_equal(
            gdf.drop(columns="geometry"), again.layers[name].drop(columns="geometry")
        )
    np.testing.assert_array_equal(small.coverage["fibre"].grid, again.coverage["fibre"].grid)
    other = demo.generate(600, seed=8)
    assert not other.layers["brownfields"].geom_equals(small.layers["brownfields"]).all()


def test_counts_and_everything_inside_nrw(small):
    assert len(small.layers["regional_plan"]) + len(small.layers["brownfields"]) == 600
    outline = demo.nrw_outline()
    for name in ("regional_plan", "brownfields"):
        centres = shapely.centroid(small.layers[name].geometry.values)
        assert shapely.contains(outline.buffer(2000), centres).all(), name
    xmin, ymin, xmax, ymax = NRW_BOUNDS
    b = small.layers["municipalities"].total_bounds
    assert xmin <= b[0] and ymin <= b[1] and b[2] <= xmax and b[3] <= ymax


def test_municipalities_are_the_real_396_names_keys_and_boundaries(small):
    m = small.layers["municipalities"]
    f = facts()
    assert len(m) == 396
    assert sorted(m["ags"]) == sorted(f["ags"])
    assert m.set_index("ags").loc["05562008", "name"] == "Datteln"
    assert m["kreis_ags"].nunique() == 53
    # the generalised DVG2 boundaries of layers/facts, not a synthetic tiling
    real = boundaries()
    assert m.geometry.geom_equals_exact(real.geometry, tolerance=0).all()
    km2 = m.set_index("ags").area / 1e6
    assert np.abs(km2 / f.set_index("ags")["area_km2"] - 1).max() < 0.01


def test_sites_are_named_and_keyed_after_the_municipality_holding_them(small):
    from geo.indicators import largest_overlap, unit_overlaps

    m = small.layers["municipalities"]
    for name in ("regional_plan", "brownfields"):
        layer = small.layers[name]
        home = largest_overlap(unit_overlaps(layer.geometry.values, m.geometry.values), len(layer))
        assert (home >= 0).all(), name
        town = m["name"].to_numpy()[home]
        assert all(
            f" {t} " in f" {n.replace(',', ' ')} " for n, t in zip(layer["name"], town, strict=True)
        ), name
        if name == "brownfields":  # the cadastre's key agrees with the geometry
            assert (layer["ags"].to_numpy() == m["ags"].to_numpy()[home]).all()
        else:  # the plan of the Kreis holding the area
            ruhr = np.isin(m["kreis_ags"].to_numpy()[home], list(demo.RVR_KREISE))
            assert ((layer["plan"] == demo.PLAN_RUHR).to_numpy() == ruhr).all()


def test_sizes_and_attributes_are_distributed_like_the_real_thing(small):
    rp_ha = small.layers["regional_plan"].area / 1e4
    bf_ha = small.layers["brownfields"].area / 1e4
    assert 15 < rp_ha.median() < 40 and rp_ha.min() >= 1.9
    assert 1.5 < bf_ha.median() < 4 and bf_ha.min() >= 0.05 * 0.99  # LANUV: ≥ 500 m²
    assert set(small.layers["regional_plan"]["category"]) <= {"GIB", "GIB_Z", "LARGE_PROJECT", "ASB_GE"}
    assert small.layers["regional_plan"]["plan"].nunique() == 6
    assert set(small.layers["brownfields"]["contamination"]) == {
        "none",
        "suspected",
        "confirmed",
        "remediated",
        "unknown",
    }


def test_hydrogen_segments_join_real_kernnetz_places(small):
    h2 = small.layers["hydrogen"]
    names = set(demo.kernnetz_places()["name"])
    ends = {p for n in h2["name"] for p in n.split(" – ")}
    assert ends <= names
    assert h2["commissioning_year"].between(2025, 2032).all()
    assert set(h2["kind"]) == {"conversion", "new_build"}
    assert (h2["geometry_quality"] == "schematic").all()


def test_coverage_grids_are_denser_in_cities(small):
    from geo.grid import NRW_GRID

    fibre = small.coverage["fibre"].grid

    def around(lon, lat, km=3):
        from geo.crs import transformer

        x, y = transformer(4326, 25832).transform(lon, lat)
        r, c, _ = NRW_GRID.cell_of(np.array([x]), np.array([y]))
        k = km * 10
        return np.nanmean(fibre[r[0] - k : r[0] + k, c[0] - k : c[0] + k])

    city = np.mean([around(6.96, 50.94), around(7.01, 51.45), around(6.78, 51.23)])  # K, E, D
    rural = np.mean([around(8.45, 51.25), around(8.1, 51.12), around(6.45, 50.45)])  # Sauerland, Eifel
    assert city > rural + 0.2
    assert 0.2 < np.nanmean(fibre) < 0.6
    assert np.isnan(fibre).any() and (np.isfinite(fibre).sum() == pytest.approx(3.41e6, rel=0.01))


def test_demo_snapshot_is_labelled_synthetic(tmp_path):
    m = build(Store(tmp_path), n_sites=200, seed=3)
    assert m["synthetic"] is True
    assert m["demo"] == {"sites": 200, "seed": 3}
    for name in ("regional_plan", "brownfields", "hydrogen", "fibre", "mobile_5g"):
        assert m["layers"][name]["synthetic"] is True
        assert "SYNTHETIC" in m["layers"][name]["attribution"] or "SYNTHETIC" in m["layers"][name]["note"]
    assert m["layers"]["lep_sites"]["synthetic"] is False
    assert m["layers"]["sites"]["count"] == 204
    # boundaries are real (generalised) facts: not synthetic, with their own licence
    muni = m["layers"]["municipalities"]
    assert muni["synthetic"] is False and muni["licence"] == "dl-de/zero-2-0"
    assert "DVG2" in muni["attribution"] and "SYNTHETIC" not in muni["attribution"]
    assert m["warnings"] == []  # the demo's brownfield keys agree with their geometry
