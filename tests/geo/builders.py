"""Hand-made indicator tables shaped like the output of ``geo.sites.compute_indicators``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

# One site's indicators; every row of a test table starts from this and overrides what it needs.
DEFAULT_SITE: dict[str, Any] = {
    "kind": "regional_plan",
    "ags": "05562008",
    "kreis_ags": "05562",
    "area_ha": 10.0,
    "planning_category": "GIB",
    "is_brownfield": False,
    # nearest segment in service by each stored horizon (2030: hydrogen; 2032: the others)
    "_h2_km_2030": 5.0,
    "_h2_year_2030": 2027.0,
    "_h2_km_2032": 5.0,
    "_h2_year_2032": 2027.0,
    "fibre_share": 0.5,
    "mobile_5g_share": 0.5,
    "funding_region": "none",
    "contamination": None,
}


def indicator_frame(rows: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Build an indicator table from ``{site_id: overrides}``.

    ``h2_distance_km`` / ``h2_commissioning_year`` are the values of the last stored horizon
    (every segment in service), as ``compute_indicators`` writes them.
    """
    records = [{"site_id": sid, **DEFAULT_SITE, **over} for sid, over in rows.items()]
    df = pd.DataFrame.from_records(records)
    df["h2_distance_km"] = df["_h2_km_2032"].astype(float)
    df["h2_commissioning_year"] = df["_h2_year_2032"].astype(float)
    for col in (
        "area_ha",
        "fibre_share",
        "mobile_5g_share",
        "_h2_km_2030",
        "_h2_year_2030",
        "_h2_km_2032",
        "_h2_year_2032",
    ):
        df[col] = df[col].astype(float)
    return df


def h2_value(km: float) -> float:
    """The h2 value function written out: 1 at ≤ 1 km, linear to 0 at 20 km, 0 when NaN."""
    if np.isnan(km):
        return 0.0
    if km <= 1.0:
        return 1.0
    if km >= 20.0:
        return 0.0
    return (20.0 - km) / 19.0
