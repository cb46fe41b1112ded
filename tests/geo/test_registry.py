"""The criterion registry, value-function kinds and generic measures, against hand and geopandas values."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pydantic import ValidationError

from geo.criteria import CRITERIA, PROFILES, Profile
from geo.measures import CoveredShare, Nearest, SumWithin
from geo.registry import Criterion, Indicator, Registry
from geo.values import Flag, LogSize, Ramp, Share, Table

P = PROFILES["balanced"]


def _criterion(name: str = "x", indicator: str = "x_km", **kw: object) -> Criterion:
    args: dict[str, object] = {
        "name": name,
        "layer": "l",
        "label_de": "X",
        "label_en": "X",
        "description": "d",
        "indicator_specs": (Indicator(name=indicator, label_de="x", label_en="x"),),
        "function": Ramp(full=1, zero=2),
    }
    return Criterion(**{**args, **kw})  # type: ignore[arg-type]


# -- the registry ---------------------------------------------------------------------------------
def test_registry_refuses_a_duplicate_name_and_a_duplicate_indicator() -> None:
    r = Registry()
    r.register(_criterion())
    with pytest.raises(ValueError, match="already registered"):
        r.register(_criterion())
    with pytest.raises(ValueError, match="already declared by 'x'"):
        r.register(_criterion(name="y"))
    assert list(r) == ["x"] and r.indicator("x_km") is not None and r.indicator("nope") is None


def test_a_declaration_is_checked() -> None:
    with pytest.raises(ValidationError):
        _criterion(name="Bad Name")
    with pytest.raises(ValidationError, match="full ≠ zero"):
        Ramp(full=3, zero=3)
    with pytest.raises(ValidationError, match="gives 2 indicator"):
        _criterion(measure=Nearest(layer="l", attribute="kv"))
    with pytest.raises(ValidationError, match="value table and the indicator's codes differ"):
        _criterion(
            indicator_specs=(
                Indicator(name="c", type="str", label_de="c", label_en="c", codes={"A": ("a", "a")}),
            ),
            function=Table(values={"B": 1.0}),
        )


def test_every_built_in_indicator_is_declared_once_with_labels() -> None:
    names = [i.name for c in CRITERIA.values() for i in c.indicator_specs]
    assert len(names) == len(set(names))
    for c in CRITERIA.values():
        assert c.label_de and c.label_en and c.description
        for i in c.indicator_specs:
            assert i.label_de and i.label_en and (i.shp is None or len(i.shp) <= 10)


# -- value-function kinds, by hand ---------------------------------------------------------------
def test_ramp_falls_rises_and_fills_missing() -> None:
    x = np.array([0.0, 3.0, 16.5, 30.0, 99.0, np.nan])
    np.testing.assert_allclose(Ramp(full=3, zero=30)(x, P)[:5], [1, 1, 0.5, 0, 0])
    assert np.isnan(Ramp(full=3, zero=30)(x, P)[5])
    assert Ramp(full=3, zero=30, missing=0.0)(x, P)[5] == 0.0
    rising = Ramp(full=100, zero=0)(np.array([-5.0, 0.0, 25.0, 100.0, 500.0]), P)
    np.testing.assert_allclose(rising, [0, 0, 0.25, 1, 1])


def test_share_table_flag_and_log_size() -> None:
    np.testing.assert_allclose(Share()(np.array([-0.1, 0.3, 1.2]), P), [0, 0.3, 1])
    np.testing.assert_allclose(Share(invert=True)(np.array([0.25]), P), [0.75])
    t = Table(values={"A": 1.0, "B": 0.5})(np.array(["A", "B", "C", None], dtype=object), P)
    np.testing.assert_allclose(t[:2], [1.0, 0.5])
    assert np.isnan(t[2:]).all()
    f = Flag()(np.array([True, False, None], dtype=object), P)
    assert f[0] == 1 and f[1] == 0 and np.isnan(f[2])
    p = Profile(**{**P.model_dump(), "area_min_ha": 2, "area_target_ha": 32})
    v = LogSize()(np.array([1.0, 2.0, 8.0, 32.0, 64.0]), p)
    np.testing.assert_allclose(v, [0, 0, np.log(4) / np.log(16), 1, 1])


def test_a_profile_overrides_a_parameter_and_is_checked() -> None:
    p = Profile(**{**P.model_dump(), "params": {"motorway": {"zero": 10}}})
    km = {"motorway_km": np.array([2.0, 6.0, 10.0])}
    np.testing.assert_allclose(CRITERIA["motorway"].value(km, p), [1.0, 0.5, 0.0])
    np.testing.assert_allclose(CRITERIA["motorway"].value(km, P), [1.0, 19 / 23, 15 / 23])
    assert p.params_key() != P.params_key()
    with pytest.raises(ValidationError, match="unknown parameter"):
        Profile(**{**P.model_dump(), "params": {"motorway": {"zeroo": 10}}})
    with pytest.raises(ValidationError, match="unknown criterion"):
        Profile(**{**P.model_dump(), "params": {"nope": {"zero": 10}}})


# -- generic measures, against plain geopandas -----------------------------------------------------
@pytest.fixture(scope="module")
def sites() -> np.ndarray:
    rng = np.random.default_rng(7)
    centres = rng.uniform([300_000, 5_600_000], [320_000, 5_620_000], (60, 2))
    return np.asarray(shapely.buffer(shapely.points(centres), rng.uniform(100, 900, 60)))


def test_nearest_equals_sjoin_nearest(sites: np.ndarray) -> None:
    rng = np.random.default_rng(8)
    pts = gpd.GeoDataFrame(
        {"kv": rng.choice([110, 220, 380], 25), "big": rng.random(25) > 0.4},
        geometry=gpd.points_from_xy(*rng.uniform([295_000, 5_595_000], [325_000, 5_625_000], (25, 2)).T),
        crs=25832,
    )
    km, kv = Nearest(layer="p", attribute="kv").compute(sites, pts)
    frame = gpd.GeoDataFrame(geometry=sites, crs=25832)
    want = gpd.sjoin_nearest(frame, pts, distance_col="d").groupby(level=0).first()
    np.testing.assert_allclose(km, want["d"].to_numpy() / 1000, atol=1e-9)
    np.testing.assert_array_equal(kv, want["kv"].to_numpy())
    (only_big,) = Nearest(layer="p", where="big").compute(sites, pts)
    want_big = gpd.sjoin_nearest(frame, pts[pts["big"]], distance_col="d").groupby(level=0).first()
    np.testing.assert_allclose(only_big, want_big["d"].to_numpy() / 1000, atol=1e-9)


def test_covered_share_equals_overlay(sites: np.ndarray) -> None:
    rng = np.random.default_rng(9)
    blobs = shapely.buffer(
        shapely.points(rng.uniform([300_000, 5_600_000], [320_000, 5_620_000], (40, 2))), 1500
    )
    layer = gpd.GeoDataFrame(geometry=blobs, crs=25832)  # overlapping blobs must not count twice
    (share,) = CoveredShare(layer="n").compute(sites, layer)
    union = shapely.union_all(blobs)
    want = shapely.area(shapely.intersection(sites, union)) / shapely.area(sites)
    np.testing.assert_allclose(share, want, atol=1e-9)
    assert (share > 0).any() and (share < 1).any()


def test_sum_within_equals_brute_force(sites: np.ndarray) -> None:
    rng = np.random.default_rng(10)
    plants = gpd.GeoDataFrame(
        {"mw": rng.uniform(0, 50, 300)},
        geometry=gpd.points_from_xy(*rng.uniform([290_000, 5_590_000], [330_000, 5_630_000], (300, 2)).T),
        crs=25832,
    )
    (total,) = SumWithin(layer="r", attribute="mw", radius_km=5).compute(sites, plants)
    centres = shapely.centroid(sites)
    d = shapely.distance(centres[:, None], np.asarray(plants.geometry.values)[None, :])
    np.testing.assert_allclose(total, (np.where(d <= 5000, plants["mw"].to_numpy()[None, :], 0)).sum(axis=1))


def test_a_missing_layer_is_no_data_not_zero() -> None:
    assert all(np.isnan(c).all() for c in Nearest(layer="p", attribute="kv").missing(3))
