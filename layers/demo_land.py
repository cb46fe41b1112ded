"""SYNTHETIC land-monitoring fields of the demo's candidate areas (issue 19 §1).

Availability is drawn per kind: most regional-plan reserves (GIB) come to market later than
brownfields, many of which already have a reuse plan; a share is unknown. About a third of the
classed areas carry a date inside their class's window; three quarters have had their
restrictions checked (contaminated brownfields list contamination; areas without a plan often
planning law). Everything is drawn from the generator given, so the other fields keep their
values.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np

from geo.availability import AVAILABILITY, RESTRICTIONS

SHARES = {  # now, lt_1y, 1_3y, gt_3y, unknown
    "regional_plan": (0.08, 0.12, 0.30, 0.32, 0.18),
    "brownfields": (0.28, 0.22, 0.22, 0.13, 0.15),
}
WINDOW_MONTHS = {"now": (-24, 0), "lt_1y": (1, 12), "1_3y": (13, 36), "gt_3y": (37, 72)}
DATED_SHARE = 0.35
CHECKED_SHARE = 0.75
RESTRICTION_P = {"ownership": 0.15, "access": 0.12, "emission": 0.10, "other": 0.04}


def _months_later(day: dt.date, months: int) -> dt.date:
    n = day.year * 12 + day.month - 1 + months
    return dt.date(n // 12, n % 12 + 1, 1)


def add_land(
    layer: gpd.GeoDataFrame, name: str, rng: np.random.Generator, data_date: dt.date
) -> gpd.GeoDataFrame:
    """``layer`` with ``availability`` (plan areas; brownfields keep theirs), ``available_from``
    and ``restrictions`` filled plausibly for the demo."""
    n = len(layer)
    out = layer.copy()
    if name == "regional_plan":
        out["availability"] = rng.choice(np.array(AVAILABILITY), size=n, p=SHARES[name])
    cls = out["availability"].to_numpy(object)
    dated = (rng.random(n) < DATED_SHARE) & (cls != "unknown")
    offsets = rng.random(n)
    out["available_from"] = np.array(
        [
            _months_later(data_date, int(lo + u * (hi - lo))).isoformat() if d else None
            for c, d, u in zip(cls, dated, offsets, strict=True)
            for lo, hi in [WINDOW_MONTHS.get(c, (0, 0))]
        ],
        dtype=object,
    )
    draws = {r: rng.random(n) < p for r, p in RESTRICTION_P.items()}
    if "contamination" in out.columns:
        polluted = out["contamination"].isin(["suspected", "confirmed"]).to_numpy()
        draws["contamination"] = polluted & (rng.random(n) < 0.8)
        draws["planning_law"] = rng.random(n) < 0.35  # brownfields without a plan
    else:
        draws["contamination"] = rng.random(n) < 0.02
        draws["planning_law"] = rng.random(n) < 0.25
    checked = rng.random(n) < CHECKED_SHARE
    out["restrictions"] = np.array(
        [";".join(r for r in RESTRICTIONS if draws[r][i]) if checked[i] else None for i in range(n)],
        dtype=object,
    )
    return out
