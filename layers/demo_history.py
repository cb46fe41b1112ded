"""Two SYNTHETIC demo snapshots a year apart, so land monitoring has content on a fresh install
(issue 19 §2): the same generated areas, told as "a year ago" and "now".

Between the two (drawn from their own generator, so both tellings agree):
- **taken up**: about 5 % of the plan areas and brownfields of a year ago are gone now;
- **new brownfields**: about 4 % of today's brownfields were not listed a year ago;
- **plan changes**: about 4 % of today's GIB areas were GIB with a special purpose (GIB_Z);
- **availability**: about 30 % of the areas were one class further from market a year ago;
- **re-keyed**: about 1 % of the brownfields have a new cadastre number today (same geometry).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import geopandas as gpd
import numpy as np

from geo.availability import derive

Era = Literal["earlier", "current"]
TAKEN_SHARE = 0.05
NEW_SHARE = 0.04
PLAN_CHANGE_SHARE = 0.04
LATER_SHARE = 0.30
REKEY_SHARE = 0.01
ONE_STEP_LATER = {"now": "lt_1y", "lt_1y": "1_3y", "1_3y": "gt_3y"}


def _draws(n_rp: int, n_bf: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, 23])
    return {
        "rp_taken": rng.random(n_rp) < TAKEN_SHARE,
        "bf_taken": rng.random(n_bf) < TAKEN_SHARE,
        "bf_new": rng.random(n_bf) < NEW_SHARE,
        "rp_changed": rng.random(n_rp) < PLAN_CHANGE_SHARE,
        "rp_later": rng.random(n_rp) < LATER_SHARE,
        "bf_later": rng.random(n_bf) < LATER_SHARE,
        "bf_rekeyed": rng.random(n_bf) < REKEY_SHARE,
    }


def tell(
    layers: dict[str, gpd.GeoDataFrame], seed: int, era: Era, data_date: dt.date
) -> dict[str, gpd.GeoDataFrame]:
    """The demo's plan areas and brownfields as they were a year ago (``earlier``, at
    ``data_date``) or are now; dated areas take the class their date gives at ``data_date``."""
    rp, bf = layers["regional_plan"], layers["brownfields"]
    d = _draws(len(rp), len(bf), seed)
    d["bf_taken"] &= ~d["bf_new"]  # a brownfield new this year was neither taken up
    d["bf_rekeyed"] &= ~d["bf_new"] & ~d["bf_taken"]  # nor re-keyed in it
    if era == "current":
        rp = rp[~d["rp_taken"]].copy()
        bf = bf.copy()
        bf.loc[d["bf_rekeyed"], "area_id"] = [f"{a}-N" for a in bf.loc[d["bf_rekeyed"], "area_id"]]
        bf = bf[~d["bf_taken"]].copy()
    else:
        rp = rp.copy()
        changed = d["rp_changed"] & (rp["category"] == "GIB").to_numpy()
        rp.loc[changed, "category"] = "GIB_Z"
        bf = bf[~d["bf_new"]].copy()
        for layer, later in ((rp, d["rp_later"]), (bf, d["bf_later"][~d["bf_new"]])):
            cls = layer["availability"].to_numpy(object)
            cls = np.where(later, [ONE_STEP_LATER.get(c, c) for c in cls], cls)
            dated = layer["available_from"].notna().to_numpy()
            by_date = derive(
                np.where(dated, "unknown", cls), layer["available_from"], [None] * len(cls), data_date
            )
            layer["availability"] = by_date["availability"]
    return {**layers, "regional_plan": rp.reset_index(drop=True), "brownfields": bf.reset_index(drop=True)}
