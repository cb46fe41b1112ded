"""Reserves per unit (issue 19 §3, geo/reserves.py): hand-worked figures on a small frame, units
adding up to the state, availability buckets, listing back, and a random frame against plain
pandas group-bys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.errors import InvalidParameter, NotFound
from geo.reserves import ADDITIVE, FIGURE_NAMES, LEVELS, availability, check_level, compute, figure_mask

MUNIS = pd.DataFrame(
    {
        "ags": ["05111000", "05158004", "05158008", "05315000", "05562004"],
        "name": ["Düsseldorf", "Erkrath", "Haan", "Köln", "Datteln"],
        "kreis_ags": ["05111", "05158", "05158", "05315", "05562"],
        "kreis_name": ["Düsseldorf", "Mettmann", "Mettmann", "Köln", "Recklinghausen"],
    }
)
SITES = pd.DataFrame(
    {
        "site_id": [f"s{i}" for i in range(1, 8)],
        "ags": ["05111000", "05111000", "05158004", "05158004", "05315000", "05315000", None],
        "municipality": ["Düsseldorf", "Düsseldorf", "Erkrath", "Erkrath", "Köln", "Köln", None],
        "area_ha": [12.0, 60.0, 5.0, 3.0, 20.0, 8.0, 2.0],
        "planning_category": ["GIB", "LEP", "BROWNFIELD", None, "ASB_GE", "GIB_Z", "GIB"],
        "is_brownfield": [False, False, True, True, False, True, False],
        "availability": ["now", "lt_1y", "lt2y", None, "gt2y", "unknown", "now"],
        "marketable": [True, False, None, True, False, True, False],
    }
)
REMOVED = pd.DataFrame({"ags": ["05111000", "05315000", "05562004"], "area_ha": [10.0, 4.0, 6.0]})


def _unit(r, level: str, key: str) -> dict:
    t = r.tables[level]
    return t[t["key"] == key].iloc[0].to_dict()


def test_hand_worked_municipalities_kreise_districts_state() -> None:
    r = compute(SITES, MUNIS, REMOVED, years=2.0)
    d = _unit(r, "municipality", "05111000")
    assert d["name"] == "Düsseldorf"
    assert (d["sites"], d["reserve_ha"], d["reserve_ha_gib"], d["reserve_ha_lep"]) == (2, 72, 12, 60)
    assert (d["available_now_ha"], d["available_1y_ha"], d["available_later_ha"]) == (12, 60, 0)
    assert (d["marketable_ha"], d["sites_ge_10ha"], d["sites_ge_50ha"]) == (12, 2, 1)
    assert (d["brownfield_ha"], d["brownfield_share"]) == (0, 0)
    assert (d["takeup_ha"], d["takeup_ha_per_year"]) == (10, 5)
    e = _unit(r, "municipality", "05158004")  # lt2y → later, missing availability → unknown
    assert (e["reserve_ha_brownfield"], e["reserve_ha_uncategorised"], e["brownfield_share"]) == (5, 3, 1.0)
    assert (e["available_later_ha"], e["available_unknown_ha"], e["available_now_ha"]) == (5, 3, 0)
    assert e["marketable_ha"] == 3  # missing marketable is False
    k = _unit(r, "municipality", "05315000")
    assert (k["reserve_ha_asb_ge"], k["reserve_ha_gib_z"], k["available_later_ha"]) == (20, 8, 20)
    assert k["brownfield_share"] == pytest.approx(8 / 28)
    haan = _unit(r, "municipality", "05158008")  # no site: every figure zero, the share null
    assert all(haan[n] == 0 for n in ADDITIVE) and np.isnan(haan["brownfield_share"])
    assert _unit(r, "kreis", "05158")["name"] == "Mettmann"
    assert _unit(r, "kreis", "05158")["reserve_ha"] == 8
    dus = _unit(r, "district", "051")
    assert (dus["name"], dus["reserve_ha"], dus["sites"], dus["brownfield_share"]) == (
        "Düsseldorf",
        80,
        4,
        0.1,
    )
    assert (dus["available_now_ha"], dus["available_1y_ha"], dus["available_later_ha"]) == (12, 60, 5)
    ms = _unit(r, "district", "055")
    assert (ms["name"], ms["reserve_ha"], ms["takeup_ha"], ms["takeup_ha_per_year"]) == ("Münster", 0, 6, 3)
    assert list(r.tables["district"]["key"]) == ["051", "053", "055"]
    s = r.state
    assert (s["key"], s["sites"], s["reserve_ha"], s["reserve_ha_gib"]) == ("05", 7, 110, 14)
    assert (s["available_now_ha"], s["takeup_ha"], s["takeup_ha_per_year"]) == (14, 20, 10)
    assert r.tables["state"].iloc[0]["reserve_ha"] == 110
    assert r.unassigned is not None
    assert (r.unassigned["sites"], r.unassigned["reserve_ha"], r.unassigned["reserve_ha_gib"]) == (1, 2, 2)


def test_every_municipality_is_a_unit() -> None:
    r = compute(SITES, MUNIS)
    assert list(r.tables["municipality"]["key"]) == sorted(MUNIS["ags"])
    assert list(r.tables["kreis"]["key"]) == ["05111", "05158", "05315", "05562"]


@pytest.mark.parametrize("level", LEVELS)
def test_units_add_up_to_the_state(level: str) -> None:
    r = compute(SITES, MUNIS, REMOVED, years=2.0)
    t = r.tables[level]
    for n in (*ADDITIVE, "takeup_ha"):
        extra = r.unassigned[n] if r.unassigned is not None and level != "state" else 0.0
        assert t[n].sum() + extra == pytest.approx(r.state[n]), n


def test_buckets_partition_the_reserve_and_unknown_is_never_now() -> None:
    assert list(
        availability(np.array(["now", "lt_1y", "1_3y", "gt_3y", "unknown", "lt2y", "gt2y", None, "x"]))
    ) == [
        "now",
        "lt_1y",
        "1_3y",
        "gt_3y",
        "unknown",
        "1_3y",
        "gt_3y",
        "unknown",
        "unknown",
    ]
    only_unknown = SITES.assign(availability=[None, "unknown", "soon", None, None, "unknown", None])
    r = compute(only_unknown, MUNIS)
    assert r.state["available_now_ha"] == 0
    assert r.state["available_unknown_ha"] == r.state["reserve_ha"]
    r = compute(SITES, MUNIS)
    parts = ("available_now_ha", "available_1y_ha", "available_later_ha", "available_unknown_ha")
    cats = [n for n in ADDITIVE if n.startswith("reserve_ha_")]
    for t in r.tables.values():
        assert np.allclose(t[list(parts)].sum(axis=1), t["reserve_ha"])
        assert np.allclose(t[cats].sum(axis=1), t["reserve_ha"])


def test_without_predecessor_take_up_is_null_and_a_short_period_gives_no_rate() -> None:
    r = compute(SITES, MUNIS)
    assert r.tables["municipality"]["takeup_ha"].isna().all() and np.isnan(r.state["takeup_ha_per_year"])
    r = compute(SITES, MUNIS, REMOVED, years=1 / 3650)  # under a day apart
    assert r.state["takeup_ha"] == 20 and np.isnan(r.state["takeup_ha_per_year"])


def test_missing_columns_read_as_unknown_and_not_marketable() -> None:
    r = compute(SITES.drop(columns=["availability", "marketable"]), MUNIS)
    assert r.state["available_unknown_ha"] == 110 and r.state["marketable_ha"] == 0


@pytest.mark.parametrize("level", LEVELS)
def test_each_figure_lists_back_to_its_sites(level: str) -> None:
    r = compute(SITES, MUNIS, REMOVED, years=2.0)
    for unit in r.tables[level].to_dict("records"):
        for n in (*ADDITIVE, "takeup_ha"):
            rows, t = r.sites_of(level, unit["key"], n)
            got = (
                len(rows)
                if n in ("sites", "sites_ge_10ha", "sites_ge_50ha")
                else t["area_ha"].iloc[rows].sum()
            )
            assert got == pytest.approx(unit[n]), (level, unit["key"], n)


def test_bad_level_figure_and_unit() -> None:
    r = compute(SITES, MUNIS)
    with pytest.raises(InvalidParameter, match="level"):
        check_level("Gemeinde")
    assert check_level(None) == "municipality"
    with pytest.raises(InvalidParameter, match="figure"):
        figure_mask(r.sites, "brownfield_share")
    with pytest.raises(NotFound):
        r.sites_of("kreis", "05999", "reserve_ha")


def test_random_frame_against_plain_groupby() -> None:
    rng = np.random.default_rng(7)
    n = 3000
    sites = pd.DataFrame(
        {
            "ags": rng.choice(MUNIS["ags"].to_numpy(), n),
            "area_ha": rng.gamma(1.5, 10.0, n),
            "planning_category": rng.choice(
                ["GIB", "GIB_Z", "LARGE_PROJECT", "ASB_GE", "LEP", "BROWNFIELD", None], n
            ),
            "is_brownfield": rng.random(n) < 0.3,
            "availability": rng.choice(["now", "lt_1y", "1_3y", "gt_3y", "unknown", None], n),
            "marketable": rng.random(n) < 0.5,
        }
    )
    r = compute(sites, MUNIS)
    for level, digits in (("municipality", 8), ("kreis", 5), ("district", 3)):
        key = sites["ags"].str[:digits]
        g = sites.groupby(key)
        t = r.tables[level].set_index("key")
        ref = g["area_ha"].sum().reindex(t.index, fill_value=0.0)
        assert np.allclose(t["reserve_ha"], ref)
        now = sites["area_ha"].where(sites["availability"] == "now", 0.0).groupby(key).sum()
        assert np.allclose(t["available_now_ha"], now.reindex(t.index, fill_value=0.0))
        big = (sites["area_ha"] >= 10).groupby(key).sum().reindex(t.index, fill_value=0)
        assert np.array_equal(t["sites_ge_10ha"].to_numpy(), big.to_numpy())
        bf = (
            sites["area_ha"]
            .where(sites["is_brownfield"], 0.0)
            .groupby(key)
            .sum()
            .reindex(t.index, fill_value=0)
        )
        assert np.allclose(t["brownfield_share"].fillna(0), (bf / ref.where(ref > 0)).fillna(0))
    assert set(r.tables["state"].columns) == {"key", "name", *FIGURE_NAMES}
