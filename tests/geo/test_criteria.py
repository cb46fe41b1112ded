"""Criteria, value functions and profiles (geo/criteria.py; DESIGN §3.3), checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from geo.criteria import (
    CRITERIA,
    CRITERIA_ORDER,
    PROFILES,
    Profile,
    effective_weights,
    get_profile,
    validate_weights,
)
from geo.errors import InvalidParameter

NAN = float("nan")
BALANCED = PROFILES["balanced"]


def value(criterion: str, column: str, xs: list, profile: Profile = BALANCED) -> np.ndarray:
    dtype = float if all(isinstance(x, float | int) for x in xs) else object
    return CRITERIA[criterion].value({column: np.array(xs, dtype=dtype)}, profile)


def test_criteria_names_are_the_contract():
    assert CRITERIA_ORDER == (
        "area",
        "planning",
        "brownfield",
        "h2",
        "fibre",
        "mobile_5g",
        "funding",
        "motorway",
        "rail",
        "port",
        "airport",
        "workforce",
        "grid",
        "renewables",
        "waste_heat",
        "protected",
        "floodplain",
        "availability",
    )
    assert tuple(CRITERIA) == CRITERIA_ORDER
    for c in CRITERIA.values():
        assert c.label_en and c.label_de and c.description
    assert CRITERIA["h2"].indicators == ("h2_distance_km", "h2_commissioning_year")


# -- area: 0 below min, ln(a / min) / ln(target / min) up to 1 at target -------------------------
def test_area_value_balanced_by_hand():
    # balanced: min 1 ha, target 50 ha
    got = value("area", "area_ha", [0.5, 1.0, math.sqrt(50), 10.0, 50.0, 200.0])
    want = [0.0, 0.0, 0.5, math.log(10) / math.log(50), 1.0, 1.0]
    assert got == pytest.approx(want, abs=1e-12)


def test_area_value_follows_the_profile_parameters():
    hydrogen = PROFILES["hydrogen"]  # min 5 ha, target 100 ha
    got = value("area", "area_ha", [4.9, 5.0, math.sqrt(500), 100.0], hydrogen)
    assert got == pytest.approx([0.0, 0.0, 0.5, 1.0], abs=1e-12)
    large = PROFILES["large_scale"]  # min 50 ha, target 200 ha
    got = value("area", "area_ha", [49.0, 100.0, 200.0], large)
    assert got == pytest.approx([0.0, math.log(2) / math.log(4), 1.0], abs=1e-12)


def test_area_value_is_missing_when_the_area_is():
    assert np.isnan(value("area", "area_ha", [NAN])[0])


# -- h2: 1 at ≤ 1 km, linear to 0 at ≥ 20 km, 0 when no segment is in service -------------------
@pytest.mark.parametrize(
    "km,v", [(0.0, 1.0), (0.4, 1.0), (1.0, 1.0), (10.5, 0.5), (20.0 - 19 / 4, 0.25), (20.0, 0.0), (35.0, 0.0)]
)
def test_h2_value_by_hand(km, v):
    assert value("h2", "h2_distance_km", [km])[0] == pytest.approx(v, abs=1e-12)


def test_h2_value_is_zero_when_no_segment_is_in_service():
    # NaN distance = nothing in service by the horizon: counts as 0, not as missing
    assert value("h2", "h2_distance_km", [NAN])[0] == 0.0


# -- tables ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "category,v",
    [
        ("LEP", 1.0),
        ("LARGE_PROJECT", 1.0),
        ("GIB", 0.9),
        ("GIB_Z", 0.6),
        ("ASB_GE", 0.5),
        ("BROWNFIELD", 0.4),
    ],
)
def test_planning_table(category, v):
    assert value("planning", "planning_category", [category])[0] == v


@pytest.mark.parametrize("category", [None, NAN, "UNKNOWN"])
def test_planning_without_a_known_category_is_missing(category):
    assert np.isnan(value("planning", "planning_category", [category, "GIB"])[0])


@pytest.mark.parametrize(
    "region,v", [("GRW_C", 1.0), ("JTF", 1.0), ("FIVE_SITES", 1.0), ("GRW_D", 0.5), ("none", 0.0)]
)
def test_funding_table(region, v):
    assert value("funding", "funding_region", [region])[0] == v


def test_funding_unknown_region_is_missing_not_zero():
    got = value("funding", "funding_region", [None, "none"])
    assert np.isnan(got[0]) and got[1] == 0.0


def test_brownfield_value():
    got = value("brownfield", "is_brownfield", [True, False, None])
    assert got[:2].tolist() == [1.0, 0.0] and np.isnan(got[2])
    bools = CRITERIA["brownfield"].value({"is_brownfield": np.array([True, False])}, BALANCED)
    assert bools.tolist() == [1.0, 0.0]


@pytest.mark.parametrize("criterion,column", [("fibre", "fibre_share"), ("mobile_5g", "mobile_5g_share")])
def test_coverage_value_is_the_share_clipped_to_0_1(criterion, column):
    got = value(criterion, column, [-0.2, 0.0, 0.37, 1.0, 1.3, NAN])
    assert got[:5].tolist() == pytest.approx([0.0, 0.0, 0.37, 1.0, 1.0])
    assert np.isnan(got[5])


# -- weights --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "weights,message",
    [
        ({"colour": 1.0}, "unknown criterion 'colour'"),
        ({"area": NAN}, "weight of area must be finite"),
        ({"h2": math.inf}, "weight of h2 must be finite"),
        ({"fibre": -math.inf}, "weight of fibre must be finite"),
        ({"funding": -0.5}, "weight of funding must be finite and ≥ 0"),
        ({"area": "heavy"}, "weight of area must be a number"),
        ({"area": 0, "h2": 0.0}, "at least one weight must be greater than 0"),
        ({}, "at least one weight must be greater than 0"),
    ],
)
def test_bad_weights_raise_invalid_parameter_naming_the_problem(weights, message):
    with pytest.raises(InvalidParameter, match=message):
        validate_weights(weights)


def test_every_bad_weight_is_named_in_one_error():
    with pytest.raises(InvalidParameter) as err:
        validate_weights({"colour": 1, "area": -1, "h2": NAN, "fibre": 1})
    text = str(err.value)
    assert "colour" in text and "weight of area" in text and "weight of h2" in text
    assert "fibre" not in text.split("(known:")[0]  # the good weight is not blamed


def test_unknown_criterion_message_lists_the_known_ones():
    with pytest.raises(
        InvalidParameter, match="known: area, planning, brownfield, h2, fibre, mobile_5g, funding"
    ):
        validate_weights({"x" * 100: 1})


def test_valid_weights_become_floats():
    assert validate_weights({"area": 2, "h2": "0.5", "fibre": 0}) == {"area": 2.0, "h2": 0.5, "fibre": 0.0}
    assert validate_weights({"area": 0}, require_positive=False) == {"area": 0.0}


# -- profiles -------------------------------------------------------------------------------------
def test_profile_registry_has_the_five_profiles():
    assert set(PROFILES) == {"balanced", "hydrogen", "digital", "large_scale", "logistics"}
    for name, p in PROFILES.items():
        assert p.name == name
        assert set(p.weights) <= set(CRITERIA)
        assert any(w > 0 for w in p.weights.values())
    assert get_profile(None) is PROFILES["balanced"]
    assert get_profile("digital") is PROFILES["digital"]


def test_profile_parameters_match_the_design():
    transport = ("motorway", "rail", "port", "airport")
    half = ("renewables", "waste_heat")  # DESIGN: energy supply nearby counts half in balanced
    assert BALANCED.weights == {
        c: 0.25 if c in transport else 0.5 if c in half else 1.0 for c in CRITERIA_ORDER
    }
    for p in PROFILES.values():  # every profile weighs transport access
        assert set(p.weights) == set(CRITERIA_ORDER)
    logistics = PROFILES["logistics"].weights
    assert sorted(logistics, key=logistics.get)[-3:] == ["rail", "port", "motorway"]
    assert PROFILES["hydrogen"].h2_horizon == 2030
    assert PROFILES["hydrogen"].weights["h2"] == max(PROFILES["hydrogen"].weights.values())
    digital = PROFILES["digital"].weights
    assert digital["fibre"] > digital["area"] and digital["mobile_5g"] > digital["area"]
    assert PROFILES["large_scale"].min_area_ha == 50
    assert PROFILES["large_scale"].area_min_ha == 50


def test_unknown_profile_raises_listing_the_known_ones():
    with pytest.raises(InvalidParameter, match="unknown profile 'gold'.*balanced, hydrogen"):
        get_profile("gold")


def test_profile_registry_is_frozen():
    with pytest.raises(TypeError):
        PROFILES["gold"] = BALANCED  # type: ignore[index]
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        BALANCED.h2_horizon = 2040  # type: ignore[misc]


def test_a_profile_with_bad_weights_is_refused():
    with pytest.raises(InvalidParameter, match="unknown criterion"):
        Profile(name="x", label_en="x", label_de="x", description="x", weights={"colour": 1})


def test_effective_weights_apply_overrides_to_the_profile():
    w = effective_weights(BALANCED, {"h2": 3, "funding": 0})
    assert list(w) == list(CRITERIA_ORDER)
    assert w == {
        "area": 1.0,
        "planning": 1.0,
        "brownfield": 1.0,
        "h2": 3.0,
        "fibre": 1.0,
        "mobile_5g": 1.0,
        "funding": 0.0,
        "motorway": 0.25,
        "rail": 0.25,
        "port": 0.25,
        "airport": 0.25,
        "workforce": 1.0,
        "grid": 1.0,
        "renewables": 0.5,
        "waste_heat": 0.5,
        "protected": 1.0,
        "floodplain": 1.0,
        "availability": 1.0,
    }
    assert effective_weights(PROFILES["digital"], None)["h2"] == 0.0
    assert effective_weights(BALANCED, {}) == BALANCED.weights


def test_effective_weights_refuse_all_zero_and_unknown_overrides():
    with pytest.raises(InvalidParameter, match="at least one weight"):
        effective_weights(BALANCED, {c: 0 for c in CRITERIA_ORDER})
    with pytest.raises(InvalidParameter, match="unknown criterion 'colour'"):
        effective_weights(BALANCED, {"colour": 1})
    with pytest.raises(InvalidParameter, match="weight of h2"):
        effective_weights(BALANCED, {"h2": -1})
