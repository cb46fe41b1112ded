"""The demo told twice, a year apart (issue 19 §2): taken-up and new sites, a plan change,
availability further from market a year ago, re-keyed brownfields; the diff finds each."""

from __future__ import annotations

import datetime as dt

import numpy as np

from layers import demo, demo_history
from layers.build import build_demo_history
from layers.changes import changes
from layers.store import Store

DAY = dt.date(2026, 12, 6)
YEAR_AGO = dt.date(2025, 12, 6)
LATER = {"now": 1, "lt_1y": 2, "1_3y": 3, "gt_3y": 4}


def test_the_two_tellings_differ_as_documented():
    base = demo.generate(800, 5, data_date=DAY).layers
    old = demo_history.tell(base, 5, "earlier", YEAR_AGO)
    new = demo_history.tell(base, 5, "current", DAY)
    for layer in ("regional_plan", "brownfields"):
        ids_old, ids_new = set(old[layer]["area_id"]), set(new[layer]["area_id"])
        n = len(base[layer])
        gone, added = ids_old - ids_new, ids_new - ids_old
        assert 0.02 * n < len(gone) < 0.09 * n, layer  # taken up (and, brownfields, re-keyed)
        if layer == "brownfields":
            assert 0.015 * n < len(added) < 0.08 * n
            assert any(a.endswith("-N") for a in added)  # re-keyed: same geometry, new number
    rp_old = old["regional_plan"].set_index("area_id")
    rp_new = new["regional_plan"].set_index("area_id")
    both = rp_old.index.intersection(rp_new.index)
    changed = rp_old.loc[both, "category"] != rp_new.loc[both, "category"]
    assert changed.sum() > 0
    assert set(rp_old.loc[both][changed]["category"]) == {"GIB_Z"}
    assert set(rp_new.loc[both][changed]["category"]) == {"GIB"}
    # a year ago no area was nearer to market than now (undated areas; dated ones follow their date)
    undated = rp_new.loc[both, "available_from"].isna()
    a_old = rp_old.loc[both][undated]["availability"].map(LATER)
    a_new = rp_new.loc[both][undated]["availability"].map(LATER)
    known = a_old.notna() & a_new.notna()
    assert (a_old[known] >= a_new[known]).all() and (a_old[known] > a_new[known]).any()


def test_history_publishes_two_snapshots_a_year_apart_and_the_diff_sees_it(tmp_path):
    store = Store(tmp_path)
    live = build_demo_history(store, n_sites=300, seed=3)
    ids = sorted(s["id"] for s in store.list())
    assert len(ids) == 2 and store.current_id() == live["id"] == ids[1]
    first = store.manifest(ids[0])
    assert first["synthetic"] and live["synthetic"]
    assert first["demo"]["era"] == "earlier" and live["demo"]["era"] == "current"
    days = [dt.date.fromisoformat(m["data_date"]) for m in (first, live)]
    assert 360 <= (days[1] - days[0]).days <= 370
    d = changes(store, None, None)
    assert d["added"] and d["removed"] and d["counts"]["rekeyed"] > 0
    assert all(c["site_id"] == c["rekeyed_from"] + "-N" for c in d["changed"] if c.get("rekeyed_from"))
    moved = [c["changes"]["planning_category"] for c in d["changed"] if "planning_category" in c["changes"]]
    assert moved and all(m == {"from": "GIB_Z", "to": "GIB"} for m in moved)
    sooner = [c for c in d["changed"] if "availability" in c["changes"]]
    assert sooner and all(
        any(x["criterion"] == "availability" for x in c["score"]["balanced"]["criteria"]) for c in sooner
    )
    assert np.isfinite([c["area_ha"] for c in d["removed"]]).all()
